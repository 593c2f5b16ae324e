"""The static gates: placeholders, size, analyzer scores; and their settings."""

from __future__ import annotations

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
    assert not flat.passed and flat.detail == "overall not better (60.0 -> 60.0)"


def test_static_gates_order() -> None:
    after = {**BEFORE, "overall": 61.0}
    results = static_gates(PROMPT, PROMPT + "Rule.\n", BEFORE, after, GateSettings())
    assert [g.name for g in results] == ["placeholders", "slots", "size", "scores"]
    assert all(g.passed for g in results)
    assert results[0].to_dict() == {"name": "placeholders", "passed": True,
                                    "detail": "3 placeholder(s) preserved",
                                    "data": {"lost": [], "added": []}}


def test_settings_from_the_optimize_table() -> None:
    settings = GateSettings.from_section({"tolerance": "1.5", "replay_margin": 2, "model": "x"})
    assert settings.tolerance == 1.5 and settings.replay_margin == 2
    assert settings.max_size_ratio == 2.0
    with pytest.raises(OptimizerError, match=r"\[optimize\] tolerance"):
        GateSettings.from_section({"tolerance": "lots"})


def test_loop_settings_of_the_optimize_table_fail_as_one_clear_error(workspace) -> None:
    from optimizer.loop import AgentPromptOptimizer
    from prompt_repo.config import load_workspace

    config = workspace / "promptloop.toml"
    config.write_text(config.read_text() + '\n[optimize]\nmax_repairs = "twice"\n')
    with pytest.raises(OptimizerError, match=r"\[optimize\] max_repairs"):
        AgentPromptOptimizer(load_workspace(workspace))
