"""Fixtures for tests that commit in real git repositories; a folder's conftest.py imports
the ones it wants (``from git_fixtures import git_identity, snapshot``).

- ``git_identity`` (autouse where imported): a fixed author and committer, so that commits
  work, and read the same, on a machine without a git identity;
- ``snapshot``: every byte and mode of a folder (working tree and .git), to prove that a
  refusal changed nothing. ``promptloop.lock`` is left out: the first locker creates it
  empty and nobody writes it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

Snapshot = Callable[[Path], dict[str, tuple[int, str]]]


@pytest.fixture(autouse=True)
def git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test Person")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.com")


@pytest.fixture
def snapshot() -> Snapshot:
    def take(root: Path) -> dict[str, tuple[int, str]]:
        state = {}
        for folder, _, files in os.walk(root):
            for name in files:
                if name == "promptloop.lock":
                    continue
                path = Path(folder, name)
                data = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
                state[str(path.relative_to(root))] = (
                    path.lstat().st_mode, hashlib.sha256(data).hexdigest())
        return state

    return take
