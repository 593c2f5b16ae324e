"""Inconsistent calls: contradictory calls, confidence flip-flops, reasoning against action.

Only BUY and SELL calls are fetched (HOLD cannot contradict a direction), newest first and
at most ``limit`` per block, with just the columns the checks read: the indicators come out
of the JSON context in SQL. The report says how many calls were checked out of how many.

Similarity, explicitly. Two calls are *similar* when they are on the same symbol, in the
same market condition (both missing counts as the same), at most ``window_hours`` apart,
and every indicator both of them carry agrees:

- ``indicators.rsi_14``: within RSI_TOLERANCE (5) points;
- ``indicators.macd_hist``: the same sign (the trend direction; 0 is its own sign).

An indicator missing from either call is not compared, but at least one must be compared:
two calls with no indicator in common are never called similar.

*Near-identical* is stricter: both indicators present in both calls, RSI within
FLIP_RSI_TOLERANCE (2) points, and the prices (``price``) within PRICE_TOLERANCE (0.5%)
when both carry one.

Each call is compared with the earlier calls of its (symbol, condition) stream inside the
window, newest first (at most LOOKBACK of them); the first similar call with the opposite
action makes a pair. The pair is a ``confidence_flip_flop`` when both calls have a
confidence >= FLIP_CONFIDENCE and their inputs are near-identical, else ``contradictory_calls``.
A BUY or SELL whose reasoning argues the other way (:mod:`tracker.analysis.lexicon`) is
``reasoning_contradicts_action``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy.engine import Connection

from tracker.analysis import lexicon, sql
from tracker.analysis.model import Finding

RSI_TOLERANCE = 5.0
FLIP_RSI_TOLERANCE = 2.0
PRICE_TOLERANCE = 0.005
FLIP_CONFIDENCE = 0.7
LOOKBACK = 50
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
            ctx[("indicators", "rsi_14")].as_string(),
            ctx[("indicators", "macd_hist")].as_string(),
            ctx[("price",)].as_string(),
            src.c.reasoning,
        )
        .where(src.c.action.in_(("BUY", "SELL")))
        .order_by(src.c.timestamp.desc(), src.c.id.desc())
        .limit(limit)
    )
    return [
        Call(row[0], row[1], row[2], float(row[3]), row[4], float(row[5]),
             _number(row[6]), _number(row[7]), _number(row[8]), row[9])
        for row in conn.execute(query)
    ]


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None  # NaN is no reading


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def similar(a: Call, b: Call) -> bool:
    """Same symbol and condition assumed (the caller's stream); the indicators agree."""
    compared = False
    if a.rsi is not None and b.rsi is not None:
        if abs(a.rsi - b.rsi) > RSI_TOLERANCE:
            return False
        compared = True
    if a.macd is not None and b.macd is not None:
        if _sign(a.macd) != _sign(b.macd):
            return False
        compared = True
    return compared


def near_identical(a: Call, b: Call) -> bool:
    if None in (a.rsi, b.rsi, a.macd, b.macd):
        return False
    if abs(a.rsi - b.rsi) > FLIP_RSI_TOLERANCE or _sign(a.macd) != _sign(b.macd):  # type: ignore[operator, arg-type]
        return False
    if a.price and b.price:
        return abs(a.price - b.price) <= PRICE_TOLERANCE * max(abs(a.price), abs(b.price))
    return True


def contradictions(calls: list[Call], window_hours: float) -> list[tuple[str, Call, Call]]:
    """(kind, earlier, later) for each call that reverses a similar earlier call."""
    streams: dict[tuple[str, str | None], list[Call]] = defaultdict(list)
    for call in sorted(calls, key=lambda c: (c.at, c.decision_id)):
        streams[(call.symbol, call.condition)].append(call)
    reach = window_hours * 3600.0
    pairs = []
    for stream in streams.values():
        # (time, action, rsi, MACD sign) read once per call: the inner loop runs LOOKBACK
        # times per call, and is :func:`similar` inlined (this is most of the checks' time)
        keys = [(c.at, c.action, c.rsi, None if c.macd is None else _sign(c.macd))
                for c in stream]
        for i, (at, action, rsi, sign) in enumerate(keys):
            for j in range(i - 1, max(0, i - LOOKBACK) - 1, -1):
                e_at, e_action, e_rsi, e_sign = keys[j]
                if at - e_at > reach:
                    break
                if e_action == action:
                    continue
                compared = False
                if rsi is not None and e_rsi is not None:
                    if abs(rsi - e_rsi) > RSI_TOLERANCE:
                        continue
                    compared = True
                if sign is not None and e_sign is not None:
                    if sign != e_sign:
                        continue
                    compared = True
                if compared:
                    pairs.append((_pair_kind(stream[j], stream[i]), stream[j], stream[i]))
                    break
    return pairs


def _pair_kind(a: Call, b: Call) -> str:
    confident = min(a.confidence, b.confidence) >= FLIP_CONFIDENCE
    return "confidence_flip_flop" if confident and near_identical(a, b) else "contradictory_calls"


def find(
    calls: list[Call], window_hours: float, max_listed: int
) -> tuple[list[Finding], dict[str, int]]:
    """The listed findings (newest first, at most ``max_listed`` per kind) and every count."""
    # (time, kind, ids, a function making the detail): details only for the listed ones
    found: list[tuple[float, str, list[int], Callable[[], str]]] = []
    for kind, a, b in contradictions(calls, window_hours):
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
