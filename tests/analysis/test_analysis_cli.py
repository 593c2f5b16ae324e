"""``promptloop analyze`` through the installed entry point (SQLite; the library tests cover
PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.analysis.conftest import AGENT, UNTIL, _decision, call

UNTIL_ARG = UNTIL.isoformat()


@pytest.fixture
def db(tmp_path: Path) -> str:
    from tracker import DecisionTracker

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    tracker = DecisionTracker(url)
    specs = [
        call(5, "BUY", 0.8, 0.02, rsi=40, macd=0.3, reasoning="Breakout [bold]above[/bold] it"),
        call(4, "SELL", 0.8, -0.02, rsi=41, macd=0.2,
             reasoning="Bullish rally, [bold]strong demand[/bold]"),
        call(3, "HOLD", 0.5, 0.001, condition="sideways"),
        call(6, "SELL", 0.3, 0.01, agent="RiskManager", condition="bearish"),
        call(7, "BUY", 0.9, -0.03, agent="TradingAdvisor"),
    ]
    ids = tracker.track_decisions([_decision(s, n) for n, s in enumerate(specs)])
    for decision_id, spec in zip(ids, specs, strict=True):
        tracker.track_decision_outcome(decision_id, "return_24h", spec["r"])
    tracker.close()
    return url


def _json(run_cli, db: str, *args: str) -> dict:
    result = run_cli("analyze", "--database-url", db, "--until", UNTIL_ARG, "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_json_has_the_documented_shape(run_cli, db) -> None:
    report = _json(run_cli, db, "--agents", AGENT, "RiskManager")
    assert list(report) == ["window", "parameters", "overall", "agents", "stored_metrics"]
    assert report["window"] == {"start": "2026-01-30T00:00:00+00:00", "end": UNTIL_ARG}
    assert list(report["agents"]) == [AGENT, "RiskManager"]
    block = report["agents"][AGENT]
    for key in ("decisions", "with_outcome", "accuracy", "calibration", "by_market_condition",
                "by_prompt_version", "inconsistencies", "suggestions", "over_time"):
        assert key in block, key
    assert set(block["calibration"]) >= {"brier", "ece", "bins", "verdict", "warnings"}
    assert set(block["calibration"]["bins"][0]) >= {"lo", "hi", "count", "mean_confidence",
                                                     "accuracy"}
    assert set(block["by_market_condition"]["bullish"]) >= {"decisions", "accuracy", "actions"}
    version = block["by_prompt_version"]["a" * 40]
    assert set(version) >= {"version", "decisions", "accuracy", "ci_low", "ci_high"}
    assert block["inconsistencies"][0].keys() == {"kind", "decision_ids", "detail"}
    assert (block["decisions"], block["with_outcome"], block["accuracy"]) == (3, 3, 1.0)


@pytest.mark.parametrize(
    "args",
    [("--agents", f"{AGENT} RiskManager"), ("--agents", f"{AGENT},RiskManager"),
     ("--agents", AGENT, "--agents", "RiskManager"), (AGENT, "RiskManager")],
)
def test_agents_can_be_named_every_way(run_cli, db, args) -> None:
    assert list(_json(run_cli, db, "--no-store", *args)["agents"]) == [AGENT, "RiskManager"]


def test_all_agents_by_default(run_cli, db) -> None:
    assert list(_json(run_cli, db)["agents"]) == [AGENT, "RiskManager", "TradingAdvisor"]


def test_terminal_report(run_cli, db) -> None:
    result = run_cli("analyze", "--database-url", db, "--until", UNTIL_ARG, "--agents", AGENT,
                     env={"COLUMNS": "160"})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Performance from 2026-01-30T00:00 to 2026-03-01T00:00 UTC" in out
    for heading in ("Summary", "By market condition", "By prompt version",
                    "Reliability (calls with an outcome)", "Accuracy over time"):
        assert heading in out, heading
    assert "Calibration: too few calls with an outcome to conclude (n=3 < 30)" in out
    # reasoning text is shown as written, brackets included (escaped for rich)
    assert ('the reasoning reads bullish (bullish, rally, strong demand): '
            '"Bullish rally, [bold]strong demand[/bold]"') in out
    assert "➜ MarketAnalyst: 1 confident (>= 0.7) reversal on near-identical inputs" in out


def test_metrics_are_stored_unless_told_not_to(run_cli, db) -> None:
    import sqlalchemy as sa

    def count() -> int:
        engine = sa.create_engine(db)
        with engine.connect() as conn:
            n = conn.execute(sa.text("SELECT count(*) FROM performance_metrics")).scalar_one()
        engine.dispose()
        return int(n)

    assert _json(run_cli, db, "--no-store")["stored_metrics"] == 0
    assert count() == 0
    stored = _json(run_cli, db)["stored_metrics"]
    assert stored > 0 and count() == stored
    text = run_cli("analyze", "--database-url", db, "--until", UNTIL_ARG).stdout.splitlines()
    assert text[1] == f"Stored {stored} metrics in performance_metrics (--no-store to skip)"
    assert count() == 2 * stored
    quiet = run_cli("analyze", "--database-url", db, "--until", UNTIL_ARG, "--no-store")
    assert "performance_metrics" not in quiet.stdout


def test_html_file(run_cli, db, tmp_path) -> None:
    target = tmp_path / "report.html"
    result = run_cli("analyze", "--database-url", db, "--until", UNTIL_ARG, "--html",
                     str(target), "--no-store")
    assert result.returncode == 0, result.stderr
    assert f"Wrote the HTML report to {target}" in result.stderr
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and 'id="report-data"' in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")  # nothing remote


@pytest.mark.parametrize(
    ("args", "message"),
    [(("--days", "0"), "Invalid value for '--days'"),
     (("--until", "yesterday"), "not an ISO 8601 date or time"),
     (("--band", "-1"), "Invalid value for '--band'")],
)
def test_bad_options_are_usage_errors(run_cli, db, args, message) -> None:
    result = run_cli("analyze", "--database-url", db, *args)
    assert result.returncode == 2
    assert message in result.stderr


def test_workspace_settings_and_version_names(run_cli, workspace: Path) -> None:
    from prompt_repo import PromptRepo, load_workspace
    from tracker import DecisionTracker

    ws = load_workspace(workspace)
    with PromptRepo(ws) as repo:
        agent = repo.agents()[0]
        sha = repo.read(agent).sha
    with (workspace / "promptloop.toml").open("a", encoding="utf-8") as handle:
        handle.write("\n[analysis]\nband = 0.02\n")
    tracker = DecisionTracker(ws.database_url)
    ids = tracker.track_decisions([_decision(call(5, "HOLD", 0.6, agent=agent, sha=sha), 0)])
    tracker.track_decision_outcome(ids[0], "return_24h", 0.015)
    tracker.close()
    result = run_cli("analyze", "--until", UNTIL_ARG, "--json", cwd=workspace)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["parameters"]["band"] == 0.02
    block = report["agents"][agent]
    assert block["accuracy"] == 1.0  # |1.5%| is inside the 2% band: the HOLD was right
    assert block["by_prompt_version"][sha]["version"] == "v1"


def test_an_unknown_agent_is_refused_naming_the_known(run_cli, db) -> None:
    result = run_cli("analyze", "--database-url", db, "--until", UNTIL_ARG, "--agents",
                     f"{AGENT},Nobody")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == (
        "Error: unknown agent Nobody: neither configured nor recorded "
        "(known: MarketAnalyst, RiskManager, TradingAdvisor)"
    )


def test_a_configured_agent_without_calls_is_reported(run_cli, workspace: Path) -> None:
    from prompt_repo import load_workspace

    agent = next(iter(load_workspace(workspace).agents))
    result = run_cli("analyze", "--until", UNTIL_ARG, "--json", "--no-store", agent,
                     cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["agents"][agent]["decisions"] == 0


def test_at_80_columns_no_header_is_cut(run_cli, db) -> None:
    result = run_cli("analyze", "--database-url", db, "--until", UNTIL_ARG, "--no-store",
                     env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    words = set(result.stdout.split())
    for header in ("calls", "outc.", "acc.", "ret.", "Brier", "ECE", "gap", "inc.",
                   "condition", "with", "outcome", "accuracy", "BUY", "SELL", "HOLD",
                   "version", "95%", "interval", "used", "confidence", "mean", "conf.", "vs"):
        assert header in words, header
    assert "…" not in result.stdout


def test_an_empty_window_over_older_data_hints_until(run_cli, db) -> None:
    result = run_cli("analyze", "--database-url", db, "--no-store", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["overall"]["decisions"] == 0
    assert result.stderr == ("Note: no decisions in this window; the newest is from "
                             "2026-02-28 21:00 UTC: try --until 2026-03-01\n")
    assert run_cli("analyze", "--database-url", db, "--no-store", "--json", "--until",
                   UNTIL_ARG).stderr == ""
