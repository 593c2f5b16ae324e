"""The replay gate: on decisions the critic never saw, does the candidate beat the current prompt?

Walk-forward by time (optimizer/walk_forward.py): the optimize window is cut at a point in
time; the critic saw failures before the cut only; this gate judges the candidate on the
agent's decisions AFTER the cut that have an outcome, failures and successes alike (all of
them, or the seeded stratified sample of optimizer/replay_plan.py when they do not fit the
budget).

Each held-out decision is replayed (:mod:`agents.replay`, one shared client, bounded
concurrency) at temperature 0 with the *current* prompt and with the *candidate*, on the
same recorded context: a paired comparison (same model, same settings, same inputs), so a
decision recorded under an older prompt counts for neither side. With ``repeats`` > 1 (for
endpoints that are not deterministic at temperature 0) a prompt is right on a decision when
the majority of its repeats are. Answers are judged against the recorded outcome with
:func:`tracker.rules.is_correct` (the outcome's own band when it has one); an unparseable
answer is wrong. Per decision:

- ``fixed``: current wrong, candidate right;  ``broken``: current right, candidate wrong;
- ``same``: both right or both wrong (concordant: no information about the difference).

**The rule.** The exact one-sided sign test on the discordant pairs
(:func:`tracker.stats.sign_test_p`): under "no difference" each discordant decision is a
fair coin, p = P(X >= fixed), X ~ Binomial(fixed + broken, 1/2). The gate passes when
p <= ``alpha`` (default 0.1: the smallest passing splits are 4-0, 6-1, 7-2, 9-3; a coin-flip
balance such as 5-5 has p = 0.62). Fewer held-out decisions than ``min_holdout``: no verdict,
the gate fails, and nothing can be applied automatically.

Also reported, not decided on: the change in Brier score on the replayed decisions
(candidate minus current, mean of (confidence - right)^2; negative is better). ``data``
keeps one row per decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from agents.replay import DEFAULT_CONCURRENCY, replay_jobs
from agents.roles import CallResult
from optimizer.gates import GateResult
from prompt_repo.config import Workspace
from tracker.rules import DEFAULT_BAND, is_correct
from tracker.stats import sign_test_p

if TYPE_CHECKING:
    from agents.protocols import ChatClient

__all__ = ["replay_gate", "replay_answers", "replay_pair", "judge_replay", "no_verdict",
           "GATE_NAME",
           "DEFAULT_ALPHA", "REPLAY_TEMPERATURE"]

GATE_NAME = "replay"
DEFAULT_ALPHA = 0.1
REPLAY_TEMPERATURE = 0.0

Answers = list[list[CallResult]]  # per held-out decision, one result per repeat


def replay_answers(client: ChatClient, workspace: Workspace, agent: str, text: str,
                   cases: Sequence[Any], *, repeats: int = 1,
                   concurrency: int = DEFAULT_CONCURRENCY) -> Answers:
    """Replay ``text`` on every case's context ``repeats`` times, at temperature 0."""
    return replay_pair(client, workspace, agent, [text], cases, repeats=repeats,
                       concurrency=concurrency)[0]


def replay_pair(client: ChatClient, workspace: Workspace, agent: str, texts: Sequence[str],
                cases: Sequence[Any], *, repeats: int = 1,
                concurrency: int = DEFAULT_CONCURRENCY) -> list[Answers]:
    """Replay each of ``texts`` on every case, all on one pool (no idle gap between them)."""
    jobs = [(text, _get(case, "context")) for text in texts for case in cases
            for _ in range(repeats)]
    flat = replay_jobs(client, workspace, agent, jobs, concurrency=concurrency,
                       temperature=REPLAY_TEMPERATURE)
    per_text = len(cases) * repeats
    return [[flat[t * per_text + i * repeats: t * per_text + (i + 1) * repeats]
             for i in range(len(cases))] for t in range(len(texts))]


