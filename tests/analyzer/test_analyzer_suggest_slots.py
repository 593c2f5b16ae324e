"""The offline rewrite edits one span at most once, and in the mode ``optimize`` uses
(``slots=False``) inserts no ``<SLOT>``; the slot gate rejects any candidate that adds one."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.gates import GateSettings, new_slots, slot_gate, static_gates
from optimizer.rules.lexicon import SLOT
from optimizer.suggest import heuristic_rewrite

EXAMPLES = sorted((Path(__file__).parents[2] / "prompt_repo" / "examples").glob("*.md"))
MARKET_ANALYST = Path(__file__).parents[2] / "prompt_repo" / "examples" / "MarketAnalyst.md"
DEFINE = "(define: <THRESHOLD>)"
VAGUE = """## Rules
You should generally try to buy when volume is high.
If the market is volatile, halve the size.
Use several indicators, etc.
If the signals seem mixed, use your judgement.
"""


def test_one_edit_per_span_on_the_example_prompt() -> None:
    rewrite = heuristic_rewrite(MARKET_ANALYST.read_text(encoding="utf-8"))
    # two undefined conditions ("unclear", "mixed"): one hint each, never stacked
    assert rewrite.text.count(DEFINE) == 2
    assert f"{DEFINE} (define" not in rewrite.text
    assert "especially when the trend is unclear (define: <THRESHOLD>).\n" in rewrite.text
    assert "If the signals seem mixed (define: <THRESHOLD>), answer HOLD." in rewrite.text


def test_two_findings_inserting_at_one_point_make_one_edit() -> None:
    # "high" and "significant" both want their hint right after "significant"
    rewrite = heuristic_rewrite("Buy on high significant volume.\n")
    assert rewrite.text.startswith("Buy on high significant (above <N>) volume.\n")


def test_rewriting_a_rewrite_adds_no_second_hint() -> None:
    once = heuristic_rewrite(VAGUE).text
    twice = heuristic_rewrite(once).text
    assert once.count("(ATR above <N>% of price)") == 1
    assert twice.count("(ATR above <N>% of price)") == 1
    assert twice.count("<N>") == once.count("<N>")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_no_slot_mode_inserts_no_slot_and_still_improves(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    rewrite = heuristic_rewrite(text, slots=False)
    assert rewrite.changed
    assert new_slots(text, rewrite.text) == []
    assert rewrite.after.overall > rewrite.before.overall
    # the slot-needing ideas are still offered to a person
    assert any(SLOT.search(s) for s in rewrite.suggestions)


def test_no_slot_mode_keeps_the_edits_that_need_no_input() -> None:
    rewrite = heuristic_rewrite(VAGUE, slots=False)
    assert rewrite.text == """## Rules
Buy when volume is high.
If the market is volatile, halve the size.
Use several indicators.
If the signals seem mixed, apply the rules above. If no rule above applies, say so instead of \
guessing.
"""
    assert not SLOT.search(rewrite.text)
    assert "line 3: Define it with a measurable test, e.g. 'if the 14-day ATR is above <N>% " \
        "of price'." in rewrite.suggestions


def test_no_slot_mode_skips_an_output_section_that_needs_a_slot() -> None:
    text = "You are a support agent. Answer the customer's question about billing.\n"
    with_slots = heuristic_rewrite(text)
    assert "<ALLOWED_VALUE>" in with_slots.text
    assert "<ALLOWED_VALUE>" not in heuristic_rewrite(text, slots=False).text


def test_slot_gate_rejects_a_new_slot() -> None:
    current = "Buy when volume is high.\n"
    result = slot_gate(current, "Buy when volume is high (above <N>).\n")
    assert not result.passed
    assert result.detail == "new unfilled slot(s): <N>"
    assert result.data == {"added": ["<N>"]}


def test_slot_gate_counts_a_second_copy_and_ignores_existing_ones() -> None:
    current = "Buy above <N>.\n"
    assert slot_gate(current, "Buy above <N>. Sell below 30.\n").passed
    assert slot_gate(current, current).detail == "no new unfilled slot"
    second = slot_gate(current, "Buy above <N>. Sell below <N> or <THRESHOLD>.\n")
    assert not second.passed and second.data["added"] == ["<N>", "<THRESHOLD>"]


def test_slot_gate_ignores_lowercase_descriptions_and_placeholders() -> None:
    current = "Reply with JSON.\n"
    candidate = 'Reply {"confidence": <number from 0 to 1>} for {symbol}.\n'
    assert slot_gate(current, candidate).passed


def test_static_gates_fail_a_candidate_with_a_slot() -> None:
    before = {"specificity": 50.0, "clarity": 50.0, "ambiguity": 30.0, "overall": 60.0}
    after = {**before, "overall": 70.0}
    current = "Buy when volume is high.\n"
    gates = static_gates(current, "Buy when volume is above <N>.\n", before, after,
                         GateSettings())
    assert [(g.name, g.passed) for g in gates] == [
        ("placeholders", True), ("slots", False), ("size", True), ("scores", True),
        ("change", True), ("taint", True)]


def test_clause_start_looks_back_locally_as_the_regex_does() -> None:
    # _clause_start replaced CLAUSE_START.search(text[:at]) (a copy and a scan of the whole
    # prefix per deletion: quadratic on a long prompt); it must give the same answer.
    import random

    from optimizer.suggest import CLAUSE_START, _clause_start

    rng = random.Random(3)
    for _ in range(20000):
        text = "".join(rng.choice(" \n\t.,:!?-*+12)aB") for _ in range(rng.randint(0, 10)))
        at = rng.randint(0, len(text))
        assert _clause_start(text, at) == bool(CLAUSE_START.search(text[:at])), (text, at)
