"""Fixtures every test area shares.

- ``database_url``: a fresh SQLite file, and again a fresh PostgreSQL schema when
  ``PROMPTLOOP_TEST_POSTGRES_URL`` is set (skipped otherwise).
- ``run_cli``: runs the ``promptloop`` command (in-process, or as a real process).
- ``git``: runs git in a folder and returns its stdout.
- ``workspace``: a fresh workspace made by ``promptloop init`` in a temporary folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
import traceback
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Test helpers shared across folders (tests/support) import by name.
sys.path.insert(0, str(Path(__file__).parent / "support"))



def _import_unsized_consoles() -> None:
    """Build the CLI's consoles without a fixed width, so that each in-process run reads
    COLUMNS from its own environment, as a fresh process would (rich fixes the width at
    construction when COLUMNS is set, and pytest's workers set it)."""
    columns = os.environ.pop("COLUMNS", None)
    try:
        import cli.output  # noqa: F401
    finally:
        if columns is not None:
            os.environ["COLUMNS"] = columns


_import_unsized_consoles()
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
IGNORED_ENV = ("OPENAI_", "PROMPTLOOP_")  # the user's endpoint and workspace stay out of tests


@pytest.fixture
def run_cli(tmp_path: Path) -> CliRunner:
    """Run ``promptloop ARGS`` as a user would; returns the completed process.

    In-process through click's runner (the same entry point, a fraction of the start-up
    cost); ``real_process=True`` runs the installed ``promptloop`` script instead, for the
    end-to-end tests that need a real process (signals, exit codes of the interpreter).
    An exception that escapes the command becomes exit 1 with its traceback on stderr,
    as in a real process.
    """

    def run(
        *args: str,
        cwd: Path | str | None = None,
        input: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 120,
        real_process: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        folder = Path(cwd or tmp_path)
        if real_process:
            return _run_process(args, folder, input, env, timeout)
        return _run_in_process(args, folder, input, env)

    return run


def _run_process(args: tuple[str, ...], cwd: Path, input: str | None,
                 env: dict[str, str] | None, timeout: float) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(IGNORED_ENV)}
    full_env.update(env or {})
    return subprocess.run([PROMPTLOOP, *args], cwd=cwd, input=input, env=full_env,
                           capture_output=True, text=True, timeout=timeout)


def _run_in_process(args: tuple[str, ...], cwd: Path, input: str | None,
                    env: dict[str, str] | None) -> subprocess.CompletedProcess[str]:
    from click.testing import CliRunner as ClickRunner

    from cli.main import cli

    overrides: dict[str, str | None] = {k: None for k in os.environ if k.startswith(IGNORED_ENV)}
    overrides.update(env or {})
    here = os.getcwd()
    os.chdir(cwd)
    try:
        result = ClickRunner().invoke(cli, list(args), input=input, env=overrides,
                                      prog_name="promptloop")
    finally:
        os.chdir(here)
    stderr, code = result.stderr, result.exit_code
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
        code = 1
    return subprocess.CompletedProcess([PROMPTLOOP, *args], code, result.stdout, stderr)


Git = Callable[..., str]


@pytest.fixture
def git() -> Git:
    """Run ``git ARGS`` in a folder; its stdout (a failure raises, unless ``check=False``)."""

    def run(cwd: Path, *args: str, check: bool = True) -> str:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise AssertionError(f"git {' '.join(args)}: {proc.stderr}")
        return proc.stdout

    return run


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A fresh workspace (git repository, promptloop.toml, three example agents)."""
    from prompt_repo import init_workspace

    root = tmp_path / "ws"
    init_workspace(root)
    return root
