"""Walk-forward by time for one optimize run: the cut, the held-out decisions, the plan, the
replay verdict.

- :func:`load_cases`: the window ``(end - days, end]`` is cut at
  :func:`optimizer.walk_forward.time_cut`; the critic's failure cases come from before the
  cut only; EVERY decision of the agent after the cut with an outcome (and a recorded
  context to replay) is held out (:class:`optimizer.proposal.HoldOut`).
- :func:`plan_run`: before any LLM call, the run's calls and tokens are planned against the
  budget (optimizer/replay_plan.py); the held-out set is sampled down (seeded, stratified)
  when it does not fit, or the run is refused.
- :class:`Replayer`: the replay gate of each candidate, the current prompt's replay made
  once (in the background, alongside the first candidate's) and shared by every round;
  fewer than ``min_holdout`` held-out decisions give no verdict (the gate fails: nothing
  is applied automatically).

Settings: ``[optimize] holdout_fraction`` (1/3), ``min_holdout`` (20), ``replay_repeats``
(1), ``replay_alpha`` (0.1), ``sample_seed`` (0) — :class:`ReplaySettings`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from optimizer.critic import critic_messages
from optimizer.errors import OptimizerError
from optimizer.gates import GateResult, setting
from optimizer.proposal import HoldOut, Proposal
from optimizer.replay_gate import DEFAULT_ALPHA, judge_replay, no_verdict, replay_pair
from optimizer.replay_plan import context_size, plan_replay, stratified_sample
from optimizer.walk_forward import DEFAULT_HOLDOUT_FRACTION, time_cut
from tracker.contradiction import DEFAULT_RULE, ContradictionRule

if TYPE_CHECKING:
    from agents.protocols import ChatClient
    from prompt_repo.config import Workspace
    from tracker.protocols import CaseSource

__all__ = ["ReplaySettings", "load_cases", "plan_run", "Replayer"]

REPAIR_CHARS = 2000  # a repair turn resends the critic's answer and the error


@dataclass(frozen=True)
class ReplaySettings:
    holdout_fraction: float = DEFAULT_HOLDOUT_FRACTION
    min_holdout: int = 20
    replay_repeats: int = 1
    replay_alpha: float = DEFAULT_ALPHA
    sample_seed: int = 0

    @classmethod
    def from_section(cls, section: dict[str, Any], *, use_cache: bool) -> ReplaySettings:
        """The walk-forward keys of ``[optimize]`` (their ranges are checked at load, by
        ``prompt_repo.settings``); repeats need the cache off."""
        found = cls(**{name: setting(section, name, getattr(cls, name))
                       for name in cls.__dataclass_fields__})
        if found.replay_repeats > 1 and use_cache:
            raise OptimizerError(f"[optimize] replay_repeats = {found.replay_repeats} needs "
                                 "--no-cache: a cached answer would only repeat itself")
        return found


def load_cases(tracker: CaseSource, proposal: Proposal, settings: ReplaySettings, end: datetime,
               max_cases: int, contradiction: ContradictionRule = DEFAULT_RULE) -> None:
    """The critic's failures before the cut, and every judged decision after it."""
    outcome_type, band = proposal.outcome_type, proposal.band
    cut = time_cut(end, proposal.days, settings.holdout_fraction)
    before = (cut - (end - timedelta(days=proposal.days))) / timedelta(days=1)
    proposal.failures = list(tracker.failure_cases(
        proposal.agent, days=before, limit=max_cases, until=cut, outcome_type=outcome_type,
        band=band, contradiction=contradiction))
    held = [c for c in tracker.judged_cases(proposal.agent, cut, end, outcome_type=outcome_type,
                                            band=band) if c.context]
    proposal.holdout = HoldOut(cut, [c for c in held if not c.outcome["correct"]],
                               [c for c in held if c.outcome["correct"]], until=end,
                               population=len(held), seed=settings.sample_seed,
                               min_holdout=settings.min_holdout)


