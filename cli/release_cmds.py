"""The release flow: ``label set|list|log|rm``, ``compare`` and ``promote``.

Each command opens the workspace, calls one library function (:mod:`prompt_repo.labels`,
:mod:`tracker.compare`, :mod:`agents.release`) and renders. ``--json`` shapes are in
docs/release.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from cli.output import escape, print_json, stderr, stdout, workspace

if TYPE_CHECKING:
    from prompt_repo.labels import LabelMove, Labels

AGENT_HELP = "Agent name, as in promptloop.toml."
JSON_HELP = "Print JSON (documented, stable keys) instead of text."


@contextmanager
def _labels(ctx: click.Context) -> Iterator[Labels]:
    from prompt_repo.repo import PromptRepo

    with PromptRepo(workspace(ctx)) as repo:
        yield repo.labels()


def _move_json(move: LabelMove) -> dict[str, Any]:
    return {"agent": move.agent, "label": move.label, "from": move.old, "to": move.new,
            "commit": move.commit, "author": move.author, "date": move.date.isoformat(),
            "reason": move.reason, "forced": move.forced}


def _short(sha: str | None) -> str:
    return sha[:7] if sha else "unset"


# -- label -------------------------------------------------------------------------------


@click.group(help="Prompt labels (production, candidate, ...): which version of an agent a "
             "label names. Each move is one commit of .promptloop-labels.toml.")
def label() -> None:
    pass


@label.command("set", help="Point LABEL of AGENT at REV (vN, a sha, a git revision or another "
               "label). Setting a label other than production on an agent whose production is "
               "unset pins production at the newest version in the same commit.")
@click.argument("agent")
@click.argument("name", metavar="LABEL")
@click.argument("rev")
@click.option("--reason", "-m", default=None, help="Why: kept in the commit message.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def set_label(ctx: click.Context, agent: str, name: str, rev: str, reason: str | None,
              as_json: bool) -> None:
    with _labels(ctx) as labels:
        move = labels.set(agent, name, rev, reason=reason)
    if as_json:
        print_json(_move_json(move))
        return
    stdout.print(f"{escape(agent)} {escape(name)}: {_short(move.old)} -> {_short(move.new)}"
                 f" (commit {move.commit[:7]}).")


@label.command("rm", help="Remove LABEL of AGENT (an agent without production follows its "
               "newest version again).")
@click.argument("agent")
@click.argument("name", metavar="LABEL")
@click.option("--reason", "-m", default=None, help="Why: kept in the commit message.")
@click.pass_context
def remove_label(ctx: click.Context, agent: str, name: str, reason: str | None) -> None:
    with _labels(ctx) as labels:
        move = labels.remove(agent, name, reason=reason)
    stdout.print(f"{escape(agent)} {escape(name)}: {_short(move.old)} -> unset"
                 f" (commit {move.commit[:7]}).")


@label.command("list", help="List the labels of AGENT (default: every agent).")
@click.argument("agent", required=False)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def list_labels(ctx: click.Context, agent: str | None, as_json: bool) -> None:
    from rich.table import Table

    with _labels(ctx) as labels:
        entries = labels.entries([agent] if agent else None)
    if as_json:
        print_json([{"agent": e.agent, "label": e.label, "sha": e.sha, "version": e.version,
                     "implicit": e.implicit} for e in entries])
        return
    table = Table("agent", "label", "version", "sha")
    for e in entries:
        version = e.version + (" (newest; not pinned)" if e.implicit else "")
        table.add_row(escape(e.agent), escape(e.label), version, e.sha[:7])
    stdout.print(table)


@label.command("log", help="The moves of LABEL of AGENT, newest first: when, who, from what "
               "to what, why.")
@click.argument("agent")
@click.argument("name", metavar="LABEL")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def log_label(ctx: click.Context, agent: str, name: str, as_json: bool) -> None:
    with _labels(ctx) as labels:
        moves = labels.log(agent, name)
    if as_json:
        print_json([_move_json(m) for m in moves])
        return
    if not moves:
        stderr.print(f"{escape(agent)}'s {escape(name)} has never been set.")
        return
    for m in moves:
        forced = " [red](forced)[/red]" if m.forced else ""
        stdout.print(f"{m.date:%Y-%m-%d %H:%M} {escape(m.author)}: {_short(m.old)} ->"
                     f" {_short(m.new)}{forced} (commit {m.commit[:7]})")
        if m.reason:
            stdout.print(f"   {escape(m.reason)}")


def step_summary(markdown: str) -> None:
    """Append ``markdown`` to GitHub's step summary when running in GitHub Actions."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(markdown.rstrip("\n") + "\n")
