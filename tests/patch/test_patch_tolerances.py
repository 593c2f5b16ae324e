"""apply_unified_diff accepts the imperfect diffs LLMs write (one test per tolerance)."""

from __future__ import annotations

from optimizer.patch import apply_unified_diff, extract_diff, parse_hunks

PROMPT = """\
# MarketAnalyst

You are a market analyst for BTCUSDT.
Read the indicators you are given and answer BUY, SELL or HOLD.

## Rules
- Be concise.
- Give a confidence between 0 and 1.
- Mention the RSI and the trend.

## Output
Answer in JSON with action, confidence and reasoning.
"""

FIXED = PROMPT.replace(
    "- Give a confidence between 0 and 1.\n",
    "- Give a confidence between 0 and 1.\n- Answer HOLD when RSI and trend disagree.\n",
)

CLEAN_HUNK = """\
@@ -7,3 +7,4 @@
 - Be concise.
 - Give a confidence between 0 and 1.
+- Answer HOLD when RSI and trend disagree.
 - Mention the RSI and the trend.
"""


def test_a_clean_diff_applies():
    diff = "--- a/prompts/MarketAnalyst.md\n+++ b/prompts/MarketAnalyst.md\n" + CLEAN_HUNK
    assert apply_unified_diff(PROMPT, diff) == FIXED


def test_diff_inside_a_markdown_fence_with_prose_around():
    answer = (
        "**Diagnosis:** the agent BUYs when RSI is overbought but the trend is down.\n\n"
        "Here is the change:\n\n```diff\n" + CLEAN_HUNK + "```\n\n"
        "This makes the agent wait for agreement between signals."
    )
    assert apply_unified_diff(PROMPT, answer) == FIXED


def test_fence_without_language_and_tilde_fence():
    assert apply_unified_diff(PROMPT, "Patch:\n```\n" + CLEAN_HUNK + "```\n") == FIXED
    assert apply_unified_diff(PROMPT, "~~~patch\n" + CLEAN_HUNK + "~~~\n") == FIXED


def test_an_unclosed_fence_is_read_to_the_end():
    assert apply_unified_diff(PROMPT, "```diff\n" + CLEAN_HUNK) == FIXED


def test_the_fence_holding_the_diff_is_chosen_among_several():
    answer = ("Current rule:\n```\n- Be concise.\n```\nProposed:\n```diff\n" + CLEAN_HUNK
              + "```\n")
    assert apply_unified_diff(PROMPT, answer) == FIXED


def test_one_fence_per_hunk_is_joined():
    answer = ("First, the role:\n```diff\n@@ -3 +3 @@\n-You are a market analyst for BTCUSDT.\n"
              "+You are a cautious market analyst for BTCUSDT.\n```\nThen the rules:\n```diff\n"
              + CLEAN_HUNK + "```\n")
    result = apply_unified_diff(PROMPT, answer)
    assert result == FIXED.replace("You are a", "You are a cautious")


def test_a_bare_diff_whose_fence_lines_lost_their_space():
    example = "```json\n{\"action\": \"BUY\"}\n```\n"
    prompt = "Answer like this:\n" + example + "Never like this:\n" + example
    diff = ("@@\n Answer like this:\n```json\n-{\"action\": \"BUY\"}\n"
            "+{\"action\": \"HOLD\"}\n```\n")
    assert apply_unified_diff(prompt, diff) == prompt.replace("BUY", "HOLD", 1)


def test_a_prompt_with_code_fences_inside_a_four_backtick_fence():
    prompt = "Answer like this:\n```json\n{\"action\": \"BUY\"}\n```\nNothing else.\n"
    diff = ("````diff\n@@ -1,4 +1,4 @@\n Answer like this:\n ```json\n-{\"action\": \"BUY\"}\n"
            "+{\"action\": \"HOLD\", \"confidence\": 0.5}\n ```\n````\n")
    assert apply_unified_diff(prompt, diff) == prompt.replace(
        '{"action": "BUY"}', '{"action": "HOLD", "confidence": 0.5}')


