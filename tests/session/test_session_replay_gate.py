"""Replay and the replay gate, with an LLM whose answers depend on the prompt it receives.

The fake model answers from the prompt text and the snapshot: the CURRENT prompt gets the
held-out failures wrong and the successes right; FIX gets everything right; BREAK gets
everything wrong; GARBAGE makes it answer prose that never parses.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.errors import BudgetExceeded
from agents.replay import earlier_answers, replay_many
from optimizer.replay_gate import replay_gate

from .test_session_roles import make_client, make_workspace  # noqa: TID252

OPPOSITE = {"BUY": "SELL", "SELL": "BUY"}


def case(case_id: str, truth: str, kind: str, agent_was_right: bool) -> dict:
    value = 0.03 if truth == "BUY" else -0.03
    team = [
        {"agent": "MarketAnalyst", "action": "BUY", "confidence": 0.9, "risk_level": "LOW",
         "reasoning": "analysis"},
        {"agent": "RiskManager", "action": "HOLD", "confidence": 0.6, "risk_level": "MEDIUM",
         "reasoning": "risk"},
        {"agent": "TradingAdvisor", "action": "BUY", "confidence": 0.8, "risk_level": "LOW",
         "reasoning": "advice"},
    ]
    return {
        "case_id": case_id,
        "kind": kind,
        "context": {"symbol": "BTCUSDT", "price": 100.0, "case": case_id, "truth": truth,
                    "indicators": {}, "market_condition": "volatile", "team": team},
        "output": {"action": truth if agent_was_right else OPPOSITE[truth]},
        "outcome": {"type": "return_24h", "value": value, "correct": agent_was_right,
                    "details": {"band": 0.005}},
    }


FAILURES = [case(f"d{i}", truth, "confidently_wrong", False)
            for i, truth in enumerate(["BUY", "SELL", "BUY", "SELL"], start=1)]
SUCCESSES = [case(f"d{i}", truth, "success", True)
             for i, truth in enumerate(["SELL", "BUY"], start=10)]
CASES = FAILURES + SUCCESSES


def model(request: dict) -> str:
    prompt = request["messages"][0]["content"]
    user = request["messages"][1]["content"]
    snapshot = json.loads(user.split("```json\n")[1].split("\n```")[0])
    truth, failure = snapshot["truth"], snapshot["case"] in {c["case_id"] for c in FAILURES}
    if prompt == "GARBAGE":
        return "Let me think about the market in general terms."
    if prompt == "FIX" or (prompt == "CURRENT" and not failure):
        action = truth
    else:
        action = OPPOSITE[truth]
    return json.dumps({"action": action, "confidence": 0.7, "risk_level": "MEDIUM",
                       "reasoning": f"{prompt} says {action}"})


@pytest.fixture
def setup(respx_llm, tmp_path: Path):
    respx_llm.responder = model
    return respx_llm, make_client(respx_llm.url), make_workspace(tmp_path, respx_llm.url)


def test_candidate_that_fixes_failures_passes(setup) -> None:
    fake, client, ws = setup
    result = replay_gate(client, ws, "TradingAdvisor", "FIX", "CURRENT", CASES)
    assert result.name == "replay" and result.passed
    assert (result.data["fixed"], result.data["broken"], result.data["cases"]) == (4, 0, 6)
    assert result.data["failures"] == {"cases": 4, "fixed": 4, "broken": 0}
    assert result.data["successes"] == {"cases": 2, "fixed": 0, "broken": 0}
    assert result.data["p_value"] == 0.0625 and result.data["alpha"] == 0.1
    assert "held-out" in result.detail and "fixed 4, broke 0" in result.detail
    assert len(fake.requests) == 12  # each case with the candidate and the current prompt
    assert {r["temperature"] for r in fake.requests} == {0}
    by_case = {row["case_id"]: row for row in result.data["results"]}
    assert by_case["d1"] == {
        "case_id": "d1", "timestamp": None, "held_out_as": "failure",
        "market_condition": None, "outcome_value": 0.03,
        "recorded_action": "SELL", "baseline_actions": ["SELL"], "baseline_correct": False,
        "baseline_brier": 0.49, "candidate_actions": ["BUY"], "candidate_correct": True,
        "candidate_brier": 0.09, "candidate_errors": 0, "verdict": "fixed",
    }
    assert result.data["brier"]["change"] < 0


def test_candidate_that_breaks_successes_is_rejected(setup) -> None:
    _, client, ws = setup
    result = replay_gate(client, ws, "TradingAdvisor", "BREAK", "CURRENT", CASES)
    assert not result.passed
    assert (result.data["fixed"], result.data["broken"]) == (0, 2)
    assert result.data["successes"]["broken"] == 2


def test_unparseable_candidate_answers_count_as_broken(setup) -> None:
    _, client, ws = setup
    result = replay_gate(client, ws, "TradingAdvisor", "GARBAGE", "CURRENT", CASES)
    assert not result.passed
    assert (result.data["fixed"], result.data["broken"], result.data["errors"]) == (0, 2, 6)


def test_alpha_sets_the_bar(setup) -> None:
    """4 fixed, 0 broken: p = 1/16 = 0.0625, passes at 0.1, not at 0.05."""
    _, client, ws = setup
    assert not replay_gate(client, ws, "TradingAdvisor", "FIX", "CURRENT", CASES,
                           alpha=0.05).passed
    assert replay_gate(client, ws, "TradingAdvisor", "FIX", "CURRENT", CASES,
                       alpha=0.1).passed


def test_a_shared_baseline_halves_the_calls(setup) -> None:
    from optimizer.replay_gate import replay_answers

    fake, client, ws = setup
    baseline = replay_answers(client, ws, "TradingAdvisor", "CURRENT", CASES)
    assert len(fake.requests) == 6
    result = replay_gate(client, ws, "TradingAdvisor", "FIX", "CURRENT", CASES,
                         baseline=baseline)
    assert result.passed and result.data["fixed"] == 4
    assert len(fake.requests) == 12


def test_replay_sends_only_the_answers_the_agent_saw(setup) -> None:
    fake, client, ws = setup
    context = FAILURES[0]["context"]
    assert [a["agent"] for a in earlier_answers(context, "TradingAdvisor")] == [
        "MarketAnalyst", "RiskManager"]
    assert earlier_answers(context, "MarketAnalyst") == []
    replay_many(client, ws, "TradingAdvisor", "FIX", [context])
    user = fake.requests[0]["messages"][1]["content"]
    shown = json.loads(user.split("```json\n")[2].split("\n```")[0])
    assert [a["agent"] for a in shown] == ["MarketAnalyst", "RiskManager"]
    assert '"team"' not in user.split("```json\n")[1]


def test_replay_keeps_input_order_under_concurrency(setup) -> None:
    _, client, ws = setup
    contexts = [c["context"] for c in FAILURES + SUCCESSES] * 4
    results = replay_many(client, ws, "TradingAdvisor", "FIX", contexts, concurrency=8)
    assert [r.answer.action for r in results] == [c["truth"] for c in contexts]


def test_spent_budget_stops_the_batch(respx_llm, tmp_path: Path) -> None:
    respx_llm.responder = model
    client = make_client(respx_llm.url, max_calls=3)
    contexts = [c["context"] for c in FAILURES + SUCCESSES]
    with pytest.raises(BudgetExceeded):
        replay_many(client, make_workspace(tmp_path, respx_llm.url), "TradingAdvisor", "FIX",
                    contexts, concurrency=2)
    assert len(respx_llm.requests) == 3


# -- end to end: recorded sessions -> tracker cases -> replay gate --------------------------


def test_gate_on_cases_recorded_by_real_sessions(respx_llm, workspace, tmp_path: Path) -> None:
    import dataclasses
    from datetime import UTC, datetime, timedelta

    from agents.market import load_sample
    from agents.session import DecisionSession, read_prompts
    from prompt_repo import load_workspace
    from tracker import DecisionTracker
    from tracker.resolve import resolve_outcomes
    from tracker.rules import DEFAULT_BAND

    market = load_sample()

    def truth(snapshot: dict) -> str:
        when = datetime.fromisoformat(snapshot["timestamp"])
        r = market.price_at("BTCUSDT", when + timedelta(hours=24)) / market.price_at(
            "BTCUSDT", when) - 1
        return "BUY" if r > DEFAULT_BAND else "SELL" if r < -DEFAULT_BAND else "HOLD"

    def endpoint(request: dict) -> str:
        prompt = request["messages"][0]["content"]
        user = request["messages"][1]["content"]
        right = truth(json.loads(user.split("```json\n")[1].split("\n```")[0]))
        wrong = "SELL" if right == "BUY" else "BUY"
        action = "BUY"  # the current prompt: always long
        if prompt.endswith("ORACLE"):
            action = right
        elif prompt.endswith("CONTRARIAN"):
            action = wrong
        return json.dumps({"action": action, "confidence": 0.8, "risk_level": "LOW",
                           "reasoning": "r"})

    respx_llm.responder = endpoint
    ws = dataclasses.replace(
        load_workspace(workspace), database_url=f"sqlite:///{tmp_path / 't.db'}",
        llm=make_client(respx_llm.url).settings)
    client = make_client(respx_llm.url, max_calls=1000)
    tracker = DecisionTracker(ws.database_url)
    start = datetime(2019, 7, 10, tzinfo=UTC)
    for n in range(16):
        DecisionSession(workspace=ws, client=client, tracker=tracker, is_simulated=True,
                        when=start + timedelta(hours=6 * n)).run_session()
    resolve_outcomes(tracker, market, symbol="BTCUSDT")
    until = start + timedelta(days=5)
    cases = tracker.judged_cases("TradingAdvisor", until - timedelta(days=10), until)
    assert {c.outcome["correct"] for c in cases} == {True, False}
    current = read_prompts(ws, ["TradingAdvisor"])["TradingAdvisor"].text

    fix = replay_gate(client, ws, "TradingAdvisor", current + "\nORACLE", current, cases)
    judged = fix.data["failures"]["cases"]
    assert fix.passed and fix.data["fixed"] == judged > 0 and fix.data["broken"] == 0

    brk = replay_gate(client, ws, "TradingAdvisor", current + "\nCONTRARIAN", current, cases)
    assert not brk.passed
    assert brk.data["broken"] == brk.data["successes"]["cases"] > 0
