"""What every request needs: the workspace, the opened tracker, the key store, the limits.

Built once per worker process at start-up (:meth:`ServerContext.open`). With several
workers uvicorn imports the app in each process, so the settings travel as environment
variables (:func:`config_from_environment`), the same ones the CLI reads.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from prompt_repo.config import Workspace, load_workspace
from prompt_repo.repo import PromptRepo
from tracker.keys import KeyStore
from tracker.store import DecisionTracker

if TYPE_CHECKING:
    from server.writer import GroupWriter

MAX_BATCH_ITEMS = 1000
MAX_BATCH_BYTES = 8 * 1024 * 1024
ENV_WORKSPACE = "PROMPTLOOP_WORKSPACE"
ENV_DATABASE_URL = "PROMPTLOOP_DATABASE_URL"
ENV_PUBLIC = "PROMPTLOOP_SERVE_PUBLIC"  # set when listening beyond loopback: keys required


@dataclass(frozen=True)
class ServerConfig:
    """How to open the server's state. ``public``: listening beyond loopback, so every
    /v1 request needs a key even when none exist (never open to the network)."""

    workspace: Path | None = None
    database_url: str | None = None
    public: bool = False
    max_items: int = MAX_BATCH_ITEMS
    max_bytes: int = MAX_BATCH_BYTES


def config_from_environment() -> ServerConfig:
    root = os.environ.get(ENV_WORKSPACE)
    return ServerConfig(workspace=Path(root) if root else None,
                        database_url=os.environ.get(ENV_DATABASE_URL) or None,
                        public=os.environ.get(ENV_PUBLIC) == "1")


@dataclass
class ServerContext:
    config: ServerConfig
    workspace: Workspace
    tracker: DecisionTracker
    keys: KeyStore
    writer: GroupWriter | None = None  # decision batches, committed in groups

    @classmethod
    def open(cls, config: ServerConfig) -> ServerContext:
        from server.writer import GroupWriter

        workspace = load_workspace(config.workspace, database_url=config.database_url)
        tracker = DecisionTracker(workspace.database_url)
        return cls(config, workspace, tracker, KeyStore(tracker.engine), GroupWriter(tracker))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.tracker.close()

    @contextmanager
    def prompts(self) -> Iterator[PromptRepo]:
        """The prompt repository, opened for one request (git state is read fresh)."""
        repo = PromptRepo(self.workspace)
        try:
            yield repo
        finally:
            repo.close()
