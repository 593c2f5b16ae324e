"""Ingestion v1: ``POST /v1/decisions`` and ``POST /v1/outcomes`` (scope ``ingest``).

The contract (docs/server.md):

- The body is ``{"decisions": [...]}`` (or ``{"outcomes": [...]}``), at most
  ``MAX_BATCH_ITEMS`` items and ``MAX_BATCH_BYTES`` bytes; beyond either: 413, nothing read.
- Every decision carries a client-chosen ``external_id``; the other fields are those of
  ``promptloop record``, checked by the same functions (:mod:`tracker.validation`) with the
  same messages, plus: each agent output's ``agent`` must be an agent of the workspace.
- All or nothing: one bad item refuses the batch (422, every bad item listed with its
  number, field and message) and nothing is written.
- Idempotent: an ``external_id`` already stored is answered ``"duplicate"`` with its
  stored id, never stored twice, so a client retries a batch whose answer it lost.
- The answer comes after the commit: an item answered ``created`` is stored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends, Request

from server.auth import require
from server.context import ServerContext
from server.errors import ApiError
from tracker import validation
from tracker.errors import UnknownDecisionError, ValidationError
from tracker.outcome_batch import outcome_row, track_outcomes

router = APIRouter(prefix="/v1", tags=["ingestion"], dependencies=[Depends(require("ingest"))])
_FIELD = re.compile(r"item \d+: (?:agent_outputs\[\d+\]: )?([a-z_]+)(?::| is required)")


@router.post("/decisions")
async def post_decisions(request: Request) -> dict[str, Any]:
    """Record a batch of decisions (idempotent by external_id)."""
    items = await _read_batch(request, "decisions")
    return await _in_thread(request, _store_decisions, items)


@router.post("/outcomes")
async def post_outcomes(request: Request) -> dict[str, Any]:
    """Record a batch of outcomes, naming decisions by decision_id or external_id."""
    items = await _read_batch(request, "outcomes")
    return await _in_thread(request, _store_outcomes, items)


async def _in_thread(request: Request, work: Any, items: list[Any]) -> dict[str, Any]:
    from starlette.concurrency import run_in_threadpool  # blocking database work

    context: ServerContext = request.app.state.context
    result: dict[str, Any] = await run_in_threadpool(work, context, items)
    return result


def _store_decisions(context: ServerContext, items: list[Any]) -> dict[str, Any]:
    records = [(f"item {n}", item) for n, item in enumerate(items, start=1)]
    agents = context.workspace.agents
    try:
        if not all(_plausible(item, agents) for item in items):
            raise ValidationError("refused")
        store = context.writer.ingest if context.writer else context.tracker.ingest_records
        answers = store(records)  # checks every item itself
    except ValidationError as exc:
        # the slow path, only for a refused batch: check each item to list every bad one
        errors = [error for where, item in records
                  if (error := _decision_error(where, item, agents))]
        if not errors:  # refused by the database itself: its one line
            raise ApiError(422, "invalid_input", f"{exc}; nothing was recorded") from None
        raise _invalid(errors) from None
    rows = [{"item": n, "external_id": item["external_id"], "id": decision_id,
             "status": "created" if created else "duplicate"}
            for n, (item, (decision_id, created)) in enumerate(zip(items, answers,
                                                                   strict=True), start=1)]
    return _summary(rows)


def _store_outcomes(context: ServerContext, items: list[Any]) -> dict[str, Any]:
    records = [(f"item {n}", item) for n, item in enumerate(items, start=1)]
    errors = [_item_error(where, exc) for where, item in records
              if (exc := _refusal(outcome_row, item, where))]
    if errors:
        raise _invalid(errors)
    try:
        answers = track_outcomes(context.tracker.engine, records)
    except UnknownDecisionError as exc:
        raise _invalid([_item_error(str(exc).split(":")[0], exc)], "unknown_decision") from None
    except ValidationError as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    rows = [{"item": n, "id": outcome_id, "decision_id": decision_id,
             "status": "created" if created else "duplicate"}
            for n, (outcome_id, decision_id, created) in enumerate(answers, start=1)]
    return _summary(rows)


def _plausible(item: Any, agents: Mapping[str, Any]) -> bool:
    """The checks the tracker does not make (external_id given, agents known), cheaply."""
    if not isinstance(item, Mapping) or item.get("external_id") is None:
        return False
    outputs = item.get("agent_outputs") or []  # none at all is fine (as in record)
    return isinstance(outputs, list) and all(
        isinstance(output, Mapping) and isinstance(output.get("agent"), str)
        and output["agent"] in agents for output in outputs)


def _decision_error(where: str, item: Any, agents: Mapping[str, Any]) -> dict[str, Any] | None:
    if isinstance(item, Mapping) and item.get("external_id") is None:
        return {"item": _number(where), "field": "external_id",
                "message": f"{where}: external_id is required"}
    exc = _refusal(_check_decision, item, where, agents)
    return None if exc is None else _item_error(where, exc)


def _check_decision(item: Any, where: str, agents: Mapping[str, Any]) -> None:
    rest = {key: value for key, value in item.items() if key != "external_id"} \
        if isinstance(item, Mapping) else item
    if isinstance(item, Mapping):
        validation.text(item["external_id"], where, "external_id", 128)
    validation.decision_rows(rest, where)
    for index, output in enumerate(rest.get("agent_outputs") or ()):
        if output["agent"] not in agents:
            known = ", ".join(agents) or "none"
            raise ValidationError(f"{where}: agent_outputs[{index}]: agent: "
                                  f"{output['agent']!r} is not an agent of this workspace "
                                  f"(configured: {known})")


def _refusal(check: Any, item: Any, where: str, *args: Any) -> ValidationError | None:
    try:
        check(item, where, *args)
    except ValidationError as exc:
        return exc
    return None


def _item_error(where: str, exc: Exception) -> dict[str, Any]:
    message = str(exc)
    field = _FIELD.match(message)
    return {"item": _number(where), "field": field and field.group(1), "message": message}


def _number(where: str) -> int:
    return int(where.split()[1])


def _invalid(errors: list[dict[str, Any]], code: str = "invalid_input") -> ApiError:
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return ApiError(422, code, f"{errors[0]['message']}{more}; nothing was recorded", errors)


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    created = sum(row["status"] == "created" for row in rows)
    return {"created": created, "duplicates": len(rows) - created, "items": rows}


async def _read_batch(request: Request, field: str) -> list[Any]:
    """The items of a batch body, refused (413) beyond the caps before it is parsed."""
    config = request.app.state.context.config
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > config.max_bytes:
        raise _too_large(f"{declared} bytes; at most {config.max_bytes} per batch")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > config.max_bytes:
            raise _too_large(f"more than {config.max_bytes} bytes per batch")
    items = _parse(bytes(body), field)
    if len(items) > config.max_items:
        raise _too_large(f"{len(items)} items; at most {config.max_items} per batch")
    return items


def _parse(body: bytes, field: str) -> list[Any]:
    try:
        document = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON ({exc.msg} at "
                       f"line {exc.lineno} column {exc.colno}); nothing was recorded") from None
    except UnicodeDecodeError:
        raise ApiError(400, "malformed_json", "the body is not UTF-8 text") from None
    except RecursionError:  # the parser recurses per level: a deep body would be a 500
        raise ApiError(400, "malformed_json", "the body is nested too deeply; nothing was "
                       "recorded") from None
    if not isinstance(document, dict) or list(document) != [field] \
            or not isinstance(document[field], list):
        raise ApiError(422, "invalid_input",
                       f'the body must be a JSON object {{"{field}": [...]}}; nothing was recorded')
    return list(document[field])


def _too_large(detail: str) -> ApiError:
    return ApiError(413, "batch_too_large", f"batch too large: {detail}; nothing was recorded")
