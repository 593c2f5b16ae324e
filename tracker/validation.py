"""Checking what callers hand the tracker, before anything is written.

Pure functions: each takes caller data and returns the row dicts to insert, or raises
:class:`~tracker.errors.ValidationError` naming the item (``where``: "item 3", "line 7")
and the field. Strings for timestamps are accepted when they are ISO 8601 with a zone, so
JSON input (``promptloop record``) goes through the same checks as Python calls.
:func:`parse_records` reads JSON, a JSON array or JSON Lines (:func:`decode_input` first,
for bytes); both live in :mod:`tracker.json_input` and stay importable from here.

Everything a database would refuse mid-transaction, or store on one database and refuse on
the other, is refused here instead, the same on SQLite and PostgreSQL (see
:mod:`tracker.json_values`): NUL characters and lone surrogates in any text, NaN and the
infinities anywhere (also deep inside ``context``), counts beyond PostgreSQL's ``integer``,
JSON nested deeper than ``MAX_DEPTH``. The message names the field, down to the path inside a
JSON value: ``line 3: context.indicators.rsi: NaN is not a finite number``.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, cast

from tracker.errors import UnknownDecisionError, ValidationError
from tracker.json_input import decode_input as decode_input  # re-exported: callers import it here
from tracker.json_input import parse_records as parse_records
from tracker.json_values import (
    INT_MAX,
    object_problem,
    printable,
    show,
    string_problem,
)
from tracker.rules import ACTIONS, RISK_LEVELS

DECISION_KEYS = frozenset(
    {"session_id", "symbol", "timestamp", "action", "confidence", "risk_level", "reasoning",
     "market_condition", "is_simulated", "agent_types", "context", "prompt_versions",
     "agent_outputs"}
)
OUTPUT_KEYS = frozenset(
    {"agent", "prompt_sha", "action", "confidence", "risk_level", "reasoning", "raw_output",
     "error", "latency_ms", "prompt_tokens", "completion_tokens", "is_shadow", "label"}
)
_REQUIRED = ("session_id", "symbol", "timestamp", "action", "confidence")
_ACTION_SET = frozenset(ACTIONS)
_RISK_SET = frozenset(RISK_LEVELS)


def decision_rows(
    data: Mapping[str, Any], where: str = "decision"
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The ``decisions`` row and its ``agent_outputs`` rows (without decision_id)."""
    if not isinstance(data, Mapping):
        raise ValidationError(f"{where}: expected an object, got {type(data).__name__}")
    _no_unknown_keys(data, DECISION_KEYS, where)
    for key in _REQUIRED:
        if data.get(key) is None:
            raise ValidationError(f"{where}: {key} is required")
    get = data.get
    timestamp = aware_datetime(data["timestamp"], where, "timestamp")
    outputs = [
        output_row(item, timestamp, where, n)
        for n, item in enumerate(_list(get("agent_outputs") or (), where, "agent_outputs"))
    ]
    agent_types = get("agent_types")
    if agent_types is None:
        agent_types = list(dict.fromkeys(row["agent"] for row in outputs))
    row = {
        "session_id": text(data["session_id"], where, "session_id", 64),
        "symbol": text(data["symbol"], where, "symbol", 32),
        "timestamp": timestamp,
        "action": action(data["action"], where, "action"),
        "confidence": probability(data["confidence"], where, "confidence"),
        "risk_level": risk_level(get("risk_level"), where, "risk_level"),
        "reasoning": optional_text(get("reasoning"), where, "reasoning"),
        "market_condition": optional_text(get("market_condition"), where, "market_condition", 32),
        "is_simulated": boolean(get("is_simulated", False), where, "is_simulated"),
        "agent_types": [text(a, where, "agent_types", 64)
                        for a in _list(agent_types, where, "agent_types")],
        "context": optional_object(get("context"), where, "context"),
        "prompt_versions": optional_object(get("prompt_versions"), where, "prompt_versions"),
    }
    return row, outputs


