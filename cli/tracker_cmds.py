"""Tracker commands: record, outcome, outcomes resolve, decisions, db upgrade|current.

Each opens the workspace's database (``--database-url`` > ``PROMPTLOOP_DATABASE_URL`` >
promptloop.toml > the SQLite file under .promptloop/), calls one library function and
renders. Opening an older database upgrades it; the notice goes to stderr so stdout stays
clean for ``--json``. ``--json`` shapes are documented in docs/tracker.md.

``record`` reads its input as bytes and lets the tracker decode it, so invalid UTF-8 is a
one-line refusal naming the line; a closed stdin (``<&-``) is one line too.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich import box
from rich.table import Table

from cli.output import escape, print_json, stderr, stdout, whole_headers, workspace
from prompt_repo.errors import WorkspaceNotFound
from tracker.wording import plural

if TYPE_CHECKING:
    from tracker.store import DecisionRecord, DecisionTracker

JSON_HELP = "Print JSON (documented, stable keys) instead of text."
DB_HELP = "Database URL (overrides PROMPTLOOP_DATABASE_URL and promptloop.toml)."
database_url_option = click.option("--database-url", default=None, help=DB_HELP)


def resolve_database_url(ctx: click.Context, flag: str | None) -> str:
    """flag > PROMPTLOOP_DATABASE_URL > promptloop.toml > default; a URL given by flag or
    environment also works outside a workspace (a bot feeding a shared PostgreSQL)."""
    from prompt_repo.config import resolve

    try:
        return workspace(ctx, database_url=flag).database_url
    except WorkspaceNotFound:
        url = resolve(flag, "PROMPTLOOP_DATABASE_URL", None, None)
        if url is None:
            raise
        return str(url)


@contextmanager
def open_tracker(ctx: click.Context, flag: str | None = None) -> Iterator[DecisionTracker]:
    """The workspace's tracker; prints the upgrade notice when an old database was upgraded."""
    from tracker.store import DecisionTracker

    tracker = DecisionTracker(resolve_database_url(ctx, flag))
    try:
        if tracker.upgrade_notice is not None:
            stderr.print(f"Note: {escape(str(tracker.upgrade_notice))}")
        yield tracker
    finally:
        tracker.close()


@click.command()
@click.argument("source", default="-", type=click.Path(dir_okay=False, allow_dash=True))
@database_url_option
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def record(ctx: click.Context, source: str, database_url: str | None, as_json: bool) -> None:
    """Record decisions read from SOURCE (a file, or - for stdin: the default).

    SOURCE holds one JSON object, a JSON array of objects, or JSON Lines (one object per
    line). Each object has the fields of DecisionTracker.track_decision: session_id,
    symbol, timestamp (ISO 8601 with a zone), action, confidence, and optionally
    risk_level, reasoning, market_condition, is_simulated, agent_types, context,
    prompt_versions, agent_outputs. All or nothing: one bad record refuses the batch,
    naming its line (JSON Lines) or item (array).
    """
    from tracker.validation import decode_input, parse_records

    records = parse_records(decode_input(_read_source(source)))
    with open_tracker(ctx, database_url) as tracker:
        ids = tracker.track_records(records)
    if as_json:
        print_json({"recorded": len(ids), "ids": ids})
    elif ids:
        span = f"id {ids[0]}" if len(ids) == 1 else f"ids {ids[0]}..{ids[-1]}"
        stdout.print(f"Recorded {len(ids)} decision{'s' * (len(ids) != 1)} ({span}).")
    else:
        stdout.print("Nothing to record: the input is empty.")


@click.command()
@click.argument("decision_id", type=int)
@click.option("--type", "outcome_type", default="return_24h", show_default=True,
              help="Outcome type (analysis reads return_24h unless told otherwise).")
