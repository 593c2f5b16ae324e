"""Decisions as rows to insert: checked (:func:`tracker.validation.decision_rows`) with their
optional ``external_id``, and deduplicated by it (a retried batch stores nothing twice; see
:mod:`tracker.idempotency`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tracker import validation as v
from tracker.errors import ValidationError

__all__ = ["Rows", "decision_rows", "dedupe"]

Rows = list[tuple[dict[str, Any], list[dict[str, Any]]]]


def decision_rows(data: Any, where: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """:func:`tracker.validation.decision_rows` plus the optional ``external_id``."""
    external_id = None
    if isinstance(data, Mapping) and "external_id" in data:
        external_id = v.optional_text(data["external_id"], where, "external_id", 128)
        if external_id is not None and not external_id.strip():
            raise ValidationError(f"{where}: external_id: expected a non-empty string")
        data = {key: value for key, value in data.items() if key != "external_id"}
    row, outputs = v.decision_rows(data, where)
    row["external_id"] = external_id
    return row, outputs


def dedupe(rows: Rows, known: dict[str, int]) -> tuple[Rows, list[tuple[int | None, int, bool]]]:
    """The rows to insert, and per input row (stored id or None, index in those, created):
    a stored external_id is not inserted again, nor is one repeated within the batch."""
    fresh: Rows = []
    refs: list[tuple[int | None, int, bool]] = []
    first: dict[str, int] = {}
    for row in rows:
        external_id = row[0]["external_id"]
        if external_id in known:
            refs.append((known[external_id], 0, False))
        elif external_id is not None and external_id in first:
            refs.append((None, first[external_id], False))
        else:
            if external_id is not None:
                first[external_id] = len(fresh)
            refs.append((None, len(fresh), True))
            fresh.append(row)
    return fresh, refs
