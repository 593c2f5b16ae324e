"""The ``promptloop`` command.

Commands live in modules of their own and are imported only when run, so that
``promptloop --help`` stays fast (no openai, no SQLAlchemy). Each entry of
:data:`COMMANDS` is ``name: (module, attribute, one-line help)``.

Errors of the library packages become one line on stderr and exit code 1;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from agents.errors import AgentError
from optimizer.errors import OptimizerError
from prompt_repo.errors import PromptRepoError
from tracker.errors import TrackerError

LIBRARY_ERRORS = (PromptRepoError, TrackerError, AgentError, OptimizerError)

COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("cli.repo_cmds", "init", "Create a workspace with example agents."),
    "agents": ("cli.repo_cmds", "agents", "List agents and their prompt versions; add, remove."),
    "doctor": ("cli.doctor_cmd", "doctor", "Check the workspace, git, database and LLM endpoint."),
    "show": ("cli.repo_cmds", "show", "Print an agent's prompt at a version."),
    "log": ("cli.repo_cmds", "log", "List the versions of an agent's prompt."),
    "diff": ("cli.repo_cmds", "diff", "Show the diff between two prompt versions."),
    "rollback": ("cli.repo_cmds", "rollback", "Restore an older prompt version as a new commit."),
    "record": ("cli.tracker_cmds", "record", "Record decisions from JSON or JSON Lines."),
    "outcome": ("cli.tracker_cmds", "outcome", "Record the outcome of one decision."),
    "outcomes": ("cli.tracker_cmds", "outcomes", "Resolve outcomes from market prices."),
    "decisions": ("cli.tracker_cmds", "decisions", "List recorded decisions."),
    "db": ("cli.tracker_cmds", "db", "Upgrade or inspect the tracker database schema."),
    "score": ("cli.score_cmds", "score", "Score prompts for specificity, clarity, ambiguity."),
    "lint": ("cli.score_cmds", "lint", "Check prompts against score thresholds."),
    "analyze": ("cli.analyze_cmd", "analyze", "Report agent performance, calibration, failures."),
    "optimize": ("cli.optimize_cmd", "optimize", "Let a critic propose a prompt diff; apply it."),
    "session": ("cli.session_cmds", "session", "Run the agent team on live or file data."),
    "backtest": ("cli.session_cmds", "backtest", "Run sessions over historical data."),
    "demo": ("cli.session_cmds", "demo", "Run the whole loop on bundled data, no key needed."),
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use; help texts come from COMMANDS."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute, _ = COMMANDS[cmd_name]
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LIBRARY_ERRORS as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(1)


@click.group(cls=LazyGroup)
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.option(
    "-C",
    "--workspace",
    type=click.Path(file_okay=False),
    envvar="PROMPTLOOP_WORKSPACE",
    help="Workspace folder (default: the nearest folder with promptloop.toml).",
)
@click.version_option(package_name="promptloop")
@click.pass_context
def cli(ctx: click.Context, debug: bool, workspace: str | None) -> None:
    """promptloop: make LLM agents better from their own track record.

    Record decisions and outcomes, analyze failures, let a critic LLM propose a
    diff to the agent's prompt, and apply it as a git commit.
    """
    ctx.ensure_object(dict)
    ctx.obj.update(debug=debug, workspace=workspace)


def main() -> None:
    cli(prog_name="promptloop")


if __name__ == "__main__":
    main()
