"""The one LLM chat client of promptloop.

:class:`LLMClient` talks to OpenAI or any OpenAI-compatible ``base_url`` (vLLM, llama.cpp,
Ollama, a LiteLLM proxy) through the ``openai`` package. A call goes through, in order:

1. the budget (:mod:`agents.llm_budget`), checked before *every HTTP attempt* (retries and
   format fallbacks included): :class:`~agents.errors.BudgetExceeded` is raised instead of a
   request that would make more than ``max_calls`` requests, once the tokens used reach
   ``max_tokens``, or when the request's estimated tokens (:func:`request_tokens`) exceed what
   is left of ``max_tokens``; cached answers are free;
2. the on-disk cache (:mod:`agents.llm_cache`), keyed by endpoint, model, messages and
   parameters, so that a rerun on the same inputs makes no HTTP call;
3. the retries (:mod:`agents.llm_retry`), which live there and nowhere else: tenacity retries
   rate limits (429), timeouts (also 408), connection errors and 5xx, with exponential backoff
   and jitter, honouring ``Retry-After`` / ``retry-after-ms`` (capped at
   ``RetryPolicy.max_wait``). The openai client is built with ``max_retries=0`` so that attempts
   do not multiply. Anything else (401, 403, 400, 404, 422...) fails at once with one line
   naming the status and the endpoint. Each attempt has a connect timeout
   (``[llm] connect_timeout``) and a read timeout (``[llm] timeout``), and the whole call,
   retries and waits included, one deadline (``[llm] deadline``): no attempt starts, and no
   wait is slept, past it.
4. response formats: a server that refuses ``response_format`` (an HTTP 400/422/500 whose text
   mentions ``response_format``, ``json_schema`` or ``json_object``) is asked again with the
   next weaker format (``json_schema`` -> ``json_object`` -> none); the client remembers the
   weakest format that worked for its lifetime. The cache key holds the format the caller asked
   for, so a rerun hits the cache whatever the server accepted.

An answer becomes a :class:`ChatResult`, and a failure the retries gave up on one
:class:`~agents.errors.LLMError` line, in :mod:`agents.llm_answer`.

:meth:`LLMClient.structured` asks for JSON matching a pydantic model, extracts it from the text
(:mod:`agents.llm_json`), and on invalid output re-asks once with the validation error before
raising :class:`~agents.errors.InvalidStructuredAnswer`. Its answers reach the cache only once
they validated, so a rerun never replays a failure.

The client is thread-safe: the openai client is built lazily once, the usage counters and the
budget are updated under a lock (a call slot is reserved before the request goes out, so
concurrent callers cannot overshoot ``max_calls``). The API key is never part of an error, a log
line, the cache or a repr. Everything the endpoint returns is scrubbed of the configured secrets
(:mod:`agents.llm_secrets`) before anything else sees it: every response body on arrival (so
content, refusal, tool call arguments and error messages alike), and again what the client hands
out (answer text, parsed structured fields, cached answers, error lines), so every caller gets
scrubbed text whatever it stores, shows or commits.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from agents.errors import (
    AgentError,
    BudgetExceeded,
    InvalidStructuredAnswer,
    LLMError,
    LLMNotConfigured,
)
from agents.llm_answer import ChatResult, call_error, chat_result
from agents.llm_budget import Budget, Meter, Usage, estimate_tokens, request_tokens
from agents.llm_cache import ResponseCache, cache_key
from agents.llm_json import (
    FORMATS,
    describe,
    downgrade_format,
    json_schema_format,
    parse_structured,
    refuses_format,
    repair_messages,
)
from agents.llm_retry import (
    RetryPolicy,
    attempts_made,
    is_transient,
    retrying,
    short,
)
from agents.llm_secrets import Scrubber, redact_url, secrets_of

if TYPE_CHECKING:
    import openai

    from prompt_repo.config import LLMSettings

log = logging.getLogger(__name__)
Model = TypeVar("Model", bound=BaseModel)

__all__ = ["Budget", "ChatResult", "LLMClient", "RetryPolicy", "Usage", "estimate_tokens",
           "request_tokens"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"


class _FormatRefused(Exception):
    """The server rejected the response_format parameter (internal signal)."""


def endpoint_url(settings: LLMSettings) -> str:
    """The endpoint's base URL as the client calls it (the OpenAI default when unset)."""
    return (settings.base_url or DEFAULT_BASE_URL).rstrip("/")


