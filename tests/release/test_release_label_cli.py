"""``promptloop label set|list|log|rm`` run as a user would: exact output, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

AGENT = "MarketAnalyst"


def test_label_set_list_log_rm(workspace: Path, versions, run_cli, git) -> None:
    ws = str(workspace)
    result = run_cli("-C", ws, "label", "set", AGENT, "candidate", "v3", "-m", "try v3")
    assert result.returncode == 0, result.stderr
    commit = git(workspace, "rev-parse", "--short=7", "HEAD").strip()
    assert result.stdout == f"{AGENT} candidate: unset -> {versions[2][:7]} (commit {commit}).\n"

    listed = json.loads(run_cli("-C", ws, "label", "list", AGENT, "--json").stdout)
    assert listed == [
        {"agent": AGENT, "label": "production", "sha": versions[3], "version": "v4",
         "implicit": False},
        {"agent": AGENT, "label": "candidate", "sha": versions[2], "version": "v3",
         "implicit": False},
    ]
    others = json.loads(run_cli("-C", ws, "label", "list", "--json").stdout)
    assert {"agent": "RiskManager", "label": "production", "implicit": True}.items() <= (
        others[2].items())

    log = json.loads(run_cli("-C", ws, "label", "log", AGENT, "candidate", "--json").stdout)
    assert [(m["from"], m["to"], m["reason"], m["forced"]) for m in log] == [
        (None, versions[2], "try v3", False)]
    text = run_cli("-C", ws, "label", "log", AGENT, "candidate").stdout
    assert text.endswith(f"Test Person: unset -> {versions[2][:7]} (commit {commit})\n   try v3\n")

    removed = run_cli("-C", ws, "label", "rm", AGENT, "candidate")
    assert removed.returncode == 0 and "candidate: " + versions[2][:7] + " -> unset" in (
        removed.stdout)


def test_label_errors_are_one_line_and_change_nothing(workspace, versions, run_cli, git) -> None:
    head = git(workspace, "rev-parse", "HEAD")
    for args, message in [
        (("set", AGENT, "Prod", "v1"), "Error: invalid label name 'Prod'"),
        (("set", AGENT, "candidate", "v9"), "Error: MarketAnalyst has versions v1..v4"),
        (("set", "Nobody", "candidate", "v1"), "Error: unknown agent 'Nobody'"),
        (("log", AGENT, "V2"), "Error: invalid label name 'V2'"),
    ]:
        result = run_cli("-C", str(workspace), "label", *args)
        assert result.returncode == 1
        assert result.stderr.startswith(message) and result.stderr.count("\n") == 1
    assert git(workspace, "rev-parse", "HEAD") == head


def test_an_unset_production_names_the_newest_version(workspace: Path, versions, run_cli
                                                      ) -> None:
    """``label list`` shows RiskManager's production as its newest version (implicit); every
    command that takes a revision reads the label the same way."""
    ws = str(workspace)
    newest = json.loads(run_cli("-C", ws, "log", "--agent", "RiskManager", "--json").stdout)[0]
    shown = run_cli("-C", ws, "show", "--agent", "RiskManager", "--rev", "production")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == run_cli("-C", ws, "show", "--agent", "RiskManager", "--rev",
                                   newest["sha"]).stdout
    unknown = run_cli("-C", ws, "show", "--agent", "RiskManager", "--rev", "staging")
    assert unknown.returncode == 1 and "unknown revision 'staging'" in unknown.stderr
