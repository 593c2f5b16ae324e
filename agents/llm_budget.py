"""The budget of one :class:`agents.llm.LLMClient`: what it may spend, what it spent, and the
check made before every HTTP request.

- ``max_calls`` counts HTTP requests sent: every attempt (a retry, a re-ask after a refused
  ``response_format``) is one; answers served from the cache are free.
- ``max_tokens`` counts the tokens the server reports for each answer (prompt + completion; an
  estimate when it reports none). Before a request goes out, its tokens are estimated
  (:func:`request_tokens`) and the request is refused when the estimate exceeds what is left:
  an oversized request never leaves the machine. An answer's length is not known in advance,
  so the call that crosses the limit keeps its answer and the next one is refused.

:class:`Meter` is thread-safe: the check and the count of a request are one step under its
lock, so concurrent callers cannot overshoot ``max_calls``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Any

from agents.errors import BudgetExceeded

__all__ = ["Budget", "Meter", "Usage", "estimate_tokens", "plural", "request_tokens"]


@dataclass(frozen=True)
class Budget:
    """Limits for one run; ``None`` means unlimited."""

    max_calls: int | None = None
    max_tokens: int | None = None


@dataclass(frozen=True)
class Usage:
    """What a client spent: HTTP requests sent (every attempt), answers served from cache,
    tokens."""

    calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class Meter:
    """A client's usage against its budget."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self._usage = Usage()
        self._lock = threading.Lock()

    @property
    def usage(self) -> Usage:
        with self._lock:
            return self._usage

    @property
    def remaining_calls(self) -> int | None:
        limit = self.budget.max_calls
        return None if limit is None else max(0, limit - self.usage.calls)

    @property
    def remaining_tokens(self) -> int | None:
        limit = self.budget.max_tokens
        return None if limit is None else max(0, limit - self.usage.total_tokens)

    def check(self, needed: int) -> None:
        """Refuse (BudgetExceeded) a request of about ``needed`` tokens that would not fit."""
        with self._lock:
            self._refuse_beyond(needed)

    def reserve_request(self, needed: int) -> None:
        """Count one HTTP request of about ``needed`` tokens, or refuse it (BudgetExceeded)."""
        with self._lock:
            self._refuse_beyond(needed)
            self._usage = replace(self._usage, calls=self._usage.calls + 1)

    def _refuse_beyond(self, needed: int) -> None:
        used, budget = self._usage, self.budget
        if budget.max_calls is not None and used.calls >= budget.max_calls:
            raise BudgetExceeded(
                f"LLM budget spent: {used.calls} calls made, max_calls is "
                f"{budget.max_calls} (raise [llm] max_calls in promptloop.toml)"
            )
        if budget.max_tokens is None:
            return
        left = budget.max_tokens - used.total_tokens
        if left <= 0:
            raise BudgetExceeded(
                f"LLM budget spent: {used.total_tokens} tokens used, max_tokens is "
                f"{budget.max_tokens} (raise [llm] max_tokens in promptloop.toml)"
            )
        if needed > left:
            raise BudgetExceeded(
                f"LLM request not sent: it needs about {needed} tokens and {left} of "
                f"max_tokens {budget.max_tokens} are left (raise [llm] max_tokens in "
                "promptloop.toml, or send less)"
            )

    def cached(self) -> None:
        with self._lock:
            self._usage = replace(self._usage, cached_calls=self._usage.cached_calls + 1)

    def spent(self, prompt_tokens: int, completion_tokens: int) -> None:
        with self._lock:
            u = self._usage
            self._usage = replace(u, prompt_tokens=u.prompt_tokens + prompt_tokens,
                                  completion_tokens=u.completion_tokens + completion_tokens)


def estimate_tokens(text: str) -> int:
    """About four characters per token, for servers that report no usage."""
    return max(1, len(text) // 4)


def request_tokens(messages: list[dict[str, Any]], max_tokens: int | None = None) -> int:
    """The tokens a request may use, estimated before it is sent: its messages' text at about
    four characters per token, plus ``max_tokens`` when the caller caps the answer."""
    text = "".join(str(message.get("content") or "") for message in messages)
    return estimate_tokens(text) + (max_tokens or 0)


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"
