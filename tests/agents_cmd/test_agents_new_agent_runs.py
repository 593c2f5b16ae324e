"""An agent added with ``agents add`` works at once in ``session run``, ``backtest``,
``analyze`` and ``optimize``: the real CLI, the LLM stubbed at HTTP level (a local server,
since the CLI runs in a subprocess)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from llm_stub_server import Reply, StubLLM

NEW = "Sentiment"
DIFF = """\
--- a/prompt
+++ b/prompt
@@ -18,2 +18,3 @@
 2. State your rule for SELL with its thresholds.
 3. Otherwise answer HOLD.
+4. When `macd_hist` and the trend disagree, answer HOLD with a confidence of at most 0.55.
"""


def respond(request: dict[str, Any]) -> Reply:
    """Agents answer by the first line of their prompt; the new one always says SELL (and
    BTC rose over 2019-09-01/02, so it fails); anything else is the critic."""
    first = request["messages"][0]["content"].splitlines()[0]
    if not first.startswith("# "):
        return Reply(text=f"Diagnosis: it sells into a rising market.\n\n```diff\n{DIFF}```\n")
    agent = first[2:].strip()
    action = "SELL" if agent == NEW else "BUY"
    return Reply(text=json.dumps({"action": action, "confidence": 0.9, "risk_level": "LOW",
                                  "reasoning": f"{agent} reads the snapshot"}))


@pytest.fixture
def stub():
    with StubLLM(respond) as server:
        yield server


def system_prompts(stub: StubLLM) -> list[str]:
    return [r["messages"][0]["content"].splitlines()[0] for r in stub.requests]


def test_a_new_agent_runs_in_session_analyze_and_optimize(run_cli, workspace: Path,
                                                          stub) -> None:
    env = {"OPENAI_BASE_URL": stub.url, "OPENAI_API_KEY": "sk-test"}

    def cli(*args: str) -> Any:
        result = run_cli("-C", str(workspace), *args, "--json", env=env)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    added = cli("agents", "add", NEW)
    assert added["team"] == ["MarketAnalyst", "RiskManager", NEW, "TradingAdvisor"]

    session = cli("session", "run")
    assert [o["agent"] for o in session["outputs"]] == added["team"]
    assert session["outputs"][2]["prompt_sha"] == added["commit"]
    assert system_prompts(stub) == [f"# {name}" for name in added["team"]]
    assert session["action"] == "BUY"  # TradingAdvisor still decides

    backtest = cli("backtest", "--from", "2019-09-01", "--to", "2019-09-02", "--every", "6h")
    assert (backtest["ran"], backtest["failed"], backtest["outcomes"]) == (5, 0, 5)

    report = cli("analyze", NEW, "--until", "2019-09-05", "--days", "10", "--no-store")
    block = report["agents"][NEW]
    assert (block["decisions"], block["with_outcome"]) == (5, 5)
    assert block["by_prompt_version"][added["commit"]]["decisions"] == 5

    # the backtest's window, cut at 2019-09-01 06:00: one failure before it for the critic,
    # four decisions after it for the replay (a replay verdict needs two here)
    with (workspace / "promptloop.toml").open("a") as toml:
        toml.write("\n[optimize]\nmin_holdout = 2\n")
    before = len(stub.requests)
    run = cli("optimize", "--agent", NEW, "--until", "2019-09-02T06:00", "--days", "3",
              "--dry-run")
    assert (run["agent"], run["engine"], run["base_sha"]) == (NEW, "llm", added["commit"])
    assert run["prompt_path"] == f"prompts/{NEW}.md" and run["failure_cases"]
    assert run["diff"] == DIFF
    gates = {gate["name"]: gate for gate in run["gates"]}
    assert gates["scores"]["passed"] and gates["replay"]["data"]["cases"] > 0
    assert f"# {NEW}" in system_prompts(stub)[before:]  # the replay asked the new agent