def output_row(data: Any, timestamp: datetime, where: str, index: int = 0) -> dict[str, Any]:
    """One ``agent_outputs`` row; action and confidence may be missing only with an error."""
    label = _Where(where, index)
    if not isinstance(data, Mapping):
        raise ValidationError(f"{label}: expected an object, got {type(data).__name__}")
    _no_unknown_keys(data, OUTPUT_KEYS, label)
    get = data.get
    error = optional_text(get("error"), label, "error")
    raw_action, raw_confidence = get("action"), get("confidence")
    if error is None and (raw_action is None or raw_confidence is None):
        raise ValidationError(f"{label}: action and confidence are required unless error is set")
    reasoning, raw_output = get("reasoning"), get("raw_output")
    return {
        "agent": text(get("agent"), label, "agent", 64),
        "timestamp": timestamp,
        "prompt_sha": optional_text(get("prompt_sha"), label, "prompt_sha", 40),
        "action": None if raw_action is None else action(raw_action, label, "action"),
        "confidence": None if raw_confidence is None
        else probability(raw_confidence, label, "confidence"),
        "risk_level": risk_level(get("risk_level"), label, "risk_level"),
        # the two long texts: the common valid case inline, the rest in optional_text
        "reasoning": reasoning if reasoning is None or (
            type(reasoning) is str and reasoning.isascii() and "\x00" not in reasoning)
        else optional_text(reasoning, label, "reasoning"),
        "raw_output": raw_output if raw_output is None or (
            type(raw_output) is str and raw_output.isascii() and "\x00" not in raw_output)
        else optional_text(raw_output, label, "raw_output"),
        "error": error,
        "latency_ms": optional_number(get("latency_ms"), label, "latency_ms"),
        "prompt_tokens": optional_count(get("prompt_tokens"), label, "prompt_tokens"),
        "completion_tokens": optional_count(get("completion_tokens"), label, "completion_tokens"),
        "is_shadow": boolean(get("is_shadow", False), label, "is_shadow"),
        "label": optional_text(get("label"), label, "label", 64),
    }


class _Where:
    """'item 3: agent_outputs[1]', built only when an error message needs it."""

    __slots__ = ("base", "index")

    def __init__(self, base: str, index: int) -> None:
        self.base, self.index = base, index

    def __str__(self) -> str:
        return f"{self.base}: agent_outputs[{self.index}]"


# --- single values ----------------------------------------------------------------------
# Each checker takes (value, where, name): the message "<where>: <name> ..." is formatted
# only when the value is refused; the common valid case is one type test.


def aware_datetime(value: Any, where: object, name: str = "") -> datetime:
    if type(value) is datetime and value.utcoffset() is not None:
        return value
    label = _label(where, name)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(f"{label}: {value!r} is not an ISO 8601 time") from None
    if not isinstance(value, datetime):
        raise ValidationError(f"{label}: expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(f"{label}: {value.isoformat()} has no time zone (naive)")
    return value


def action(value: Any, where: object, name: str = "action") -> str:
    if type(value) is str and value in _ACTION_SET:  # a list or dict is not hashable
        return str(value)
    if isinstance(value, str) and value.strip().upper() in ACTIONS:
        return value.strip().upper()
    raise ValidationError(
        f"{_label(where, name)}: {show(value)} is not one of {', '.join(ACTIONS)}"
    )


def probability(value: Any, where: object, name: str = "") -> float:
    if type(value) is float and 0.0 <= value <= 1.0:
        return value
    number = number_value(value, where, name)
    if not 0.0 <= number <= 1.0:
        raise ValidationError(f"{_label(where, name)}: {show(value)} is outside [0, 1]")
    return number


def number_value(value: Any, where: object, name: str = "") -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"{_label(where, name)}: expected a number, got {show(value)}")
    try:
        number = float(value)
    except OverflowError:  # an int beyond any float
        raise ValidationError(f"{_label(where, name)}: {show(value)} is too large") from None
    if not math.isfinite(number):
        raise ValidationError(f"{_label(where, name)}: {show(value)} is not a finite number")
    return number


def optional_number(value: Any, where: object, name: str = "") -> float | None:
    if value is None or (type(value) is float and 0.0 <= value < math.inf):
        return value
    number = number_value(value, where, name)
    if number < 0:
        raise ValidationError(f"{_label(where, name)}: {show(value)} is negative")
    return number


def optional_count(value: Any, where: object, name: str = "") -> int | None:
    if value is None or (type(value) is int and 0 <= value <= INT_MAX):
        return value
    if type(value) is int and value > INT_MAX:
        raise ValidationError(f"{_label(where, name)}: {show(value)} is larger than the "
                              f"largest count stored, {INT_MAX}")
    raise ValidationError(
        f"{_label(where, name)}: expected a count (integer >= 0), got {show(value)}"
    )


