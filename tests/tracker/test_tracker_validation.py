"""Bad input: each a clear TrackerError, and nothing written."""

from __future__ import annotations

from datetime import datetime

import pytest
from tracker_support import count_rows, decision, output

from tracker.errors import TrackerError, UnknownDecisionError, ValidationError
from tracker.validation import parse_records

BAD_DECISIONS = [
    ({"action": "STRONG_BUY"}, r"action: 'STRONG_BUY' is not one of BUY, SELL, HOLD"),
    ({"confidence": 1.4}, r"confidence: 1\.4 is outside \[0, 1\]"),
    ({"confidence": -0.1}, r"confidence: -0\.1 is outside \[0, 1\]"),
    ({"confidence": "high"}, r"confidence: expected a number, got 'high'"),
    ({"confidence": float("nan")}, r"confidence: nan is not a finite number"),
    ({"confidence": True}, r"confidence: expected a number, got True"),
    ({"symbol": None}, r"symbol is required"),
    ({"symbol": "  "}, r"symbol: expected a non-empty string"),
    ({"timestamp": datetime(2026, 3, 2, 9, 0)}, r"timestamp: 2026-03-02T09:00:00 has no time zone"),
    ({"timestamp": "2026-03-02T09:00:00"}, r"timestamp: 2026-03-02T09:00:00 has no time zone"),
    ({"timestamp": "yesterday"}, r"timestamp: 'yesterday' is not an ISO 8601 time"),
    ({"risk_level": "EXTREME"}, r"risk_level: 'EXTREME' is not one of LOW, MEDIUM, HIGH"),
    ({"is_simulated": "yes"}, r"is_simulated: expected true or false"),
    ({"context": [1, 2]}, r"context: expected an object, got list"),
    ({"agent_outputs": [output(action="MAYBE")]}, r"agent_outputs\[0\]: action: 'MAYBE'"),
    ({"agent_outputs": [output(), output(confidence=3)]},
     r"agent_outputs\[1\]: confidence: 3 is outside \[0, 1\]"),
    ({"agent_outputs": [output(action=None)]},
     r"agent_outputs\[0\]: action and confidence are required unless error is set"),
    ({"agent_outputs": [output(agent="")]}, r"agent_outputs\[0\]: agent: expected a non-empty"),
    ({"agent_outputs": [output(prompt_tokens=-5)]},
     r"agent_outputs\[0\]: prompt_tokens: expected a count"),
    ({"agent_outputs": "MarketAnalyst"}, r"agent_outputs must be a list"),
]


@pytest.mark.parametrize(("change", "message"), BAD_DECISIONS,
                         ids=[m.split(":")[0][:30] for _, m in BAD_DECISIONS])
def test_bad_decision_is_refused_and_nothing_written(tracker, change, message) -> None:
    with pytest.raises(ValidationError, match=message):
        tracker.track_decision(**decision(**change))
    with pytest.raises(ValidationError, match="item 2: " + message):
        tracker.track_decisions([decision(0), decision(1, **change)])
    assert count_rows(tracker.engine, "decisions") == 0
    assert count_rows(tracker.engine, "agent_outputs") == 0


@pytest.mark.parametrize(("args", "error", "message"), [
    ((404, "return_24h", 0.1), UnknownDecisionError, "no decision with id 404"),
    (("1", "return_24h", 0.1), ValidationError, "decision id must be an integer"),
    ((None, "return_24h", 0.1), ValidationError, "decision id must be an integer"),
    ((1, "", 0.1), ValidationError, "outcome_type: expected a non-empty string"),
    ((1, "return_24h", "up"), ValidationError, "outcome_value: expected a number"),
    ((1, "return_24h", float("inf")), ValidationError, "outcome_value: inf is not a finite"),
    ((1, "return_24h", 0.1, ["x"]), ValidationError, "details: expected an object"),
])
def test_bad_outcome_is_refused_and_nothing_written(tracker, args, error, message) -> None:
    tracker.track_decision(**decision())
    with pytest.raises(error, match=message):
        tracker.track_decision_outcome(*args)
    assert count_rows(tracker.engine, "outcomes") == 0


def test_naive_outcome_timestamp_is_refused(tracker) -> None:
    decision_id = tracker.track_decision(**decision())
    with pytest.raises(ValidationError, match="no time zone"):
        tracker.track_decision_outcome(decision_id, "pnl", 1.0,
                                       timestamp=datetime(2026, 1, 1))


def test_unknown_field_in_bulk_input_is_refused(tracker) -> None:
    with pytest.raises(ValidationError, match=r"item 1: unknown field\(s\) colour"):
        tracker.track_decisions([decision(colour="red")])
    assert count_rows(tracker.engine, "decisions") == 0


def test_every_refusal_is_a_tracker_error() -> None:
    assert issubclass(ValidationError, TrackerError)
    assert issubclass(UnknownDecisionError, ValidationError)


def test_parse_records_reads_object_array_and_json_lines() -> None:
    assert parse_records('{"a": 1}') == [("item 1", {"a": 1})]
    assert parse_records('[{"a": 1}, {"a": 2}]') == [("item 1", {"a": 1}), ("item 2", {"a": 2})]
    assert parse_records('{"a": 1}\n\n{"a": 2}\n') == [("line 1", {"a": 1}), ("line 3", {"a": 2})]
    assert parse_records("  \n") == []


def test_parse_records_names_the_malformed_line() -> None:
    with pytest.raises(ValidationError, match=r"line 3: not valid JSON .*nothing was recorded"):
        parse_records('{"a": 1}\n{"a": 2}\n{"a": \n{"a": 4}\n')
