"""Fixtures of the ``agents add`` / ``agents remove`` tests: real git repositories.

- an autouse git identity, so that commits work on a machine without one;
- ``snapshot``: every byte of a folder (working tree and .git), to prove a refusal changed
  nothing.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test Person")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.com")



@pytest.fixture
def snapshot() -> Callable[[Path], dict[str, str]]:
    def take(root: Path) -> dict[str, str]:
        state = {}
        for folder, _, files in os.walk(root):
            for name in files:
                path = Path(folder, name)
                if name == "promptloop.lock":
                    continue  # created empty by the first locker, never written
                state[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
        return state

    return take
