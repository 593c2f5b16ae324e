"""``promptloop demo`` through the installed entry point: no key, no network, a fresh folder;
its output, the tracker it filled and the git history it left."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from agents.demo_log import SYNTHETIC_PREFIX, synthetic_decisions
from agents.market import load_sample
from agents.session import TeamSpec
from prompt_repo import PromptRepo, load_workspace
from prompt_repo.workspace_init import example_prompt
from tracker import DecisionTracker

TEAM = TeamSpec(("MarketAnalyst", "RiskManager", "TradingAdvisor"), "TradingAdvisor",
                "RiskManager", "HIGH")


def test_demo_runs_the_whole_loop(run_cli, tmp_path: Path) -> None:
    target = tmp_path / "demo"
    result = run_cli("demo", str(target))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    steps = [line for line in out.splitlines() if line[:3] in {f"{n}. " for n in range(1, 8)}]
    assert [line[:2] for line in steps] == ["1.", "2.", "3.", "4.", "5.", "6.", "7."]
    assert steps[0] == f"1. Created a workspace with three example agents in {target}"
    assert "SYNTHETIC decisions (scripted agents, labelled 'synthetic') over REAL" in steps[1]
    assert steps[2].startswith("3. Analyzed accuracy, calibration and consistency per agent")
    assert steps[3].startswith("4. Optimized MarketAnalyst's prompt with the heuristic engine;"
                               " it passed every gate and was applied as commit")
    assert steps[5] == "6. MarketAnalyst's prompt history: every version is a commit"
    assert steps[6].startswith("7. Rolled back to v1 with a new commit")
    assert "+++ b/prompts/MarketAnalyst.md" in out
    assert "overconfident in volatile markets" in out  # what the analysis found
    assert steps[2].endswith("2317 inconsistencies, 17 suggestions")
    assert ("   (6 of 17 suggestions shown, the first 2 per agent; promptloop analyze lists "
            "them all)\n") in out
    assert "\nlower ambiguity is better\n" in out  # under the scores before and after

    ws = load_workspace(target)
    versions = PromptRepo(ws).log("MarketAnalyst")
    assert len(versions) == 3
    assert versions[0].subject.startswith("rollback(MarketAnalyst): restore v1")
    assert versions[1].subject.startswith("optimize(MarketAnalyst)")
    assert versions[1].trailers.get("Promptloop-Engine") == "heuristic"
    text = (target / "prompts" / "MarketAnalyst.md").read_text()
    assert text == example_prompt("MarketAnalyst")
    assert _git(target, "status", "--porcelain") == ""

    tracker = DecisionTracker(ws.database_url)
    records = tracker.decisions(limit=50)
    assert records and all(r.session_id.startswith(SYNTHETIC_PREFIX) for r in records)
    assert all(r.is_simulated and r.context["synthetic"] for r in records)
    assert all(o["reasoning"].startswith("[synthetic]") for r in records for o in r.outputs)
    assert all("return_24h" in r.outcomes for r in records)
    [run] = tracker.optimization_runs(agent="MarketAnalyst")
    assert run["status"] == "applied" and run["engine"] == "heuristic"


def test_demo_json_and_refusing_a_full_folder(run_cli, tmp_path: Path) -> None:
    full = tmp_path / "full"
    full.mkdir()
    (full / "notes.txt").write_text("mine")
    refused = run_cli("demo", str(full))
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f"Error: {full} is not empty; the demo needs a new or empty folder")
    assert sorted(p.name for p in full.iterdir()) == ["notes.txt"]

    result = run_cli("demo", str(tmp_path / "json"), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["root"] == str(tmp_path / "json")
    assert [s["name"] for s in data["steps"]] == ["workspace", "decisions", "analyze",
                                                  "optimize", "diff", "log", "rollback"]
    assert data["steps"][1]["data"]["synthetic"] is True
    assert data["steps"][3]["data"]["applied"] is True


def test_synthetic_log_is_deterministic_labelled_and_flawed() -> None:
    market = load_sample()
    shas = dict.fromkeys(TEAM.order, "a" * 40)
    first = synthetic_decisions(market, "BTCUSDT", shas, TEAM)
    assert first == synthetic_decisions(market, "BTCUSDT", shas, TEAM)
    assert first != synthetic_decisions(market, "BTCUSDT", shas, TEAM, seed=8)
    last_candle = market.all_candles[-1].timestamp
    assert all(d["timestamp"] <= last_candle - timedelta(hours=24) for d in first)
    assert all(d["session_id"].startswith(SYNTHETIC_PREFIX) and d["is_simulated"]
               for d in first)
    for d in first:  # no look-ahead: the snapshot ends at the decision
        assert d["context"]["timestamp"] <= d["timestamp"].isoformat()
    volatile = [d for d in first if d["market_condition"] == "volatile"]
    analyst = [d["agent_outputs"][0]["confidence"] for d in volatile]
    assert volatile and min(analyst) >= 0.88  # the planted overconfidence
    rechecks = [(a, b) for a, b in zip(first, first[1:], strict=False)
                if b["timestamp"] - a["timestamp"] == timedelta(minutes=30)]
    assert rechecks and all(
        {a["agent_outputs"][0]["action"], b["agent_outputs"][0]["action"]} == {"BUY", "SELL"}
        for a, b in rechecks)  # asked twice on the same snapshot, it contradicts itself
    assert all(b["context"]["indicators"] == a["context"]["indicators"] for a, b in rechecks)


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                          check=True).stdout


@pytest.fixture(autouse=True)
def _no_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_demo_with_llm_runs_real_sessions(run_cli, tmp_path: Path, stub_llm) -> None:
    def endpoint(request: dict) -> str:
        user = request["messages"][-1]["content"]
        if "Market snapshot (JSON data)" not in user:  # the critic
            return "Diagnosis: the prompt is fine for these cases.\n\nNO CHANGE"
        return json.dumps({"action": "BUY", "confidence": 0.8, "risk_level": "LOW",
                           "reasoning": "always long"})

    stub_llm.responder = endpoint
    env = {"OPENAI_BASE_URL": stub_llm.url, "OPENAI_API_KEY": "sk-test"}
    result = run_cli("demo", str(tmp_path / "llm"), "--llm", "--sessions", "4", "--json",
                     env=env)
    assert result.returncode == 0, result.stderr
    steps = {s["name"]: s for s in json.loads(result.stdout)["steps"]}
    assert list(steps) == ["workspace", "decisions", "analyze", "optimize"]
    made = steps["decisions"]["data"]
    assert (made["decisions"], made["outcomes"], made["synthetic"]) == (4, 4, False)
    assert steps["optimize"]["data"]["applied"] is False
    agent_calls = [r for r in stub_llm.requests
                   if "Market snapshot" in r["messages"][-1]["content"]]
    assert len(agent_calls) == 12
    records = DecisionTracker(load_workspace(tmp_path / "llm").database_url).decisions()
    assert len(records) == 4 and all(r.session_id.startswith("backtest-") for r in records)


def test_demo_is_offline_even_with_an_endpoint_in_the_environment(run_cli, tmp_path: Path,
                                                                   stub_llm) -> None:
    # A user with a local server has OPENAI_BASE_URL in the shell: the demo (no --llm) must
    # not call it, whether it is up (the stub, which counts requests) or down (a dead port).
    stub_llm.responder = lambda request: "NO CHANGE"
    up = {"OPENAI_BASE_URL": stub_llm.url, "OPENAI_API_KEY": "sk-test"}
    result = run_cli("demo", str(tmp_path / "up"), "--json", env=up)
    assert result.returncode == 0, result.stderr
    steps = {s["name"]: s for s in json.loads(result.stdout)["steps"]}
    assert steps["optimize"]["data"]["engine"] == "heuristic"
    assert steps["optimize"]["data"]["applied"] is True
    assert stub_llm.requests == []

    down = {"OPENAI_BASE_URL": f"http://127.0.0.1:{_dead_port()}/v1", "OPENAI_API_KEY": "sk-x"}
    result = run_cli("demo", str(tmp_path / "down"), env=down, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "it passed every gate and was applied as commit" in result.stdout


def _dead_port() -> int:
    import socket

    with socket.socket() as probe:  # bound then closed: nothing listens there
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
