"""Technical indicators over OHLCV candles, with numpy.

Series functions take numpy arrays (oldest first) and return an array of the same length,
NaN where the history is too short. Conventions follow StockCharts' ChartSchool, which the
tests check against:

- ``sma``: arithmetic mean of the last ``n`` values.
- ``ema``: multiplier ``2 / (n + 1)``, seeded with the SMA of the first ``n`` values.
- ``rsi``: Wilder's RSI. The first average gain/loss is the simple mean of the first ``n``
  changes, then Wilder smoothing ``avg = (avg * (n - 1) + x) / n``. No losses gives 100, no
  movement at all gives 50.
- ``macd``: ``ema(fast) - ema(slow)``; signal is the ``ema(signal)`` of that line, seeded
  once the line exists; histogram is line minus signal.
- ``bollinger``: SMA middle band, ``k`` population standard deviations either side.
- ``atr``: true range (the first candle's is ``high - low``), its first average the simple
  mean of ``n`` true ranges, then Wilder smoothing.
- ``realized_volatility``: sample standard deviation (ddof 1) of the last ``n`` log returns
  of the close, per candle and NOT annualized (multiply by ``sqrt(candles per year)`` for
  that; hourly: ``sqrt(8760)``).

:func:`compute_indicators` gives the latest value of each for a list of candles, under the
keys agents and the tracker store; a value is None when the history is too short.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray

from tracker.prices import Candle

__all__ = [
    "INDICATOR_KEYS",
    "atr",
    "bollinger",
    "compute_indicators",
    "ema",
    "macd",
    "realized_volatility",
    "rsi",
    "sma",
]

Array = NDArray[np.float64]

INDICATOR_KEYS = (
    "price",
    "sma_20",
    "sma_50",
    "ema_12",
    "ema_26",
    "rsi_14",
    "macd",
    "macd_signal",
    "macd_hist",
    "bb_upper",
    "bb_middle",
    "bb_lower",
    "atr_14",
    "volatility",
    "return_24",
)


def _array(values: ArrayLike) -> Array:
    return np.asarray(values, dtype=np.float64)


def _check_period(n: int) -> None:
    if n < 1:
        raise ValueError(f"period must be at least 1, got {n}")


def sma(values: ArrayLike, n: int) -> Array:
    """Simple moving average over ``n`` values."""
    _check_period(n)
    x = _array(values)
    out = np.full(x.shape, np.nan)
    if len(x) >= n:
        out[n - 1 :] = sliding_window_view(x, n).mean(axis=1)
    return out


def _smooth(x: Array, n: int, alpha: float) -> Array:
    """Exponential smoothing ``s = s + alpha * (x - s)`` seeded with the mean of the first
    ``n`` non-NaN values (leading NaNs, as from an earlier indicator, are skipped)."""
    out = np.full(x.shape, np.nan)
    valid = np.flatnonzero(~np.isnan(x))
    if len(valid) < n:
        return out
    seed_end = int(valid[0]) + n - 1
    level = float(x[seed_end - n + 1 : seed_end + 1].mean())
    levels = [level]
    for value in x[seed_end + 1 :].tolist():  # recursive by definition; floats are fastest
        level += alpha * (value - level)
        levels.append(level)
    out[seed_end:] = levels
    return out


def ema(values: ArrayLike, n: int) -> Array:
    """Exponential moving average, multiplier ``2 / (n + 1)``, SMA-seeded."""
    _check_period(n)
    return _smooth(_array(values), n, 2.0 / (n + 1))


def wilder(values: ArrayLike, n: int) -> Array:
    """Wilder's smoothing (an EMA with multiplier ``1 / n``), SMA-seeded."""
    _check_period(n)
    return _smooth(_array(values), n, 1.0 / n)


