"""Fixtures of the release tests: a git identity for the commits the tests make (``git`` is
in tests/conftest.py), and a workspace whose MarketAnalyst has several versions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from git_fixtures import git_identity

__all__ = ["git_identity"]

AGENT = "MarketAnalyst"



@pytest.fixture
def versions(workspace: Path) -> list[str]:
    """MarketAnalyst's versions v1..v4 (shas, oldest first)."""
    from prompt_repo import PromptRepo

    with PromptRepo.open(workspace) as repo:
        text = repo.read(AGENT).text
        shas = [repo.read(AGENT).sha]
        for n in (2, 3, 4):
            shas.append(repo.apply(AGENT, f"{text}\nRevision {n}.\n", f"revision {n}"))
    return shas


class FakeLLM:
    """An OpenAI-compatible endpoint mocked with respx: ``responder(request) -> text`` or
    ``(status, body)``; every request JSON is kept in ``requests``."""

    url = "http://llm.test/v1"

    def __init__(self) -> None:
        import threading

        self.requests: list[dict] = []
        self.responder: Callable[[dict], object] = lambda request: answer("HOLD", 0.5)
        self._lock = threading.Lock()

    def handle(self, request: object) -> object:
        import json

        import httpx

        assert isinstance(request, httpx.Request)
        body = json.loads(request.content)
        with self._lock:
            self.requests.append(body)
        reply = self.responder(body)
        if isinstance(reply, tuple):
            return httpx.Response(reply[0], json=reply[1])
        return httpx.Response(200, json={
            "id": "chatcmpl-test", "object": "chat.completion", "created": 0,
            "model": body.get("model", "fake-model"),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": reply}}],
            "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70}})


def answer(action: str, confidence: float, risk: str = "MEDIUM", why: str = "test") -> str:
    import json

    return json.dumps({"action": action, "confidence": confidence, "risk_level": risk,
                       "reasoning": why})


@pytest.fixture
def respx_llm():
    import respx

    fake = FakeLLM()
    with respx.mock(assert_all_called=False) as router:
        router.post(f"{FakeLLM.url}/chat/completions").mock(side_effect=fake.handle)
        yield fake
