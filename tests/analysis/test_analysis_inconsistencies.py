"""Planted inconsistencies are found with their decision ids; a clean set yields none."""

from __future__ import annotations

import pytest

from tests.analysis.conftest import AGENT, UNTIL, call
from tracker.analysis import analyze_performance
from tracker.analysis.inconsistencies import Call, contradictions, near_identical
from tracker.contradiction import ContradictionRule, contradict

PLANTED = [
    # 0, 1: opposite calls 5 h apart, RSI 2 apart, same MACD sign -> contradictory
    call(50, "BUY", 0.6, rsi=60, macd=0.5),
    call(45, "SELL", 0.5, rsi=62, macd=0.3),
    # 2, 3: confident, near-identical inputs -> flip-flop
    call(30, "SELL", 0.8, symbol="ETHUSDT", condition="bearish", rsi=30, macd=-0.2, price=2000),
    call(28, "BUY", 0.75, symbol="ETHUSDT", condition="bearish", rsi=31, macd=-0.1, price=2005),
    # 4, 5: only the MACD is in both contexts (RSI missing from one): still compared
    call(40, "BUY", 0.6, symbol="BNBUSDT", rsi=None, macd=0.2),
    call(39, "SELL", 0.6, symbol="BNBUSDT", rsi=50, macd=0.1),
    # 6: a BUY argued bearishly
    call(10, "BUY", 0.7, symbol="DOGEUSDT", reasoning="Bearish breakdown below support."),
]
NOT_INCONSISTENT = [
    call(20, "BUY", 0.6, symbol="SOLUSDT", rsi=40),
    call(19, "SELL", 0.6, symbol="SOLUSDT", rsi=52),  # RSI 12 apart
    call(20, "BUY", 0.6, symbol="XRPUSDT", condition="sideways", macd=0.2),
    call(19, "SELL", 0.6, symbol="XRPUSDT", condition="sideways", macd=-0.2),  # trend flipped
    call(100, "BUY", 0.6, symbol="ADAUSDT"),
    call(70, "SELL", 0.6, symbol="ADAUSDT"),  # 30 h apart, window 24 h
    call(20, "BUY", 0.6, symbol="DOTUSDT", condition="bullish"),
    call(19, "SELL", 0.6, symbol="DOTUSDT", condition="bearish"),  # other condition
    call(20, "BUY", 0.6, symbol="LTCUSDT", rsi=None, macd=None),
    call(19, "SELL", 0.6, symbol="LTCUSDT", rsi=None, macd=None),  # nothing to compare
    call(20, "HOLD", 0.6, symbol="BTCUSDT", condition="volatile"),
    call(19, "BUY", 0.6, symbol="BTCUSDT", condition="volatile"),  # HOLD is no direction
    call(20, "BUY", 0.6, symbol="AVAXUSDT", reasoning="Bullish breakout, but not overbought."),
    call(19, "BUY", 0.6, symbol="AVAXUSDT", rsi=51, macd=0.2),  # same action
]


def _found(block):
    return sorted((i["kind"], tuple(i["decision_ids"])) for i in block["inconsistencies"])


def test_planted_inconsistencies_are_found(seed, tracker) -> None:
    ids = seed(PLANTED + NOT_INCONSISTENT)
    report = analyze_performance(tracker.engine, [AGENT], 30, until=UNTIL,
                                 store_metrics=False).to_dict()
    expected = sorted([
        ("contradictory_calls", (ids[0], ids[1])),
        ("confidence_flip_flop", (ids[2], ids[3])),
        ("contradictory_calls", (ids[4], ids[5])),
        ("reasoning_contradicts_action", (ids[6],)),
    ])
    for block in (report["agents"][AGENT], report["overall"]):
        assert _found(block) == expected
        assert block["inconsistency_counts"] == {
            "contradictory_calls": 2, "confidence_flip_flop": 1,
            "reasoning_contradicts_action": 1,
        }
    agent = report["agents"][AGENT]
    assert agent["inconsistency_scope"] == {"checked": 20, "directional_calls": 20}
    flip = next(i for i in agent["inconsistencies"] if i["kind"] == "confidence_flip_flop")
    assert flip["detail"] == (
        f"SELL #{ids[2]} (confidence 0.80, RSI 30.0, MACD hist -0.2) then "
        f"BUY #{ids[3]} (confidence 0.75, RSI 31.0, MACD hist -0.1) on ETHUSDT, "
        "bearish market, 2.0 h apart"
    )


