"""Market data sources: candles for the agents, prices for outcome resolution.

A :class:`MarketData` source (the protocol in :mod:`agents.protocols`) answers two
questions about a symbol:

- ``candles(symbol, end=None, limit=200)``: the last ``limit`` candles that were complete
  before ``end``, oldest first. A candle qualifies when it opened before ``end`` and its whole
  interval lies before ``end`` (``open + interval <= end``), so nothing after ``end`` leaks
  into a decision: for an ``end`` on a candle boundary that is exactly "the candles that opened
  before ``end``". ``end=None`` means "now" for a live source and "after the last row" for a
  file.
- ``price_at(symbol, when)``: the :class:`tracker.prices.PriceSource` protocol, the open of
  the candle under way at ``when`` (its close lies in the future); None before the first
  candle and once the last one has ended.

Sources:

- :class:`CsvMarketData` reads any exchange's OHLCV export through
  :func:`tracker.prices.read_ohlcv_csv` (header ``timestamp,open,high,low,close,volume``).
- :class:`CcxtMarketData` asks a live exchange through ccxt (the optional ``[exchange]``
  extra), imported only when such a source is built.
- :func:`sample_data_path` / :func:`load_sample` give the bundled sample of real hourly
  BTC-USD candles (see ``agents/data/README.md`` for source and licence).

Symbols compare loosely: ``BTCUSDT``, ``BTC/USDT`` and ``btc-usdt`` name the same pair.
Naive datetimes are taken as UTC, like the CSV reader does.
"""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agents.errors import MarketDataError
from agents.protocols import MarketData
from tracker.errors import PriceDataError
from tracker.prices import Candle, read_ohlcv_csv

__all__ = [
    "Candle",
    "CcxtMarketData",
    "CsvMarketData",
    "MarketData",
    "MarketDataError",
    "SAMPLES",
    "as_utc",
    "candle_interval",
    "load_sample",
    "normalize_symbol",
    "sample_data_path",
]

DATA_DIR = Path(__file__).with_name("data")
# symbol (normalized) -> bundled file; the one sample is BTC-USD, the demo's BTCUSDT stand-in.
SAMPLES = {
    "BTCUSDT": "BTCUSD_coinbase_1h.csv",
    "BTCUSD": "BTCUSD_coinbase_1h.csv",
}


def normalize_symbol(symbol: str) -> str:
    """``"btc/usdt"`` -> ``"BTCUSDT"``: the form symbols are compared in."""
    return "".join(ch for ch in symbol.upper() if ch.isalnum())


def as_utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def candle_interval(candles: Sequence[Candle]) -> timedelta:
    """The candles' timeframe: the median gap between consecutive opens (gaps in the data
    do not change it). Needs at least two candles."""
    if len(candles) < 2:
        raise MarketDataError("the candle interval needs at least two candles")
    tail = candles[-50:]
    gaps = [b.timestamp - a.timestamp for a, b in zip(tail, tail[1:], strict=False)]
    return statistics.median_low(gaps)


def sample_data_path(symbol: str = "BTCUSDT") -> Path:
    """The bundled OHLCV CSV for ``symbol`` (installed with the package)."""
    name = SAMPLES.get(normalize_symbol(symbol))
    if name is None:
        known = ", ".join(sorted(SAMPLES))
        raise MarketDataError(f"no bundled sample for {symbol}; samples exist for {known}")
    return DATA_DIR / name


def load_sample(symbol: str = "BTCUSDT") -> CsvMarketData:
    """A :class:`CsvMarketData` over the bundled sample, answering for ``symbol``."""
    return CsvMarketData(sample_data_path(symbol), symbol=symbol)


class CsvMarketData:
    """Candles and prices of one symbol (or of any symbol asked for) from an OHLCV CSV."""

    def __init__(self, path: Path | str, symbol: str | None = None) -> None:
        try:
            self.all_candles: list[Candle] = read_ohlcv_csv(path)
        except PriceDataError as exc:
            raise MarketDataError(str(exc)) from exc
        self.path = Path(path)
        self.symbol = symbol
        self._opens = [candle.timestamp for candle in self.all_candles]
        self.interval = candle_interval(self.all_candles) if len(self._opens) > 1 else None

    def _serves(self, symbol: str) -> bool:
        return self.symbol is None or normalize_symbol(symbol) == normalize_symbol(self.symbol)

    def candles(self, symbol: str, end: datetime | None = None, limit: int = 200) -> list[Candle]:
        if not self._serves(symbol):
            raise MarketDataError(f"{self.path} holds {self.symbol}, not {symbol}")
        if limit <= 0:
            return []
        stop = len(self.all_candles) if end is None else self._stop(as_utc(end))
        return self.all_candles[max(0, stop - limit) : stop]

    def _stop(self, end: datetime) -> int:
        """Index after the last candle complete by ``end`` (opened at or before
        ``end - interval``); with a single candle and no known interval, opened before end."""
        if self.interval is None:
            return bisect.bisect_left(self._opens, end)
        return bisect.bisect_right(self._opens, end - self.interval)

    def price_at(self, symbol: str, when: datetime) -> float | None:
        """The open of the candle under way at ``when``; None before the first candle and
        from the end of the last one on (a single candle of unknown length ends at its open)."""
        when = as_utc(when)
        if not self._serves(symbol) or not self._opens or when < self._opens[0]:
            return None
        if self.interval is None:  # one candle of unknown length: known at its open only
            past_end = when > self._opens[-1]
        else:
            past_end = when >= self._opens[-1] + self.interval
        if past_end:
            return None
        return self.all_candles[bisect.bisect_right(self._opens, when) - 1].open

    @property
    def start(self) -> datetime | None:
        """Open time of the first candle."""
        return self._opens[0] if self._opens else None

    @property
    def end(self) -> datetime | None:
        """Close time of the last candle (its open plus the interval)."""
        if not self._opens:
            return None
        return self._opens[-1] + (self.interval or timedelta(0))


