"""Replay: re-run one agent with a given prompt text on recorded decision contexts.

A recorded context (``decisions.context``, written by :class:`agents.DecisionSession`) is
the market snapshot the team saw plus, under ``"team"``, the members' answers in order.
Replaying agent X sends the new prompt text, the snapshot and the answers of the members
that came *before* X at the time — exactly the messages a live call would have built
(:func:`agents.roles.build_messages`). Contexts without ``"team"`` (recorded by other
programs) replay with the snapshot alone.

Many replays run on a bounded thread pool (``concurrency`` workers) sharing ONE client,
hence its on-disk cache (a replay already made costs nothing) and its budget (a spent
budget stops the whole batch: the pending calls are cancelled and ``BudgetExceeded``
propagates). An answer that stays unparseable is an error result of that call, like in a
live session. Results come back in the order of the input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from agents.roles import TEAM_KEY, CallResult, call_agent
from prompt_repo.config import Workspace

if TYPE_CHECKING:
    from agents.protocols import ChatClient

__all__ = [
    "earlier_answers", "replay_context", "replay_many", "replay_jobs", "DEFAULT_CONCURRENCY",
]

DEFAULT_CONCURRENCY = 4


def earlier_answers(context: Mapping[str, Any], agent: str) -> list[dict[str, Any]]:
    """The answers ``agent`` saw when the context was recorded (members before it)."""
    team = context.get(TEAM_KEY) or []
    names = [entry.get("agent") for entry in team]
    if agent not in names:
        return []
    return [dict(entry) for entry in team[: names.index(agent)]]


def replay_context(
    client: ChatClient,
    workspace: Workspace,
    agent: str,
    prompt_text: str,
    context: Mapping[str, Any],
    *,
    prompt_sha: str | None = None,
    temperature: float | None = None,
) -> CallResult:
    """One agent's new answer, with ``prompt_text``, on one recorded context (at the agent's
    configured temperature unless ``temperature`` is given: the replay gate uses 0)."""
    config = workspace.agents.get(agent)
    if temperature is None:
        temperature = config.temperature if config else 0.2
    return call_agent(
        client,
        agent,
        prompt_text,
        context,
        earlier_answers(context, agent),
        prompt_sha=prompt_sha,
        model=(config.model if config else None) or workspace.llm.model,
        temperature=temperature,
    )


def replay_many(
    client: ChatClient,
    workspace: Workspace,
    agent: str,
    prompt_text: str,
    contexts: Sequence[Mapping[str, Any]],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    prompt_sha: str | None = None,
) -> list[CallResult]:
    """Replay one prompt on every context, at most ``concurrency`` calls in flight."""
    jobs = [(prompt_text, context) for context in contexts]
    return replay_jobs(client, workspace, agent, jobs, concurrency=concurrency,
                       prompt_sha=prompt_sha)


def replay_jobs(
    client: ChatClient,
    workspace: Workspace,
    agent: str,
    jobs: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    prompt_sha: str | None = None,
    on_done: Callable[[int, CallResult], None] | None = None,
    temperature: float | None = None,
) -> list[CallResult]:
    """Replay ``(prompt_text, context)`` jobs on one pool; results in input order."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    pool = ThreadPoolExecutor(max_workers=min(concurrency, max(len(jobs), 1)))
    try:
        futures = [
            pool.submit(replay_context, client, workspace, agent, text, context,
                        prompt_sha=prompt_sha, temperature=temperature)
            for text, context in jobs
        ]
        results = []
        for index, future in enumerate(futures):
            results.append(future.result())
            if on_done is not None:
                on_done(index, results[-1])
        return results
    finally:
        # On an error (spent budget, endpoint down) the calls not yet started are dropped.
        pool.shutdown(wait=True, cancel_futures=True)
