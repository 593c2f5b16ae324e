"""Workspace and version-history commands: init, agents, show, log, diff, rollback.

Each command opens the workspace's :class:`~prompt_repo.PromptRepo`, calls one library
method and renders. ``show`` prints the prompt text exactly (nothing else on stdout), so it
can be redirected to a file. ``--json`` shapes are documented in docs/prompt_repo.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.syntax import Syntax
from rich.table import Table

from cli.output import confirm, escape, print_json, stderr, stdout, workspace

if TYPE_CHECKING:
    from prompt_repo.agents_edit import AgentChange
    from prompt_repo.repo import AgentSummary, PromptRepo, Version

AGENT_HELP = "Agent name, as in promptloop.toml."
JSON_HELP = "Print JSON (documented, stable keys) instead of a table."
REV_HELP = "a full or short sha, vN (the N-th version of the agent), or a git revision"


@contextmanager
def _repo(ctx: click.Context) -> Iterator[PromptRepo]:
    from prompt_repo.repo import PromptRepo

    with PromptRepo(workspace(ctx)) as repo:
        yield repo


@click.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def init(ctx: click.Context, directory: Path | None, as_json: bool) -> None:
    """Make DIRECTORY a workspace with three example agents (default: -C or here).

    Creates the git repository when there is none, writes promptloop.toml and the prompts
    of MarketAnalyst, RiskManager and TradingAdvisor, git-ignores .promptloop/ and commits
    only those files. Running it again changes nothing.
    """
    from prompt_repo.workspace_init import init_workspace

    chosen = ctx.find_root().obj.get("workspace")
    result = init_workspace(directory or Path(chosen or "."))
    if as_json:
        print_json({"created": result.created, "root": str(result.root),
                    "commit": result.commit, "message": result.message})
        return
    stdout.print(escape(result.message))
    if result.created:
        stdout.print(f"Next: promptloop -C {escape(str(result.root))} agents")


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def agents(ctx: click.Context, as_json: bool) -> None:
    """List the agents with their current prompt version and last change.

    "(modified)" marks a prompt file with uncommitted edits. 'agents add' and
    'agents remove' change the team, each with one commit.
    """
    if ctx.invoked_subcommand is None:
        _list_agents(ctx, as_json)


@agents.command("list")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def agents_list(ctx: click.Context, as_json: bool) -> None:
    """List the agents (the same as 'promptloop agents')."""
    _list_agents(ctx, as_json)


@agents.command("add")
@click.argument("name")
@click.option("--from", "source", type=click.Path(dir_okay=False, path_type=Path),
              help="Start the prompt from this file (default: the documented template).")
@click.option("--path", "prompt_path", default=None,
              help="Where the prompt file goes, relative to the workspace "
                   "(default: PROMPTS_DIR/NAME.md).")
@click.option("--model", default=None, help="The agent's model (default: [llm] model).")
@click.option("--temperature", type=float, default=None,
              help="The agent's sampling temperature, 0 to 2 (default: 0.2).")
@click.option("--team-position", type=int, default=None,
              help="Its place in [team] order, 1 = first (default: just before the last).")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def agents_add(ctx: click.Context, name: str, source: Path | None, prompt_path: str | None,
               model: str | None, temperature: float | None, team_position: int | None,
               as_json: bool) -> None:
    """Add agent NAME: its [agents.NAME] table, its prompt file, one commit.

    promptloop.toml keeps its comments and layout. The prompt comes from --from FILE or a
    template that asks for the JSON answer the runtime parses; edit it, then commit.
    """
    from prompt_repo.agents_edit import add_agent

    text = _read_prompt_file(source) if source is not None else None
    change = add_agent(workspace(ctx), name, prompt_text=text, path=prompt_path, model=model,
                       temperature=temperature, team_position=team_position)
    _print_change(change, "Added", as_json)


@agents.command("remove")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def agents_remove(ctx: click.Context, name: str, as_json: bool) -> None:
    """Remove agent NAME: its table, its [team] place and its prompt file, one commit.

    The prompt's history stays in git: git log -- PATH, git show COMMIT^:PATH.
    """
    from prompt_repo.agents_edit import remove_agent

    change = remove_agent(workspace(ctx), name)
    _print_change(change, "Removed", as_json)


def _read_prompt_file(source: Path) -> str:
    try:
        return source.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise click.ClickException(f"{source} is not UTF-8 text") from None
    except OSError as exc:
        raise click.ClickException(f"cannot read {source}: {exc.strerror}") from None


def _print_change(change: AgentChange, verb: str, as_json: bool) -> None:
    if as_json:
        print_json({"agent": change.agent, "path": change.path, "commit": change.commit,
                    "team": change.team})
        return
    team = " → ".join(change.team) or "(empty)"
    stdout.print(f"{verb} agent {escape(change.agent)} ({escape(change.path)}): commit "
                 f"{change.commit[:7]}. Team: {escape(team)}.")


def _list_agents(ctx: click.Context, as_json: bool) -> None:
    with _repo(ctx) as repo:
        rows = repo.overview()
    if as_json:
        print_json([_summary_json(row) for row in rows])
        return
    table = Table("agent", "version", "sha", "date")
    table.add_column("last change", min_width=24)
    _no_wrap(table, 0, 1, 2, 3)
    for row in rows:
        v = row.current
        version = (v.name if v else "-") + (" [yellow](modified)[/]" if row.modified else "")
        table.add_row(escape(row.agent), version, v.short_sha if v else "-",
                      _date(v) if v else "-", escape(v.subject) if v else "(not committed)")
    stdout.print(table)


@click.command()
@click.option("--agent", "-a", required=True, help=AGENT_HELP)
@click.option("--rev", "-r", default=None, help=f"Version to print: {REV_HELP} (default: current).")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def show(ctx: click.Context, agent: str, rev: str | None, as_json: bool) -> None:
    """Print an agent's prompt at a version, exactly as committed."""
    with _repo(ctx) as repo:
        version = repo.read(agent, rev)
    if as_json:
        print_json({"agent": agent, "path": version.path, "sha": version.sha,
                    "text": version.text})
        return
    click.echo(version.text, nl=False)


