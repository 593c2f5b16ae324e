"""What every command shares: the workspace from the context, consoles, JSON, questions.

Text that came from a prompt file or an LLM goes through :func:`escape` before rich
renders it: prompts are full of ``[brackets]`` that rich would read as markup.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from prompt_repo.config import Workspace, load_workspace

__all__ = ["escape", "stdout", "stderr", "print_json", "workspace", "confirm", "Moment"]

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """One JSON document on stdout, keys in a stable order, no rich formatting."""
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


def workspace(ctx: click.Context, **overrides: Any) -> Workspace:
    """The workspace named by ``-C`` (or found from the current folder)."""
    root = ctx.find_root().obj.get("workspace")
    return load_workspace(Path(root) if root else None, **overrides)


def confirm(question: str, assume_yes: bool) -> bool:
    """Ask y/N on a terminal. Without a terminal and without --yes, refuse instead of hanging."""
    if assume_yes:
        return True
    if not sys.stdin.isatty():
        raise click.ClickException("no terminal to ask on; pass --yes to proceed without asking")
    return click.confirm(question, default=False)


class Moment(click.ParamType):
    """An ISO 8601 date or time (``2019-09-02``, ``2019-09-02T06:00Z``); without a zone, UTC."""

    name = "WHEN"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            self.fail(f"not an ISO 8601 date or time: {value!r}", param, ctx)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
