"""Indicators against published reference values.

Reference tables (StockCharts ChartSchool worked examples; the same series appear in the
spreadsheets linked from each article):
- "Moving Averages - Simple and Exponential": 10-day SMA and EMA of 30 closes.
- "Relative Strength Index (RSI)": Wilder's 14-day RSI of 33 closes (4-decimal prices).
- "Bollinger Bands": 20-day, 2 standard deviation bands of 42 closes.
- "Average True Range (ATR)": true range and 14-day ATR of 30 high/low/close rows.
StockCharts rounds for display (Excel rounds half up), hence tolerances of 0.006.
"""

from __future__ import annotations

import math
import statistics
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from agents.indicators import (
    INDICATOR_KEYS,
    atr,
    bollinger,
    compute_indicators,
    ema,
    macd,
    realized_volatility,
    rsi,
    sma,
    true_range,
)
from tracker.prices import Candle

# fmt: off
MA_CLOSES = [
    22.27, 22.19, 22.08, 22.17, 22.18, 22.13, 22.23, 22.43, 22.24, 22.29, 22.15, 22.39,
    22.38, 22.61, 23.36, 24.05, 23.75, 23.83, 23.95, 23.63, 23.82, 23.87, 23.65, 23.19,
    23.10, 23.33, 22.68, 23.10, 22.40, 22.17,
]
SMA_10 = [
    22.22, 22.21, 22.23, 22.26, 22.30, 22.42, 22.61, 22.77, 22.91, 23.08, 23.21, 23.38,
    23.53, 23.65, 23.71, 23.68, 23.61, 23.51, 23.43, 23.28, 23.13,
]
EMA_10 = [
    22.22, 22.21, 22.24, 22.27, 22.33, 22.52, 22.80, 22.97, 23.13, 23.28, 23.34, 23.43,
    23.51, 23.53, 23.47, 23.40, 23.39, 23.26, 23.23, 23.08, 22.92,
]
RSI_CLOSES = [
    44.3389, 44.0902, 44.1497, 43.6124, 44.3278, 44.8264, 45.0955, 45.4245, 45.8433,
    46.0826, 45.8931, 46.0328, 45.6140, 46.2820, 46.2820, 46.0028, 46.0328, 46.4116,
    46.2222, 45.6439, 46.2122, 46.2521, 45.7137, 46.4515, 45.7835, 45.3548, 44.0288,
    44.1783, 44.2181, 44.5672, 43.4205, 42.6628, 43.1314,
]
RSI_14 = [
    70.53, 66.32, 66.55, 69.41, 66.36, 57.97, 62.93, 63.26, 56.06, 62.38, 54.71, 50.42,
    39.99, 41.46, 41.87, 45.46, 37.30, 33.08, 37.77,
]
BB_CLOSES = [
    86.16, 89.09, 88.78, 90.32, 89.07, 91.15, 89.44, 89.18, 86.93, 87.68, 86.96, 89.43,
    89.32, 88.72, 87.45, 87.26, 89.50, 87.90, 89.13, 90.70, 92.90, 92.98, 91.80, 92.66,
    92.68, 92.30, 92.77, 92.54, 92.95, 93.20, 91.07, 89.83, 89.74, 90.40, 90.74, 88.02,
    88.09, 88.84, 90.78, 90.54, 91.39, 90.65,
]
BB_MIDDLE = [
    88.71, 89.05, 89.24, 89.39, 89.51, 89.69, 89.75, 89.91, 90.08, 90.38, 90.66, 90.86,
    90.88, 90.90, 90.99, 91.15, 91.19, 91.12, 91.17, 91.25, 91.24, 91.17, 91.05,
]
BB_UPPER = [
    91.29, 91.95, 92.61, 92.93, 93.31, 93.73, 93.90, 94.26, 94.56, 94.79, 95.04, 94.91,
    94.90, 94.89, 94.86, 94.67, 94.55, 94.68, 94.57, 94.53, 94.53, 94.37, 94.15,
]
BB_LOWER = [
    86.12, 86.14, 85.87, 85.85, 85.70, 85.65, 85.59, 85.56, 85.60, 85.98, 86.27, 86.82,
    86.87, 86.91, 87.12, 87.63, 87.83, 87.56, 87.76, 87.97, 87.95, 87.96, 87.95,
]
ATR_HIGH = [
    48.70, 48.72, 48.90, 48.87, 48.82, 49.05, 49.20, 49.35, 49.92, 50.19, 50.12, 49.66,
    49.88, 50.19, 50.36, 50.57, 50.65, 50.43, 49.63, 50.33, 50.29, 50.17, 49.32, 48.50,
    48.32, 46.80, 47.80, 48.39, 48.66, 48.79,
]
ATR_LOW = [
    47.79, 48.14, 48.39, 48.37, 48.24, 48.64, 48.94, 48.86, 49.50, 49.87, 49.20, 48.90,
    49.43, 49.73, 49.26, 50.09, 50.30, 49.21, 48.98, 49.61, 49.20, 49.43, 48.08, 47.64,
    41.55, 44.28, 47.31, 47.20, 47.90, 47.73,
]
ATR_CLOSE = [
    48.16, 48.61, 48.75, 48.63, 48.74, 49.03, 49.07, 49.32, 49.91, 50.13, 49.53, 49.50,
    49.75, 50.03, 50.31, 50.52, 50.41, 49.34, 49.37, 50.23, 49.24, 49.93, 48.43, 48.18,
    46.57, 45.41, 47.77, 47.72, 48.62, 47.85,
]
TRUE_RANGE = [
    0.91, 0.58, 0.51, 0.50, 0.58, 0.41, 0.26, 0.49, 0.60, 0.32, 0.93, 0.76, 0.45, 0.46,
    1.10, 0.48, 0.35, 1.22, 0.65, 0.96, 1.09, 0.93, 1.85, 0.86, 6.77, 2.52, 2.39, 1.19,
    0.94, 1.06,
]
# fmt: on


