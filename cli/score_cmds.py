"""``promptloop score`` and ``promptloop lint``: the heuristic analyzer on prompts.

Both take ``--agent X`` (repeatable; the agent's committed prompt, read through
:class:`~prompt_repo.PromptRepo`) or FILE arguments (read from disk: what a pre-commit hook
passes); with neither, every agent of the workspace. ``lint`` works outside a workspace when
given files, with the default thresholds. ``--json`` shapes are documented in
docs/analyzer.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table

from cli.output import escape, print_json, stderr, stdout, workspace

if TYPE_CHECKING:
    from optimizer.analyzer import Analysis, LintThresholds
    from prompt_repo.config import Workspace

AGENT_HELP = "An agent of the workspace (repeatable); its committed prompt is read."
JSON_HELP = "Print JSON (documented, stable keys) instead of text."
FILES = click.argument(
    "files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
SEVERITIES = ("error", "warning", "info")
MAX_FINDINGS = 50  # what lint prints per prompt by default: a pre-commit hook is read by a person


@dataclass(frozen=True)
class Source:
    """A prompt to check: where it comes from and its text."""

    path: str  # as printed: relative to the current folder when possible
    agent: str | None
    sha: str | None
    text: str


SCORES_CAPTION = ("Higher is better, except ambiguity: lower is better. "
                  "overall = (specificity + clarity + (100 - ambiguity)) / 3")


@click.command()
@click.option("--agent", "agents", multiple=True, help=AGENT_HELP)
@FILES
@click.option("--top", default=5, show_default=True, type=click.IntRange(0),
              help="How many findings to show per prompt (most severe first).")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def score(ctx: click.Context, agents: tuple[str, ...], files: tuple[Path, ...], top: int,
          as_json: bool) -> None:
    """Score prompts for specificity, clarity and ambiguity (0-100).

    Higher specificity and clarity are better; higher ambiguity is worse. Overall is
    (specificity + clarity + (100 - ambiguity)) / 3. Scores prompt FILES, the prompts of
    --agent, or every agent of the workspace.
    """
    from optimizer.analyzer import analyze

    results = [(source, analyze(source.text)) for source in _sources(ctx, agents, files)]
    if as_json:
        print_json({"prompts": [_prompt_json(s, a) for s, a in results]})
        return
    table = Table("prompt", "specificity", "clarity", "ambiguity", "overall", "findings",
                  caption=SCORES_CAPTION, caption_justify="left")
    for source, analysis in results:
        table.add_row(escape(_name(source)), *(f"{v:.1f}" for v in analysis.scores().values()),
                      str(len(analysis.findings)))
    stdout.print(table)
    for source, analysis in results:
        shown = analysis.top_findings(top)
        if shown:
            stdout.print(f"\n[bold]{escape(_name(source))}[/]")
        for finding in shown:
            stdout.print(f"  {finding.line}:{finding.col} [{_style(finding.severity)}]"
                         f"{finding.severity}[/] {finding.rule}: {escape(finding.message)}")
            stdout.print(f"      [dim]{escape(finding.suggestion)}[/]")


@click.command()
@click.option("--agent", "agents", multiple=True, help=AGENT_HELP)
@FILES
@click.option("--min-specificity", type=float, help="Fail below this (default: [lint] table, "
              "else 40).")
@click.option("--min-clarity", type=float, help="Fail below this (default: [lint] table, else 50).")
@click.option("--max-ambiguity", type=float, help="Fail above this (default: [lint] table, "
              "else 50).")
@click.option("--severity", type=click.Choice(SEVERITIES), default="info", show_default=True,
              help="Lowest severity of the findings printed.")
@click.option("--max-findings", type=click.IntRange(0), default=MAX_FINDINGS,
              show_default=True, help="Findings printed per prompt (0: all); the rest are "
              "counted in one line.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def lint(ctx: click.Context, agents: tuple[str, ...], files: tuple[Path, ...],
         min_specificity: float | None, min_clarity: float | None,
         max_ambiguity: float | None, severity: str, max_findings: int, as_json: bool
         ) -> None:
    """Check prompts against score thresholds; exit 1 when one is missed.

    Prints each finding as 'path:line:col rule message', then one line per missed threshold.
    Thresholds come from the options, else the [lint] table of promptloop.toml, else
    min_specificity = 40, min_clarity = 50, max_ambiguity = 50. Given FILES outside a
    workspace, the defaults apply: usable as a pre-commit hook. At most --max-findings
    findings are printed per prompt, then '... and K more finding(s) in PATH'.
    """
    from optimizer.analyzer import analyze, threshold_failures

    sources = _sources(ctx, agents, files)
    limits = _thresholds(ctx, bool(agents) or not files, min_specificity=min_specificity,
                         min_clarity=min_clarity, max_ambiguity=max_ambiguity)
    results = [(s, analyze(s.text)) for s in sources]
    failures = {s.path: threshold_failures(a, limits) for s, a in results}
    if as_json:
        print_json({
            "thresholds": limits.__dict__,
            "passed": not any(failures.values()),
            "prompts": [{**_prompt_json(s, a), "passed": not failures[s.path],
                         "failures": failures[s.path]} for s, a in results],
        })
    else:
        shown = SEVERITIES[: SEVERITIES.index(severity) + 1]
        for source, analysis in results:
            _print_findings(source.path, [f for f in analysis.findings if f.severity in shown],
                            max_findings)
        for source, _ in results:
            for failure in failures[source.path]:
                click.echo(f"{source.path}: {failure}")
        failed = sum(1 for f in failures.values() if f)
        stderr.print(f"{len(results)} prompt(s) checked, {failed} below the thresholds.")
    if any(failures.values()):
        ctx.exit(1)


def _print_findings(path: str, findings: list[Any], limit: int) -> None:
    printed = findings[:limit] if limit else findings
    for f in printed:
        click.echo(f"{path}:{f.line}:{f.col} {f.rule} {f.message}")
    if len(printed) < len(findings):
        click.echo(f"{path}: ... and {len(findings) - len(printed)} more finding(s) "
                   "(--max-findings 0 prints all)")


def _sources(ctx: click.Context, agents: tuple[str, ...], files: tuple[Path, ...]
             ) -> list[Source]:
    if agents and files:
        raise click.UsageError("give --agent or FILE arguments, not both")
    if files:
        return [Source(str(path), None, None, _read(path)) for path in files]
    ws = workspace(ctx)
    return _agent_sources(ws, list(agents) or list(ws.agents))


def _agent_sources(ws: Workspace, agents: list[str]) -> list[Source]:
    from optimizer.limits import check_prompt_size
    from prompt_repo import PromptRepo

    sources = []
    with PromptRepo(ws) as repo:
        for agent in agents:
            version = repo.read(agent)
            path = _relative(ws.root / version.path)
            check_prompt_size(version.text, f"{agent}'s prompt ({path})")
            sources.append(Source(path, agent, version.sha, version.text))
    return sources


def _read(path: Path) -> str:
    from optimizer.limits import read_prompt_file

    try:
        return read_prompt_file(path)
    except UnicodeDecodeError:
        raise click.ClickException(f"{path} is not UTF-8 text") from None


def _relative(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)


def _thresholds(ctx: click.Context, need_workspace: bool, **flags: float | None
                ) -> LintThresholds:
    from optimizer.analyzer import LintThresholds
    from prompt_repo.errors import WorkspaceNotFound

    try:
        section = workspace(ctx).lint.model_dump(exclude_none=True)  # checked at load
    except WorkspaceNotFound:
        if need_workspace or ctx.find_root().obj.get("workspace"):
            raise
        section = {}
    base = LintThresholds.from_section(section)
    chosen = {name: value for name, value in flags.items() if value is not None}
    return LintThresholds(**{**base.__dict__, **chosen})


def _name(source: Source) -> str:
    return source.agent or source.path


def _style(severity: str) -> str:
    return {"error": "red", "warning": "yellow"}.get(severity, "cyan")


def _prompt_json(source: Source, analysis: Analysis) -> dict[str, Any]:
    return {"path": source.path, "agent": source.agent, "sha": source.sha,
            **analysis.to_dict()}
