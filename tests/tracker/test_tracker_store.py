"""DecisionTracker: what goes in comes back out, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from tracker_support import AGENTS, T0, count_rows, decision, output

from tracker.errors import UnknownDecisionError, ValidationError


def test_track_decision_round_trip(tracker) -> None:
    paris = timezone(timedelta(hours=1))
    decision_id = tracker.track_decision(**decision(timestamp=T0.astimezone(paris)))
    record = tracker.decision(decision_id)
    assert record.timestamp == T0 and record.timestamp.utcoffset() == timedelta(0)
    assert (record.session_id, record.symbol, record.action, record.confidence) == (
        "sess-1", "BTCUSDT", "BUY", 0.7)
    assert (record.risk_level, record.reasoning, record.market_condition) == (
        "MEDIUM", "up", "trending")
    assert record.is_simulated is False
    assert record.context == {"price": 100, "rsi": 60}
    assert record.prompt_versions == {a: "a" * 40 for a in AGENTS}
    assert record.agent_types == list(AGENTS)  # defaults to the agents of the outputs
    assert [o["agent"] for o in record.outputs] == list(AGENTS)
    first = record.outputs[0]
    assert {k: first[k] for k in ("prompt_sha", "action", "confidence", "latency_ms",
                                  "prompt_tokens", "completion_tokens", "error")} == {
        "prompt_sha": "a" * 40, "action": "BUY", "confidence": 0.8, "latency_ms": 120.0,
        "prompt_tokens": 300, "completion_tokens": 40, "error": None}
    assert record.outcomes == {}
    assert json.loads(json.dumps(record.to_dict()))["timestamp"] == "2026-03-02T09:00:00+00:00"


def test_failed_agent_call_is_stored_as_an_error_not_a_decision(tracker) -> None:
    failed = output("RiskManager", action=None, confidence=None, error="rate limited")
    decision_id = tracker.track_decision(**decision(agent_outputs=[output(), failed]))
    outputs = tracker.decision(decision_id).outputs
    assert [(o["agent"], o["action"], o["confidence"], o["error"]) for o in outputs] == [
        ("MarketAnalyst", "BUY", 0.8, None), ("RiskManager", None, None, "rate limited")]


def test_minimal_decision_and_explicit_agent_types(tracker) -> None:
    decision_id = tracker.track_decision(
        session_id="s", symbol="ETHUSDT", timestamp=T0, action="hold", confidence=1,
        agent_types=["Solo"])
    record = tracker.decision(decision_id)
    assert (record.action, record.confidence, record.agent_types) == ("HOLD", 1.0, ["Solo"])
    assert (record.context, record.prompt_versions, record.outputs) == (None, None, [])


def test_bulk_ingest_leaves_the_garbage_collector_alone(tracker) -> None:
    """A library does not switch the host's collector off, even for a moment (a caller's
    other threads would run without it)."""
    import gc

    seen = []

    def rows():
        for n in range(3):
            seen.append(gc.isenabled())
            yield decision(n)

    assert gc.isenabled()
    assert len(tracker.track_decisions(rows())) == 3
    assert seen == [True, True, True] and gc.isenabled()


def test_track_decisions_returns_ids_in_input_order(tracker) -> None:
    rows = [decision(n, confidence=n / 10) for n in range(7)]
    ids = tracker.track_decisions(rows)
    assert len(set(ids)) == 7
    assert [tracker.decision(i).confidence for i in ids] == [n / 10 for n in range(7)]
    assert count_rows(tracker.engine, "agent_outputs") == 21
    assert tracker.track_decisions([]) == []


def test_track_decisions_is_all_or_nothing(tracker) -> None:
    tracker.track_decisions([decision(0)])
    rows = [decision(1), decision(2), decision(3, confidence=2.0)]
    with pytest.raises(ValidationError, match=r"item 3: confidence: 2\.0 is outside \[0, 1\]"):
        tracker.track_decisions(rows)
    assert count_rows(tracker.engine, "decisions") == 1
    assert count_rows(tracker.engine, "agent_outputs") == 3


def test_outcomes(tracker) -> None:
    decision_id = tracker.track_decision(**decision())
    outcome_id = tracker.track_decision_outcome(decision_id, "return_24h", 0.012,
                                                {"note": "by hand"})
    assert isinstance(outcome_id, int)
    tracker.track_decision_outcome(decision_id, "pnl", -3)
    outcomes = tracker.decision(decision_id).outcomes
    assert outcomes["return_24h"]["value"] == 0.012
    assert outcomes["return_24h"]["details"] == {"note": "by hand"}
    assert outcomes["pnl"]["value"] == -3.0 and outcomes["pnl"]["details"] is None
    assert outcomes["pnl"]["timestamp"].tzinfo is not None


def test_second_outcome_of_a_type_is_refused(tracker) -> None:
    decision_id = tracker.track_decision(**decision())
    tracker.track_decision_outcome(decision_id, "return_24h", 0.01)
    with pytest.raises(ValidationError, match="already has an outcome of type 'return_24h'"):
        tracker.track_decision_outcome(decision_id, "return_24h", 0.02)
    assert tracker.decision(decision_id).outcomes["return_24h"]["value"] == 0.01


def test_unknown_decision(tracker) -> None:
    with pytest.raises(UnknownDecisionError, match="no decision with id 404"):
        tracker.track_decision_outcome(404, "return_24h", 0.01)
    with pytest.raises(UnknownDecisionError):
        tracker.decision(404)
    assert count_rows(tracker.engine, "outcomes") == 0


def test_decisions_filters_and_order(tracker) -> None:
    tracker.track_decisions([
        decision(0),
        decision(1, symbol="ETHUSDT"),
        decision(2, agent_outputs=[output("Solo")]),
        decision(3),
    ])
    assert [r.timestamp for r in tracker.decisions()] == [T0 + timedelta(hours=h)
                                                          for h in (3, 2, 1, 0)]
    assert {r.symbol for r in tracker.decisions(symbol="ETHUSDT")} == {"ETHUSDT"}
    assert [r.outputs[0]["agent"] for r in tracker.decisions(agent="Solo")] == ["Solo"]
    assert len(tracker.decisions(agent="MarketAnalyst")) == 3
    window = tracker.decisions(since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=2))
    assert [r.timestamp.hour for r in window] == [11, 10]
    assert len(tracker.decisions(limit=2)) == 2
    with pytest.raises(ValidationError, match="no time zone"):
        tracker.decisions(since=datetime(2026, 1, 1))


def test_pending_outcomes(tracker) -> None:
    ids = tracker.track_decisions([decision(n) for n in range(4)])
    tracker.track_decision_outcome(ids[1], "return_24h", 0.0)
    tracker.track_decision_outcome(ids[2], "pnl", 1.0)
    pending = tracker.pending_outcomes()
    assert [r.id for r in pending] == [ids[0], ids[2], ids[3]]  # oldest first
    assert pending[0].outputs is None  # not loaded by this query
    assert [r.id for r in tracker.pending_outcomes("pnl")] == [ids[0], ids[1], ids[3]]
    assert [r.id for r in tracker.pending_outcomes(until=T0)] == [ids[0]]


def test_metrics(tracker) -> None:
    end = T0 + timedelta(days=30)
    metric_id = tracker.record_metric("MarketAnalyst", "accuracy", 0.61, T0, end)
    assert isinstance(metric_id, int)
    tracker.record_metrics([
        {"agent_type": "RiskManager", "metric_name": "brier", "metric_value": 0.2,
         "start_date": T0, "end_date": end, "timestamp": end},
    ])
    assert count_rows(tracker.engine, "performance_metrics") == 2
    with pytest.raises(ValidationError, match="end_date is before start_date"):
        tracker.record_metric("MarketAnalyst", "accuracy", 0.5, end, T0)
    with pytest.raises(ValidationError, match="metric 2: metric_value"):
        tracker.record_metrics([
            {"agent_type": "A", "metric_name": "m", "metric_value": 1.0,
             "start_date": T0, "end_date": end},
            {"agent_type": "A", "metric_name": "m", "metric_value": "high",
             "start_date": T0, "end_date": end},
        ])
    assert count_rows(tracker.engine, "performance_metrics") == 2


def test_optimization_runs(tracker) -> None:
    run_id = tracker.record_optimization_run(
        agent="MarketAnalyst", status="applied", engine="llm", model="gpt-4o-mini",
        base_sha="b" * 40, result_sha="c" * 40, scores_before={"clarity": 50.0},
        scores_after={"clarity": 70.0}, failure_case_ids=["d1", "d2+d3"], llm_calls=3,
        prompt_tokens=1000, completion_tokens=200, critique="tighten", diff="--- a\n+++ b\n")
    assert len(run_id) == 32
    tracker.record_optimization_run(agent="RiskManager", status="dry-run", engine="llm",
                                    run_id="mine", timestamp=T0)
    runs = tracker.optimization_runs()
    assert [r["run_id"] for r in runs] == [run_id, "mine"]  # newest first
    assert runs[0]["scores_after"] == {"clarity": 70.0}
    assert runs[0]["failure_case_ids"] == ["d1", "d2+d3"]
    assert runs[1]["timestamp"] == T0 and runs[1]["llm_calls"] == 0
    assert [r["run_id"] for r in tracker.optimization_runs(agent="RiskManager")] == ["mine"]
    with pytest.raises(ValidationError, match="status 'done' is not one of"):
        tracker.record_optimization_run(agent="A", status="done", engine="llm")
    with pytest.raises(ValidationError, match="unknown column"):
        tracker.record_optimization_run(agent="A", status="applied", engine="llm", colour=1)
    assert len(tracker.optimization_runs()) == 2


def test_times_come_back_in_utc(tracker) -> None:
    tokyo = timezone(timedelta(hours=9))
    decision_id = tracker.track_decision(**decision(timestamp=datetime(2026, 3, 2, 18, 0,
                                                                       tzinfo=tokyo)))
    assert tracker.decision(decision_id).timestamp == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert tracker.decisions(until=T0)[0].id == decision_id
