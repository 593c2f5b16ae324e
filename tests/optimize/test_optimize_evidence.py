"""Evidence -> prompt rules (optimizer/evidence.py) on hand-made analysis blocks and failure
cases, and the heuristic engine end to end in process on a real tracker with planted
overconfident and self-contradicting decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from optimizer import AgentPromptOptimizer
from optimizer.evidence import (
    EvidenceRule,
    apply_rules,
    cap,
    confidence_caps,
    derive_rules,
    tie_break,
)
from optimizer.rules.lexicon import SLOT
from prompt_repo import PromptRepo, load_workspace
from tracker import DecisionTracker
from tracker.failures import Case

EXAMPLE = Path(__file__).parents[2] / "prompt_repo" / "examples" / "MarketAnalyst.md"
UNTIL = datetime(2026, 1, 31, tzinfo=UTC)

VOLATILE_CAP = (
    "- In `volatile` markets your calls were right 28% of the time at a mean confidence of "
    "0.93 (n=134): do not exceed confidence 0.3 when `market_condition` is `volatile`.")
SIDEWAYS_CAP = (
    "- In `sideways` markets your calls were right 41% of the time at a mean confidence of "
    "0.66 (n=100): do not exceed confidence 0.45 when `market_condition` is `sideways`.")
HOLD_TIE = (
    "- Tie-break between BUY and SELL (when `market_condition` is `sideways` and `rsi_14` is "
    "between 45 and 55): answer HOLD. On 10 pairs of opposite calls you made within an hour, "
    "HOLD would have been right 100% of the time, your calls 0% (n=20).")


def condition(n: int, accuracy: float, confidence: float) -> dict[str, Any]:
    return {"decisions": n, "with_outcome": n, "accuracy": accuracy, "avg_return": 0.0,
            "mean_confidence": confidence, "actions": {"BUY": n, "SELL": 0, "HOLD": 0}}


BLOCK = {
    "by_market_condition": {
        "sideways": condition(100, 0.41, 0.66),
        "volatile": condition(134, 0.2761, 0.9321),
        "bullish": condition(29, 0.10, 0.90),  # too few outcomes to conclude
        "bearish": condition(200, 0.55, 0.62),  # confidence close to accuracy
        "unknown": condition(500, 0.20, 0.90),  # no condition to name in a rule
    },
    "calibration": {"bins": []},
}


def bin_row(lo: float, count: int, confidence: float | None, accuracy: float | None
            ) -> dict[str, Any]:
    return {"lo": lo, "hi": round(lo + 0.1, 1), "count": count, "decisions": count,
            "mean_confidence": confidence, "accuracy": accuracy}


def pair(n: int, *, condition: str, rsi: float, macd: float, returns: tuple[float, float],
         actions: tuple[str, str] = ("BUY", "SELL")) -> Case:
    """A contradiction case: two calls of MarketAnalyst, half an hour apart."""
    when = UNTIL - timedelta(days=n + 1)

    def member(action: str, value: float) -> dict[str, Any]:
        return {"context": {"indicators": {"rsi_14": rsi, "macd_hist": macd}},
                "output": {"action": action, "confidence": 0.7},
                "outcome": {"type": "return_24h", "value": value,
                            "details": {"band": 0.005}},
                "market_condition": condition, "timestamp": when}

    first, second = member(actions[0], returns[0]), member(actions[1], returns[1])
    return Case(case_id=f"d{2 * n}+d{2 * n + 1}", kind="contradiction",
                decision_ids=[2 * n, 2 * n + 1], agent="MarketAnalyst", symbol="BTCUSDT",
                timestamp=when, market_condition=condition, context=first["context"],
                output=first["output"], outcome=first["outcome"], severity=1.0,
                others=[second])


def hold_pairs(count: int) -> list[Case]:
    return [pair(n, condition="sideways", rsi=47.0 + n % 7, macd=(-1) ** n * 3.0,
                 returns=(0.001, -0.002)) for n in range(count)]


# -- derivation -------------------------------------------------------------------------------


def test_caps_per_market_condition_exact_text() -> None:
    rules = confidence_caps(BLOCK)
    assert [r.line for r in rules] == [VOLATILE_CAP, SIDEWAYS_CAP]
    assert {(r.kind, r.section) for r in rules} == {("confidence_cap", "confidence")}


def test_cap_is_the_accuracy_rounded_up_to_a_twentieth() -> None:
    assert [cap(x) for x in (0.4, 0.401, 0.2761, 0.95, 0.0)] == [0.4, 0.45, 0.3, 0.95, 0.1]


def test_overall_cap_from_the_bins_when_no_condition_qualifies() -> None:
    bins = [bin_row(k / 10, 0, None, None) for k in range(6)] + [
        bin_row(0.6, 50, 0.65, 0.60),  # calibrated
        bin_row(0.7, 20, 0.75, 0.30),  # too few outcomes to start from, pooled above
        bin_row(0.8, 40, 0.85, 0.35),  # the lowest overconfident bin with enough outcomes
        bin_row(0.9, 60, 0.95, 0.30),
    ]
    block = {"by_market_condition": {"unknown": condition(170, 0.4, 0.8)},
             "calibration": {"bins": bins}}
    [rule] = confidence_caps(block)
    assert rule.line == ("- Your calls at confidence 0.8 or above were right 32% of the time "
                         "(n=100): do not exceed confidence 0.35.")
    assert confidence_caps({**block, "calibration": {"bins": bins[:8]}}) == []


def test_tie_break_hold_when_the_pairs_ended_in_the_band() -> None:
    rule = tie_break(hold_pairs(10))
    assert rule is not None and rule.line == HOLD_TIE
    assert (rule.kind, rule.section) == ("tie_break", "decision")


def test_tie_break_follows_macd_when_its_sign_was_right() -> None:
    cases = [pair(n, condition=("sideways", "bullish")[n % 2], rsi=20.0 + 6 * n,
                  macd=(-1) ** n * 2.0, returns=((-1) ** n * 0.03,) * 2) for n in range(12)]
    rule = tie_break(cases)
    assert rule is not None
    assert rule.line == (
        "- Tie-break between BUY and SELL: follow the sign of `macd_hist` (BUY above 0, SELL "
        "below 0). On 12 pairs of opposite calls you made within an hour, that rule would "
        "have been right 100% of the time, your calls 50% (n=24).")


def test_no_tie_break_without_enough_pairs_or_a_better_policy() -> None:
    assert tie_break(hold_pairs(9)) is None
    # the outcomes favour neither HOLD nor macd over the agent's own calls (like the demo)
    coin = [pair(n, condition="sideways", rsi=50.0, macd=1.0,
                 returns=((-1) ** n * 0.03,) * 2) for n in range(12)]
    assert tie_break(coin) is None
    singles = [Case(case_id="d1", kind="confidently_wrong", decision_ids=[1], agent="A",
                    symbol="X", timestamp=UNTIL, market_condition=None, context={},
                    output={"action": "BUY"}, outcome={"value": -0.1}, severity=1.0)] * 20
    assert tie_break(singles) is None


def test_derive_rules_without_evidence_is_empty() -> None:
    assert derive_rules(None, []) == []
    assert derive_rules({"by_market_condition": {}, "calibration": {"bins": []}}) == []


# -- placement --------------------------------------------------------------------------------


def test_rules_go_into_their_sections_wrapped() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    new = apply_rules(text, [*confidence_caps(BLOCK), tie_break(hold_pairs(10))])
    lines = new.splitlines()
    assert max(len(line) for line in lines if line.startswith(("- ", "  "))) <= 95
    decide = lines.index("## How to decide")
    tie = next(i for i, line in enumerate(lines) if line.startswith("- Tie-break"))
    caps = next(i for i, line in enumerate(lines) if line.startswith("- In `volatile`"))
    assert decide < tie < lines.index("## Confidence and risk") < caps < lines.index(
        "## Your answer")
    assert lines[caps - 1] == "" and lines[caps - 2].startswith("LOW when `volatility`")
    assert lines[caps:caps + 4] == [
        "- In `volatile` markets your calls were right 28% of the time at a mean confidence of"
        " 0.93",
        "  (n=134): do not exceed confidence 0.3 when `market_condition` is `volatile`.",
        "- In `sideways` markets your calls were right 41% of the time at a mean confidence of"
        " 0.66",
        "  (n=100): do not exceed confidence 0.45 when `market_condition` is `sideways`.",
    ]
    assert new.replace("\n  ", " ").count(VOLATILE_CAP) == 1


def test_a_rule_from_an_earlier_run_is_replaced_not_stacked() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    first = apply_rules(text, confidence_caps(BLOCK))
    assert apply_rules(first, confidence_caps(BLOCK)) == first
    later = {**BLOCK, "by_market_condition": {"volatile": condition(300, 0.5, 0.9)}}
    second = apply_rules(first, confidence_caps(later))
    assert second.count("- In `volatile` markets") == 1
    assert "right 50% of the time at a mean confidence of 0.90\n  (n=300)" in second
    assert "(n=134)" not in second and "(n=100)" in second  # sideways untouched


def test_a_prompt_without_such_sections_gets_one_new_section() -> None:
    rules = [EvidenceRule("confidence_cap", "confidence", "- A", "- A rule."),
             EvidenceRule("tie_break", "decision", "- B", "- B rule.")]
    plain = "You are a trader. Answer BUY, SELL or HOLD.\n"
    assert apply_rules(plain, rules) == (
        "You are a trader. Answer BUY, SELL or HOLD.\n\n"
        "## Rules from your track record\n\n- A rule.\n- B rule.\n")
    # a heading inside fenced code is not a section
    with_output = "Trade.\n\n## Output\n\n```\n## Confidence rules\n```\n"
    assert apply_rules(with_output, rules) == (
        "Trade.\n\n## Rules from your track record\n\n- A rule.\n- B rule.\n\n"
        "## Output\n\n```\n## Confidence rules\n```\n")


# -- the heuristic engine end to end ------------------------------------------------------------


def record(tracker: DecisionTracker, when: datetime, condition: str, action: str,
           confidence: float, value: float, rsi: float, macd: float) -> None:
    context = {"symbol": "BTCUSDT", "price": 64000.0, "market_condition": condition,
               "indicators": {"rsi_14": rsi, "macd_hist": macd}}
    decision = tracker.track_decision(
        session_id="planted", symbol="BTCUSDT", timestamp=when, action=action,
        confidence=confidence, reasoning="planted", market_condition=condition,
        context=context,
        agent_outputs=[{"agent": "MarketAnalyst", "prompt_sha": None, "action": action,
                        "confidence": confidence, "risk_level": "LOW",
                        "reasoning": "planted"}])
    tracker.track_decision_outcome(decision, "return_24h", value, details={"band": 0.005})


def plant(tracker: DecisionTracker) -> None:
    """40 volatile BUYs at confidence 0.9, 10 of them right; 12 sideways BUY/SELL pairs half
    an hour apart on RSI 48-51 whose 24 h return stayed inside the HOLD band."""
    start = UNTIL - timedelta(days=20)
    for n in range(40):
        record(tracker, start + timedelta(hours=6 * n), "volatile", "BUY", 0.9,
               0.03 if n % 4 == 0 else -0.03, 60.0, 5.0)
    for n in range(12):
        when = start + timedelta(hours=6 * n + 3)
        for action, later in (("BUY", 0), ("SELL", 30)):
            record(tracker, when + timedelta(minutes=later), "sideways", action, 0.7, 0.002,
                   48.0 + n % 4, -1.5)


@pytest.fixture
def engine_ws(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "PROMPTLOOP_DATABASE_URL",
                 "PROMPTLOOP_MODEL"):
        monkeypatch.delenv(name, raising=False)
    return workspace


def test_heuristic_engine_applies_the_evidence(engine_ws: Path, database_url: str) -> None:
    tracker = DecisionTracker(database_url)
    plant(tracker)
    optimizer = AgentPromptOptimizer(load_workspace(engine_ws), tracker=tracker)
    try:
        proposal = optimizer.propose("MarketAnalyst", days=30, until=UNTIL)
        assert proposal.engine == "heuristic"
        [candidate] = proposal.candidates
        assert candidate.passed, [g.to_dict() for g in candidate.gates]
        assert [g.name for g in candidate.gates] == ["placeholders", "slots", "size", "scores",
                                                     "change", "taint"]
        text = candidate.text or ""
        flat = text.replace("\n  ", " ")
        assert ("- In `volatile` markets your calls were right 25% of the time at a mean "
                "confidence of 0.90 (n=40): do not exceed confidence 0.25 when "
                "`market_condition` is `volatile`.") in flat
        assert ("- Tie-break between BUY and SELL (when `market_condition` is `sideways` and "
                "`rsi_14` is between 45 and 55): answer HOLD. On 12 pairs of opposite calls you "
                "made within an hour, HOLD would have been right 100% of the time, your calls "
                "0% (n=24).") in flat
        assert "If the signals seem mixed, answer HOLD." in text  # the offline rewrite too
        assert not SLOT.search(text) and "(define:" not in text
        assert candidate.diagnosis.startswith(
            "Add 2 rule(s) from the track record, reword the prompt\n")
        sha = optimizer.apply(proposal)

        repo = PromptRepo(load_workspace(engine_ws))
        assert repo.read("MarketAnalyst").text == text and repo.read("MarketAnalyst").sha == sha
        repo.close()
        again = optimizer.propose("MarketAnalyst", days=30, until=UNTIL)
        assert again.best is None and again.candidates[0].text is None  # nothing to add twice
    finally:
        optimizer.close()
        tracker.close()


def test_heuristic_engine_without_evidence_only_rewords(engine_ws: Path, database_url: str
                                                        ) -> None:
    tracker = DecisionTracker(database_url)
    optimizer = AgentPromptOptimizer(load_workspace(engine_ws), tracker=tracker)
    try:
        proposal = optimizer.propose("MarketAnalyst", days=30, until=UNTIL)
        [candidate] = proposal.candidates
        assert candidate.passed
        assert candidate.diagnosis.startswith("Heuristic rewrite of the prompt's wording\n")
        assert "track record" not in (candidate.text or "")
    finally:
        optimizer.close()
        tracker.close()


def test_evidence_stops_where_the_held_out_cases_begin(engine_ws: Path, database_url: str
                                                       ) -> None:
    from optimizer.proposal import HoldOut, Proposal

    tracker = DecisionTracker(database_url)
    plant(tracker)  # every planted call is from the last 20 days before UNTIL
    optimizer = AgentPromptOptimizer(load_workspace(engine_ws), tracker=tracker)
    try:
        proposal = Proposal(run_id="r", agent="MarketAnalyst", engine="heuristic", model=None,
                            days=30, started=UNTIL)
        block, cases = optimizer._evidence(proposal, UNTIL)
        assert block is not None and block["with_outcome"] == 64 and len(cases) > 12
        proposal.holdout = HoldOut(UNTIL - timedelta(days=21), [], [])
        block, cases = optimizer._evidence(proposal, UNTIL)
        assert block is not None and block["with_outcome"] == 0 and cases == []
    finally:
        optimizer.close()
        tracker.close()
