"""LLMClient.chat against a fake endpoint: requests, retries, errors, budget, secrecy."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from agents.errors import (
    NO_LLM_CONFIGURED,
    AgentError,
    BudgetExceeded,
    LLMError,
    LLMNotConfigured,
)
from agents.llm import Budget
from agents.llm_retry import retry_after_seconds
from prompt_repo.config import LLMSettings

ASK = [{"role": "user", "content": "BUY or SELL?"}]
ENDPOINT = "http://llm.test/v1/chat/completions"


def test_chat_sends_the_request_and_returns_text_and_tokens(llm_api, make_client, reply, settings):
    route = llm_api.post("/chat/completions").mock(
        return_value=reply("HOLD", prompt_tokens=12, completion_tokens=3))
    client = make_client()

    result = client.chat(ASK, temperature=0.0, max_tokens=64)

    assert (result.text, result.model, result.cached) == ("HOLD", "test-model", False)
    assert (result.prompt_tokens, result.completion_tokens) == (12, 3)
    sent = route.calls.last.request
    assert sent.headers["authorization"] == f"Bearer {settings.api_key}"
    assert json.loads(sent.content) == {"model": "test-model", "messages": ASK,
                                        "temperature": 0.0, "max_tokens": 64}
    assert client.usage.calls == 1 and client.usage.total_tokens == 15


def test_model_argument_overrides_the_settings(llm_api, make_client, reply):
    route = llm_api.post("/chat/completions").mock(return_value=reply("ok", model="big"))
    assert make_client().chat(ASK, model="big").model == "big"
    assert json.loads(route.calls.last.request.content)["model"] == "big"


def test_usage_is_estimated_when_the_server_reports_none(llm_api, make_client, reply):
    llm_api.post("/chat/completions").mock(return_value=reply("x" * 40, usage=False))
    result = make_client().chat(ASK)
    assert result.completion_tokens == 10 and result.prompt_tokens > 0


def test_429_with_retry_after_waits_as_asked_then_succeeds(llm_api, make_client, reply, fail,
                                                             sleeps):
    route = llm_api.post("/chat/completions").mock(side_effect=[
        fail(429, "Rate limit reached", headers={"Retry-After": "7"}), reply("BUY")])
    assert make_client().chat(ASK).text == "BUY"
    assert route.call_count == 2
    assert sleeps == [7.0]


def test_retry_after_is_capped(llm_api, make_client, reply, fail, sleeps):
    llm_api.post("/chat/completions").mock(side_effect=[
        fail(429, headers={"Retry-After": "3600"}), reply("BUY")])
    make_client().chat(ASK)
    assert sleeps == [30.0]


def test_retry_after_as_http_date_and_in_milliseconds():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=12), usegmt=True)
    assert retry_after_seconds({"retry-after": later}, now=now.timestamp()) == 12.0
    earlier = format_datetime(now - timedelta(seconds=12), usegmt=True)
    assert retry_after_seconds({"retry-after": earlier}, now=now.timestamp()) == 0.0
    assert retry_after_seconds({"retry-after-ms": "250"}) == 0.25
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None


def test_timeout_then_success(llm_api, make_client, reply, sleeps):
    route = llm_api.post("/chat/completions").mock(
        side_effect=[httpx.ReadTimeout("timed out"), reply("SELL")])
    assert make_client().chat(ASK).text == "SELL"
    assert route.call_count == 2
    assert len(sleeps) == 1 and 0.5 <= sleeps[0] <= 1.0  # first backoff: 0.5 s plus jitter


def test_500_then_success(llm_api, make_client, reply, fail, sleeps):
    route = llm_api.post("/chat/completions").mock(
        side_effect=[fail(500, "internal"), fail(503, "overloaded"), reply("HOLD")])
    assert make_client().chat(ASK).text == "HOLD"
    assert route.call_count == 3
    assert len(sleeps) == 2 and 1.0 <= sleeps[1] <= 1.5  # the backoff doubles


def test_connection_errors_exhaust_the_attempts(llm_api, make_client, sleeps):
    route = llm_api.post("/chat/completions").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(LLMError) as caught:
        make_client(attempts=3).chat(ASK)
    assert route.call_count == 3 and len(sleeps) == 2
    assert str(caught.value).startswith(
        f"LLM endpoint unreachable after 3 attempts: {ENDPOINT}")


def test_persistent_429_ends_with_one_clear_line(llm_api, make_client, fail):
    route = llm_api.post("/chat/completions").mock(return_value=fail(429, "Rate limit reached"))
    with pytest.raises(LLMError) as caught:
        make_client(attempts=4).chat(ASK)
    assert route.call_count == 4
    assert str(caught.value) == (
        f"LLM request failed after 4 attempts: 429 Too Many Requests from {ENDPOINT}: "
        "Rate limit reached")


def test_401_fails_at_once_without_showing_the_key(llm_api, make_client, fail, settings, sleeps):
    route = llm_api.post("/chat/completions").mock(
        return_value=fail(401, f"Incorrect API key provided: {settings.api_key}"))
    with pytest.raises(LLMError) as caught:
        make_client().chat(ASK)
    message = str(caught.value)
    assert route.call_count == 1 and sleeps == []
    assert message.startswith(f"LLM request failed: 401 Unauthorized from {ENDPOINT}")
    assert settings.api_key not in message and "***" in message
    assert settings.api_key not in repr(caught.value.__cause__ or "")


@pytest.mark.parametrize(("status", "phrase"), [
    (400, "400 Bad Request"), (403, "403 Forbidden"), (404, "404 Not Found"),
    (422, "422 Unprocessable Entity"),
])
def test_client_errors_are_not_retried(llm_api, make_client, fail, sleeps, status, phrase):
    route = llm_api.post("/chat/completions").mock(return_value=fail(status, "nope"))
    with pytest.raises(LLMError, match=f"^LLM request failed: {phrase} from {ENDPOINT}: nope"):
        make_client().chat(ASK)
    assert route.call_count == 1 and sleeps == []


def test_an_answer_without_text_is_an_error(llm_api, make_client, reply):
    llm_api.post("/chat/completions").mock(return_value=reply(None))
    with pytest.raises(LLMError, match="LLM gave no text"):
        make_client().chat(ASK)


@pytest.mark.parametrize("response", [
    httpx.Response(200, text="<html>a login page</html>"), httpx.Response(200, json={"ok": 1}),
])
def test_a_body_that_is_not_a_chat_completion_is_an_error(llm_api, make_client, response):
    llm_api.post("/chat/completions").mock(return_value=response)
    with pytest.raises(LLMError, match="is not a chat completion .* OpenAI-compatible endpoint"):
        make_client().chat(ASK)


def test_close_then_reuse(llm_api, make_client, reply):
    route = llm_api.post("/chat/completions").mock(return_value=reply("ok"))
    with make_client() as client:
        client.chat(ASK)
    client.chat(ASK)
    assert route.call_count == 2


def test_no_endpoint_configured_is_one_clear_error(llm_api, make_client):
    with pytest.raises(LLMNotConfigured) as refused:
        make_client(api_key=None, base_url=None).chat(ASK)
    assert str(refused.value) == NO_LLM_CONFIGURED
    assert isinstance(refused.value, LLMError)
    assert not llm_api.calls


def test_budget_refuses_the_call_that_would_exceed_max_calls(llm_api, make_client, reply):
    route = llm_api.post("/chat/completions").mock(return_value=reply("ok"))
    client = make_client(budget=Budget(max_calls=2))
    client.chat(ASK)
    client.chat(ASK)
    with pytest.raises(BudgetExceeded, match="2 calls made, max_calls is 2") as caught:
        client.chat(ASK)
    assert isinstance(caught.value, AgentError)
    assert route.call_count == 2 and client.usage.calls == 2


def test_budget_defaults_to_the_settings(llm_api, make_client, reply):
    llm_api.post("/chat/completions").mock(return_value=reply("ok"))
    client = make_client(max_calls=1)
    client.chat(ASK)
    with pytest.raises(BudgetExceeded):
        client.chat(ASK)


def test_budget_stops_once_tokens_reach_max_tokens(llm_api, make_client, reply):
    route = llm_api.post("/chat/completions").mock(
        return_value=reply("ok", prompt_tokens=10, completion_tokens=5))
    client = make_client(budget=Budget(max_tokens=20))
    client.chat(ASK)  # 15 tokens
    client.chat(ASK)  # 30 tokens: this answer is kept, the next call is refused
    with pytest.raises(BudgetExceeded, match="30 tokens used, max_tokens is 20"):
        client.chat(ASK)
    assert route.call_count == 2


def test_budget_holds_under_concurrent_callers(llm_api, make_client, reply):
    route = llm_api.post("/chat/completions").mock(return_value=reply("ok"))
    client = make_client(budget=Budget(max_calls=10))
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            client.chat(ASK)
            kind = "ok"
        except BudgetExceeded:
            kind = "refused"
        with lock:
            outcomes.append(kind)

    threads = [threading.Thread(target=worker) for _ in range(25)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes).count("ok") == 10 and outcomes.count("refused") == 15
    assert route.call_count == 10 and client.usage.calls == 10


def test_the_key_is_never_in_repr_or_logs(llm_api, make_client, reply, fail, settings, caplog):
    llm_api.post("/chat/completions").mock(side_effect=[
        fail(500, f"bad key {settings.api_key}"), reply("ok")])
    client = make_client()
    with caplog.at_level(logging.DEBUG):
        client.chat(ASK)
    assert settings.api_key not in repr(client)
    assert settings.api_key not in repr(settings)
    assert settings.api_key not in caplog.text
    assert "retry 1 of 4" in caplog.text


def test_settings_repr_hides_the_key():
    assert "sk-" not in repr(LLMSettings(api_key="sk-hidden"))
