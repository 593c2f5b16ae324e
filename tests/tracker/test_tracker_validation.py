"""Bad input: each a clear TrackerError, and nothing written."""

from __future__ import annotations

from datetime import datetime

import pytest
from tracker_support import count_rows, decision, output

from tracker.errors import TrackerError, UnknownDecisionError, ValidationError
from tracker.validation import decode_input, parse_records

BAD_DECISIONS = [
    ({"action": "STRONG_BUY"}, r"action: 'STRONG_BUY' is not one of BUY, SELL, HOLD"),
    ({"confidence": 1.4}, r"confidence: 1\.4 is outside \[0, 1\]"),
    ({"confidence": -0.1}, r"confidence: -0\.1 is outside \[0, 1\]"),
    ({"confidence": "high"}, r"confidence: expected a number, got 'high'"),
    ({"confidence": float("nan")}, r"confidence: NaN is not a finite number"),
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


def _nested(depth: int) -> dict:
    """{"a": {"a": ... {}}}: ``depth`` objects in all, the outermost included."""
    value: dict = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def _cyclic() -> dict:
    value: dict = {"price": 1.0}
    value["self"] = value
    return value


# What one database would refuse mid-transaction, or store on SQLite and refuse on
# PostgreSQL: refused up front on both, naming the field down to the path inside JSON.
UNSTORABLE = [
    ({"context": {"indicators": {"rsi": float("nan")}}},
     r"context\.indicators\.rsi: NaN is not a finite number"),
    ({"context": {"closes": [1.0, float("inf")]}}, r"context\.closes\[1\]: Infinity is not"),
    ({"context": {"x": float("-inf")}}, r"context\.x: -Infinity is not a finite number"),
    ({"prompt_versions": {"MarketAnalyst": float("nan")}},
     r"prompt_versions\.MarketAnalyst: NaN is not"),
    ({"reasoning": "up\x00down"},
     r"reasoning: contains a NUL character \(\\u0000\) at character 2"),
    ({"reasoning": "up \ud800"},
     r"reasoning: contains a lone surrogate \(\\ud800\) at character 3"),
    ({"symbol": "BTC\x00"}, r"symbol: contains a NUL character"),
    ({"context": {"note": "a\x00b"}}, r"context\.note: contains a NUL character"),
    ({"context": {"k\x00": 1}}, r"context: the key k\\x00 contains a NUL character"),
    ({"context": {"note": ["\udfff"]}}, r"context\.note\[0\]: contains a lone surrogate"),
    ({"agent_types": ["Market\x00Analyst"]}, r"agent_types: contains a NUL character"),
    ({"context": {"volume": 2**64}}, r"context\.volume: .* is outside the 64-bit integer range"),
    ({"context": _nested(33)}, r"context(\.a){32}: nested deeper than 32 levels"),
    ({"context": _nested(100_000)}, r"context(\.a){32}: nested deeper than 32 levels"),
    ({"context": _cyclic()}, r"context(\.self){32}: nested deeper than 32 levels"),
    ({"context": {"seen": {1, 2}}}, r"context\.seen: expected a JSON value .*got set"),
    ({"confidence": 10**400}, r"confidence: an integer of about 401 digits is too large"),
    ({"agent_outputs": [output(prompt_tokens=10**30)]},
     r"agent_outputs\[0\]: prompt_tokens: 1000000000000000000000000000000 is larger than "
     r"the largest count stored, 2147483647"),
    ({"agent_outputs": [output(completion_tokens=2**31)]},
     r"agent_outputs\[0\]: completion_tokens: 2147483648 is"),
    ({"agent_outputs": [output(raw_output="{\"a\": \"\x00\"}")]},
     r"agent_outputs\[0\]: raw_output: contains a NUL"),
    ({"agent_outputs": [output(reasoning="\ud83d")]},
     r"agent_outputs\[0\]: reasoning: contains a lone surrogate"),
    ({"action": ["BUY"]}, r"action: \['BUY'\] is not one of BUY, SELL, HOLD"),
    ({"risk_level": {"level": "LOW"}}, r"risk_level: \{'level': 'LOW'\} is not one of LOW"),
    ({"agent_outputs": [output(action=["BUY"])]}, r"agent_outputs\[0\]: action: \['BUY'\]"),
    ({"agent_outputs": [output(latency_ms=float("nan"))]},
     r"agent_outputs\[0\]: latency_ms: NaN is not a finite"),
]
BAD_DECISIONS += UNSTORABLE


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
    ((1, "return_24h", float("inf")), ValidationError, "outcome_value: Infinity is not a finite"),
    ((1, "return_24h", 0.1, ["x"]), ValidationError, "details: expected an object"),
])
def test_bad_outcome_is_refused_and_nothing_written(tracker, args, error, message) -> None:
    tracker.track_decision(**decision())
    with pytest.raises(error, match=message):
        tracker.track_decision_outcome(*args)
    assert count_rows(tracker.engine, "outcomes") == 0


