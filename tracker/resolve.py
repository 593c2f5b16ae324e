"""Outcome resolution: the forward return of each decision over a horizon, from prices.

For every decision without an outcome of type ``return_<horizon>`` (e.g. ``return_24h``),
``r = price(t + horizon) / price(t) - 1`` where ``price`` is the
:class:`~tracker.prices.PriceSource`'s last price known at that moment. No look-ahead: a
decision whose ``t + horizon`` lies beyond the price data stays pending and is resolved by
a later run. The outcome is stamped ``t + horizon`` (when it became known) and its details
hold ``horizon``, ``band``, ``price_then``, ``price_later`` and ``correct`` (the decision's
action judged by :func:`tracker.rules.is_correct`).

Idempotent: only decisions without that outcome are read, and the insert skips any row
another resolver wrote meanwhile (``ON CONFLICT DO NOTHING`` on the
(decision_id, outcome_type) unique constraint), so running it twice adds nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from tracker.errors import ValidationError
from tracker.prices import PriceSource
from tracker.rules import DEFAULT_BAND, is_correct

if TYPE_CHECKING:
    from tracker.store import DecisionTracker

_HORIZON = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class ResolveReport:
    outcome_type: str
    examined: int  # decisions without that outcome
    resolved: int  # outcomes written now
    pending: int  # no price yet at t + horizon (or none at t): left for a later run

    def to_dict(self) -> dict[str, Any]:
        return {"outcome_type": self.outcome_type, "examined": self.examined,
                "resolved": self.resolved, "pending": self.pending}


def parse_horizon(text: str) -> timedelta:
    """'30m', '24h', '7d', '2w' -> timedelta."""
    amount, unit = _horizon(text)
    return timedelta(**{_UNITS[unit]: amount})


def outcome_type_for(horizon: str) -> str:
    amount, unit = _horizon(horizon)
    return f"return_{amount}{unit}"


def _horizon(text: str) -> tuple[int, str]:
    match = _HORIZON.match(text or "")
    if not match or int(match.group(1)) == 0:
        raise ValidationError(
            f"horizon {text!r}: expected a positive number and a unit m, h, d or w (e.g. 24h)"
        )
    return int(match.group(1)), match.group(2)


def resolve_outcomes(
    tracker: DecisionTracker,
    prices: PriceSource,
    horizon: str = "24h",
    band: float = DEFAULT_BAND,
    symbol: str | None = None,
) -> ResolveReport:
    """Write the forward-return outcome of every resolvable pending decision."""
    delta = parse_horizon(horizon)
    outcome_type = outcome_type_for(horizon)
    if isinstance(band, bool) or not isinstance(band, int | float) or band < 0:
        raise ValidationError(f"band must be a number >= 0, got {band!r}")
    pending = tracker.pending_outcomes(outcome_type, symbol=symbol)
    rows = []
    for decision in pending:
        then = prices.price_at(decision.symbol, decision.timestamp)
        later = prices.price_at(decision.symbol, decision.timestamp + delta)
        if then is None or later is None or then <= 0:
            continue
        value = later / then - 1.0
        rows.append({
            "decision_id": decision.id,
            "outcome_type": outcome_type,
            "outcome_value": value,
            "timestamp": decision.timestamp + delta,
            "details": {"horizon": horizon.strip(), "band": band, "price_then": then,
                        "price_later": later, "correct": is_correct(decision.action, value, band)},
        })
    written = tracker.track_new_outcomes(rows)
    return ResolveReport(outcome_type, len(pending), written, len(pending) - len(rows))

