"""The release flow's decisions: ``compare`` two versions of an agent, ``promote`` a label.

Names (``production``, ``candidate``, ``v3``, a sha) are resolved through the workspace's
labels (:mod:`prompt_repo.labels`; an unset ``production`` is the newest version), then:

- :func:`compare_live` pairs the two versions on recorded decisions where both answered
  (normally production and its shadow) and an outcome exists (:mod:`tracker.compare`);
- :func:`compare_replay` runs both versions through the LLM on the same recorded contexts
  (a seeded sample of the agent's resolved decisions) and judges them on the recorded
  outcomes: the same sums, hence the same statistics and verdict;
- :func:`promote` moves label ``to`` onto the version of ``source`` only when the
  comparison says it is better at ``alpha`` (one-sided exact sign test on the discordant
  pairs; ``[release] alpha`` in promptloop.toml, default 0.05). ``force`` moves it anyway
  and says so in the label commit (``Promptloop-Forced: true``). Demoting is the same
  call with an older version as ``source``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from agents.errors import AgentError, NotPromoted
from prompt_repo.config import Workspace
from prompt_repo.errors import ConfigError, UnknownRevision
from prompt_repo.labels import PRODUCTION, LabelMove, is_label_name
from tracker.compare import (
    DEFAULT_ALPHA,
    Comparison,
    PairCounts,
    compare_versions,
    replay_cases,
    summarize,
)
from tracker.rules import DEFAULT_BAND, DEFAULT_OUTCOME_TYPE, is_correct

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from agents.protocols import ChatClient
    from prompt_repo.repo import PromptVersion

__all__ = ["Promotion", "release_alpha", "resolve_version", "compare_live", "compare_replay",
           "promote", "NotPromoted"]


@dataclass(frozen=True)
class Promotion:
    comparison: Comparison
    move: LabelMove
    forced: bool


def release_alpha(workspace: Workspace, override: float | None = None) -> float:
    """The significance level: the flag, else ``[release] alpha``, else 0.05."""
    configured = workspace.release.alpha
    value = override if override is not None else (
        DEFAULT_ALPHA if configured is None else configured)
    try:
        alpha = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"[release] alpha must be a number, got {value!r}") from None
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha must be between 0 and 1, got {alpha}")
    return alpha


def resolve_version(workspace: Workspace, agent: str, name: str) -> PromptVersion:
    """The prompt version (``.sha``, ``.text``) ``name`` stands for: one of the agent's
    labels (an unset production: the newest), else vN, a sha or a git revision."""
    from prompt_repo.repo import PromptRepo

    with PromptRepo(workspace) as repo:
        labelled = is_label_name(name) and (
            name == PRODUCTION or repo.labels().get(agent, name) is not None)
        if labelled:
            return repo.read(agent, label=name)
        try:
            return repo.read(agent, name)
        except UnknownRevision:
            if not is_label_name(name):
                raise
            raise UnknownRevision(f"{agent} has no label {name!r} and no version of that name"
                                  " (see: promptloop label list)") from None


def _since(days: float | None) -> datetime | None:
    return None if days is None else datetime.now(UTC) - timedelta(days=days)


def compare_live(
    workspace: Workspace, engine: Engine, agent: str, a: str = PRODUCTION, b: str = "candidate",
    *, days: float | None = None, alpha: float | None = None,
    outcome_type: str = DEFAULT_OUTCOME_TYPE, band: float = DEFAULT_BAND,
) -> Comparison:
    """A and B paired on the recorded decisions of the last ``days`` (None: all)."""
    a_sha, b_sha = (resolve_version(workspace, agent, name).sha for name in (a, b))
    counts = compare_versions(engine, agent, a_sha, b_sha, since=_since(days),
                              outcome_type=outcome_type, band=band)
    return summarize(counts, agent=agent, a=a, b=b, a_sha=a_sha, b_sha=b_sha,
                     alpha=release_alpha(workspace, alpha))


def compare_replay(
    workspace: Workspace, engine: Engine, client: ChatClient, agent: str, a: str = PRODUCTION,
    b: str = "candidate", *, days: float | None = None, limit: int = 50, seed: int = 0,
    alpha: float | None = None, concurrency: int = 4,
    outcome_type: str = DEFAULT_OUTCOME_TYPE, band: float = DEFAULT_BAND,
) -> Comparison:
    """A and B replayed through the LLM on the same ``limit`` recorded contexts."""
    from agents.replay import replay_many

    first, second = (resolve_version(workspace, agent, name) for name in (a, b))
    if first.sha == second.sha:
        raise AgentError(f"{a} and {b} are the same version ({first.sha[:7]}): nothing to"
                         " compare")
    cases = replay_cases(engine, agent, since=_since(days), limit=limit, seed=seed,
                         outcome_type=outcome_type)
    contexts = [case.context for case in cases]
    answers = [replay_many(client, workspace, agent, version.text, contexts,
                           concurrency=concurrency, prompt_sha=version.sha)
               for version in (first, second)]
    counts = replay_counts([case.outcome for case in cases], answers[0], answers[1], band)
    return summarize(counts, agent=agent, a=a, b=b, a_sha=first.sha, b_sha=second.sha,
                     alpha=release_alpha(workspace, alpha), source="replay")


def replay_counts(outcomes: list[float], a: list[Any], b: list[Any],
                  band: float = DEFAULT_BAND) -> PairCounts:
    """The paired sums of two replays (CallResults) judged on the recorded outcomes; a
    case where either call failed is not a pair."""
    sums = [0, 0, 0, 0, 0.0, 0.0, 0.0, 0.0]
    for outcome, first, second in zip(outcomes, a, b, strict=True):
        if first.answer is None or second.answer is None:
            continue
        ok = [is_correct(x.answer.action, outcome, band) for x in (first, second)]
        err = [(x.answer.confidence - int(right)) ** 2 for x, right in zip((first, second), ok,
                                                                           strict=True)]
        diff = err[1] - err[0]
        for index, value in enumerate((1, ok[0], ok[1], ok[0] and ok[1], err[0], err[1], diff,
                                       diff * diff)):
            sums[index] += value
    return PairCounts(int(sums[0]), int(sums[1]), int(sums[2]), int(sums[3]),
                      float(sums[4]), float(sums[5]), float(sums[6]), float(sums[7]))


def promote(
    workspace: Workspace, engine: Engine, agent: str, source: str = "candidate",
    target: str = PRODUCTION, *, force: bool = False, days: float | None = None,
    alpha: float | None = None, reason: str | None = None,
) -> Promotion:
    """Move ``target`` to ``source``'s version when it compares better (see module doc)."""
    from prompt_repo.repo import PromptRepo

    comparison = compare_live(workspace, engine, agent, target, source, days=days, alpha=alpha)
    if comparison.verdict != "better" and not force:
        raise NotPromoted(f"not promoted: {describe(comparison)}", comparison)
    why = (reason + "\n\n" if reason else "") + describe(comparison)
    if force and comparison.verdict != "better":
        why = f"forced, without a conclusive comparison: {why}"
    with PromptRepo(workspace) as repo:
        move = repo.labels().set(agent, target, comparison.b_sha, reason=why, forced=force)
    return Promotion(comparison, move, force)


def describe(c: Comparison) -> str:
    """One line: the verdict with its counts and p-value."""
    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.0%}"

    head = (f"{c.b} ({c.b_sha[:7]}) vs {c.a} ({c.a_sha[:7]}) on {c.pairs} paired decisions:"
            f" accuracy {pct(c.b_accuracy)} vs {pct(c.a_accuracy)}, {c.only_b} fixed /"
            f" {c.only_a} broken")
    if c.verdict == "better":
        return f"{head}; better (one-sided p={c.p_b_better:.3g} < {c.alpha:g})"
    if c.verdict == "worse":
        return f"{head}; worse (one-sided p={c.p_b_worse:.3g} < {c.alpha:g})"
    more = ("no difference seen yet" if c.needed_more is None
            else f"about {c.needed_more} more paired decisions needed at these rates")
    return f"{head}; inconclusive (one-sided p={c.p_b_better:.3g}, {more})"
