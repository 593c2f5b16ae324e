"""Which LLM failures are retried, and how long to wait: the one retry policy of promptloop.

Retried (transient): rate limits (429), request timeouts (408 and client-side timeouts),
connection errors and every 5xx. Everything else (401, 403, 400, 404, 422...) fails at once.
The wait before attempt n+1 is what the server asked for in ``retry-after-ms`` or
``Retry-After`` (seconds or an HTTP date) when it says, else ``initial_wait * 2**(n-1)`` plus up
to ``initial_wait`` of random jitter; always capped at ``max_wait``. ``sleep`` is injectable so
that tests record the waits instead of sleeping them.

Retries stop at ``attempts``, or earlier at the call's deadline: when the next wait would end
at or past ``deadline_at`` (``time.monotonic()``), no wait is slept and no attempt made.

Each retry is announced as a WARNING on the logger named :data:`LOGGER_NAME` (``agents.llm``),
e.g. ``LLM call failed (500 Internal Server Error), retry 1 of 4 in 1.3s``: never on stdout;
the CLI decides how (and whether) to show it.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any

LOGGER_NAME = "agents.llm"
log = logging.getLogger(LOGGER_NAME)

_RETRYABLE_STATUS = frozenset({408, 429})


@dataclass(frozen=True)
class RetryPolicy:
    """How transient failures are retried; tests pass a fake ``sleep``."""

    attempts: int = 5
    initial_wait: float = 1.0
    max_wait: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)


def retrying(policy: RetryPolicy, *, deadline_at: float | None = None) -> Any:
    """A tenacity ``Retrying`` applying ``policy`` (imported lazily: tenacity is not cheap)."""
    import tenacity

    class past_deadline(tenacity.stop.stop_base):  # noqa: N801 (tenacity's naming)
        def __call__(self, state: Any) -> bool:
            return (deadline_at is not None
                    and time.monotonic() + state.upcoming_sleep >= deadline_at)

    return tenacity.Retrying(
        retry=tenacity.retry_if_exception(is_transient),
        stop=tenacity.stop_after_attempt(policy.attempts) | past_deadline(),
        wait=lambda state: wait_seconds(state, policy),
        sleep=policy.sleep,
        before_sleep=lambda state: log.warning(
            "LLM call failed (%s), retry %d of %d in %.1fs", short(_exception(state)),
            state.attempt_number, policy.attempts - 1, state.upcoming_sleep),
        reraise=True,
    )


def attempts_made(retrier: Any) -> int:
    return int(retrier.statistics.get("attempt_number", 1))


def is_transient(exc: BaseException) -> bool:
    import openai

    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in _RETRYABLE_STATUS or exc.status_code >= 500
    return False


def wait_seconds(state: Any, policy: RetryPolicy) -> float:
    exc = _exception(state)
    hinted = retry_after_seconds(getattr(getattr(exc, "response", None), "headers", None))
    if hinted is not None:
        return min(hinted, policy.max_wait)
    backoff = policy.initial_wait * 2.0 ** (int(state.attempt_number) - 1)
    return min(backoff + random.uniform(0, policy.initial_wait), policy.max_wait)


def retry_after_seconds(headers: Any, now: float | None = None) -> float | None:
    """Seconds asked by ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
    if not headers:
        return None
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = time.time() if now is None else now
    return max(0.0, float(when.timestamp()) - now)


def status_line(code: int) -> str:
    """``429 Too Many Requests``."""
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return str(code)


def server_message(exc: Any) -> str:
    """The human part of an OpenAI-style error body, if any."""
    body = exc.body
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    if isinstance(body, str):
        return body[:300]
    return ""


def short(exc: BaseException | None) -> str:
    code = getattr(exc, "status_code", None)
    return status_line(code) if code else type(exc).__name__


def _exception(state: Any) -> BaseException | None:
    return state.outcome.exception() if state.outcome else None
