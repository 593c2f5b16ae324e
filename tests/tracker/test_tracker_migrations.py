"""Schema upgrades keep the user's rows: write at the first revision, upgrade, read back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tracker import DecisionTracker
from tracker.db import create_engine, current_revision, head_revision, upgrade_schema

FIRST = "0001"
WHEN = datetime(2026, 1, 5, 12, 30, tzinfo=UTC)


def _write_rows_at_first_revision(url: str) -> None:
    """Rows as the first revision stores them, through tables reflected from that schema."""
    engine = create_engine(url)
    upgrade_schema(engine, FIRST)
    assert current_revision(engine) == FIRST
    when = WHEN if engine.dialect.name == "postgresql" else WHEN.replace(tzinfo=None)
    meta = sa.MetaData()
    with engine.begin() as conn:
        tables = {name: sa.Table(name, meta, autoload_with=conn)
                  for name in ("decisions", "agent_outputs", "outcomes", "performance_metrics",
                               "optimization_runs")}
        conn.execute(tables["decisions"].insert(), [
            {"id": n, "session_id": "old", "symbol": "ETHUSDT", "timestamp": when,
             "action": "SELL", "confidence": 0.25 * n, "risk_level": "HIGH", "reasoning": "r",
             "market_condition": "ranging", "is_simulated": True, "agent_types": ["A", "B"],
             "context": {"price": n}, "prompt_versions": {"A": "s" * 40}}
            for n in (1, 2)
        ])
        conn.execute(tables["agent_outputs"].insert(), {
            "decision_id": 1, "agent": "A", "timestamp": when, "action": "SELL",
            "confidence": 0.4, "raw_output": "{}", "prompt_tokens": 10})
        conn.execute(tables["agent_outputs"].insert(), {
            "decision_id": 1, "agent": "B", "timestamp": when, "error": "timeout"})
        conn.execute(tables["outcomes"].insert(), {
            "decision_id": 1, "outcome_type": "return_24h", "outcome_value": -0.02,
            "timestamp": when, "details": {"band": 0.005}})
        conn.execute(tables["performance_metrics"].insert(), {
            "agent_type": "A", "metric_name": "accuracy", "metric_value": 0.5, "timestamp": when,
            "start_date": when, "end_date": when})
        conn.execute(tables["optimization_runs"].insert(), {
            "run_id": "r1", "agent": "A", "timestamp": when, "status": "applied",
            "engine": "llm", "llm_calls": 2, "prompt_tokens": 5, "completion_tokens": 6,
            "failure_case_ids": ["d1"]})
    engine.dispose()


def test_upgrade_from_the_first_revision_keeps_every_row(database_url: str) -> None:
    _write_rows_at_first_revision(database_url)

    tracker = DecisionTracker(database_url)  # opening an old database upgrades it
    try:
        notice = tracker.upgrade_notice
        assert notice is not None
        assert (notice.from_revision, notice.to_revision) == (FIRST, head_revision())
        assert "from revision 0001 to 0004" in str(notice)

        first, second = sorted(tracker.decisions(), key=lambda r: r.id)
        assert (first.symbol, first.timestamp, first.confidence, first.is_simulated) == (
            "ETHUSDT", WHEN, 0.25, True)
        assert (first.agent_types, first.context, first.prompt_versions) == (
            ["A", "B"], {"price": 1}, {"A": "s" * 40})
        assert [(o["agent"], o["action"], o["error"]) for o in first.outputs] == [
            ("A", "SELL", None), ("B", None, "timeout")]
        assert first.outcomes["return_24h"]["value"] == -0.02
        assert first.outcomes["return_24h"]["details"] == {"band": 0.005}
        assert second.confidence == 0.5 and second.outputs == []
        assert tracker.optimization_runs()[0]["failure_case_ids"] == ["d1"]
        with tracker.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM performance_metrics").scalar() == 1
    finally:
        tracker.close()


def test_the_upgraded_schema_enforces_the_new_checks(database_url: str) -> None:
    _write_rows_at_first_revision(database_url)
    tracker = DecisionTracker(database_url)
    try:
        with pytest.raises(IntegrityError), tracker.engine.begin() as conn:
            conn.exec_driver_sql(  # neither an answer nor an error: refused since 0002
                "INSERT INTO agent_outputs (decision_id, agent, timestamp) "
                "VALUES (2, 'C', '2026-01-05 12:30:00')"
            )
        with pytest.raises(IntegrityError), tracker.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO agent_outputs (decision_id, agent, timestamp, action, confidence)"
                " VALUES (2, 'C', '2026-01-05 12:30:00', 'BUY', 1.5)"
            )
        with pytest.raises(IntegrityError), tracker.engine.begin() as conn:
            conn.exec_driver_sql(  # the foreign key survived the SQLite table copy
                "INSERT INTO agent_outputs (decision_id, agent, timestamp, error)"
                " VALUES (999, 'C', '2026-01-05 12:30:00', 'x')"
            )
    finally:
        tracker.close()


def test_db_upgrade_command_reports_the_upgrade(database_url: str, run_cli, tmp_path) -> None:
    _write_rows_at_first_revision(database_url)
    current = run_cli("db", "current", "--database-url", database_url)
    assert current.returncode == 0, current.stderr
    assert current.stdout == "Schema revision 0001; newest is 0004: run 'promptloop db upgrade'.\n"

    upgraded = run_cli("db", "upgrade", "--database-url", database_url, "--json")
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.replace(" ", "").replace("\n", "") == (
        '{"upgraded":true,"from":"0001","to":"0004"}')
    again = run_cli("db", "upgrade", "--database-url", database_url)
    assert again.stdout == "Already at the newest schema revision (0004).\n"


def test_a_command_opening_an_old_database_prints_the_notice(database_url: str, run_cli) -> None:
    _write_rows_at_first_revision(database_url)
    listed = run_cli("decisions", "--database-url", database_url, "--json")
    assert listed.returncode == 0, listed.stderr
    assert "Note: upgraded the tracker schema" in listed.stderr
    assert "from revision 0001 to 0004" in listed.stderr
    assert '"session_id": "old"' in listed.stdout
