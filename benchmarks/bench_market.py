"""How long the market context of one decision takes, on the bundled real sample.

A session (and every backtest step) loads candles and builds one market snapshot. This
times, on the 2019 BTC-USD hourly sample:

- ``candles``: ``CsvMarketData.candles(end, limit=200)`` (a bisect and a slice);
- ``snapshot``: ``market_snapshot`` over those 200 candles (numpy indicators, classifier);
- the baseline: the same indicator values computed with plain Python lists, the obvious
  implementation without numpy (its results are checked against the library's).

Run: ``python benchmarks/bench_market.py``. Prints one table; the last column is the ratio
against the baseline measured in the same run.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from datetime import timedelta

from agents.indicators import compute_indicators
from agents.market import load_sample
from agents.snapshot import market_snapshot
from tracker.prices import Candle


def py_sma(xs: list[float], n: int) -> float:
    return sum(xs[-n:]) / n


def py_smooth(xs: list[float], n: int, alpha: float) -> float:
    level = sum(xs[:n]) / n
    for x in xs[n:]:
        level += alpha * (x - level)
    return level


def py_ema_series(xs: list[float], n: int) -> list[float]:
    level, out = sum(xs[:n]) / n, []
    out.append(level)
    for x in xs[n:]:
        level += 2 / (n + 1) * (x - level)
        out.append(level)
    return out


def py_indicators(candles: list[Candle]) -> dict[str, float]:
    close = [c.close for c in candles]
    changes = [b - a for a, b in zip(close, close[1:], strict=False)]
    gain = py_smooth([max(c, 0.0) for c in changes], 14, 1 / 14)
    loss = py_smooth([max(-c, 0.0) for c in changes], 14, 1 / 14)
    ranges = [candles[0].high - candles[0].low] + [
        max(c.high - c.low, abs(c.high - p.close), abs(c.low - p.close))
        for p, c in zip(candles, candles[1:], strict=False)
    ]
    macd_line = [
        a - b for a, b in zip(py_ema_series(close, 12)[14:], py_ema_series(close, 26), strict=True)
    ]
    logs = [math.log(b / a) for a, b in zip(close, close[1:], strict=False)]
    middle = py_sma(close, 20)
    return {
        "sma_50": py_sma(close, 50),
        "ema_26": py_smooth(close, 26, 2 / 27),
        "rsi_14": 100 - 100 / (1 + gain / loss),
        "macd_signal": py_smooth(macd_line, 9, 0.2),
        "bb_upper": middle + 2 * statistics.pstdev(close[-20:]),
        "atr_14": py_smooth(ranges, 14, 1 / 14),
        "volatility": statistics.stdev(logs[-20:]),
    }


def per_call(action: Callable[[], object], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        action()
    return (time.perf_counter() - start) / repeat


def main() -> None:
    market = load_sample()
    ends = [market.all_candles[300].timestamp + timedelta(hours=4 * i) for i in range(1000)]
    windows = [market.candles("BTCUSDT", end=end, limit=200) for end in ends]
    exact = compute_indicators(windows[-1])
    for key, value in py_indicators(windows[-1]).items():
        assert math.isclose(value, exact[key] or 0.0, rel_tol=1e-9), key

    def cycle(fn: Callable[[int], object]) -> Callable[[], object]:
        state = {"i": 0}

        def run() -> object:
            state["i"] = (state["i"] + 1) % len(ends)
            return fn(state["i"])

        return run

    baseline = per_call(cycle(lambda i: py_indicators(windows[i])), 2000)
    rows = [
        ("baseline: indicators, plain Python", baseline),
        (
            "candles(end, limit=200)",
            per_call(cycle(lambda i: market.candles("BTCUSDT", end=ends[i])), 2000),
        ),
        (
            "compute_indicators (numpy)",
            per_call(cycle(lambda i: compute_indicators(windows[i])), 2000),
        ),
        (
            "market_snapshot (all of it)",
            per_call(cycle(lambda i: market_snapshot("BTCUSDT", windows[i])), 2000),
        ),
    ]
    start = time.perf_counter()
    for end in ends:
        market_snapshot("BTCUSDT", market.candles("BTCUSDT", end=end))
    full = time.perf_counter() - start
    print(f"{'step (200 hourly candles)':40} {'per call':>10} {'vs baseline':>12}")
    for name, seconds in rows:
        print(f"{name:40} {seconds * 1e3:8.3f}ms {seconds / baseline:11.2f}x")
    print(
        f"\n1000 decisions every 4h over the sample (candles + snapshot): {full:.2f}s"
        f" ({len(ends) / full:,.0f} snapshots/s)"
    )


if __name__ == "__main__":
    main()
