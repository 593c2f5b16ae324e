"""The tracker commands, run as a user runs them (the installed entry point)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tracker_support import count_rows

PROMPTLOOP = str(Path(sys.executable).with_name("promptloop"))  # for bytes in and stdin closed

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
                 "return_24h: +0.0200"):
        assert text in table.stdout


def test_decisions_at_80_columns_fit_with_whole_headers(run_cli, db) -> None:
    run_cli("record", *db, input="\n".join([_line(9), _line(10)]))
    run_cli("outcome", "1", "--value", "0.02", *db)
    table = run_cli("decisions", *db, env={"COLUMNS": "80"})
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["id", "time", "(UTC)", "symbol", "action", "conf.",
                                "condition", "agents", "outcomes"]
    assert max(map(len, lines)) <= 80
    assert "MarketAnalyst:" in table.stdout.split()  # an agent's name is not cut either


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
    one = run_cli(*args)
    assert one.stdout == ("Resolved 0 of 1 decision without return_24h; "
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


def test_prices_sample_resolves_from_the_bundled_candles(run_cli, db) -> None:
    run_cli("record", *db, input=_line(9, timestamp="2019-06-01T10:30:00Z"))
    result = run_cli("outcomes", "resolve", "--prices", "sample", *db, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"outcome_type": "return_24h", "examined": 1,
                                         "resolved": 1, "pending": 0}


def test_a_missing_prices_file_names_the_sample(run_cli, db, tmp_path: Path) -> None:
    result = run_cli("outcomes", "resolve", "--prices", str(tmp_path / "BTCUSDT-1h.csv"), *db)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        f"Error: Invalid value for '--prices': no such file: '{tmp_path / 'BTCUSDT-1h.csv'}' "
        "(the bundled sample is --prices sample)"
    )
    help_text = " ".join(run_cli("outcomes", "resolve", "--help").stdout.split())
    assert "or 'sample': the bundled hourly BTC-USD candles of 2019-04-01..2019-09-30" in help_text
    assert "(agents/data/BTCUSD_coinbase_1h.csv), read as BTCUSDT" in help_text


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


# --- bad input: one line, exit 1, nothing written, the same on SQLite and PostgreSQL ------

DEEP = '"context": ' + "[" * 100_000 + "]" * 100_000
BAD_INPUT = [
    (b'{"reasoning": "ok"}\n{"reasoning": "caf\xe9"}\n',  # Latin-1, not UTF-8
     "line 2: not valid UTF-8 (byte 0xe9 at byte 19); nothing was recorded"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "line 1: not valid UTF-8 (byte 0x89 at byte 1); "
     "nothing was recorded"),
    (_line(8) + "\n" + _line(9)[:-1] + ', "reasoning": "up \\ud800"}',
     "line 2: reasoning: contains a lone surrogate (\\ud800) at character 3, which is not "
     "valid Unicode"),
    (_line(8) + "\n" + _line(9)[:-1] + ", " + DEEP + "}",
     "line 2: nested deeper than 32 levels; nothing was recorded"),
    ("\n".join([_line(9), _line(10, agent_outputs=[{"agent": "MarketAnalyst", "action": "BUY",
                                                    "confidence": 0.9,
                                                    "prompt_tokens": 10**30}])]),
     "line 2: agent_outputs[0]: prompt_tokens: 1000000000000000000000000000000 is larger than "
     "the largest count stored, 2147483647"),
    ("\n".join([_line(9), _line(10), _line(11)[:-1] + ', "context": {"indicators": '
                                                      '{"rsi": NaN}}}']),
     "line 3: context.indicators.rsi: NaN is not a finite number"),
    ("\n".join([_line(7), _line(8), _line(9)[:-1] + ', "reasoning": "up\\u0000down"}']),
     "line 3: reasoning: contains a NUL character (\\u0000) at character 2"),
]


@pytest.mark.parametrize(("data", "message"), BAD_INPUT,
                         ids=["utf8", "binary", "surrogate", "deep", "huge-int", "nan", "nul"])
def test_bad_record_input_is_one_line_and_writes_nothing(db, database_url, data, message) -> None:
    data = data if isinstance(data, bytes) else data.encode()
    result = subprocess.run([PROMPTLOOP, "record", *db], input=data, capture_output=True,
                            timeout=120)
    assert (result.returncode, result.stdout) == (1, b"")
    assert result.stderr.decode() == f"Error: {message}\n"
    _assert_empty(database_url)


def test_record_with_stdin_closed_is_one_line(db) -> None:
    result = subprocess.run(["sh", "-c", '"$0" "$@" <&-', PROMPTLOOP, "record", *db],
                            capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == ("Error: no input: stdin is closed; name a file or pipe the "
                             "records in\n")
    outcome = subprocess.run(["sh", "-c", '"$0" "$@" <&-', PROMPTLOOP, "outcome", "1",
                              "--value", "0.1", *db], capture_output=True, text=True, timeout=120)
    assert (outcome.returncode, outcome.stderr) == (1, "Error: no decision with id 1\n")


def test_unstorable_outcome_is_one_line_and_writes_nothing(run_cli, db, database_url) -> None:
    run_cli("record", *db, input=_line(9))
    details = run_cli("outcome", "1", "--value", "0.1", "--details", '{"fill": [1, NaN]}', *db)
    assert (details.returncode, details.stdout) == (1, "")
    assert details.stderr == "Error: outcome: details.fill[1]: NaN is not a finite number\n"
    value = run_cli("outcome", "1", "--value", "inf", *db)
    assert value.stderr == "Error: outcome: outcome_value: Infinity is not a finite number\n"
    huge = run_cli("outcome", "9" * 30, "--value", "0.1", *db)
    assert (huge.returncode, huge.stderr) == (1, f"Error: no decision with id {'9' * 30}\n")
    tracker = _tracker(database_url)
    try:
        assert count_rows(tracker.engine, "outcomes") == 0
    finally:
        tracker.close()


def _assert_empty(url: str) -> None:
    tracker = _tracker(url)
    try:
        assert count_rows(tracker.engine, "decisions") == 0
        assert count_rows(tracker.engine, "agent_outputs") == 0
    finally:
        tracker.close()


def test_sqlite_url_in_a_missing_folder_is_refused_naming_it(run_cli, tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent" / "dir"
    result = run_cli("record", "--database-url", f"sqlite:///{missing}/x.db", input=_line(9))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (f"Error: cannot open sqlite:///{missing}/x.db: the folder "
                             f"{missing} does not exist; create it first or fix the path\n")
    assert not (tmp_path / "nonexistent").exists()
