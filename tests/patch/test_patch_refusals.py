"""apply_unified_diff never applies a hunk at a wrong place; its errors guide the critic."""

from __future__ import annotations

import pytest

from optimizer.errors import OptimizerError
from optimizer.patch import PatchError, apply_unified_diff

PROMPT = """\
You are a risk manager.
Rate the risk of the proposed trade: LOW, MEDIUM or HIGH.
- Check the position size.
- Check the volatility.
- Check the position size.
- Check the volatility.
Answer in JSON.
"""


def refusal(diff: str, original: str = PROMPT) -> str:
    with pytest.raises(PatchError) as caught:
        apply_unified_diff(original, diff)
    return str(caught.value)


def test_patch_error_is_a_value_error_and_an_optimizer_error():
    assert issubclass(PatchError, ValueError) and issubclass(PatchError, OptimizerError)


def test_a_removed_line_that_does_not_exist():
    message = refusal("@@ -2,2 +2,2 @@\n You are a risk manager.\n-Always answer LOW.\n"
                      "+Answer LOW only with a stop loss.\n")
    assert message.startswith(
        "Hunk 1 of 1 (@@ -2,2 +2,2 @@; starts ' You are a risk manager.' / "
        "'-Always answer LOW.') does not apply: 1 of its context/removed lines are not in the "
        "prompt: 'Always answer LOW.'.")
    assert "Copy the context (' ') and removed ('-') lines exactly" in message


def test_a_context_line_that_does_not_exist():
    message = refusal("@@\n You are a trading advisor.\n-Rate the risk of the proposed trade: "
                      "LOW, MEDIUM or HIGH.\n+Rate the risk: LOW, MEDIUM or HIGH.\n")
    assert "not in the prompt: 'You are a trading advisor.'" in message


def test_a_bullet_removed_without_its_own_dash_gets_a_hint():
    message = refusal("@@\n You are a risk manager.\n Rate the risk of the proposed trade: LOW, "
                      "MEDIUM or HIGH.\n- Check the position size.\n+- Check the position size "
                      "against the account.\n")
    assert ("the prompt has the line '- Check the position size.': to remove it write "
            "'-- Check the position size.', to keep it write ' - Check the position size.'"
            ) in message


def test_lines_that_exist_but_not_together():
    message = refusal("@@\n You are a risk manager.\n-Answer in JSON.\n+Answer in JSON only.\n")
    assert ("its first 1 context/removed line(s) match prompt lines 1-1, but then the prompt has "
            "'Rate the risk of the proposed trade: LOW, MEDIUM or HIGH.' where the hunk has "
            "'Answer in JSON.'") in message


def test_ambiguous_context_without_line_numbers_is_refused():
    message = refusal("@@\n - Check the position size.\n-- Check the volatility.\n"
                      "+- Check the 30-day volatility.\n")
    assert "match 2 places (starting at lines 3, 5)" in message
    assert "no line number to choose" in message


def test_ambiguous_context_with_an_equidistant_hint_is_refused():
    message = refusal("@@ -4,2 +4,2 @@\n - Check the position size.\n-- Check the volatility.\n"
                      "+- Check the 30-day volatility.\n")
    assert "line number 4 is as close to two of them" in message


def test_the_right_hint_resolves_the_same_hunk():
    result = apply_unified_diff(PROMPT, "@@ -5,2 +5,2 @@\n - Check the position size.\n"
                                        "-- Check the volatility.\n"
                                        "+- Check the 30-day volatility.\n")
    assert result.splitlines()[3:6] == ["- Check the volatility.", "- Check the position size.",
                                        "- Check the 30-day volatility."]


def test_added_lines_without_context_in_the_middle_are_refused():
    message = refusal("@@ -3,0 +4,1 @@\n+- Check the liquidity.\n")
    assert "it has only added lines, so nothing shows where they go" in message
    assert message.endswith("Include 2-3 unchanged lines (prefixed by a space) before and after "
                            "the added lines.")


def test_overlapping_hunks_are_refused():
    message = refusal("@@ -1,2 +1,2 @@\n You are a risk manager.\n-Rate the risk of the proposed "
                      "trade: LOW, MEDIUM or HIGH.\n+Rate the risk: LOW, MEDIUM or HIGH.\n"
                      "@@ -2,1 +2,1 @@\n-Rate the risk of the proposed trade: LOW, MEDIUM or "
                      "HIGH.\n+Rate the trade's risk.\n")
    assert message.startswith("Hunk 2 of 2")
    assert "it changes lines that hunk 1 also changes" in message


def test_an_answer_without_a_diff_is_refused():
    message = refusal("I would make the risk manager more conservative overall.")
    assert message.startswith("No unified diff found in the answer.")


def test_a_diff_without_changes_is_refused():
    assert "changes nothing" in refusal("@@\n You are a risk manager.\n")


def test_the_second_hunk_is_named_when_it_fails():
    message = refusal("@@ -1 +1 @@\n-You are a risk manager.\n+You are a careful risk manager.\n"
                      "@@ -7 +7 @@\n-Answer in YAML.\n+Answer in JSON only.\n")
    assert message.startswith("Hunk 2 of 2 (@@ -7 +7 @@; starts '-Answer in YAML.'")


def test_one_bad_hunk_refuses_the_whole_diff():
    message = refusal("@@\n-You are a risk manager.\n+You are a careful risk manager.\n"
                      "@@\n-Missing line.\n+Whatever.\n")
    assert message.startswith("Hunk 2 of 2 (@@; starts '-Missing line.'")


def test_line_number_prefixes_on_lines_that_do_not_exist_still_refuse():
    message = refusal("@@\n 1| You are a risk manager.\n-7| Answer in YAML.\n+7| Answer in JSON.\n")
    assert "not in the prompt: '1| You are a risk manager.'" in message
