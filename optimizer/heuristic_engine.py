"""The ``heuristic`` engine: no key, no network.

Its one candidate is the analyzer's offline rewrite (``optimizer.suggest.heuristic_rewrite``
without slots, so nothing is left for a person to fill in) plus the rules the agent's track
record supports (``optimizer.evidence``: caps on confidence where the analysis shows
overconfidence, a tie-break where contradiction pairs' outcomes favour one), then the same
gates as the critic's candidates (optimizer/judging.py). Walk-forward: the rules are
derived from the decisions before the time cut and checked on the calls after it, so the
engine never learns from what checks it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from optimizer.judging import Judge, Progress
from optimizer.proposal import Candidate, Proposal

if TYPE_CHECKING:
    from optimizer.evidence_check import Evidence
    from tracker.contradiction import ContradictionRule
    from tracker.store import DecisionTracker

__all__ = ["heuristic_candidate", "gather_evidence", "EVIDENCE_CASES", "HELD_OUT_DECISIONS"]

EVIDENCE_CASES = 200  # failure cases the engine reads for contradiction pairs
HELD_OUT_DECISIONS = 5000  # the newest decisions after the cut its caps are checked on


def heuristic_candidate(proposal: Proposal, tracker: DecisionTracker, judge: Judge,
                        until: datetime | None, contradiction: ContradictionRule) -> Candidate:
    """Wording edits of the analyzer's offline rewrite (no slots, nothing that changes
    what the agent decides), plus the confidence caps the track record before the cut
    supports and the calls after it confirm (optimizer/evidence_check.py); every other
    change is proposed in the critique, never applied."""
    from optimizer.analyzer import analyze
    from optimizer.evidence import apply_rules, derive_rules
    from optimizer.evidence_check import check_rules, evidence_gate, heuristic_diagnosis
    from optimizer.suggest import finding_suggestions, heuristic_rewrite, unified_diff

    judge.progress("Rewriting the wording with the heuristic engine")
    rewrite = heuristic_rewrite(proposal.current, slots=False, behaviour=False)
    evidence = gather_evidence(tracker, proposal, until, judge.progress, contradiction)
    checks = check_rules(derive_rules(evidence.block, evidence.cases, contradiction),
                         evidence.held_out)
    text = apply_rules(rewrite.text, [check.rule for check in checks if check.applied])
    gate = evidence_gate(evidence, checks, rewrite.proposed, proposal.current, text)
    left = finding_suggestions(analyze(text).findings)  # numbered as in the new text
    diagnosis = heuristic_diagnosis(rewrite.changed, checks, rewrite.proposed, left,
                                    evidence)
    if text == proposal.current:
        return Candidate(round=1, diagnosis=diagnosis, gates=[gate])
    candidate = Candidate(round=1, diagnosis=diagnosis,
                          diff=unified_diff(proposal.current, text, proposal.path or "prompt"))
    judge(proposal, candidate, text)
    candidate.gates.append(gate)
    return candidate


def gather_evidence(tracker: DecisionTracker, proposal: Proposal, until: datetime | None,
                    progress: Progress, contradiction: ContradictionRule) -> Evidence:
    """The evidence before the time cut (the agent's analysis block and failure cases)
    and its calls after it (held out). The cut is the replay gate's when it holds cases
    out, else ``time_cut`` of the window."""
    from optimizer.evidence_check import Evidence, held_out_calls
    from optimizer.walk_forward import time_cut
    from tracker.analysis import analyze_performance

    end = until or datetime.now(UTC)
    cut = proposal.holdout.since if proposal.holdout is not None else time_cut(
        end, proposal.days)
    before = max(1, math.ceil(proposal.days - (end - cut) / timedelta(days=1)))
    outcome_type, band = proposal.outcome_type, proposal.band
    progress("Deriving rules from the track record before the cut")
    cases = tracker.failure_cases(proposal.agent, days=before, limit=EVIDENCE_CASES,
                                  until=cut, outcome_type=outcome_type, band=band,
                                  contradiction=contradiction)
    report = analyze_performance(tracker.engine, [proposal.agent], before, until=cut,
                                 outcome_type=outcome_type, band=band, store_metrics=False,
                                 window_hours=contradiction.window_hours,
                                 rsi_tolerance=contradiction.rsi_tolerance)
    records = tracker.decisions(agent=proposal.agent, since=cut, until=end,
                                limit=HELD_OUT_DECISIONS)
    return Evidence(cut, report.agents.get(proposal.agent), list(cases),
                    held_out_calls(records, proposal.agent, cut, outcome_type, band))
