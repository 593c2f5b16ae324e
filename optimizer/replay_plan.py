"""What the replay gate judges on, and whether the run's LLM budget can pay for it.

Planned before any LLM call, so a run never ends mid-replay with "budget spent":

- **Calls.** The critic: ``rounds x (1 + max_repairs)`` calls at most. The replay: every
  held-out decision is replayed ``repeats`` times with the current prompt (once per run:
  the baseline is shared by every candidate) and ``repeats`` times with each candidate
  (``rounds`` of them at most). An agent call may need one repair re-ask of its JSON and
  the client counts every HTTP attempt (retries), so :data:`HEADROOM` of the planned calls
  (at least :data:`MIN_SPARE_CALLS`) is kept spare.
- **Tokens.** Estimated from the text that will be sent (:data:`CHARS_PER_TOKEN`, a
  conservative ratio for English and JSON) plus a fixed allowance per answer.

When every held-out decision fits, all are replayed. When they do not, a *seeded
stratified random sample* is replayed: strata are (failure or success, market condition),
each stratum gets its share of the sample by largest remainder, and the members are drawn
with ``random.Random(seed)``. Never by severity, confidence or any other ranking: a sample
chosen by "clarity" misses exactly the successes a wrong rule breaks. The size and seed are
reported. When even ``min_holdout`` decisions do not fit, :func:`plan_replay` raises
:class:`~optimizer.errors.BudgetTooSmall` at once, naming the numbers.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from optimizer.errors import BudgetTooSmall

if TYPE_CHECKING:
    from tracker.failures import Case

__all__ = ["Plan", "plan_replay", "stratified_sample", "CHARS_PER_TOKEN"]

CHARS_PER_TOKEN = 3.0
HEADROOM = 0.2
MIN_SPARE_CALLS = 2
AGENT_ANSWER_TOKENS = 250
CRITIC_ANSWER_TOKENS = 1500
AGENT_FRAME_CHARS = 400  # the user turn's fixed text around the snapshot


@dataclass(frozen=True)
class Plan:
    """The calls and tokens one run is planned to need, and the replayed sample size."""

    critic_calls: int
    replay_calls: int
    tokens: int
    max_calls: int | None
    max_tokens: int | None
    population: int
    sample: int
    seed: int

    @property
    def calls(self) -> int:
        return self.critic_calls + self.replay_calls

    def to_dict(self) -> dict[str, Any]:
        return {"critic_calls": self.critic_calls, "replay_calls": self.replay_calls,
                "calls": self.calls, "tokens": self.tokens, "max_calls": self.max_calls,
                "max_tokens": self.max_tokens, "held_out_decisions": self.population,
                "replayed": self.sample, "seed": self.seed}

    def describe(self) -> str:
        sampled = (f"a seeded stratified sample of {self.sample} of {self.population} "
                   f"held-out decisions (seed {self.seed})" if self.sample < self.population
                   else f"all {self.population} held-out decisions")
        return (f"budget plan: {self.critic_calls} critic + {self.replay_calls} replay calls, "
                f"~{self.tokens:,} tokens (max_calls {_limit(self.max_calls)}, max_tokens "
                f"{_limit(self.max_tokens)}, {HEADROOM:.0%} kept for retries); replaying "
                + sampled)


def plan_replay(
    *,
    critic_calls: int,
    critic_chars: int,
    prompt_chars: int,
    context_chars: Sequence[int],
    prompts_per_case: int,
    repeats: int,
    min_holdout: int,
    max_calls: int | None,
    max_tokens: int | None,
    seed: int,
) -> Plan:
    """The largest replay (all held-out decisions, else fewer) that fits the budget.

    ``context_chars`` holds the size of each held-out decision's context; ``prompts_per_case``
    is 1 (baseline) + the number of candidates that may be replayed.
    """
    critic_tokens = critic_calls * (_tokens(critic_chars) + CRITIC_ANSWER_TOKENS)
    mean_context = sum(context_chars) / len(context_chars) if context_chars else 0
    per_case_calls = prompts_per_case * repeats
    per_case_tokens = per_case_calls * (
        _tokens(prompt_chars + mean_context + AGENT_FRAME_CHARS) + AGENT_ANSWER_TOKENS)
    population = len(context_chars)
    fit = min(population,
              _fit(max_calls, critic_calls, per_case_calls, spare=_spare),
              _fit(max_tokens, critic_tokens, per_case_tokens, spare=_spare_tokens))
    plan = Plan(critic_calls, fit * per_case_calls, critic_tokens + fit * per_case_tokens,
                max_calls, max_tokens, population, fit, seed)
    needed = min(population, min_holdout)
    if fit < needed or (population == 0 and not _fits(max_calls, critic_calls, _spare)):
        raise BudgetTooSmall(_refusal(plan, needed, per_case_calls, per_case_tokens))
    return plan


def stratified_sample(cases: Sequence[Case], size: int, seed: int) -> list[Case]:
    """``size`` of ``cases`` drawn at random within strata (failure/success, market
    condition), each stratum in proportion to its size; returned oldest first."""
    if size >= len(cases):
        return list(cases)
    strata: dict[tuple[bool, str], list[Case]] = {}
    for case in cases:
        strata.setdefault((_is_failure(case), str(case.market_condition)), []).append(case)
    keys = sorted(strata)
    quotas = {key: size * len(strata[key]) / len(cases) for key in keys}
    counts = {key: math.floor(quota) for key, quota in quotas.items()}
    by_remainder = sorted(keys, key=lambda k: (-(quotas[k] - counts[k]), k))
    for key in by_remainder[: size - sum(counts.values())]:
        counts[key] += 1
    rng = random.Random(seed)
    chosen = [case for key in keys for case in rng.sample(strata[key], counts[key])]
    return sorted(chosen, key=lambda c: (c.timestamp, c.case_id))


def context_size(case: Case) -> int:
    return len(json.dumps(case.context, default=str, ensure_ascii=False))


def _is_failure(case: Case) -> bool:
    return not bool((case.outcome or {}).get("correct"))


def _tokens(chars: float) -> int:
    return math.ceil(chars / CHARS_PER_TOKEN)


def _spare(limit: int) -> int:
    return max(MIN_SPARE_CALLS, math.ceil(limit * HEADROOM))


def _spare_tokens(limit: int) -> int:
    return math.ceil(limit * HEADROOM)


def _fits(limit: int | None, used: int, spare: Callable[[int], int]) -> bool:
    return limit is None or used + spare(limit) <= limit


def _fit(limit: int | None, fixed: int, per_case: int, *, spare: Callable[[int], int]) -> int:
    """How many held-out cases fit under ``limit`` after the fixed part and the spare."""
    if limit is None or per_case == 0:
        return 10**9
    return max(0, (limit - spare(limit) - fixed) // per_case)


def _refusal(plan: Plan, needed: int, per_case_calls: int, per_case_tokens: int) -> str:
    return (f"the LLM budget cannot pay for this run: {plan.critic_calls} critic call(s) and "
            f"{needed} held-out decision(s) x {per_case_calls} replay call(s) need about "
            f"{plan.critic_calls + needed * per_case_calls} calls and "
            f"{plan.tokens - plan.sample * per_case_tokens + needed * per_case_tokens:,} "
            f"tokens, plus {HEADROOM:.0%} for retries; [llm] max_calls is "
            f"{_limit(plan.max_calls)}, max_tokens {_limit(plan.max_tokens)}. Raise them, "
            "or lower --rounds or [optimize] max_repairs")


def _limit(value: int | None) -> str:
    return "unlimited" if value is None else f"{value:,}"
