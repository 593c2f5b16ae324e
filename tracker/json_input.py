"""Reading JSON input for the tracker (``promptloop record``, the server's batches): bytes to
text (:func:`decode_input`), and text to records (:func:`parse_records`: one object, an array
or JSON Lines), each record with where it came from for the messages of
:mod:`tracker.validation`. Refusals are :class:`~tracker.errors.ValidationError` lines naming
the line or item; nothing is recorded."""

from __future__ import annotations

import json
import sys
from typing import Any

from tracker.errors import ValidationError
from tracker.json_values import MAX_DEPTH

__all__ = ["decode_input", "parse_records"]


def decode_input(data: bytes) -> str:
    """Bytes of JSON input as text: UTF-8 (a leading byte-order mark is skipped). Anything
    else, binary data included, is refused naming the line and byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - data.rfind(b"\n", 0, exc.start)
        raise ValidationError(
            f"line {line}: not valid UTF-8 (byte 0x{data[exc.start]:02x} at byte {column}); "
            "nothing was recorded"
        ) from None


def parse_records(text_: str) -> list[tuple[str, Any]]:
    """Records from JSON (one object or an array) or JSON Lines, each with where it came
    from ("item 2" in an array, "line 7" in JSON Lines). One bad line refuses them all."""
    stripped = text_.strip()
    if not stripped:
        return []
    try:
        document = json.loads(stripped)
    except json.JSONDecodeError:
        return _json_lines(text_)
    except (RecursionError, ValueError) as exc:  # not a syntax error: find its line
        return _json_lines(text_, _unreadable(exc))
    if isinstance(document, list):
        return [(f"item {n}", item) for n, item in enumerate(document, start=1)]
    return [("item 1", document)]


def _json_lines(text_: str, whole: str | None = None) -> list[tuple[str, Any]]:
    """JSON Lines; ``whole`` is why the text failed as one document for a reason other
    than syntax, reported as such if the lines are no JSON Lines either."""
    records = []
    for number, line in enumerate(text_.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append((f"line {number}", json.loads(line)))
        except json.JSONDecodeError as exc:
            if whole:  # a multi-line document: its lines are not the records
                raise ValidationError(f"input: {whole}; nothing was recorded") from None
            raise ValidationError(
                f"line {number}: not valid JSON ({exc.msg} at column {exc.colno}); "
                "nothing was recorded"
            ) from None
        except (RecursionError, ValueError) as exc:
            raise ValidationError(
                f"line {number}: {_unreadable(exc)}; nothing was recorded"
            ) from None
    return records


def _unreadable(exc: BaseException) -> str:
    """Why a syntactically valid JSON text cannot be read (json.loads's other errors)."""
    if isinstance(exc, RecursionError):
        return f"nested deeper than {MAX_DEPTH} levels"
    return f"a number longer than {sys.get_int_max_str_digits()} digits"
