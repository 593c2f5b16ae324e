"""``agents add`` commits under the repository's hooks, as every promptloop commit does."""

from __future__ import annotations

from pathlib import Path


def hook(ws: Path, name: str, body: str) -> None:
    path = ws / ".git" / "hooks" / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def test_agents_add_refused_by_pre_commit_is_one_line(run_cli, workspace: Path, git) -> None:
    hook(workspace, "pre-commit", 'echo "no new agents today"; exit 1')
    head = git(workspace, "rev-parse", "HEAD")
    config = (workspace / "promptloop.toml").read_text()

    result = run_cli("-C", str(workspace), "agents", "add", "Sentiment")

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "Error: pre-commit hook refused the commit: no new agents today\n"
    assert git(workspace, "rev-parse", "HEAD") == head
    assert (workspace / "promptloop.toml").read_text() == config
    assert not (workspace / "prompts" / "Sentiment.md").exists()
    assert git(workspace, "status", "--porcelain") == ""


def test_agents_add_runs_post_commit_on_the_new_head(run_cli, workspace: Path, git,
                                                     tmp_path: Path) -> None:
    seen = tmp_path / "seen"
    hook(workspace, "post-commit", f'git rev-parse HEAD > "{seen}"')

    result = run_cli("-C", str(workspace), "agents", "add", "Sentiment")

    assert result.returncode == 0, result.stderr
    assert seen.read_text() == git(workspace, "rev-parse", "HEAD")
