"""The recorded context's fields: flat and nested spellings read alike, in Python and in SQL
(SQLite and PostgreSQL), and docs/tracker.md lists them as the code does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from tracker_support import decision

from tracker import context_schema
from tracker.context_schema import FIELDS, read, readings, spellings, sql_value

DOCS = Path(__file__).resolve().parents[2] / "docs" / "tracker.md"

NESTED = {"price": 64210.5, "indicators": {
    "price": 64210.5, "rsi_14": 61.2, "macd_hist": -0.4, "sma_20": 64000.0, "sma_50": 63000.0,
    "atr_14": 900.0, "volatility": 0.011, "macd": 12.5}}
FLAT = {"price": 64210.5, "rsi": 61.2, "macd_hist": -0.4, "sma_20": 64000.0, "sma_50": 63000.0,
        "atr": 900.0, "volatility": 0.011}
FLAT_SESSION_NAMES = {"price": 64210.5, "rsi_14": 61.2, "macd_histogram": -0.4,
                      "sma_20": 64000.0, "sma_50": 63000.0, "atr_14": 900.0,
                      "volatility": 0.011}
ODD = [
    {"indicators": None, "rsi": "61.2", "macd_hist": True},  # numeric text; true is no number
    {"indicators": {"rsi_14": None}, "rsi": 55, "macd_hist": "n/a"},  # null falls through
    {"indicators": {"rsi_14": "n/a"}, "rsi": 55, "price": [1, 2]},  # text wins, no reading
    {"indicators": [1, 2], "rsi_14": 48.0, "macd": 3.0},  # macd is the MACD line, not hist
    {},
]


def test_flat_and_nested_contexts_read_the_same() -> None:
    expected = {"price": 64210.5, "rsi": 61.2, "macd_hist": -0.4, "sma_20": 64000.0,
                "sma_50": 63000.0, "atr": 900.0, "volatility": 0.011}
    assert readings(NESTED) == readings(FLAT) == readings(FLAT_SESSION_NAMES) == expected


def test_the_first_spelling_present_wins_and_odd_values_are_no_reading() -> None:
    assert [readings(context) for context in ODD] == [
        {**dict.fromkeys(FIELDS), "rsi": 61.2},
        {**dict.fromkeys(FIELDS), "rsi": 55.0},
        dict.fromkeys(FIELDS),
        {**dict.fromkeys(FIELDS), "rsi": 48.0},
        dict.fromkeys(FIELDS),
    ]
    assert read(None, "rsi") is None and read({"rsi": float("nan")}, "rsi") is None
    with pytest.raises(KeyError, match="unknown context field 'rsi14'"):
        read(FLAT, "rsi14")


def test_sql_reads_what_python_reads(tracker) -> None:
    contexts = [NESTED, FLAT, FLAT_SESSION_NAMES, *ODD[1:]]  # SQLite reads true as 1
    ids = [tracker.track_decision(**decision(n, context=context))
           for n, context in enumerate(contexts)]
    from tracker.store import DECISIONS

    columns = [sql_value(DECISIONS.c.context, field) for field in FIELDS]
    query = sa.select(DECISIONS.c.id, *columns).where(DECISIONS.c.id.in_(ids)).order_by(
        DECISIONS.c.id)
    with tracker.reading() as conn:
        rows = conn.execute(query).all()
    got = [dict(zip(FIELDS, map(context_schema.number, row[1:]), strict=True)) for row in rows]
    assert got == [readings(context) for context in contexts]


def test_the_docs_table_lists_every_field_with_its_spellings() -> None:
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("### The context's fields"):]
    section = section[:section.index("\n#", 1)]
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \|", section, flags=re.MULTILINE)
    documented = {name: re.findall(r"`([\w.]+)`", cell) for name, cell in rows}
    assert documented == {field: spellings(field) for field in FIELDS}