def plan_run(proposal: Proposal, settings: ReplaySettings, *, rounds: int, max_repairs: int,
             max_calls: int | None, max_tokens: int | None) -> None:
    """Plan the LLM calls before making any; sample the held-out set down to fit (or raise
    :class:`~optimizer.errors.BudgetTooSmall`)."""
    critic_calls = rounds * (1 + max_repairs) if (
        proposal.engine == "llm" and proposal.failures) else 0
    holdout = proposal.holdout
    held = holdout.cases if holdout and len(holdout.cases) >= settings.min_holdout else []
    plan = plan_replay(
        critic_calls=critic_calls, critic_chars=_critic_chars(proposal),
        prompt_chars=len(proposal.current), context_chars=[context_size(c) for c in held],
        prompts_per_case=1 + (rounds if proposal.engine == "llm" else 1),
        repeats=settings.replay_repeats, min_holdout=settings.min_holdout,
        max_calls=max_calls, max_tokens=max_tokens, seed=settings.sample_seed)
    proposal.plan = plan.to_dict()
    proposal.notes.append(plan.describe())
    if holdout is None:
        return
    if held and plan.sample < len(held):
        chosen = stratified_sample(held, plan.sample, settings.sample_seed)
        holdout.failures = [c for c in chosen if not c.outcome["correct"]]
        holdout.successes = [c for c in chosen if c.outcome["correct"]]
    proposal.notes.append(f"walk-forward: {holdout.describe()}")
    if not held:
        proposal.notes.append(f"no replay verdict: {_too_few(holdout, settings)}; nothing is "
                              "applied automatically")


class Replayer:
    """The replay gate of one run's candidates (thread-safe: rounds run concurrently)."""

    def __init__(self, client: ChatClient, workspace: Workspace, settings: ReplaySettings
                 ) -> None:
        self.client, self.workspace, self.settings = client, workspace, settings
        self._baseline: dict[str, Future[list[Any]]] = {}
        self._lock = threading.Lock()

    def verdict(self, proposal: Proposal, holdout: HoldOut, text: str,
                progress: Callable[[str], None], number: int) -> GateResult:
        window = {k: v for k, v in holdout.to_dict().items() if k in (
            "cut", "until", "decisions", "replayed", "sampled", "seed", "min_holdout")}
        if (holdout.population or 0) < self.settings.min_holdout:
            return no_verdict(_too_few(holdout, self.settings), window)
        cases = holdout.cases
        progress(f"Round {number}: replaying {len(cases)} held-out decision(s) "
                 f"x {self.settings.replay_repeats}")
        baseline, new = self._answers(proposal, cases, text)
        return judge_replay(cases, baseline, new, alpha=self.settings.replay_alpha,
                            band=proposal.band, window=window)

    def _answers(self, proposal: Proposal, cases: list[Any], text: str) -> tuple[Any, Any]:
        """(current, candidate) answers. The current prompt is replayed once per run, in the
        background from the first candidate on, while each candidate replays its own."""
        with self._lock:
            baseline = self._baseline.get(proposal.run_id)
            if baseline is None:
                baseline = self._baseline[proposal.run_id] = self._background(
                    [proposal.current], proposal, cases)
        new = self._replay([text], proposal, cases)[0]
        return baseline.result()[0], new

    def _background(self, texts: list[str], proposal: Proposal, cases: list[Any]
                    ) -> Future[list[Any]]:
        future: Future[list[Any]] = Future()

        def run() -> None:
            try:
                future.set_result(self._replay(texts, proposal, cases))
            except BaseException as exc:  # handed to whoever waits on the result
                future.set_exception(exc)

        threading.Thread(target=run, name="promptloop-baseline-replay", daemon=True).start()
        return future

    def _replay(self, texts: list[str], proposal: Proposal, cases: list[Any]) -> list[Any]:
        return replay_pair(self.client, self.workspace, proposal.agent, texts, cases,
                           repeats=self.settings.replay_repeats)


def _too_few(holdout: HoldOut, settings: ReplaySettings) -> str:
    return (f"{holdout.population} decision(s) with an outcome after the cut "
            f"{holdout.since:%Y-%m-%d %H:%M}, fewer than min_holdout {settings.min_holdout}")


def _critic_chars(proposal: Proposal) -> int:
    messages = critic_messages(
        proposal.agent, proposal.current, proposal.scores_before or {},
        proposal.analyzer_findings, proposal.findings, proposal.failures)
    return sum(len(m["content"]) for m in messages) + REPAIR_CHARS
