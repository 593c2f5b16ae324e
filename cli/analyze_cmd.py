"""``promptloop analyze``: the performance report of agents and of the team's decisions.

The command resolves its settings (flag > ``[analysis]`` in promptloop.toml > default; the
database as every tracker command does), calls :func:`tracker.analysis.analyze_performance`
once and renders its typed report: ``--json`` prints its ``to_dict()`` (schema in
docs/analysis.md),
``--html FILE`` writes the standalone page of :mod:`cli.html_report`, and the terminal gets
rich tables. Prompt versions are named ``vN`` from the workspace's git history when there
is one. Text from the database (agent names, conditions, reasoning quotes) is escaped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich import box
from rich.table import Table

from cli.output import escape, print_json, stderr, stdout, whole_headers, workspace
from cli.tracker_cmds import JSON_HELP, database_url_option, open_tracker
from prompt_repo.errors import PromptRepoError, WorkspaceNotFound
from tracker.wording import plural

if TYPE_CHECKING:  # the analysis is imported when the command runs
    from tracker.analysis.model import (
        Block,
        Calibration,
        CalibrationBin,
        LabelRow,
        PeriodPart,
        Report,
    )
    from tracker.store import DecisionTracker

BAR_WIDTH = 20
SPARKS = "▁▂▃▄▅▆▇█"


def _split_agents(values: tuple[str, ...]) -> list[str] | None:
    names = [name for value in values for name in re.split(r"[\s,]+", value) if name]
    return list(dict.fromkeys(names)) or None


def _until(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"not an ISO 8601 date or time: {value!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@click.command()
@click.argument("more_agents", metavar="[AGENT]...", nargs=-1)
@click.option("--days", type=click.IntRange(min=1), default=30, show_default=True,
              help="Length of the window, in days, ending now (or at --until).")
@click.option("--agents", "agents", multiple=True, metavar="NAMES",
              help="Agents to report (space or comma separated, repeatable); names after it "
                   "count too: --agents MarketAnalyst RiskManager. Default: every agent with "
                   "calls in the window.")
@click.option("--until", default=None, metavar="WHEN",
              help="End of the window, ISO 8601 (a time without zone is UTC). Default: now.")
@click.option("--outcome-type", default=None,
              help="Outcome type that judges the calls (default return_24h).")
@click.option("--band", type=click.FloatRange(min=0), default=None,
              help="HOLD band of the correctness rule (default 0.005 = 0.5%).")
@click.option("--window-hours", type=click.FloatRange(min=0, min_open=True), default=None,
              help="How far apart two calls may be to count as contradictory (default 24).")
@click.option("--no-store", is_flag=True,
              help="Do not write this run's metrics to performance_metrics.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Also write a standalone HTML report with charts to this file.")
@database_url_option
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def analyze(ctx: click.Context, more_agents: tuple[str, ...], days: int,
            agents: tuple[str, ...], until: str | None, outcome_type: str | None,
            band: float | None, window_hours: float | None, no_store: bool,
            html_path: Path | None, database_url: str | None, as_json: bool) -> None:
    """Report accuracy, calibration, inconsistencies and suggestions per agent.

    Covers each agent's own calls and the team's final decisions over the last --days,
    and stores the metrics in the tracker (performance_metrics) so trends can be queried;
    the report says how many (--no-store: none).
    """
    from tracker.analysis import analyze_performance

    settings = _settings(ctx, outcome_type, band, window_hours)
    with open_tracker(ctx, database_url) as tracker:
        report = analyze_performance(
            tracker.engine, _split_agents(agents + more_agents), days, until=_until(until),
            store_metrics=not no_store, version_names=_version_namer(ctx),
            known_agents=_configured_agents(ctx), **settings,
        )
        hint = None if report.overall.decisions else _older_data_hint(tracker, report)
    if hint:
        stderr.print(hint)
    if html_path is not None:
        from cli.html_report import render_html

        html_path.write_text(render_html(report), encoding="utf-8")
        stderr.print(f"Wrote the HTML report to {escape(str(html_path))}")
    if as_json:
        print_json(report.to_dict())
    else:
        render(report)


def _settings(ctx: click.Context, outcome_type: str | None, band: float | None,
              window_hours: float | None) -> dict[str, Any]:
    """flag > [analysis] in promptloop.toml > the library's default."""
    try:
        options = workspace(ctx).analysis.analyze_options()  # checked at load
    except WorkspaceNotFound:  # a --database-url run outside a workspace
        options = {}
    flags = {"outcome_type": outcome_type, "band": band, "window_hours": window_hours}
    return {**options, **{key: value for key, value in flags.items() if value is not None}}


