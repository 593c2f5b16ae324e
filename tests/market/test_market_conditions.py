"""The market-condition classifier: its documented rule, then the real sample."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from agents.conditions import CONDITIONS, DEFAULT_RULE, ConditionRule, classify
from agents.indicators import compute_indicators
from agents.market import CsvMarketData, load_sample

CALM = {
    "price": 100.0,
    "sma_20": 100.0,
    "sma_50": 100.0,
    "rsi_14": 50.0,
    "atr_14": 0.5,
    "volatility": 0.002,
}


def with_(**changes: float | None) -> dict[str, float | None]:
    return {**CALM, **changes}


def test_calm_and_flat_is_sideways() -> None:
    assert classify(CALM) == "sideways"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"volatility": 0.012}, "volatile"),
        ({"volatility": 0.0119}, "sideways"),
        ({"atr_14": 2.2}, "volatile"),
        ({"atr_14": 2.19}, "sideways"),
        # Volatility wins over a clean uptrend.
        (
            {"price": 103.0, "sma_20": 102.0, "sma_50": 100.0, "rsi_14": 70.0, "volatility": 0.02},
            "volatile",
        ),
    ],
)
def test_volatility_or_atr_above_threshold_is_volatile(
    changes: dict[str, float], expected: str
) -> None:
    assert classify(with_(**changes)) == expected


def test_trend_needs_price_sma_order_gap_and_rsi() -> None:
    up = {"price": 103.0, "sma_20": 102.0, "sma_50": 101.0, "rsi_14": 60.0}
    assert classify(with_(**up)) == "bullish"
    assert classify(with_(**{**up, "price": 101.5})) == "sideways"  # price under SMA 20
    assert classify(with_(**{**up, "sma_50": 101.7})) == "sideways"  # gap 0.3 % < 0.4 %
    assert classify(with_(**{**up, "rsi_14": 49.0})) == "sideways"  # momentum disagrees
    assert classify(with_(**{**up, "rsi_14": None})) == "bullish"  # RSI missing: no veto
    down = {"price": 97.0, "sma_20": 98.0, "sma_50": 99.0, "rsi_14": 40.0}
    assert classify(with_(**down)) == "bearish"
    assert classify(with_(**{**down, "rsi_14": 51.0})) == "sideways"
    assert classify(with_(**{**down, "price": 98.5})) == "sideways"


def test_missing_history_is_sideways() -> None:
    assert classify(with_(sma_50=None, price=110.0)) == "sideways"
    assert classify(dict.fromkeys(CALM)) == "sideways"
    assert classify({}) == "sideways"
    # No volatility measure: step 1 is skipped, the trend test still runs.
    up = with_(price=103.0, sma_20=102.0, sma_50=101.0, volatility=None, atr_14=None)
    assert classify(up) == "bullish"


def test_thresholds_scale_with_the_square_root_of_the_interval() -> None:
    four_hours = DEFAULT_RULE.for_interval(timedelta(hours=4))
    assert four_hours.volatility == pytest.approx(2 * DEFAULT_RULE.volatility)
    assert four_hours.atr == pytest.approx(2 * DEFAULT_RULE.atr)
    assert four_hours.trend_gap == pytest.approx(2 * DEFAULT_RULE.trend_gap)
    assert four_hours.rsi_midline == DEFAULT_RULE.rsi_midline
    assert classify(with_(volatility=0.02)) == "volatile"
    assert classify(with_(volatility=0.02), four_hours) == "sideways"
    assert classify(with_(volatility=0.001), ConditionRule(volatility=0.0005)) == "volatile"


@pytest.fixture(scope="module")
def sample() -> CsvMarketData:
    return load_sample()


def condition_at(sample: CsvMarketData, when: str) -> str:
    end = datetime.fromisoformat(when).replace(tzinfo=UTC)
    return classify(compute_indicators(sample.candles("BTCUSDT", end=end, limit=200)))


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("2019-04-20T00:00", "sideways"),  # the quiet range around 5,300 USD
        ("2019-05-28T00:00", "bullish"),  # the May rally
        ("2019-06-27T04:00", "volatile"),  # the night of the 13,800 USD top and crash
        ("2019-09-26T12:00", "bearish"),  # after the 24 September sell-off
    ],
)
def test_known_episodes_of_the_sample(sample: CsvMarketData, when: str, expected: str) -> None:
    assert condition_at(sample, when) == expected


def test_every_condition_occurs_in_the_sample(sample: CsvMarketData) -> None:
    start = datetime(2019, 4, 5, tzinfo=UTC)
    ends = [start + timedelta(hours=4 * i) for i in range(1050)]
    counts = Counter(
        classify(compute_indicators(sample.candles("BTCUSDT", end=end, limit=100))) for end in ends
    )
    assert set(counts) == set(CONDITIONS)
    assert counts["volatile"] < counts["sideways"]  # volatile is the exception