def test_a_context_fence_line_does_not_close_the_outer_fence():
    prompt = "Answer like this:\n```json\n{}\n```\nNothing else.\n"
    diff = "```diff\n@@\n ```\n-Nothing else.\n+Nothing else, no prose.\n```\n"
    assert apply_unified_diff(prompt, diff).endswith("```\nNothing else, no prose.\n")


def test_missing_file_headers_and_git_preamble():
    assert apply_unified_diff(PROMPT, CLEAN_HUNK) == FIXED
    preamble = ("diff --git a/p.md b/p.md\nindex 3f2a1b0..9c8d7e6 100644\n--- a/p.md\n"
                "+++ b/p.md\n")
    assert apply_unified_diff(PROMPT, preamble + CLEAN_HUNK) == FIXED


def test_wrong_line_numbers_in_the_header():
    assert apply_unified_diff(PROMPT, CLEAN_HUNK.replace("-7,3 +7,4", "-42,9 +40,2")) == FIXED


def test_bare_and_partial_hunk_headers():
    for header in ("@@", "@@ @@", "@@ -7 +7 @@", "@@ Rules section @@"):
        assert apply_unified_diff(PROMPT, CLEAN_HUNK.replace("@@ -7,3 +7,4 @@", header)) == FIXED


def test_no_hunk_header_at_all():
    body = CLEAN_HUNK.split("\n", 1)[1]
    assert apply_unified_diff(PROMPT, "--- a/p.md\n+++ b/p.md\n" + body) == FIXED
    assert apply_unified_diff(PROMPT, "```diff\n" + body + "```") == FIXED


def test_trailing_whitespace_and_crlf_in_context_lines():
    diff = CLEAN_HUNK.replace(" - Be concise.\n", " - Be concise.   \n").replace("\n", "\r\n")
    assert apply_unified_diff(PROMPT, diff) == FIXED


def test_indentation_differences_in_context_keep_the_original_text():
    prompt = "Rules:\n    - Be concise.\n\t- Use RSI.\nEnd.\n"
    diff = "@@\n Rules:\n - Be concise.\n-  - Use RSI.\n+  - Use RSI and MACD.\n End.\n"
    expected = "Rules:\n    - Be concise.\n  - Use RSI and MACD.\nEnd.\n"
    assert apply_unified_diff(prompt, diff) == expected


def test_a_blank_context_line_without_its_space():
    diff = "@@ -9,4 +9,4 @@\n - Mention the RSI and the trend.\n\n ## Output\n" \
           "-Answer in JSON with action, confidence and reasoning.\n" \
           "+Answer in JSON with action, confidence and a one-line reasoning.\n"
    assert apply_unified_diff(PROMPT, diff) == PROMPT.replace("and reasoning", "and a one-line "
                                                              "reasoning")


def test_a_context_line_without_its_space_inside_a_hunk():
    diff = "@@\n## Rules\n-- Be concise.\n+- Be brief.\n - Give a confidence between 0 and 1.\n"
    assert apply_unified_diff(PROMPT, diff) == PROMPT.replace("- Be concise.", "- Be brief.")


def test_line_number_prefixes_copied_from_the_numbered_prompt():
    diff = ("@@ -7,3 +7,4 @@\n  7| - Be concise.\n  8| - Give a confidence between 0 and 1.\n"
            "+ 9| - Answer HOLD when RSI and trend disagree.\n"
            "  9| - Mention the RSI and the trend.\n")
    assert apply_unified_diff(PROMPT, diff) == FIXED
    unnumbered_added = diff.replace("+ 9| ", "+")
    assert apply_unified_diff(PROMPT, unnumbered_added) == FIXED


def test_a_prompt_whose_lines_really_start_with_numbers_is_matched_as_is():
    prompt = "Steps:\n1: read the chart\n2: decide\n"
    diff = "@@\n 1: read the chart\n-2: decide\n+2: decide, then wait\n"
    assert apply_unified_diff(prompt, diff) == "Steps:\n1: read the chart\n2: decide, then wait\n"


