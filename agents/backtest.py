"""Backtest: the team's sessions over historical data, outcomes resolved from the same data.

:func:`run_backtest` runs one :class:`agents.DecisionSession` at every ``every`` step of
``[start, end]`` (both inclusive), each seeing only the candles complete before its
moment, recorded with ``is_simulated=True`` under one session id, and then resolves the
outcomes (forward return over ``horizon``) from the same market data.

Resumable: the session id is derived from the symbol, the step and the prompt versions
and model settings of the team (:func:`backtest_session_id`), and moments already
recorded under it are skipped. An interrupted backtest (Ctrl-C, a spent budget, a dead
endpoint) is resumed by running the same command again; nothing is recorded twice. A
changed prompt makes a new session id, hence a fresh backtest of the new version.

Sessions run on a bounded thread pool (``concurrency``) sharing one LLM client (its cache
and budget). A session whose decider or risk agent gave no usable answer
(:class:`agents.session.SessionFailed`) records nothing and is listed in the result; a
rerun tries it again. ``LLMError`` and ``BudgetExceeded`` stop the run: sessions already
started finish and are recorded, the others are cancelled.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from agents.errors import AgentError
from agents.session import (
    DecisionSession,
    SessionFailed,
    SessionResult,
    agent_model,
    read_prompt_versions,
    read_prompts,
    team_spec,
)
from agents.shadow import shadow_spec
from prompt_repo.config import Workspace
from prompt_repo.labels import PRODUCTION

if TYPE_CHECKING:
    from agents.protocols import ChatClient, MarketData
    from tracker.store import DecisionTracker

__all__ = [
    "BacktestResult",
    "backtest_session_id",
    "parse_every",
    "run_backtest",
    "schedule",
]

_DURATION = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


@dataclass
class BacktestResult:
    session_id: str
    planned: int
    skipped: int  # already recorded by an earlier run
    decision_ids: list[int] = field(default_factory=list)
    failed: list[tuple[datetime, str]] = field(default_factory=list)
    outcomes: int = 0  # outcomes resolved at the end

    @property
    def ran(self) -> int:
        return len(self.decision_ids)


def parse_every(text: str) -> timedelta:
    """``"4h"`` -> 4 hours; units m, h, d."""
    match = _DURATION.match(text)
    if not match or int(match.group(1)) == 0:
        raise AgentError(f"cannot read the step {text!r}: write e.g. 30m, 4h or 1d")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def schedule(start: datetime, end: datetime, every: timedelta) -> list[datetime]:
    """The session moments: start, start + every, ... up to end inclusive."""
    if end < start:
        raise AgentError(f"the backtest ends ({end:%Y-%m-%d %H:%M}) before it starts")
    count = int((end - start) / every) + 1
    return [start + every * n for n in range(count)]


def backtest_session_id(symbol: str, every: timedelta, workspace: Workspace,
                        prompts: Mapping[str, Any], model: str | None = None,
                        shadows: Mapping[str, Any] | None = None) -> str:
    """Same symbol, step, prompts (and shadow prompts) and model settings -> same id, so
    reruns resume."""
    team: dict[str, Any] = {
        agent: [prompts[agent].sha, agent_model(workspace, agent, model),
                workspace.agents[agent].temperature]
        for agent in sorted(prompts)
    }
    if shadows:  # only then: the ids of backtests without shadows stay what they were
        team["shadow"] = {agent: shadows[agent].sha for agent in sorted(shadows)}
    digest = hashlib.sha1(json.dumps(team, sort_keys=True).encode()).hexdigest()[:10]
    step = f"{int(every.total_seconds() // 60)}m"
    return f"backtest-{symbol}-{step}-{digest}"


def run_backtest(
    workspace: Workspace,
    symbol: str,
    start: datetime,
    end: datetime,
    *,
    every: timedelta = timedelta(hours=4),
    market: MarketData,
    client: ChatClient,
    tracker: DecisionTracker,
    concurrency: int = 1,
    horizon: str = "24h",
    band: float | None = None,
    model: str | None = None,
    on_progress: Callable[[int, int, SessionResult | None], None] | None = None,
    label: str = PRODUCTION,
    shadow: Mapping[str, str] | None = None,
) -> BacktestResult:
    """Run the sessions not yet recorded, then resolve outcomes (see the module doc).
    ``label``/``shadow``: the prompts the team and its shadows run, as in a session."""
    team = team_spec(workspace)
    prompts = read_prompts(workspace, team.order, label)
    shadows = shadow_spec(workspace, team.order, shadow)
    session_id = backtest_session_id(symbol, every, workspace, prompts, model,
                                     read_prompt_versions(workspace, shadows))
    moments = schedule(start, end, every)
    _check_range(market, symbol, start, end)
    done = _recorded(tracker, symbol, session_id, start, end)
    todo = [when for when in moments if when not in done]
    result = BacktestResult(session_id, planned=len(moments), skipped=len(moments) - len(todo))

    def one(when: datetime) -> SessionResult:
        session = DecisionSession(
            symbol, True, workspace=workspace, market=market, client=client, tracker=tracker,
            when=when, is_simulated=True, session_id=session_id, prompts=prompts, model=model,
            label=label, shadow=shadows,
        )
        return session.run_session()

    _run_all(one, todo, concurrency, result, on_progress)
    result.outcomes = _resolve(tracker, market, symbol, horizon, band)
    return result


def _run_all(
    one: Callable[[datetime], SessionResult],
    todo: list[datetime],
    concurrency: int,
    result: BacktestResult,
    on_progress: Callable[[int, int, SessionResult | None], None] | None,
) -> None:
    if concurrency < 1:
        raise AgentError("concurrency must be at least 1")
    pool = ThreadPoolExecutor(max_workers=concurrency)
    pending: dict[Future[SessionResult], datetime] = {}
    queue = iter(todo)
    try:
        # Submit lazily, at most `concurrency` in flight: an interruption then loses nothing
        # but the sessions in flight, and those are waited for and recorded.
        for when in queue:
            pending[pool.submit(one, when)] = when
            if len(pending) >= concurrency:
                _collect(pending, result, on_progress, len(todo))
        while pending:
            _collect(pending, result, on_progress, len(todo))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _collect(
    pending: dict[Future[SessionResult], datetime],
    result: BacktestResult,
    on_progress: Callable[[int, int, SessionResult | None], None] | None,
    total: int,
) -> None:
    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
    for future in finished:
        when = pending.pop(future)
        session: SessionResult | None = None
        try:
            session = future.result()
        except SessionFailed as exc:
            result.failed.append((when, str(exc)))
        else:
            # backtest sessions always track, so every result has its decision id
            result.decision_ids.append(cast(int, session.decision_id))
        if on_progress is not None:
            on_progress(result.ran + len(result.failed), total, session)


def _check_range(market: MarketData, symbol: str, start: datetime, end: datetime) -> None:
    """A file source covers a fixed period: moments outside it would see stale data."""
    first, last = getattr(market, "start", None), getattr(market, "end", None)
    if first is not None and start <= first:
        raise AgentError(f"the {symbol} data starts at {first:%Y-%m-%d %H:%M}: start the"
                         " backtest after it, so the agents have some history")
    if last is not None and end > last:
        raise AgentError(f"the {symbol} data ends at {last:%Y-%m-%d %H:%M}: end the backtest"
                         " at or before it")


def _recorded(tracker: DecisionTracker, symbol: str, session_id: str, start: datetime,
              end: datetime) -> set[datetime]:
    return {
        record.timestamp
        for record in tracker.decisions(symbol=symbol, since=start, until=end)
        if record.session_id == session_id
    }


def _resolve(tracker: DecisionTracker, market: MarketData, symbol: str, horizon: str,
             band: float | None) -> int:
    from tracker.resolve import resolve_outcomes

    kwargs = {"band": band} if band is not None else {}
    return resolve_outcomes(tracker, market, horizon=horizon, symbol=symbol, **kwargs).resolved
