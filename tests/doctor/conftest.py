"""Fixtures of the doctor tests: a git identity, a clean environment, a stub endpoint.

The endpoint stub (endpoint_stub.py, next to this file) is a real HTTP server, usable from
the library tests and from the CLI subprocess alike; a dead endpoint is a local port with
nothing listening.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from endpoint_stub import Endpoint  # noqa: E402


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A known git identity; no endpoint or workspace settings from the machine."""
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test Person")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.com")
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "PROMPTLOOP_DATABASE_URL",
                 "PROMPTLOOP_MODEL", "PROMPTLOOP_WORKSPACE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    with Endpoint() as server:
        yield server


@pytest.fixture
def dead_url() -> str:
    """A base URL on a local port where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
