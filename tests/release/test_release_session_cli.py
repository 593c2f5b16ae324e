"""``session run`` and ``backtest`` with ``--label`` and ``--shadow`` through the installed
entry point, against the stub OpenAI-compatible server (a subprocess is out of respx's
reach)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from llm_stub_server import Reply, StubLLM

from prompt_repo import PromptRepo, load_workspace
from tracker import DecisionTracker

AGENT = "MarketAnalyst"
MARK = "Candidate rule: fade every rally."


def reply(request: dict) -> Reply:
    system = request["messages"][0]["content"]
    action = "SELL" if MARK in system else "BUY"
    return Reply(text=json.dumps({"action": action, "confidence": 0.7, "risk_level": "LOW",
                                  "reasoning": "[sees] a trend"}))


@pytest.fixture
def env():
    with StubLLM(reply) as stub:
        yield {"OPENAI_BASE_URL": stub.url, "OPENAI_API_KEY": "sk-test"}


@pytest.fixture
def shas(workspace: Path) -> tuple[str, str]:
    with PromptRepo.open(workspace) as repo:
        repo.labels().pin_production(AGENT)
        old = repo.read(AGENT).sha
        new = repo.apply(AGENT, repo.read(AGENT).text + f"\n{MARK}\n", "candidate")
        repo.labels().set(AGENT, "candidate", new)
    return old, new


def outputs(workspace: Path) -> list[tuple]:
    tracker = DecisionTracker(load_workspace(workspace).database_url)
    return [(o["agent"], o["is_shadow"], o["label"], o["prompt_sha"], o["action"])
            for record in tracker.decisions() for o in record.outputs if o["agent"] == AGENT]


def test_session_run_with_a_shadow(run_cli, workspace: Path, env, shas) -> None:
    result = run_cli("-C", str(workspace), "session", "run", "--at", "2019-06-01 12:00",
                     "--shadow", f"{AGENT}=candidate", "--json", env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["action"] == "BUY"
    assert [(s["agent"], s["label"], s["is_shadow"], s["action"])
            for s in data["shadow_outputs"]] == [(AGENT, "candidate", True, "SELL")]
    assert outputs(workspace) == [(AGENT, False, "production", shas[0], "BUY"),
                                  (AGENT, True, "candidate", shas[1], "SELL")]

    text = run_cli("-C", str(workspace), "session", "run", "--label", "candidate",
                   "--no-track", env=env)
    assert text.returncode == 0, text.stderr
    assert f"{AGENT} SELL confidence 0.70 risk LOW (prompt {shas[1][:7]})" in text.stdout


def test_bad_shadow_and_label_options(run_cli, workspace: Path, env, shas) -> None:
    bad = run_cli("-C", str(workspace), "session", "run", "--shadow", AGENT, env=env)
    assert bad.returncode == 2 and "write AGENT=LABEL" in bad.stderr
    unknown = run_cli("-C", str(workspace), "session", "run", "--label", "staging", env=env)
    assert unknown.returncode == 1
    assert unknown.stderr == ("Error: no agent of the team has a label 'staging'"
                              " (see: promptloop label list)\n")


def test_backtest_with_label_and_shadow(run_cli, workspace: Path, env, shas) -> None:
    args = ("-C", str(workspace), "backtest", "--from", "2019-06-01", "--to",
            "2019-06-01 08:00", "--every", "4h", "--shadow", f"{AGENT}=candidate", "--json")
    result = run_cli(*args, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ran"] == 3
    rows = outputs(workspace)
    assert sorted(set(rows)) == [(AGENT, False, "production", shas[0], "BUY"),
                                 (AGENT, True, "candidate", shas[1], "SELL")]
    assert len(rows) == 6
    again = json.loads(run_cli(*args, env=env).stdout)  # resumable: same id, nothing to do
    assert (again["ran"], again["skipped"]) == (0, 3)
