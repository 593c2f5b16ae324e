"""No configured secret comes out of the client, whatever field of the answer carries it."""

from __future__ import annotations

import json
from urllib.parse import quote

import httpx
import pytest
import respx
from pydantic import BaseModel, Field

from agents.errors import InvalidStructuredAnswer, LLMError
from agents.llm_secrets import MIN_SECRET_LENGTH, Scrubber, redact_url, secrets_of

ASK = [{"role": "user", "content": "BUY or SELL?"}]
API_KEY = "sk-test-SECRET-0123456789abcdef"  # the key of the ``settings`` fixture


class Verdict(BaseModel):
    action: str
    reasoning: str


def json_escaped(text: str) -> str:
    """``text`` as a JSON body could spell it: every character as a \\u escape."""
    return "".join(f"\\u{ord(c):04x}" for c in text)


ENCODINGS = {
    "plain": API_KEY,
    "url-encoded": quote(API_KEY, safe="").replace("-", "%2D"),
    "url-encoded lower case": "".join(f"%{ord(c):02x}" for c in API_KEY),
    "json-escaped": json_escaped(API_KEY),
    "mixed": json_escaped(API_KEY[:5]) + API_KEY[5:10] + quote(API_KEY[10:], safe=""),
}


@pytest.mark.parametrize("encoded", ENCODINGS.values(), ids=ENCODINGS.keys())
def test_the_scrubber_removes_every_spelling_of_the_key(encoded):
    scrub = Scrubber([API_KEY])
    assert scrub.text(f"key: {encoded}.") == "key: ***."
    decoded = json.loads(f'"{encoded}"') if "\\u" in encoded else encoded
    assert API_KEY not in scrub.text(decoded)


def test_the_scrubber_leaves_other_text_alone():
    scrub = Scrubber([API_KEY])
    text = "A key-like word: sk-test, SK-TEST-SECRET-0123456789ABCDEF, \\u0041 and %41."
    assert scrub.text(text) == text


def test_short_secrets_are_not_scrubbed_into_nonsense():
    assert MIN_SECRET_LENGTH == 8
    assert secrets_of("ollama", "http://me:pw@host/v1") == []
    assert not Scrubber(secrets_of("none", None))
    assert Scrubber(secrets_of("ollama", None)).text("ask ollama") == "ask ollama"


def test_credentials_in_base_url_are_secrets():
    url = "http://alice:correct-horse-9@llm.local:8080/v1?api_key=QWERTY123456&api-version=2024-06"
    assert set(secrets_of(None, url)) == {"correct-horse-9", "alice:correct-horse-9",
                                          "QWERTY123456"}
    assert redact_url(url) == "http://***@llm.local:8080/v1?api_key=***&api-version=2024-06"


def test_the_key_in_a_successful_answer_is_scrubbed_before_it_is_returned_or_cached(
        llm_api, make_client, reply, tmp_path):
    llm_api.post("/chat/completions").mock(return_value=reply(f"The key is {API_KEY}, ok"))
    client = make_client(cache=True)
    assert client.chat(ASK).text == "The key is ***, ok"
    assert client.chat(ASK).cached
    files = list((tmp_path / "llm-cache").rglob("*.json"))
    assert files and all(API_KEY not in f.read_text() for f in files)


def test_structured_fields_are_scrubbed_even_when_json_escaped(llm_api, make_client, reply):
    body = '{"action": "BUY", "reasoning": "because ' + json_escaped(API_KEY) + '"}'
    llm_api.post("/chat/completions").mock(return_value=reply(body))
    verdict, chat = make_client().structured(ASK, Verdict)
    assert verdict.reasoning == "because ***"
    assert API_KEY not in chat.text and json_escaped(API_KEY) not in chat.text


class Token(BaseModel):
    token: str = Field(min_length=20)


