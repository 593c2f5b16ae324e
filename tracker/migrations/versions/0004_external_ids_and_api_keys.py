"""Idempotent ingestion and API keys.

``decisions.external_id``: a client-chosen id per decision (``promptloop record`` and
``POST /v1/decisions``); unique, so a retried batch never duplicates. NULL for decisions
recorded without one (both SQLite and PostgreSQL allow many NULLs in a unique index).

``api_keys``: the keys of ``promptloop serve``, stored as the sha256 of the secret (never
the secret itself), with a scope (ingest, read, admin) and a revocation time.

Plain ADD COLUMN and CREATE on both SQLite and PostgreSQL; existing rows are kept.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("decisions", sa.Column("external_id", sa.String(128), nullable=True))
    op.create_index("uq_decisions_external_id", "decisions", ["external_id"], unique=True)
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("scope IN ('ingest', 'read', 'admin')", name="ck_api_keys_scope"),
        sa.UniqueConstraint("name", name="uq_api_keys_name"),
        sa.UniqueConstraint("secret_hash", name="uq_api_keys_secret_hash"),
    )


def downgrade() -> None:
    op.drop_table("api_keys")
    op.drop_index("uq_decisions_external_id", "decisions")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("external_id")
