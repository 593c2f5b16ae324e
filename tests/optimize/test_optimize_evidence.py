"""Evidence -> prompt rules (optimizer/evidence.py) on hand-made analysis blocks and failure
cases, and the heuristic engine end to end in process on a real tracker with planted
overconfident and self-contradicting decisions."""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
from collections.abc import Sequence
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
from optimizer.evidence_check import HeldOutCall, brier, check_rules, ece
from prompt_repo import PromptRepo, load_workspace
from tracker import DecisionTracker
from tracker.analysis.model import Block, Calibration, CalibrationBin, ConditionPart, Scope
from tracker.contradiction import DEFAULT_RULE, ContradictionRule
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
    "between 45 and 55): answer HOLD. On 10 pairs of opposite calls you made on similar inputs "
    "within 24 hours, HOLD would have been right 100% of the time, your calls 0% (n=20).")


def condition(n: int, accuracy: float, confidence: float) -> ConditionPart:
    return ConditionPart(decisions=n, with_outcome=n, accuracy=accuracy, avg_return=0.0,
                         mean_confidence=confidence, actions={"BUY": n, "SELL": 0, "HOLD": 0})


def analysis_block(conditions: dict[str, ConditionPart],
                   bins: Sequence[CalibrationBin] = ()) -> Block:
    """An analysis block holding what the rules read: the conditions and the bins."""
    calibration = Calibration(brier=None, ece=None, count=0, mean_confidence=None,
                              accuracy=None, gap=None, bins=tuple(bins), verdict="",
                              warnings=())
    return Block(decisions=0, with_outcome=0, accuracy=None, avg_return=None,
                 mean_confidence=None, errors=0, actions={}, calibration=calibration,
                 by_market_condition=conditions, by_prompt_version={}, over_time=(),
                 inconsistencies=(), inconsistency_counts={},
                 inconsistency_scope=Scope(0, 0), suggestions=())


BLOCK = analysis_block({
    "sideways": condition(100, 0.41, 0.66),
    "volatile": condition(134, 0.2761, 0.9321),
    "bullish": condition(29, 0.10, 0.90),  # too few outcomes to conclude
    "bearish": condition(200, 0.55, 0.62),  # confidence close to accuracy
    "unknown": condition(500, 0.20, 0.90),  # no condition to name in a rule
})


def bin_row(lo: float, count: int, confidence: float | None, accuracy: float | None
            ) -> CalibrationBin:
    return CalibrationBin(lo=lo, hi=round(lo + 0.1, 1), count=count, decisions=count,
                          mean_confidence=confidence, accuracy=accuracy)


def pair(n: int, *, condition: str, rsi: float, macd: float, returns: tuple[float, float],
         actions: tuple[str, str] = ("BUY", "SELL"), flat: bool = False) -> Case:
    """A contradiction case: two calls of MarketAnalyst, half an hour apart."""
    when = UNTIL - timedelta(days=n + 1)

    def member(action: str, value: float) -> dict[str, Any]:
        context = ({"rsi": rsi, "macd_hist": macd} if flat
                   else {"indicators": {"rsi_14": rsi, "macd_hist": macd}})
        return {"context": context,
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
    unknown = {"unknown": condition(170, 0.4, 0.8)}
    [rule] = confidence_caps(analysis_block(unknown, bins))
    assert rule.line == ("- Your calls at confidence 0.8 or above were right 32% of the time "
                         "(n=100): do not exceed confidence 0.35.")
    assert confidence_caps(analysis_block(unknown, bins[:8])) == []


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
        "below 0). On 12 pairs of opposite calls you made on similar inputs within 24 hours, "
        "that rule would have been right 100% of the time, your calls 50% (n=24).")


def test_the_tie_break_names_the_window_its_pairs_were_found_in() -> None:
    rule = tie_break(hold_pairs(10), ContradictionRule(window_hours=1))
    assert rule is not None and "opposite calls you made on similar inputs within an hour," in (
        rule.line)
    flat = [pair(n, condition="sideways", rsi=47.0 + n % 7, macd=(-1) ** n * 3.0,
                 returns=(0.001, -0.002), flat=True) for n in range(10)]
    assert tie_break(flat) == tie_break(hold_pairs(10))  # flat contexts read alike


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
    assert derive_rules(analysis_block({})) == []


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
    later = analysis_block({"volatile": condition(300, 0.5, 0.9)})
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


# -- the offline check on the calls after the cut ----------------------------------------------


def held(condition: str, confidence: float, right: int, wrong: int) -> list[HeldOutCall]:
    return ([HeldOutCall(condition, confidence, True)] * right
            + [HeldOutCall(condition, confidence, False)] * wrong)


