"""Inconsistent calls: contradictory calls, confidence flip-flops, reasoning against action.

Only BUY and SELL calls are fetched (HOLD cannot contradict a direction), newest first and
at most ``limit`` per block, with just the columns the checks read: the indicators come out
of the JSON context in SQL. The report says how many calls were checked out of how many.

Contradictions follow the one definition, :mod:`tracker.contradiction` (same symbol and
condition, inside the window, similar indicators), under the :class:`ContradictionRule`
the caller passes (``[analysis]`` in promptloop.toml). The indicators and the price are
read from the JSON context in SQL through :mod:`tracker.context_schema`, so flat contexts
(``{"rsi": 61.2}``) and nested ones (``{"indicators": {"rsi_14": 61.2}}``) count alike.

*Near-identical* is stricter: both indicators present in both calls, RSI within
FLIP_RSI_TOLERANCE (2) points, and the prices (``price``) within PRICE_TOLERANCE (0.5%)
when both carry one.

Each pair :func:`tracker.contradiction.pairs` finds is a ``confidence_flip_flop`` when both
calls have a confidence >= FLIP_CONFIDENCE and their inputs are near-identical, else
``contradictory_calls``.
A BUY or SELL whose reasoning argues the other way (:mod:`tracker.analysis.lexicon`) is
``reasoning_contradicts_action``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from sqlalchemy.engine import Connection

from tracker import context_schema
from tracker.analysis import lexicon, sql
from tracker.analysis.model import Finding
from tracker.context_schema import number
from tracker.contradiction import ContradictionRule, pairs

FLIP_RSI_TOLERANCE = 2.0
PRICE_TOLERANCE = 0.005
FLIP_CONFIDENCE = 0.7
KINDS = ("contradictory_calls", "confidence_flip_flop", "reasoning_contradicts_action")


@dataclass(frozen=True, slots=True)
class Call:
    decision_id: int
    symbol: str
    condition: str | None
    at: float  # epoch seconds
    action: str
    confidence: float
    rsi: float | None = None
    macd: float | None = None
    price: float | None = None
    reasoning: str | None = None


def fetch_calls(
    conn: Connection,
    window: sql.Window,
    agent: str | None,
    limit: int,
) -> list[Call]:
    """The newest ``limit`` BUY/SELL calls of one agent (None: the final decisions)."""
    c = sql.calls(agent is not None, window, None, agents=None if agent is None else [agent])
    src = sql.OUTPUTS if agent is not None else sql.DECISIONS
    ctx = sql.DECISIONS.c.context
    query = (
        c.with_only_columns(
            sql.DECISIONS.c.id if agent is None else sql.OUTPUTS.c.decision_id,
            sql.DECISIONS.c.symbol,
            sql.DECISIONS.c.market_condition,
            sql.epoch(src.c.timestamp, conn.dialect.name),
            src.c.action,
            src.c.confidence,
            context_schema.sql_value(ctx, "rsi"),
            context_schema.sql_value(ctx, "macd_hist"),
            context_schema.sql_value(ctx, "price"),
            src.c.reasoning,
        )
        .where(src.c.action.in_(("BUY", "SELL")))
        .order_by(src.c.timestamp.desc(), src.c.id.desc())
        .limit(limit)
    )
    # SQLite's epoch goes through julianday, off by some microseconds: rounded to the
    # millisecond, two calls exactly the window apart are inside it, as in tracker.failures
    return [
        Call(row[0], row[1], row[2], round(float(row[3]), 3), row[4], float(row[5]),
             number(row[6]), number(row[7]), number(row[8]), row[9])
        for row in conn.execute(query)
    ]


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def near_identical(a: Call, b: Call) -> bool:
    if None in (a.rsi, b.rsi, a.macd, b.macd):
        return False
    if abs(a.rsi - b.rsi) > FLIP_RSI_TOLERANCE or _sign(a.macd) != _sign(b.macd):  # type: ignore[operator, arg-type]
        return False
    if a.price and b.price:
        return abs(a.price - b.price) <= PRICE_TOLERANCE * max(abs(a.price), abs(b.price))
    return True


def contradictions(calls: list[Call], rule: ContradictionRule) -> list[tuple[str, Call, Call]]:
    """(kind, earlier, later) for each contradiction (:func:`tracker.contradiction.pairs`)."""
    return [(_pair_kind(a, b), a, b) for a, b in pairs(calls, rule)]


def _pair_kind(a: Call, b: Call) -> str:
    confident = min(a.confidence, b.confidence) >= FLIP_CONFIDENCE
    return "confidence_flip_flop" if confident and near_identical(a, b) else "contradictory_calls"


def find(
    calls: list[Call], rule: ContradictionRule, max_listed: int
) -> tuple[list[Finding], dict[str, int]]:
    """The listed findings (newest first, at most ``max_listed`` per kind) and every count."""
    # (time, kind, ids, a function making the detail): details only for the listed ones
    found: list[tuple[float, str, list[int], Callable[[], str]]] = []
    for kind, a, b in contradictions(calls, rule):
        found.append((b.at, kind, [a.decision_id, b.decision_id], partial(_pair_detail, a, b)))
    for call in calls:
        lean = lexicon.contradicts(call.action, call.reasoning)
        if lean is not None:
            found.append((call.at, "reasoning_contradicts_action", [call.decision_id],
                          partial(_reasoning_detail, call, lean)))
    counts = {kind: 0 for kind in KINDS}
    listed = []
    for _at, kind, ids, detail in sorted(found, key=lambda f: (-f[0], f[2])):
        counts[kind] += 1
        if counts[kind] <= max_listed:
            listed.append(Finding(kind, tuple(ids), detail()))
    return listed, counts


def _describe(call: Call) -> str:
    parts = [f"{call.action} #{call.decision_id} (confidence {call.confidence:.2f}"]
    if call.rsi is not None:
        parts.append(f", RSI {call.rsi:.1f}")
    if call.macd is not None:
        parts.append(f", MACD hist {call.macd:+.3g}")
    return "".join(parts) + ")"


def _pair_detail(a: Call, b: Call) -> str:
    hours = (b.at - a.at) / 3600.0
    return (
        f"{_describe(a)} then {_describe(b)} on {a.symbol}, "
        f"{a.condition or 'unknown'} market, {hours:.1f} h apart"
    )


def _reasoning_detail(call: Call, lean: lexicon.Stance) -> str:
    text = " ".join((call.reasoning or "").split())
    quote = text if len(text) <= 100 else text[:97] + "..."
    return (
        f"{call.action} #{call.decision_id} but the reasoning reads {lean.label} "
        f"({', '.join(lean.terms)}): \"{quote}\""
    )
