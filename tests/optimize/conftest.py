"""Fixtures of the optimize tests (helpers live in optimize_support.py, the stub endpoint in
tests/support/llm_stub_server.py; both folders are on sys.path, so tests import by name)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from llm_stub_server import StubLLM
from optimize_support import configure  # noqa: E402


@pytest.fixture
def opt_ws(tmp_path: Path) -> Path:
    """A fresh workspace (promptloop init) with a short LLM timeout."""
    from prompt_repo import init_workspace

    root = tmp_path / "ws"
    init_workspace(root)
    configure(root, llm="timeout = 1.0")
    return root


@pytest.fixture
def stub() -> Iterator[StubLLM]:
    """A scripted OpenAI-compatible endpoint on 127.0.0.1 (add replies with stub.add)."""
    with StubLLM() as server:
        yield server
