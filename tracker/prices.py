"""Market prices for outcome resolution.

A :class:`PriceSource` answers one question: the last price known at a moment, if the
data reaches that moment. For candle data that is the *open* of the candle that opened at
or before it: a candle's close lies in its future, so using it would look ahead.

``CsvPriceSource`` reads any exchange's OHLCV export with the header
``timestamp,open,high,low,close,volume`` (timestamps as ISO 8601 or Unix seconds or
milliseconds; naive ISO times are taken as UTC). The agents package adds live sources
with the same shape.
"""

from __future__ import annotations

import bisect
import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from tracker.errors import PriceDataError

COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")


@dataclass(frozen=True, slots=True)
class Candle:
    timestamp: datetime  # the candle's open time, UTC
    open: float
    high: float
    low: float
    close: float
    volume: float


class PriceSource(Protocol):
    def price_at(self, symbol: str, when: datetime) -> float | None:
        """The last price known at ``when``; None when the data does not reach ``when``
        (before the first candle, or after the last one opened)."""
        ...


def parse_timestamp(value: str) -> datetime:
    text = value.strip()
    if text.replace(".", "", 1).isdigit():
        number = float(text)
        return datetime.fromtimestamp(number / 1000 if number > 1e11 else number, UTC)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def read_ohlcv_csv(path: Path | str) -> list[Candle]:
    """All candles of an OHLCV CSV file, oldest first."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise PriceDataError(f"cannot read {path}: {exc.strerror}") from exc
    candles = [_candle(path, number, row) for number, row in enumerate(rows, start=2)]
    if any(a.timestamp >= b.timestamp for a, b in zip(candles, candles[1:], strict=False)):
        raise PriceDataError(f"{path}: timestamps must be strictly increasing")
    return candles


def _candle(path: Path, line: int, row: dict[str, str]) -> Candle:
    try:
        return Candle(
            parse_timestamp(row["timestamp"]),
            *(float(row[column]) for column in COLUMNS[1:]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PriceDataError(
            f"{path}:{line}: expected columns {','.join(COLUMNS)} with numbers ({exc})"
        ) from exc


class CsvPriceSource:
    """Prices of one symbol (or of any symbol asked for) from an OHLCV CSV file."""

    def __init__(self, path: Path | str, symbol: str | None = None) -> None:
        self.symbol = symbol
        self.candles = read_ohlcv_csv(path)
        self._times = [candle.timestamp for candle in self.candles]

    def price_at(self, symbol: str, when: datetime) -> float | None:
        if self.symbol is not None and symbol != self.symbol:
            return None
        if not self._times or not self._times[0] <= when <= self._times[-1]:
            return None
        return self.candles[bisect.bisect_right(self._times, when) - 1].open
