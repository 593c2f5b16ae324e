"""Structured answers: pure functions that turn a model's text into a validated pydantic
object, and the ``response_format`` requests and their fallbacks.

Models wrap JSON in markdown fences, put prose before or after it, or answer with something
that is not JSON at all. :func:`parse_structured` finds the first JSON object (or array) that
validates against the schema, trying in order: the whole text, each fenced block, then every
``{``/``[`` where a JSON value can be decoded. It raises :class:`InvalidStructuredAnswer` whose
message is written to be sent back to the model in a repair re-ask.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from agents.errors import InvalidStructuredAnswer
from agents.fences import fenced_blocks

Model = TypeVar("Model", bound=BaseModel)

_MAX_ERRORS = 5
FORMATS = ("json_schema", "json_object", None)  # response formats, strongest first
_FORMAT_WORDS = ("response_format", "json_schema", "json_object")


def json_candidates(text: str) -> Iterator[Any]:
    """Every JSON object or array found in ``text``, most likely first."""
    decoder = json.JSONDecoder()
    blocks = [text.strip(), *(block.body.strip() for block in fenced_blocks(text))]
    for block in blocks:
        try:
            yield json.loads(block)
            continue
        except ValueError:
            pass
        for match in re.finditer(r"[{\[]", block):
            try:
                value, _ = decoder.raw_decode(block, match.start())
            except ValueError:
                continue
            if isinstance(value, dict | list):
                yield value


def parse_structured(text: str, schema: type[Model]) -> Model:
    """The first JSON value in ``text`` that validates as ``schema``."""
    first_error: ValidationError | None = None
    for value in json_candidates(text):
        try:
            return schema.model_validate(value)
        except ValidationError as exc:
            first_error = first_error or exc
    if first_error is None:
        raise InvalidStructuredAnswer(
            "the answer contains no JSON object; answer with one JSON object only"
        )
    raise InvalidStructuredAnswer(
        f"the JSON does not match the schema {schema.__name__}: {describe(first_error)}"
    )


def describe(error: ValidationError) -> str:
    """A short, model-readable summary of a validation error."""
    parts = []
    for item in error.errors()[:_MAX_ERRORS]:
        where = ".".join(str(p) for p in item["loc"]) or "(top level)"
        parts.append(f"{where}: {item['msg']}")
    more = error.error_count() - _MAX_ERRORS
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


def json_schema_format(schema: type[BaseModel]) -> dict[str, Any]:
    """The OpenAI ``response_format`` asking for JSON matching a pydantic model."""
    return {"type": "json_schema",
            "json_schema": {"name": schema.__name__, "schema": schema.model_json_schema()}}


def repair_messages(bad_answer: str, error: Exception) -> list[dict[str, str]]:
    """The re-ask after an invalid structured answer: the answer, then what was wrong."""
    return [
        {"role": "assistant", "content": bad_answer},
        {"role": "user", "content": f"That answer is not valid: {error}. Reply again with only "
                                    "the corrected JSON object, no prose and no code fence."},
    ]


def downgrade_format(fmt: dict[str, Any] | None, level: int) -> dict[str, Any] | None:
    """``fmt`` weakened to what a server at fallback ``level`` (index in FORMATS) accepts."""
    allowed = FORMATS[level]
    if fmt is None or allowed is None:
        return None
    if fmt.get("type") == "json_schema" and allowed == "json_object":
        return {"type": "json_object"}
    return fmt


def refuses_format(exc: Any) -> bool:
    """True when an HTTP error says the server does not support the response_format sent."""
    if exc.status_code not in (400, 422, 500):
        return False
    text = f"{exc.message} {exc.body}".lower()
    return any(word in text for word in _FORMAT_WORDS)
