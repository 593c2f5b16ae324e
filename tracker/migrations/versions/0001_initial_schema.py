"""The initial tracker schema: decisions, agent outputs, outcomes, metrics, optimization runs.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    _decisions()
    _agent_outputs()
    _outcomes()
    _performance_metrics()
    _optimization_runs()


def _decisions() -> None:
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("timestamp", UTC_DATETIME, nullable=False),
        sa.Column("action", sa.String(4), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("risk_level", sa.String(16), nullable=True),
        sa.Column("reasoning", sa.Text(), nullable=True),
        sa.Column("market_condition", sa.String(32), nullable=True),
        sa.Column("is_simulated", sa.Boolean(), nullable=False),
        sa.Column("agent_types", sa.JSON(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=True),
        sa.Column("prompt_versions", sa.JSON(), nullable=True),
        sa.CheckConstraint("action IN ('BUY', 'SELL', 'HOLD')", name="ck_decisions_action"),
        sa.CheckConstraint(
            "confidence >= 0 AND confidence <= 1", name="ck_decisions_confidence"
        ),
    )
    op.create_index("ix_decisions_timestamp", "decisions", ["timestamp"])
    op.create_index("ix_decisions_symbol_timestamp", "decisions", ["symbol", "timestamp"])
    op.create_index("ix_decisions_session_id", "decisions", ["session_id"])


def _agent_outputs() -> None:
    op.create_table(
        "agent_outputs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "decision_id",
            sa.Integer(),
            sa.ForeignKey("decisions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("timestamp", UTC_DATETIME, nullable=False),
        sa.Column("prompt_sha", sa.String(40), nullable=True),
        sa.Column("action", sa.String(4), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("risk_level", sa.String(16), nullable=True),
        sa.Column("reasoning", sa.Text(), nullable=True),
        sa.Column("raw_output", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
    )
    op.create_index("ix_agent_outputs_agent_timestamp", "agent_outputs", ["agent", "timestamp"])
    op.create_index("ix_agent_outputs_decision_id", "agent_outputs", ["decision_id"])
    op.create_index("ix_agent_outputs_prompt_sha", "agent_outputs", ["prompt_sha"])


def _outcomes() -> None:
    op.create_table(
        "outcomes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "decision_id",
            sa.Integer(),
            sa.ForeignKey("decisions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("outcome_type", sa.String(32), nullable=False),
        sa.Column("outcome_value", sa.Float(), nullable=False),
        sa.Column("timestamp", UTC_DATETIME, nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.UniqueConstraint("decision_id", "outcome_type", name="uq_outcomes_decision_type"),
    )
    op.create_index("ix_outcomes_type_decision", "outcomes", ["outcome_type", "decision_id"])


def _performance_metrics() -> None:
    op.create_table(
        "performance_metrics",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agent_type", sa.String(64), nullable=False),
        sa.Column("metric_name", sa.String(128), nullable=False),
        sa.Column("metric_value", sa.Float(), nullable=False),
        sa.Column("timestamp", UTC_DATETIME, nullable=False),
        sa.Column("start_date", UTC_DATETIME, nullable=False),
        sa.Column("end_date", UTC_DATETIME, nullable=False),
    )
    op.create_index(
        "ix_metrics_agent_name_ts",
        "performance_metrics",
        ["agent_type", "metric_name", "timestamp"],
    )


def _optimization_runs() -> None:
    op.create_table(
        "optimization_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.String(32), nullable=False, unique=True),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("timestamp", UTC_DATETIME, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("engine", sa.String(16), nullable=False),
        sa.Column("model", sa.String(128), nullable=True),
        sa.Column("base_sha", sa.String(40), nullable=True),
        sa.Column("result_sha", sa.String(40), nullable=True),
        sa.Column("scores_before", sa.JSON(), nullable=True),
        sa.Column("scores_after", sa.JSON(), nullable=True),
        sa.Column("failure_case_ids", sa.JSON(), nullable=True),
        sa.Column("gates", sa.JSON(), nullable=True),
        sa.Column("llm_calls", sa.Integer(), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("critique", sa.Text(), nullable=True),
        sa.Column("diff", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('applied', 'rejected', 'dry-run', 'error')", name="ck_runs_status"
        ),
    )
    op.create_index("ix_optimization_runs_agent_ts", "optimization_runs", ["agent", "timestamp"])


def downgrade() -> None:
    for table in (
        "optimization_runs",
        "performance_metrics",
        "outcomes",
        "agent_outputs",
        "decisions",
    ):
        op.drop_table(table)
