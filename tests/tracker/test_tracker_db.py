"""tracker.db: a new database at the head revision, the SQLite settings, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tracker.db import (
    connect,
    create_engine,
    current_revision,
    head_revision,
    normalize_url,
    upgrade_notice,
    upgrade_schema,
)
from tracker.errors import DatabaseError, SchemaError
from tracker.models import Base


def test_new_database_is_created_at_head_and_matches_the_models(database_url: str) -> None:
    engine = connect(database_url)
    try:
        assert current_revision(engine) == head_revision() == "0002"
        assert upgrade_notice(engine) is None  # a new database is not an upgrade
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert differences == []
        with engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
        assert {"decisions", "agent_outputs", "outcomes", "performance_metrics",
                "optimization_runs", "alembic_version"} <= tables
    finally:
        engine.dispose()


def test_opening_again_changes_nothing(database_url: str) -> None:
    connect(database_url).dispose()
    engine = create_engine(database_url)
    try:
        assert upgrade_schema(engine) is None
    finally:
        engine.dispose()


def test_sqlite_settings_and_state_folder(tmp_path: Path) -> None:
    path = tmp_path / ".promptloop" / "tracker.db"  # a workspace's state folder is made
    engine = connect(f"sqlite:///{path}")
    try:
        assert path.is_file()
        with engine.connect() as conn:
            pragma = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                      for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")}
        assert pragma == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 60000,
                          "synchronous": 1}
    finally:
        engine.dispose()


def test_foreign_tables_without_a_revision_are_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'other.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE decisions (id INTEGER PRIMARY KEY, what TEXT)")
    engine.dispose()
    with pytest.raises(SchemaError, match="not made by promptloop"):
        connect(url)


def test_a_newer_schema_is_refused_and_left_alone(database_url: str) -> None:
    connect(database_url).dispose()
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    engine.dispose()
    with pytest.raises(SchemaError, match="'9999', unknown to this promptloop"):
        connect(database_url)
    engine = create_engine(database_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "9999"
    engine.dispose()


def test_postgres_urls_use_psycopg_3() -> None:
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgres://u@h/db").drivername == "postgresql+psycopg"


def test_unreachable_database_is_one_clear_error() -> None:
    with pytest.raises(DatabaseError, match="cannot use the database"):
        connect("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_invalid_url_is_one_clear_error() -> None:
    with pytest.raises(DatabaseError, match="invalid database URL"):
        connect("not a url")


def test_insert_many_stores_exactly_what_a_core_insert_stores(database_url: str) -> None:
    from datetime import UTC, datetime, timedelta, timezone

    from tracker.db import insert_many, write_transaction
    from tracker.models import Decision

    table = Decision.__table__
    when = datetime(2026, 3, 2, 18, 0, tzinfo=timezone(timedelta(hours=9)))
    row = {"session_id": "s", "symbol": "BTCUSDT", "timestamp": when, "action": "SELL",
           "confidence": 0.25, "risk_level": None, "reasoning": "é [x]",
           "market_condition": None, "is_simulated": True, "agent_types": ["A"],
           "context": {"nested": [1, 2.5, None]}, "prompt_versions": None}
    engine = connect(database_url)
    try:
        with write_transaction(engine) as conn:
            conn.execute(table.insert(), [{**row, "id": 1}])
            insert_many(conn, table, [{**row, "id": 2}])
        with engine.connect() as conn:
            raw = conn.exec_driver_sql(
                "SELECT session_id, symbol, timestamp, action, confidence, risk_level, reasoning,"
                " market_condition, is_simulated, CAST(agent_types AS TEXT),"
                " CAST(context AS TEXT), prompt_versions IS NULL FROM decisions ORDER BY id"
            ).all()
            typed = conn.execute(table.select().order_by(table.c.id)).all()
        assert raw[0] == raw[1]
        assert typed[1].timestamp == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        assert raw[0][-1] in (True, 1)  # SQL NULL, not the JSON text 'null'
    finally:
        engine.dispose()
