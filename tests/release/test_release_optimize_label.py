"""``optimize --auto-apply --label candidate``: the applied version goes to the candidate
label; production is pinned first, so it does not follow the new commit."""

from __future__ import annotations

from pathlib import Path

from prompt_repo import PromptRepo
from prompt_repo.labels import LABELS_FILE

AGENT = "MarketAnalyst"


def test_optimize_label_candidate_keeps_production(run_cli, workspace: Path, git) -> None:
    with PromptRepo.open(workspace) as repo:
        before = repo.read(AGENT).sha
    result = run_cli("-C", str(workspace), "optimize", "--agent", AGENT, "--auto-apply",
                     "--label", "candidate")  # no key: the offline heuristic engine
    assert result.returncode == 0, result.stderr
    assert "as candidate" in result.stdout
    with PromptRepo.open(workspace) as repo:
        new = repo.read(AGENT).sha
        assert new != before
        assert repo.read(AGENT, label="production").sha == before
        assert repo.read(AGENT, label="candidate").sha == new
        assert repo.labels().log(AGENT, "candidate")[0].reason.startswith("optimize run ")
    touched = [git(workspace, "show", "--name-only", "--format=", f"HEAD~{n}").split()
               for n in (2, 1, 0)]
    assert touched == [[LABELS_FILE], [f"prompts/{AGENT}.md"], [LABELS_FILE]]


def test_label_with_branch_is_refused(run_cli, workspace: Path, git) -> None:
    head = git(workspace, "rev-parse", "HEAD")
    result = run_cli("-C", str(workspace), "optimize", "--agent", AGENT, "--auto-apply",
                     "--label", "candidate", "--branch", "promptloop/x")
    assert result.returncode == 2 and "drop --branch" in result.stderr
    assert git(workspace, "rev-parse", "HEAD") == head