def test_a_cap_is_kept_only_when_brier_and_ece_fall_after_the_cut() -> None:
    volatile, sideways = confidence_caps(BLOCK)  # caps 0.3 and 0.45
    calls = held("volatile", 0.9, 3, 9) + held("sideways", 0.7, 9, 3) + held("bullish", 0.6, 4, 2)
    kept, dropped = check_rules([volatile, sideways], calls)
    assert kept.verdict == "kept" and kept.applied
    # Brier (3 x 0.01 + 9 x 0.81 + 9 x 0.09 + 3 x 0.49 + 4 x 0.16 + 2 x 0.36) / 30, then the
    # volatile calls at 0.3: 3 x 0.49 + 9 x 0.09; ECE (|10.8 - 3| + |8.4 - 9| + |3.6 - 4|) / 30
    assert kept.numbers == {"in_scope": 12, "held_out": 30, "brier_before": 0.3653,
                            "brier_after": 0.1973, "ece_before": 0.2933, "ece_after": 0.0533}
    assert dropped.verdict == "dropped" and not dropped.applied  # right 75% after the cut
    assert dropped.numbers["brier_after"] > dropped.numbers["brier_before"]
    assert dropped.describe() == ("confidence cap 0.45 in `sideways`: dropped, 12 held-out "
                                  "call(s) in scope, Brier 0.365 -> 0.400, ECE 0.293 -> 0.393")
    [unchecked] = check_rules([volatile], held("volatile", 0.9, 2, 7))
    assert unchecked.verdict == "unchecked" and unchecked.numbers == {"in_scope": 9}
    [tie] = check_rules([tie_break(hold_pairs(10))], calls)
    assert tie.verdict == "proposed" and "needs the agent replayed by an LLM" in tie.describe()


def test_brier_and_ece_as_analyze_computes_them() -> None:
    pairs = [(0.9, True), (0.9, False), (0.2, False), (1.0, True)]
    assert brier(pairs) == round((0.01 + 0.81 + 0.04 + 0.0) / 4, 4)
    assert ece(pairs) == round((abs(1.8 - 1) + abs(0.2 - 0) + abs(1.0 - 1)) / 4, 4)


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


CUT = UNTIL - timedelta(days=10)  # the default cut of a 30-day window: its last third held out


def plant(tracker: DecisionTracker) -> None:
    """Over the 30 days before UNTIL: 60 volatile BUYs at confidence 0.9, one in four right,
    before and after the cut alike; 40 bullish BUYs at 0.9 one in four right before the cut,
    and 15 after it all right (a pattern that held only early); 12 sideways BUY/SELL pairs
    half an hour apart on RSI 48-51, before the cut, whose 24 h return stayed in the band."""
    start = UNTIL - timedelta(days=30)
    for n in range(60):
        record(tracker, start + timedelta(hours=12 * n + 1), "volatile", "BUY", 0.9,
               0.03 if n % 4 == 0 else -0.03, 60.0, 5.0)
    for n in range(40):
        record(tracker, start + timedelta(hours=12 * n + 2), "bullish", "BUY", 0.9,
               0.03 if n % 4 == 0 else -0.03, 65.0, 4.0)
    for n in range(15):
        record(tracker, CUT + timedelta(hours=12 * n + 2), "bullish", "BUY", 0.9, 0.03, 65.0,
               4.0)
    for n in range(12):
        when = start + timedelta(hours=12 * n + 5)
        for action, later in (("BUY", 0), ("SELL", 30)):
            record(tracker, when + timedelta(minutes=later), "sideways", action, 0.7, 0.002,
                   48.0 + n % 4, -1.5)


@pytest.fixture
def engine_ws(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "PROMPTLOOP_DATABASE_URL",
                 "PROMPTLOOP_MODEL"):
        monkeypatch.delenv(name, raising=False)
    return workspace


VOLATILE_RULE = ("- In `volatile` markets your calls were right 25% of the time at a mean "
                 "confidence of 0.90 (n=40): do not exceed confidence 0.25 when "
                 "`market_condition` is `volatile`.")


