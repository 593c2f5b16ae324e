"""The LLM endpoint checks of ``promptloop doctor`` (:mod:`agents.doctor` runs them).

- ``llm key``: whether a key is set and where it comes from; its value is never shown.
- ``llm endpoint``: ``GET {base_url}/models`` answers (a server without that route is
  still reachable; the model check is then skipped).
- ``llm model``: every model the workspace uses (``[llm] model`` and each
  ``[agents.X] model``) is in that list.
- ``llm structured answer``: a one-token JSON answer through the project's one client,
  :class:`agents.llm.LLMClient` (no cache, one attempt, a short timeout), with its latency.
- ``llm response formats``: one tiny request per ``response_format`` (json_schema,
  json_object, none), sent straight through the openai package because the client hides a
  refusal by falling back to the next format, which is exactly what this check reports.

Every request has ``timeout`` seconds and no retry, so a dead endpoint costs one
connection refusal and a silent one at most ``timeout`` per request.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from agents.doctor import Check, fail, ok, skipped
from agents.errors import NO_LLM_CONFIGURED, AgentError
from agents.llm_json import refuses_format

if TYPE_CHECKING:
    import openai

    from prompt_repo.config import LLMSettings, Workspace

__all__ = ["llm_checks"]

ENDPOINT_CHECKS = ("llm endpoint", "llm model", "llm structured answer", "llm response formats")
_KEY_FIX = "check OPENAI_API_KEY (or [llm] api_key)"
_PING = [{"role": "user", "content": 'Reply with the JSON object {"ok": true} and nothing else.'}]


class Ping(BaseModel):
    """The smallest structured answer."""

    ok: bool


def llm_checks(ws: Workspace, *, offline: bool, timeout: float) -> list[Check]:
    """The key check, then the endpoint checks (skipped offline or without an endpoint)."""
    checks = [_key_check(ws)]
    if offline:
        return checks + [skipped(name, "--offline") for name in ENDPOINT_CHECKS]
    if not ws.llm.configured:
        return checks + [skipped(name, "no LLM configured") for name in ENDPOINT_CHECKS]
    settings = replace(ws.llm, timeout=min(ws.llm.timeout, timeout))
    from agents.llm import endpoint_url

    base_url = endpoint_url(settings)
    client = _openai(base_url, settings.api_key, settings.timeout)
    try:
        return checks + _endpoint_checks(ws, settings, client, base_url)
    finally:
        client.close()


def _key_check(ws: Workspace) -> Check:
    if ws.llm.api_key:
        where = ("OPENAI_API_KEY" if os.environ.get("OPENAI_API_KEY")
                 else "[llm] api_key in promptloop.toml")
        return ok("llm key", f"set (from {where}; the value is not shown)")
    if ws.llm.base_url:
        return ok("llm key", f"not set; fine for a local server that asks none ({ws.llm.base_url})")
    return skipped("llm key", f"{NO_LLM_CONFIGURED} (optimize falls back to the offline "
                              "heuristic engine)")


def _endpoint_checks(ws: Workspace, settings: LLMSettings, client: openai.OpenAI,
                     base_url: str) -> list[Check]:
    reached, models = _list_models(client, base_url)
    if reached.status == "fail":
        reason = "the endpoint is not reachable"
        return [reached, *(skipped(name, reason) for name in ENDPOINT_CHECKS[1:])]
    answer = _structured(ws, settings)
    return [reached, _model_check(ws, models, base_url), answer, _formats(client, settings.model)]


def _openai(base_url: str, api_key: str | None, timeout: float) -> openai.OpenAI:
    import openai

    return openai.OpenAI(api_key=api_key or "not-needed", base_url=base_url, timeout=timeout,
                         max_retries=0)


def _list_models(client: openai.OpenAI, base_url: str) -> tuple[Check, list[str] | None]:
    import openai

    name = "llm endpoint"
    start = time.perf_counter()
    try:
        models = [model.id for model in client.models.list()]
    except openai.APIStatusError as exc:
        if exc.status_code in (404, 405):
            return ok(name, f"{base_url} answers (it does not list models)"), None
        fix = _KEY_FIX if exc.status_code in (401, 403) else "check OPENAI_BASE_URL"
        return fail(name, f"{base_url}/models answered HTTP {exc.status_code}", fix), None
    except openai.APIConnectionError as exc:
        what = "timed out" if isinstance(exc, openai.APITimeoutError) else "unreachable"
        return fail(name, f"{base_url} {what}: {exc.__cause__ or exc}",
                    "start the server, or fix OPENAI_BASE_URL (or [llm] base_url)"), None
    millis = (time.perf_counter() - start) * 1000
    return ok(name, f"{base_url} answers, {len(models)} models listed, {millis:.0f} ms"), models


def _model_check(ws: Workspace, served: list[str] | None, base_url: str) -> Check:
    name = "llm model"
    used = sorted({ws.llm.model, *(a.model for a in ws.agents.values() if a.model)})
    if served is None:
        return skipped(name, "the endpoint does not list its models")
    missing = [model for model in used if model not in served]
    if missing:
        offered = ", ".join(served[:8]) + (", ..." if len(served) > 8 else "") or "none"
        return fail(name, f"{', '.join(missing)} not served by {base_url} (it lists: {offered})",
                    "set [llm] model and [agents.X] model to a listed model, or pass --model")
    return ok(name, f"{', '.join(used)} listed")


def _structured(ws: Workspace, settings: LLMSettings) -> Check:
    from agents.llm import Budget, RetryPolicy
    from agents.session import make_client

    name = "llm structured answer"
    client = make_client(ws, cached=False, settings=settings, budget=Budget(max_calls=3),
                         retry=RetryPolicy(attempts=1))
    try:
        with client:
            answer, chat = client.structured(_PING, Ping, temperature=0.0, max_tokens=16)
    except AgentError as exc:
        return fail(name, str(exc), "try another model ([llm] model), or check the server's "
                                    "logs")
    return ok(name, f"{settings.model} answered {answer.model_dump_json()} in "
                    f"{chat.latency_ms:.0f} ms")


def _formats(client: openai.OpenAI, model: str) -> Check:
    name = "llm response formats"
    results = {fmt: _try_format(client, model, fmt) for fmt in ("json_schema", "json_object",
                                                                 "plain")}
    honoured = [fmt for fmt, result in results.items() if result is None]
    refused = {fmt: result for fmt, result in results.items() if result is not None}
    if not honoured:
        detail = "; ".join(f"{fmt}: {why}" for fmt, why in refused.items())
        return fail(name, f"no format works ({detail})", "check the model and the server's logs")
    detail = f"honours {', '.join(honoured)}"
    if refused:
        detail += "; " + "; ".join(f"{fmt} {why}" for fmt, why in refused.items())
        if "json_schema" in refused:
            detail += f" (structured answers fall back to {honoured[0]})"
    return ok(name, detail)


def _try_format(client: openai.OpenAI, model: str, fmt: str) -> str | None:
    """None when the server answers with this response_format, else why not."""
    import openai

    kwargs: dict[str, Any] = {"model": model, "messages": _PING, "max_tokens": 16,
                              "temperature": 0.0}
    if fmt == "json_schema":
        kwargs["response_format"] = {"type": "json_schema", "json_schema": {
            "name": "Ping", "schema": Ping.model_json_schema()}}
    elif fmt == "json_object":
        kwargs["response_format"] = {"type": "json_object"}
    try:
        client.chat.completions.create(**kwargs)
    except openai.APIStatusError as exc:
        return f"refused (HTTP {exc.status_code})" if refuses_format(exc) else (
            f"failed (HTTP {exc.status_code})")
    except openai.APIConnectionError as exc:
        return f"failed ({type(exc).__name__})"
    return None