def test_a_field_that_holds_only_the_key_is_an_invalid_answer_not_a_crash(llm_api, make_client,
                                                                          reply):
    body = '{"token": "' + json_escaped(API_KEY) + '"}'
    llm_api.post("/chat/completions").mock(return_value=reply(body))
    with pytest.raises(InvalidStructuredAnswer, match=(
            "^invalid structured answer from test-model after one repair: .* token: String "
            "should have at least 20 characters$")) as caught:
        make_client().structured(ASK, Token)
    assert caught.value.raw == '{"token": "***"}'


def test_a_refusal_carrying_the_key_is_scrubbed(llm_api, make_client):
    message = {"role": "assistant", "content": None, "refusal": f"I won't use {API_KEY}"}
    llm_api.post("/chat/completions").mock(return_value=_completion(message))
    with pytest.raises(LLMError, match=r"refused: I won't use \*\*\*$") as caught:
        make_client().chat(ASK)
    assert API_KEY not in str(caught.value)


def test_every_field_the_openai_package_parses_is_scrubbed(llm_api):
    """The client reads the text only, but the whole body is scrubbed on arrival: tool call
    arguments, the refusal and the model name come out of the openai package clean too."""
    from agents.llm_http import build_openai

    message = {"role": "assistant", "content": f"done {API_KEY}",
               "refusal": json_escaped(API_KEY), "tool_calls": [
                   {"id": "c1", "type": "function",
                    "function": {"name": "f", "arguments": json.dumps({"key": API_KEY})}}]}
    llm_api.post("/chat/completions").mock(return_value=_completion(message, model=API_KEY))
    openai_client = build_openai(API_KEY, "http://llm.test/v1", Scrubber([API_KEY]),
                                 connect_timeout=1, read_timeout=1)
    parsed = openai_client.chat.completions.create(model="m", messages=ASK)  # type: ignore[arg-type]
    dumped = parsed.model_dump_json()
    assert API_KEY not in dumped and json_escaped(API_KEY) not in dumped
    assert parsed.choices[0].message.tool_calls[0].function.arguments == '{"key": "***"}'


@pytest.mark.parametrize("status", [400, 401, 500])
def test_error_bodies_are_scrubbed(llm_api, make_client, fail, status):
    llm_api.post("/chat/completions").mock(return_value=fail(status, f"bad key {API_KEY}"))
    with pytest.raises(LLMError) as caught:
        make_client(attempts=1).chat(ASK)
    assert API_KEY not in str(caught.value) and "bad key ***" in str(caught.value)


def test_base_url_credentials_never_appear_in_errors_or_answers(make_client, reply, fail):
    url = "http://alice:correct-horse-9@llm.test/v1"
    with _respx_at("http://llm.test/v1") as router:
        router.post("/chat/completions").mock(side_effect=[
            reply("alice:correct-horse-9 said hi"), fail(404, "no model for correct-horse-9")])
        client = make_client(base_url=url, api_key=None)
        assert client.chat(ASK).text == "*** said hi"
        with pytest.raises(LLMError) as caught:
            client.chat([{"role": "user", "content": "again"}])
    message = str(caught.value)
    assert "correct-horse-9" not in message and "correct-horse-9" not in repr(client)
    assert message.startswith("LLM request failed: 404 Not Found from http://***@llm.test/v1/")


def test_a_cache_entry_written_before_the_fix_is_scrubbed_when_read(
        llm_api, make_client, reply, tmp_path):
    llm_api.post("/chat/completions").mock(return_value=reply("clean"))
    make_client(cache=True).chat(ASK)
    [entry] = (tmp_path / "llm-cache").rglob("*.json")
    entry.write_text(json.dumps({"text": f"old {API_KEY}", "model": "m"}))
    assert make_client(cache=True).chat(ASK).text == "old ***"


def _completion(message: dict[str, object], model: str = "test-model") -> httpx.Response:
    return httpx.Response(200, json={
        "id": "c", "object": "chat.completion", "created": 0, "model": model,
        "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})


def _respx_at(base_url: str) -> respx.MockRouter:
    return respx.mock(base_url=base_url, assert_all_called=False)
