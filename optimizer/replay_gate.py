"""The replay gate: does the candidate prompt fix more recorded failures than it breaks?

The optimize loop holds out the agent's most recent cases (failures, and a sample of
successes) from the critic — walk-forward: the critic sees older cases, the gate judges
on later ones it never saw — and calls :func:`replay_gate` with them.

Each held-out case is replayed (:mod:`agents.replay`, one shared client, bounded
concurrency) twice: with the *candidate* prompt and with the *current* prompt. Replaying
the current prompt as the baseline, instead of trusting the recorded answer, keeps the
comparison paired: same model, same settings, same context; a case recorded under an
older prompt, or one the model gets right or wrong by chance, then counts for neither
side. (``replay_current=False`` uses the recorded correctness instead: half the calls.)

Each answer is judged against the case's recorded outcome with
:func:`tracker.rules.is_correct` (the outcome's own band when it has one). Per case:

- ``fixed``: baseline wrong, candidate right;
- ``broken``: baseline right, candidate wrong — an unparseable candidate answer is wrong;
- ``same``: both right or both wrong.

Cases without an outcome value (e.g. a contradiction pair without a return) are skipped.
The gate passes when ``fixed - broken > margin``. ``data`` carries the counts, split by
held-out failures and successes, and one row per case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from agents.replay import DEFAULT_CONCURRENCY, replay_jobs
from agents.roles import CallResult
from optimizer.gates import GateResult
from prompt_repo.config import Workspace
from tracker.rules import DEFAULT_BAND, is_correct

__all__ = ["replay_gate", "GATE_NAME"]

GATE_NAME = "replay"


def replay_gate(
    client: Any,
    workspace: Workspace,
    agent: str,
    candidate: str,
    current: str,
    failures: Sequence[Any],
    successes: Sequence[Any],
    *,
    margin: int = 0,
    concurrency: int = DEFAULT_CONCURRENCY,
    replay_current: bool = True,
) -> GateResult:
    """Replay the held-out cases with both prompts and compare fixes against breaks."""
    cases = [("failure", case) for case in failures if _judgeable(case)]
    cases += [("success", case) for case in successes if _judgeable(case)]
    if not cases:
        return GateResult(GATE_NAME, False, "no held-out case with a known outcome to replay",
                          {"cases": 0, "fixed": 0, "broken": 0, "margin": margin})
    contexts = [_get(case, "context") for _, case in cases]
    jobs = [(candidate, context) for context in contexts]
    if replay_current:
        jobs += [(current, context) for context in contexts]
    results = replay_jobs(client, workspace, agent, jobs, concurrency=concurrency)
    new, old = results[: len(cases)], results[len(cases):]
    rows = [
        _row(kind, case, new[i], old[i] if replay_current else None)
        for i, (kind, case) in enumerate(cases)
    ]
    return _result(rows, margin, replay_current)


def _row(kind: str, case: Any, new: CallResult, old: CallResult | None) -> dict[str, Any]:
    outcome = _get(case, "outcome")
    value = float(outcome["value"])
    band = float((outcome.get("details") or {}).get("band", DEFAULT_BAND))
    baseline_ok = (
        _judge(old, value, band) if old is not None else bool(outcome.get("correct"))
    )
    candidate_ok = _judge(new, value, band)
    verdict = "same"
    if candidate_ok and not baseline_ok:
        verdict = "fixed"
    elif baseline_ok and not candidate_ok:
        verdict = "broken"
    return {
        "case_id": _get(case, "case_id"),
        "held_out_as": kind,
        "outcome_value": value,
        "recorded_action": (_get(case, "output") or {}).get("action"),
        "baseline_action": _action(old) if old is not None else None,
        "baseline_correct": baseline_ok,
        "candidate_action": _action(new),
        "candidate_correct": candidate_ok,
        "candidate_error": new.error,
        "verdict": verdict,
    }


def _result(rows: list[dict[str, Any]], margin: int, replay_current: bool) -> GateResult:
    fixed = sum(row["verdict"] == "fixed" for row in rows)
    broken = sum(row["verdict"] == "broken" for row in rows)
    split = {
        kind: {
            "cases": sum(row["held_out_as"] == kind for row in rows),
            "fixed": sum(row["held_out_as"] == kind and row["verdict"] == "fixed" for row in rows),
            "broken": sum(
                row["held_out_as"] == kind and row["verdict"] == "broken" for row in rows
            ),
        }
        for kind in ("failure", "success")
    }
    passed = fixed - broken > margin
    summary = (
        f"fixed {fixed}, broke {broken} on {len(rows)} held-out cases"
        f" ({split['failure']['cases']} failures, {split['success']['cases']} successes)"
    )
    detail = (
        f"{summary}, newer than the cases shown to the critic; needs fixed - broken > {margin}"
    )
    data = {
        "cases": len(rows),
        "fixed": fixed,
        "broken": broken,
        "errors": sum(row["candidate_error"] is not None for row in rows),
        "margin": margin,
        "baseline": "replayed current prompt" if replay_current else "recorded answers",
        "failures": split["failure"],
        "successes": split["success"],
        "summary": summary,
        "results": rows,
    }
    return GateResult(GATE_NAME, passed, detail, data)


def _judge(result: CallResult, value: float, band: float) -> bool:
    return result.answer is not None and is_correct(result.answer.action, value, band)


def _action(result: CallResult) -> str | None:
    return result.answer.action if result.answer is not None else None


def _judgeable(case: Any) -> bool:
    outcome = _get(case, "outcome") or {}
    return outcome.get("value") is not None and bool(_get(case, "context"))


def _get(case: Any, name: str) -> Any:
    """A field of a tracker Case, or of its ``to_dict()`` form."""
    return case.get(name) if isinstance(case, Mapping) else getattr(case, name)
