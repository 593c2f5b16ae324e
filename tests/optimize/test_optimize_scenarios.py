"""One labeled scenario of each kind (tests/optimize/gate_scenarios.py) through the real
``promptloop optimize --engine llm --auto-apply --json`` with default settings: only the
precise rule is applied. The whole set, with precision and recall, is benchmarks/bench_gates.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gate_scenarios import AGENT, Scenario, endpoint, now, record
from llm_stub_server import StubLLM
from optimize_support import head

from prompt_repo import PromptRepo, init_workspace, load_workspace


def optimize_scenario(run_cli, tmp_path: Path, scenario: Scenario) -> tuple[dict, Path, str]:
    root = tmp_path / scenario.name
    init_workspace(root)
    workspace = load_workspace(root)
    with PromptRepo(workspace) as repo:
        version = repo.read(AGENT)
    record(workspace.database_url, scenario, version.text, version.sha, now())
    with StubLLM(endpoint(version.text, scenario)) as stub:
        result = run_cli("-C", str(root), "optimize", "--agent", AGENT, "--engine", "llm",
                         "--auto-apply", "--json",
                         env={"OPENAI_BASE_URL": stub.url, "OPENAI_API_KEY": "sk-scenario"})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), root, version.sha


def replay_of(data: dict) -> dict:
    return next(g for g in data["gates"] if g["name"] == "replay")


def test_a_precise_rule_whose_failures_cluster_late_is_applied(run_cli, tmp_path):
    data, root, base = optimize_scenario(
        run_cli, tmp_path, Scenario("good", seed=1, every_hours=6, late_cluster=True))
    replay = replay_of(data)
    assert replay["passed"] and replay["data"]["broken"] == 0
    assert replay["data"]["fixed"] >= 4 and replay["data"]["p_value"] <= 0.1
    assert data["held_out"]["decisions"] == replay["data"]["cases"]
    assert data["applied"] is True and head(root, "HEAD~1") == base


@pytest.mark.parametrize("scenario", [
    Scenario("broad", seed=0, every_hours=6),
    Scenario("early", seed=2, every_hours=6, nested=True),
], ids=lambda s: s.name)
def test_rules_that_break_later_successes_are_not_applied(run_cli, tmp_path, scenario):
    data, root, base = optimize_scenario(run_cli, tmp_path, scenario)
    replay = replay_of(data)
    assert not replay["passed"] and replay["data"]["broken"] > 0
    assert replay["data"]["p_value"] > 0.1
    assert data["applied"] is False and head(root) == base
    # Every held-out decision was judged: the successes the rule breaks among them.
    assert replay["data"]["successes"]["broken"] == replay["data"]["broken"]


def test_hedged_wording_is_not_applied(run_cli, tmp_path):
    data, root, base = optimize_scenario(run_cli, tmp_path, Scenario("vague", seed=3,
                                                                     every_hours=6))
    assert data["applied"] is False and head(root) == base
    failed = [g for g in data["gates"] if not g["passed"]]
    assert failed  # the analyzer gate, or a replay without any fixed decision
