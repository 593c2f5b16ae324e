"""``promptloop session run``, ``promptloop backtest`` and ``promptloop demo``.

Each command opens the workspace, calls one library function (``DecisionSession.run_session``,
``agents.backtest.run_backtest``, ``optimizer.demo.run_demo``) and renders the result. Library
modules are imported inside the commands so that ``--help`` stays light.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli.output import escape, print_json, stderr, stdout, workspace
from cli.tracker_cmds import open_tracker

if TYPE_CHECKING:
    from rich.console import Console

    from agents.backtest import BacktestResult
    from agents.roles import CallResult
    from agents.session import SessionResult
    from agents.shadow import ShadowOutput
    from tracker.analysis.model import Report

DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
MODEL_HELP = ("Model for every agent (default: each [agents.X] model, else [llm] model); handy"
              " with a local server.")
SOURCE_HELP = ("Market data: csv:FILE (an OHLCV export) or ccxt:EXCHANGE (live, needs the"
               " [exchange] extra). Default: the bundled sample of real BTC-USD hourly candles.")


LABEL_HELP = ("Run each agent's prompt under this label (agents without it: production)."
              " Default: production, i.e. the pinned version, else the newest.")
SHADOW_HELP = ("AGENT=LABEL: also run AGENT's LABEL prompt on the same inputs, recorded as a"
               " shadow output and never acted on. Repeatable; adds to [shadow] in"
               " promptloop.toml.")


def _shadow_option(values: tuple[str, ...]) -> dict[str, str] | None:
    pairs = [value.partition("=") for value in values]
    if any(not agent or not sep or not label for agent, sep, label in pairs):
        raise click.BadParameter("write AGENT=LABEL, e.g. MarketAnalyst=candidate",
                                 param_hint="--shadow")
    return {agent: label for agent, _, label in pairs} or None


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# -- session run -------------------------------------------------------------------------


@click.group(help="Run the agent team (MarketAnalyst -> RiskManager -> TradingAdvisor by "
             "default, from [team] in promptloop.toml) and record its decision.")
def session() -> None:
    pass


@session.command("run", help="Run the team once on the latest market data and record the "
                 "decision with every agent's output and prompt version.")
@click.option("--symbol", default="BTCUSDT", show_default=True, help="The symbol to decide on.")
@click.option("--source", default=None, help=SOURCE_HELP)
@click.option("--timeframe", default="1h", show_default=True,
              help="Candle timeframe of a ccxt source.")
@click.option("--at", "at", type=click.DateTime(DATE_FORMATS), default=None,
              help="Decide as of this moment (UTC), seeing only candles complete before it.")
@click.option("--model", default=None, help=MODEL_HELP)
@click.option("--label", default="production", show_default=True, help=LABEL_HELP)
@click.option("--shadow", multiple=True, metavar="AGENT=LABEL", help=SHADOW_HELP)
@click.option("--no-track", is_flag=True, help="Do not record the decision in the tracker.")
@click.option("--no-cache", is_flag=True, help="Bypass the on-disk LLM response cache.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@click.pass_context
def run(ctx: click.Context, symbol: str, source: str | None, timeframe: str,
        at: datetime | None, model: str | None, label: str, shadow: tuple[str, ...],
        no_track: bool, no_cache: bool, as_json: bool) -> None:
    from agents.session import DecisionSession, SessionFailed, make_client, market_from_spec

    ws = workspace(ctx)
    market = market_from_spec(source, symbol, timeframe)
    try:
        with make_client(ws, use_cache=not no_cache) as client:
            result = DecisionSession(
                symbol, not no_track, workspace=ws, market=market, client=client,
                when=_utc(at) if at else None, model=model, label=label,
                shadow=_shadow_option(shadow),
            ).run_session()
    except SessionFailed as exc:
        if not as_json:
            _render_outputs(exc.outputs, stderr)
        raise
    if as_json:
        print_json(_session_json(result))
        return
    _render_outputs(result.outputs, stdout)
    _render_shadows(result.shadow_outputs, stdout)
    veto = " (vetoed by the risk manager)" if result.vetoed else ""
    stdout.print(f"Decision: [bold]{result.action}[/bold]{veto} confidence"
                 f" {result.confidence:.2f}, risk {result.risk_level},"
                 f" market {escape(str(result.market_condition))}"
                 f" at {result.timestamp:%Y-%m-%d %H:%M}")
    if result.decision_id is not None:
        stdout.print(f"Recorded as decision {result.decision_id} (session {result.session_id}).")
    else:
        stdout.print("Not recorded (--no-track).")


def _session_json(result: Any) -> dict[str, Any]:
    return {
        "session_id": result.session_id, "symbol": result.symbol,
        "timestamp": result.timestamp.isoformat(), "decision_id": result.decision_id,
        "action": result.action, "confidence": result.confidence,
        "risk_level": result.risk_level, "reasoning": result.reasoning,
        "market_condition": result.market_condition, "vetoed": result.vetoed,
        "outputs": [
            {key: value for key, value in out.to_output_row().items() if key != "raw_output"}
            | {"cached": out.cached}
            for out in result.outputs
        ],
        "shadow_outputs": [
            {key: value for key, value in shadow.to_output_row().items() if key != "raw_output"}
            for shadow in result.shadow_outputs
        ],
    }


def _render_outputs(outputs: list[CallResult], console: Console) -> None:
    """One line per agent and its reasoning below (reasoning is long: no table cell)."""
    for out in outputs:
        sha = (out.prompt_sha or "")[:7]
        answer = out.answer
        if answer is None:
            console.print(f"[bold]{escape(out.agent)}[/bold] [red]error[/red] (prompt {sha})")
            console.print(f"   {escape(out.error or '')}")
            continue
        console.print(f"[bold]{escape(out.agent)}[/bold] {answer.action} confidence"
                      f" {answer.confidence:.2f} risk {answer.risk_level} (prompt {sha})")
        console.print(f"   {escape(answer.reasoning)}")


def _render_shadows(shadows: list[ShadowOutput], console: Console) -> None:
    for shadow in shadows:
        out, label = shadow.result, escape(shadow.label)
        what = (f"{out.answer.action} confidence {out.answer.confidence:.2f}" if out.answer
                else f"[red]error[/red] {escape(out.error or '')}")
        console.print(f"[dim]shadow[/dim] [bold]{escape(out.agent)}[/bold] ({label},"
                      f" prompt {(out.prompt_sha or '')[:7]}) {what}; not acted on")


# -- backtest ----------------------------------------------------------------------------


@click.command(help="Run the team every --every over [--from, --to] of historical data, "
               "recorded as simulated decisions with outcomes resolved from the same data. "
               "Resumable: run the same command again to continue after an interruption.")
@click.option("--symbol", default="BTCUSDT", show_default=True, help="The symbol to backtest.")
@click.option("--from", "start", type=click.DateTime(DATE_FORMATS), required=True,
              help="First session moment (UTC), e.g. 2019-06-01.")
@click.option("--to", "end", type=click.DateTime(DATE_FORMATS), required=True,
              help="Last session moment (UTC, inclusive).")
@click.option("--every", default="4h", show_default=True,
              help="Step between sessions: 30m, 4h, 1d...")
@click.option("--source", default=None, help=SOURCE_HELP)
@click.option("--timeframe", default="1h", show_default=True,
              help="Candle timeframe of a ccxt source.")
@click.option("--horizon", default="24h", show_default=True,
              help="Outcome horizon: the forward return over this time.")
@click.option("--concurrency", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Sessions run at the same time.")
@click.option("--model", default=None, help=MODEL_HELP)
@click.option("--label", default="production", show_default=True, help=LABEL_HELP)
@click.option("--shadow", multiple=True, metavar="AGENT=LABEL", help=SHADOW_HELP)
@click.option("--no-cache", is_flag=True, help="Bypass the on-disk LLM response cache.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.pass_context
def backtest(ctx: click.Context, symbol: str, start: datetime, end: datetime, every: str,
             source: str | None, timeframe: str, horizon: str, concurrency: int,
             model: str | None, label: str, shadow: tuple[str, ...], no_cache: bool,
             as_json: bool) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from agents.backtest import parse_every, run_backtest
    from agents.session import make_client, market_from_spec

    ws = workspace(ctx)
    step = parse_every(every)
    columns = ("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())
    with open_tracker(ctx) as tracker, make_client(ws, use_cache=not no_cache) as client, \
            Progress(*columns, console=stderr, disable=as_json) as progress:
        task = progress.add_task(f"Backtesting {escape(symbol)}", total=None)

        def advance(done: int, total: int, _result: SessionResult | None) -> None:
            progress.update(task, completed=done, total=total)

        try:
            result = run_backtest(
                ws, symbol, _utc(start), _utc(end), every=step,
                market=market_from_spec(source, symbol, timeframe),
                client=client, tracker=tracker, concurrency=concurrency,
                horizon=horizon, model=model, on_progress=advance,
                label=label, shadow=_shadow_option(shadow),
            )
        except KeyboardInterrupt:
            stderr.print("Interrupted. Sessions finished so far are recorded; run the same"
                         " command again to resume.")
            ctx.exit(130)
    _print_backtest(result, as_json)


def _print_backtest(result: BacktestResult, as_json: bool) -> None:
    summary = {
        "session_id": result.session_id, "planned": result.planned,
        "skipped": result.skipped, "ran": result.ran, "failed": len(result.failed),
        "outcomes": result.outcomes, "decision_ids": result.decision_ids,
        "failures": [{"timestamp": when.isoformat(), "error": error}
                     for when, error in result.failed],
    }
    if as_json:
        print_json(summary)
        return
    stdout.print(f"Backtest {result.session_id}: {result.planned} moments, {result.skipped}"
                 f" already recorded, {result.ran} sessions recorded, {len(result.failed)}"
                 f" without a decision; {result.outcomes} outcomes resolved.")
    for when, error in result.failed:
        stdout.print(f"  no decision at {when:%Y-%m-%d %H:%M}: {escape(error)}")


# -- demo --------------------------------------------------------------------------------


@click.command(help="Run the whole loop on bundled data with no key: a fresh workspace, a "
               "SYNTHETIC decision log over REAL sample prices, analyze, optimize (heuristic "
               "engine), the diff, the log, and a rollback.")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--llm", is_flag=True,
              help="Run real team sessions through the configured LLM instead of the "
              "synthetic log, and optimize with the llm engine.")
@click.option("--sessions", type=click.IntRange(1, 200), default=12, show_default=True,
              help="With --llm: how many team sessions to run.")
@click.option("--json", "as_json", is_flag=True, help="Print every step as one JSON object.")
def demo(directory: Path | None, llm: bool, sessions: int, as_json: bool) -> None:
    from optimizer.demo import run_demo

    shown = [0]

    def on_step(step: Any) -> None:
        shown[0] += 1
        if not as_json:
            stdout.print(f"\n[bold cyan]{shown[0]}. {escape(step.explanation)}[/bold cyan]")
            render = _RENDER.get(step.name)
            if render is not None:
                render(step.data)

    report = run_demo(directory, llm=llm, sessions=sessions, on_step=on_step)
    if as_json:
        print_json({"root": str(report.root), "steps": [
            {"name": s.name, "explanation": s.explanation, "data": _json_data(s.data)}
            for s in report.steps]})
        return
    root = escape(str(report.root))
    stdout.print(f"\nDone. The workspace is {root}; explore it with"
                 f" promptloop -C {root} log --agent MarketAnalyst (or show, diff, decisions).")


def _json_data(data: dict[str, Any]) -> dict[str, Any]:
    """A step's data as JSON: the analysis report as its documented document."""
    from tracker.analysis.model import Report

    return {key: value.to_dict() if isinstance(value, Report) else value
            for key, value in data.items()}


