"""Fixtures every test area shares.

- ``database_url``: a fresh SQLite file, and again a fresh PostgreSQL schema when
  ``PROMPTLOOP_TEST_POSTGRES_URL`` is set (skipped otherwise).
- ``run_cli``: runs the installed ``promptloop`` entry point in a subprocess.
- ``workspace``: a fresh workspace made by ``promptloop init`` in a temporary folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Test helpers shared across folders (tests/support) import by name.
sys.path.insert(0, str(Path(__file__).parent / "support"))

POSTGRES_ENV = "PROMPTLOOP_TEST_POSTGRES_URL"
PROMPTLOOP = str(Path(sys.executable).with_name("promptloop"))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
        return
    yield from _postgres_schema_url()


def _postgres_schema_url() -> Iterator[str]:
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL schema only (skipped without the server)."""
    yield from _postgres_schema_url()


CliRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_cli(tmp_path: Path) -> CliRunner:
    """Run ``promptloop ARGS`` as a user would; returns the completed process."""

    def run(
        *args: str,
        cwd: Path | str | None = None,
        input: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        # The user's own endpoint and workspace settings must not leak into a test.
        ignored = ("OPENAI_", "PROMPTLOOP_")
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(ignored)}
        full_env.update(env or {})
        return subprocess.run(
            [PROMPTLOOP, *args],
            cwd=cwd or tmp_path,
            input=input,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A fresh workspace (git repository, promptloop.toml, three example agents)."""
    from prompt_repo import init_workspace

    root = tmp_path / "ws"
    init_workspace(root)
    return root
