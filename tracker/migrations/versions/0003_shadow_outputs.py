"""Shadow outputs and labels on agent outputs: ``is_shadow`` marks a call a session made with
another label's prompt on the same inputs, recorded but never acted on (never in the
production metrics); ``label`` is the prompt label the call ran under (NULL before labels).

Plain ADD COLUMN on both SQLite and PostgreSQL (a constant default needs no table copy);
existing rows are production outputs.

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


def downgrade() -> None:
    with op.batch_alter_table("agent_outputs") as batch:
        batch.drop_column("label")
        batch.drop_column("is_shadow")