def _render_decisions(data: dict[str, Any]) -> None:
    stdout.print(f"   session id {escape(str(data.get('session_id')))},"
                 f" simulated, synthetic={data.get('synthetic')}")


SUGGESTIONS_PER_AGENT = 2  # the demo's table stays one screen


def _render_analysis(data: dict[str, Any]) -> None:
    from rich.table import Table

    report: Report = data["report"]
    table = Table("agent", "decisions", "accuracy", "brier", "ece", "inconsistencies")
    for name, block in report.agents.items():
        table.add_row(escape(name), str(block.decisions), _num(block.accuracy),
                      _num(block.calibration.brier), _num(block.calibration.ece),
                      str(block.inconsistencies_found))
    stdout.print(table)
    shown = 0
    for name, block in report.agents.items():
        for line in block.suggestions[:SUGGESTIONS_PER_AGENT]:
            stdout.print(f"   {escape(name)}: {escape(str(line))}")
            shown += 1
    total = data.get("suggestions", shown)
    if total > shown:
        stdout.print(f"   ({shown} of {total} suggestions shown, the first "
                     f"{SUGGESTIONS_PER_AGENT} per agent; promptloop analyze lists them all)")


def _render_optimize(data: dict[str, Any]) -> None:
    from rich.table import Table

    before, after = data.get("scores_before") or {}, data.get("scores_after") or {}
    table = Table("score", "before", "after", caption="lower ambiguity is better",
                  caption_justify="left")
    for key in before:
        table.add_row(key, _num(before.get(key), 1), _num(after.get(key), 1))
    stdout.print(table)
    for gate in data.get("gates") or []:
        mark = "[green]pass[/green]" if gate["passed"] else "[red]fail[/red]"
        stdout.print(f"   gate {escape(gate['name'])}: {mark} {escape(str(gate['detail']))}")


def _render_diff(data: dict[str, Any]) -> None:
    for line in (data.get("diff") or "").splitlines():
        style = None
        if line.startswith("@@"):
            style = "cyan"
        elif line.startswith("+") and not line.startswith("+++"):
            style = "green"
        elif line.startswith("-") and not line.startswith("---"):
            style = "red"
        stdout.print(escape(line), style=style)


def _render_versions(data: dict[str, Any]) -> None:
    for version in data.get("versions") or []:
        stdout.print(f"   {version['version']}  {version['sha']}  {escape(version['subject'])}")


_RENDER: dict[str, Callable[[dict[str, Any]], None]] = {
    "decisions": _render_decisions,
    "analyze": _render_analysis,
    "optimize": _render_optimize,
    "diff": _render_diff,
    "log": _render_versions,
    "rollback": _render_versions,
}


def _num(value: Any, digits: int = 3) -> str:
    return "-" if value is None else f"{float(value):.{digits}f}"
