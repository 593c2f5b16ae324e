"""Fixtures of the prompt store tests: real git repositories in temporary folders.

- an autouse git identity, so that raw ``git commit`` works on a machine without one;
- ``snapshot``: every byte of a folder (the working tree and .git), to prove that a
  refusal changed nothing.
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
                path = Path(folder, name)
                data = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
                state[str(path.relative_to(root))] = (
                    path.lstat().st_mode,
                    hashlib.sha256(data).hexdigest(),
                )
        return state

    return take
