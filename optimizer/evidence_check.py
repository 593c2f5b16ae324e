"""The offline check of the heuristic engine's rules, on what happened after the time cut.

``optimize --engine heuristic`` has no LLM to replay the agent, so what it may apply is
bounded by what it can check offline (issue: an evidence-bound offline engine):

- wording edits (``heuristic_rewrite(..., behaviour=False)``): applied; they leave every
  instruction as it was (optimizer/rewrite_tables.py);
- a confidence cap (optimizer/evidence.py, derived from the calls BEFORE the cut only): the
  agent's recorded calls AFTER the cut are re-scored with their recorded confidence capped
  as the rule says (in the rule's market condition, or every call for an overall cap). The
  cap is kept only when the Brier score AND the ECE (10 equal-width bins, as ``analyze``) of
  the agent's held-out calls both fall; otherwise it is dropped. Fewer than MIN_HELD_OUT
  held-out calls with an outcome in the rule's scope: no verdict, the cap is proposed, not
  applied;
- an action rule (the tie-break, "answer HOLD", and every behaviour edit of the rewrite):
  what the agent would have answered under it cannot be known without replaying the agent,
  so it is proposed in the critique, never applied by this engine.

Everything is reported as one :class:`~optimizer.gates.GateResult` named
``offline-evidence`` (the cut, the counts, Brier and ECE before/after per cap, what was
proposed), shown with the other gates in text, ``--json`` and the commit trailers; and in
the critique (:func:`heuristic_diagnosis`). No rule from the track record: the gate says
so, with the counts. Pure functions over recorded data: no database, no model, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from optimizer.evidence import EvidenceRule
from optimizer.gates import GateResult
from tracker.rules import ACTIONS, is_correct

if TYPE_CHECKING:
    from tracker.analysis.model import Block

__all__ = [
    "Evidence",
    "HeldOutCall",
    "MIN_HELD_OUT",
    "RuleCheck",
    "check_rules",
    "evidence_gate",
    "heuristic_diagnosis",
    "held_out_calls",
]

MIN_HELD_OUT = 10  # held-out calls with an outcome in a cap's scope, for a verdict
MAX_LISTED = 20  # lines per list in the critique; a huge prompt must not make a huge critique
BINS = 10
GATE = "offline-evidence"
ACTION_RULE = "an action rule: checking it needs the agent replayed by an LLM"


@dataclass(frozen=True)
class HeldOutCall:
    """One of the agent's recorded calls after the cut, with its outcome."""

    condition: str | None
    confidence: float
    correct: bool


@dataclass
class Evidence:
    """What the engine reads: the analysis block and failure cases before ``cut`` (the
    evidence), and the agent's calls after it (held out, to check the caps on)."""

    cut: datetime
    block: Block | None
    cases: list[Any]
    held_out: list[HeldOutCall]

    @property
    def evidence_calls(self) -> int:
        return self.block.with_outcome if self.block is not None else 0


@dataclass(frozen=True)
class RuleCheck:
    """A rule's verdict: ``kept`` (applied), ``dropped`` (worse after the cut),
    ``unchecked`` (too few held-out calls) or ``proposed`` (an action rule)."""

    rule: EvidenceRule
    verdict: str
    numbers: dict[str, Any] = field(default_factory=dict)

    @property
    def applied(self) -> bool:
        return self.verdict == "kept"

    def describe(self) -> str:
        n = self.numbers
        if self.verdict == "proposed":
            return f"{_name(self.rule)}: proposed, not applied ({ACTION_RULE})"
        if self.verdict == "unchecked":
            return (f"{_name(self.rule)}: proposed, not applied (only {n['in_scope']} held-out "
                    f"call(s) in its scope, {MIN_HELD_OUT} needed)")
        return (f"{_name(self.rule)}: {self.verdict}, {n['in_scope']} held-out call(s) in "
                f"scope, Brier {n['brier_before']:.3f} -> {n['brier_after']:.3f}, ECE "
                f"{n['ece_before']:.3f} -> {n['ece_after']:.3f}")

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule.summary, "kind": self.rule.kind, "scope": self.rule.scope,
                "cap": self.rule.cap, "verdict": self.verdict, **self.numbers}


def held_out_calls(records: Iterable[Any], agent: str, cut: datetime, outcome_type: str,
                   band: float) -> list[HeldOutCall]:
    """The agent's calls after ``cut`` that have an ``outcome_type`` outcome, from
    ``DecisionTracker.decisions`` records (a decision's ``market_condition`` is its scope)."""
    calls = []
    for record in records:
        outcome = record.outcomes.get(outcome_type)
        if _aware(record.timestamp) <= cut or not outcome or outcome.get("value") is None:
            continue
        for output in record.outputs or []:
            confidence, action = output.get("confidence"), output.get("action")
            if output.get("agent") != agent or confidence is None or action not in ACTIONS:
                continue
            calls.append(HeldOutCall(record.market_condition, float(confidence),
                                     is_correct(action, float(outcome["value"]), band)))
    return calls


def check_rules(rules: Sequence[EvidenceRule], calls: Sequence[HeldOutCall]
                ) -> list[RuleCheck]:
    """Each rule's verdict on the held-out calls (module doc)."""
    return [_check(rule, calls) for rule in rules]