def _older_data_hint(tracker: DecisionTracker, report: Report) -> str | None:
    """An empty window over older data (the bundled 2019 sample): say which --until sees it."""
    older = tracker.decisions(until=report.window.start, limit=1)
    if not older:
        return None
    newest = older[0].timestamp
    day_after = (newest + timedelta(days=1)).date().isoformat()
    return (f"Note: no decisions in this window; the newest is from "
            f"{newest:%Y-%m-%d %H:%M} UTC: try --until {day_after}")


def _configured_agents(ctx: click.Context) -> list[str]:
    """The workspace's agents; none outside a workspace (a --database-url run)."""
    try:
        return list(workspace(ctx).agents)
    except PromptRepoError:
        return []


def _version_namer(ctx: click.Context) -> Any:
    """(agent, sha) -> "vN" from the workspace's git history; None outside a workspace."""
    from prompt_repo.repo import PromptRepo

    try:
        repo = PromptRepo(workspace(ctx))
    except PromptRepoError:
        return None
    names: dict[str, dict[str, str]] = {}

    def name(agent: str, sha: str) -> str | None:
        if agent not in names:
            try:
                names[agent] = {v.sha: v.name for v in repo.log(agent)}
            except PromptRepoError:
                names[agent] = {}
        return names[agent].get(sha)

    return name


# --- terminal rendering ---------------------------------------------------------------