def decision_id(value: Any) -> int:
    """A decision id as an outcome names it; one no database can hold names no decision."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"decision id must be an integer, got {show(value)}")
    if not -INT_MAX <= value <= INT_MAX:
        raise UnknownDecisionError(f"no decision with id {show(value)}")
    return value


def risk_level(value: Any, where: object, name: str = "risk_level") -> str | None:
    if value is None or (type(value) is str and value in _RISK_SET):
        return value
    if isinstance(value, str) and value.strip().upper() in RISK_LEVELS:
        return value.strip().upper()
    raise ValidationError(
        f"{_label(where, name)}: {show(value)} is not one of {', '.join(RISK_LEVELS)}"
    )


def text(value: Any, where: object, name: str = "", max_length: int | None = None) -> str:
    if type(value) is str and value and not value.isspace():
        if max_length is not None and len(value) > max_length:
            raise ValidationError(f"{_label(where, name)}: longer than {max_length} characters")
        if value.isascii() and "\x00" not in value:  # the common case, without a call
            return value
        return _storable(value, where, name)
    raise ValidationError(
        f"{_label(where, name)}: expected a non-empty string, got {show(value)}"
    )


def optional_text(
    value: Any, where: object, name: str = "", max_length: int | None = None
) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(
            f"{_label(where, name)}: expected a string, got {type(value).__name__}"
        )
    if max_length is not None and len(value) > max_length:
        raise ValidationError(f"{_label(where, name)}: longer than {max_length} characters")
    if value.isascii() and "\x00" not in value:
        return value
    return _storable(value, where, name)


def _storable(value: str, where: object, name: str) -> str:
    problem = string_problem(value)
    if problem:
        raise ValidationError(f"{_label(where, name)}: {problem}")
    return value


def optional_object(value: Any, where: object, name: str = "") -> dict[str, Any] | None:
    """A JSON object for a JSON column, checked all the way down (see json_values)."""
    if value is None:
        return None
    if type(value) is not dict:
        if not isinstance(value, Mapping):
            raise ValidationError(
                f"{_label(where, name)}: expected an object, got {type(value).__name__}"
            )
        value = dict(value)
    problem = object_problem(value)
    if problem:
        path, reason = problem
        raise ValidationError(f"{_label(where, name)}{path}: {reason}")
    return cast("dict[str, Any]", value)


def boolean(value: Any, where: object, name: str = "") -> bool:
    if value is True or value is False:
        return value
    raise ValidationError(f"{_label(where, name)}: expected true or false, got {value!r}")


def _label(where: object, name: str) -> str:
    return f"{where}: {name}" if name else str(where)


def _list(value: Any, where: str, key: str) -> list[Any]:
    if type(value) is list:
        return value
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise ValidationError(f"{where}: {key} must be a list")
    return list(value)


def _no_unknown_keys(data: Mapping[str, Any], known: frozenset[str], where: object) -> None:
    if not data.keys() <= known:  # a C loop over the keys; issuperset would copy them
        unknown = sorted(printable(str(key)) for key in data.keys() - known)
        raise ValidationError(f"{where}: unknown field(s) {', '.join(unknown)}")


# --- metrics and optimization runs --------------------------------------------------------

RUN_STATUSES = ("applied", "rejected", "dry-run", "error")
_RUN_TEXTS = {"model": 128, "base_sha": 40, "result_sha": 40, "critique": None, "diff": None,
              "error": None}
_RUN_OBJECTS = ("scores_before", "scores_after", "gates")


def metric_row(data: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A ``performance_metrics`` row; ``timestamp`` defaults to now."""
    start = aware_datetime(data.get("start_date"), where, "start_date")
    end = aware_datetime(data.get("end_date"), where, "end_date")
    if end < start:
        raise ValidationError(f"{where}: end_date is before start_date")
    timestamp = data.get("timestamp")
    return {
        "agent_type": text(data.get("agent_type"), where, "agent_type", max_length=64),
        "metric_name": text(data.get("metric_name"), where, "metric_name", max_length=128),
        "metric_value": number_value(data.get("metric_value"), where, "metric_value"),
        "start_date": start,
        "end_date": end,
        "timestamp": _now() if timestamp is None else aware_datetime(timestamp, where,
                                                                     "timestamp"),
    }


def optimization_run_row(columns: Mapping[str, Any], known: Iterable[str]) -> dict[str, Any]:
    """An ``optimization_runs`` row; ``run_id`` (random) and ``timestamp`` (now) by default."""
    where = "optimization run"
    unknown = set(columns) - set(known)
    if unknown:
        raise ValidationError(f"{where}: unknown column(s) {', '.join(sorted(unknown))}")
    row = {"run_id": uuid.uuid4().hex, "llm_calls": 0, "prompt_tokens": 0,
           "completion_tokens": 0, **columns}
    row["agent"] = text(row.get("agent"), where, "agent", max_length=64)
    row["engine"] = text(row.get("engine"), where, "engine", max_length=16)
    row["run_id"] = text(row["run_id"], where, "run_id", max_length=32)
    if row.get("status") not in RUN_STATUSES:
        raise ValidationError(f"{where}: status {row.get('status')!r} is not one of "
                              + ", ".join(RUN_STATUSES))
    timestamp = row.get("timestamp")
    row["timestamp"] = _now() if timestamp is None else aware_datetime(timestamp, where,
                                                                       "timestamp")
    for key in ("llm_calls", "prompt_tokens", "completion_tokens"):
        row[key] = optional_count(row[key], where, key) or 0
    for key, limit in _RUN_TEXTS.items():
        row[key] = optional_text(row.get(key), where, key, limit)
    for key in _RUN_OBJECTS:
        row[key] = optional_object(row.get(key), where, key)
    if row.get("failure_case_ids") is not None:
        row["failure_case_ids"] = [text(case, where, "failure_case_ids") for case in
                                   _list(row["failure_case_ids"], where, "failure_case_ids")]
    return row


def _now() -> datetime:
    return datetime.now(UTC)
