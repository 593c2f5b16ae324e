"""What the endpoint answered, or failed with, as the client hands it out.

- :func:`chat_result`: a chat completion -> :class:`ChatResult` (text and model scrubbed;
  the server's token counts, or estimates when it gives none); an answer with no choices or
  no text is an :class:`~agents.errors.LLMError`.
- :func:`call_error`: a failure the retries gave up on -> one :class:`~agents.errors.LLMError`
  line naming what happened, where, after how many attempts, and what to check.

Both take the client's ``scrub`` function: nothing from the endpoint leaves unscrubbed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agents.errors import LLMError
from agents.llm_budget import estimate_tokens, plural, request_tokens
from agents.llm_retry import server_message, status_line

if TYPE_CHECKING:
    from prompt_repo.config import LLMSettings

__all__ = ["ChatResult", "call_error", "chat_result"]

Scrub = Callable[[object], str]

STATUS_HINTS = {
    401: " (check OPENAI_API_KEY or [llm] api_key)",
    403: " (the key may not have access to this model)",
    404: " (check the model name and [llm] base_url)",
}


@dataclass(frozen=True)
class ChatResult:
    """One answer; tokens are the server's count, or an estimate when it gives none."""

    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cached: bool = False
    latency_ms: float = 0.0


def chat_result(completion: Any, *, model: str, messages: list[dict[str, Any]],
                latency_ms: float, endpoint: str, scrub: Scrub) -> ChatResult:
    """``completion`` (asked of ``model`` with ``messages``) as a scrubbed ChatResult."""
    choices = getattr(completion, "choices", None)
    if not choices:
        raise LLMError(f"LLM answer from {endpoint} is not a chat completion (no "
                       "choices); is [llm] base_url an OpenAI-compatible endpoint?")
    message = choices[0].message
    text = message.content
    if text is None:
        refusal = getattr(message, "refusal", None)
        raise LLMError(f"LLM gave no text from {endpoint}"
                       + (f": refused: {scrub(refusal)}" if refusal else ""))
    usage = getattr(completion, "usage", None)
    prompt_tokens = getattr(usage, "prompt_tokens", None)
    completion_tokens = getattr(usage, "completion_tokens", None)
    return ChatResult(
        text=scrub(text),
        model=scrub(getattr(completion, "model", None) or model),
        prompt_tokens=prompt_tokens if prompt_tokens is not None
        else request_tokens(messages),
        completion_tokens=completion_tokens if completion_tokens is not None
        else estimate_tokens(text),
        latency_ms=latency_ms,
    )


def call_error(exc: Exception, settings: LLMSettings, *, endpoint: str, scrub: Scrub,
               attempts: int, deadline_hit: bool = False) -> LLMError:
    """The one line for a failed call; an exception of no known kind is re-raised (a bug)."""
    import openai

    tries = f" after {plural(attempts, 'attempt')}" if attempts > 1 else ""
    end = (f"; stopped at the call's deadline of {settings.deadline:g}s "
           "([llm] deadline)") if deadline_hit else ""
    if isinstance(exc, openai.APITimeoutError):
        return LLMError(f"LLM request timed out{tries} ({timeout_phase(exc, settings)}) at "
                        f"{endpoint}{end}")
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc
        return LLMError(f"LLM endpoint unreachable{tries}: {endpoint}: {scrub(cause)}{end}")
    if isinstance(exc, openai.APIStatusError):
        detail = server_message(exc)
        hint = STATUS_HINTS.get(exc.status_code, "")
        return LLMError(
            f"LLM request failed{tries}: {status_line(exc.status_code)} from {endpoint}"
            + (f": {scrub(detail)}" if detail else "") + hint + end
        )
    if isinstance(exc, openai.OpenAIError):
        return LLMError(f"LLM request failed at {endpoint}: {scrub(exc)}")
    from json import JSONDecodeError

    if isinstance(exc, JSONDecodeError):  # a 200 whose body is not JSON (a proxy's page)
        return LLMError(f"LLM answer from {endpoint} is not JSON ({exc.msg})")
    raise exc


def timeout_phase(exc: Exception, settings: LLMSettings) -> str:
    """Which of the two timeouts ran out: the connect one or the read one."""
    import httpx

    if isinstance(exc.__cause__, httpx.ConnectTimeout):
        return f"no connection within {settings.connect_timeout:g}s, [llm] connect_timeout"
    return f"no answer within {settings.timeout:g}s, [llm] timeout"
