"""Outcome resolution from a small OHLCV CSV, with hand-computed returns."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from tracker_support import T0, decision

from tracker.errors import ValidationError
from tracker.prices import CsvPriceSource
from tracker.resolve import outcome_type_for, parse_horizon, resolve_outcomes

CANDLES = """timestamp,open,high,low,close,volume
2026-03-02T09:00:00Z,100,101,99,100.5,10
2026-03-02T10:00:00Z,102,103,101,102.5,10
2026-03-02T11:00:00Z,99,100,98,99.5,10
2026-03-03T09:00:00Z,103,104,102,103.5,10
2026-03-03T10:00:00Z,101.5,102,101,101.8,10
2026-03-03T11:00:00Z,99,100,98,99.2,10
"""
ONE_MORE = "2026-03-03T11:30:00Z,98,99,97,98.1,10\n"


def _decisions(tracker) -> dict[str, int]:
    at = {"buy_0900": (0, "BUY"), "sell_1030": (1.5, "SELL"), "hold_1100": (2, "HOLD"),
          "too_recent_1130": (2.5, "BUY"), "before_data_0800": (-1, "BUY")}
    ids = {name: tracker.track_decision(**decision(timestamp=T0 + timedelta(hours=h),
                                                   action=action))
           for name, (h, action) in at.items()}
    ids["other_symbol"] = tracker.track_decision(**decision(symbol="ETHUSDT"))
    return ids


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "btc.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_forward_returns_by_hand_and_no_look_ahead(tracker, tmp_path: Path) -> None:
    ids = _decisions(tracker)
    prices = CsvPriceSource(_csv(tmp_path, CANDLES), "BTCUSDT")
    report = resolve_outcomes(tracker, prices, "24h", symbol="BTCUSDT")
    assert report.to_dict() == {"outcome_type": "return_24h", "examined": 5, "resolved": 3,
                                "pending": 2}

    def outcome(name: str) -> dict | None:
        return tracker.decision(ids[name]).outcomes.get("return_24h")

    buy, sell, hold = outcome("buy_0900"), outcome("sell_1030"), outcome("hold_1100")
    assert buy["value"] == pytest.approx(0.03)  # 100 -> 103
    assert buy["details"] == {"horizon": "24h", "band": 0.005, "price_then": 100.0,
                              "price_later": 103.0, "correct": True}
    assert buy["timestamp"] == T0 + timedelta(hours=24)  # when it became known
    assert sell["value"] == pytest.approx(101.5 / 102 - 1)  # 10:00 candle's open, then 10:30
    assert sell["details"]["correct"] is False  # -0.49% is inside the 0.5% band
    assert hold["value"] == 0.0 and hold["details"]["correct"] is True
    assert outcome("too_recent_1130") is None  # 11:30 next day is past the last candle
    assert outcome("before_data_0800") is None
    assert outcome("other_symbol") is None


def test_resolving_twice_adds_nothing_and_later_data_resolves_the_rest(tracker,
                                                                       tmp_path: Path) -> None:
    ids = _decisions(tracker)
    path = _csv(tmp_path, CANDLES)
    resolve_outcomes(tracker, CsvPriceSource(path, "BTCUSDT"), "24h", symbol="BTCUSDT")
    again = resolve_outcomes(tracker, CsvPriceSource(path, "BTCUSDT"), "24h", symbol="BTCUSDT")
    assert (again.examined, again.resolved, again.pending) == (2, 0, 2)

    path = _csv(tmp_path, CANDLES + ONE_MORE)
    later = resolve_outcomes(tracker, CsvPriceSource(path, "BTCUSDT"), "24h", symbol="BTCUSDT")
    assert later.resolved == 1
    value = tracker.decision(ids["too_recent_1130"]).outcomes["return_24h"]["value"]
    assert value == pytest.approx(98 / 99 - 1)


def test_horizon_and_band_name_the_outcome(tracker, tmp_path: Path) -> None:
    ids = _decisions(tracker)
    prices = CsvPriceSource(_csv(tmp_path, CANDLES), "BTCUSDT")
    report = resolve_outcomes(tracker, prices, "1h", band=0.0, symbol="BTCUSDT")
    assert report.outcome_type == "return_1h"
    first = tracker.decision(ids["buy_0900"]).outcomes["return_1h"]
    assert first["value"] == pytest.approx(0.02)  # 100 -> 102
    assert first["details"]["band"] == 0.0
    assert "return_24h" not in tracker.decision(ids["buy_0900"]).outcomes


def test_concurrent_resolvers_do_not_collide(tracker, tmp_path: Path) -> None:
    """A row written by another resolver between read and write is skipped, not an error."""
    ids = _decisions(tracker)
    tracker.track_decision_outcome(ids["buy_0900"], "return_24h", 0.5)  # written meanwhile
    row = {"decision_id": ids["buy_0900"], "outcome_type": "return_24h", "outcome_value": 0.03,
           "timestamp": T0, "details": None}
    assert tracker.track_new_outcomes([row]) == 0
    assert tracker.decision(ids["buy_0900"]).outcomes["return_24h"]["value"] == 0.5


@pytest.mark.parametrize(("text", "expected"), [
    ("24h", timedelta(hours=24)), ("30m", timedelta(minutes=30)), ("7d", timedelta(days=7)),
    ("2w", timedelta(weeks=2)),
])
def test_parse_horizon(text: str, expected: timedelta) -> None:
    assert parse_horizon(text) == expected
    assert outcome_type_for(text) == f"return_{text}"


@pytest.mark.parametrize("text", ["", "24", "h", "0h", "-1h", "1.5h", "24 hours"])
def test_bad_horizon(text: str) -> None:
    with pytest.raises(ValidationError, match="expected a positive number and a unit"):
        parse_horizon(text)
