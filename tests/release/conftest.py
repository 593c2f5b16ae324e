"""Fixtures of the release tests: a git identity for the commits the tests make, ``git`` to
inspect a repository, and a workspace whose MarketAnalyst has several versions."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

Git = Callable[..., str]
AGENT = "MarketAnalyst"


@pytest.fixture(autouse=True)
def git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test Person")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.com")


@pytest.fixture
def git() -> Git:
    def run(cwd: Path, *args: str) -> str:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise AssertionError(f"git {' '.join(args)}: {proc.stderr}")
        return proc.stdout

    return run


@pytest.fixture
def versions(workspace: Path) -> list[str]:
    """MarketAnalyst's versions v1..v4 (shas, oldest first)."""
    from prompt_repo import PromptRepo

    with PromptRepo.open(workspace) as repo:
        text = repo.read(AGENT).text
        shas = [repo.read(AGENT).sha]
        for n in (2, 3, 4):
            shas.append(repo.apply(AGENT, f"{text}\nRevision {n}.\n", f"revision {n}"))
    return shas
