"""The market-condition classifier: one of bullish, bearish, sideways, volatile.

The rule, applied in this order to the indicators of :func:`agents.indicators.
compute_indicators` (thresholds from :class:`ConditionRule`), read through
:mod:`tracker.context_schema` (so a recorded context, flat or nested, classifies the same):

1. **volatile** when realized volatility (per candle) is at least ``volatility`` or the
   14-candle ATR is at least ``atr`` of the price: the swings dominate any trend.
2. **bullish** when the price is above its 20-candle SMA, the 20-candle SMA is above the
   50-candle SMA by at least ``trend_gap`` (a fraction of the 50 SMA) and RSI 14 is at least
   ``rsi_midline``.
3. **bearish** is the mirror image: price below SMA 20, SMA 20 below SMA 50 by at least
   ``trend_gap``, RSI 14 at most ``rsi_midline``.
4. **sideways** otherwise, including when the history is too short for the SMAs (no
   established trend). A missing RSI does not block a trend call; missing volatility and
   ATR skip step 1.

The default thresholds are for hourly candles: on the bundled 2019 BTC-USD sample they call
about one candle in six volatile (volatility >= 1.2 % or ATR >= 2.2 % of the price, roughly
the 85th percentile of each). Per-candle volatility and moves grow with the square root of
the timeframe, so :meth:`ConditionRule.for_interval` scales the thresholds for other
candles (4h: x2, daily: x4.9).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from tracker.context_schema import read

__all__ = ["CONDITIONS", "ConditionRule", "DEFAULT_RULE", "classify"]

CONDITIONS = ("bullish", "bearish", "sideways", "volatile")


@dataclass(frozen=True, slots=True)
class ConditionRule:
    volatility: float = 0.012  # realized volatility per candle (std of log returns)
    atr: float = 0.022  # ATR 14 as a fraction of the price
    trend_gap: float = 0.004  # SMA 20 vs SMA 50 separation, fraction of SMA 50
    rsi_midline: float = 50.0

    def for_interval(self, interval: timedelta) -> ConditionRule:
        """These hourly thresholds rescaled for candles of ``interval`` (square-root of
        time, as for a random walk)."""
        factor = math.sqrt(interval / timedelta(hours=1))
        return replace(
            self,
            volatility=self.volatility * factor,
            atr=self.atr * factor,
            trend_gap=self.trend_gap * factor,
        )


DEFAULT_RULE = ConditionRule()


def classify(indicators: Mapping[str, Any], rule: ConditionRule = DEFAULT_RULE) -> str:
    """The market condition for ``indicators`` under ``rule`` (see the module docstring)."""
    if _is_volatile(indicators, rule):
        return "volatile"
    price, fast, slow = (read(indicators, field) for field in ("price", "sma_20", "sma_50"))
    if price is None or fast is None or slow is None:
        return "sideways"
    strength = read(indicators, "rsi")
    if (
        price > fast
        and fast >= slow * (1 + rule.trend_gap)
        and (strength is None or strength >= rule.rsi_midline)
    ):
        return "bullish"
    if (
        price < fast
        and fast <= slow * (1 - rule.trend_gap)
        and (strength is None or strength <= rule.rsi_midline)
    ):
        return "bearish"
    return "sideways"


def _is_volatile(indicators: Mapping[str, Any], rule: ConditionRule) -> bool:
    volatility = read(indicators, "volatility")
    if volatility is not None and volatility >= rule.volatility:
        return True
    atr, price = read(indicators, "atr"), read(indicators, "price")
    return atr is not None and price is not None and price != 0 and atr / price >= rule.atr
