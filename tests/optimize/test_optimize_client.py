"""One way to build the LLM client (agents.session.make_client), closed by whoever built it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from optimize_support import API_KEY, configure

from agents.session import make_client
from optimizer.loop import AgentPromptOptimizer
from prompt_repo.config import load_workspace

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ("agents", "optimizer", "cli", "server", "tracker", "prompt_repo")
FACTORY = {"agents/session.py", "agents/llm.py"}  # the factory, and the class's own repr


def test_only_the_factory_builds_a_client() -> None:
    builders = sorted(str(path.relative_to(ROOT)) for package in LIBRARY
                      for path in (ROOT / package).rglob("*.py")
                      if re.search(r"\bLLMClient\(", path.read_text()))
    assert set(builders) <= FACTORY, builders


def test_the_optimizer_closes_the_client_it_built(opt_ws: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    optimizer = AgentPromptOptimizer(load_workspace(opt_ws))
    connections = optimizer.client._openai()  # the pool an LLM call opens

    optimizer.close()

    assert connections.is_closed()


def test_the_factory_caches_in_the_workspace_unless_told(opt_ws: Path) -> None:
    configure(opt_ws, llm='base_url = "http://127.0.0.1:9/v1"')
    ws = load_workspace(opt_ws)
    with make_client(ws) as cached, make_client(ws, cached=False) as probe:
        assert cached._cache.folder == ws.state_dir / "llm-cache"
        assert probe._cache is None
