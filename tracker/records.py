"""Decisions read back as frozen records (:class:`DecisionRecord`), never live ORM objects,
so callers cannot write by accident; for :class:`tracker.store.DecisionTracker`'s reads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tracker import validation as v
from tracker.tables import DECISIONS, OUTCOMES, OUTPUTS

__all__ = ["DecisionRecord", "in_window", "jsonable", "read_records"]


@dataclass(frozen=True)
class DecisionRecord:
    """A stored decision. ``outputs`` (agent outputs, one dict each) is None when the query
    did not load them; ``outcomes`` maps outcome_type to {id, value, timestamp, details}."""

    id: int
    session_id: str
    symbol: str
    timestamp: datetime
    action: str
    confidence: float
    risk_level: str | None
    reasoning: str | None
    market_condition: str | None
    is_simulated: bool
    agent_types: list[str]
    context: dict[str, Any] | None
    prompt_versions: dict[str, Any] | None
    outputs: list[dict[str, Any]] | None
    outcomes: dict[str, dict[str, Any]]
    external_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return cast("dict[str, Any]", jsonable(asdict(self)))


def read_records(conn: Connection, rows: list[Any], with_outputs: bool) -> list[DecisionRecord]:
    """``rows`` of ``decisions`` as records, with their outcomes (and their outputs)."""
    ids = [row.id for row in rows]
    outputs: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    outcomes: dict[int, dict[str, dict[str, Any]]] = {i: {} for i in ids}
    for chunk in _chunks(ids, 500):
        if with_outputs:
            query = sa.select(OUTPUTS).where(OUTPUTS.c.decision_id.in_(chunk))
            for row in conn.execute(query.order_by(OUTPUTS.c.id)):
                output = dict(row._mapping)
                del output["decision_id"], output["timestamp"]
                outputs[row.decision_id].append(output)
        for row in conn.execute(sa.select(OUTCOMES).where(OUTCOMES.c.decision_id.in_(chunk))):
            outcomes[row.decision_id][row.outcome_type] = {
                "id": row.id, "value": row.outcome_value,
                "timestamp": row.timestamp, "details": row.details,
            }
    return [
        DecisionRecord(
            **{c.name: getattr(row, c.name) for c in DECISIONS.c},
            outputs=outputs[row.id] if with_outputs else None,
            outcomes=outcomes[row.id],
        )
        for row in rows
    ]


def in_window(
    query: sa.Select[Any], symbol: str | None, since: datetime | None, until: datetime | None
) -> sa.Select[Any]:
    """``query`` kept to one symbol and to decisions in [since, until] (each optional)."""
    if symbol is not None:
        query = query.where(DECISIONS.c.symbol == symbol)
    if since is not None:
        query = query.where(DECISIONS.c.timestamp >= v.aware_datetime(since, "since"))
    if until is not None:
        query = query.where(DECISIONS.c.timestamp <= v.aware_datetime(until, "until"))
    return query


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def jsonable(value: Any) -> Any:
    """``value`` with its datetimes as ISO 8601 text, all the way down."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value
