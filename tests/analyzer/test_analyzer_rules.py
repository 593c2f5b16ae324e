"""Rule-level tests: every rule of the catalogue fires on its positive example and not on the
fix; template awareness; padding invariance; spans; determinism."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from optimizer.analyzer import RULES, Analysis, LintThresholds, analyze, threshold_failures
from optimizer.errors import OptimizerError

HERE = Path(__file__).parent
CASES = tomllib.loads((HERE / "analyzer_rule_cases.toml").read_text(encoding="utf-8"))
EXAMPLES = sorted((HERE.parents[1] / "prompt_repo" / "examples").glob("*.md"))


def rules_of(text: str) -> list[str]:
    return [f.rule for f in analyze(text).findings]


def test_every_rule_has_a_case() -> None:
    assert set(CASES) == set(RULES)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_rule_fires_on_positive_example(rule: str) -> None:
    findings = [f for f in analyze(CASES[rule]["positive"]).findings if f.rule == rule]
    assert findings
    info = RULES[rule]
    assert {f.dimension for f in findings} == {info.dimension}
    assert all(f.message and f.suggestion for f in findings)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_rule_is_silent_on_negative_example(rule: str) -> None:
    assert rule not in rules_of(CASES[rule]["negative"])


def test_finding_span_points_at_the_words() -> None:
    text = "You are RiskManager.\nReject trades that are too risky, etc.\n"
    finding = next(f for f in analyze(text).findings if f.rule == "open-ended-list")
    assert (finding.line, finding.col, finding.end_line, finding.end_col) == (2, 35, 2, 38)
    assert finding.text == "etc"
    lines = text.splitlines()
    assert lines[finding.line - 1][finding.col - 1: finding.end_col - 1] == "etc"


def test_multi_word_span() -> None:
    text = "# Rules\n- Size each position as you see fit.\n"
    finding = next(f for f in analyze(text).findings if f.rule == "judgment-call")
    assert finding.text == "as you see fit"
    assert (finding.line, finding.col) == (2, 22)


def test_uppercase_values_are_not_subjective_terms() -> None:
    text = "Classify the risk as LOW, MEDIUM or HIGH. Answer with JSON."
    assert "subjective-term" not in rules_of(text)
    assert "undefined-acronym" not in rules_of("Say LONG, SHORT or FLAT, then TP and SL.")


def test_a_term_defined_anywhere_is_not_flagged() -> None:
    text = "RSI above 70 is overbought.\nNever buy when the asset is overbought."
    assert "subjective-term" not in rules_of(text)
    assert "undefined-condition" not in rules_of(text)
    assert "subjective-term" in rules_of("Never buy an overbought asset.")


def test_vague_words_in_background_are_not_flagged() -> None:
    # Background sentences (no instruction) may describe; instructions may not be vague.
    assert "vague-quantifier" not in rules_of("Some values may be null when history is short.")
    assert "vague-quantifier" in rules_of("Use some values from the history.")


def test_contradiction_always_never() -> None:
    text = "Always include your reasoning.\nReturn JSON.\nNever include your reasoning."
    finding = next(f for f in analyze(text).findings if f.rule == "contradiction")
    assert finding.line == 3 and "line 1" in finding.message


# --- template awareness -----------------------------------------------------------------


def test_placeholders_are_not_prose() -> None:
    text = "Decide from {maybe_several_etc} and {{ some_value }}.\nAnswer BUY or SELL."
    rules = rules_of(text)
    assert not {"hedge", "vague-quantifier", "open-ended-list"} & set(rules)


def test_fenced_code_is_not_prose() -> None:
    text = (
        "Answer with JSON like this example:\n```json\n"
        '{"action": "BUY", "note": "maybe several etc, it is very good"}\n```\n'
    )
    rules = rules_of(text)
    assert not {"hedge", "vague-quantifier", "open-ended-list", "filler"} & set(rules)


def test_unfenced_json_example_is_not_prose() -> None:
    text = 'Reply with ONE JSON object:\n{"action": "BUY" | "SELL", "why": "maybe etc"}\n'
    assert not {"hedge", "open-ended-list"} & set(rules_of(text))


def test_inline_code_is_not_prose() -> None:
    assert "hedge" not in rules_of("Read `maybe_value` and the `etc` field, then decide.")


def test_code_and_placeholders_feed_specificity() -> None:
    bare = analyze("Decide the action.")
    templated = analyze("Decide the action from {snapshot} and {news}.")
    with_schema = analyze('Decide the action.\n```json\n{"action": "BUY|SELL|HOLD"}\n```')
    assert templated.specificity > bare.specificity
    assert with_schema.specificity > bare.specificity
    assert with_schema.details["specificity"]["allowed"] >= 1


def test_code_in_prose_is_still_a_different_line_number() -> None:
    text = "```\nmaybe\n```\nTry to decide.\n"
    finding = next(f for f in analyze(text).findings if f.rule == "hedge")
    assert (finding.line, finding.col) == (4, 1)


# --- length normalization ---------------------------------------------------------------

PADDING = {
    "duplicate": lambda t: t + "\n\n" + t,
    "blank lines": lambda t: "\n\n" + t.replace("\n\n", "\n\n\n\n") + "\n\n\n\n",
    "rules": lambda t: t + "\n\n---\n\n***\n",
    "pleasantries": lambda t: "Hello! Thank you so much for your help.\n" + t
    + "\nThanks, we really appreciate it!\n",
    "filler": lambda t: t + "\nPlease note that this is very important.\n"
    "Keep in mind that it is really essential.\n",
    "generic virtues": lambda t: t + "\nBe careful. Be smart. Do your best. Be thorough.\n",
}
PROMPTS = [p.read_text(encoding="utf-8") for p in EXAMPLES] + [
    CASES["no-structure"]["negative"],
    "You are MarketAnalyst. BUY if RSI is below 30. SELL if RSI is above 70. Otherwise HOLD.\n"
    "Return JSON with action (BUY, SELL or HOLD) and confidence (0 to 1).",
    "Try to buy when several indicators look strong, etc.",
]


@pytest.mark.parametrize("padding", sorted(PADDING))
@pytest.mark.parametrize("index", range(len(PROMPTS)))
def test_padding_never_improves_scores(padding: str, index: int) -> None:
    original = analyze(PROMPTS[index])
    padded = analyze(PADDING[padding](PROMPTS[index]))
    assert padded.specificity <= original.specificity
    assert padded.clarity <= original.clarity
    assert padded.ambiguity >= original.ambiguity


def test_short_precise_prompt_is_not_punished_for_being_short() -> None:
    short = (
        "You are MarketAnalyst. Input: {snapshot} with rsi_14 and macd_hist.\n"
        "BUY if rsi_14 < 30 and macd_hist > 0. SELL if rsi_14 > 70 and macd_hist < 0. "
        "Otherwise HOLD.\n"
        'Answer with JSON: {"action": "BUY" | "SELL" | "HOLD", "confidence": 0.0-1.0}.'
    )
    verbose = (
        "You are MarketAnalyst, and it is your job to look at the market snapshot that you "
        "will be given in {snapshot}, which contains among other things rsi_14 and macd_hist. "
        "When rsi_14 is under 30 and at the same time macd_hist is above 0, the answer you "
        "give should be BUY, whereas when rsi_14 is over 70 and macd_hist is below 0 you "
        "should answer SELL, and in any other case the answer is HOLD. The answer has to be a "
        'JSON object: {"action": "BUY" | "SELL" | "HOLD", "confidence": 0.0-1.0}.'
    )
    a, b = analyze(short), analyze(verbose)
    assert a.specificity >= b.specificity - 5
    assert a.clarity > b.clarity
    assert a.ambiguity <= b.ambiguity
    assert a.specificity >= 50 and a.clarity >= 90 and a.ambiguity == 0


def test_scores_are_rates_not_counts() -> None:
    """One vague word weighs more in a short prompt than in a long one that is otherwise
    precise, but a long prompt cannot hide many."""
    one = "Buy when several indicators agree.\nOtherwise answer HOLD."
    long_one = "\n".join(
        [f"Sell {k} units when the price drops {k}% within {k} hours." for k in range(2, 14)]
        + ["Buy when several indicators agree.", "Otherwise answer HOLD."]
    )
    long_many = long_one.replace("units", "units, maybe several,")
    assert analyze(long_one).ambiguity < analyze(one).ambiguity
    assert analyze(long_many).ambiguity > analyze(one).ambiguity


# --- the result ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "", "   \n\n", "```\ncode only\n```", "{placeholder}", "\r\nTry to decide.\r\n", "x" * 5000,
    "[bold]not markup[/bold] maybe", "¿Qué? Ünïcödé — maybe\u2028etc.", "1. \n2. \n- \n#",
    "{\n\"unclosed\": [1, 2\n", "İİİ maybe ııı etc.",
])
def test_never_raises_and_stays_in_range(text: str) -> None:
    result = analyze(text)
    for value in result.scores().values():
        assert 0 <= value <= 100
    for finding in result.findings:
        assert finding.line >= 1 and finding.col >= 1


def test_deterministic_and_json_serializable() -> None:
    text = EXAMPLES[0].read_text(encoding="utf-8")
    first, second = analyze(text), analyze(text)
    assert first == second
    data = json.loads(json.dumps(first.to_dict()))
    assert set(data) == {"specificity", "clarity", "ambiguity", "overall", "findings", "details"}
    assert set(data["findings"][0]) == {
        "rule", "dimension", "severity", "message", "line", "col", "end_line", "end_col",
        "text", "suggestion",
    }
    assert data["overall"] == pytest.approx(
        (first.specificity + first.clarity + 100 - first.ambiguity) / 3, abs=0.01
    )


def test_top_findings_most_severe_first() -> None:
    text = "Always be concise.\nTry to explain in detail.\n"
    top = analyze(text).top_findings(2)
    assert top[0].severity == "error" and top[0].rule == "contradiction"


def test_example_prompts_pass_the_default_thresholds() -> None:
    for path in EXAMPLES:
        assert threshold_failures(analyze(path.read_text(encoding="utf-8")),
                                  LintThresholds()) == []


def test_thresholds_from_section() -> None:
    limits = LintThresholds.from_section({"min_clarity": 70, "max_ambiguity": 10.5})
    assert limits == LintThresholds(min_specificity=40.0, min_clarity=70.0, max_ambiguity=10.5)
    analysis = Analysis(specificity=39.0, clarity=80.0, ambiguity=11.0, findings=[])
    assert threshold_failures(analysis, limits) == [
        "specificity 39.0 < 40.0 (min_specificity)",
        "ambiguity 11.0 > 10.5 (max_ambiguity)",
    ]
    with pytest.raises(OptimizerError, match="must be a number"):
        LintThresholds.from_section({"min_clarity": "high"})
    with pytest.raises(OptimizerError, match="unknown keys"):
        LintThresholds.from_section({"min_clarty": 3})


def test_every_rule_is_documented() -> None:
    docs = (HERE.parents[1] / "docs" / "analyzer.md").read_text(encoding="utf-8")
    missing = [rule for rule in RULES if f"`{rule}`" not in docs]
    assert missing == []


def test_words_clipped_to_consonants_are_abbreviations() -> None:
    text = "Pt msg: check the lvl. No dx. Dose in mg per kg. Log the PnL."
    flagged = [f.text for f in analyze(text).findings if f.rule == "undefined-acronym"]
    assert flagged == ["Pt", "msg", "lvl", "dx"]  # mg and kg are units, PnL is known
