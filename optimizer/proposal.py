"""What one optimize run proposes, and how it is written down.

A :class:`Proposal` holds everything the run learned: the prompt and its sha, the scores
before, the failure cases shown to the critic, the cases held out for the replay gate,
the findings, and one :class:`Candidate` per round. The best candidate is the one with
the highest analyzer overall among those that passed every gate; ``shown`` is what the
preview displays (the best, or the most promising rejected one, so a user sees why).

Also here, as pure functions: the commit subject and trailers of an apply (the held-out
window and the replay verdict included), and the columns of an ``optimization_runs`` row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from optimizer.gates import GateResult

__all__ = [
    "Candidate",
    "HoldOut",
    "Proposal",
    "commit_subject",
    "commit_trailers",
    "SCORE_KEYS",
]

SCORE_KEYS = ("specificity", "clarity", "ambiguity", "overall")
SUBJECT_WIDTH = 60


@dataclass
class Candidate:
    """One round's outcome: a candidate text with its gates, or why there is none.

    ``text is None and error is None`` means the engine proposed no change.
    """

    round: int
    diagnosis: str = ""
    diff: str | None = None
    text: str | None = None
    scores: dict[str, float] | None = None
    gates: list[GateResult] = field(default_factory=list)
    repairs: int = 0
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.text is not None and bool(self.gates) and all(g.passed for g in self.gates)

    @property
    def overall(self) -> float:
        return self.scores["overall"] if self.scores else float("-inf")

    def gate(self, name: str) -> GateResult | None:
        return next((g for g in self.gates if g.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "passed": self.passed,
            "diagnosis": self.diagnosis,
            "diff": self.diff,
            "scores": self.scores,
            "gates": [g.to_dict() for g in self.gates],
            "repairs": self.repairs,
            "error": self.error,
        }


@dataclass
class HoldOut:
    """The decisions after the walk-forward cut, kept from the critic for the replay gate.

    ``since`` is the cut; ``failures`` and ``successes`` are the decisions replayed (all
    held-out decisions with an outcome, or a seeded stratified sample of ``population``).
    """

    since: datetime
    failures: list[Any]
    successes: list[Any]
    until: datetime | None = None
    population: int | None = None
    seed: int | None = None
    min_holdout: int = 0

    @property
    def cases(self) -> list[Any]:
        """The replayed decisions, oldest first."""
        return sorted([*self.failures, *self.successes], key=lambda c: (c.timestamp, c.case_id))

    @property
    def sampled(self) -> bool:
        return self.population is not None and self.population > len(self.cases)

    def describe(self) -> str:
        count = len(self.failures) + len(self.successes)
        which = (f"a seeded stratified sample of {count} of {self.population} (seed {self.seed})"
                 if self.sampled else f"{count}")
        return (f"{which} decision(s) after the cut {self.since.isoformat(timespec='minutes')} "
                f"({len(self.failures)} failure(s), {len(self.successes)} success(es)) are "
                "held out from the critic for the replay gate")

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "cut": self.since.isoformat(),
            "until": self.until.isoformat() if self.until else None,
            "decisions": self.population if self.population is not None
            else len(self.failures) + len(self.successes),
            "replayed": len(self.failures) + len(self.successes),
            "sampled": self.sampled,
            "seed": self.seed,
            "min_holdout": self.min_holdout,
            "failure_case_ids": [c.case_id for c in self.failures],
            "success_case_ids": [c.case_id for c in self.successes],
            "description": self.describe(),
        }

    def trailer(self) -> str:
        sample = (f"sample {len(self.cases)} of {self.population}, seed {self.seed}"
                  if self.sampled else "all replayed")
        return (f"cut {self.since.isoformat(timespec='minutes')}, "
                f"{len(self.failures) + len(self.successes)} decisions "
                f"({len(self.failures)} failures, {len(self.successes)} successes), {sample}")


@dataclass
class Proposal:
    """Everything one run found; filled in step by step, so an error row has what was known."""

    run_id: str
    agent: str
    engine: str
    model: str | None
    days: int
    started: datetime
    base_sha: str | None = None
    path: str | None = None
    current: str = ""
    scores_before: dict[str, float] | None = None
    failures: list[Any] = field(default_factory=list)
    holdout: HoldOut | None = None
    findings: list[str] = field(default_factory=list)
    analyzer_findings: list[str] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)
    outcome_type: str = "return_24h"
    band: float = 0.005
    plan: dict[str, Any] | None = None  # the budget plan (optimizer/replay_plan.py)

    @property
    def best(self) -> Candidate | None:
        passing = [c for c in self.candidates if c.passed]
        return max(passing, key=lambda c: (c.overall, -c.round)) if passing else None

    @property
    def shown(self) -> Candidate | None:
        with_text = [c for c in self.candidates if c.text is not None]
        if self.best or with_text:
            return self.best or max(with_text, key=lambda c: (c.overall, -c.round))
        return self.candidates[0] if self.candidates else None

    def to_dict(self) -> dict[str, Any]:
        shown = self.shown
        return {
            "run_id": self.run_id,
            "agent": self.agent,
            "engine": self.engine,
            "model": self.model,
            "days": self.days,
            "base_sha": self.base_sha,
            "prompt_path": self.path,
            "scores_before": self.scores_before,
            "scores_after": shown.scores if shown else None,
            "failure_cases": [_case_summary(c) for c in self.failures],
            "held_out": self.holdout.to_dict() if self.holdout else None,
            "findings": self.findings,
            "analyzer_findings": self.analyzer_findings,
            "critique": shown.diagnosis if shown else None,
            "diff": shown.diff if shown and shown.text is not None else None,
            "gates": [g.to_dict() for g in shown.gates] if shown else [],
            "passed": self.best is not None,
            "candidates": [c.to_dict() for c in self.candidates],
            "notes": self.notes,
            "usage": self.usage,
            "outcome_type": self.outcome_type,
            "band": self.band,
            "plan": self.plan,
        }

    def run_columns(self, status: str, *, result_sha: str | None = None,
                    error: str | None = None, note: str | None = None) -> dict[str, Any]:
        """The columns of this run's ``optimization_runs`` row."""
        shown = self.shown
        gates = {
            "passed": self.best is not None,
            "results": [g.to_dict() for g in shown.gates] if shown else [],
            "held_out": self.holdout.to_dict() if self.holdout else None,
            "candidates": [
                {"round": c.round, "passed": c.passed, "overall": c.scores and c.overall,
                 "repairs": c.repairs, "error": c.error}
                for c in self.candidates
            ],
            "notes": self.notes + ([note] if note else []),
            "cached_calls": self.usage.get("cached_calls", 0),
            "outcome_type": self.outcome_type,
            "band": self.band,
            "plan": self.plan,
        }
        return {
            "run_id": self.run_id,
            "agent": self.agent,
            "timestamp": self.started,
            "status": status,
            "engine": self.engine,
            "model": self.model,
            "base_sha": self.base_sha,
            "result_sha": result_sha,
            "scores_before": self.scores_before,
            "scores_after": shown.scores if shown else None,
            "failure_case_ids": [c.case_id for c in self.failures],
            "gates": gates,
            "llm_calls": self.usage.get("calls", 0),
            "prompt_tokens": self.usage.get("prompt_tokens", 0),
            "completion_tokens": self.usage.get("completion_tokens", 0),
            "critique": shown.diagnosis if shown else None,
            "diff": shown.diff if shown else None,
            "error": error,
        }