def test_a_clean_set_has_no_inconsistencies(seed, tracker) -> None:
    seed(NOT_INCONSISTENT)
    report = analyze_performance(tracker.engine, None, 30, until=UNTIL,
                                 store_metrics=False).to_dict()
    for block in (report["agents"][AGENT], report["overall"]):
        assert block["inconsistencies"] == []
        assert set(block["inconsistency_counts"].values()) == {0}


def test_the_window_and_the_limits_are_honoured(seed, tracker) -> None:
    ids = seed(PLANTED)
    narrow = analyze_performance(tracker.engine, [AGENT], 30, until=UNTIL, window_hours=4,
                                 store_metrics=False, max_listed=1).to_dict()
    block = narrow["agents"][AGENT]
    # the 5 h pair falls out with a 4 h window; one finding listed per kind
    assert block["inconsistency_counts"]["contradictory_calls"] == 1
    assert [i["decision_ids"] for i in block["inconsistencies"]
            if i["kind"] == "contradictory_calls"] == [[ids[4], ids[5]]]
    newest = analyze_performance(tracker.engine, [AGENT], 30, until=UNTIL, max_checked=2,
                                 store_metrics=False).to_dict()
    scope = newest["agents"][AGENT]["inconsistency_scope"]
    assert scope == {"checked": 2, "directional_calls": 7}
    assert _found(newest["agents"][AGENT]) == [("reasoning_contradicts_action", (ids[6],))]


def _c(i: int, at_h: float, action: str, conf: float = 0.8, **kw) -> Call:
    return Call(i, "BTCUSDT", "bullish", at_h * 3600, action, conf, **kw)


def test_similarity_rules() -> None:
    assert contradict(_c(1, 0, "BUY", rsi=50), _c(2, 1, "SELL", rsi=55))
    assert not contradict(_c(1, 0, "BUY", rsi=50), _c(2, 1, "SELL", rsi=55.1))
    assert not contradict(_c(1, 0, "BUY", macd=0.0), _c(2, 1, "SELL", macd=0.1))  # 0 is no sign
    assert not contradict(_c(1, 0, "BUY"), _c(2, 1, "SELL", rsi=50))  # nothing in common
    assert near_identical(_c(1, 0, "BUY", rsi=50, macd=1, price=100),
                          _c(2, 1, "SELL", rsi=52, macd=2, price=100.5))
    assert not near_identical(_c(1, 0, "BUY", rsi=50, macd=1, price=100),
                              _c(2, 1, "SELL", rsi=52, macd=2, price=100.6))
    assert not near_identical(_c(1, 0, "BUY", rsi=50), _c(2, 1, "SELL", rsi=50))


def test_each_call_pairs_with_the_nearest_earlier_reversal() -> None:
    calls = [_c(1, 0, "BUY", rsi=50), _c(2, 1, "SELL", rsi=51), _c(3, 2, "BUY", rsi=52),
             _c(4, 3, "BUY", rsi=53)]
    found = contradictions(calls, ContradictionRule(24))
    pairs = [(a.decision_id, b.decision_id) for _, a, b in found]
    assert pairs == [(1, 2), (2, 3), (2, 4)]


@pytest.mark.parametrize("confidence", [0.69, 0.7])
def test_flip_flop_needs_confidence(confidence: float) -> None:
    calls = [_c(1, 0, "BUY", confidence, rsi=50, macd=1), _c(2, 1, "SELL", 0.9, rsi=50, macd=1)]
    kind = contradictions(calls, ContradictionRule(24))[0][0]
    assert kind == ("confidence_flip_flop" if confidence >= 0.7 else "contradictory_calls")