def test_hunks_out_of_order():
    diff = """\
@@ -12,1 +13,1 @@
-Answer in JSON with action, confidence and reasoning.
+Answer in JSON with action, confidence, reasoning and the indicators used.
@@ -3,2 +3,2 @@
-You are a market analyst for BTCUSDT.
+You are a cautious market analyst for BTCUSDT.
 Read the indicators you are given and answer BUY, SELL or HOLD.
"""
    result = apply_unified_diff(PROMPT, diff)
    assert "You are a cautious market analyst" in result
    assert "reasoning and the indicators used." in result
    assert len(result.splitlines()) == len(PROMPT.splitlines())


def test_ambiguous_context_is_placed_by_the_line_number_hint():
    prompt = "## BUY\nCheck volume.\nbe careful\n## SELL\nCheck volume.\nbe careful\n"
    diff = "@@ -5,2 +5,2 @@\n Check volume.\n-be careful\n+be careful: require two signals\n"
    assert apply_unified_diff(prompt, diff) == prompt.replace(
        "## SELL\nCheck volume.\nbe careful\n",
        "## SELL\nCheck volume.\nbe careful: require two signals\n")


def test_exact_matches_win_over_whitespace_matches():
    prompt = "limit:  10\nlimit: 10\n"
    assert apply_unified_diff(prompt, "@@\n-limit: 10\n+limit: 5\n") == "limit:  10\nlimit: 5\n"


def test_crlf_original_keeps_crlf():
    prompt = PROMPT.replace("\n", "\r\n")
    assert apply_unified_diff(prompt, CLEAN_HUNK) == FIXED.replace("\n", "\r\n")


def test_missing_final_newline_is_preserved_and_marker_ignored():
    prompt = "Be concise.\nAnswer HOLD if unsure."
    diff = "@@ -1,2 +1,2 @@\n Be concise.\n-Answer HOLD if unsure.\n" \
           "\\ No newline at end of file\n" \
           "+Answer HOLD if unsure or if signals disagree.\n\\ No newline at end of file\n"
    assert apply_unified_diff(prompt, diff) == "Be concise.\nAnswer HOLD if unsure or if " \
                                               "signals disagree."


def test_appending_and_prepending_without_context():
    prompt = "line one\nline two\n"
    assert apply_unified_diff(prompt, "@@ -2,0 +3,1 @@\n+line three\n") == prompt + "line three\n"
    assert apply_unified_diff(prompt, "@@ -0,0 +1 @@\n+# Title\n") == "# Title\n" + prompt
    assert apply_unified_diff("", "@@ -0,0 +1,2 @@\n+hello\n+world\n") == "hello\nworld\n"


def test_prose_after_an_unfenced_diff_is_ignored():
    answer = CLEAN_HUNK + "\nThis should reduce false BUY signals.\n"
    assert apply_unified_diff(PROMPT, answer) == FIXED


def test_a_removed_line_that_looks_like_a_header():
    prompt = "Intro\n-- separator\nEnd\n"
    assert apply_unified_diff(prompt, "@@\n Intro\n--- separator\n End\n") == "Intro\nEnd\n"


def test_removing_a_whole_section():
    diff = ("@@ -10,3 +10,0 @@\n \n-## Output\n"
            "-Answer in JSON with action, confidence and reasoning.\n")
    result = apply_unified_diff(PROMPT, diff)
    assert result.endswith("- Mention the RSI and the trend.\n\n")


def test_parse_reads_numbers_and_ignores_file_headers():
    hunks = parse_hunks("--- a/x\n+++ b/x\n" + CLEAN_HUNK)
    assert [(h.number, h.old_start, h.old_count) for h in hunks] == [(1, 7, 3)]
    assert hunks[0].lines[2] == ("+", "- Answer HOLD when RSI and trend disagree.")
    assert extract_diff("no fence here") == "no fence here"
