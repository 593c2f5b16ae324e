"""``analyze_performance``: the whole report as a typed :class:`~tracker.analysis.model.Report`,
and stored metrics.

The report is frozen dataclasses (:mod:`tracker.analysis.model`); its ``to_dict()`` is
exactly what ``promptloop analyze --json`` prints (schema in docs/analysis.md; its core is
fixed by DESIGN.md), called only where the report leaves as JSON.

The work is one GROUP BY over the agents' calls, one over the final decisions, and per
block the fetch of the calls the inconsistency checks need.
The two GROUP BYs run on their own connections in worker threads while the main thread
fetches and checks the calls for inconsistencies (the database works outside the GIL; see
:class:`_CellsJob` for how the threads share it). Each reads in its own transaction; they
may see a decision recorded in between, which moves nothing that matters in a report over
days.

The metrics of the run are then written to ``performance_metrics`` in one write
transaction, stamped with the window, so trends can be queried later (``agent_type`` is the
agent's name, or ``overall`` for the team).

``agent_findings`` reduces one agent's block to short factual lines for the optimizer's
critic prompt.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import SingletonThreadPool, StaticPool

from tracker.analysis import calibration, inconsistencies, metrics, sql, suggestions
from tracker.analysis.labels import label_blocks
from tracker.analysis.model import Block, Finding, LabelRow, Parameters, Report, Scope
from tracker.contradiction import DEFAULT_RULE, ContradictionRule
from tracker.db import read_transaction
from tracker.errors import UnknownAgentError, ValidationError
from tracker.rules import DEFAULT_BAND, DEFAULT_OUTCOME_TYPE
from tracker.wording import plural

OVERALL = "overall"
WEEKLY_AFTER_DAYS = 62  # longer windows are reported per week
MAX_CHECKED = 5_000  # BUY/SELL calls per block the inconsistency checks read, newest first
MAX_LISTED = 20  # findings listed per kind (all are counted)

VersionNames = Callable[[str, str], str | None]  # (agent, sha) -> "v3", or None


def analyze_performance(
    engine: Engine,
    agents: list[str] | None = None,
    days: int = 30,
    *,
    until: datetime | None = None,
    outcome_type: str = DEFAULT_OUTCOME_TYPE,
    band: float = DEFAULT_BAND,
    store_metrics: bool = True,
    version_names: VersionNames | None = None,
    window_hours: float = DEFAULT_RULE.window_hours,
    rsi_tolerance: float = DEFAULT_RULE.rsi_tolerance,
    max_checked: int = MAX_CHECKED,
    max_listed: int = MAX_LISTED,
    known_agents: Iterable[str] | None = None,
) -> Report:
    """Analyze the ``days`` before ``until`` (default: now) for ``agents`` (None: every agent
    with calls in the window) and for the team's final decisions.

    Given ``known_agents`` (the workspace's configured agents), a named agent must be one of
    them or have recorded calls at any time; any other name is refused
    (:class:`UnknownAgentError`). Without it every name gets a block, empty if need be."""
    window, rule = _window(days, until), ContradictionRule(window_hours, rsi_tolerance)
    if band < 0 or max_checked < 0 or max_listed < 0:
        raise ValidationError("band must be >= 0, limits >= 0")
    if agents is not None and known_agents is not None:
        _refuse_unknown(engine, agents, known_agents)
    period = "week" if days > WEEKLY_AFTER_DAYS else "day"
    parameters = Parameters(days, outcome_type, band, period, window_hours, rsi_tolerance,
                            max_checked)
    report = _report(engine, agents, window, parameters, version_names, rule, max_listed)
    return replace(report, stored_metrics=store(engine, report)) if store_metrics else report


def _report(
    engine: Engine, agents: list[str] | None, window: sql.Window, parameters: Parameters,
    version_names: VersionNames | None, rule: ContradictionRule, max_listed: int,
) -> Report:
    """The report without stored metrics: the blocks from the cells and the checks."""
    common: dict[str, Any] = dict(window=window, outcome_type=parameters.outcome_type,
                                  band=parameters.band, weekly=parameters.period == "week")
    final, calls, checks = _gather(engine, agents, common, rule, parameters.max_checked,
                                   max_listed)
    with read_transaction(engine) as conn:  # production and its shadows, same decisions
        shadows = label_blocks(conn, window, parameters.outcome_type, parameters.band, agents,
                               version_names)
    names = [name for name in checks if name is not None]
    per_agent: dict[str, list[metrics.Cell]] = {name: [] for name in names}
    for cell in calls:
        if cell.agent in per_agent:
            per_agent[cell.agent].append(cell)
    return Report(window, parameters, _block(None, final, checks[None], None), {
        name: _block(name, per_agent[name], checks[name], version_names,
                     tuple(shadows.get(name, [])))
        for name in names
    })


def _gather(
    engine: Engine, agents: list[str] | None, common: dict[str, Any], rule: ContradictionRule,
    max_checked: int, max_listed: int,
) -> tuple[list[metrics.Cell], list[metrics.Cell], dict[str | None, _Checks]]:
    """The final decisions' cells, the agents' cells and the checks per block (None: the
    team); the two GROUP BYs on worker threads when the database allows it."""
    window = common["window"]
    if not _shareable(engine):  # one connection: one after the other
        with read_transaction(engine) as conn:
            final = metrics.fetch_cells(conn, agent=False, **common)
            fetched = _fetch_checked(conn, agents, window, max_checked)
            calls = metrics.fetch_cells(conn, agent=True, agents=agents, **common)
        return final, calls, _check_all(fetched, rule, max_listed, [])
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = [_CellsJob(pool, engine, dict(common, agent=False)),
                _CellsJob(pool, engine, dict(common, agent=True, agents=agents))]
        with read_transaction(engine) as conn:
            fetched = _fetch_checked(conn, agents, window, max_checked)
        checks = _check_all(fetched, rule, max_listed, jobs)
        final, calls = (job.future.result() for job in jobs)
    return final, calls, checks


def _fetch_checked(conn: Connection, agents: list[str] | None, window: sql.Window,
                   max_checked: int) -> dict[str | None, list[inconsistencies.Call]]:
    """The calls the inconsistency checks read, per block (None: the team)."""
    names = list(dict.fromkeys(agents)) if agents is not None else _agents_in(conn, window)
    return {
        name: inconsistencies.fetch_calls(conn, window, name, max_checked) if max_checked else []
        for name in [None, *names]
    }


def _check_all(
    fetched: dict[str | None, list[inconsistencies.Call]], rule: ContradictionRule,
    max_listed: int, jobs: list[_CellsJob],
) -> dict[str | None, _Checks]:
    checks = {}
    for name, rows in fetched.items():
        for job in jobs:
            job.yield_to_reading()
        checks[name] = _Checks(*inconsistencies.find(rows, rule, max_listed), len(rows))
    return checks


class _CellsJob:
    """One block's GROUP BY on its own connection and read transaction, in a worker thread.

    The database sorts outside the GIL, so the main thread's Python (the inconsistency
    checks) runs alongside. Reading the rows is another matter: the worker needs the GIL
    for every row, and a busy main thread would hand it over only every switch interval
    (5 ms a row). So ``reading`` is set once the sort is done (``execute`` returned), and
    the main thread waits for the rows to be read (:meth:`yield_to_reading`) before each
    stretch of Python.
    """

    def __init__(self, pool: ThreadPoolExecutor, engine: Engine, options: dict[str, Any]):
        self.reading = threading.Event()
        self.future = pool.submit(self._run, engine, options)

    def _run(self, engine: Engine, options: dict[str, Any]) -> list[metrics.Cell]:
        try:
            with read_transaction(engine) as conn:
                query, unpack = metrics.cells_query(conn, **options)
                result = conn.execute(query)
                self.reading.set()
                return metrics.read_cells(result, unpack)
        finally:
            self.reading.set()

    def yield_to_reading(self) -> None:
        if self.reading.is_set():
            self.future.result()


def _shareable(engine: Engine) -> bool:
    """Whether a second connection sees the same database (not so for SQLite in memory)."""
    return not isinstance(engine.pool, (SingletonThreadPool, StaticPool))


def _refuse_unknown(engine: Engine, agents: list[str], configured: Iterable[str]) -> None:
    known = list(dict.fromkeys(configured))
    if all(name in known for name in agents):
        return
    with read_transaction(engine) as conn:
        recorded = conn.execute(sa.select(sql.OUTPUTS.c.agent).distinct()).scalars()
        known += sorted(set(recorded) - set(known))
    unknown = [name for name in agents if name not in known]
    if unknown:
        raise UnknownAgentError(
            f"unknown agent{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}: neither "
            f"configured nor recorded (known: {', '.join(known) or 'none'})"
        )


def _agents_in(conn: Connection, window: sql.Window) -> list[str]:
    outputs = sql.OUTPUTS
    query = (
        sa.select(outputs.c.agent).distinct()
        .where(outputs.c.timestamp >= window.start, outputs.c.timestamp < window.end,
               outputs.c.is_shadow.is_(sa.false()))
        .order_by(outputs.c.agent)
    )
    return list(conn.execute(query).scalars())


def _window(days: int, until: datetime | None) -> sql.Window:
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValidationError(f"days must be a whole number >= 1, got {days!r}")
    end = datetime.now(UTC) if until is None else until
    if end.tzinfo is None:
        raise ValidationError("until must carry a time zone")
    end = end.astimezone(UTC)
    return sql.Window(end - timedelta(days=days), end)


@dataclass(frozen=True)
class _Checks:
    listed: list[Finding]
    counts: dict[str, int]
    checked: int


def _block(
    agent: str | None,
    cells: list[metrics.Cell],
    checks: _Checks,
    version_names: VersionNames | None,
    by_label: tuple[LabelRow, ...] | None = None,
) -> Block:
    whole = metrics.total(cells)
    directional = whole.actions.get("BUY", 0) + whole.actions.get("SELL", 0)
    namer = (lambda sha: version_names(agent, sha)) if version_names and agent else None
    cal = calibration.calibration(cells)
    if agent and not whole.decisions:
        cal = replace(cal, warnings=(f"no calls by {agent} in the window", *cal.warnings))
    block = Block(
        *metrics.headline(whole),
        errors=metrics.errors(cells),
        actions={a: whole.actions.get(a, 0) for a in ("BUY", "SELL", "HOLD")},
        calibration=cal,
        by_market_condition=metrics.by_market_condition(cells),
        by_prompt_version=metrics.by_prompt_version(cells, namer) if agent else {},
        over_time=tuple(metrics.over_time(cells)),
        inconsistencies=tuple(checks.listed),
        inconsistency_counts=checks.counts,
        inconsistency_scope=Scope(checks.checked, directional),
        suggestions=(),
        by_label=by_label,
    )
    return replace(block, suggestions=tuple(suggestions.suggest(agent or "The team", cells,
                                                                 block)))


def metric_rows(report: Report) -> list[dict[str, Any]]:
    """The rows a run stores in performance_metrics (None values are skipped)."""
    blocks = {OVERALL: report.overall, **report.agents}
    now = datetime.now(UTC)
    rows = []
    for name, block in blocks.items():
        values: dict[str, float | None] = {
            "decisions": block.decisions, "with_outcome": block.with_outcome,
            "errors": block.errors, "accuracy": block.accuracy, "avg_return": block.avg_return,
            "mean_confidence": block.mean_confidence, "brier": block.calibration.brier,
            "ece": block.calibration.ece, "inconsistencies": block.inconsistencies_found,
        }
        for condition, part in block.by_market_condition.items():
            values[f"accuracy[market_condition={condition}]"] = part.accuracy
        for sha, version in block.by_prompt_version.items():
            values[f"accuracy[prompt_sha={sha}]"] = version.accuracy
        rows += [
            {"agent_type": name, "metric_name": metric[:128], "metric_value": float(value),
             "start_date": report.window.start, "end_date": report.window.end,
             "timestamp": now}
            for metric, value in values.items() if value is not None
        ]
    return rows


def store(engine: Engine, report: Report) -> int:
    """Write the run's metrics; how many rows."""
    from tracker.store import DecisionTracker

    rows = metric_rows(report)
    DecisionTracker(engine=engine).record_metrics(rows)
    return len(rows)


