"""LLMClient.structured: JSON extraction, validation, one repair, response_format fallback."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, Field

from agents.errors import AgentError, InvalidStructuredAnswer
from agents.llm_json import parse_structured

ASK = [{"role": "system", "content": "You are a critic."},
       {"role": "user", "content": "Diagnose and propose a diff."}]


class Critique(BaseModel):
    diagnosis: str
    diff: str
    confidence: float = Field(ge=0, le=1)


GOOD = {"diagnosis": "Too eager to BUY.", "diff": "@@\n-a\n+b", "confidence": 0.7}


def sent(route, index: int = -1) -> dict:
    return json.loads(route.calls[index].request.content)


def test_structured_asks_for_json_schema_and_validates(llm_api, make_client, reply):
    route = llm_api.post("/chat/completions").mock(return_value=reply(json.dumps(GOOD)))
    critique, result = make_client().structured(ASK, Critique)
    assert critique == Critique(**GOOD)
    assert result.text == json.dumps(GOOD)
    fmt = sent(route)["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "Critique"
    assert fmt["json_schema"]["schema"]["required"] == ["diagnosis", "diff", "confidence"]


def test_json_in_a_fence_with_prose_around_it():
    transcript = (
        "Sure! Here is my analysis.\n\n```json\n" + json.dumps(GOOD, indent=2)
        + "\n```\n\nLet me know if you want changes."
    )
    assert parse_structured(transcript, Critique).confidence == 0.7


def test_json_after_prose_without_fence():
    transcript = "My answer: " + json.dumps(GOOD) + " -- hope this {helps}"
    assert parse_structured(transcript, Critique).diagnosis == "Too eager to BUY."


def test_a_json_value_that_fails_the_schema_names_the_fields():
    with pytest.raises(InvalidStructuredAnswer) as caught:
        parse_structured('{"diagnosis": "x", "confidence": 3}', Critique)
    message = str(caught.value)
    assert "Critique" in message and "diff: Field required" in message
    assert "confidence: Input should be less than or equal to 1" in message


def test_garbage_is_repaired_once(llm_api, make_client, reply):
    route = llm_api.post("/chat/completions").mock(side_effect=[
        reply("I think the prompt should be more careful about BUY signals."),
        reply(json.dumps(GOOD)),
    ])
    client = make_client()
    critique, result = client.structured(ASK, Critique)
    assert critique.diagnosis == "Too eager to BUY." and result.text == json.dumps(GOOD)
    assert route.call_count == 2 and client.usage.calls == 2
    repair = sent(route, 1)["messages"]
    assert repair[:2] == ASK
    assert repair[2] == {"role": "assistant",
                         "content": "I think the prompt should be more careful about BUY signals."}
    assert "no JSON object" in repair[3]["content"]


def test_garbage_twice_raises_invalid_structured_answer(llm_api, make_client, reply):
    route = llm_api.post("/chat/completions").mock(side_effect=[
        reply("not json"), reply('{"diagnosis": "only this"}')])
    with pytest.raises(InvalidStructuredAnswer) as caught:
        make_client().structured(ASK, Critique)
    assert isinstance(caught.value, AgentError)
    assert caught.value.raw == '{"diagnosis": "only this"}'
    assert str(caught.value).startswith("invalid structured answer from test-model after one "
                                        "repair: the JSON does not match the schema Critique")
    assert route.call_count == 2


@pytest.mark.parametrize(("status", "message"), [
    (400, "Invalid parameter: 'response_format' of type 'json_schema' is not supported"),
    (500, "json_schema: unsupported grammar"),
])
def test_json_schema_refused_falls_back_to_json_object_and_remembers(
        llm_api, make_client, reply, fail, sleeps, status, message):
    def answer(request):
        fmt = json.loads(request.content).get("response_format")
        if fmt and fmt["type"] == "json_schema":
            return fail(status, message)
        return reply(json.dumps(GOOD))

    route = llm_api.post("/chat/completions").mock(side_effect=answer)
    client = make_client()
    assert client.structured(ASK, Critique)[0].confidence == 0.7
    assert [sent(route, i).get("response_format") for i in range(2)] == [
        sent(route, 0)["response_format"], {"type": "json_object"}]
    assert sleeps == []  # a refused format is not a transient error

    client.structured(ASK, Critique)
    assert route.call_count == 3  # remembered: no second refusal
    assert sent(route)["response_format"] == {"type": "json_object"}
    assert client.usage.calls == 3  # every HTTP request counts, the refused one too


def test_json_object_refused_too_falls_back_to_no_format(llm_api, make_client, reply, fail):
    def answer(request):
        if "response_format" in json.loads(request.content):
            return fail(400, "response_format is not supported by this server")
        return reply("```json\n" + json.dumps(GOOD) + "\n```")

    route = llm_api.post("/chat/completions").mock(side_effect=answer)
    assert make_client().structured(ASK, Critique)[0].diff == "@@\n-a\n+b"
    assert route.call_count == 3
    assert "response_format" not in sent(route)


def test_a_400_not_about_the_format_is_not_a_fallback(llm_api, make_client, fail):
    from agents.errors import LLMError

    route = llm_api.post("/chat/completions").mock(
        return_value=fail(400, "maximum context length exceeded"))
    with pytest.raises(LLMError, match="400 Bad Request"):
        make_client().structured(ASK, Critique)
    assert route.call_count == 1
