"""Integrity checks on agent outputs: a known action, a confidence in [0, 1], and either an
answer (action and confidence) or an error, never neither.

On SQLite this copies the table (batch mode); the rows are kept.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CHECKS = {
    "ck_agent_outputs_action": "action IS NULL OR action IN ('BUY', 'SELL', 'HOLD')",
    "ck_agent_outputs_confidence": "confidence IS NULL OR (confidence >= 0 AND confidence <= 1)",
    "ck_agent_outputs_answer_or_error": (
        "error IS NOT NULL OR (action IS NOT NULL AND confidence IS NOT NULL)"
    ),
}


def upgrade() -> None:
    with op.batch_alter_table("agent_outputs") as batch:
        for name, condition in CHECKS.items():
            batch.create_check_constraint(name, condition)


def downgrade() -> None:
    with op.batch_alter_table("agent_outputs") as batch:
        for name in CHECKS:
            batch.drop_constraint(name, type_="check")
