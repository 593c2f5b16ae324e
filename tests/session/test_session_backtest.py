"""Backtest: sessions over history, simulated, outcomes resolved, resumable without
duplicates after an interruption."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agents.backtest import backtest_session_id, parse_every, run_backtest, schedule
from agents.errors import AgentError
from agents.llm import LLMClient
from agents.market import load_sample
from agents.session import read_prompts
from prompt_repo import load_workspace
from prompt_repo.config import LLMSettings
from tracker import DecisionTracker

START = datetime(2019, 7, 1, tzinfo=UTC)
END = datetime(2019, 7, 3, tzinfo=UTC)  # 13 moments at 4h


def by_trend(request: dict) -> str:
    """Answers that depend on what the agent is shown: the sign of the 24-candle return."""
    user = request["messages"][1]["content"]
    snapshot = json.loads(user.split("```json\n")[1].split("\n```")[0])
    up = (snapshot["indicators"].get("return_24") or 0) > 0
    return json.dumps({"action": "BUY" if up else "SELL", "confidence": 0.7,
                       "risk_level": "MEDIUM", "reasoning": "trend"})


@pytest.fixture
def ws(workspace: Path, respx_llm, database_url: str):
    respx_llm.responder = by_trend
    base = load_workspace(workspace)
    llm = LLMSettings(model="fake-model", base_url=respx_llm.url, api_key="sk-test")
    return dataclasses.replace(base, llm=llm, database_url=database_url)


def backtest(ws, tracker, **kwargs):
    return run_backtest(ws, "BTCUSDT", START, END, market=load_sample(),
                        client=LLMClient(ws.llm), tracker=tracker, **kwargs)


def test_backtest_records_simulated_decisions_and_outcomes(ws, respx_llm) -> None:
    tracker = DecisionTracker(ws.database_url)
    result = backtest(ws, tracker, concurrency=4)
    assert (result.planned, result.skipped, result.ran, result.failed) == (13, 0, 13, [])
    assert result.outcomes == 13
    assert len(respx_llm.requests) == 39
    records = tracker.decisions(symbol="BTCUSDT")
    assert sorted(r.timestamp for r in records) == schedule(START, END, timedelta(hours=4))
    assert all(r.is_simulated and r.session_id == result.session_id for r in records)
    for record in records:
        outcome = record.outcomes["return_24h"]
        market = load_sample()
        expected = (market.price_at("BTCUSDT", record.timestamp + timedelta(hours=24))
                    / market.price_at("BTCUSDT", record.timestamp) - 1)
        assert outcome["value"] == pytest.approx(expected)
        # the snapshot ends before the decision moment: no look-ahead
        assert datetime.fromisoformat(record.context["timestamp"]) <= record.timestamp


def test_interrupted_backtest_resumes_without_duplicates(ws, respx_llm) -> None:
    tracker = DecisionTracker(ws.database_url)

    def interrupt(done: int, total: int, _result) -> None:
        if done == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        backtest(ws, tracker, concurrency=3, on_progress=interrupt)
    recorded = len(tracker.decisions(symbol="BTCUSDT"))
    assert 5 <= recorded < 13  # what finished, plus the sessions that were in flight
    calls_before = len(respx_llm.requests)

    result = backtest(ws, tracker, concurrency=3)
    assert (result.skipped, result.ran) == (recorded, 13 - recorded)
    assert len(respx_llm.requests) - calls_before == 3 * (13 - recorded)
    stamps = Counter(r.timestamp for r in tracker.decisions(symbol="BTCUSDT"))
    assert len(stamps) == 13 and set(stamps.values()) == {1}
    assert result.outcomes == 13

    again = backtest(ws, tracker)
    assert (again.skipped, again.ran, again.outcomes) == (13, 0, 0)


def test_a_new_prompt_version_is_a_new_backtest(ws) -> None:
    prompts = read_prompts(ws, ["MarketAnalyst", "RiskManager", "TradingAdvisor"])
    four = timedelta(hours=4)
    first = backtest_session_id("BTCUSDT", four, ws, prompts)
    assert first == backtest_session_id("BTCUSDT", four, ws, prompts)
    changed = {**prompts, "RiskManager": dataclasses.replace(prompts["RiskManager"],
                                                             sha="f" * 40)}
    assert backtest_session_id("BTCUSDT", four, ws, changed) != first
    assert backtest_session_id("BTCUSDT", timedelta(hours=1), ws, prompts) != first
    assert first.startswith("backtest-BTCUSDT-240m-") and len(first) <= 64


def test_steps_and_schedule() -> None:
    assert parse_every("4h") == timedelta(hours=4)
    assert parse_every(" 30m") == timedelta(minutes=30)
    assert parse_every("1d") == timedelta(days=1)
    for bad in ("4", "0h", "4 hours", "-1h"):
        with pytest.raises(AgentError):
            parse_every(bad)
    assert schedule(START, START, timedelta(hours=4)) == [START]
    with pytest.raises(AgentError):
        schedule(END, START, timedelta(hours=4))


def test_moments_outside_the_data_are_refused(ws) -> None:
    tracker = DecisionTracker(ws.database_url)
    market = load_sample()
    for start, end, message in [
        (datetime(2019, 9, 29, tzinfo=UTC), datetime(2019, 10, 2, tzinfo=UTC), "ends at"),
        (datetime(2019, 3, 1, tzinfo=UTC), datetime(2019, 4, 5, tzinfo=UTC), "starts at"),
    ]:
        with pytest.raises(AgentError, match=message):
            run_backtest(ws, "BTCUSDT", start, end, market=market, client=LLMClient(ws.llm),
                         tracker=tracker)
    assert tracker.decisions() == []