def rsi(close: ArrayLike, n: int = 14) -> Array:
    """Wilder's relative strength index (0-100); first value at index ``n``."""
    _check_period(n)
    x = _array(close)
    out = np.full(x.shape, np.nan)
    if len(x) <= n:
        return out
    change = np.diff(x)
    gain = wilder(np.clip(change, 0, None), n)
    loss = wilder(np.clip(-change, 0, None), n)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = 100.0 - 100.0 / (1.0 + gain / loss)
    value = np.where(loss == 0, np.where(gain == 0, 50.0, 100.0), value)
    out[1:] = np.where(np.isnan(gain), np.nan, value)
    return out


def macd(
    close: ArrayLike, fast: int = 12, slow: int = 26, signal: int = 9
) -> tuple[Array, Array, Array]:
    """MACD line, signal line and histogram."""
    x = _array(close)
    line = ema(x, fast) - ema(x, slow)
    signal_line = ema(line, signal)
    return line, signal_line, line - signal_line


def bollinger(close: ArrayLike, n: int = 20, k: float = 2.0) -> tuple[Array, Array, Array]:
    """Upper, middle and lower Bollinger bands (population standard deviation)."""
    _check_period(n)
    x = _array(close)
    middle = sma(x, n)
    width = np.full(x.shape, np.nan)
    if len(x) >= n:
        width[n - 1 :] = k * sliding_window_view(x, n).std(axis=1)
    return middle + width, middle, middle - width


def true_range(high: ArrayLike, low: ArrayLike, close: ArrayLike) -> Array:
    """Per-candle true range; the first candle has no previous close: ``high - low``."""
    h, lo, c = _array(high), _array(low), _array(close)
    previous = np.concatenate(([np.nan], c[:-1]))
    ranges = np.vstack((h - lo, np.abs(h - previous), np.abs(lo - previous)))
    return np.nanmax(ranges, axis=0) if len(h) else np.zeros(0)


def atr(high: ArrayLike, low: ArrayLike, close: ArrayLike, n: int = 14) -> Array:
    """Average true range, Wilder-smoothed; first value at index ``n - 1``."""
    return wilder(true_range(high, low, close), n)


def realized_volatility(close: ArrayLike, n: int = 20) -> Array:
    """Standard deviation (ddof 1) of the last ``n`` log returns, per candle, not
    annualized; first value at index ``n``."""
    _check_period(n)
    x = _array(close)
    out = np.full(x.shape, np.nan)
    if n < 2 or len(x) <= n:
        return out
    returns = np.diff(np.log(x))
    out[n:] = sliding_window_view(returns, n).std(axis=1, ddof=1)
    return out


def compute_indicators(candles: Sequence[Candle]) -> dict[str, float | None]:
    """The latest value of every indicator in :data:`INDICATOR_KEYS` (None where the
    history is too short). ``return_24`` is the fractional change of the close over the
    last 24 candles (0.05 = +5 %)."""
    if not candles:
        return dict.fromkeys(INDICATOR_KEYS)
    close = _array([c.close for c in candles])
    high = _array([c.high for c in candles])
    low = _array([c.low for c in candles])
    line, signal_line, hist = macd(close)
    upper, middle, lower = bollinger(close)
    series = {
        "price": close,
        "sma_20": sma(close, 20),
        "sma_50": sma(close, 50),
        "ema_12": ema(close, 12),
        "ema_26": ema(close, 26),
        "rsi_14": rsi(close, 14),
        "macd": line,
        "macd_signal": signal_line,
        "macd_hist": hist,
        "bb_upper": upper,
        "bb_middle": middle,
        "bb_lower": lower,
        "atr_14": atr(high, low, close, 14),
        "volatility": realized_volatility(close, 20),
    }
    values = {key: _last(array) for key, array in series.items()}
    values["return_24"] = float(close[-1] / close[-25] - 1.0) if len(close) > 24 else None
    return values


def _last(series: Array) -> float | None:
    value = float(series[-1])
    return None if math.isnan(value) else value