def _pct(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{x * 100:.{digits}f}%"


def _num(x: float | None, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def render(report: Report) -> None:
    window, params = report.window, report.parameters
    stdout.print(
        f"[bold]Performance from {window.start:%Y-%m-%dT%H:%M} to {window.end:%Y-%m-%dT%H:%M}"
        f" UTC[/] ({params.days} days; judged by {escape(params.outcome_type)}, "
        f"HOLD band {params.band:g})"
    )
    if report.stored_metrics:
        stdout.print(f"Stored {plural(report.stored_metrics, 'metric')} in "
                     "performance_metrics (--no-store to skip)")
    stdout.print(_summary(report))
    blocks = {"Team (final decisions)": report.overall, **report.agents}
    for title, block in blocks.items():
        _render_block(title, block)


def _summary(report: Report) -> Table:
    rows = {"Team (final)": report.overall, **report.agents}
    errors = any(block.errors for block in rows.values())
    table = _table("Summary", "outc.: calls with an outcome; ret.: average realized return; "
                   "gap: mean confidence - accuracy, in points; inc.: inconsistencies")
    for column in ("", "calls", "outc.", "acc.", "ret.", "Brier", "ECE", "gap", "inc.",
                   *(("errors",) if errors else ())):
        table.add_column(column, justify="left" if not column else "right",
                         no_wrap=not column)
    for name, block in rows.items():
        cal = block.calibration
        table.add_row(
            escape(name), str(block.decisions), str(block.with_outcome),
            _pct(block.accuracy, 0), _pct(block.avg_return, 2), _num(cal.brier),
            _num(cal.ece), _gap(cal.gap), str(block.inconsistencies_found),
            *((str(block.errors),) if errors else ()),
        )
    return whole_headers(table)


def _table(title: str, caption: str | None = None) -> Table:
    return Table(title=title, title_justify="left", caption=caption, caption_justify="left",
                 box=box.SIMPLE_HEAD, pad_edge=False)


def _gap(gap: float | None) -> str:
    if gap is None:
        return "–"
    color = "red" if abs(gap) >= 0.1 else "yellow" if abs(gap) >= 0.05 else "green"
    return f"[{color}]{gap * 100:+.0f}[/]"


def _render_block(title: str, block: Block) -> None:
    stdout.rule(f"[bold]{escape(title)}[/]")
    if not block.decisions:
        for warning in block.calibration.warnings:
            stdout.print(f"[yellow]! {escape(warning)}[/]")
        return
    stdout.print(_conditions(block))
    if block.by_prompt_version:
        stdout.print(_versions(block))
    if block.by_label:
        stdout.print(_labels(block.by_label))
    stdout.print(_reliability(block.calibration))
    stdout.print(f"[bold]Calibration:[/] {escape(block.calibration.verdict)}")
    for warning in block.calibration.warnings:
        stdout.print(f"[yellow]! {escape(warning)}[/]")
    _render_over_time(block.over_time)
    _render_findings(block)


def _conditions(block: Block) -> Table:
    table = _table("By market condition")
    for column in ("condition", "calls", "with outcome", "accuracy", "BUY", "SELL", "HOLD"):
        table.add_column(column, justify="left" if column == "condition" else "right")
    for condition, part in block.by_market_condition.items():
        mix = part.actions
        table.add_row(escape(condition), str(part.decisions), str(part.with_outcome),
                      _pct(part.accuracy), str(mix["BUY"]), str(mix["SELL"]),
                      str(mix["HOLD"]))
    return whole_headers(table)


def _versions(block: Block) -> Table:
    table = _table("By prompt version")
    for column in ("version", "calls", "outc.", "accuracy", "95% interval", "Brier", "used"):
        table.add_column(column, justify="left" if column in ("version", "used") else "right")
    for sha, part in block.by_prompt_version.items():
        name = part.version if sha.startswith(part.version) else f"{part.version} {sha[:7]}"
        used = part.first_seen if part.first_seen == part.last_seen else (
            f"{part.first_seen}..{part.last_seen[5:]}")
        table.add_row(escape(name), str(part.decisions), str(part.with_outcome),
                      _pct(part.accuracy), _interval(part.ci_low, part.ci_high),
                      _num(part.brier), used)
    return whole_headers(table)


def _interval(low: float | None, high: float | None) -> str:
    return "–" if low is None or high is None else f"{low * 100:.0f}–{high * 100:.0f}%"


def _labels(rows: Sequence[LabelRow]) -> Table:
    table = _table("Production and shadow, on the decisions with a shadow call",
                   "paired test: promptloop compare")
    for column in ("label", "version", "calls", "outc.", "accuracy", "95% interval", "Brier"):
        table.add_column(column, justify="left" if column in ("label", "version") else "right")
    for row in rows:
        label = escape(row.label) + (" (shadow)" if row.shadow else "")
        table.add_row(label, escape(str(row.version)), str(row.decisions),
                      str(row.with_outcome), _pct(row.accuracy),
                      _interval(row.ci_low, row.ci_high), _num(row.brier))
    return whole_headers(table)


def _reliability(cal: Calibration) -> Table:
    table = _table("Reliability (calls with an outcome)",
                   "bar: accuracy; |: mean confidence; red: 10+ points apart")
    for column in ("confidence", "calls", "mean conf.", "accuracy", "accuracy vs confidence"):
        table.add_column(column, justify="right" if column in ("calls", "mean conf.",
                                                                 "accuracy") else "left")
    for row in cal.bins:
        table.add_row(f"{row.lo:.1f}–{row.hi:.1f}", str(row.count),
                      _num(row.mean_confidence, 2), _pct(row.accuracy), _bar(row))
    return whole_headers(table)


def _bar(row: CalibrationBin) -> str:
    """Accuracy as a bar; '|' marks the mean confidence; red when 10+ points apart."""
    if not row.count or row.accuracy is None or row.mean_confidence is None:
        return ""
    filled = round(row.accuracy * BAR_WIDTH)
    mark = min(BAR_WIDTH - 1, int(row.mean_confidence * BAR_WIDTH))
    cells = ["█" if i < filled else "·" for i in range(BAR_WIDTH)]
    cells[mark] = "|"
    far = abs(row.accuracy - row.mean_confidence) >= 0.1
    color = "red" if far else "green"
    small = " [dim](n<30)[/]" if row.count < 30 else ""
    return f"[{color}]{''.join(cells)}[/]{small}"


def _render_over_time(points: Sequence[PeriodPart]) -> None:
    values = [p.accuracy for p in points if p.accuracy is not None]
    if not values:
        return
    line = "".join(
        " " if p.accuracy is None
        else SPARKS[min(len(SPARKS) - 1, int(p.accuracy * len(SPARKS)))]
        for p in points
    )
    stdout.print(f"[bold]Accuracy over time[/] ({points[0].period} → {points[-1].period}, "
                 f"min {_pct(min(values))}, max {_pct(max(values))}): {line}")


def _render_findings(block: Block) -> None:
    counts = {k: n for k, n in block.inconsistency_counts.items() if n}
    scope = block.inconsistency_scope
    if counts:
        summary = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items())
        stdout.print(f"[bold magenta]Inconsistencies[/] ({summary}; checked "
                     f"{scope.checked} of {plural(scope.directional_calls, 'BUY/SELL call')}"
                     "):")
        for item in block.inconsistencies[:10]:
            stdout.print(f"  [magenta]•[/] {escape(item.detail)}")
    for text in block.suggestions:
        stdout.print(f"[bold cyan]➜ {escape(text)}[/]")
