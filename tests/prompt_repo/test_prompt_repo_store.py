"""PromptRepo round trips on real repositories: apply, read, log, diff, rollback, naming."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from prompt_repo import PromptRepo
from prompt_repo.errors import GitError, UnknownRevision

AGENT = "MarketAnalyst"
PATH = "prompts/MarketAnalyst.md"


def test_apply_makes_one_commit_touching_only_the_prompt(workspace: Path, git) -> None:
    repo = PromptRepo.open(workspace)
    before = repo.read(AGENT)
    head = git(workspace, "rev-parse", "HEAD").strip()

    sha = repo.apply(AGENT, "new text\n", "optimize(MarketAnalyst): sharper rules", base=before.sha)

    assert git(workspace, "rev-parse", "HEAD").strip() == sha
    assert git(workspace, "rev-list", "--count", f"{head}..HEAD").strip() == "1"
    assert git(workspace, "show", "--name-only", "--format=", sha).split() == [PATH]
    assert (workspace / PATH).read_text() == "new text\n"
    assert git(workspace, "status", "--porcelain") == ""
    assert repo.read(AGENT).text == "new text\n"
    assert repo.read(AGENT).sha == sha


def test_apply_leaves_what_the_user_staged_staged_and_uncommitted(workspace: Path, git) -> None:
    (workspace / "app.py").write_text("print('wip')\n")
    git(workspace, "add", "app.py")
    (workspace / "prompts" / "RiskManager.md").write_text("local edit\n")
    repo = PromptRepo.open(workspace)

    sha = repo.apply(AGENT, "new text\n", "optimize(MarketAnalyst): x", base=repo.read(AGENT).sha)

    assert git(workspace, "show", "--name-only", "--format=", sha).split() == [PATH]
    status = sorted(git(workspace, "status", "--porcelain").splitlines())
    assert status == [" M prompts/RiskManager.md", "A  app.py"]


def test_subject_and_trailers_round_trip_through_log(workspace: Path) -> None:
    repo = PromptRepo.open(workspace)
    trailers = {
        "Promptloop-Scores-Before": "specificity=41.0 clarity=55.2 ambiguity=30.1",
        "Promptloop-Scores-After": "specificity=52.5 clarity=56.0 ambiguity=18.4",
        "Promptloop-Failure-Cases": "12,15,18",
        "Promptloop-Run-Id": "7",
    }
    repo.apply(AGENT, "v2\n", "optimize(MarketAnalyst): name the RSI band\n\nWhy: many "
               "wrong BUYs at RSI > 70.", base=repo.read(AGENT).sha, trailers=trailers)

    newest = repo.log(AGENT)[0]
    assert newest.subject == "optimize(MarketAnalyst): name the RSI band"
    assert newest.trailers == trailers
    assert newest.number == 2 and newest.name == "v2"
    assert newest.author == "Test Person"
    assert isinstance(newest.date, datetime) and newest.date.tzinfo is not None


def test_versions_are_numbered_per_agent_and_ignore_other_commits(workspace: Path, git) -> None:
    repo = PromptRepo.open(workspace)
    shas = []
    for i in range(3):
        (workspace / "notes.txt").write_text(f"unrelated {i}\n")
        git(workspace, "add", "notes.txt")
        git(workspace, "commit", "-qm", f"unrelated {i}")
        shas.append(repo.apply(AGENT, f"text {i}\n", f"change {i}"))
    repo.apply("RiskManager", "risk\n", "risk change")

    versions = repo.log(AGENT)
    assert [v.name for v in versions] == ["v4", "v3", "v2", "v1"]
    assert [v.sha for v in versions[:3]] == shas[::-1]
    assert [v.name for v in repo.log("RiskManager")] == ["v2", "v1"]
    assert [v.name for v in repo.log(AGENT, limit=2)] == ["v4", "v3"]
    assert repo.read(AGENT, "v2").text == "text 0\n"


def test_a_version_is_named_by_sha_short_sha_vn_or_revision(workspace: Path, git) -> None:
    repo = PromptRepo.open(workspace)
    first = repo.log(AGENT)[0].sha
    second = repo.apply(AGENT, "second\n", "second")
    third = repo.apply(AGENT, "third\n", "third")

    assert repo.resolve(AGENT, "v2") == second
    assert repo.resolve(AGENT, second) == second
    assert repo.resolve(AGENT, second[:8]) == second
    assert repo.resolve(AGENT, "HEAD~2") == first
    assert repo.resolve(AGENT, "HEAD") == third
    git(workspace, "tag", "good", second)
    assert repo.read(AGENT, "good").text == "second\n"
    for bad in ("v0", "v4", "nope", "-v", "0" * 40):
        with pytest.raises(UnknownRevision):
            repo.resolve(AGENT, bad)


def test_read_at_a_commit_that_did_not_touch_the_file_gives_its_version(
    workspace: Path, git
) -> None:
    repo = PromptRepo.open(workspace)
    version = repo.apply(AGENT, "v2\n", "v2")
    (workspace / "notes.txt").write_text("x\n")
    git(workspace, "add", "notes.txt")
    git(workspace, "commit", "-qm", "unrelated")

    current = repo.read(AGENT)
    assert current.sha == version
    assert current.path == PATH and current.agent == AGENT


def test_diff_between_versions_and_against_current(workspace: Path) -> None:
    repo = PromptRepo.open(workspace)
    repo.apply(AGENT, "line one\nline two\n", "v2")
    repo.apply(AGENT, "line one\nline 2\n", "v3")

    assert repo.diff(AGENT, "v2", "v3").endswith(
        "@@ -1,2 +1,2 @@\n line one\n-line two\n+line 2\n"
    )
    assert repo.diff(AGENT, "v2") == repo.diff(AGENT, "v2", "v3")
    assert f"--- a/{PATH}\n+++ b/{PATH}\n" in repo.diff(AGENT, "v3", "v2")
    assert repo.diff(AGENT, "v3") == ""


def test_rollback_is_a_new_commit_and_keeps_history(workspace: Path, git) -> None:
    repo = PromptRepo.open(workspace)
    original = repo.read(AGENT).text
    repo.apply(AGENT, "bad idea\n", "v2")
    history = git(workspace, "rev-list", "HEAD").split()

    sha = repo.rollback(AGENT, "v1")

    assert (workspace / PATH).read_text() == original
    assert git(workspace, "rev-list", "HEAD").split() == [sha, *history]
    newest = repo.log(AGENT)[0]
    assert newest.name == "v3"
    assert newest.subject == f"rollback(MarketAnalyst): restore v1 ({history[-1][:7]})"
    assert newest.trailers == {"Promptloop-Rollback-To": repo.resolve(AGENT, "v1")}
    assert git(workspace, "status", "--porcelain") == ""


def test_plan_rollback_previews_the_diff_without_writing(workspace: Path, git, snapshot) -> None:
    repo = PromptRepo.open(workspace)
    repo.apply(AGENT, "bad idea\n", "v2")
    before = snapshot(workspace)

    plan = repo.plan_rollback(AGENT, "v1")

    assert plan.number == 1 and plan.base == repo.read(AGENT).sha
    assert "-bad idea\n" in plan.diff and "+# MarketAnalyst\n" in plan.diff
    assert snapshot(workspace) == before


def test_apply_on_a_new_branch_leaves_the_checkout_alone(workspace: Path, git, snapshot) -> None:
    repo = PromptRepo.open(workspace)
    base = repo.read(AGENT)
    (workspace / PATH).write_text("uncommitted local edit\n")  # not ours to touch
    before = snapshot(workspace)

    sha = repo.apply(AGENT, "proposal\n", "optimize(MarketAnalyst): proposal", base=base.sha,
                     branch="promptloop/ma-1")

    after = snapshot(workspace)
    changed = {k for k in after if before.get(k) != after[k]} | (before.keys() - after.keys())
    assert all(k.startswith(".git/") and "index" not in k for k in changed), changed
    assert git(workspace, "rev-parse", "promptloop/ma-1").strip() == sha
    assert git(workspace, "rev-parse", "HEAD").strip() == base.sha
    assert git(workspace, "show", f"{sha}:{PATH}") == "proposal\n"
    assert git(workspace, "rev-parse", f"{sha}^").strip() == base.sha


def test_push_sends_the_branch_to_the_remote(workspace: Path, git, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(workspace, "remote", "add", "origin", str(remote))
    repo = PromptRepo.open(workspace)
    sha = repo.apply(AGENT, "proposal\n", "proposal", branch="promptloop/p1")

    repo.push("promptloop/p1")

    assert git(remote, "rev-parse", "promptloop/p1").strip() == sha


def test_a_failed_push_says_git_error_line_not_its_advice(workspace: Path, git,
                                                         tmp_path: Path) -> None:
    repo = PromptRepo.open(workspace)
    sha = repo.apply(AGENT, "proposal\n", "proposal", branch="promptloop/p1")
    with pytest.raises(GitError, match="^git push to 'origin' failed: no such remote$"):
        repo.push("promptloop/p1")
    git(workspace, "remote", "add", "gone", str(tmp_path / "missing.git"))
    with pytest.raises(GitError) as failed:
        repo.push("promptloop/p1", remote="gone")
    assert str(failed.value).startswith("git push to 'gone' failed: '")
    assert "does not appear to be a git repository" in str(failed.value)

    repo.delete_branch("promptloop/p1", sha)

    assert git(workspace, "branch", "--list", "promptloop/*") == ""


def test_overview_lists_agents_versions_and_local_edits(workspace: Path) -> None:
    repo = PromptRepo.open(workspace)
    repo.apply("RiskManager", "risk v2\n", "risk v2")
    (workspace / "prompts" / "TradingAdvisor.md").write_text("edited\n")

    rows = {row.agent: row for row in repo.overview()}

    assert list(rows) == ["MarketAnalyst", "RiskManager", "TradingAdvisor"]
    assert rows["RiskManager"].current is not None and rows["RiskManager"].current.name == "v2"
    assert rows["MarketAnalyst"].current is not None and rows["MarketAnalyst"].current.number == 1
    assert [r.modified for r in rows.values()] == [False, False, True]


def test_workspace_in_a_subfolder_of_the_repository(tmp_path: Path, git) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "README").write_text("app\n")
    git(tmp_path, "add", "README")
    git(tmp_path, "commit", "-qm", "app")
    ws = tmp_path / "ops" / "agents"
    (ws / "p").mkdir(parents=True)
    (ws / "promptloop.toml").write_text('[agents.A]\nprompt = "p/A.md"\n')
    (ws / "p" / "A.md").write_text("a\n")
    git(tmp_path, "add", "ops")
    git(tmp_path, "commit", "-qm", "agents")
    repo = PromptRepo.open(ws)

    repo.apply("A", "a2\n", "a2", base=repo.read("A").sha)

    changed = git(tmp_path, "show", "--name-only", "--format=", "HEAD").split()
    assert changed == ["ops/agents/p/A.md"]
    assert repo.read("A").path == "p/A.md"
    assert [v.name for v in repo.log("A")] == ["v2", "v1"]
