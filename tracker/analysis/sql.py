"""The SQL building blocks of the analysis: one row source per block, correctness as CASE.

A *block* is either one agent's own calls (``agent_outputs`` joined to its decision for the
symbol, market condition and context; shadow calls, which were never acted on, only when
asked for) or the team's final decisions (``decisions``). Both
are exposed as the same columns by :func:`calls`, each LEFT JOINed to the outcome of one
type, so every aggregate is written once and runs unchanged on SQLite and PostgreSQL.

Correctness follows :mod:`tracker.rules` (BUY iff r > band, SELL iff r < -band, HOLD iff
|r| <= band) as a CASE expression; it is NULL when the call has no outcome. The confidence
bin is ``floor(confidence * 10)``, written as CAST on SQLite (which truncates, and has no
floor by default) and FLOOR on PostgreSQL (whose CAST would round).

The two dialect-specific pieces are the calendar bucket of a timestamp (SQLite stores
SQLAlchemy's ``YYYY-MM-DD HH:MM:SS.ffffff`` text in UTC; PostgreSQL a ``timestamptz``, read
in UTC whatever the session's time zone) and the epoch seconds used by the inconsistency
checks (cheaper to fetch than datetimes).

SQLite has no column statistics for ranges, so for a window that covers most of a table it
still walks the timestamp index and looks every row up: measured twice as slow as a plain
scan on a million rows. :func:`prefer_scan` estimates how much of the table the window holds, and
:class:`Unindexed` (``+column`` on SQLite, the bare column elsewhere) then steers SQLite to
the scan. PostgreSQL's planner has the statistics and is left alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from tracker.models import AgentOutput, Decision, Outcome

DECISIONS = Decision.__table__
OUTPUTS = AgentOutput.__table__
OUTCOMES = Outcome.__table__
BINS = 10
SCAN_SHARE = 0.25  # a window holding more than this share of the table is scanned


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime  # exclusive


class Unindexed(FunctionElement[Any]):
    """``column`` that SQLite may not answer from an index (see the module docstring)."""

    name = "unindexed"
    inherit_cache = True

    def __init__(self, column: ColumnElement[Any]) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(Unindexed)
def _unindexed_default(element: Unindexed, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(Unindexed, "sqlite")
def _unindexed_sqlite(element: Unindexed, compiler: Any, **kw: Any) -> str:
    return "+" + str(compiler.process(element.clauses, **kw))


def prefer_scan(
    conn: Connection, table: sa.FromClause, window: Window, agents: list[str] | None = None
) -> bool:
    """True on SQLite when the rows to read (in the window, of ``agents`` if given) are more
    than SCAN_SHARE of the table's rows.

    Without ``agents`` the share is estimated from the first and last decision (two seeks
    in the timestamp index, calls repeat their decision's timestamp) as the part of that
    span the window covers: counting the window's rows cost 0.1 s on a million. Only the
    plan depends on it, never the result.
    """
    if conn.dialect.name != "sqlite":
        return False
    if agents is None:
        share = _span_share(conn, window)
        return share is not None and share > SCAN_SHARE
    ts = table.c.timestamp
    wanted = sa.select(sa.func.count()).where(ts >= window.start, ts < window.end)
    wanted = wanted.where(table.c.agent.in_(agents))
    inside = conn.execute(wanted).scalar_one()
    total = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    return bool(total) and inside > SCAN_SHARE * total


def _span_share(conn: Connection, window: Window) -> float | None:
    """The share of the decisions' time span inside the window (None: no decisions)."""
    ts = DECISIONS.c.timestamp
    day = sa.func.julianday
    row = conn.execute(sa.select(
        day(sa.select(sa.func.min(ts)).scalar_subquery()),
        day(sa.select(sa.func.max(ts)).scalar_subquery()),
        day(sa.literal(window.start, ts.type)), day(sa.literal(window.end, ts.type)),
    )).one()
    first, last, start, end = row
    if first is None:
        return None
    if last == first:
        return 1.0 if start <= first < end else 0.0
    return float(max(0.0, min(end, last) - max(start, first)) / (last - first))


def calls(
    agent: bool,
    window: Window,
    outcome_type: str | None,
    *,
    agents: list[str] | None = None,
    scan: bool = False,
    shadow: bool = False,
) -> sa.Select[Any]:
    """The calls of a block with columns decision_id, agent, symbol, market_condition,
    prompt_sha, timestamp, action, confidence, reasoning, context, r (the outcome value or
    NULL; no outcome join when ``outcome_type`` is None). ``agent=True``: the calls of
    ``agents`` (None: every agent), the production calls only (``shadow=True``: the shadow
    calls only); else the final decisions."""
    d, o = DECISIONS, OUTCOMES
    src = OUTPUTS if agent else DECISIONS
    ts = Unindexed(src.c.timestamp) if scan else src.c.timestamp
    decision_id = OUTPUTS.c.decision_id if agent else d.c.id
    joined = src.join(d, d.c.id == OUTPUTS.c.decision_id) if agent else src
    r: ColumnElement[Any] = sa.null()
    if outcome_type is not None:
        joined = joined.outerjoin(o, sa.and_(o.c.decision_id == decision_id,
                                             o.c.outcome_type == outcome_type))
        r = o.c.outcome_value
    query = sa.select(
        decision_id.label("decision_id"),
        (OUTPUTS.c.agent if agent else sa.null()).label("agent"),
        d.c.symbol, d.c.market_condition,
        (OUTPUTS.c.prompt_sha if agent else sa.null()).label("prompt_sha"),
        src.c.timestamp, src.c.action, src.c.confidence, src.c.reasoning, d.c.context,
        r.label("r"),
    ).select_from(joined).where(ts >= window.start, ts < window.end)
    if agent and agents is not None:
        name = Unindexed(OUTPUTS.c.agent) if scan else OUTPUTS.c.agent
        query = query.where(name.in_(agents))
    if agent:
        query = query.where(OUTPUTS.c.is_shadow.is_(sa.true() if shadow else sa.false()))
    return query


def correct(action: Any, r: Any, band: float) -> ColumnElement[Any]:
    """1 when the call was right, 0 when wrong, NULL without an outcome."""
    return sa.case(
        (r.is_(None), sa.null()),
        (action == "BUY", sa.case((r > band, 1), else_=0)),
        (action == "SELL", sa.case((r < -band, 1), else_=0)),
        (action == "HOLD", sa.case((sa.and_(r >= -band, r <= band), 1), else_=0)),
        else_=sa.null(),
    )


def realized(action: Any, r: Any) -> ColumnElement[Any]:
    """The return the call earned: BUY +r, SELL -r, HOLD 0 (NULL without an outcome)."""
    return sa.case((action == "BUY", r), (action == "SELL", -r), else_=r * 0)


def confidence_bin(confidence: Any, dialect: str) -> ColumnElement[Any]:
    """Bin k holds [k/10, (k+1)/10); 1.0 joins the last bin; NULL stays NULL.

    ``confidence * 10`` puts every boundary k/10 in bin k on IEEE doubles (0.3 * 10 is
    3.0000000000000004, 0.7 * 10 is 7.000000000000001), as :func:`python_bin` does.
    """
    scaled = confidence * BINS
    lowered = sa.cast(scaled, sa.Integer) if dialect == "sqlite" else sa.func.floor(scaled)
    return sa.case((confidence >= 1, BINS - 1), else_=lowered)


def python_bin(confidence: float) -> int:
    """The bin :func:`confidence_bin` computes, for checks in Python."""
    return min(int(confidence * BINS), BINS - 1)


def period(ts: Any, dialect: str, weekly: bool) -> ColumnElement[Any]:
    """The UTC day (or the Monday of the week) of a timestamp, as 'YYYY-MM-DD' text."""
    if dialect == "sqlite":
        if weekly:
            return sa.func.date(ts, "weekday 0", "-6 days")
        return sa.func.date(ts)
    utc = sa.func.timezone("UTC", ts)
    if weekly:
        utc = sa.func.date_trunc("week", utc)
    return sa.func.to_char(utc, "YYYY-MM-DD")


_ACTION_CODES = ("BUY", "SELL", "HOLD")
_NO_BIN = BINS  # the bin code of a call without a confidence (a failed call)
_JDN_ORDINAL = 1_721_425  # Julian day number minus date.toordinal() of the same day


def packed_keys(
    ts: Any, confidence: Any, action: Any, dialect: str, weekly: bool
) -> list[ColumnElement[Any]]:
    """The period, confidence bin and action of a call as GROUP BY keys.

    SQLite sorts its GROUP BY, and a sort on one integer is much cheaper than on a date text,
    a bin and an action text (measured 0.7 s of 2.7 s on a million calls): there the three
    are packed in one integer, day number * 1000 + bin * 10 + action code. Elsewhere they
    are three keys. :func:`key_unpacker` turns either back into (period, bin, action).
    """
    if dialect != "sqlite":
        return [period(ts, dialect, weekly), confidence_bin(confidence, dialect), action]
    modifiers = ("weekday 0", "-6 days") if weekly else ()
    day = sa.cast(sa.func.julianday(ts, *modifiers) + 0.5, sa.Integer)
    code = sa.case(*((action == name, n) for n, name in enumerate(_ACTION_CODES)),
                   else_=len(_ACTION_CODES))
    bin_ = sa.func.coalesce(confidence_bin(confidence, dialect), _NO_BIN)
    return [day * 1000 + bin_ * 10 + code]


KeyUnpacker = Callable[[Sequence[Any]], tuple[str, int | None, str | None]]


def key_unpacker(dialect: str) -> KeyUnpacker:
    """(period, bin, action) from the key columns :func:`packed_keys` made."""
    if dialect != "sqlite":
        return lambda keys: (keys[0], keys[1], keys[2])
    days: dict[int, str] = {}

    def unpack(keys: Sequence[Any]) -> tuple[str, int | None, str | None]:
        day, rest = divmod(keys[0], 1000)
        bin_, code = divmod(rest, 10)
        if day not in days:
            days[day] = date.fromordinal(day - _JDN_ORDINAL).isoformat()
        action = _ACTION_CODES[code] if code < len(_ACTION_CODES) else None
        return days[day], None if bin_ == _NO_BIN else bin_, action

    return unpack


def epoch(ts: Any, dialect: str) -> ColumnElement[Any]:
    """Seconds since 1970 (UTC) as a float."""
    if dialect == "sqlite":
        return (sa.func.julianday(ts) - 2440587.5) * 86400.0
    return sa.cast(sa.extract("epoch", ts), sa.Float)
