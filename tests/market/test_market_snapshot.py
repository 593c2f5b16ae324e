"""The market snapshot: the JSON an agent sees and the tracker stores."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agents.conditions import classify
from agents.indicators import INDICATOR_KEYS, compute_indicators
from agents.market import CsvMarketData, MarketDataError, load_sample, sample_data_path
from agents.snapshot import format_interval, market_snapshot
from tracker.prices import Candle

END = datetime(2019, 7, 1, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def sample() -> CsvMarketData:
    return load_sample()


def test_snapshot_shape_and_values(sample: CsvMarketData) -> None:
    candles = sample.candles("BTCUSDT", end=END, limit=200)
    snapshot = market_snapshot("BTCUSDT", candles)
    assert list(snapshot) == [
        "symbol",
        "timestamp",
        "timeframe",
        "price",
        "indicators",
        "market_condition",
        "recent_closes",
    ]
    assert snapshot["symbol"] == "BTCUSDT"
    assert snapshot["timestamp"] == "2019-07-01T12:00:00+00:00"  # the decision time
    assert snapshot["timeframe"] == "1h"
    assert snapshot["price"] == candles[-1].close
    assert snapshot["recent_closes"] == [c.close for c in candles[-12:]]
    exact = compute_indicators(candles)
    assert list(snapshot["indicators"]) == list(INDICATOR_KEYS)
    for key, value in snapshot["indicators"].items():
        assert value == pytest.approx(exact[key], rel=1e-6)
    assert snapshot["market_condition"] == classify(exact)


def test_snapshot_is_plain_json_that_round_trips(sample: CsvMarketData) -> None:
    for limit in (200, 10):
        snapshot = market_snapshot("BTCUSDT", sample.candles("BTCUSDT", end=END, limit=limit))
        text = json.dumps(snapshot, allow_nan=False)
        assert json.loads(text) == snapshot
    assert snapshot["indicators"]["sma_50"] is None  # 10 candles: too short, null
    assert snapshot["market_condition"] == "sideways"


def test_no_look_ahead_later_data_changes_nothing(sample: CsvMarketData, tmp_path: Path) -> None:
    # The same snapshot from a file that stops at the decision time.
    truncated = tmp_path / "until_end.csv"
    with sample_data_path().open() as source, truncated.open("w") as target:
        rows = list(csv.reader(source))
        kept = [r for r in rows[1:] if datetime.fromisoformat(r[0]) < END]
        csv.writer(target).writerows([rows[0], *kept])
    short = CsvMarketData(truncated, symbol="BTCUSDT")
    assert short.end == END
    full_view = market_snapshot("BTCUSDT", sample.candles("BTCUSDT", end=END))
    assert market_snapshot("BTCUSDT", short.candles("BTCUSDT")) == full_view


def four_hour_candles(candles: list[Candle]) -> list[Candle]:
    groups = [candles[i : i + 4] for i in range(0, len(candles) - 3, 4)]
    return [
        Candle(
            g[0].timestamp,
            g[0].open,
            max(c.high for c in g),
            min(c.low for c in g),
            g[-1].close,
            sum(c.volume for c in g),
        )
        for g in groups
    ]


def test_other_timeframes_use_scaled_thresholds(sample: CsvMarketData) -> None:
    hourly = sample.candles("BTCUSDT", end=datetime(2019, 8, 22, tzinfo=UTC), limit=800)
    candles = four_hour_candles(hourly)
    snapshot = market_snapshot("BTCUSDT", candles)
    assert snapshot["timeframe"] == "4h"
    assert snapshot["timestamp"] == (candles[-1].timestamp + timedelta(hours=4)).isoformat()
    volatility = snapshot["indicators"]["volatility"]
    # Above the hourly threshold, below the 4h one: not volatile on 4h candles.
    assert 0.012 < volatility < 0.024
    assert classify(snapshot["indicators"]) == "volatile"
    assert snapshot["market_condition"] != "volatile"


def test_an_explicit_interval_allows_a_single_candle() -> None:
    candle = Candle(datetime(2024, 1, 1, tzinfo=UTC), 1.0, 2.0, 0.5, 1.5, 10.0)
    with pytest.raises(MarketDataError, match="at least two candles"):
        market_snapshot("X", [candle])
    snapshot = market_snapshot("X", [candle], interval=timedelta(days=1))
    assert (snapshot["timestamp"], snapshot["timeframe"]) == ("2024-01-02T00:00:00+00:00", "1d")
    with pytest.raises(MarketDataError, match="no candles for X"):
        market_snapshot("X", [])


@pytest.mark.parametrize(
    ("interval", "text"),
    [
        (timedelta(minutes=15), "15m"),
        (timedelta(hours=1), "1h"),
        (timedelta(hours=4), "4h"),
        (timedelta(days=1), "1d"),
        (timedelta(weeks=1), "1w"),
        (timedelta(seconds=90), "90s"),
    ],
)
def test_format_interval(interval: timedelta, text: str) -> None:
    assert format_interval(interval) == text
