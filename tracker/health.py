"""The tracker database's health, checked without changing it (for ``promptloop doctor``).

- :func:`database_state`: can the database be reached, and at which schema revision is it
  compared with this code's head? A SQLite file that does not exist yet is reported as
  such and not created; nothing is ever upgraded here (``promptloop db upgrade`` does that).
- :func:`round_trip`: write a decision and read it back inside ONE transaction that is
  then rolled back, so no row stays (on PostgreSQL the id sequence advances by one, as it
  does for any rolled-back insert).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from tracker.db import create_engine, current_revision, head_revision, normalize_url
from tracker.errors import DatabaseError

__all__ = ["DatabaseState", "database_state", "round_trip"]

DOCTOR_SESSION = "promptloop-doctor"


@dataclass(frozen=True)
class DatabaseState:
    """Where the database is (password hidden), whether it exists, its revision and ours."""

    database: str
    exists: bool
    revision: str | None
    head: str

    @property
    def current(self) -> bool:
        return self.exists and self.revision == self.head


def database_state(database_url: str) -> DatabaseState:
    """The database's state; DatabaseError when it cannot be reached, SchemaError when its
    schema is not one this code knows."""
    url = normalize_url(database_url)
    shown = url.render_as_string(hide_password=True)
    head = head_revision()
    if url.get_backend_name() == "sqlite" and not _sqlite_exists(url.database):
        return DatabaseState(shown, False, None, head)
    engine = create_engine(database_url)
    try:
        return DatabaseState(shown, True, current_revision(engine), head)
    finally:
        engine.dispose()


def round_trip(database_url: str) -> float:
    """Insert a decision, read it back, roll back; returns the milliseconds it took.

    DatabaseError when a statement fails or the row read back differs."""
    from tracker.models import Base

    table = Base.metadata.tables["decisions"]
    marker = f"{DOCTOR_SESSION}-{uuid.uuid4().hex[:12]}"
    engine = create_engine(database_url)
    start = time.perf_counter()
    try:
        with engine.connect() as connection:
            transaction = connection.begin()
            try:
                connection.execute(table.insert().values(
                    session_id=marker, symbol="DOCTOR", timestamp=datetime.now(UTC),
                    action="HOLD", confidence=0.5, is_simulated=True, agent_types=[]))
                found = connection.execute(
                    sa.select(table.c.action).where(table.c.session_id == marker)).scalar()
            finally:
                transaction.rollback()
    except DBAPIError as exc:
        raise DatabaseError(f"write/read failed: {exc.orig}") from exc
    finally:
        engine.dispose()
    if found != "HOLD":
        raise DatabaseError("the row written was not read back")
    return (time.perf_counter() - start) * 1000


def _sqlite_exists(path: str | None) -> bool:
    if not path or path == ":memory:" or path.startswith("file:"):
        return True  # nothing on disk to look for; connecting creates nothing lasting
    return Path(path).expanduser().is_file()
