"""What a contradiction is: the one definition that analysis, failure cases and the
heuristic engine share.

Two calls *contradict* (:func:`contradict`) when

- one is BUY and the other SELL (HOLD contradicts nothing);
- they are on the same symbol and in the same market condition (both missing counts as
  the same);
- they are at most ``window_hours`` apart (:attr:`ContradictionRule.window_hours`);
- their inputs are similar: every indicator both recorded agrees, and at least one was
  compared. RSI (:mod:`tracker.context_schema` field ``rsi``) within ``rsi_tolerance``
  points; the MACD histogram (``macd_hist``) of the same sign (0 is its own sign). Two
  calls with no indicator in common are never a contradiction: nothing says they saw the
  same market.

:func:`pairs` finds them in a list of calls: each call is compared with the earlier calls
of its (symbol, condition) stream inside the window, newest first (at most LOOKBACK of
them, which bounds the work on large windows), and the first that contradicts it makes a
pair. A call can therefore be in two pairs (the later call of one, the earlier of the next).

``promptloop analyze`` lists every pair (tracker.analysis.inconsistencies); a failure case
of kind ``contradiction`` (tracker.failures) is a pair of one agent's judged calls of which
at least one was wrong, each call in at most one case; the heuristic engine's tie-break
(optimizer.evidence) reads those cases. The two settings are ``[analysis]
contradiction_window_hours`` and ``contradiction_rsi_tolerance`` in promptloop.toml.

Defaults: 24 hours and 5 RSI points. The similarity test, not the clock, is what says two
calls saw the same market, so the window can span a day of decisions (hourly bots
reverse themselves over hours, not minutes); 5 points is about a third of RSI 14's typical
daily swing, close enough that a reversal is the agent's doing rather than the market's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from tracker.errors import ValidationError

__all__ = ["ContradictionRule", "DEFAULT_RULE", "LOOKBACK", "contradict", "pairs"]

LOOKBACK = 50
DIRECTIONS = frozenset({"BUY", "SELL"})


@dataclass(frozen=True)
class ContradictionRule:
    """The settings of the definition (see the module docstring)."""

    window_hours: float = 24.0
    rsi_tolerance: float = 5.0

    def __post_init__(self) -> None:
        if not self.window_hours > 0 or not self.rsi_tolerance >= 0:
            raise ValidationError(
                f"a contradiction needs window_hours > 0 and rsi_tolerance >= 0, not "
                f"{self.window_hours!r} and {self.rsi_tolerance!r}")

    @property
    def window_seconds(self) -> float:
        return self.window_hours * 3600.0


DEFAULT_RULE = ContradictionRule()


class Comparable(Protocol):
    """What the definition reads of a call."""

    @property
    def symbol(self) -> str: ...
    @property
    def condition(self) -> str | None: ...
    @property
    def at(self) -> float: ...  # epoch seconds
    @property
    def action(self) -> str: ...
    @property
    def rsi(self) -> float | None: ...
    @property
    def macd(self) -> float | None: ...
    @property
    def decision_id(self) -> int: ...


C = TypeVar("C", bound=Comparable)


def contradict(a: Comparable, b: Comparable, rule: ContradictionRule = DEFAULT_RULE) -> bool:
    """True when ``a`` and ``b`` contradict each other under ``rule``."""
    if {a.action, b.action} != DIRECTIONS or (a.symbol, a.condition) != (b.symbol, b.condition):
        return False
    if abs(a.at - b.at) > rule.window_seconds:
        return False
    return _similar(a.rsi, _sign(a.macd), b.rsi, _sign(b.macd), rule.rsi_tolerance)


def pairs(calls: Sequence[C], rule: ContradictionRule = DEFAULT_RULE) -> list[tuple[C, C]]:
    """(earlier, later) for each call that contradicts an earlier one (module docstring)."""
    streams: dict[tuple[str, str | None], list[C]] = defaultdict(list)
    for call in sorted(calls, key=lambda c: (c.at, c.decision_id)):
        if call.action in DIRECTIONS:
            streams[(call.symbol, call.condition)].append(call)
    reach, tolerance = rule.window_seconds, rule.rsi_tolerance
    found = []
    for stream in streams.values():
        # each call's (time, action, rsi, MACD sign) read once, and _similar inlined: the
        # inner loop runs up to LOOKBACK times per call and is most of analyze's checking time
        keys = [(c.at, c.action, c.rsi, _sign(c.macd)) for c in stream]
        for i, (at, action, rsi, sign) in enumerate(keys):
            for j in range(i - 1, max(0, i - LOOKBACK) - 1, -1):
                e_at, e_action, e_rsi, e_sign = keys[j]
                if at - e_at > reach:
                    break
                if e_action == action:
                    continue
                compared = False  # _similar, inlined
                if rsi is not None and e_rsi is not None:
                    if abs(rsi - e_rsi) > tolerance:
                        continue
                    compared = True
                if sign is not None and e_sign is not None:
                    if sign != e_sign:
                        continue
                    compared = True
                if compared:
                    found.append((stream[j], stream[i]))
                    break
    return found


def _similar(rsi: float | None, sign: int | None, other_rsi: float | None,
             other_sign: int | None, tolerance: float) -> bool:
    """Every indicator both carry agrees, and at least one was compared."""
    compared = False
    if rsi is not None and other_rsi is not None:
        if abs(rsi - other_rsi) > tolerance:
            return False
        compared = True
    if sign is not None and other_sign is not None:
        if sign != other_sign:
            return False
        compared = True
    return compared


def _sign(x: float | None) -> int | None:
    return None if x is None else (x > 0) - (x < 0)