def commit_subject(agent: str, diagnosis: str) -> str:
    """``optimize(<Agent>): <the diagnosis's first line, shortened>``."""
    first = next((line.strip() for line in diagnosis.splitlines() if line.strip()), "")
    first = first.split(". ")[0].rstrip(".") or "prompt update"
    if len(first) > SUBJECT_WIDTH:
        first = first[: SUBJECT_WIDTH - 3].rstrip() + "..."
    return f"optimize({agent}): {first}"


def commit_trailers(proposal: Proposal, candidate: Candidate) -> dict[str, str]:
    trailers = {
        "Promptloop-Run": proposal.run_id,
        "Promptloop-Engine": proposal.engine,
        "Promptloop-Model": proposal.model or "none",
        "Promptloop-Scores-Before": format_scores(proposal.scores_before),
        "Promptloop-Scores-After": format_scores(candidate.scores),
        "Promptloop-Failure-Cases": ",".join(c.case_id for c in proposal.failures) or "none",
    }
    if proposal.holdout is not None:
        trailers["Promptloop-Held-Out"] = proposal.holdout.trailer()
    replay = candidate.gate("replay")
    if replay is not None:
        verdict = "pass" if replay.passed else "fail"
        trailers["Promptloop-Replay"] = f"{replay.data.get('summary') or replay.detail}: {verdict}"
    evidence = candidate.gate("offline-evidence")
    if evidence is not None:
        trailers["Promptloop-Offline-Evidence"] = str(evidence.data["summary"])
    return trailers


def format_scores(scores: dict[str, float] | None) -> str:
    return " ".join(f"{k}={scores[k]:.1f}" for k in SCORE_KEYS) if scores else "none"


def _case_summary(case: Any) -> dict[str, Any]:
    output = getattr(case, "output", None) or {}
    return {
        "case_id": case.case_id,
        "kind": case.kind,
        "timestamp": case.timestamp.isoformat() if case.timestamp else None,
        "symbol": getattr(case, "symbol", None),
        "market_condition": getattr(case, "market_condition", None),
        "action": output.get("action"),
        "confidence": output.get("confidence"),
        "outcome_value": (getattr(case, "outcome", None) or {}).get("value"),
    }
