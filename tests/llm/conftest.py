"""Fixtures of the LLM client tests: a fake OpenAI-compatible endpoint faked with respx at the
HTTP level, and clients whose retry waits are recorded instead of slept."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from agents.llm import Budget, LLMClient, RetryPolicy
from prompt_repo.config import LLMSettings

BASE_URL = "http://llm.test/v1"
API_KEY = "sk-test-SECRET-0123456789abcdef"


def completion(text: str | None, *, prompt_tokens: int = 10, completion_tokens: int = 5,
               model: str = "test-model", usage: bool = True) -> httpx.Response:
    """An OpenAI chat.completion response carrying ``text``."""
    body: dict[str, Any] = {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": model,
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": text}}],
    }
    if usage:
        body["usage"] = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                         "total_tokens": prompt_tokens + completion_tokens}
    return httpx.Response(200, json=body)


def error(status: int, message: str = "something went wrong",
          headers: dict[str, str] | None = None) -> httpx.Response:
    """An OpenAI-style error response."""
    return httpx.Response(status, headers=headers,
                          json={"error": {"message": message, "type": "error", "code": None}})


@pytest.fixture
def llm_api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def settings() -> LLMSettings:
    return LLMSettings(model="test-model", base_url=BASE_URL, api_key=API_KEY,
                       max_calls=50, max_tokens=200_000, timeout=5.0)


MakeClient = Callable[..., LLMClient]


@pytest.fixture
def make_client(settings: LLMSettings, sleeps: list[float], tmp_path: Path) -> MakeClient:
    """``make_client(cache=False, budget=None, attempts=5, **settings_overrides)``."""

    def make(*, cache: bool = False, use_cache: bool = True, budget: Budget | None = None,
             attempts: int = 5, cache_dir: Path | None = None, **overrides: Any) -> LLMClient:
        from dataclasses import replace

        policy = RetryPolicy(attempts=attempts, initial_wait=0.5, max_wait=30.0,
                             sleep=sleeps.append)
        folder = cache_dir or (tmp_path / "llm-cache" if cache else None)
        return LLMClient(replace(settings, **overrides), cache_dir=folder, use_cache=use_cache,
                         budget=budget, retry=policy)

    return make


@pytest.fixture
def reply() -> Callable[..., httpx.Response]:
    """Builds a chat.completion response: ``reply("text", prompt_tokens=.., ...)``."""
    return completion


@pytest.fixture
def fail() -> Callable[..., httpx.Response]:
    """Builds an error response: ``fail(429, "slow down", headers={...})``."""
    return error