def test_heuristic_engine_applies_only_the_caps_the_later_calls_confirm(
        engine_ws: Path, database_url: str) -> None:
    tracker = DecisionTracker(database_url)
    plant(tracker)
    optimizer = AgentPromptOptimizer(load_workspace(engine_ws), tracker=tracker)
    try:
        proposal = optimizer.propose("MarketAnalyst", days=30, until=UNTIL)
        assert proposal.engine == "heuristic"
        [candidate] = proposal.candidates
        assert candidate.passed, [g.to_dict() for g in candidate.gates]
        assert [g.name for g in candidate.gates] == [
            "placeholders", "slots", "size", "scores", "change", "taint",
            "offline-evidence"]
        text = candidate.text or ""
        # the example prompt plus the one confirmed cap: no other line changed
        assert text.replace("\n  ", " ") == EXAMPLE.read_text(encoding="utf-8").replace(
            "\n  ", " ").replace("; MEDIUM otherwise.\n",
                                 f"; MEDIUM otherwise.\n\n{VOLATILE_RULE}\n")
        gate = candidate.gate("offline-evidence")
        assert gate is not None and gate.passed
        assert gate.data["cut"] == CUT.isoformat()
        assert (gate.data["evidence_calls"], gate.data["held_out_calls"]) == (104, 35)
        verdicts = {(r["kind"], r["scope"]): r["verdict"] for r in gate.data["rules"]}
        assert verdicts == {("confidence_cap", "bullish"): "dropped",
                            ("confidence_cap", "volatile"): "kept",
                            ("tie_break", None): "proposed"}
        volatile = next(r for r in gate.data["rules"] if r["scope"] == "volatile")
        assert volatile["brier_after"] < volatile["brier_before"]
        assert volatile["ece_after"] < volatile["ece_before"]
        assert gate.data["proposed"] == ["line 40: 'use your judgement' -> 'answer HOLD'"]
        assert candidate.diagnosis.startswith("Add 1 rule(s) from the track record\n")
        assert ("- In `bullish` markets your calls were right 25% of the time at a mean "
                "confidence of 0.90 (n=40): do not exceed confidence 0.25 when "
                "`market_condition` is `bullish`. (confidence cap 0.25 in `bullish`: dropped, "
                "15 held-out call(s) in scope") in candidate.diagnosis
        assert ("`rsi_14` is between 45 and 55): answer HOLD. On 12 pairs of opposite calls you "
                "made on similar inputs within 24 hours, HOLD would have been right 100% of the "
                "time, your calls 0% (n=24). (tie-break between BUY and SELL: proposed, not "
                "applied (an action rule: checking it needs the agent replayed by an LLM))"
                ) in candidate.diagnosis
        assert "- line 40: 'use your judgement' -> 'answer HOLD'" in candidate.diagnosis
        sha = optimizer.apply(proposal)

        repo = PromptRepo(load_workspace(engine_ws))
        assert repo.read("MarketAnalyst").text == text and repo.read("MarketAnalyst").sha == sha
        [version] = [v for v in repo.log("MarketAnalyst") if v.sha == sha]
        assert version.trailers["Promptloop-Offline-Evidence"] == (
            f"1 of 3 rule(s) kept; 104 before, 35 after the cut {CUT.isoformat()}")
        repo.close()
        again = optimizer.propose("MarketAnalyst", days=30, until=UNTIL)
        assert again.best is None and again.candidates[0].text is None  # nothing to add twice
    finally:
        optimizer.close()
        tracker.close()


def test_evidence_stops_at_the_cut_and_the_check_starts_after_it(
        engine_ws: Path, database_url: str) -> None:
    from optimizer.heuristic_engine import gather_evidence
    from optimizer.proposal import HoldOut, Proposal

    tracker = DecisionTracker(database_url)
    plant(tracker)
    try:
        proposal = Proposal(run_id="r", agent="MarketAnalyst", engine="heuristic", model=None,
                            days=30, started=UNTIL)
        evidence = gather_evidence(tracker, proposal, UNTIL, lambda line: None, DEFAULT_RULE)
        assert evidence.cut == CUT
        assert evidence.block is not None and evidence.evidence_calls == 104
        assert len(evidence.held_out) == 35 and len(evidence.cases) > 12
        # a replay gate's hold-out moves the cut: here before every planted call
        proposal.holdout = HoldOut(UNTIL - timedelta(days=31), [], [])
        evidence = gather_evidence(tracker, proposal, UNTIL, lambda line: None, DEFAULT_RULE)
        assert evidence.evidence_calls == 0 and evidence.cases == []
        assert len(evidence.held_out) == 139
    finally:
        tracker.close()


# -- no evidence: wording only ------------------------------------------------------------------

VAGUE_TRADER = """You are MarketAnalyst. Answer BUY, SELL or HOLD with a confidence.

## Rules
You should try to buy when RSI is below 30. Please note that you need to sell when RSI is
above 70.
You may answer SELL when MACD is very negative.
If the signals seem mixed, use your judgement.
Usually keep the confidence below 0.8.

## Output
Reply with JSON: {"action": "BUY" | "SELL" | "HOLD", "confidence": 0.0-1.0}.
"""
# Words that carry no instruction: deleting them leaves what the agent is told to decide.
NO_INSTRUCTION = {"you", "should", "try", "to", "please", "note", "that", "need", "basically"}
DECIDING = re.compile(r"\b(?:BUY|SELL|HOLD)\b|\d+(?:\.\d+)?|\b(?:if|when|unless|otherwise|not|"
                      r"never|always|only|above|below|may|usually|very|judgement)\b",
                      re.IGNORECASE)


