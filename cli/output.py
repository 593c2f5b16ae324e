"""What every command shares: the workspace from the context, consoles, JSON, questions.

Text that came from a prompt file or an LLM goes through :func:`escape` before rich
renders it: prompts are full of ``[brackets]`` that rich would read as markup.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from prompt_repo.config import Workspace, load_workspace

__all__ = ["escape", "stdout", "stderr", "print_json", "workspace", "confirm", "Moment",
           "whole_headers"]

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def whole_headers(table: Table) -> Table:
    """Narrow terminals and pipes (80 columns): a header may wrap between its words but is
    never cut inside one, and a long cell folds onto more lines instead of an ellipsis."""
    for column in table.columns:
        words = str(column.header).split()
        column.min_width = max([len(word) for word in words] + [column.min_width or 0])
        column.overflow = "fold"
    return table


def print_json(data: Any) -> None:
    """One JSON document on stdout, keys in a stable order, no rich formatting."""
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


def workspace(ctx: click.Context, **overrides: Any) -> Workspace:
    """The workspace named by ``-C`` (or found from the current folder)."""
    root = ctx.find_root().obj.get("workspace")
    return load_workspace(Path(root) if root else None, **overrides)


def stdin_is_terminal() -> bool:
    """True when stdin is a terminal; a closed stdin (``<&-``: ``sys.stdin`` is None) is not."""
    return sys.stdin is not None and sys.stdin.isatty()


def confirm(question: str, assume_yes: bool) -> bool:
    """Ask y/N on a terminal. Without a terminal and without --yes, refuse instead of hanging."""
    if assume_yes:
        return True
    if not stdin_is_terminal():
        raise click.ClickException("no terminal to ask on; pass --yes to proceed without asking")
    return click.confirm(question, default=False)


if TYPE_CHECKING:  # generic in the click mypy checks with; plain at runtime from click 8.1 on
    _ParamType = click.ParamType[datetime, Any]
else:
    _ParamType = click.ParamType


class Moment(_ParamType):
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
