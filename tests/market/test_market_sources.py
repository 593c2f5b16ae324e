"""The CSV market data source and the bundled sample of real candles."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agents.market import (
    CsvMarketData,
    MarketDataError,
    load_sample,
    normalize_symbol,
    sample_data_path,
)
from tracker.prices import CsvPriceSource, read_ohlcv_csv

HOUR = timedelta(hours=1)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def sample() -> CsvMarketData:
    return load_sample("BTCUSDT")


def test_the_bundled_sample_is_the_documented_file(sample: CsvMarketData) -> None:
    path = sample_data_path("BTCUSDT")
    assert path.is_file() and path.stat().st_size < 1_000_000
    assert (path.parent / "README.md").read_text().count("CryptoDataDownload") >= 2
    assert len(sample.all_candles) == 4392
    first, last = sample.all_candles[0], sample.all_candles[-1]
    # The first and last rows of the source file's selection, digit for digit.
    assert (first.timestamp, first.open, first.high, first.low, first.close) == (
        utc("2019-04-01T00:00"),
        4094.99,
        4120.39,
        4051.53,
        4111.01,
    )
    assert (last.timestamp, last.close, last.volume) == (utc("2019-09-30T23:00"), 8304.96, 343.08)
    assert sample.interval == HOUR
    assert (sample.start, sample.end) == (utc("2019-04-01T00:00"), utc("2019-10-01T00:00"))


def test_the_sample_is_consistent_hourly_ohlcv(sample: CsvMarketData) -> None:
    candles = sample.all_candles
    pairs = zip(candles, candles[1:], strict=False)
    assert all(b.timestamp - a.timestamp == HOUR for a, b in pairs)
    for c in candles:
        assert c.low <= min(c.open, c.close) <= max(c.open, c.close) <= c.high
        assert c.volume >= 0
    # The 2 April 2019 jump, as widely reported, is in the data.
    jump = sample.candles("BTCUSDT", end=utc("2019-04-02T06:00"), limit=2)
    assert jump[0].open < 4200 and jump[-1].high > 5000


def test_sample_symbols() -> None:
    assert sample_data_path("BTC/USDT") == sample_data_path("btcusd") == sample_data_path()
    with pytest.raises(MarketDataError, match="no bundled sample for ETHUSDT"):
        sample_data_path("ETHUSDT")
    assert normalize_symbol("btc-usdt") == normalize_symbol("BTC/USDT") == "BTCUSDT"


def test_candles_end_before_the_decision_time(sample: CsvMarketData) -> None:
    end = utc("2019-07-01T12:00")
    got = sample.candles("BTCUSDT", end=end, limit=200)
    assert len(got) == 200
    assert got[-1].timestamp == end - HOUR  # opened before end, closed at end
    assert got[0].timestamp == end - 200 * HOUR
    assert got == sample.all_candles[sample.all_candles.index(got[0]) :][:200]


def test_a_candle_still_open_at_end_is_not_returned(sample: CsvMarketData) -> None:
    got = sample.candles("BTCUSDT", end=utc("2019-07-01T12:30"), limit=3)
    # The 12:00 candle opened before 12:30 but closes at 13:00: it would look ahead.
    assert [c.timestamp for c in got] == [utc("2019-07-01T09:00") + i * HOUR for i in range(3)]


def test_candles_at_the_edges_of_the_data(sample: CsvMarketData) -> None:
    assert sample.candles("BTCUSDT", end=utc("2019-04-01T00:00")) == []
    assert (
        sample.candles("BTCUSDT", end=utc("2019-04-01T03:00"), limit=200)
        == (sample.all_candles[:3])
    )
    assert sample.candles("BTCUSDT", end=None, limit=5) == sample.all_candles[-5:]
    assert (
        sample.candles("BTCUSDT", end=utc("2030-01-01T00:00"), limit=1) == (sample.all_candles[-1:])
    )
    assert sample.candles("BTCUSDT", limit=0) == []


def test_naive_times_are_utc(sample: CsvMarketData) -> None:
    naive = datetime(2019, 7, 1, 12)
    assert sample.candles("BTCUSDT", end=naive, limit=3) == sample.candles(
        "BTCUSDT", end=utc("2019-07-01T12:00"), limit=3
    )
    assert sample.price_at("BTCUSDT", naive) == sample.price_at("BTCUSDT", utc("2019-07-01T12:00"))


def test_price_at_is_the_open_of_the_candle_under_way(sample: CsvMarketData) -> None:
    candle = sample.candles("BTCUSDT", end=utc("2019-07-01T13:00"), limit=1)[0]
    assert candle.timestamp == utc("2019-07-01T12:00")
    assert sample.price_at("BTCUSDT", utc("2019-07-01T12:00")) == candle.open
    assert sample.price_at("BTCUSDT", utc("2019-07-01T12:59")) == candle.open
    assert sample.price_at("BTCUSDT", utc("2019-03-31T23:59")) is None
    assert sample.price_at("BTCUSDT", utc("2019-10-01T00:00")) is None
    # Within the last candle its open is known (the tracker's file source stops at it).
    assert sample.price_at("BTCUSDT", utc("2019-09-30T23:30")) == sample.all_candles[-1].open
    # The same answers as the tracker's own price source on the same file.
    tracker_source = CsvPriceSource(sample_data_path())
    for minutes in range(0, 4392 * 60, 997):
        when = utc("2019-04-01T00:00") + timedelta(minutes=minutes)
        assert sample.price_at("BTCUSDT", when) == tracker_source.price_at("BTCUSDT", when)


def test_a_source_bound_to_a_symbol_refuses_others(sample: CsvMarketData) -> None:
    assert sample.candles("BTC/USDT", limit=1) == sample.all_candles[-1:]
    with pytest.raises(MarketDataError, match="holds BTCUSDT, not ETHUSDT"):
        sample.candles("ETHUSDT")
    assert sample.price_at("ETHUSDT", utc("2019-07-01T12:00")) is None
    unbound = CsvMarketData(sample_data_path())
    assert unbound.candles("ANYTHING", limit=1) == sample.all_candles[-1:]


def write_csv(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "open", "high", "low", "close", "volume"])
        writer.writerows(rows)
    return path


def test_any_exchange_export_with_millisecond_timestamps(tmp_path: Path) -> None:
    start = int(utc("2024-03-01T00:00").timestamp() * 1000)
    rows = [[start + i * 4 * 3_600_000, 100 + i, 101 + i, 99 + i, 100.5 + i, 10] for i in range(6)]
    source = CsvMarketData(write_csv(tmp_path / "eth.csv", rows), symbol="ETH/USDT")
    assert source.interval == timedelta(hours=4)
    got = source.candles("ETHUSDT", end=utc("2024-03-01T16:00"), limit=10)
    assert [c.close for c in got] == [100.5, 101.5, 102.5, 103.5]
    assert got == read_ohlcv_csv(tmp_path / "eth.csv")[:4]


def test_a_single_candle_file(tmp_path: Path) -> None:
    one = write_csv(tmp_path / "one.csv", [["2024-01-01T00:00:00Z", 1, 2, 1, 2, 3]])
    source = CsvMarketData(one)
    assert source.interval is None
    assert source.price_at("X", utc("2024-01-01T00:00")) == 1
    assert source.price_at("X", utc("2024-01-01T00:01")) is None
    assert source.candles("X", end=utc("2024-01-01T00:00")) == []
    assert len(source.candles("X", end=utc("2024-01-01T00:01"))) == 1


def test_an_empty_file(tmp_path: Path) -> None:
    source = CsvMarketData(write_csv(tmp_path / "empty.csv", []))
    assert source.candles("X") == [] and source.price_at("X", utc("2024-01-01T00:00")) is None
    assert source.start is None and source.end is None


def test_bad_files_raise_market_data_errors(tmp_path: Path) -> None:
    with pytest.raises(MarketDataError, match="cannot read"):
        CsvMarketData(tmp_path / "missing.csv")
    bad = write_csv(tmp_path / "bad.csv", [["2024-01-01T00:00:00Z", "x", 2, 1, 2, 3]])
    with pytest.raises(MarketDataError, match=r"bad.csv:2: expected columns"):
        CsvMarketData(bad)
    unordered = write_csv(
        tmp_path / "unordered.csv",
        [["2024-01-01T01:00:00Z", 1, 2, 1, 2, 3], ["2024-01-01T00:00:00Z", 1, 2, 1, 2, 3]],
    )
    with pytest.raises(MarketDataError, match="strictly increasing"):
        CsvMarketData(unordered)
