"""One "apply or say why not" policy (optimizer/apply_policy.py): ``promptloop optimize`` and
``promptloop demo`` give the same status and reason line for the same situation.

Each test runs the real demo (``--llm``, real team sessions through the stub endpoint) and
then the real optimize command on the workspace the demo left, over the same window, with
the same critic answer; both runs are recorded in the workspace's tracker.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from llm_stub_server import Reply, StubLLM, answer
from optimize_support import AGENT, API_KEY, VAGUE_DIFF, critic_answer, runs, sqlite_url

NO_CHANGE = "Diagnosis: The prompt is fine for these cases.\n\nNO CHANGE"


def demo_then_optimize(run_cli: Any, root: Path, stub: StubLLM,
                       critic: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The demo's optimize step and ``optimize --json`` on the same workspace and window."""
    def endpoint(request: dict[str, Any]) -> Reply:
        if "Market snapshot (JSON data)" in request["messages"][-1]["content"]:  # an agent
            return answer(json.dumps({"action": "HOLD", "confidence": 0.9,
                                      "risk_level": "LOW", "reasoning": "wait and see"}))
        return answer(critic)

    stub.script = endpoint
    env = {"OPENAI_BASE_URL": stub.url, "OPENAI_API_KEY": API_KEY}
    demo = run_cli("demo", str(root), "--llm", "--sessions", "6", "--json", env=env)
    assert demo.returncode == 0, demo.stderr
    steps = {step["name"]: step for step in json.loads(demo.stdout)["steps"]}
    window = steps["decisions"]["data"]  # the demo's window: its log, to one second after
    start, end = (datetime.fromisoformat(window[key]) for key in ("start", "end"))
    days = max(1, math.ceil((end - start) / timedelta(days=1)) + 1)
    until = (end + timedelta(seconds=1)).isoformat()
    cli = run_cli("-C", str(root), "optimize", "--agent", AGENT, "--days", str(days),
                  "--until", until, "--json", env=env)
    assert cli.returncode == 0, cli.stderr
    step = steps["optimize"]
    assert step["explanation"].endswith(f"nothing applied: {step['data']['reason']}")
    return step["data"], json.loads(cli.stdout)


def test_no_change_proposed_reads_the_same_in_the_demo_and_the_command(run_cli, tmp_path,
                                                                        stub):
    demo, cli = demo_then_optimize(run_cli, tmp_path / "demo", stub, NO_CHANGE)

    assert (demo["status"], demo["reason"]) == (cli["status"], cli["reason"])
    assert cli["status"] == "rejected" and cli["applied"] is False
    assert cli["reason"].startswith("no change proposed (")
    assert cli["message"] == f"Nothing applied: {cli['reason']}."
    recorded = [(run["status"], run["gates"]["notes"][-1])
                for run in runs(sqlite_url(tmp_path / "demo"))]
    assert recorded == [("rejected", cli["reason"])] * 2


def test_a_failed_gate_reads_the_same_in_the_demo_and_the_command(run_cli, tmp_path, stub):
    demo, cli = demo_then_optimize(run_cli, tmp_path / "demo", stub, critic_answer(VAGUE_DIFF))

    assert (demo["status"], demo["reason"]) == (cli["status"], cli["reason"])
    assert cli["status"] == "rejected" and demo["applied"] is False
    assert cli["reason"].startswith("no candidate passed every gate; failed: scores (")
    recorded = [(run["status"], run["gates"]["notes"][-1])
                for run in runs(sqlite_url(tmp_path / "demo"))]
    assert recorded == [("rejected", cli["reason"])] * 2