def replay_gate(
    client: ChatClient,
    workspace: Workspace,
    agent: str,
    candidate: str,
    current: str,
    cases: Sequence[Any],
    *,
    alpha: float = DEFAULT_ALPHA,
    repeats: int = 1,
    band: float = DEFAULT_BAND,
    baseline: Answers | None = None,
    window: Mapping[str, Any] | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> GateResult:
    """Replay both prompts on the held-out cases and decide with the sign test
    (``baseline``: the current prompt's answers, when another candidate already paid them)."""
    if baseline is None:
        baseline, new = replay_pair(client, workspace, agent, [current, candidate], cases,
                                    repeats=repeats, concurrency=concurrency)
    else:
        new = replay_answers(client, workspace, agent, candidate, cases, repeats=repeats,
                             concurrency=concurrency)
    return judge_replay(cases, baseline, new, alpha=alpha, band=band, window=window)


def judge_replay(cases: Sequence[Any], baseline: Answers, candidate: Answers, *,
                 alpha: float = DEFAULT_ALPHA, band: float = DEFAULT_BAND,
                 window: Mapping[str, Any] | None = None) -> GateResult:
    """The verdict on paired answers (a pure function of the answers and outcomes)."""
    rows = [_row(case, old, new, band)
            for case, old, new in zip(cases, baseline, candidate, strict=True)]
    fixed = sum(row["verdict"] == "fixed" for row in rows)
    broken = sum(row["verdict"] == "broken" for row in rows)
    p = sign_test_p(fixed, broken)
    passed = fixed > broken and p <= alpha
    brier = _brier_change(rows)
    summary = _summary(rows, fixed, broken, p, alpha, brier)
    data = {
        "decided": True, "cases": len(rows), "fixed": fixed, "broken": broken,
        "discordant": fixed + broken, "p_value": round(p, 6), "alpha": alpha,
        "test": "exact one-sided sign test on the discordant pairs",
        "errors": sum(row["candidate_errors"] > 0 for row in rows),
        "failures": _split(rows, "failure"), "successes": _split(rows, "success"),
        "brier": brier, "window": dict(window or {}), "summary": summary, "results": rows,
    }
    verdict = "pass" if passed else "fail"
    detail = f"{summary}: {verdict} (passes when p <= alpha {alpha:g} and fixed > broken)"
    return GateResult(GATE_NAME, passed, detail, data)


def no_verdict(reason: str, window: Mapping[str, Any] | None = None) -> GateResult:
    """The replay gate when it cannot judge: it fails, so nothing is applied automatically."""
    detail = f"no replay verdict: {reason}; nothing is applied automatically"
    return GateResult(GATE_NAME, False, detail,
                      {"decided": False, "cases": 0, "fixed": 0, "broken": 0,
                       "p_value": None, "window": dict(window or {}), "summary": detail})


def _row(case: Any, old: list[CallResult], new: list[CallResult], band: float
         ) -> dict[str, Any]:
    outcome = _get(case, "outcome")
    value = float(outcome["value"])
    band = float((outcome.get("details") or {}).get("band", band))
    baseline_ok, candidate_ok = _majority(old, value, band), _majority(new, value, band)
    verdict = "same"
    if candidate_ok and not baseline_ok:
        verdict = "fixed"
    elif baseline_ok and not candidate_ok:
        verdict = "broken"
    return {
        "case_id": _get(case, "case_id"),
        "timestamp": _iso(_get(case, "timestamp")),
        "held_out_as": "success" if outcome.get("correct") else "failure",
        "market_condition": _get(case, "market_condition"),
        "outcome_value": value,
        "recorded_action": (_get(case, "output") or {}).get("action"),
        "baseline_actions": [_action(r) for r in old],
        "baseline_correct": baseline_ok,
        "baseline_brier": _brier(old, value, band),
        "candidate_actions": [_action(r) for r in new],
        "candidate_correct": candidate_ok,
        "candidate_brier": _brier(new, value, band),
        "candidate_errors": sum(r.error is not None for r in new),
        "verdict": verdict,
    }


def _majority(results: list[CallResult], value: float, band: float) -> bool:
    right = sum(_judge(r, value, band) for r in results)
    return 2 * right > len(results)


def _brier(results: list[CallResult], value: float, band: float) -> float | None:
    scored = [(r.answer.confidence - float(_judge(r, value, band))) ** 2
              for r in results if r.answer is not None]
    return round(sum(scored) / len(scored), 6) if scored else None


def _brier_change(rows: list[dict[str, Any]]) -> dict[str, Any]:
    pairs = [(row["baseline_brier"], row["candidate_brier"]) for row in rows
             if row["baseline_brier"] is not None and row["candidate_brier"] is not None]
    if not pairs:
        return {"current": None, "candidate": None, "change": None, "n": 0}
    current = sum(old for old, _ in pairs) / len(pairs)
    candidate = sum(new for _, new in pairs) / len(pairs)
    return {"current": round(current, 4), "candidate": round(candidate, 4),
            "change": round(candidate - current, 4), "n": len(pairs)}


def _summary(rows: list[dict[str, Any]], fixed: int, broken: int, p: float, alpha: float,
             brier: dict[str, Any]) -> str:
    failures = sum(row["held_out_as"] == "failure" for row in rows)
    text = (f"fixed {fixed}, broke {broken} of {len(rows)} held-out decisions "
            f"({failures} failures, {len(rows) - failures} successes); sign test "
            f"p={p:.3g} vs alpha {alpha:g}")
    if brier["change"] is not None:
        text += f"; Brier {brier['current']:.3f} -> {brier['candidate']:.3f}"
    return text


def _split(rows: list[dict[str, Any]], kind: str) -> dict[str, int]:
    mine = [row for row in rows if row["held_out_as"] == kind]
    return {"cases": len(mine), "fixed": sum(r["verdict"] == "fixed" for r in mine),
            "broken": sum(r["verdict"] == "broken" for r in mine)}


def _judge(result: CallResult, value: float, band: float) -> bool:
    return result.answer is not None and is_correct(result.answer.action, value, band)


def _action(result: CallResult) -> str | None:
    return result.answer.action if result.answer is not None else None


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _get(case: Any, name: str) -> Any:
    """A field of a tracker Case, or of its ``to_dict()`` form."""
    return case.get(name) if isinstance(case, Mapping) else getattr(case, name, None)
