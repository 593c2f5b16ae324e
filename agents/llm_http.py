"""The HTTP side of :class:`agents.llm.LLMClient`: the ``openai`` client it drives, built once.

- Timeouts: ``[llm] connect_timeout`` bounds opening the connection, ``[llm] timeout`` each wait
  for bytes of the answer (httpx's read timeout; also write and pool). One attempt's timeouts are
  further cut to what is left of the call's deadline (:func:`attempt_timeout`).
- Secrets: every response body, successful or not, is scrubbed
  (:class:`agents.llm_secrets.Scrubber`) before the ``openai`` package parses it, so no field of
  the answer (content, refusal, tool call arguments, an error's message) can carry a configured
  secret into promptloop. The body is read whole first; the client never streams.
- ``max_retries=0``: the retries are :mod:`agents.llm_retry`'s alone, so attempts do not multiply.

Imported lazily (openai and httpx are slow to import; ``promptloop --help`` must stay fast).
"""

from __future__ import annotations

from typing import Any

import httpx
import openai

from agents.llm_secrets import Scrubber

__all__ = ["attempt_timeout", "build_openai"]

_NO_KEY = "not-needed"  # local servers need no key, but the openai package insists on one
_STALE_HEADERS = ("content-encoding", "content-length", "transfer-encoding")


def build_openai(api_key: str | None, base_url: str, scrubber: Scrubber, *,
                 connect_timeout: float, read_timeout: float) -> openai.OpenAI:
    """An ``openai.OpenAI`` without retries whose every response body is scrubbed."""
    return openai.OpenAI(
        api_key=api_key or _NO_KEY,
        base_url=base_url,
        timeout=attempt_timeout(connect_timeout, read_timeout, None),
        max_retries=0,
        http_client=_ScrubbingClient(scrubber),
    )


def attempt_timeout(connect: float, read: float, left: float | None) -> httpx.Timeout:
    """The timeouts of one attempt, none longer than ``left`` seconds (the deadline's rest)."""
    if left is not None:
        connect, read = min(connect, left), min(read, left)
    return httpx.Timeout(read, connect=connect)


class _ScrubbingClient(openai.DefaultHttpxClient):
    """openai's default httpx client (proxies from the environment, limits, redirects), whose
    responses come back with the secrets scrubbed from their bodies."""

    def __init__(self, scrubber: Scrubber, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._scrubber = scrubber

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        kwargs["stream"] = False  # the body must be whole to be scrubbed
        response = super().send(request, **kwargs)
        if not self._scrubber:
            return response
        clean = self._scrubber.body(response.content)
        if clean == response.content:
            return response
        headers = [(k, v) for k, v in response.headers.multi_items()
                   if k.lower() not in _STALE_HEADERS]
        scrubbed = httpx.Response(response.status_code, headers=headers, content=clean,
                                  request=request, extensions=response.extensions)
        scrubbed.elapsed = response.elapsed
        return scrubbed
