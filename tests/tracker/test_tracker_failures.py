"""failure_cases / success_cases: judged per agent, most instructive first, pairs as one."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from tracker_support import T0, decision, output

from tracker.contradiction import ContradictionRule

AGENT = "MarketAnalyst"
UNTIL = T0 + timedelta(days=1)


def _add(tracker, minutes: float, action: str, confidence: float, value: float | None,
         symbol: str = "BTCUSDT", details: dict | None = None, context: dict | None = None,
         **agent_fields) -> int:
    fields = {"action": action, "confidence": confidence, **agent_fields}
    decision_id = tracker.track_decision(**decision(
        symbol=symbol, timestamp=T0 + timedelta(minutes=minutes),
        context={"minute": minutes, **(context or {})}, prompt_versions={AGENT: "f" * 40},
        agent_outputs=[output(AGENT, reasoning=f"call at {minutes}", prompt_sha=None, **fields),
                       output("RiskManager", action="HOLD", confidence=0.99)],
    ))
    if value is not None:
        tracker.track_decision_outcome(decision_id, "return_24h", value, details)
    return decision_id


@pytest.fixture
def history(tracker):
    ids = {
        "confident_miss": _add(tracker, 0, "BUY", 0.9, -0.03),
        "barely_wrong": _add(tracker, 60, "BUY", 0.55, 0.004, details={"band": 0.005}),
        "right_sell": _add(tracker, 120, "SELL", 0.8, -0.02),
        "pair_buy": _add(tracker, 180, "BUY", 0.6, -0.01, symbol="ETHUSDT",
                         context={"rsi": 41.0}),
        "pair_sell": _add(tracker, 210, "SELL", 0.7, -0.012, symbol="ETHUSDT",
                          context={"indicators": {"rsi_14": 43.5}}),
        "failed_call": _add(tracker, 240, None, None, -0.05, error="timeout"),
        "no_outcome": _add(tracker, 300, "BUY", 0.95, None),
        "too_old": _add(tracker, -5 * 24 * 60, "BUY", 0.95, -0.05),
        "wide_band_hold": _add(tracker, 360, "HOLD", 0.5, 0.01, details={"band": 0.02}),
    }
    return tracker, ids


def test_failures_worst_first_with_a_contradictory_pair_as_one_case(history) -> None:
    tracker, ids = history
    cases = tracker.failure_cases(AGENT, days=2, limit=20, until=UNTIL)
    assert [(c.kind, c.decision_ids) for c in cases] == [
        ("confidently_wrong", [ids["confident_miss"]]),
        ("contradiction", [ids["pair_buy"], ids["pair_sell"]]),
        ("wrong", [ids["barely_wrong"]]),
    ]
    assert [c.severity for c in cases] == [1.6875, 1.3125, pytest.approx(0.641667)]
    assert cases[1].case_id == f"d{ids['pair_buy']}+d{ids['pair_sell']}"
    assert cases[1].output["action"] == "BUY"  # the wrong member leads
    assert cases[1].others[0]["output"]["action"] == "SELL"
    assert cases[1].others[0]["outcome"]["correct"] is True


def test_a_case_carries_context_output_and_outcome(history) -> None:
    tracker, ids = history
    case = tracker.failure_cases(AGENT, days=2, limit=1, until=UNTIL)[0]
    assert case.case_id == f"d{ids['confident_miss']}"
    assert (case.agent, case.symbol, case.timestamp, case.market_condition) == (
        AGENT, "BTCUSDT", T0, "trending")
    assert case.context == {"minute": 0}
    assert case.output == {"action": "BUY", "confidence": 0.9, "risk_level": "LOW",
                           "reasoning": "call at 0", "prompt_sha": "f" * 40}
    assert case.outcome == {"type": "return_24h", "value": -0.03, "correct": False,
                            "details": None}
    data = json.loads(json.dumps(case.to_dict()))
    assert data["timestamp"] == "2026-03-02T09:00:00+00:00" and data["kind"] == "confidently_wrong"


def test_band_comes_from_the_outcome_details_when_present(history) -> None:
    tracker, ids = history
    failing = {i for c in tracker.failure_cases(AGENT, days=2, until=UNTIL)
               for i in c.decision_ids}
    assert ids["wide_band_hold"] not in failing  # |0.01| <= 0.02 from details
    stricter = tracker.failure_cases(AGENT, days=2, until=UNTIL, band=0.001)
    assert ids["wide_band_hold"] not in {i for c in stricter for i in c.decision_ids}
    assert ids["right_sell"] not in {i for c in stricter for i in c.decision_ids}


def test_success_cases_clearest_first(history) -> None:
    tracker, ids = history
    cases = tracker.success_cases(AGENT, days=2, limit=10, until=UNTIL)
    assert [c.decision_ids[0] for c in cases] == [
        ids["right_sell"], ids["pair_sell"], ids["wide_band_hold"]]
    assert {c.kind for c in cases} == {"success"}
    assert all(c.outcome["correct"] for c in cases)


def test_window_limit_and_other_agents(history) -> None:
    tracker, ids = history
    assert len(tracker.failure_cases(AGENT, days=2, limit=2, until=UNTIL)) == 2
    everything = tracker.failure_cases(AGENT, days=30, limit=None, until=UNTIL)
    assert ids["too_old"] in {i for c in everything for i in c.decision_ids}
    assert tracker.failure_cases(AGENT, days=2, until=T0 - timedelta(days=6)) == []
    # RiskManager said HOLD at 0.99 everywhere: judged on its own action.
    risk = tracker.failure_cases("RiskManager", days=2, until=UNTIL)
    assert ids["confident_miss"] in {i for c in risk for i in c.decision_ids}
    assert all(c.output["action"] == "HOLD" for c in risk)
    assert tracker.failure_cases("Nobody", days=2, until=UNTIL) == []


def test_other_outcome_types_are_not_mixed_in(history) -> None:
    tracker, _ = history
    assert tracker.failure_cases(AGENT, days=2, until=UNTIL, outcome_type="return_1h") == []


def test_a_pair_without_indicators_in_common_is_no_contradiction(tracker) -> None:
    """Opposite calls minutes apart, but nothing says they saw the same market."""
    first = _add(tracker, 0, "BUY", 0.9, -0.03, symbol="SOLUSDT")
    second = _add(tracker, 10, "SELL", 0.9, 0.03, symbol="SOLUSDT", context={"rsi": 50.0})
    cases = tracker.failure_cases(AGENT, days=2, until=UNTIL)
    assert sorted((c.kind, c.decision_ids[0]) for c in cases) == [
        ("confidently_wrong", first), ("confidently_wrong", second)]


def test_the_rule_sets_the_window_and_the_rsi_tolerance(tracker) -> None:
    buy = _add(tracker, 0, "BUY", 0.6, -0.02, context={"rsi": 50.0, "macd_hist": 0.2})
    sell = _add(tracker, 5 * 60, "SELL", 0.6, -0.02,
                context={"indicators": {"rsi_14": 53.0, "macd_hist": 0.1}})

    def kinds(**rule) -> list[tuple[str, list[int]]]:
        cases = tracker.failure_cases(AGENT, days=2, until=UNTIL,
                                      contradiction=ContradictionRule(**rule))
        return [(c.kind, c.decision_ids) for c in cases]

    assert kinds() == [("contradiction", [buy, sell])]  # 5 h, 3 RSI points: the defaults
    assert kinds(window_hours=4) == [("wrong", [buy])]
    assert kinds(rsi_tolerance=2) == [("wrong", [buy])]
