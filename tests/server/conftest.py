"""Fixtures of the server tests: the app on a real workspace (git) and a real database.
Helpers live in server_support.py (this folder is put on sys.path)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from server.app import create_app
from server.context import ServerConfig

sys.path.insert(0, str(Path(__file__).parent))


MakeClient = Callable[..., TestClient]


@pytest.fixture
def make_client(workspace: Path, database_url: str) -> Iterator[MakeClient]:
    """``make_client(public=False, **limits)``: a TestClient on the workspace's app."""
    clients: list[TestClient] = []

    def make(public: bool = False, **limits: Any) -> TestClient:
        config = ServerConfig(workspace=workspace, database_url=database_url, public=public,
                              **limits)
        client = TestClient(create_app(config))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    return make_client()
