"""The one definition of a contradiction: the predicate, the pairing and the settings."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

import pytest

from tracker.contradiction import ContradictionRule, contradict, pairs
from tracker.errors import ValidationError


@dataclass(frozen=True)
class Call:
    decision_id: int
    at: float
    action: str
    rsi: float | None = None
    macd: float | None = None
    symbol: str = "BTCUSDT"
    condition: str | None = "sideways"


def test_the_predicate() -> None:
    buy = Call(1, 0, "BUY", rsi=50, macd=0.2)
    assert contradict(buy, Call(2, 24 * 3600, "SELL", rsi=55, macd=0.1))
    assert not contradict(buy, Call(2, 24 * 3600 + 1, "SELL", rsi=55))  # outside the window
    assert not contradict(buy, Call(2, 60, "SELL", rsi=55.5))  # RSI too far
    assert not contradict(buy, Call(2, 60, "SELL", macd=-0.1))  # trend flipped
    assert not contradict(buy, Call(2, 60, "SELL"))  # no indicator in common
    assert not contradict(buy, Call(2, 60, "HOLD", rsi=50))  # HOLD has no direction
    assert not contradict(buy, Call(2, 60, "SELL", rsi=50, symbol="ETHUSDT"))
    assert not contradict(buy, Call(2, 60, "SELL", rsi=50, condition=None))
    narrow = ContradictionRule(window_hours=1, rsi_tolerance=1)
    assert contradict(buy, Call(2, 3600, "SELL", rsi=51), narrow)
    assert not contradict(buy, Call(2, 3601, "SELL", rsi=51), narrow)
    assert not contradict(buy, Call(2, 60, "SELL", rsi=51.5), narrow)


def test_every_pair_found_is_a_contradiction_and_none_is_missed_in_reach() -> None:
    rng = random.Random(7)
    calls = [Call(i, rng.uniform(0, 72) * 3600, rng.choice(["BUY", "SELL", "HOLD"]),
                  rsi=rng.choice([None, rng.uniform(30, 70)]),
                  macd=rng.choice([None, rng.uniform(-1, 1)]),
                  condition=rng.choice(["sideways", "volatile"])) for i in range(200)]
    rule = ContradictionRule(window_hours=6, rsi_tolerance=8)
    found = pairs(calls, rule)
    assert found and all(contradict(a, b, rule) and a.at <= b.at for a, b in found)
    later = {b.decision_id for _, b in found}
    for a, b in itertools.permutations(calls, 2):  # a call with an earlier match is paired
        if a.at < b.at and contradict(a, b, rule):
            assert b.decision_id in later


@pytest.mark.parametrize("settings", [{"window_hours": 0}, {"rsi_tolerance": -1}])
def test_settings_out_of_range_are_refused(settings: dict[str, float]) -> None:
    with pytest.raises(ValidationError, match="a contradiction needs"):
        ContradictionRule(**settings)
