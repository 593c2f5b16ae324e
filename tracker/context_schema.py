"""The recorded context's known fields, each with the spellings it is accepted in.

A decision's ``context`` is the JSON the agents saw. Sessions record it nested (the
indicators under ``"indicators"``, named as :func:`agents.indicators.compute_indicators`
names them); ``promptloop record`` takes whatever the user sends, typically flat
(``{"rsi": 61.2, "price": 64000.5}``). Every reader (analysis, failure cases, the
heuristic engine, the demo, the condition classifier) reads a field through this module,
in Python (:func:`read`) or in SQL (:func:`sql_value`), so both shapes mean the same.

A field's value is the first of its spellings (:data:`FIELDS`, in order) that is present
and not null, as a number; any other value (text that is no number, a list, true/false)
is no reading. The nested spelling comes first: a session records ``price`` twice (the
exact last close on top, rounded under ``"indicators"``) and its readers always read the
rounded one. ``macd`` alone is NOT a spelling of the MACD histogram: sessions record the
MACD *line* under that name, a different number whose sign means something else.

docs/tracker.md has the same table for users; a test holds the two together.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.expression import ColumnElement

__all__ = ["FIELDS", "number", "read", "readings", "spellings", "sql_value"]

Path = tuple[str, ...]

FIELDS: dict[str, tuple[Path, ...]] = {
    "price": (("indicators", "price"), ("price",)),
    "rsi": (("indicators", "rsi_14"), ("rsi_14",), ("rsi",)),
    "macd_hist": (("indicators", "macd_hist"), ("macd_hist",), ("macd_histogram",)),
    "sma_20": (("indicators", "sma_20"), ("sma_20",)),
    "sma_50": (("indicators", "sma_50"), ("sma_50",)),
    "atr": (("indicators", "atr_14"), ("atr_14",), ("atr",)),
    "volatility": (("indicators", "volatility"), ("volatility",)),
}


def spellings(field: str) -> list[str]:
    """The accepted spellings of ``field`` as dotted paths, in the order they are tried."""
    return [".".join(path) for path in _paths(field)]


def read(context: Mapping[str, Any] | None, field: str) -> float | None:
    """``field`` of a recorded context (flat or nested), or None when it holds no number."""
    for path in _paths(field):
        value = _at(context, path)
        if value is not None:
            return number(value)
    return None


def readings(context: Mapping[str, Any] | None) -> dict[str, float | None]:
    """Every known field of ``context`` (None where it holds no number)."""
    return {field: read(context, field) for field in FIELDS}


def sql_value(column: Any, field: str) -> ColumnElement[Any]:
    """The SQL reading ``field`` out of the JSON ``column`` (SQLite and PostgreSQL): the
    first spelling that is not null, as the database returns it; pass the fetched value
    through :func:`number`, as :func:`read` does."""
    return sa.func.coalesce(*(column[path].as_string() for path in _paths(field)))


def number(value: Any) -> float | None:
    """A finite number out of a JSON value (numbers and numeric text), else None."""
    if isinstance(value, bool):
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def _paths(field: str) -> tuple[Path, ...]:
    try:
        return FIELDS[field]
    except KeyError:
        raise KeyError(f"unknown context field {field!r}; known: {', '.join(FIELDS)}") from None


def _at(context: Mapping[str, Any] | None, path: Path) -> Any:
    value: Any = context
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value
