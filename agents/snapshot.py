"""The market snapshot: the compact JSON context an agent sees and the tracker stores.

``market_snapshot(symbol, candles)`` turns the candles known at decision time into::

    {
      "symbol": "BTCUSDT",
      "timestamp": "2019-09-30T12:00:00+00:00",  # decision time: last open + interval
      "timeframe": "1h",                         # the candles' interval
      "price": 8251.3,                           # last close
      "indicators": {"price": ..., "sma_20": ..., ... "return_24": ...},
      "market_condition": "sideways",            # agents.conditions.classify
      "recent_closes": [...]                     # the last 12 closes, oldest first
    }

It is plain JSON (no NaN: missing indicators are null) so it goes into
``decisions.context`` as is and replays exactly. Indicator values are rounded to
``SIGNIFICANT_DIGITS`` significant digits to keep prompts short; prices are kept as given.
The classifier's thresholds are scaled to the candles' interval
(:meth:`agents.conditions.ConditionRule.for_interval`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from agents.conditions import DEFAULT_RULE, ConditionRule, classify
from agents.indicators import compute_indicators
from agents.market import MarketDataError, candle_interval
from tracker.prices import Candle

__all__ = ["RECENT_CLOSES", "SIGNIFICANT_DIGITS", "format_interval", "market_snapshot"]

RECENT_CLOSES = 12
SIGNIFICANT_DIGITS = 7


def market_snapshot(
    symbol: str,
    candles: Sequence[Candle],
    interval: timedelta | None = None,
    rule: ConditionRule = DEFAULT_RULE,
) -> dict[str, Any]:
    """The snapshot of ``candles`` (oldest first, all complete at decision time).
    ``interval`` defaults to the candles' own spacing (two candles at least are then
    needed); ``rule`` holds the hourly classifier thresholds."""
    if not candles:
        raise MarketDataError(f"no candles for {symbol}: nothing to make a snapshot from")
    step = interval if interval is not None else candle_interval(candles)
    indicators = compute_indicators(candles)
    return {
        "symbol": symbol,
        "timestamp": (candles[-1].timestamp + step).isoformat(),
        "timeframe": format_interval(step),
        "price": candles[-1].close,
        "indicators": {key: _round(value) for key, value in indicators.items()},
        "market_condition": classify(indicators, rule.for_interval(step)),
        "recent_closes": [candle.close for candle in candles[-RECENT_CLOSES:]],
    }


def format_interval(interval: timedelta) -> str:
    """``timedelta(hours=4)`` -> ``"4h"`` (the ccxt spelling: m, h, d, w)."""
    seconds = int(interval.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _round(value: float | None) -> float | None:
    if value is None:
        return None
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")
