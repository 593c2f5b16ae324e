"""Suggestions come from findings with their numbers, and only with enough evidence;
agent_findings turns a block into lines for the critic."""

from __future__ import annotations

from tests.analysis.conftest import AGENT, UNTIL, call
from tracker.analysis import agent_findings, analyze_performance


def _calls(n: int, right: int, start_hour: float, action: str, confidence: float,
           condition: str, **kw) -> list[dict]:
    """n calls, the first ``right`` of them right (a 2% move their way, else against)."""
    sign = {"BUY": 1, "SELL": -1}[action]
    return [
        call(start_hour + i, action, confidence, sign * (0.02 if i < right else -0.02),
             condition=condition, **kw)
        for i in range(n)
    ]


def test_overconfidence_in_one_market_condition(seed, tracker) -> None:
    seed(_calls(41, 22, 1, "SELL", 0.85, "bearish") + _calls(60, 40, 100, "BUY", 0.6, "bullish"))
    report = analyze_performance(tracker.engine, [AGENT], 30, until=UNTIL,
                                 store_metrics=False).to_dict()
    assert report["agents"][AGENT]["suggestions"] == [
        "MarketAnalyst is overconfident in bearish markets: its 0.8-0.9 confidence calls were "
        "right 54% of the time (n=41, mean confidence 0.85); state when to lower confidence "
        "in bearish markets."
    ]


def test_weak_action_in_a_condition(seed, tracker) -> None:
    seed(_calls(40, 12, 1, "BUY", 0.35, "bullish") + _calls(60, 51, 100, "SELL", 0.8, "bearish"))
    suggestions = analyze_performance(
        tracker.engine, [AGENT], 30, until=UNTIL, store_metrics=False
    ).to_dict()["agents"][AGENT]["suggestions"]
    assert suggestions == [
        "MarketAnalyst's BUY calls in bullish markets were right 30% of the time (n=40, "
        "against 63% over all its calls); add a rule for when not to BUY in bullish markets."
    ]


def test_version_regression_beyond_both_intervals(seed, tracker) -> None:
    a, b = "a" * 40, "b" * 40
    seed(_calls(60, 45, 200, "BUY", 0.6, "bullish", sha=a)
         + _calls(60, 24, 1, "BUY", 0.6, "bullish", sha=b))
    names = {a: "v1", b: "v2"}
    report = analyze_performance(tracker.engine, [AGENT], 30, until=UNTIL, store_metrics=False,
                                 version_names=lambda agent, sha: names[sha]).to_dict()
    block = report["agents"][AGENT]
    assert [v["version"] for v in block["by_prompt_version"].values()] == ["v1", "v2"]
    assert (
        "MarketAnalyst's accuracy fell from 75% (v1, n=60) to 40% (v2, n=60), beyond both 95% "
        "intervals; review what v2 changed and restore the instructions it dropped."
    ) in block["suggestions"]


def test_no_outcome_based_suggestion_from_a_small_sample(seed, tracker) -> None:
    ids = seed(_calls(20, 2, 1, "SELL", 0.95, "bearish")
               + [call(30, "BUY", 0.6, reasoning="Bearish breakdown, selling pressure.")])
    block = analyze_performance(tracker.engine, [AGENT], 30, until=UNTIL,
                                store_metrics=False).to_dict()["agents"][AGENT]
    assert block["calibration"]["warnings"][0] == (
        "only 20 calls with an outcome (< 30): too few to conclude"
    )
    assert block["calibration"]["verdict"].startswith(
        "too few calls with an outcome to conclude (n=20 < 30); overconfident by"
    )
    assert block["suggestions"] == [
        f"MarketAnalyst: 1 call whose reasoning argues for the other side (e.g. #{ids[-1]}); "
        "require the action to follow from the reasoning and to name the decisive signal."
    ]


def test_agent_findings_for_the_critic(seed, tracker) -> None:
    seed(_calls(41, 22, 1, "SELL", 0.85, "bearish") + _calls(60, 40, 100, "BUY", 0.6, "bullish"))
    lines = agent_findings(tracker.engine, AGENT, 30, until=UNTIL)
    # Brier: (22 * 0.15^2 + 19 * 0.85^2 + 40 * 0.4^2 + 20 * 0.6^2) / 101 = 27.8225 / 101
    # ECE: (41 * |0.85 - 22/41| + 60 * |0.6 - 40/60|) / 101 = 16.85 / 101
    assert lines[0] == (
        "MarketAnalyst, last 30 days: 101 calls, 101 with an outcome, accuracy 61% (team's "
        "final decisions: 61%); Brier 0.2755, ECE 0.1668."
    )
    # mean confidence (41 * 0.85 + 60 * 0.6) / 101 = 0.7015, accuracy 62 / 101 = 0.6139
    assert lines[1] == (
        "Calibration: overconfident by 9 points: mean confidence 0.70 against accuracy 0.61 "
        "(n=101); widest in 0.8-0.9 (confidence 0.85, right 54%, n=41)."
    )
    assert "In bearish markets: 41 calls, accuracy 54% (n=41)." in lines
    assert lines[-1].startswith("Suggestion: MarketAnalyst is overconfident in bearish markets")


def test_one_call_is_one_call_not_one_calls() -> None:
    from tracker.analysis.calibration import warnings
    from tracker.wording import plural

    assert warnings([], 1) == ["only 1 call with an outcome (< 30): too few to conclude"]
    assert [plural(n, "call") for n in (0, 1, 2)] == ["0 calls", "1 call", "2 calls"]
    assert plural(1, "inconsistency", "inconsistencies") == "1 inconsistency"
    assert plural(3, "inconsistency", "inconsistencies") == "3 inconsistencies"
