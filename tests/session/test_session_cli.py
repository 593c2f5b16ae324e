"""``promptloop session run`` and ``promptloop backtest`` through the installed entry point,
against a stub OpenAI-compatible server on 127.0.0.1 (the subprocess is out of respx's
reach)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from prompt_repo import load_workspace
from tracker import DecisionTracker


def team_answers(request: dict) -> str:
    agent = request["messages"][0]["content"].splitlines()[0].lstrip("# ").strip()
    action, risk = {"MarketAnalyst": ("BUY", "LOW"), "RiskManager": ("BUY", "MEDIUM"),
                    "TradingAdvisor": ("BUY", "LOW")}[agent]
    return json.dumps({"action": action, "confidence": 0.7, "risk_level": risk,
                       "reasoning": f"{agent} [sees] an uptrend"})


@pytest.fixture
def env(stub_llm) -> dict[str, str]:
    stub_llm.responder = team_answers
    return {"OPENAI_BASE_URL": stub_llm.url, "OPENAI_API_KEY": "sk-test"}


def decisions(workspace: Path) -> list:
    return DecisionTracker(load_workspace(workspace).database_url).decisions()


def test_session_run_json(run_cli, workspace: Path, env, stub_llm) -> None:
    result = run_cli("-C", str(workspace), "session", "run", "--at", "2019-06-01 12:00",
                     "--json", env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["session_id", "symbol", "timestamp", "decision_id", "action",
                          "confidence", "risk_level", "reasoning", "market_condition",
                          "vetoed", "outputs", "shadow_outputs"]
    assert (data["action"], data["risk_level"], data["vetoed"]) == ("BUY", "MEDIUM", False)
    assert data["timestamp"] == "2019-06-01T12:00:00+00:00"
    assert [o["agent"] for o in data["outputs"]] == ["MarketAnalyst", "RiskManager",
                                                     "TradingAdvisor"]
    assert len(stub_llm.requests) == 3
    [record] = decisions(workspace)
    assert record.id == data["decision_id"] and len(record.outputs) == 3


def test_session_run_table_and_no_track(run_cli, workspace: Path, env) -> None:
    result = run_cli("-C", str(workspace), "session", "run", "--no-track", env=env)
    assert result.returncode == 0, result.stderr
    assert "MarketAnalyst [sees] an uptrend" in result.stdout  # escaped, not eaten as markup
    assert re.search(r"Decision: BUY confidence 0\.70, risk MEDIUM, market \w+ at 2019-10-01",
                     result.stdout)
    assert "Not recorded (--no-track)." in result.stdout
    assert decisions(workspace) == []


def test_session_run_without_llm_is_one_clear_error(run_cli, workspace: Path) -> None:
    result = run_cli("-C", str(workspace), "session", "run")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: no LLM configured: set OPENAI_API_KEY")
    assert result.stdout == ""


def test_unknown_source_is_refused(run_cli, workspace: Path, env) -> None:
    result = run_cli("-C", str(workspace), "session", "run", "--source", "ftp:x", env=env)
    assert result.returncode == 1
    assert "Error: unknown market source 'ftp:x'" in result.stderr


def test_backtest_stopped_by_budget_resumes(run_cli, workspace: Path, env, stub_llm) -> None:
    config = workspace / "promptloop.toml"
    original = config.read_text()
    config.write_text(original.replace("[llm]\n", "[llm]\nmax_calls = 9\n", 1))
    args = ("-C", str(workspace), "backtest", "--from", "2019-08-01", "--to",
            "2019-08-02 12:00", "--every", "6h")
    stopped = run_cli(*args, env=env)
    assert stopped.returncode == 1
    assert "Error: LLM budget spent" in stopped.stderr and "max_calls is 9" in stopped.stderr
    assert len(decisions(workspace)) == 3 and len(stub_llm.requests) == 9

    config.write_text(original)
    resumed = run_cli(*args, "--json", env=env)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert (summary["planned"], summary["skipped"], summary["ran"]) == (7, 3, 4)
    assert summary["outcomes"] == 7 and summary["failed"] == 0
    records = decisions(workspace)
    assert len(records) == 7 and len({r.timestamp for r in records}) == 7
    assert all(r.is_simulated and r.session_id == summary["session_id"] for r in records)
    assert len(stub_llm.requests) == 9 + 12

    again = run_cli(*args, env=env)
    assert again.returncode == 0
    assert (f"Backtest {summary['session_id']}: 7 moments, 7 already recorded, 0 sessions"
            " recorded, 0 without a decision; 0 outcomes resolved.") in again.stdout


def test_session_without_a_decision_shows_outputs_and_fails(run_cli, workspace: Path,
                                                          env, stub_llm) -> None:
    def advisor_rambles(request: dict) -> str:
        if "# TradingAdvisor" in request["messages"][0]["content"]:
            return "Honestly, [bold]who knows[/bold]."
        return team_answers(request)

    stub_llm.responder = advisor_rambles
    result = run_cli("-C", str(workspace), "session", "run", env=env)
    assert result.returncode == 1
    assert "MarketAnalyst BUY confidence 0.70 risk LOW" in result.stderr
    assert "TradingAdvisor error" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith(
        "Error: TradingAdvisor gave no usable answer, so the team has no decision")
    assert decisions(workspace) == []