class LLMClient:
    """Chat completions with budget, cache, retries and structured answers (see module doc)."""

    def __init__(
        self,
        settings: LLMSettings,
        *,
        cache_dir: Path | None = None,
        use_cache: bool = True,
        budget: Budget | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.base_url = endpoint_url(settings)
        self._meter = Meter(budget or Budget(settings.max_calls, settings.max_tokens))
        self.retry = retry or RetryPolicy()
        self.use_cache = use_cache
        self._scrubber = Scrubber(secrets_of(settings.api_key, self.base_url))
        self._cache = (ResponseCache(cache_dir, max_bytes=_megabytes(settings.cache_max_mb))
                       if cache_dir is not None else None)
        self._lock = threading.Lock()
        self._format_level = 0
        self._client: openai.OpenAI | None = None

    def __repr__(self) -> str:
        return f"LLMClient(base_url={redact_url(self.base_url)!r}, model={self.settings.model!r})"

    def close(self) -> None:
        """Close the HTTP connections (the client stays usable: they reopen on demand)."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def budget(self) -> Budget:
        return self._meter.budget

    @property
    def usage(self) -> Usage:
        return self._meter.usage

    @property
    def remaining_calls(self) -> int | None:
        """HTTP requests the budget still allows (``None``: unlimited)."""
        return self._meter.remaining_calls

    @property
    def remaining_tokens(self) -> int | None:
        """Tokens the budget still allows (``None``: unlimited); see :func:`request_tokens`."""
        return self._meter.remaining_tokens

    def chat(
        self,
        messages: list[dict[str, Any]],
        *,
        model: str | None = None,
        temperature: float = 0.2,
        max_tokens: int | None = None,
        response_format: dict[str, Any] | None = None,
    ) -> ChatResult:
        """One chat completion: from the cache when possible, else from the endpoint."""
        request = _Request(messages, model or self.settings.model, temperature, max_tokens,
                           response_format)
        result = self._lookup(request)
        if result is None:
            result = self._call(request)
            self._store(request, result)
        return result

    def structured(
        self,
        messages: list[dict[str, Any]],
        schema: type[Model],
        *,
        model: str | None = None,
        temperature: float = 0.2,
        max_tokens: int | None = None,
        response_format: dict[str, Any] | None = None,
    ) -> tuple[Model, ChatResult]:
        """A JSON answer validated as ``schema``, with one repair re-ask on invalid output."""
        fmt = response_format or json_schema_format(schema)
        first = _Request(messages, model or self.settings.model, temperature, max_tokens, fmt)
        answer = self._lookup(first) or self._call(first)
        try:
            parsed = parse_structured(answer.text, schema)
        except InvalidStructuredAnswer as exc:
            repair = replace(first, messages=[*messages, *repair_messages(answer.text, exc)])
            fixed = self._lookup(repair) or self._call(repair)
            try:
                parsed = parse_structured(fixed.text, schema)
            except InvalidStructuredAnswer as again:
                raise InvalidStructuredAnswer(
                    f"invalid structured answer from {answer.model} after one repair: {again}",
                    raw=fixed.text,
                ) from again
            self._store(first, answer)
            self._store(repair, fixed)
            return self._scrubbed_model(parsed, schema), fixed
        self._store(first, answer)
        return self._scrubbed_model(parsed, schema), answer

    def _scrubbed_model(self, parsed: Model, schema: type[Model]) -> Model:
        """The parsed answer with its string fields scrubbed (an escape the text-level scrub
        missed would come out whole once decoded)."""
        from pydantic import ValidationError

        fields = parsed.model_dump()
        clean = self._scrubber.value(fields)
        if clean == fields:
            return parsed
        try:
            return schema.model_validate(clean)
        except ValidationError as exc:
            raise InvalidStructuredAnswer(
                "the answer no longer matches the schema once a secret is removed from it: "
                + describe(exc)) from None

    # -- cache ---------------------------------------------------------------------------

    def _key(self, request: _Request) -> str:
        return cache_key(self.base_url, request.model, request.messages, request.temperature,
                         request.max_tokens, request.response_format)

    def _lookup(self, request: _Request) -> ChatResult | None:
        if self._cache is None or not self.use_cache:
            return None
        entry = self._cache.get(self._key(request))
        if entry is None:
            return None
        self._meter.cached()
        return ChatResult(
            text=self._scrub(entry["text"]),  # an entry written before a key was configured
            model=str(entry.get("model") or request.model),
            prompt_tokens=int(entry.get("prompt_tokens") or 0),
            completion_tokens=int(entry.get("completion_tokens") or 0),
            cached=True,
        )

    def _store(self, request: _Request, result: ChatResult) -> None:
        if self._cache is None or result.cached:
            return
        entry = {"text": result.text, "model": result.model,
                 "prompt_tokens": result.prompt_tokens,
                 "completion_tokens": result.completion_tokens}
        try:
            self._cache.put(self._key(request), entry)
        except OSError as exc:  # a cache that cannot be written must not lose a paid answer
            log.warning("LLM cache not written (%s): %s", self._cache.folder, exc)

    # -- HTTP ----------------------------------------------------------------------------

    def _call(self, request: _Request) -> ChatResult:
        if not self.settings.configured:
            raise LLMNotConfigured()
        needed = request_tokens(request.messages, request.max_tokens)
        self._meter.check(needed)  # before openai is imported: a refusal costs nothing
        self._openai()  # built (openai imported) before the deadline's clock starts
        attempt = _Attempt(needed=needed, deadline_at=time.monotonic() + self.settings.deadline)
        start = time.perf_counter()
        while True:
            level = self._format_level
            try:
                completion = self._with_retries(request, level, attempt)
                break
            except _FormatRefused:
                with self._lock:
                    self._format_level = max(self._format_level, level + 1)
                log.info("endpoint refused response_format; falling back to %s",
                         FORMATS[min(level + 1, len(FORMATS) - 1)] or "no format")
        latency_ms = (time.perf_counter() - start) * 1000
        result = chat_result(completion, model=request.model, messages=request.messages,
                             latency_ms=latency_ms, endpoint=self._endpoint(), scrub=self._scrub)
        self._meter.spent(result.prompt_tokens, result.completion_tokens)
        return result

    def _with_retries(self, request: _Request, level: int, attempt: _Attempt) -> Any:
        retrier = retrying(self.retry, deadline_at=attempt.deadline_at)
        try:
            return retrier(self._send, request, level, attempt)
        except BudgetExceeded as exc:
            if attempt.failed is None:
                raise
            raise BudgetExceeded(f"{exc}; the last attempt failed ({short(attempt.failed)})"
                                 ) from exc
        except (_FormatRefused, AgentError):
            raise
        except Exception as exc:
            made = attempts_made(retrier)
            cut_short = is_transient(exc) and made < self.retry.attempts
            raise self._error(exc, attempts=made, deadline_hit=cut_short) from None

    def _send(self, request: _Request, level: int, attempt: _Attempt) -> Any:
        import openai

        from agents.llm_http import attempt_timeout

        left = attempt.deadline_at - time.monotonic()
        if left <= 0:
            raise LLMError(f"LLM call to {self._endpoint()} gave up: its deadline of "
                           f"{self.settings.deadline:g}s ([llm] deadline) has passed")
        self._meter.reserve_request(attempt.needed)
        kwargs: dict[str, Any] = {"model": request.model, "messages": request.messages,
                                  "temperature": request.temperature}
        if request.max_tokens is not None:
            kwargs["max_tokens"] = request.max_tokens
        fmt = downgrade_format(request.response_format, level)
        if fmt is not None:
            kwargs["response_format"] = fmt
        timeout = attempt_timeout(self.settings.connect_timeout, self.settings.timeout, left)
        try:
            return self._openai().chat.completions.create(**kwargs, timeout=timeout)
        except openai.APIStatusError as exc:
            if fmt is not None and refuses_format(exc):
                raise _FormatRefused() from exc
            attempt.failed = exc
            raise
        except openai.APIConnectionError as exc:
            attempt.failed = exc
            raise

    def _openai(self) -> openai.OpenAI:
        with self._lock:
            if self._client is None:
                from agents.llm_http import build_openai

                self._client = build_openai(
                    self.settings.api_key, self.base_url, self._scrubber,
                    connect_timeout=self.settings.connect_timeout,
                    read_timeout=self.settings.timeout)
            return self._client

    # -- errors --------------------------------------------------------------------------

    def _endpoint(self) -> str:
        return f"{redact_url(self.base_url)}/chat/completions"

    def _scrub(self, text: object) -> str:
        """The one scrub of the client: every configured secret out of ``text``."""
        return self._scrubber.text(str(text))

    def _error(self, exc: Exception, *, attempts: int, deadline_hit: bool = False) -> LLMError:
        return call_error(exc, self.settings, endpoint=self._endpoint(), scrub=self._scrub,
                          attempts=attempts, deadline_hit=deadline_hit)


@dataclass
class _Attempt:
    """What every attempt of one logical call shares: its token estimate, its deadline, and
    the last failure (for the message when the budget cuts the retries short)."""

    needed: int
    deadline_at: float  # time.monotonic()
    failed: Exception | None = None


@dataclass(frozen=True)
class _Request:
    messages: list[dict[str, Any]]
    model: str
    temperature: float
    max_tokens: int | None
    response_format: dict[str, Any] | None


def _megabytes(value: float | None) -> int | None:
    return None if value is None else int(value * 1_000_000)