@click.command()
@click.option("--agent", "-a", required=True, help=AGENT_HELP)
@click.option("-n", "--max-count", "limit", type=click.IntRange(min=1), default=None,
              help="Show only the N newest versions.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def log(ctx: click.Context, agent: str, limit: int | None, as_json: bool) -> None:
    """List the versions of an agent's prompt, newest first."""
    with _repo(ctx) as repo:
        versions = repo.log(agent, limit=limit)
    if as_json:
        print_json([_version_json(v) for v in versions])
        return
    scored = any(_scores(v) for v in versions)
    table = Table("version", "sha", "date", "author")
    table.add_column("subject", min_width=24)
    if scored:
        table.add_column("scores (before → after)")
    _no_wrap(table, 0, 1, 2)
    for v in versions:
        cells = [v.name, v.short_sha, _date(v), escape(v.author), escape(v.subject)]
        table.add_row(*cells, *([escape(_scores(v))] if scored else []))
    stdout.print(table)


@click.command()
@click.option("--agent", "-a", required=True, help=AGENT_HELP)
@click.argument("a")
@click.argument("b", required=False)
@click.pass_context
def diff(ctx: click.Context, agent: str, a: str, b: str | None) -> None:
    """Show the diff of an agent's prompt from version A to B (default: current).

    A and B are each a full or short sha, vN, or a git revision such as HEAD~1.
    """
    with _repo(ctx) as repo:
        text = repo.diff(agent, a, b)
    if not text:
        other = b or "the current version"
        stderr.print(f"No differences between {escape(a)} and {escape(other)}.")
        return
    _print_diff(text)


@click.command()
@click.option("--agent", "-a", required=True, help=AGENT_HELP)
@click.option("--to", "to", required=True, help=f"Version to restore: {REV_HELP}.")
@click.option("--yes", "-y", "assume_yes", is_flag=True, help="Do not ask; apply at once.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP + " Needs --yes.")
@click.pass_context
def rollback(ctx: click.Context, agent: str, to: str, assume_yes: bool, as_json: bool) -> None:
    """Restore an older version of a prompt as a new commit (history is kept).

    Shows the diff first and asks; without a terminal, pass --yes.
    """
    with _repo(ctx) as repo:
        plan = repo.plan_rollback(agent, to)
        if as_json and not assume_yes:
            raise click.UsageError("--json needs --yes (there is no question to answer)")
        if not as_json:
            _print_diff(plan.diff)
        target = f"v{plan.number} ({plan.target.sha[:7]})"
        if not confirm(f"Restore {agent}'s prompt to {target}?", assume_yes):
            stderr.print("Nothing changed.")
            ctx.exit(1)
        sha = repo.rollback(agent, plan.target.sha, base=plan.base)
    if as_json:
        print_json({"agent": agent, "restored": f"v{plan.number}",
                    "restored_sha": plan.target.sha, "commit": sha, "diff": plan.diff})
        return
    stdout.print(f"Restored {escape(agent)}'s prompt to {target}: new commit {sha[:7]}.")


def _print_diff(text: str) -> None:
    if stdout.is_terminal:
        stdout.print(Syntax(text, "diff", theme="ansi_dark", background_color="default"))
    else:
        click.echo(text, nl=False)  # piped: the plain unified diff, usable by patch/git apply


def _no_wrap(table: Table, *columns: int) -> None:
    for index in columns:
        table.columns[index].no_wrap = True


def _date(version: Version) -> str:
    return version.date.strftime("%Y-%m-%d %H:%M")


def _scores(version: Version) -> str:
    before = version.trailers.get("Promptloop-Scores-Before")
    after = version.trailers.get("Promptloop-Scores-After")
    if before is None and after is None:
        return ""
    return f"{before or '?'} → {after or '?'}"


def _version_json(version: Version) -> dict[str, Any]:
    return {
        "version": version.name,
        "number": version.number,
        "sha": version.sha,
        "short_sha": version.short_sha,
        "date": version.date.isoformat(),
        "author": version.author,
        "subject": version.subject,
        "trailers": version.trailers,
    }


def _summary_json(row: AgentSummary) -> dict[str, Any]:
    return {
        "agent": row.agent,
        "path": row.path,
        "modified": row.modified,
        "current": _version_json(row.current) if row.current else None,
    }
