"""The command registry: every command imports, has help, and --help stays light."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from cli.main import COMMANDS, LazyGroup, cli


def test_top_level_help_lists_every_command(run_cli) -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for name, (_, _, summary) in COMMANDS.items():
        assert f"{name}" in result.stdout and summary in result.stdout


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help(run_cli, name: str) -> None:
    result = run_cli(name, "--help")
    assert result.returncode == 0, result.stderr
    assert f"Usage: promptloop {name}" in result.stdout


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_option_and_subcommand_explains_itself(name: str) -> None:
    command = LazyGroup().get_command(click.Context(cli), name)
    for path, sub in _walk(name, command):
        assert sub.help, f"{path} has no help text"
        for param in sub.params:
            if isinstance(param, click.Option):
                assert param.help, f"{path} {param.opts[0]} has no help text"


def _walk(path: str, command: click.Command):
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _walk(f"{path} {name}", sub)


def test_help_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys; from cli.main import cli; "
        "import contextlib, io\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "    cli(['--help'])\n"
        "heavy = ('openai', 'sqlalchemy', 'git', 'numpy', 'rich')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("real_process", [False, True], ids=["in-process", "installed-script"])
def test_unknown_workspace_is_one_line_error(run_cli, tmp_path, real_process: bool) -> None:
    result = run_cli("log", "--agent", "MarketAnalyst", cwd=tmp_path, real_process=real_process)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: no promptloop.toml in {tmp_path.resolve()} or its parents; "
        "run 'promptloop init' first"
    ]