@pytest.mark.parametrize(("args", "error", "message"), [
    ((10**30, "return_24h", 0.1), UnknownDecisionError,
     "no decision with id 1000000000000000000000000000000"),
    ((1, "return_24h", 0.1, {"fill": {"price": float("nan")}}), ValidationError,
     r"outcome: details\.fill\.price: NaN is not a finite number"),
    ((1, "return_24h", 0.1, {"note": "\x00"}), ValidationError,
     r"outcome: details\.note: contains a NUL character"),
    ((1, "return\udcff", 0.1), ValidationError, "outcome_type: contains a lone surrogate"),
    ((1, "return_24h", 10**400), ValidationError, "outcome_value: an integer of about 401"),
])
def test_unstorable_outcome_is_refused_the_same_on_both_databases(
    tracker, args, error, message
) -> None:
    tracker.track_decision(**decision())
    with pytest.raises(error, match=message):
        tracker.track_decision_outcome(*args)
    assert count_rows(tracker.engine, "outcomes") == 0


def test_values_at_the_limits_are_stored(tracker) -> None:
    context = {"nested": _nested(31), "big": 2**63 - 1, "small": -(2**63), "text": "héllo 🙂",
               "pair": ("a", 1)}
    decision_id = tracker.track_decision(**decision(
        context=context, agent_outputs=[output(prompt_tokens=2**31 - 1, reasoning="🙂 ok")]))
    stored = tracker.decision(decision_id)
    assert stored.context == {**context, "pair": ["a", 1]}
    assert stored.outputs[0]["prompt_tokens"] == 2**31 - 1
    assert stored.outputs[0]["reasoning"] == "🙂 ok"


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


def test_parse_records_refuses_nesting_past_the_parser_naming_the_line() -> None:
    deep = '{"context": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(ValidationError, match=r"^line 2: nested deeper than 32 levels; nothing"):
        parse_records('{"a": 1}\n' + deep + "\n")
    document = "[\n" + deep + "\n]"  # one document over several lines: no line to name
    with pytest.raises(ValidationError, match=r"^input: nested deeper than 32 levels"):
        parse_records(document)


def test_parse_records_refuses_a_number_too_long_to_read() -> None:
    with pytest.raises(ValidationError, match=r"^line 1: a number longer than \d+ digits"):
        parse_records('{"confidence": 1' + "0" * 5000 + "}")


def test_decode_input_names_the_line_and_byte_of_invalid_utf8() -> None:
    assert decode_input('{"a": "é"}'.encode()) == '{"a": "é"}'
    assert decode_input(b'\xef\xbb\xbf{"a": 1}') == '{"a": 1}'  # a byte-order mark
    with pytest.raises(ValidationError,
                       match=r"^line 2: not valid UTF-8 \(byte 0xff at byte 8\); nothing"):
        decode_input(b'{"a": 1}\n{"b": "\xff"}\n')
    with pytest.raises(ValidationError, match=r"^line 1: not valid UTF-8 \(byte 0x89"):
        decode_input(b"\x89PNG\r\n\x1a\n\x00\x00")
