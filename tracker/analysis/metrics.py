"""Headline metrics and their breakdowns, from one GROUP BY per block.

The database groups a block's calls by (agent, market condition, prompt sha, period,
confidence bin, action) and returns, per group, the counts (calls, with an outcome, right)
and the sums of confidence, of confidence and squared confidence over the resolved calls,
of confidence times correctness and of the outcome; Python turns them into squared error and
realized return (:func:`_cell`). That is some thousands of rows per agent for a month of any
volume, and every breakdown (by condition, by prompt version, over time, the reliability
table, and the crossings the suggestions need) is a sum of those rows in Python
(:func:`rollup`): one scan of the data instead of one per breakdown.

On a million calls the GROUP BY is the cost (SQLite sorts every row); hence one integer key
for period, bin and action on SQLite (:func:`sql.packed_keys`) and correctness summed rather
than grouped on (a third of the groups to read for the same sort).

A :class:`Tally` holds such sums; its ratios are None when their denominator is zero.
Calls whose agent failed (no action) are counted as ``errors`` and nowhere else.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tracker.analysis import sql
from tracker.analysis.model import ConditionPart, PeriodPart, VersionPart
from tracker.rules import ACTIONS

Z95 = 1.959964
UNKNOWN = "unknown"  # the key of a missing market condition or prompt sha


class Cell(NamedTuple):
    agent: str | None
    condition: str | None
    sha: str | None
    period: str
    bin: int | None
    action: str | None
    decisions: int
    with_outcome: int
    correct: int
    conf_sum: float
    conf_out_sum: float
    sq_err_sum: float
    return_sum: float


@dataclass(slots=True)
class Tally:
    decisions: int = 0
    with_outcome: int = 0
    correct: int = 0
    conf_sum: float = 0.0
    conf_out_sum: float = 0.0  # confidence summed over the calls with an outcome
    sq_err_sum: float = 0.0
    return_sum: float = 0.0
    actions: dict[str, int] = field(default_factory=dict)

    def add(self, cell: Cell) -> None:
        self.decisions += cell.decisions
        self.with_outcome += cell.with_outcome
        self.correct += cell.correct
        self.conf_sum += cell.conf_sum
        self.conf_out_sum += cell.conf_out_sum
        self.sq_err_sum += cell.sq_err_sum
        self.return_sum += cell.return_sum
        if cell.action is not None:
            self.actions[cell.action] = self.actions.get(cell.action, 0) + cell.decisions

    def _per_outcome(self, total: float) -> float | None:
        return total / self.with_outcome if self.with_outcome else None

    @property
    def accuracy(self) -> float | None:
        return self._per_outcome(self.correct)

    @property
    def brier(self) -> float | None:
        return self._per_outcome(self.sq_err_sum)

    @property
    def avg_return(self) -> float | None:
        return self._per_outcome(self.return_sum)

    @property
    def confidence_when_resolved(self) -> float | None:
        return self._per_outcome(self.conf_out_sum)

    @property
    def mean_confidence(self) -> float | None:
        return self.conf_sum / self.decisions if self.decisions else None


def fetch_cells(
    conn: Connection,
    *,
    agent: bool,
    window: sql.Window,
    outcome_type: str,
    band: float,
    agents: list[str] | None = None,
    weekly: bool = False,
) -> list[Cell]:
    """The grouped calls of the agents' block (``agent=True``) or of the final decisions."""
    query, unpack = cells_query(conn, agent=agent, window=window, outcome_type=outcome_type,
                                band=band, agents=agents, weekly=weekly)
    return read_cells(conn.execute(query), unpack)


def cells_query(
    conn: Connection,
    *,
    agent: bool,
    window: sql.Window,
    outcome_type: str,
    band: float,
    agents: list[str] | None = None,
    weekly: bool = False,
) -> tuple[sa.Select[Any], sql.KeyUnpacker]:
    """The GROUP BY of :func:`fetch_cells` and how to read its keys back, apart so that a
    caller can tell when the database is done sorting (``execute`` returns) from when the
    rows are read."""
    table = sql.OUTPUTS if agent else sql.DECISIONS
    scan = sql.prefer_scan(conn, table, window, agents if agent else None)
    c = sql.calls(agent, window, outcome_type, agents=agents, scan=scan).subquery()
    dialect = conn.dialect.name
    ok = sql.correct(c.c.action, c.c.r, band)
    resolved = c.c.r.is_not(None)
    # Computed keys come first: SQLite would otherwise walk an index in agent order to save
    # the sort, looking every row up (measured three times slower).
    keys = [
        *sql.packed_keys(c.c.timestamp, c.c.confidence, c.c.action, dialect, weekly),
        c.c.market_condition, c.c.prompt_sha, c.c.agent,
    ]
    # Correctness is summed rather than grouped on: a third fewer groups (rows to read)
    # for the same sort, and the squared error follows from the sums (see _cell).
    query = sa.select(
        *keys,
        sa.func.count(),
        sa.func.count(c.c.r),
        sa.func.sum(ok),
        sa.func.sum(c.c.confidence),
        sa.func.sum(sa.case((resolved, c.c.confidence), else_=0.0)),
        sa.func.sum(sa.case((resolved, c.c.confidence * c.c.confidence), else_=0.0)),
        sa.func.sum(c.c.confidence * ok),
        sa.func.sum(c.c.r),
    ).group_by(*keys).subquery()
    # Sorted again, on the keys (a few thousand rows): SQLite then computes every group
    # before it returns the first row, so reading the rows, the part that needs the GIL,
    # is short (see report._CellsJob); and the cells come in a defined order.
    ordered = sa.select(*query.c).order_by(*list(query.c)[:len(keys)])
    return ordered, sql.key_unpacker(dialect)


