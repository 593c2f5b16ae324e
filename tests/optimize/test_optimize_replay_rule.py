"""The replay gate's rule as a pure function of paired answers, and its settings."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from optimize_support import configure

from agents.roles import AgentAnswer, CallResult
from optimizer.errors import OptimizerError
from optimizer.held_out import ReplaySettings
from optimizer.replay_gate import judge_replay


def call(action: str | None, confidence: float = 0.6) -> CallResult:
    answer = None if action is None else AgentAnswer(
        action=action, confidence=confidence, risk_level="LOW", reasoning="r")
    return CallResult(agent="A", prompt_sha=None, answer=answer, raw_output=None,
                      error=None if action else "unparseable answer")


def case(n: int, value: float, correct: bool) -> SimpleNamespace:
    return SimpleNamespace(case_id=f"d{n}", timestamp=None, market_condition="volatile",
                           output={"action": "BUY"}, context={"x": n},
                           outcome={"value": value, "correct": correct, "details": {}})


@pytest.mark.parametrize(("fixed", "broken", "passes"), [
    (4, 0, True), (3, 0, False), (6, 1, True), (5, 1, False), (7, 2, True), (5, 5, False)])
def test_the_sign_test_decides_on_the_discordant_pairs(fixed, broken, passes) -> None:
    up = [case(n, 0.03, False) for n in range(fixed)]  # current SELL wrong, candidate BUY
    down = [case(100 + n, -0.03, True) for n in range(broken)]  # current SELL right
    same = [case(200 + n, 0.03, True) for n in range(10)]  # both BUY, both right
    cases = up + down + same
    current = [[call("SELL")] for _ in up + down] + [[call("BUY")] for _ in same]
    candidate = [[call("BUY")] for _ in cases]
    result = judge_replay(cases, current, candidate)
    assert (result.data["fixed"], result.data["broken"]) == (fixed, broken)
    assert result.passed is passes
    assert f"fixed {fixed}, broke {broken} of {len(cases)} held-out decisions" in result.detail


def test_repeats_count_by_majority_and_an_unparseable_answer_is_wrong() -> None:
    cases = [case(1, 0.03, False), case(2, 0.03, True)]
    current = [[call("SELL"), call("SELL"), call("BUY")], [call("BUY")] * 3]
    candidate = [[call("BUY"), call("BUY"), call(None)], [call("BUY"), call(None), call(None)]]
    result = judge_replay(cases, current, candidate)
    assert [row["verdict"] for row in result.data["results"]] == ["fixed", "broken"]
    assert result.data["results"][1]["candidate_errors"] == 2


def test_brier_change_compares_the_replayed_confidences() -> None:
    cases = [case(1, 0.03, False)]
    result = judge_replay(cases, [[call("SELL", 0.9)]], [[call("BUY", 0.7)]])
    assert result.data["brier"] == {"current": 0.81, "candidate": 0.09, "change": -0.72, "n": 1}


# Ranges are refused when promptloop.toml is loaded (tests/test_settings.py and the CLI test
# below); what only the run can know (the cache) is checked here.
@pytest.mark.parametrize(("section", "use_cache", "message"), [
    ({"replay_repeats": 3}, True, "replay_repeats = 3 needs --no-cache"),
    ({"replay_alpha": "often"}, True, "[optimize] replay_alpha in promptloop.toml"),
])
def test_bad_replay_settings_are_one_clear_error(section, use_cache, message) -> None:
    with pytest.raises(OptimizerError, match=message.replace("[", r"\[")):
        ReplaySettings.from_section(section, use_cache=use_cache)
    assert ReplaySettings.from_section({"replay_repeats": 3}, use_cache=False).replay_repeats == 3


def test_a_bad_replay_setting_stops_the_command_with_one_line(run_cli, opt_ws) -> None:
    configure(opt_ws, optimize="replay_alpha = 2")
    result = run_cli("-C", str(opt_ws), "optimize", "--agent", "MarketAnalyst", "--dry-run")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Error: [optimize] replay_alpha = 2 in promptloop.toml: expected a number strictly "
        "between 0 and 1")
