"""Starting the server: the checks before listening, then uvicorn.

Before a port is opened the state is opened once in this process (the workspace, the
database at the newest schema: so workers never race to migrate), and the address is
checked: beyond loopback the server refuses to start unless a live key exists, so it is
never open to a network. Workers are separate processes (uvicorn imports
``server.app:create_app`` in each); they get the settings through the environment.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from server.context import (
    ENV_DATABASE_URL,
    ENV_PUBLIC,
    ENV_WORKSPACE,
    ServerConfig,
    ServerContext,
)
from server.errors import ServeRefused


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def prepare(host: str, workspace: Path | None, database_url: str | None) -> ServerConfig:
    """The config to serve with, after checking the state opens and the address is safe."""
    config = ServerConfig(workspace=workspace, database_url=database_url,
                          public=not is_loopback(host))
    context = ServerContext.open(config)
    try:
        if config.public and not context.keys.any_active():
            raise ServeRefused(
                f"refusing to listen on {host} without an API key: create one with "
                "'promptloop keys create --name NAME --scope ingest', or listen on 127.0.0.1")
        return ServerConfig(workspace=context.workspace.root,
                            database_url=context.workspace.database_url, public=config.public)
    finally:
        context.close()


def serve(config: ServerConfig, host: str, port: int, workers: int) -> None:
    """Listen until stopped (Ctrl-C or SIGTERM)."""
    import uvicorn

    os.environ[ENV_WORKSPACE] = str(config.workspace)
    os.environ[ENV_DATABASE_URL] = str(config.database_url)
    os.environ[ENV_PUBLIC] = "1" if config.public else "0"
    uvicorn.run("server.app:create_app", factory=True, host=host, port=port,
                workers=workers, log_level="info", server_header=False)