def read_cells(rows: Iterable[Sequence[Any]], unpack: sql.KeyUnpacker) -> list[Cell]:
    return [_cell(*unpack(row[:-11]), *row[-11:]) for row in rows]


_SIGN = {"BUY": 1.0, "SELL": -1.0, "HOLD": 0.0}


def _cell(
    period: str, bin_: int | None, action: str | None, condition: str | None,
    sha: str | None, agent: str | None, n: int, resolved: int, ok: int | None,
    conf: float | None, conf_out: float | None, conf2_out: float | None,
    conf_ok: float | None, r: float | None,
) -> Cell:
    ok, conf_out = int(ok or 0), float(conf_out or 0.0)
    # sum((c - ok)^2) over the resolved calls = sum(c^2) - 2 sum(c ok) + sum(ok), ok being 0/1
    sq_err = float(conf2_out or 0.0) - 2 * float(conf_ok or 0.0) + ok
    realized = _SIGN.get(action or "", 0.0) * float(r or 0.0) if resolved else 0.0
    return Cell(agent, condition, sha, period, bin_, action, n, resolved, ok,
                float(conf or 0.0), conf_out, max(sq_err, 0.0), realized)


def rollup(cells: Iterable[Cell], key: Callable[[Cell], Hashable]) -> dict[Any, Tally]:
    """Sum the cells that share ``key(cell)``; calls without an action are left out."""
    groups: dict[Any, list[Cell]] = {}
    for cell in cells:
        if cell.action is not None:
            k = key(cell)
            group = groups.get(k)
            if group is None:
                groups[k] = [cell]
            else:
                group.append(cell)
    return {k: _tally(group) for k, group in groups.items()}


def _tally(cells: list[Cell]) -> Tally:
    """:meth:`Tally.add` over ``cells`` in order (so the same float sums), in local
    variables: the breakdowns sum each block's cells a dozen times."""
    n = resolved = ok = 0
    conf = conf_out = sq_err = ret = 0.0
    actions: dict[str, int] = {}
    for *_, action, c_n, c_resolved, c_ok, c_conf, c_conf_out, c_sq_err, c_ret in cells:
        n += c_n
        resolved += c_resolved
        ok += c_ok
        conf += c_conf
        conf_out += c_conf_out
        sq_err += c_sq_err
        ret += c_ret
        if action is not None:
            actions[action] = actions.get(action, 0) + c_n
    return Tally(n, resolved, ok, conf, conf_out, sq_err, ret, actions)


def total(cells: Iterable[Cell]) -> Tally:
    """:func:`rollup` under one key, without the keying (called three times a block)."""
    answered = [cell for cell in cells if cell.action is not None]
    return _tally(answered) if answered else Tally()


def wilson(correct: int, n: int, z: float = Z95) -> tuple[float, float] | tuple[None, None]:
    """The Wilson score interval of a proportion (95% by default); (None, None) for n=0."""
    if n == 0:
        return None, None
    p = correct / n
    denominator = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, center - half), min(1.0, center + half)


def r4(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


Headline = tuple[int, int, float | None, float | None, float | None]


def headline(tally: Tally) -> Headline:
    """decisions, with_outcome, accuracy, avg_return, mean_confidence: the leading fields
    of a block and of its parts."""
    return (tally.decisions, tally.with_outcome, r4(tally.accuracy), r4(tally.avg_return),
            r4(tally.mean_confidence))


def by_market_condition(cells: list[Cell]) -> dict[str, ConditionPart]:
    tallies = rollup(cells, lambda c: c.condition or UNKNOWN)
    return {
        condition: ConditionPart(
            *headline(tally), {action: tally.actions.get(action, 0) for action in ACTIONS})
        for condition, tally in sorted(tallies.items(), key=lambda kv: -kv[1].decisions)
    }


def by_prompt_version(
    cells: list[Cell], version_name: Callable[[str], str | None] | None = None
) -> dict[str, VersionPart]:
    """sha -> metrics with a 95% Wilson interval, in the order the versions were first used."""
    tallies = rollup(cells, lambda c: c.sha or UNKNOWN)
    periods = rollup(cells, lambda c: (c.sha or UNKNOWN, c.period))
    first = {sha: min(p for s, p in periods if s == sha) for sha in tallies}
    last = {sha: max(p for s, p in periods if s == sha) for sha in tallies}
    out = {}
    for sha in sorted(tallies, key=lambda s: (first[s], last[s], s)):
        tally = tallies[sha]
        low, high = wilson(tally.correct, tally.with_outcome)
        name = version_name(sha) if version_name and sha != UNKNOWN else None
        out[sha] = VersionPart(
            name or (sha[:7] if sha != UNKNOWN else UNKNOWN), *headline(tally),
            ci_low=r4(low), ci_high=r4(high), brier=r4(tally.brier),
            first_seen=first[sha], last_seen=last[sha],
        )
    return out


def over_time(cells: list[Cell]) -> list[PeriodPart]:
    tallies = rollup(cells, lambda c: c.period)
    return [PeriodPart(p, *headline(tallies[p])) for p in sorted(tallies)]


def errors(cells: Iterable[Cell]) -> int:
    """Calls that failed (an agent error recorded instead of an answer)."""
    return sum(cell.decisions for cell in cells if cell.action is None)
