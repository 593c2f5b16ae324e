"""A local Binance-like HTTP server for the ccxt source tests (127.0.0.1 only).

It answers the two public endpoints ccxt's binance client uses for candles:
``exchangeInfo`` (one spot market, BTC/USDT; the futures endpoints list no market) and
``klines`` (served from a list of candles, honouring ``startTime``, ``endTime`` and ``limit``
and capping one answer at ``page_cap`` rows like the real API does at 1000). Every request
path and query is recorded in ``requests``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tracker.prices import Candle

SPOT_MARKET = {
    "symbol": "BTCUSDT",
    "status": "TRADING",
    "baseAsset": "BTC",
    "baseAssetPrecision": 8,
    "quoteAsset": "USDT",
    "quotePrecision": 8,
    "quoteAssetPrecision": 8,
    "orderTypes": ["LIMIT", "MARKET"],
    "isSpotTradingAllowed": True,
    "isMarginTradingAllowed": False,
    "permissions": ["SPOT"],
    "permissionSets": [["SPOT"]],
    "filters": [
        {
            "filterType": "PRICE_FILTER",
            "minPrice": "0.01",
            "maxPrice": "1000000.00",
            "tickSize": "0.01",
        },
        {
            "filterType": "LOT_SIZE",
            "minQty": "0.00001",
            "maxQty": "9000.00000000",
            "stepSize": "0.00001",
        },
    ],
}


@dataclass
class ExchangeStub:
    candles: Sequence[Candle]
    page_cap: int = 1000
    status: int = 200
    requests: list[str] = field(default_factory=list)
    base_url: str = ""

    def klines(self, query: dict[str, list[str]]) -> list[list[Any]]:
        start = int(query.get("startTime", ["0"])[0])
        end = int(query.get("endTime", [str(2**62)])[0])
        limit = min(int(query.get("limit", ["500"])[0]), self.page_cap)
        rows = []
        for candle in self.candles:
            stamp = int(candle.timestamp.timestamp() * 1000)
            if start <= stamp <= end:
                rows.append(_kline(stamp, candle))
        # Without startTime Binance answers the most recent candles.
        return rows[:limit] if "startTime" in query else rows[-limit:]


def _kline(stamp: int, candle: Candle) -> list[Any]:
    values = (candle.open, candle.high, candle.low, candle.close, candle.volume)
    return [stamp, *(str(v) for v in values), stamp + 3_599_999, "0", 0, "0", "0", "0"]


def _handler(stub: ExchangeStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            url = urlsplit(self.path)
            stub.requests.append(self.path)
            if stub.status != 200:
                return self._send(stub.status, {"code": -1003, "msg": "Too many requests."})
            if url.path.endswith("/exchangeInfo"):
                spot = url.path.startswith("/api/")
                return self._send(
                    200,
                    {"timezone": "UTC", "serverTime": 0, "symbols": [SPOT_MARKET] if spot else []},
                )
            if url.path == "/api/v3/klines":
                return self._send(200, stub.klines(parse_qs(url.query)))
            self._send(404, {"code": -1, "msg": f"no stub for {url.path}"})

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def serve(stub: ExchangeStub) -> Iterator[ExchangeStub]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    stub.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def local_urls(exchange_class: Any, base_url: str) -> dict[str, Any]:
    """The exchange's API URLs with every host replaced by the local server."""
    api = exchange_class().urls["api"]
    return {"api": {key: _local(value, base_url) for key, value in api.items()}}


def _local(url: Any, base_url: str) -> Any:
    if not isinstance(url, str) or "://" not in url:
        return url
    path = url.split("://", 1)[1].partition("/")[2]
    return f"{base_url}/{path}"
