"""``DecisionTracker``: decisions with their agent outputs, outcomes, metrics, optimization runs.

Each public method is one transaction (:func:`tracker.db.write_transaction` for writes:
``BEGIN IMMEDIATE`` on SQLite, so concurrent writers queue on the busy timeout instead of
failing). Input is checked by :mod:`tracker.validation` before the transaction opens, so a
refused call writes nothing; the CHECK constraints of the schema are a second line.

Inserts go through SQLAlchemy Core ``executemany`` (decision ids come back through
``RETURNING`` in parameter order, "insertmanyvalues"), not ORM objects: bulk ingest is
about as fast as raw ``sqlite3.executemany`` (benchmarks/bench_tracker.py).

Reads return frozen records (:class:`tracker.records.DecisionRecord`,
:class:`tracker.failures.Case`), never live ORM objects, so callers cannot write by accident.
Decisions to insert are checked and deduplicated by :mod:`tracker.ingest_rows`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError

from tracker import validation as v
from tracker.contradiction import DEFAULT_RULE, ContradictionRule
from tracker.db import (
    SchemaUpgrade,
    connect,
    insert_many,
    read_transaction,
    upgrade_notice,
    write_transaction,
)
from tracker.errors import DatabaseError, UnknownDecisionError, ValidationError
from tracker.idempotency import stored_ids
from tracker.ingest_rows import Rows, decision_rows, dedupe
from tracker.records import DecisionRecord, in_window, read_records
from tracker.rules import DEFAULT_BAND, DEFAULT_OUTCOME_TYPE
from tracker.tables import DECISIONS, METRICS, OUTCOMES, OUTPUTS, RUNS

if TYPE_CHECKING:
    from tracker.failures import Case

# DecisionRecord and the tables stay importable from here, where they used to live.
__all__ = ["DECISIONS", "METRICS", "OUTCOMES", "OUTPUTS", "RUNS", "DecisionRecord",
           "DecisionTracker"]


class DecisionTracker:
    """The tracker on one database (opened, and upgraded if old, by :func:`tracker.db.connect`)."""

    def __init__(self, database_url: str | None = None, *, engine: Engine | None = None) -> None:
        if engine is None:
            if database_url is None:
                raise ValueError("DecisionTracker needs a database_url or an engine")
            engine = connect(database_url)
        self.engine = engine

    @property
    def upgrade_notice(self) -> SchemaUpgrade | None:
        """The schema upgrade made when this database was opened, if any."""
        return upgrade_notice(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # --- decisions --------------------------------------------------------------------

    def track_decision(
        self,
        *,
        session_id: str,
        symbol: str,
        timestamp: datetime,
        action: str,
        confidence: float,
        risk_level: str | None = None,
        reasoning: str | None = None,
        market_condition: str | None = None,
        is_simulated: bool = False,
        agent_types: Sequence[str] | None = None,
        context: Mapping[str, Any] | None = None,
        prompt_versions: Mapping[str, str] | None = None,
        agent_outputs: Iterable[Mapping[str, Any]] = (),
        external_id: str | None = None,
    ) -> int:
        """Record one decision with its agent outputs; returns its id (the stored one's
        when a decision with this ``external_id`` exists already)."""
        fields = dict(locals())
        del fields["self"]
        return self._insert([decision_rows(fields, "decision")])[0][0]

    def track_decisions(self, decisions: Iterable[Mapping[str, Any]]) -> list[int]:
        """Record many decisions in one transaction (all or nothing); ids in input order."""
        return [i for i, _ in self._insert([decision_rows(item, f"item {n}")
                                            for n, item in enumerate(decisions, start=1)])]

    def track_records(self, records: Sequence[tuple[str, Any]]) -> list[int]:
        """Like :meth:`track_decisions` for (where, record) pairs from
        :func:`tracker.validation.parse_records`: errors name the line or item."""
        return [i for i, _ in self.ingest_records(records)]

    def ingest_records(self, records: Sequence[tuple[str, Any]]) -> list[tuple[int, bool]]:
        """Like :meth:`track_records`, answering (id, created) per record: created is False
        for a decision whose ``external_id`` was stored already (:mod:`tracker.idempotency`)."""
        return self._insert([decision_rows(item, where) for where, item in records])

    def _insert(self, rows: Rows) -> list[tuple[int, bool]]:
        if not rows:
            return []
        with self._writing() as conn:
            known = stored_ids(conn, [r["external_id"] for r, _ in rows if r["external_id"]])
            fresh, refs = dedupe(rows, known)
            ids = self._insert_decisions(conn, [decision for decision, _ in fresh])
            outputs = [output for _, decision_outputs in fresh for output in decision_outputs]
            owners = [i for i, (_, outs) in zip(ids, fresh, strict=True) for _ in outs]
            insert_many(conn, OUTPUTS, outputs, {"decision_id": owners})
        return [(ids[index], created) if stored is None else (stored, False)
                for stored, index, created in refs]

    @staticmethod
    def _insert_decisions(conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
        if not rows:  # every one stored already
            return []
        if len(rows) == 1:
            statement = DECISIONS.insert().returning(DECISIONS.c.id)
            return [conn.execute(statement, rows[0]).scalar_one()]
        if conn.dialect.name == "sqlite":
            # The write lock is held since BEGIN IMMEDIATE: the next ids are ours to give.
            first = conn.execute(sa.select(sa.func.max(DECISIONS.c.id))).scalar() or 0
            ids = list(range(first + 1, first + 1 + len(rows)))
            insert_many(conn, DECISIONS, rows, {"id": ids})
            return ids
        statement = DECISIONS.insert().returning(DECISIONS.c.id, sort_by_parameter_order=True)
        return list(conn.execute(statement, rows).scalars())

    # --- outcomes and metrics ---------------------------------------------------------

    def track_decision_outcome(
        self,
        decision_id: int,
        outcome_type: str,
        outcome_value: float,
        details: Mapping[str, Any] | None = None,
        *,
        timestamp: datetime | None = None,
    ) -> int:
        """Record the outcome of a decision (one per decision and type); returns its id."""
        v.decision_id(decision_id)
        row = {
            "decision_id": decision_id,
            "outcome_type": v.text(outcome_type, "outcome", "outcome_type", max_length=32),
            "outcome_value": v.number_value(outcome_value, "outcome", "outcome_value"),
            "details": v.optional_object(details, "outcome", "details"),
            "timestamp": _now() if timestamp is None
            else v.aware_datetime(timestamp, "outcome", "timestamp"),
        }
        with self._writing() as conn:
            self._require_decision(conn, decision_id)
            if conn.execute(
                sa.select(OUTCOMES.c.id).where(
                    OUTCOMES.c.decision_id == decision_id,
                    OUTCOMES.c.outcome_type == row["outcome_type"],
                )
            ).first():
                raise ValidationError(
                    f"decision {decision_id} already has an outcome of type {outcome_type!r}"
                )
            return int(conn.execute(OUTCOMES.insert().returning(OUTCOMES.c.id), row).scalar_one())

    def track_new_outcomes(self, rows: list[dict[str, Any]]) -> int:
        """Insert outcome rows (columns of ``outcomes``, already checked) in one transaction,
        skipping any (decision, type) another writer recorded meanwhile; how many were new."""
        if not rows:
            return 0
        with self._writing() as conn:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            statement = dialect.insert(OUTCOMES).on_conflict_do_nothing(
                index_elements=["decision_id", "outcome_type"]
            )
            # RETURNING yields only the rows inserted, not the ones skipped as conflicts.
            return len(conn.execute(statement.returning(OUTCOMES.c.id), rows).all())

    def record_metric(
        self,
        agent_type: str,
        metric_name: str,
        metric_value: float,
        start_date: datetime,
        end_date: datetime,
        timestamp: datetime | None = None,
    ) -> int:
        """Store one computed metric for an agent over [start_date, end_date]; returns its id."""
        row = v.metric_row(dict(locals()), "metric")
        with self._writing() as conn:
            return int(conn.execute(METRICS.insert().returning(METRICS.c.id), row).scalar_one())

    def record_metrics(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Store many metrics in one transaction (dicts with record_metric's arguments)."""
        checked = [v.metric_row(row, f"metric {n}") for n, row in enumerate(rows, start=1)]
        if checked:
            with self._writing() as conn:
                conn.execute(METRICS.insert(), checked)

    def record_optimization_run(self, **columns: Any) -> str:
        """Store one optimization run (the columns of ``optimization_runs`` except id);
        ``run_id`` and ``timestamp`` are made when missing. Returns the run_id."""
        row = v.optimization_run_row(columns, [c.name for c in RUNS.c if c.name != "id"])
        with self._writing() as conn:
            conn.execute(RUNS.insert(), row)
        return str(row["run_id"])

    def update_optimization_run(self, run_id: str, **columns: Any) -> None:
        """Replace the columns of a stored run (all but ``run_id``): a run recorded before
        its commit is completed after it (see optimizer/loop.py)."""
        known = [c.name for c in RUNS.c if c.name != "id"]
        with self._writing() as conn:
            row = conn.execute(sa.select(RUNS).where(RUNS.c.run_id == run_id)).first()
            if row is None:
                raise ValidationError(f"no optimization run {run_id!r}")
            merged = {**{k: getattr(row, k) for k in known}, **columns, "run_id": run_id}
            checked = v.optimization_run_row(merged, known)
            conn.execute(RUNS.update().where(RUNS.c.run_id == run_id).values(**checked))

    def optimization_runs(
        self, agent: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Stored optimization runs, newest first."""
        query = sa.select(RUNS).order_by(RUNS.c.timestamp.desc(), RUNS.c.id.desc()).limit(limit)
        if agent is not None:
            query = query.where(RUNS.c.agent == agent)
        with self._reading() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    # --- reads ------------------------------------------------------------------------

    def decisions(
        self,
        agent: str | None = None,
        symbol: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        before_id: int | None = None,
    ) -> list[DecisionRecord]:
        """Decisions, newest first, with their agent outputs and outcomes. ``agent`` keeps
        the decisions that agent answered (or failed) in; ``before_id`` those listed after
        that decision (a page cursor)."""
        query = in_window(sa.select(DECISIONS), symbol, since, until)
        if before_id is not None:
            anchor = sa.select(DECISIONS.c.timestamp).where(DECISIONS.c.id == before_id)
            moment = anchor.scalar_subquery()
            query = query.where(sa.or_(DECISIONS.c.timestamp < moment, sa.and_(
                DECISIONS.c.timestamp == moment, DECISIONS.c.id < before_id)))
        if agent is not None:
            query = query.where(
                sa.exists().where(OUTPUTS.c.decision_id == DECISIONS.c.id, OUTPUTS.c.agent == agent)
            )
        query = query.order_by(DECISIONS.c.timestamp.desc(), DECISIONS.c.id.desc()).limit(limit)
        with self._reading() as conn:
            return read_records(conn, list(conn.execute(query)), with_outputs=True)

    def decision(self, decision_id: int) -> DecisionRecord:
        """One decision with its outputs and outcomes; UnknownDecisionError if absent."""
        with self._reading() as conn:
            rows = list(conn.execute(sa.select(DECISIONS).where(DECISIONS.c.id == decision_id)))
            if not rows:
                raise UnknownDecisionError(f"no decision with id {decision_id}")
            return read_records(conn, rows, with_outputs=True)[0]

    def pending_outcomes(
        self,
        outcome_type: str = DEFAULT_OUTCOME_TYPE,
        *,
        symbol: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> list[DecisionRecord]:
        """Decisions without an outcome of ``outcome_type``, oldest first (outputs not
        loaded: ``outputs`` is None)."""
        has_outcome = sa.exists().where(
            OUTCOMES.c.decision_id == DECISIONS.c.id, OUTCOMES.c.outcome_type == outcome_type
        )
        query = in_window(sa.select(DECISIONS), symbol, since, until).where(~has_outcome)
        query = query.order_by(DECISIONS.c.timestamp, DECISIONS.c.id).limit(limit)
        with self._reading() as conn:
            return read_records(conn, list(conn.execute(query)), with_outputs=False)

    def failure_cases(
        self,
        agent: str,
        days: float = 30,
        limit: int | None = 20,
        *,
        until: datetime | None = None,
        outcome_type: str = DEFAULT_OUTCOME_TYPE,
        band: float = DEFAULT_BAND,
        contradiction: ContradictionRule = DEFAULT_RULE,
    ) -> list[Case]:
        """The agent's most instructive failures in the window, worst first; pairs under
        ``contradiction`` (see :mod:`tracker.failures`)."""
        from tracker.failures import select_cases

        return select_cases(self, agent, days, limit, until, outcome_type, band, failures=True,
                            rule=contradiction)

    def success_cases(
        self,
        agent: str,
        days: float = 30,
        limit: int | None = 20,
        *,
        until: datetime | None = None,
        outcome_type: str = DEFAULT_OUTCOME_TYPE,
        band: float = DEFAULT_BAND,
    ) -> list[Case]:
        """The agent's clearest correct calls in the window (for the replay gate)."""
        from tracker.failures import select_cases

        return select_cases(self, agent, days, limit, until, outcome_type, band, failures=False)

    def judged_cases(
        self,
        agent: str,
        since: datetime,
        until: datetime,
        *,
        outcome_type: str = DEFAULT_OUTCOME_TYPE,
        band: float = DEFAULT_BAND,
    ) -> list[Case]:
        """Every output of the agent after ``since`` up to ``until`` that has an outcome,
        failures and successes alike, oldest first (the replay gate's held-out window)."""
        from tracker.failures import judged_cases

        return judged_cases(self, agent, since, until, outcome_type, band)

    # --- helpers ----------------------------------------------------------------------

    def reading(self) -> AbstractContextManager[Connection]:
        """A read transaction's connection, database errors translated: for the package's
        query modules (failure cases) that read tables the store defines."""
        return self._reading()

    def _writing(self) -> AbstractContextManager[Connection]:
        return _translated(write_transaction(self.engine), self.engine)

    def _reading(self) -> AbstractContextManager[Connection]:
        return _translated(read_transaction(self.engine), self.engine)

    @staticmethod
    def _require_decision(conn: Connection, decision_id: int) -> None:
        if conn.execute(sa.select(DECISIONS.c.id).where(DECISIONS.c.id == decision_id)).first():
            return
        raise UnknownDecisionError(f"no decision with id {decision_id}")

class _translated:
    """Turns database failures inside a transaction into TrackerErrors."""

    def __init__(self, inner: Any, engine: Engine) -> None:
        self.inner, self.engine = inner, engine

    def __enter__(self) -> Connection:
        try:
            return cast(Connection, self.inner.__enter__())
        except DBAPIError as exc:
            raise DatabaseError(f"cannot use the database: {exc.orig}") from exc

    def __exit__(self, *exc_info: Any) -> bool:
        try:
            return bool(self.inner.__exit__(*exc_info))
        except IntegrityError as exc:
            raise ValidationError(f"refused by the database: {exc.orig}") from exc
        except DBAPIError as exc:
            raise DatabaseError(f"database error: {exc.orig}") from exc
        except StatementError as exc:  # a value the column type cannot store
            raise ValidationError(f"cannot store a value: {exc.orig}") from exc


def _now() -> datetime:
    return datetime.now(UTC)
