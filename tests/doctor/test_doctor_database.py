"""doctor's database checks on real SQLite and PostgreSQL: the newest schema passes and
its round trip leaves no row; an old schema fails with the upgrade command; a dead server
fails with the setting to fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from agents.doctor import DoctorOptions, run_checks
from tracker import DecisionTracker
from tracker.db import create_engine, head_revision, upgrade_schema


def db_checks(workspace: Path) -> dict:
    checks = run_checks(workspace, DoctorOptions(offline=True))
    return {c.name: c for c in checks if c.name.startswith("database")}


def count_decisions(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM decisions")).scalar_one())
    finally:
        engine.dispose()


@pytest.fixture
def use_database(monkeypatch: pytest.MonkeyPatch, database_url: str) -> str:
    monkeypatch.setenv("PROMPTLOOP_DATABASE_URL", database_url)
    return database_url


def test_round_trip_leaves_no_row(workspace: Path, use_database: str) -> None:
    DecisionTracker(use_database).close()  # create the schema at the head revision
    checks = db_checks(workspace)
    assert checks["database"].status == "ok"
    assert checks["database"].detail.endswith(f"at schema revision {head_revision()} (newest)")
    trip = checks["database round trip"]
    assert trip.status == "ok", trip.detail
    assert trip.detail.endswith("rolled back (nothing stays)")
    assert count_decisions(use_database) == 0


def test_an_old_schema_fails_with_the_upgrade_command(workspace: Path, use_database: str) -> None:
    engine = create_engine(use_database)
    upgrade_schema(engine, "0001")
    engine.dispose()
    checks = db_checks(workspace)
    assert checks["database"].status == "fail"
    assert f"at schema revision 0001, this promptloop's newest is {head_revision()}" in (
        checks["database"].detail)
    assert checks["database"].fix == "promptloop db upgrade"
    assert checks["database round trip"].status == "skipped"
    engine = create_engine(use_database)
    with engine.connect() as conn:  # doctor upgraded nothing
        version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    engine.dispose()
    assert version == "0001"


def test_no_database_yet_is_fine_and_not_created(workspace: Path) -> None:
    checks = db_checks(workspace)
    assert checks["database"].status == "ok" and "not created yet" in checks["database"].detail
    assert checks["database round trip"].status == "skipped"
    assert not (workspace / ".promptloop").exists()


def test_a_dead_server_fails_with_the_setting_to_fix(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, dead_url: str
) -> None:
    port = dead_url.split(":")[2].split("/")[0]
    monkeypatch.setenv("PROMPTLOOP_DATABASE_URL", f"postgresql+psycopg://u@127.0.0.1:{port}/x")
    checks = db_checks(workspace)
    assert checks["database"].status == "fail"
    assert checks["database"].fix and "PROMPTLOOP_DATABASE_URL" in checks["database"].fix
    assert checks["database round trip"].status == "skipped"


def test_a_failing_write_is_reported(workspace: Path, use_database: str) -> None:
    DecisionTracker(use_database).close()
    engine = create_engine(use_database)
    with engine.begin() as conn:  # a database where decisions cannot be written
        conn.execute(sa.text("DROP TABLE outcomes"))
        conn.execute(sa.text("DROP TABLE agent_outputs"))
        conn.execute(sa.text("DROP TABLE decisions"))
    engine.dispose()
    trip = db_checks(workspace)["database round trip"]
    assert trip.status == "fail" and trip.detail.startswith("write/read failed:")


def test_a_schema_newer_than_this_code(workspace: Path, use_database: str) -> None:
    DecisionTracker(use_database).close()
    engine = create_engine(use_database)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    engine.dispose()
    checks = db_checks(workspace)
    assert checks["database"].status == "fail" and "9999_future" in checks["database"].detail
    assert checks["database"].fix == "upgrade promptloop, or use another database"
    assert checks["database round trip"].status == "skipped"
