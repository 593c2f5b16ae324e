"""Rollups for the dashboard: per agent, prompt version, market condition and UTC hour, the
production calls (``decisions``), their summed confidence, how many have an outcome of the
chosen type (``with_outcome``), how many of those were right (``correct``, by
:mod:`tracker.rules`) and their summed squared error ``(confidence - correct)^2``. Accuracy
is ``correct / with_outcome``, the Brier score ``sum_squared_error / with_outcome``, and
rows add up: any coarser view (per day, per version) is a sum of them.

A cache with a stated freshness, not a table kept up to date on every write. One GROUP BY
in the database (:func:`rollups`) computes them; :class:`RollupCache` keeps the answer per
(agent, outcome type, band) and serves it while it is younger than ``max_age``; an older
answer is still served at once while one background thread recomputes it (stale while
revalidate), so a page never waits on the aggregation except the very first time. Why not a
table updated by every write: the writes stay as fast as they are (no hot rows for
concurrent writers on PostgreSQL to queue on), every write path (record, serve, outcomes
resolve, sessions) stays untouched, and there is nothing to migrate or to drift.
Freshness: a decision or outcome shows in the rollups at most ``max_age`` seconds (plus one
aggregation's time) after it was committed. The mechanism is :class:`FreshCache` (any key,
any computation); the dashboard's pages use it too (:mod:`server.dashboard_data`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.sql.expression import ColumnElement

from tracker.analysis.sql import correct
from tracker.models import AgentOutput, Decision, Outcome
from tracker.rules import DEFAULT_BAND, DEFAULT_OUTCOME_TYPE

__all__ = ["DEFAULT_MAX_AGE", "FreshCache", "RollupCache", "Rollups", "rollups"]

DECISIONS = cast(sa.Table, Decision.__table__)
OUTPUTS = cast(sa.Table, AgentOutput.__table__)
OUTCOMES = cast(sa.Table, Outcome.__table__)
DEFAULT_MAX_AGE = 10.0  # seconds


@dataclass(frozen=True)
class Rollups:
    """The rollup rows of one (agent, outcome type, band) and when they were computed."""

    agent: str | None
    outcome_type: str
    band: float
    computed_at: datetime
    rows: list[dict[str, Any]]

    def to_dict(self, max_age: float) -> dict[str, Any]:
        return {"agent": self.agent, "outcome_type": self.outcome_type, "band": self.band,
                "computed_at": self.computed_at.isoformat(), "max_age_seconds": max_age,
                "rows": self.rows}


def rollups(engine: Engine, agent: str | None = None, *,
            outcome_type: str = DEFAULT_OUTCOME_TYPE, band: float = DEFAULT_BAND) -> Rollups:
    """Compute the rollups of ``agent`` (None: every agent), oldest hour first."""
    computed_at = datetime.now(UTC)
    o = OUTCOMES
    hour = _hour(OUTPUTS.c.timestamp, engine.dialect.name).label("hour")
    right = correct(OUTPUTS.c.action, o.c.outcome_value, band)
    keys = [OUTPUTS.c.agent, OUTPUTS.c.prompt_sha, DECISIONS.c.market_condition, hour]
    query = (
        sa.select(*keys, sa.func.count().label("decisions"),
                  sa.func.sum(OUTPUTS.c.confidence).label("sum_confidence"),
                  sa.func.count(right).label("with_outcome"),
                  sa.func.sum(right).label("correct"),
                  sa.func.sum(_squared(OUTPUTS.c.confidence, right)).label("sum_squared_error"))
        .select_from(OUTPUTS.join(DECISIONS, DECISIONS.c.id == OUTPUTS.c.decision_id)
                     .outerjoin(o, sa.and_(o.c.decision_id == OUTPUTS.c.decision_id,
                                           o.c.outcome_type == outcome_type)))
        .where(OUTPUTS.c.is_shadow.is_(sa.false()), OUTPUTS.c.action.is_not(None))
        .group_by(*keys).order_by(hour, *keys[:3])
    )
    if agent is not None:
        query = query.where(OUTPUTS.c.agent == agent)
    with engine.connect() as conn:
        rows = [_row(row._mapping) for row in conn.execute(query)]
    return Rollups(agent, outcome_type, band, computed_at, rows)


def _hour(ts: Any, dialect: str) -> ColumnElement[Any]:
    """The UTC hour of a timestamp as 'YYYY-MM-DDTHH:00:00Z' text, on both dialects."""
    if dialect == "sqlite":  # SQLAlchemy stores 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC
        return sa.func.strftime("%Y-%m-%dT%H:00:00Z", ts)
    return sa.func.to_char(sa.func.timezone("UTC", ts), 'YYYY-MM-DD"T"HH24":00:00Z"')


def _squared(confidence: ColumnElement[Any], right: ColumnElement[Any]) -> ColumnElement[Any]:
    return (confidence - right) * (confidence - right)


def _row(row: Any) -> dict[str, Any]:
    return {"agent": row["agent"], "prompt_sha": row["prompt_sha"],
            "market_condition": row["market_condition"], "hour": row["hour"],
            "decisions": int(row["decisions"]),
            "sum_confidence": float(row["sum_confidence"] or 0.0),
            "with_outcome": int(row["with_outcome"]), "correct": int(row["correct"] or 0),
            "sum_squared_error": float(row["sum_squared_error"] or 0.0)}


Key = tuple[str | None, str, float]
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


REST_RATIO = 3.0


class FreshCache(Generic[K, V]):
    """Values per key served from memory for ``max_age`` seconds, then recomputed in the
    background while the previous value is still served (stale while revalidate; see the
    module docstring). ``computations`` counts every computation, for tests and metrics.
    The rollups and the dashboard's pages (:mod:`server.dashboard_data`) share it.

    A value also rests for REST_RATIO times what it took to compute, so that on a tracker
    where one computation outlasts ``max_age`` a worker does not recompute back to back."""

    def __init__(self, max_age: float = DEFAULT_MAX_AGE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_age, self._clock = max_age, clock
        self.computations = 0
        self._lock = threading.Lock()
        self._entries: dict[K, tuple[float, float, V]] = {}  # done at, took, value
        self._refreshing: set[K] = set()

    def get(self, key: K, compute: Callable[[], V]) -> V:
        """The value of ``key``; ``compute`` makes it the first time and when stale."""
        with self._lock:
            entry = self._entries.get(key)
            stale = entry is not None and (
                self._clock() - entry[0] >= max(self.max_age, REST_RATIO * entry[1]))
            if stale and key not in self._refreshing:
                self._refreshing.add(key)
                threading.Thread(target=self._refresh, args=(key, compute), daemon=True).start()
        if entry is not None:
            return entry[2]
        return self._compute(key, compute)  # the first request for this key waits once

    def refreshing(self, key: K) -> bool:
        """Whether a background recomputation of ``key`` is under way."""
        with self._lock:
            return key in self._refreshing

    def _refresh(self, key: K, compute: Callable[[], V]) -> None:
        try:
            self._compute(key, compute)
        finally:
            with self._lock:
                self._refreshing.discard(key)

    def _compute(self, key: K, compute: Callable[[], V]) -> V:
        started = self._clock()
        value = compute()
        done = self._clock()
        with self._lock:
            self._entries[key] = (done, done - started, value)
            self.computations += 1
        return value


class RollupCache:
    """Rollups served from memory for ``max_age`` seconds, then recomputed in the background
    while the previous answer is still served (see the module docstring)."""

    def __init__(self, engine: Engine, max_age: float = DEFAULT_MAX_AGE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.engine, self.max_age = engine, max_age
        self._cache: FreshCache[Key, Rollups] = FreshCache(max_age, clock)

    def get(self, agent: str | None = None, *, outcome_type: str = DEFAULT_OUTCOME_TYPE,
            band: float = DEFAULT_BAND) -> Rollups:
        key = (agent, outcome_type, band)
        return self._cache.get(key, lambda: rollups(self.engine, agent,
                                                    outcome_type=outcome_type, band=band))
