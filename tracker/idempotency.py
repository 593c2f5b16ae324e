"""Idempotent decision ingestion by a client-chosen ``external_id``.

A decision that carries an ``external_id`` already stored is not inserted again: the caller
gets the stored decision's id, and the item counts as a duplicate. A batch that names the
same id twice stores it once. So a client may retry a batch whose answer it never got.

Concurrency: on SQLite the writer holds the database's write lock from ``BEGIN IMMEDIATE``,
so the lookup and the insert cannot interleave with another writer. On PostgreSQL two
transactions could both look, both miss and both insert (one then fails on the unique
index); so each transaction first takes a transaction-scoped advisory lock per external id,
in one sorted order (no deadlock), and looks only then: the second of two identical batches
waits for the first to commit, then finds its rows.
"""

from __future__ import annotations

from typing import cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tracker.models import Decision

DECISIONS = cast(sa.Table, Decision.__table__)
_LOCK_KEYS = sa.text(
    "SELECT pg_advisory_xact_lock(k) FROM "
    "(SELECT DISTINCT hashtextextended(x, 0) AS k FROM unnest(CAST(:ids AS text[])) AS x "
    "ORDER BY k) AS keys"
)


def stored_ids(conn: Connection, external_ids: list[str]) -> dict[str, int]:
    """external_id -> decision id for those already stored (locked first on PostgreSQL)."""
    if not external_ids:
        return {}
    if conn.dialect.name == "postgresql":
        conn.execute(_LOCK_KEYS, {"ids": sorted(set(external_ids))})
    found: dict[str, int] = {}
    unique = list(dict.fromkeys(external_ids))
    for start in range(0, len(unique), 500):
        chunk = unique[start:start + 500]
        query = sa.select(DECISIONS.c.external_id, DECISIONS.c.id).where(
            DECISIONS.c.external_id.in_(chunk))
        found.update({row.external_id: row.id for row in conn.execute(query)})
    return found
