"""The offline rewrite (``optimize --engine heuristic``): it must improve typical prompts,
keep every placeholder and all code, and produce a diff that git applies."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import pytest

from optimizer.analyzer import analyze
from optimizer.rules.lexicon import PLACEHOLDER
from optimizer.suggest import heuristic_rewrite, unified_diff

EXAMPLES = sorted((Path(__file__).parents[2] / "prompt_repo" / "examples").glob("*.md"))

TEMPLATED = """You are MarketAnalyst for {symbol}.

## Inputs
- {snapshot}: the market snapshot.
- {{ earlier_answers }}: maybe several answers of other agents, etc.

## Rules
You should generally try to buy when volume is high.
If the market is volatile, halve the size.
If the trend is strong, follow it.

```json
{"note": "maybe several etc, keep exactly", "value": "{not_a_placeholder_in_code}"}
```
"""


def git_apply(tmp_path: Path, old: str, diff: str) -> str:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "prompt").write_text(old, encoding="utf-8")
    (tmp_path / "change.diff").write_text(diff, encoding="utf-8")
    subprocess.run(["git", "apply", "change.diff"], cwd=tmp_path, check=True)
    return (tmp_path / "prompt").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_rewrite_improves_the_example_prompts(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    rewrite = heuristic_rewrite(text)
    assert rewrite.changed
    before, after = analyze(text), analyze(rewrite.text)
    assert after.overall > before.overall
    assert after.specificity >= before.specificity
    assert after.clarity >= before.clarity
    assert after.ambiguity < before.ambiguity
    assert rewrite.after == after and rewrite.before == before


def test_placeholders_and_code_survive(tmp_path: Path) -> None:
    rewrite = heuristic_rewrite(TEMPLATED)
    assert rewrite.changed
    assert Counter(PLACEHOLDER.findall(rewrite.text)) == Counter(PLACEHOLDER.findall(TEMPLATED))
    code = TEMPLATED[TEMPLATED.index("```json"):]
    assert code in rewrite.text
    assert "{{ earlier_answers }}" in rewrite.text


def test_rewrite_edits(tmp_path: Path) -> None:
    rewrite_text = heuristic_rewrite(TEMPLATED).text
    assert "\nBuy when volume is high (above <N>).\n" in rewrite_text
    assert "at least <N> answers of other agents." in rewrite_text
    assert "volatile (ATR above <N>% of price)" in rewrite_text
    assert ", etc" not in rewrite_text.split("```")[0]
    assert "If no rule above applies" in rewrite_text
    # every slot left to fill is reported by lint
    slots = [f for f in analyze(rewrite_text).findings if f.rule == "unfilled-slot"]
    assert len(slots) == rewrite_text.count("<N>") + rewrite_text.count("<THRESHOLD>")


def test_diff_applies_with_git(tmp_path: Path) -> None:
    for number, path in enumerate(EXAMPLES):
        text = path.read_text(encoding="utf-8")
        rewrite = heuristic_rewrite(text)
        assert rewrite.diff.startswith("--- a/prompt\n+++ b/prompt\n@@ ")
        assert git_apply(tmp_path / str(number), text, rewrite.diff) == rewrite.text


def test_diff_without_final_newline(tmp_path: Path) -> None:
    old = "Try to buy.\nMaybe sell."
    rewrite = heuristic_rewrite(old)
    assert "\\ No newline at end of file" in rewrite.diff
    assert git_apply(tmp_path, old, rewrite.diff) == rewrite.text
    assert unified_diff("a\n", "a\n") == ""


def test_adds_output_section_and_range_when_missing() -> None:
    text = "You are TradingAdvisor. Decide BUY, SELL or HOLD with a confidence.\n"
    rewrite = heuristic_rewrite(text)
    assert "## Output format" in rewrite.text and '"action": "BUY" | "SELL" | "HOLD"' in (
        rewrite.text
    )
    assert "confidence (a number from 0 to 1)" in rewrite.text
    rules = {f.rule for f in analyze(rewrite.text).findings}
    assert "missing-output-format" not in rules and "unbounded-score" not in rules


def test_nothing_to_fix_means_no_change() -> None:
    text = (
        "You are MarketAnalyst. BUY if RSI(14) is below 30. SELL if RSI(14) is above 70. "
        "Otherwise answer HOLD.\n"
        'Reply with JSON: {"action": "BUY" | "SELL" | "HOLD", "confidence": 0-1}.\n'
    )
    rewrite = heuristic_rewrite(text)
    assert not rewrite.changed
    assert rewrite.text == text and rewrite.diff == ""


def test_suggestions_are_deterministic_and_ranked() -> None:
    text = "Always be concise.\nTry to explain in detail.\nUse several indicators.\n"
    first, second = heuristic_rewrite(text), heuristic_rewrite(text)
    assert first == second
    assert first.suggestions[0].startswith("line 2: Keep one of the two")
    assert len(first.suggestions) == len(set(first.suggestions))


def test_capitalizes_after_deleting_a_sentence_start() -> None:
    rewrite = heuristic_rewrite("Ideally, place limit orders.\nYou should check the book.\n")
    assert rewrite.text.startswith("Place limit orders.\nCheck the book.")
