"""``promptloop compare`` and ``promote`` as a user (or CI) runs them: JSON, the step summary,
exit codes; ``compare --replay`` against the stub OpenAI-compatible server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from llm_stub_server import Reply, StubLLM

from prompt_repo import PromptRepo, load_workspace
from tracker import DecisionTracker

AGENT = "MarketAnalyst"
MARK = "Candidate rule: sell the rips."
DOWN = -0.02


@pytest.fixture
def shas(workspace: Path) -> tuple[str, str]:
    with PromptRepo.open(workspace) as repo:
        repo.labels().pin_production(AGENT)
        old = repo.read(AGENT).sha
        new = repo.apply(AGENT, repo.read(AGENT).text + f"\n{MARK}\n", "candidate")
        repo.labels().set(AGENT, "candidate", new)
    return old, new


def record(workspace: Path, shas: tuple[str, str], b_actions: list[str]) -> None:
    """One decision per B action: A says BUY, B (its shadow) the given action; the market
    falls, so SELL is right."""
    tracker = DecisionTracker(load_workspace(workspace).database_url)
    start = datetime.now(UTC) - timedelta(days=2)
    ids = tracker.track_decisions([
        {"session_id": "s", "symbol": "BTCUSDT", "timestamp": start + timedelta(hours=n),
         "action": "BUY", "confidence": 0.7, "context": {"price": 100.0 + n},
         "agent_outputs": [
             {"agent": AGENT, "prompt_sha": shas[0], "action": "BUY", "confidence": 0.7},
             {"agent": AGENT, "prompt_sha": shas[1], "action": action, "confidence": 0.7,
              "is_shadow": True, "label": "candidate"}]}
        for n, action in enumerate(b_actions)])
    for decision_id in ids:
        tracker.track_decision_outcome(decision_id, "return_24h", DOWN)
    tracker.close()


def test_compare_json_and_step_summary(run_cli, workspace: Path, shas, tmp_path) -> None:
    record(workspace, shas, ["SELL", "SELL", "BUY"])
    summary = tmp_path / "summary.md"
    result = run_cli("-C", str(workspace), "compare", "--agent", AGENT, "--json",
                     env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["a"], data["b"], data["a_sha"], data["b_sha"]) == (
        "production", "candidate", *shas)
    assert (data["pairs"], data["only_b"], data["only_a"], data["both_wrong"]) == (3, 2, 0, 1)
    assert data["p_b_better"] == pytest.approx(0.25) and data["verdict"] == "inconclusive"
    # 5 of 5 discordant (p = 1/32) at a rate of 2/3: 7 pairs (round(14/3) = 5), 4 more
    assert data["needed_more"] == 4
    assert data["source"] == "live" and data["brier_diff"] == pytest.approx(2 * (0.09 - 0.49) / 3)
    markdown = summary.read_text()
    assert markdown.startswith(f"### promptloop compare: {AGENT}\n\n| | A | B |")
    assert "| accuracy (95% Wilson) | 0.0% [0.0%, 56.1%] | 66.7% [20.8%, 93.9%] |" in markdown

    text = run_cli("-C", str(workspace), "compare", "--agent", AGENT).stdout
    assert "Verdict: inconclusive." in text and "about 4 more paired decisions" in text


def test_promote_auto_inconclusive_exits_0_and_moves_nothing(run_cli, workspace, shas) -> None:
    record(workspace, shas, ["SELL", "SELL", "BUY"])
    auto = run_cli("-C", str(workspace), "promote", "--agent", AGENT, "--auto")
    assert auto.returncode == 0, auto.stderr
    assert auto.stderr.startswith("Not promoted: candidate (") and "inconclusive" in auto.stderr
    manual = run_cli("-C", str(workspace), "promote", "--agent", AGENT)
    assert manual.returncode == 1 and "Not promoted:" in manual.stderr
    with PromptRepo.open(workspace) as repo:
        assert repo.read(AGENT, label="production").sha == shas[0]


def test_promote_conclusive(run_cli, workspace: Path, shas) -> None:
    record(workspace, shas, ["SELL"] * 6)
    asked = run_cli("-C", str(workspace), "promote", "--agent", AGENT)
    assert asked.returncode == 1 and "pass --yes" in asked.stderr  # no terminal to ask on
    result = run_cli("-C", str(workspace), "promote", "--agent", AGENT, "--auto", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["promoted"] is True and data["move"]["to"] == shas[1]
    assert data["comparison"]["verdict"] == "better"
    with PromptRepo.open(workspace) as repo:
        assert repo.read(AGENT, label="production").sha == shas[1]


def test_compare_replay_runs_both_versions_on_recorded_contexts(run_cli, workspace, shas):
    record(workspace, shas, ["BUY"] * 8)  # the recorded shadow is no better...

    def reply(request: dict) -> Reply:
        action = "SELL" if MARK in request["messages"][0]["content"] else "BUY"
        return Reply(text=json.dumps({"action": action, "confidence": 0.8,
                                      "risk_level": "LOW", "reasoning": "replayed"}))

    with StubLLM(reply) as stub:
        result = run_cli("-C", str(workspace), "compare", "--agent", AGENT, "--replay",
                         "--limit", "6", "--json",
                         env={"OPENAI_BASE_URL": stub.url, "OPENAI_API_KEY": "sk-test"})
        assert result.returncode == 0, result.stderr
        assert len(stub.requests) == 12  # 6 contexts, two versions
    data = json.loads(result.stdout)  # ...but replayed, the candidate sells: right each time
    assert (data["source"], data["pairs"], data["only_b"], data["verdict"]) == (
        "replay", 6, 6, "better")
