"""What a stored text or JSON value may hold: the same answer on SQLite and PostgreSQL.

SQLite stores nearly anything and PostgreSQL refuses some of it mid-transaction, so these
checks run before a transaction opens and refuse, on both databases alike:

- a NUL character (``\\u0000``): PostgreSQL's ``text`` and ``json`` cannot hold it;
- a lone surrogate (JSON ``"\\ud800"``): not Unicode, it cannot be encoded as UTF-8;
- NaN, Infinity, -Infinity: not JSON (SQLite would store them and ``decisions --json``
  would print ``NaN``, which strict JSON parsers reject);
- integers in JSON beyond the 64-bit range, and integer columns beyond
  :data:`INT_MAX` (PostgreSQL's ``integer``);
- JSON nested deeper than :data:`MAX_DEPTH` levels (and cycles, which never end);
- anything ``json.dumps`` cannot write (sets, datetimes, non-string keys other than
  numbers, booleans and null, which it turns into strings).

:func:`string_problem` and :func:`json_problem` return ``None`` for an acceptable value, else
``(path, reason)``: the path inside the value (``".indicators.rsi"``, ``"[3]"``) and a
reason that is safe to print (no raw NUL or surrogate). The happy path builds no strings.
"""

from __future__ import annotations

import math
import re
from typing import Any

MAX_DEPTH = 32
INT_MAX = 2**31 - 1  # PostgreSQL integer, the narrower of the two databases
JSON_INT_MIN, JSON_INT_MAX = -(2**63), 2**63 - 1
_SURROGATE = re.compile("[\ud800-\udfff]")
_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


class _Refused(Exception):
    """Internal: a value was refused; ``parts`` collects the path while unwinding."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.parts: list[str] = []


def string_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None."""
    if "\x00" in value:
        return f"contains a NUL character (\\u0000) at character {value.index(chr(0))}"
    if not value.isascii():  # O(1) in CPython: ASCII strings skip the search
        found = _SURROGATE.search(value)
        if found:
            return (f"contains a lone surrogate ({ascii(found.group())[1:-1]}) at character "
                    f"{found.start()}, which is not valid Unicode")
    return None


def number_problem(value: float) -> str | None:
    """Why a float is not a JSON number (NaN and the infinities), or None."""
    if math.isfinite(value):
        return None
    return f"{show(value)} is not a finite number"


def json_problem(value: Any) -> tuple[str, str] | None:
    """``(path, reason)`` for the first part of ``value`` that JSON storage refuses, or None."""
    try:
        _check(value, 0)
    except _Refused as refused:
        return "".join(reversed(refused.parts)), refused.reason
    return None


def object_problem(value: dict[Any, Any]) -> tuple[str, str] | None:
    """:func:`json_problem` for a dict, the flat common case (text keys, plain scalars)
    checked inline: most contexts are a dozen prices and indicators."""
    for key, item in value.items():
        kind = type(item)
        if type(key) is str and key.isascii() and "\x00" not in key and (
            (kind is float and item - item == 0.0)
            or (kind is str and item.isascii() and "\x00" not in item)
            or (kind is int and JSON_INT_MIN <= item <= JSON_INT_MAX)
        ):
            continue
        return json_problem(value)  # nested, or a problem: the full walk names it
    return None


def _check(value: Any, depth: int) -> None:
    kind = type(value)
    if kind is str:
        _check_string(value)
    elif kind is float:
        if not math.isfinite(value):
            raise _Refused(f"{show(value)} is not a finite number")
    elif kind is int:
        if not JSON_INT_MIN <= value <= JSON_INT_MAX:
            raise _Refused(f"{show(value)} is outside the 64-bit integer range; "
                           "send it as a string")
    elif value is None or kind is bool:
        return
    elif isinstance(value, dict):
        _check_object(value, depth)
    elif isinstance(value, list | tuple):
        _check_array(value, depth)
    elif isinstance(value, str | int | float):  # subclasses (enums, numpy floats)
        _check(_base(value), depth)
    else:
        raise _Refused(f"expected a JSON value (object, array, string, number, true, false "
                       f"or null), got {type(value).__name__}")


def _check_object(value: dict[Any, Any], depth: int) -> None:
    if depth >= MAX_DEPTH:
        raise _Refused(f"nested deeper than {MAX_DEPTH} levels")
    for key, item in value.items():
        if type(key) is not str or not key.isascii() or "\x00" in key:
            _check_key(key)  # its message names the key itself
        if _plain(item):
            continue
        try:
            _check(item, depth + 1)
        except _Refused as refused:
            refused.parts.append(f".{_short(key)}")
            raise


def _check_array(value: list[Any] | tuple[Any, ...], depth: int) -> None:
    if depth >= MAX_DEPTH:
        raise _Refused(f"nested deeper than {MAX_DEPTH} levels")
    for index, item in enumerate(value):
        if _plain(item):
            continue
        try:
            _check(item, depth + 1)
        except _Refused as refused:
            refused.parts.append(f"[{index}]")
            raise


def _plain(item: Any) -> bool:
    """The common scalars, accepted inline: finite floats, 64-bit ints, ASCII text."""
    kind = type(item)
    if kind is float:
        return bool(item - item == 0.0)  # NaN - NaN and inf - inf are NaN
    if kind is str:
        return item.isascii() and "\x00" not in item
    return kind is int and JSON_INT_MIN <= item <= JSON_INT_MAX


def _check_key(key: Any) -> None:
    if type(key) is str:
        problem = string_problem(key)
        if problem:
            raise _Refused(f"the key {printable(key)} {problem}")
    elif not (key is None or isinstance(key, str | int | float)):
        raise _Refused(f"a key must be a string, got {type(key).__name__}")
    elif isinstance(key, float) and not math.isfinite(key):
        raise _Refused(f"a key must be a string, got {show(key)}")


def _check_string(value: str) -> None:
    problem = string_problem(value)
    if problem:
        raise _Refused(problem)


def _base(value: Any) -> Any:
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return value


def _short(key: Any) -> str:
    text = printable(str(key))
    return text if len(text) <= 40 else text[:37] + "..."


# --- showing values in messages ------------------------------------------------------------


def show(value: Any, limit: int = 60) -> str:
    """A short, printable rendering of a refused value for a one-line message: NaN and the
    infinities in JSON's spelling, huge integers by their size, long strings cut."""
    if isinstance(value, float) and not math.isfinite(value):
        return _NON_FINITE[repr(float(value))]
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"an integer of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    text = printable(repr(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def printable(text: str) -> str:
    """``text`` with NUL and lone surrogates escaped, so a message can always be printed."""
    if "\x00" not in text and (text.isascii() or not _SURROGATE.search(text)):
        return text
    return _SURROGATE.sub(lambda m: ascii(m.group())[1:-1], text).replace("\x00", "\\x00")