def assert_same_decisions(old: str, new: str) -> None:
    """What the agent is told to decide is the same: no word added, only words that carry no
    instruction removed, and every action, number and condition word kept."""
    old_words, new_words = Counter(old.lower().split()), Counter(new.lower().split())
    assert not new_words - old_words, new_words - old_words
    assert set(old_words - new_words) <= NO_INSTRUCTION, old_words - new_words
    assert Counter(m.lower() for m in DECIDING.findall(old)) == Counter(
        m.lower() for m in DECIDING.findall(new))


def commit_prompt(root: Path, agent: str, text: str) -> None:
    (root / "prompts" / f"{agent}.md").write_text(text, encoding="utf-8")
    subprocess.run(["git", "-C", str(root), "commit", "-qam", f"{agent}: vague"], check=True)


def test_heuristic_engine_without_evidence_only_rewords(engine_ws: Path, database_url: str
                                                        ) -> None:
    commit_prompt(engine_ws, "MarketAnalyst", VAGUE_TRADER)
    tracker = DecisionTracker(database_url)
    optimizer = AgentPromptOptimizer(load_workspace(engine_ws), tracker=tracker)
    try:
        proposal = optimizer.propose("MarketAnalyst", days=30, until=UNTIL)
        [candidate] = proposal.candidates
        assert candidate.passed
        text = candidate.text or ""
        assert text != VAGUE_TRADER
        assert_same_decisions(VAGUE_TRADER, text)
        assert "Buy when RSI is below 30. Sell when RSI is\nabove 70." in text
        assert candidate.diagnosis.startswith("Reword the prompt: wording only, nothing that "
                                              "changes what the agent decides\n")
        assert "No evidence: 0 call(s) with an outcome before" in candidate.diagnosis
        gate = candidate.gate("offline-evidence")
        assert gate is not None and gate.passed
        assert gate.detail.endswith("0 call(s) with an outcome before it (the evidence), 0 "
                                    "after it (held out); no rule from the track record (no "
                                    "evidence), wording edits only")
        assert gate.data["proposed"] == [
            "line 6: delete 'You may'", "line 6: delete 'very'",
            "line 7: 'use your judgement' -> 'answer HOLD'", "line 8: delete 'Usually'",
            "add a default rule: 'If no rule above applies, answer HOLD.'"]
    finally:
        optimizer.close()
        tracker.close()


def test_assert_same_decisions_catches_a_behaviour_change() -> None:
    with pytest.raises(AssertionError):
        assert_same_decisions("If mixed, use your judgement.", "If mixed, answer HOLD.")
    with pytest.raises(AssertionError):
        assert_same_decisions("You may answer SELL.", "Answer SELL.")


def test_auto_apply_on_a_fresh_workspace_changes_no_decision(run_cli, tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    assert run_cli("init", str(root)).returncode == 0
    commits = _git(root, "rev-list", "--count", "HEAD")
    for agent in ("MarketAnalyst", "RiskManager", "TradingAdvisor"):
        before = (root / "prompts" / f"{agent}.md").read_text(encoding="utf-8")
        result = run_cli("optimize", "--agent", agent, "--auto-apply", "--json", cwd=root)
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        assert data["engine"] == "heuristic" and data["applied"] is False
        [gate] = data["gates"]
        assert gate["name"] == "offline-evidence" and gate["data"]["proposed"]
        assert (root / "prompts" / f"{agent}.md").read_text(encoding="utf-8") == before
    assert _git(root, "rev-list", "--count", "HEAD") == commits  # the examples: nothing to do

    commit_prompt(root, "MarketAnalyst", VAGUE_TRADER)
    result = run_cli("optimize", "--agent", "MarketAnalyst", "--auto-apply", "--json", cwd=root)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["applied"] is True
    assert_same_decisions(VAGUE_TRADER, (root / "prompts" / "MarketAnalyst.md").read_text(
        encoding="utf-8"))
    assert "Promptloop-Offline-Evidence: 0 of 0 rule(s) kept; 0 before, 0 after the cut" in (
        _git(root, "log", "-1", "--format=%B"))


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_the_critique_of_a_long_prompt_lists_at_most_twenty_lines_per_list() -> None:
    from optimizer.evidence_check import Evidence, evidence_gate, heuristic_diagnosis

    evidence = Evidence(CUT, None, [], [])
    proposed = [f"line {n}: delete 'usually'" for n in range(1, 51)]
    left = [f"line {n}: Split it." for n in range(1, 23)]
    diagnosis = heuristic_diagnosis(False, [], proposed, left, evidence)
    lines = diagnosis.splitlines()
    assert "- line 20: delete 'usually'" in lines and "- line 21: delete 'usually'" not in lines
    assert "- ... and 30 more" in lines and "- ... and 2 more" in lines
    gate = evidence_gate(evidence, [], proposed, "a", "a")
    assert len(gate.data["proposed"]) == 20 and gate.data["proposed_count"] == 50
