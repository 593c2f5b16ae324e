"""Every refusal of apply/rollback: the right error, one line, and not one byte changed."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from prompt_repo import PromptRepo
from prompt_repo.errors import (
    BranchExists,
    DetachedHead,
    DirtyPromptFile,
    NoChange,
    PathEscapesWorkspace,
    PromptRepoError,
    StaleBase,
    UnknownAgent,
    UnknownRevision,
)

AGENT = "MarketAnalyst"
PATH = "prompts/MarketAnalyst.md"

Setup = Callable[[Path, PromptRepo, Callable[..., str]], Callable[[PromptRepo], object]]


def _add_agent(ws: Path, git, name: str, prompt: str) -> None:
    with (ws / "promptloop.toml").open("a") as handle:
        handle.write(f'\n[agents.{name}]\nprompt = "{prompt}"\n')
    git(ws, "commit", "-qam", f"add {name}")


def unstaged_edit(ws, repo, git):
    (ws / PATH).write_text("my local edit\n")
    return lambda r: r.apply(AGENT, "new\n", "m", base=r.read(AGENT).sha)


def staged_edit(ws, repo, git):
    (ws / PATH).write_text("my staged edit\n")
    git(ws, "add", PATH)
    return lambda r: r.apply(AGENT, "new\n", "m", base=r.read(AGENT).sha)


def staged_then_reverted(ws, repo, git):
    original = (ws / PATH).read_text()
    (ws / PATH).write_text("staged, then the file put back\n")
    git(ws, "add", PATH)
    (ws / PATH).write_text(original)
    return lambda r: r.apply(AGENT, "new\n", "m")


def stale_base(ws, repo, git):
    base = repo.read(AGENT).sha
    repo.apply(AGENT, "someone else's change\n", "other", base=base)
    return lambda r: r.apply(AGENT, "mine\n", "mine", base=base)


def detached_head(ws, repo, git):
    git(ws, "checkout", "-q", "--detach")
    return lambda r: r.apply(AGENT, "new\n", "m")


def unknown_agent(ws, repo, git):
    return lambda r: r.apply("Nobody", "new\n", "m")


def file_not_committed(ws, repo, git):
    _add_agent(ws, git, "Newbie", "prompts/Newbie.md")
    (ws / "prompts" / "Newbie.md").write_text("untracked\n")
    return lambda r: r.apply("Newbie", "new\n", "m")


def path_dotdot(ws, repo, git):
    (ws.parent / "outside.md").write_text("outside\n")
    _add_agent(ws, git, "Escaper", "../outside.md")
    return lambda r: r.apply("Escaper", "new\n", "m")


def path_absolute(ws, repo, git):
    _add_agent(ws, git, "Escaper", str(ws.parent / "outside.md"))
    return lambda r: r.apply("Escaper", "new\n", "m")


def path_symlink(ws, repo, git):
    (ws.parent / "outside.md").write_text("outside\n")
    os.symlink(ws.parent / "outside.md", ws / "prompts" / "Link.md")
    git(ws, "add", "prompts/Link.md")
    _add_agent(ws, git, "Escaper", "prompts/Link.md")
    return lambda r: r.apply("Escaper", "new\n", "m")


def path_into_git_dir(ws, repo, git):
    _add_agent(ws, git, "Escaper", ".git/config")
    return lambda r: r.apply("Escaper", "new\n", "m")


def same_text(ws, repo, git):
    return lambda r: r.apply(AGENT, r.read(AGENT).text, "no-op")


def branch_exists(ws, repo, git):
    git(ws, "branch", "taken")
    return lambda r: r.apply(AGENT, "new\n", "m", branch="taken")


def unknown_base(ws, repo, git):
    return lambda r: r.apply(AGENT, "new\n", "m", base="f" * 40)


def rollback_to_nothing(ws, repo, git):
    return lambda r: r.rollback(AGENT, "v7")


def rollback_dirty(ws, repo, git):
    repo.apply(AGENT, "v2\n", "v2")
    (ws / PATH).write_text("my local edit\n")
    return lambda r: r.rollback(AGENT, "v1")


CASES: list[tuple[Setup, type[PromptRepoError], str]] = [
    (unstaged_edit, DirtyPromptFile, "prompts/MarketAnalyst.md has uncommitted changes"),
    (staged_edit, DirtyPromptFile, "prompts/MarketAnalyst.md has uncommitted changes"),
    (staged_then_reverted, DirtyPromptFile, "has uncommitted changes"),
    (stale_base, StaleBase, "MarketAnalyst's prompt has moved on since"),
    (detached_head, DetachedHead, "HEAD is detached"),
    (unknown_agent, UnknownAgent, "unknown agent 'Nobody'"),
    (file_not_committed, UnknownAgent, "Newbie's prompt file prompts/Newbie.md is not committed"),
    (path_dotdot, PathEscapesWorkspace, "points outside the workspace"),
    (path_absolute, PathEscapesWorkspace, "points outside the workspace"),
    (path_symlink, PathEscapesWorkspace, "points outside the workspace"),
    (path_into_git_dir, PathEscapesWorkspace, "points outside the workspace"),
    (same_text, NoChange, "already has this text"),
    (branch_exists, BranchExists, "branch 'taken' already exists"),
    (unknown_base, UnknownRevision, "no commit ffff"),
    (rollback_to_nothing, UnknownRevision, "there is no v7"),
    (rollback_dirty, DirtyPromptFile, "has uncommitted changes"),
]


@pytest.mark.parametrize(("setup", "error", "text"), CASES, ids=[c[0].__name__ for c in CASES])
def test_refusal_changes_nothing(
    workspace: Path, git, snapshot, setup: Setup, error: type[PromptRepoError], text: str
) -> None:
    call = setup(workspace, PromptRepo.open(workspace), git)
    before = snapshot(workspace)
    repo = PromptRepo.open(workspace)  # sees the configuration the setup wrote

    with pytest.raises(error) as caught:
        call(repo)

    assert text in str(caught.value)
    assert "\n" not in str(caught.value)
    assert snapshot(workspace) == before
