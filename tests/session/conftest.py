"""Fakes for the session tests: an OpenAI-compatible endpoint whose answers depend on the
request it receives.

- ``respx_llm``: respx at the HTTP level, for library calls in this process.
- ``stub_llm``: a real HTTP server on 127.0.0.1 (a thread), for the CLI subprocess, which
  respx cannot reach; ``OPENAI_BASE_URL`` points the subprocess at it.

Both take a *responder*: ``responder(request_json) -> str`` (the assistant's text) or
``(status, body_dict)`` for an HTTP error. Every request JSON is kept in ``.requests``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

Responder = Callable[[dict[str, Any]], Any]
FAKE_BASE_URL = "http://llm.test/v1"


def completion_body(text: str, model: str = "fake-model") -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70},
    }


def answer_json(action: str, confidence: float, risk: str = "MEDIUM", why: str = "test") -> str:
    return json.dumps({"action": action, "confidence": confidence, "risk_level": risk,
                       "reasoning": why})


class FakeLLM:
    """Shared state of both fakes: the responder and the requests seen."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.responder: Responder = lambda request: answer_json("HOLD", 0.5)
        self._lock = threading.Lock()
        self.url = FAKE_BASE_URL

    def answer(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append(request)
        reply = self.responder(request)
        if isinstance(reply, tuple):
            return reply
        return 200, completion_body(reply, request.get("model", "fake-model"))


@pytest.fixture
def respx_llm() -> Iterator[FakeLLM]:
    import httpx
    import respx

    fake = FakeLLM()

    def handle(request: httpx.Request) -> httpx.Response:
        status, body = fake.answer(json.loads(request.content))
        return httpx.Response(status, json=body)

    with respx.mock(assert_all_called=False) as router:
        router.post(f"{FAKE_BASE_URL}/chat/completions").mock(side_effect=handle)
        yield fake


@pytest.fixture
def stub_llm() -> Iterator[FakeLLM]:
    from llm_stub_server import Reply, StubLLM

    fake = FakeLLM()

    def reply(request: dict[str, Any]) -> Reply:
        status, body = fake.answer(request)
        return Reply(status=status, body=json.dumps(body))

    with StubLLM(reply) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def fake_answer() -> Callable[..., str]:
    return answer_json
