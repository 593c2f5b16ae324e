"""The static gates: placeholders, slots, size, analyzer scores (a tolerance); and their
settings. The change and taint gates have their own test files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from optimizer.errors import OptimizerError
from optimizer.gates import (
    GateSettings,
    placeholder_gate,
    placeholders,
    score_gate,
    size_gate,
    static_gates,
)

PROMPT = (
    "You are MarketAnalyst for {symbol}.\nUse {{ indicators }} and {price}.\n"
    'Answer as JSON: {"action": "BUY"}.\n' + "Explain your reasoning briefly.\n" * 20
)
EXAMPLE = Path(__file__).parents[2] / "prompt_repo" / "examples" / "MarketAnalyst.md"
BEFORE = {"specificity": 50.0, "clarity": 60.0, "ambiguity": 30.0, "overall": 60.0}


def test_placeholders_found_and_normalised() -> None:
    assert placeholders(PROMPT) == {"{symbol}", "{{indicators}}", "{price}"}
    assert placeholders('{"action": "BUY", "n": {1}} {{ a.b }}') == {"{{a.b}}"}


def test_placeholder_gate() -> None:
    assert placeholder_gate(PROMPT, PROMPT + "Be careful.\n").passed
    assert placeholder_gate(PROMPT, PROMPT.replace("{{ indicators }}", "{{indicators}}")).passed
    lost = placeholder_gate(PROMPT, PROMPT.replace("{price}", "the price"))
    assert not lost.passed and lost.data["lost"] == ["{price}"]
    assert lost.detail == "lost {price}"
    added = placeholder_gate(PROMPT, PROMPT + "{volume}\n")
    assert not added.passed and added.detail == "added {volume}"


def test_size_gate_bounds() -> None:
    settings = GateSettings()
    assert size_gate(PROMPT, PROMPT + "One more rule.\n", settings).passed
    assert not size_gate(PROMPT, "", settings).passed
    assert not size_gate(PROMPT, " \n\n ", settings).passed
    assert not size_gate(PROMPT, PROMPT[: len(PROMPT) // 2], settings).passed
    assert not size_gate(PROMPT, PROMPT * 4, settings).passed
    short = "Be brief."
    assert size_gate(short, short + "x" * 1400, settings).passed  # a short prompt may grow
    result = size_gate(PROMPT, "tiny", settings)
    assert result.data["after"] == 4 and result.data["min"] == int(len(PROMPT) * 0.6)


def test_score_gate_tolerance_and_overall() -> None:
    better = {**BEFORE, "specificity": 58.0, "overall": 63.0}
    assert score_gate(BEFORE, better, 2.0).passed
    within = {**BEFORE, "clarity": 58.5, "overall": 61.0}
    assert score_gate(BEFORE, within, 2.0).passed
    ambiguous = {**BEFORE, "ambiguity": 35.0, "specificity": 70.0, "overall": 65.0}
    result = score_gate(BEFORE, ambiguous, 2.0)
    assert not result.passed
    assert result.detail == "worse beyond 2 points: ambiguity 30.0 -> 35.0"
    flat = score_gate(BEFORE, dict(BEFORE), 2.0)
    assert not flat.passed
    assert flat.detail == "overall not better (60.0 -> 60.0) and no replay to judge the change"


def test_with_replay_evidence_a_neutral_change_within_tolerance_passes() -> None:
    neutral = {**BEFORE, "clarity": 57.3, "overall": 59.1}
    result = score_gate(BEFORE, neutral, 5.0, replay_available=True)
    assert result.passed and result.data["overall_must_improve"] is False
    assert result.detail == ("overall 60.0 -> 59.1, each score within 5 points "
                             "(the replay judges the behaviour)")
    assert not score_gate(BEFORE, neutral, 5.0).passed  # no replay: the analyzer decides
    drift = {**BEFORE, "clarity": 54.0, "overall": 58.0}
    refused = score_gate(BEFORE, drift, 5.0, replay_available=True)
    assert not refused.passed and refused.detail == "worse beyond 5 points: clarity 60.0 -> 54.0"


def test_the_default_tolerance_lets_one_precise_domain_rule_into_a_long_prompt() -> None:
    from optimizer.analyzer import analyze
    from optimizer.loop import scores_of

    current = EXAMPLE.read_text()
    lines = current.splitlines()
    rule = ("   On a short squeeze (price up more than 4 % in 2 candles with RSI above 80), "
            "answer HOLD.")
    candidate = "\n".join([*lines[:40], rule, *lines[40:]]) + "\n"
    before, after = scores_of(analyze(current)), scores_of(analyze(candidate))
    assert before["clarity"] - after["clarity"] <= GateSettings().tolerance  # 'squeeze': slang
    results = static_gates(current, candidate, before, after, GateSettings(),
                           replay_available=True)
    assert all(g.passed for g in results), [g.to_dict() for g in results]


def test_static_gates_order() -> None:
    after = {**BEFORE, "overall": 61.0}
    results = static_gates(PROMPT, PROMPT + "Rule.\n", BEFORE, after, GateSettings())
    assert [g.name for g in results] == ["placeholders", "slots", "size", "scores", "change",
                                         "taint"]
    assert all(g.passed for g in results)
    assert results[0].to_dict() == {"name": "placeholders", "passed": True,
                                    "detail": "3 placeholder(s) preserved",
                                    "data": {"lost": [], "added": []}}
    json.dumps([g.to_dict() for g in results])


def test_settings_from_the_optimize_table() -> None:
    settings = GateSettings.from_section({"tolerance": "1.5", "max_growth_chars": 2, "model": "x"})
    assert settings.tolerance == 1.5 and settings.max_growth_chars == 2
    assert settings.max_size_ratio == 2.0
    with pytest.raises(OptimizerError, match=r"\[optimize\] tolerance"):
        GateSettings.from_section({"tolerance": "lots"})


def test_loop_settings_of_the_optimize_table_fail_as_one_clear_error(workspace) -> None:
    from optimizer.loop import AgentPromptOptimizer
    from prompt_repo.config import load_workspace

    config = workspace / "promptloop.toml"
    from prompt_repo.errors import ConfigError

    config.write_text(config.read_text() + '\n[optimize]\nmax_repairs = "twice"\n')
    with pytest.raises(ConfigError, match=r"\[optimize\] max_repairs"):  # refused at load
        AgentPromptOptimizer(load_workspace(workspace))
