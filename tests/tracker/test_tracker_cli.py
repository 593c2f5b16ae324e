"""The tracker commands, run as a user runs them (the installed entry point)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tracker_support import count_rows

LINE = ('{"session_id": "bot-7", "symbol": "BTCUSDT", "timestamp": "2026-03-02T09:00:00Z", '
        '"action": "BUY", "confidence": 0.8, "agent_outputs": [{"agent": "MarketAnalyst", '
        '"action": "BUY", "confidence": 0.9, "prompt_sha": "%s"}]}' % ("a" * 40))


def _line(hour: int, **changes) -> str:
    data = json.loads(LINE)
    data["timestamp"] = f"2026-03-02T{hour:02d}:00:00Z"
    data.update(changes)
    return json.dumps(data)


@pytest.fixture
def db(database_url: str) -> list[str]:
    return ["--database-url", database_url]


def _tracker(url: str):
    from tracker import DecisionTracker

    return DecisionTracker(url)


def test_record_json_lines_from_stdin(run_cli, db, database_url) -> None:
    text = "\n".join(_line(h) for h in (9, 10, 11)) + "\n"
    result = run_cli("record", *db, input=text)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Recorded 3 decisions (ids 1..3).\n"
    tracker = _tracker(database_url)
    try:
        record = tracker.decision(1)
        assert record.session_id == "bot-7" and record.outputs[0]["confidence"] == 0.9
        assert record.agent_types == ["MarketAnalyst"]
    finally:
        tracker.close()


def test_record_array_and_object_from_a_file(run_cli, db, tmp_path: Path) -> None:
    array = tmp_path / "batch.json"
    array.write_text(json.dumps([json.loads(_line(9)), json.loads(_line(10))], indent=2))
    result = run_cli("record", str(array), *db, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"recorded": 2, "ids": [1, 2]}
    single = tmp_path / "one.json"
    single.write_text(json.dumps(json.loads(_line(11)), indent=2))
    result = run_cli("record", str(single), *db)
    assert result.stdout == "Recorded 1 decision (id 3).\n"


def test_malformed_line_refuses_the_whole_batch(run_cli, db, database_url) -> None:
    text = "\n".join([_line(9), _line(10), '{"session_id": "bot-7", "symbol": ', _line(12)])
    result = run_cli("record", *db, input=text)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == ("Error: line 3: not valid JSON (Expecting value at column 35); "
                             "nothing was recorded\n")
    tracker = _tracker(database_url)
    try:
        assert count_rows(tracker.engine, "decisions") == 0
    finally:
        tracker.close()


def test_invalid_record_names_its_line(run_cli, db, database_url) -> None:
    text = "\n".join([_line(9), "", _line(10, confidence="high")])
    result = run_cli("record", *db, input=text)
    assert result.returncode == 1
    assert result.stderr == "Error: line 3: confidence: expected a number, got 'high'\n"
    tracker = _tracker(database_url)
    try:
        assert count_rows(tracker.engine, "decisions") == 0
    finally:
        tracker.close()


def test_outcome_command(run_cli, db) -> None:
    run_cli("record", *db, input=_line(9))
    result = run_cli("outcome", "1", "--type", "return", "--value", "0.012",
                     "--details", '{"source": "exchange"}', *db)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Recorded outcome 1 (return = 0.012) for decision 1.\n"
    again = run_cli("outcome", "1", "--type", "return", "--value", "0.5", *db)
    assert again.returncode == 1
    assert again.stderr == "Error: decision 1 already has an outcome of type 'return'\n"
    missing = run_cli("outcome", "42", "--value", "0.1", *db)
    assert (missing.returncode, missing.stderr) == (1, "Error: no decision with id 42\n")
    bad = run_cli("outcome", "1", "--value", "0.1", "--details", "[1]", *db)
    assert bad.returncode == 2 and "expected a JSON object" in bad.stderr


def test_decisions_listing_and_json(run_cli, db) -> None:
    lines = [_line(9), _line(10, symbol="ETHUSDT"),
             _line(11, agent_outputs=[{"agent": "RiskManager", "error": "timeout"}])]
    run_cli("record", *db, input="\n".join(lines))
    run_cli("outcome", "1", "--value", "0.02", *db)

    listed = run_cli("decisions", *db, "--json")
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    assert [d["id"] for d in data] == [3, 2, 1]
    assert set(data[0]) == {"id", "session_id", "symbol", "timestamp", "action", "confidence",
                            "risk_level", "reasoning", "market_condition", "is_simulated",
                            "agent_types", "context", "prompt_versions", "outputs", "outcomes",
                            "external_id"}
    assert data[2]["outcomes"]["return_24h"]["value"] == 0.02
    assert data[0]["outputs"][0]["error"] == "timeout"

    by_symbol = json.loads(run_cli("decisions", *db, "--symbol", "ETHUSDT", "--json").stdout)
    assert [d["id"] for d in by_symbol] == [2]
    by_agent = json.loads(run_cli("decisions", *db, "--agent", "RiskManager", "--json").stdout)
    assert [d["id"] for d in by_agent] == [3]
    table = run_cli("decisions", *db, env={"COLUMNS": "200"})
    assert table.returncode == 0, table.stderr
    for text in ("2026-03-02 11:00", "ETHUSDT", "RiskManager: error", "MarketAnalyst: BUY 0.90",
                 "return_24h=+0.0200"):
        assert text in table.stdout


def test_decisions_days_window(run_cli, db) -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    old = (now - timedelta(days=3)).isoformat()
    run_cli("record", *db, input="\n".join([_line(9, timestamp=old),
                                           _line(9, timestamp=now.isoformat())]))
    recent = json.loads(run_cli("decisions", *db, "--days", "1", "--json").stdout)
    assert [d["id"] for d in recent] == [2]
    assert len(json.loads(run_cli("decisions", *db, "--json").stdout)) == 2


def test_outcomes_resolve_command(run_cli, db, tmp_path: Path) -> None:
    run_cli("record", *db, input="\n".join([_line(9), _line(11)]))
    prices = tmp_path / "btc.csv"
    prices.write_text("timestamp,open,high,low,close,volume\n"
                      "2026-03-02T09:00:00Z,100,1,1,1,1\n"
                      "2026-03-03T09:00:00Z,99,1,1,1,1\n")
    args = ["outcomes", "resolve", "--horizon", "24h", "--prices", str(prices),
            "--symbol", "BTCUSDT", *db]
    first = run_cli(*args)
    assert first.returncode == 0, first.stderr
    assert first.stdout == ("Resolved 1 of 2 decisions without return_24h; "
                            "1 still pending (no price yet).\n")
    second = run_cli(*args, "--json")
    assert json.loads(second.stdout) == {"outcome_type": "return_24h", "examined": 1,
                                         "resolved": 0, "pending": 1}
    outcome = json.loads(run_cli("decisions", *db, "--json").stdout)[1]["outcomes"]
    assert outcome["return_24h"]["value"] == pytest.approx(-0.01)
    assert outcome["return_24h"]["details"]["correct"] is False


def test_bad_prices_file_is_one_line(run_cli, db, tmp_path: Path) -> None:
    prices = tmp_path / "bad.csv"
    prices.write_text("time,price\n1,2\n")
    result = run_cli("outcomes", "resolve", "--prices", str(prices), *db)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1


def test_workspace_database_is_used_by_default(run_cli, workspace: Path) -> None:
    result = run_cli("-C", str(workspace), "record", input=_line(9))
    assert result.returncode == 0, result.stderr
    assert (workspace / ".promptloop" / "tracker.db").is_file()
    current = run_cli("-C", str(workspace), "db", "current", "--json")
    assert json.loads(current.stdout) == {"current": "0004", "head": "0004", "up_to_date": True}


def test_environment_overrides_the_workspace(run_cli, workspace: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere.db"
    result = run_cli("-C", str(workspace), "record", input=_line(9),
                     env={"PROMPTLOOP_DATABASE_URL": f"sqlite:///{other}"})
    assert result.returncode == 0, result.stderr
    assert other.is_file() and not (workspace / ".promptloop" / "tracker.db").exists()


def test_no_workspace_and_no_url(run_cli, tmp_path: Path) -> None:
    result = run_cli("decisions", cwd=tmp_path)
    assert result.returncode == 1
    assert "promptloop.toml" in result.stderr and "promptloop init" in result.stderr


def test_db_current_on_an_empty_database(run_cli, db) -> None:
    result = run_cli("db", "current", *db)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "No tracker schema yet (newest revision: 0004); any command creates it.\n")
