"""The tracker's schema (SQLAlchemy 2 typed models).

The specification's tables keep its column names: ``decisions``, ``outcomes``,
``performance_metrics``. Added so a failure can be traced to an agent and a prompt
version and replayed: ``decisions.context`` (what the agents saw), ``decisions.prompt_versions``
(agent -> commit sha), ``agent_outputs`` (one row per agent per decision, plus the shadow
calls, ``is_shadow``) and ``optimization_runs``.

Timestamps are timezone-aware and stored in UTC (:class:`UTCDateTime`); confidence is a
probability in [0, 1]. ``agent_outputs.timestamp`` repeats the decision's timestamp so
per-agent time windows are one index range scan. A JSON column holding None stores SQL
NULL (not the JSON text ``null``), so ``IS NULL`` finds it. Schema changes go through the Alembic
migrations in ``tracker/migrations``, never by editing these classes alone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which keeps no zone) too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: timestamps must carry a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQL NULL for None, so "no context" is IS NULL rather than the JSON text 'null'.
JSON_NULL = JSON(none_as_null=True)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON_NULL, list[str]: JSON_NULL}


class Decision(Base):
    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(32))
    timestamp: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(4))
    confidence: Mapped[float] = mapped_column(Float)
    risk_level: Mapped[str | None] = mapped_column(String(16))
    reasoning: Mapped[str | None] = mapped_column(Text)
    market_condition: Mapped[str | None] = mapped_column(String(32))
    is_simulated: Mapped[bool] = mapped_column(default=False)
    agent_types: Mapped[list[str]] = mapped_column(JSON_NULL, default=list)
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON_NULL)
    prompt_versions: Mapped[dict[str, Any] | None] = mapped_column(JSON_NULL)
    # a client-chosen id: recording the same decision twice stores it once
    external_id: Mapped[str | None] = mapped_column(String(128))

    __table_args__ = (
        CheckConstraint("action IN ('BUY', 'SELL', 'HOLD')", name="ck_decisions_action"),
        CheckConstraint("confidence >= 0 AND confidence <= 1", name="ck_decisions_confidence"),
        Index("ix_decisions_timestamp", "timestamp"),
        Index("ix_decisions_symbol_timestamp", "symbol", "timestamp"),
        Index("ix_decisions_session_id", "session_id"),
        Index("uq_decisions_external_id", "external_id", unique=True),
    )


class AgentOutput(Base):
    __tablename__ = "agent_outputs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"))
    agent: Mapped[str] = mapped_column(String(64))
    timestamp: Mapped[datetime]  # the decision's, repeated for per-agent windows
    prompt_sha: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[str | None] = mapped_column(String(4))  # None when the call failed
    confidence: Mapped[float | None] = mapped_column(Float)
    risk_level: Mapped[str | None] = mapped_column(String(16))
    reasoning: Mapped[str | None] = mapped_column(Text)
    raw_output: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)  # a failed call is an error, never a HOLD
    latency_ms: Mapped[float | None] = mapped_column(Float)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    # A shadow call (another label's prompt on the same inputs) is never acted on and never
    # counted in the production metrics; ``label`` is the prompt label the call ran under.
    is_shadow: Mapped[bool] = mapped_column(default=False, server_default=false())
    label: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint(
            "action IS NULL OR action IN ('BUY', 'SELL', 'HOLD')", name="ck_agent_outputs_action"
        ),
        CheckConstraint(
            "confidence IS NULL OR (confidence >= 0 AND confidence <= 1)",
            name="ck_agent_outputs_confidence",
        ),
        CheckConstraint(
            "error IS NOT NULL OR (action IS NOT NULL AND confidence IS NOT NULL)",
            name="ck_agent_outputs_answer_or_error",
        ),
        Index("ix_agent_outputs_agent_timestamp", "agent", "timestamp"),
        Index("ix_agent_outputs_decision_id", "decision_id"),
        Index("ix_agent_outputs_prompt_sha", "prompt_sha"),
        Index("ix_agent_outputs_shadow_ts", "is_shadow", "timestamp"),
    )


class Outcome(Base):
    __tablename__ = "outcomes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"))
    outcome_type: Mapped[str] = mapped_column(String(32))
    outcome_value: Mapped[float] = mapped_column(Float)
    timestamp: Mapped[datetime]
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON_NULL)

    # One outcome of a type per decision: what makes resolution idempotent.
    __table_args__ = (
        UniqueConstraint("decision_id", "outcome_type", name="uq_outcomes_decision_type"),
        Index("ix_outcomes_type_decision", "outcome_type", "decision_id"),
    )


class PerformanceMetric(Base):
    __tablename__ = "performance_metrics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_type: Mapped[str] = mapped_column(String(64))
    metric_name: Mapped[str] = mapped_column(String(128))
    metric_value: Mapped[float] = mapped_column(Float)
    timestamp: Mapped[datetime]
    start_date: Mapped[datetime]
    end_date: Mapped[datetime]

    __table_args__ = (Index("ix_metrics_agent_name_ts", "agent_type", "metric_name", "timestamp"),)


class OptimizationRun(Base):
    __tablename__ = "optimization_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(String(32), unique=True)
    agent: Mapped[str] = mapped_column(String(64))
    timestamp: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))  # applied, rejected, dry-run, error
    engine: Mapped[str] = mapped_column(String(16))
    model: Mapped[str | None] = mapped_column(String(128))
    base_sha: Mapped[str | None] = mapped_column(String(40))
    result_sha: Mapped[str | None] = mapped_column(String(40))
    scores_before: Mapped[dict[str, Any] | None] = mapped_column(JSON_NULL)
    scores_after: Mapped[dict[str, Any] | None] = mapped_column(JSON_NULL)
    failure_case_ids: Mapped[list[str] | None] = mapped_column(JSON_NULL)
    gates: Mapped[dict[str, Any] | None] = mapped_column(JSON_NULL)
    llm_calls: Mapped[int] = mapped_column(Integer, default=0)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    critique: Mapped[str | None] = mapped_column(Text)
    diff: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(
            "status IN ('applied', 'rejected', 'dry-run', 'error')", name="ck_runs_status"
        ),
        Index("ix_optimization_runs_agent_ts", "agent", "timestamp"),
    )


class ApiKey(Base):
    """A key of ``promptloop serve``: only the sha256 of its secret is stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(16))  # shown by `keys list`, never enough to use
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("scope IN ('ingest', 'read', 'admin')", name="ck_api_keys_scope"),
        UniqueConstraint("name", name="uq_api_keys_name"),
        UniqueConstraint("secret_hash", name="uq_api_keys_secret_hash"),
    )