def assert_table(got: np.ndarray, first: int, want: list[float], tol: float = 0.006) -> None:
    assert np.isnan(got[:first]).all()
    assert got[first:].tolist() == pytest.approx(want, abs=tol)


def test_sma_matches_the_stockcharts_table() -> None:
    assert_table(sma(MA_CLOSES, 10), 9, SMA_10)


def test_ema_matches_the_stockcharts_table() -> None:
    assert_table(ema(MA_CLOSES, 10), 9, EMA_10)


def test_rsi_matches_wilders_worked_example() -> None:
    values = rsi(RSI_CLOSES, 14)
    assert np.isnan(values[:14]).all()
    assert [round(v, 2) for v in values[14:]] == RSI_14


def test_bollinger_bands_match_the_stockcharts_table() -> None:
    upper, middle, lower = bollinger(BB_CLOSES, 20, 2.0)
    assert_table(middle, 19, BB_MIDDLE)
    assert_table(upper, 19, BB_UPPER, tol=0.011)
    assert_table(lower, 19, BB_LOWER, tol=0.011)


def test_true_range_matches_the_stockcharts_table() -> None:
    got = true_range(ATR_HIGH, ATR_LOW, ATR_CLOSE)
    assert got.tolist() == pytest.approx(TRUE_RANGE, abs=0.006)


def test_atr_is_the_mean_then_wilder_smoothing_of_true_range() -> None:
    values = atr(ATR_HIGH, ATR_LOW, ATR_CLOSE, 14)
    assert np.isnan(values[:13]).all()
    # StockCharts: the first ATR averages the first 14 true ranges (7.76 / 14).
    assert values[13] == pytest.approx(sum(TRUE_RANGE[:14]) / 14, abs=1e-9)
    expected = values[13]
    for i in range(14, len(TRUE_RANGE)):
        expected = (expected * 13 + true_range(ATR_HIGH, ATR_LOW, ATR_CLOSE)[i]) / 14
        assert values[i] == pytest.approx(expected)
    assert round(values[13], 2) == 0.55
    assert round(values[-1], 2) == 1.32


def test_macd_is_ema12_minus_ema26_with_an_ema9_signal() -> None:
    closes = np.array(RSI_CLOSES + MA_CLOSES + BB_CLOSES)
    line, signal, hist = macd(closes)
    assert np.isnan(line[:25]).all() and not np.isnan(line[25:]).any()
    assert line[25:] == pytest.approx((ema(closes, 12) - ema(closes, 26))[25:])
    # The signal starts once nine MACD values exist, seeded with their mean.
    assert np.isnan(signal[:33]).all()
    assert signal[33] == pytest.approx(line[25:34].mean())
    assert signal[34] == pytest.approx(signal[33] + 0.2 * (line[34] - signal[33]))
    assert hist[33:] == pytest.approx(line[33:] - signal[33:])


def test_realized_volatility_is_the_sample_stdev_of_log_returns() -> None:
    closes = BB_CLOSES
    values = realized_volatility(closes, 20)
    assert np.isnan(values[:20]).all()
    logs = [math.log(b / a) for a, b in zip(closes, closes[1:], strict=False)]
    for i in range(20, len(closes)):
        assert values[i] == pytest.approx(statistics.stdev(logs[i - 20 : i]))


def test_rsi_edge_cases() -> None:
    assert rsi([5.0] * 20, 14)[-1] == 50.0
    assert rsi(list(range(1, 21)), 14)[-1] == 100.0
    assert rsi(list(range(20, 0, -1)), 14)[-1] == 0.0
    assert np.isnan(rsi([1.0, 2.0, 3.0], 14)).all()


def test_periods_must_be_positive() -> None:
    with pytest.raises(ValueError, match="period"):
        sma([1.0, 2.0], 0)


def candles_from(closes: list[float]) -> list[Candle]:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    return [
        Candle(start + timedelta(hours=i), c, c * 1.01, c * 0.99, c, 1.0)
        for i, c in enumerate(closes)
    ]


def test_compute_indicators_gives_the_last_value_of_each_series() -> None:
    closes = BB_CLOSES + BB_CLOSES[::-1]  # 84 closes: enough for every indicator
    candles = candles_from(closes)
    values = compute_indicators(candles)
    assert tuple(values) == INDICATOR_KEYS
    high = [c.high for c in candles]
    low = [c.low for c in candles]
    assert values["price"] == closes[-1]
    assert values["sma_50"] == pytest.approx(sum(closes[-50:]) / 50)
    assert values["ema_26"] == pytest.approx(ema(closes, 26)[-1])
    assert values["rsi_14"] == pytest.approx(rsi(closes)[-1])
    assert values["macd_hist"] == pytest.approx(macd(closes)[2][-1])
    assert values["bb_lower"] == pytest.approx(bollinger(closes)[2][-1])
    assert values["atr_14"] == pytest.approx(atr(high, low, closes)[-1])
    assert values["volatility"] == pytest.approx(realized_volatility(closes)[-1])
    assert values["return_24"] == pytest.approx(closes[-1] / closes[-25] - 1)


def test_compute_indicators_leaves_none_where_history_is_short() -> None:
    values = compute_indicators(candles_from(BB_CLOSES[:21]))
    assert values["sma_20"] is not None and values["volatility"] is not None
    missing = {key for key, value in values.items() if value is None}
    assert missing == {"sma_50", "ema_26", "macd", "macd_signal", "macd_hist", "return_24"}
    assert compute_indicators([]) == dict.fromkeys(INDICATOR_KEYS)