@click.option("--value", type=float, required=True, help="Outcome value, e.g. a return 0.012.")
@click.option("--details", default=None, help="A JSON object stored with the outcome.")
@database_url_option
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def outcome(ctx: click.Context, decision_id: int, outcome_type: str, value: float,
            details: str | None, database_url: str | None, as_json: bool) -> None:
    """Record the outcome of decision DECISION_ID (one per decision and type)."""
    parsed = _json_object(details, "--details")
    with open_tracker(ctx, database_url) as tracker:
        outcome_id = tracker.track_decision_outcome(decision_id, outcome_type, value, parsed)
    if as_json:
        print_json({"id": outcome_id, "decision_id": decision_id, "outcome_type": outcome_type,
                    "outcome_value": value})
    else:
        stdout.print(f"Recorded outcome {outcome_id} ({escape(outcome_type)} = {value:g}) "
                     f"for decision {decision_id}.")


@click.group()
def outcomes() -> None:
    """Resolve outcomes of recorded decisions."""


@outcomes.command("resolve")
@click.option("--horizon", default="24h", show_default=True,
              help="Forward-return horizon: a number and m, h, d or w. The outcome type "
                   "is return_<horizon>.")
@click.option("--band", type=float, default=None,
              help="HOLD band for the correctness judgement (default 0.005).")
@click.option("--prices", "prices_path", required=True, metavar="FILE|sample",
              help="OHLCV CSV file (timestamp,open,high,low,close,volume), or 'sample': the "
                   "bundled hourly BTC-USD candles of 2019-04-01..2019-09-30 "
                   "(agents/data/BTCUSD_coinbase_1h.csv), read as BTCUSDT.")
@click.option("--symbol", default=None,
              help="Resolve only this symbol (and read the CSV as this symbol's prices; "
                   "without it the CSV answers for every symbol, the sample for BTCUSDT).")
@database_url_option
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def resolve(ctx: click.Context, horizon: str, band: float | None, prices_path: str,
            symbol: str | None, database_url: str | None, as_json: bool) -> None:
    """Record the forward return of every decision without one, from a price file.

    A decision is resolved only when the prices reach its time + horizon (no look-ahead);
    running it again adds nothing new.
    """
    from tracker.prices import CsvPriceSource
    from tracker.resolve import resolve_outcomes
    from tracker.rules import DEFAULT_BAND

    path, symbol = _price_file(prices_path, symbol)
    source = CsvPriceSource(path, symbol)
    with open_tracker(ctx, database_url) as tracker:
        report = resolve_outcomes(tracker, source, horizon, DEFAULT_BAND if band is None
                                  else band, symbol)
    if as_json:
        print_json(report.to_dict())
        return
    stdout.print(f"Resolved {report.resolved} of {plural(report.examined, 'decision')} without "
                 f"{report.outcome_type}; {report.pending} still pending (no price yet).")


def _price_file(value: str, symbol: str | None) -> tuple[str, str | None]:
    """The CSV to read and the symbol it answers for; 'sample' is the bundled BTCUSDT file."""
    if value == "sample":
        from agents.market import sample_data_path

        return str(sample_data_path(symbol or "BTCUSDT")), symbol or "BTCUSDT"
    if not Path(value).is_file():
        raise click.BadParameter(
            f"no such file: {value!r} (the bundled sample is --prices sample)",
            param_hint="'--prices'",
        )
    return value, symbol


@click.command()
@click.option("--agent", default=None, help="Only decisions this agent answered in.")
@click.option("--symbol", default=None, help="Only this symbol.")
@click.option("--days", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Only the last N days (default: all).")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True,
              help="At most this many, newest first.")
@database_url_option
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def decisions(ctx: click.Context, agent: str | None, symbol: str | None, days: float | None,
              limit: int, database_url: str | None, as_json: bool) -> None:
    """List recorded decisions, newest first, with their outcomes."""
    since = None if days is None else datetime.now(UTC) - timedelta(days=days)
    with open_tracker(ctx, database_url) as tracker:
        found = tracker.decisions(agent=agent, symbol=symbol, since=since, limit=limit)
    if as_json:
        print_json([record.to_dict() for record in found])
        return
    if not found:
        stdout.print("No decisions.")
        return
    stdout.print(_decision_table(found))


