"""Shadow outputs and labels on agent outputs: ``is_shadow`` marks a call a session made with
another label's prompt on the same inputs, recorded but never acted on (never in the
production metrics); ``label`` is the prompt label the call ran under (NULL before labels).

Plain ADD COLUMN on both SQLite and PostgreSQL (a constant default needs no table copy);
existing rows are production outputs. An index on (is_shadow, timestamp) finds a window's
shadow calls.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("agent_outputs", sa.Column("is_shadow", sa.Boolean(), nullable=False,
                                             server_default=sa.false()))
    op.add_column("agent_outputs", sa.Column("label", sa.String(64), nullable=True))
    # the shadow calls of a window, for analyze's per-label blocks, without a table scan
    op.create_index("ix_agent_outputs_shadow_ts", "agent_outputs", ["is_shadow", "timestamp"])


def downgrade() -> None:
    op.drop_index("ix_agent_outputs_shadow_ts", "agent_outputs")
    with op.batch_alter_table("agent_outputs") as batch:
        batch.drop_column("label")
        batch.drop_column("is_shadow")