def _check(rule: EvidenceRule, calls: Sequence[HeldOutCall]) -> RuleCheck:
    if rule.kind != "confidence_cap" or rule.cap is None:
        return RuleCheck(rule, "proposed")
    in_scope = sum(1 for call in calls if _in_scope(rule, call))
    if in_scope < MIN_HELD_OUT:
        return RuleCheck(rule, "unchecked", {"in_scope": in_scope})
    before = [(c.confidence, c.correct) for c in calls]
    after = [(_capped(rule, c), c.correct) for c in calls]
    numbers = {"in_scope": in_scope, "held_out": len(calls),
               "brier_before": brier(before), "brier_after": brier(after),
               "ece_before": ece(before), "ece_after": ece(after)}
    better = (numbers["brier_after"] < numbers["brier_before"]
              and numbers["ece_after"] < numbers["ece_before"])
    return RuleCheck(rule, "kept" if better else "dropped", numbers)


def _in_scope(rule: EvidenceRule, call: HeldOutCall) -> bool:
    return rule.scope is None or call.condition == rule.scope


def _capped(rule: EvidenceRule, call: HeldOutCall) -> float:
    cap = cast(float, rule.cap)  # only confidence-cap rules are checked here
    return min(call.confidence, cap) if _in_scope(rule, call) else call.confidence


def brier(pairs: Sequence[tuple[float, bool]]) -> float:
    """Mean squared error of the confidence against the 0/1 outcome."""
    return round(sum((p - y) ** 2 for p, y in pairs) / len(pairs), 4)


def ece(pairs: Sequence[tuple[float, bool]]) -> float:
    """Expected calibration error over BINS equal-width bins (1.0 in the last)."""
    bins: dict[int, list[tuple[float, bool]]] = {}
    for p, y in pairs:
        bins.setdefault(min(int(p * BINS), BINS - 1), []).append((p, y))
    gap = sum(abs(sum(p for p, _ in b) - sum(y for _, y in b)) for b in bins.values())
    return round(gap / len(pairs), 4)


# -- what is reported -------------------------------------------------------------------------


def evidence_gate(evidence: Evidence, checks: Sequence[RuleCheck], proposed: Sequence[str],
                  current: str, candidate: str) -> GateResult:
    """The ``offline-evidence`` gate: passes when the candidate adds no rule that was not
    kept (dropped, unchecked and action rules are proposed, never in the candidate)."""
    counts = (f"cut {evidence.cut.isoformat(timespec='minutes')}: {evidence.evidence_calls} "
              f"call(s) with an outcome before it (the evidence), {len(evidence.held_out)} "
              "after it (held out)")
    if checks:
        detail = f"{counts}; " + "; ".join(check.describe() for check in checks)
    else:
        detail = f"{counts}; no rule from the track record (no evidence), wording edits only"
    kept = sum(check.applied for check in checks)
    summary = (f"{kept} of {len(checks)} rule(s) kept; {evidence.evidence_calls} before, "
               f"{len(evidence.held_out)} after the cut {evidence.cut.isoformat()}")
    data = {"cut": evidence.cut.isoformat(), "evidence_calls": evidence.evidence_calls,
            "held_out_calls": len(evidence.held_out), "min_held_out": MIN_HELD_OUT,
            "rules": [check.to_dict() for check in checks],
            "proposed": list(proposed[:MAX_LISTED]), "proposed_count": len(proposed),
            "summary": summary}
    added = [check.describe() for check in checks if not check.applied
             and _holds(candidate, check.rule) and not _holds(current, check.rule)]
    if added:
        detail = f"the candidate adds a rule that was not kept: {'; '.join(added)}"
    return GateResult(GATE, not added, detail, data)


def _holds(text: str, rule: EvidenceRule) -> bool:
    return rule.line in text.replace("\n  ", " ")  # rules are wrapped with a 2-space indent


def heuristic_diagnosis(reworded: bool, checks: Sequence[RuleCheck], proposed: Sequence[str],
                        left: Sequence[str], evidence: Evidence) -> str:
    """The heuristic engine's critique: what it applies (with the numbers), what it only
    proposes and why, and what it leaves for a person (``left``: analyzer suggestions)."""
    kept = [check for check in checks if check.applied]
    if kept:
        head = (f"Add {len(kept)} rule(s) from the track record"
                + (", reword the prompt" if reworded else ""))
    elif reworded:
        head = "Reword the prompt: wording only, nothing that changes what the agent decides"
    else:
        head = "No change the offline engine can justify"
    parts = [head]
    if kept:
        parts.append(f"From the track record (before {_day(evidence.cut)}), checked on the "
                     "calls after it:\n" + "\n".join(f"- {c.rule.summary} ({c.describe()})"
                                                     for c in kept))
    if not checks:
        parts.append(f"No evidence: {evidence.evidence_calls} call(s) with an outcome before "
                     f"{_day(evidence.cut)}; no rule from the track record.")
    held = [f"{c.rule.summary} ({c.describe()})" for c in checks if not c.applied]
    held += proposed
    if held:
        parts.append("Proposed, not applied (each would change what the agent decides; no "
                     "offline evidence confirms it):\n" + _listed(held))
    if left:
        parts.append("Left for a person (the engine inserts no <N> slot to fill):\n"
                     + _listed(left))
    return "\n\n".join(parts)


def _listed(lines: Sequence[str]) -> str:
    shown = [f"- {line}" for line in lines[:MAX_LISTED]]
    more = len(lines) - MAX_LISTED
    return "\n".join(shown + ([f"- ... and {more} more"] if more > 0 else []))


def _name(rule: EvidenceRule) -> str:
    if rule.kind == "tie_break":
        return "tie-break between BUY and SELL"
    where = f" in `{rule.scope}`" if rule.scope else ""
    return f"confidence cap {rule.cap:g}{where}"


def _day(moment: datetime) -> str:
    return moment.isoformat(timespec="minutes")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