class CcxtMarketData:
    """Candles and prices from a live exchange through ccxt (``pip install
    'promptloop[exchange]'``). ``ccxt_options`` go to the exchange's constructor (``apiKey``,
    ``timeout``, ``options``...); public market data needs no key."""

    def __init__(
        self, exchange_id: str = "binance", timeframe: str = "1h", **ccxt_options: Any
    ) -> None:
        try:
            import ccxt
        except ImportError as exc:
            raise MarketDataError(
                "the ccxt source needs ccxt: pip install 'promptloop[exchange]'"
            ) from exc
        self._errors: type[Exception] = ccxt.BaseError
        exchange_class = getattr(ccxt, exchange_id, None)
        if exchange_id not in ccxt.exchanges or exchange_class is None:
            raise MarketDataError(f"ccxt does not know the exchange {exchange_id!r}")
        self.exchange = exchange_class({"enableRateLimit": True, **ccxt_options})
        self.exchange_id = exchange_id
        self.timeframe = timeframe
        try:
            seconds = self.exchange.parse_timeframe(timeframe)
        except Exception as exc:  # ccxt raises a bare Exception or NotSupported here
            raise MarketDataError(f"unknown timeframe {timeframe!r}: {exc}") from exc
        self.interval = timedelta(seconds=seconds)

    def candles(self, symbol: str, end: datetime | None = None, limit: int = 200) -> list[Candle]:
        if limit <= 0:
            return []
        end_ms = _ms(as_utc(end) if end is not None else datetime.now(UTC))
        step = int(self.interval.total_seconds() * 1000)
        rows = self._fetch_range(symbol, since=end_ms - (limit + 1) * step, until=end_ms)
        complete = [row for row in rows if row[0] + step <= end_ms]
        return [_candle(row) for row in complete[-limit:]]

    def price_at(self, symbol: str, when: datetime) -> float | None:
        when_ms = _ms(as_utc(when))
        step = int(self.interval.total_seconds() * 1000)
        rows = self._fetch(symbol, since=when_ms - step + 1, limit=1)
        if not rows or not rows[0][0] <= when_ms:
            return None
        return float(rows[0][1])

    def _fetch_range(self, symbol: str, since: int, until: int) -> list[list[Any]]:
        """Candles opened in [since, until), page by page: exchanges cap one answer
        (Binance at 1000 candles, others at a few hundred)."""
        step = int(self.interval.total_seconds() * 1000)
        wanted = -(-(until - since) // step)
        rows: list[list[Any]] = []
        while since < until and len(rows) < wanted:
            page = [row for row in self._fetch(symbol, since, wanted - len(rows)) if row[0] < until]
            if not page:
                break
            rows.extend(row for row in page if not rows or row[0] > rows[-1][0])
            since = page[-1][0] + step
        return rows

    def _fetch(self, symbol: str, since: int, limit: int) -> list[list[Any]]:
        try:
            market = self._market(symbol)
            rows = self.exchange.fetch_ohlcv(market, self.timeframe, since=since, limit=limit)
        except self._errors as exc:
            raise MarketDataError(f"{self.exchange_id}: {type(exc).__name__}: {exc}") from exc
        return sorted(rows, key=lambda row: row[0])

    def _market(self, symbol: str) -> str:
        """The exchange's unified symbol (``BTC/USDT``) for ``BTCUSDT``, ``btc-usdt``..."""
        markets = self.exchange.load_markets()
        if symbol in markets:
            return symbol
        wanted = normalize_symbol(symbol)
        for unified, market in markets.items():
            if market.get("spot") and normalize_symbol(unified) == wanted:
                return str(unified)
        for unified, market in markets.items():
            if normalize_symbol(str(market.get("id", ""))) == wanted:
                return str(unified)
        raise MarketDataError(f"{self.exchange_id} has no market {symbol}")


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _candle(row: Sequence[Any]) -> Candle:
    stamp, *values = row[:6]
    return Candle(
        datetime.fromtimestamp(stamp / 1000, UTC),
        *(float(value) if value is not None else float("nan") for value in values),
    )
