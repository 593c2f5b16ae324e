"""The ccxt source, offline: ccxt's real binance client against a local HTTP server.

The server (tests/market/exchange_stub.py) serves the bundled sample candles in Binance's
kline format, capped at a small page size so that paging is exercised.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agents.market import CcxtMarketData, CsvMarketData, MarketDataError, load_sample

ccxt = pytest.importorskip("ccxt", reason="ccxt is the optional [exchange] extra")

sys.path.insert(0, str(Path(__file__).parent))
from exchange_stub import ExchangeStub, local_urls, serve  # noqa: E402

HOUR = timedelta(hours=1)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def sample() -> CsvMarketData:
    return load_sample()


@pytest.fixture
def stub(sample: CsvMarketData) -> Iterator[ExchangeStub]:
    with serve(ExchangeStub(sample.all_candles, page_cap=100)) as running:
        yield running


@pytest.fixture
def source(stub: ExchangeStub) -> CcxtMarketData:
    return CcxtMarketData("binance", "1h", urls=local_urls(ccxt.binance, stub.base_url))


def klines(stub: ExchangeStub) -> list[str]:
    return [path for path in stub.requests if path.startswith("/api/v3/klines")]


def test_candles_page_through_the_exchange_and_match_the_file(
    source: CcxtMarketData, stub: ExchangeStub, sample: CsvMarketData
) -> None:
    end = utc("2019-07-01T12:00")
    got = source.candles("BTCUSDT", end=end, limit=250)
    assert got == sample.candles("BTCUSDT", end=end, limit=250)
    assert got[-1].timestamp == end - HOUR
    assert len(klines(stub)) == 3  # 251 candles asked, 100 per answer
    assert all("symbol=BTCUSDT" in path and "interval=1h" in path for path in klines(stub))


def test_unaligned_end_drops_the_candle_still_open(
    source: CcxtMarketData, sample: CsvMarketData
) -> None:
    got = source.candles("BTC/USDT", end=utc("2019-07-01T12:30"), limit=3)
    assert got == sample.candles("BTCUSDT", end=utc("2019-07-01T12:30"), limit=3)
    assert got[-1].timestamp == utc("2019-07-01T11:00")


def test_without_end_the_latest_complete_candles(sample: CsvMarketData) -> None:
    # Live data: the sample shifted so that it runs until ten hours from now.
    now = datetime.now(UTC)
    shift = now.replace(minute=0, second=0, microsecond=0) + 10 * HOUR - sample.end
    live = [replace(c, timestamp=c.timestamp + shift) for c in sample.all_candles]
    with serve(ExchangeStub(live, page_cap=100)) as stub:
        source = CcxtMarketData("binance", "1h", urls=local_urls(ccxt.binance, stub.base_url))
        got = source.candles("btc-usdt", limit=5)
        after = datetime.now(UTC)
    assert len(got) == 5
    assert all(b.timestamp - a.timestamp == HOUR for a, b in zip(got, got[1:], strict=False))
    assert got[-1].timestamp + HOUR <= after  # complete: no candle still under way
    assert got[-1].timestamp + 2 * HOUR > now  # and the latest such candle


def test_price_at_matches_the_file_source(source: CcxtMarketData, sample: CsvMarketData) -> None:
    for when in (utc("2019-07-01T12:00"), utc("2019-07-01T12:59"), utc("2019-09-30T23:30")):
        assert source.price_at("BTCUSDT", when) == sample.price_at("BTCUSDT", when)
    assert source.price_at("BTCUSDT", utc("2019-03-31T23:00")) is None
    assert source.price_at("BTCUSDT", utc("2019-10-01T01:00")) is None


def test_unknown_market_and_exchange_errors(source: CcxtMarketData, stub: ExchangeStub) -> None:
    with pytest.raises(MarketDataError, match="binance has no market ETHUSDT"):
        source.candles("ETHUSDT")
    stub.status = 500
    fresh = CcxtMarketData("binance", "1h", urls=local_urls(ccxt.binance, stub.base_url))
    with pytest.raises(MarketDataError, match=r"^binance: \w+"):
        fresh.candles("BTCUSDT", limit=3)


def test_bad_configuration() -> None:
    with pytest.raises(MarketDataError, match="does not know the exchange 'nosuchexchange'"):
        CcxtMarketData("nosuchexchange")
    with pytest.raises(MarketDataError, match="unknown timeframe '7x'"):
        CcxtMarketData("binance", "7x")


def test_a_clear_error_without_ccxt() -> None:
    code = (
        "import sys; sys.modules['ccxt'] = None\n"
        "from agents.market import CcxtMarketData, MarketDataError\n"
        "try:\n    CcxtMarketData()\n"
        "except MarketDataError as exc:\n    print(exc)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == (
        "the ccxt source needs ccxt: pip install 'promptloop[exchange]'"
    )