NARROW = 100  # terminal columns under which the decisions table packs itself


def _decision_table(found: list[DecisionRecord]) -> Table:
    table = Table("id", "time (UTC)", "symbol", "action", "conf.", "condition", "agents",
                  "outcomes", box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0), show_edge=False)
    for index in (0, 2, 3, 4):
        table.columns[index].no_wrap = True
    if stdout.width < NARROW:  # 80 columns or a pipe: the date over the time, names whole
        table.columns[1].width = len("2026-01-01")
        names = [f"{o['agent']}:" for record in found for o in (record.outputs or [])]
        table.columns[6].min_width = min(15, max(map(len, names), default=0))
        table.columns[7].max_width = len("return_24h:")
    for record in found:
        agents = "\n".join(
            f"{o['agent']}: " + (f"{o['action']} {o['confidence']:.2f}" if o["action"]
                                 else "error")
            for o in (record.outputs or [])
        )
        outcomes_text = "\n".join(
            f"{kind}: {item['value']:+.4f}" for kind, item in record.outcomes.items()
        )
        table.add_row(str(record.id), f"{record.timestamp:%Y-%m-%d %H:%M}",
                      escape(record.symbol), record.action, f"{record.confidence:.2f}",
                      escape(record.market_condition or "-"), escape(agents or "-"),
                      escape(outcomes_text or "-"))
    return whole_headers(table)


@click.group()
def db() -> None:
    """Upgrade or inspect the tracker database schema."""


@db.command("upgrade")
@database_url_option
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def db_upgrade(ctx: click.Context, database_url: str | None, as_json: bool) -> None:
    """Bring the database schema to the newest revision (creating it if needed)."""
    from tracker.db import create_engine, head_revision, upgrade_schema

    engine = create_engine(resolve_database_url(ctx, database_url))
    try:
        report = upgrade_schema(engine)
    finally:
        engine.dispose()
    if as_json:
        print_json({"upgraded": report is not None, "from": report and report.from_revision,
                    "to": head_revision()})
    elif report is None:
        stdout.print(f"Already at the newest schema revision ({head_revision()}).")
    else:
        stdout.print(escape(str(report).capitalize()) + ".")


@db.command("current")
@database_url_option
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def db_current(ctx: click.Context, database_url: str | None, as_json: bool) -> None:
    """Show the database's schema revision and whether an upgrade is due (changes nothing)."""
    from tracker.db import create_engine, current_revision, head_revision

    engine = create_engine(resolve_database_url(ctx, database_url))
    try:
        current = current_revision(engine)
    finally:
        engine.dispose()
    head = head_revision()
    if as_json:
        print_json({"current": current, "head": head, "up_to_date": current == head})
    elif current is None:
        stdout.print(f"No tracker schema yet (newest revision: {head}); any command creates it.")
    elif current == head:
        stdout.print(f"Schema revision {current} (up to date).")
    else:
        stdout.print(f"Schema revision {current}; newest is {head}: "
                     "run 'promptloop db upgrade'.")


def _read_source(source: str) -> bytes:
    """The bytes of SOURCE: a file, or stdin for "-" (None when the shell closed it)."""
    if source != "-":
        try:
            with open(source, "rb") as file:
                return file.read()
        except OSError as exc:
            raise click.ClickException(f"cannot read {source}: {exc.strerror}") from None
    if sys.stdin is None:
        raise click.ClickException(
            "no input: stdin is closed; name a file or pipe the records in"
        )
    return sys.stdin.buffer.read()


def _json_object(text: str | None, option: str) -> dict[str, Any] | None:
    import json

    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not valid JSON ({exc.msg})", param_hint=option) from None
    except (RecursionError, ValueError):  # nested too deep, or a number too long to read
        raise click.BadParameter("nested too deep or holding a number too long to read",
                                 param_hint=option) from None
    if not isinstance(value, dict):
        raise click.BadParameter("expected a JSON object", param_hint=option)
    return value
