"""The offline rewrite's wording-only mode (``behaviour=False``, what ``optimize --engine
heuristic`` applies without evidence): an edit that could change what the agent decides is
never made, only listed in ``proposed``."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.suggest import heuristic_rewrite

EXAMPLES = Path(__file__).parents[2] / "prompt_repo" / "examples"
VAGUE = """## Rules
You should generally try to buy when volume is high.
Please note that you need to check the book. Please note that you need to check the book.
If the market is volatile, halve the size.
Use several indicators, etc.
If the signals seem mixed, use your judgement.
"""


def test_wording_mode_makes_only_wording_edits_and_proposes_the_rest() -> None:
    rewrite = heuristic_rewrite(VAGUE, slots=False, behaviour=False)
    assert rewrite.changed
    assert rewrite.text == """## Rules
Generally buy when volume is high.
Check the book.
If the market is volatile, halve the size.
Use several indicators, etc.
If the signals seem mixed, use your judgement.
"""
    assert rewrite.proposed == [
        "line 2: delete 'generally'",
        "line 5: delete ', etc'",
        "line 6: 'use your judgement' -> 'apply the rules above'",
        "add a default rule: 'If no rule above applies, say so instead of guessing.'",
        "add an '## Output format' section with a JSON schema",
    ]
    # the default mode still makes them all
    assert "apply the rules above" in heuristic_rewrite(VAGUE, slots=False).text


@pytest.mark.parametrize(("name", "proposed"), [
    ("MarketAnalyst", ["line 40: 'use your judgement' -> 'answer HOLD'"]),
    ("RiskManager", ["line 27: delete 'you may'", "line 32: delete 'very'",
                     "line 33: delete 'you may'"]),
    ("TradingAdvisor", ["line 32: delete 'usually'"]),
])
def test_the_example_prompts_get_no_behaviour_edit(name: str, proposed: list[str]) -> None:
    text = (EXAMPLES / f"{name}.md").read_text(encoding="utf-8")
    rewrite = heuristic_rewrite(text, slots=False, behaviour=False)
    assert not rewrite.changed and rewrite.text == text
    assert rewrite.proposed == proposed


@pytest.mark.parametrize(("before", "after"), [
    # wording: the same instruction, said directly
    ("Try to keep the reasoning short.", "Keep the reasoning short."),
    ("You should check the book.", "Check the book."),
    ("Please note that the book is thin.", "The book is thin."),
    ("Read the book in order to size it.", "Read the book to size it."),
    ("Sell now. Check RSI first. Sell now.", "Sell now. Check RSI first."),
    # behaviour: when or whether the agent acts, or how sure it is
    ("Usually answer HOLD.", None),
    ("Maybe sell on a gap.", None),
    ("You may agree with the analyst.", None),
    ("Feel free to answer SELL.", None),
    ("Buy when the trend is very clear.", None),
    ("Buy when RSI, MACD, etc. agree.", None),
    ("Close the trade at your discretion.", None),
    ("If unsure, use your judgement.", None),
])
def test_each_kind_of_edit_is_wording_or_behaviour(before: str, after: str | None) -> None:
    text = f"You are a trader. Answer BUY, SELL or HOLD.\n{before}\n"
    rewrite = heuristic_rewrite(text, slots=False, behaviour=False)
    if after is None:
        assert before in rewrite.text and rewrite.proposed
        assert before not in heuristic_rewrite(text, slots=False).text  # a behaviour edit
    else:
        assert rewrite.text == f"You are a trader. Answer BUY, SELL or HOLD.\n{after}\n"
