"""The static gates on a labeled set of candidate edits (gate_cases.toml): precise rules pass;
vague wording, dropped thresholds and overrides are refused by the change gate; lines
copied from case text by the taint gate. Each case runs the real analyzer on real prompts
(the examples of ``promptloop init`` and two short ones)."""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from optimizer.analyzer import analyze
from optimizer.gates import GateResult, GateSettings, static_gates
from optimizer.loop import scores_of

HERE = Path(__file__).parent
EXAMPLES = HERE.parents[1] / "prompt_repo" / "examples"
LABELS = tomllib.loads((HERE / "gate_cases.toml").read_text())
CASES: list[dict[str, Any]] = LABELS["case"]
REFUSED_BY = {"vague": "change", "threshold": "change", "override": "change",
              "copied": "taint"}


def base_prompt(name: str) -> str:
    if name in LABELS["prompts"]:
        return str(LABELS["prompts"][name])
    return (EXAMPLES / f"{name}.md").read_text()


def judge(case: dict[str, Any]) -> list[GateResult]:
    current = base_prompt(case["prompt"])
    assert case["find"] in current, f"{case['name']}: 'find' is not in {case['prompt']}"
    candidate = current.replace(case["find"], case["replace"], 1)
    untrusted = [(f"case {n}", text) for n, text in enumerate(case.get("untrusted", []), 1)]
    return static_gates(current, candidate, scores_of(analyze(current)),
                        scores_of(analyze(candidate)), GateSettings(),
                        replay_available=case.get("replay", True), untrusted=untrusted)


def _param(case: dict[str, Any]) -> Any:
    marks = [pytest.mark.xfail(reason=case["known_miss"])] if "known_miss" in case else []
    return pytest.param(case, id=case["name"], marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_the_gates_decide_each_labeled_case(case: dict[str, Any]) -> None:
    results = judge(case)
    failed = [g.name for g in results if not g.passed]
    shown = [g.to_dict() for g in results if not g.passed]
    if case["kind"] == "precise":
        assert failed == [], shown
    else:
        assert REFUSED_BY[case["kind"]] in failed, shown


def test_the_labeled_set_covers_every_kind_in_long_and_short_prompts() -> None:
    kinds = Counter(c["kind"] for c in CASES)
    assert set(kinds) == {"precise", *REFUSED_BY}
    assert min(kinds.values()) >= 5
    short = {c["kind"] for c in CASES if c["prompt"] in LABELS["prompts"]}
    long = {c["kind"] for c in CASES if c["prompt"] not in LABELS["prompts"]}
    assert short == long == set(kinds)
