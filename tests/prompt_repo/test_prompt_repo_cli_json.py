"""--json forms of init, show and rollback."""

from __future__ import annotations

import json
from pathlib import Path

from prompt_repo import PromptRepo, load_workspace

AGENT = "RiskManager"


def test_init_json(run_cli, tmp_path: Path) -> None:
    result = run_cli("init", str(tmp_path / "ws"), "--json")
    data = json.loads(result.stdout)
    assert result.returncode == 0
    assert data["created"] is True and data["root"] == str((tmp_path / "ws").resolve())
    assert len(data["commit"]) == 40
    again = json.loads(run_cli("init", str(tmp_path / "ws"), "--json").stdout)
    assert again["created"] is False and again["commit"] is None


def test_show_and_rollback_json(run_cli, workspace: Path) -> None:
    repo = PromptRepo(load_workspace(workspace))
    v1 = repo.read(AGENT)
    v2 = repo.apply(AGENT, v1.text + "\nA second version.\n", "second", base=v1.sha)

    shown = json.loads(run_cli("-C", str(workspace), "show", "--agent", AGENT, "--rev", "v1",
                               "--json").stdout)
    assert shown == {"agent": AGENT, "path": f"prompts/{AGENT}.md", "sha": v1.sha,
                     "text": v1.text}

    refused = run_cli("-C", str(workspace), "rollback", "--agent", AGENT, "--to", "v1", "--json")
    assert refused.returncode == 2 and "--json needs --yes" in refused.stderr
    assert repo.read(AGENT).sha == v2

    result = run_cli("-C", str(workspace), "rollback", "--agent", AGENT, "--to", "v1", "--json",
                     "--yes")
    data = json.loads(result.stdout)
    assert data["restored"] == "v1" and data["restored_sha"] == v1.sha
    assert data["commit"] == repo.read(AGENT).sha != v2
    assert "-A second version." in data["diff"]
    assert repo.read(AGENT).text == v1.text