def agent_findings(
    engine: Engine,
    agent: str,
    days: int = 30,
    *,
    until: datetime | None = None,
    outcome_type: str = DEFAULT_OUTCOME_TYPE,
    band: float = DEFAULT_BAND,
    rule: ContradictionRule = DEFAULT_RULE,
) -> list[str]:
    """Short factual lines about one agent, for the critic LLM's prompt."""
    report = analyze_performance(engine, [agent], days, until=until, outcome_type=outcome_type,
                                 band=band, store_metrics=False, window_hours=rule.window_hours,
                                 rsi_tolerance=rule.rsi_tolerance)
    return findings_lines(agent, report.agents[agent], report.overall, days)


def findings_lines(agent: str, block: Block, team: Block, days: int) -> list[str]:
    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{x * 100:.0f}%"

    cal = block.calibration
    lines = [
        f"{agent}, last {days} days: {plural(block.decisions, 'call')}, "
        f"{block.with_outcome} with "
        f"an outcome, accuracy {pct(block.accuracy)} (team's final decisions: "
        f"{pct(team.accuracy)}); Brier {cal.brier}, ECE {cal.ece}.",
        f"Calibration: {cal.verdict}.",
        *(f"Warning: {w}." for w in cal.warnings),
    ]
    for condition, part in block.by_market_condition.items():
        lines.append(
            f"In {condition} markets: {plural(part.decisions, 'call')}, accuracy "
            f"{pct(part.accuracy)} "
            f"(n={part.with_outcome})."
        )
    counts = {k: n for k, n in block.inconsistency_counts.items() if n}
    if counts:
        lines.append("Inconsistencies: " + ", ".join(f"{n} {k}" for k, n in counts.items()) + ".")
        lines += [f"- {item.detail}" for item in block.inconsistencies[:5]]
    lines += [f"Suggestion: {s}" for s in block.suggestions]
    return lines
