"""Outcomes in batches, naming their decision by id or by ``external_id``; idempotent.

One transaction for the batch, all or nothing. An outcome already stored with the same
value is a duplicate (a retried batch), not an error; one stored with another value is
refused, naming the item: an outcome is a fact, and a second opinion is a new outcome type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from tracker import validation as v
from tracker.db import write_transaction
from tracker.errors import UnknownDecisionError, ValidationError
from tracker.models import Decision, Outcome

DECISIONS = cast(sa.Table, Decision.__table__)
OUTCOMES = cast(sa.Table, Outcome.__table__)
_ATTEMPTS = 3
OUTCOME_KEYS = frozenset({"decision_id", "external_id", "outcome_type", "outcome_value",
                          "details", "timestamp"})


def outcome_row(data: Any, where: str) -> dict[str, Any]:
    """A checked outcome: ``decision_id`` or ``external_id`` (one of them), the rest as
    :meth:`DecisionTracker.track_decision_outcome` takes them."""
    if not isinstance(data, Mapping):
        raise ValidationError(f"{where}: expected an object, got {type(data).__name__}")
    unknown = data.keys() - OUTCOME_KEYS
    if unknown:
        raise ValidationError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    decision_id, external_id = data.get("decision_id"), data.get("external_id")
    if (decision_id is None) == (external_id is None):
        raise ValidationError(f"{where}: decision_id or external_id is required (one of them)")
    if decision_id is not None and (isinstance(decision_id, bool)
                                    or not isinstance(decision_id, int)):
        raise ValidationError(f"{where}: decision_id: expected an integer, got {decision_id!r}")
    timestamp = data.get("timestamp")
    return {
        "decision_id": decision_id,
        "external_id": None if external_id is None
        else v.text(external_id, where, "external_id", 128),
        "outcome_type": v.text(data.get("outcome_type"), where, "outcome_type", 32),
        "outcome_value": v.number_value(data.get("outcome_value"), where, "outcome_value"),
        "details": v.optional_object(data.get("details"), where, "details"),
        "timestamp": datetime.now(UTC) if timestamp is None
        else v.aware_datetime(timestamp, where, "timestamp"),
    }


def record_outcomes(conn: Connection, rows: Sequence[tuple[str, dict[str, Any]]]
                    ) -> list[tuple[int, int, bool]]:
    """Store checked rows (where, row) in the open write transaction ``conn``; per row:
    (outcome id, decision id, created)."""
    answers = []
    for where, row in rows:
        decision_id = _decision_id(conn, where, row)
        stored = conn.execute(sa.select(OUTCOMES.c.id, OUTCOMES.c.outcome_value).where(
            OUTCOMES.c.decision_id == decision_id,
            OUTCOMES.c.outcome_type == row["outcome_type"])).first()
        if stored is not None:
            if stored.outcome_value != row["outcome_value"]:
                raise ValidationError(
                    f"{where}: decision {decision_id} already has an outcome of type "
                    f"{row['outcome_type']!r} with another value ({stored.outcome_value:g})")
            answers.append((stored.id, decision_id, False))
            continue
        values = {key: row[key] for key in ("outcome_type", "outcome_value", "details",
                                            "timestamp")}
        new_id = conn.execute(OUTCOMES.insert().returning(OUTCOMES.c.id),
                              {**values, "decision_id": decision_id}).scalar_one()
        answers.append((new_id, decision_id, True))
    return answers


def track_outcomes(engine: Any, items: Sequence[tuple[str, Any]]) -> list[tuple[int, int, bool]]:
    """Check and store a batch of outcomes in one transaction (all or nothing)."""
    rows = [(where, outcome_row(item, where)) for where, item in items]
    for _ in range(_ATTEMPTS - 1):
        try:
            with write_transaction(engine) as conn:
                return record_outcomes(conn, rows)
        except IntegrityError:
            # PostgreSQL: a concurrent batch stored one of these first; now it is seen
            continue
    with write_transaction(engine) as conn:
        return record_outcomes(conn, rows)


def _decision_id(conn: Connection, where: str, row: dict[str, Any]) -> int:
    if row["external_id"] is not None:
        query = sa.select(DECISIONS.c.id).where(DECISIONS.c.external_id == row["external_id"])
        missing = f"no decision with external_id {row['external_id']!r}"
    else:
        query = sa.select(DECISIONS.c.id).where(DECISIONS.c.id == row["decision_id"])
        missing = f"no decision with id {row['decision_id']}"
    found = conn.execute(query).scalar()
    if found is None:
        raise UnknownDecisionError(f"{where}: {missing}")
    return int(found)
