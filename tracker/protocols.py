"""The tracker as its collaborators use it: small protocols instead of ``Any``.

- :class:`DecisionRecorder`: what a :class:`agents.DecisionSession` records through.
  :class:`tracker.DecisionTracker` (the database) and
  :class:`agents.remote_tracker.RemoteTracker` (``promptloop serve``) both satisfy it.
- :class:`CaseSource`: the cases the optimizer's critic and replay gate read.
- :class:`RunLog`: the optimization runs the optimizer writes and repairs.

The last two are read from the database, so only :class:`tracker.DecisionTracker` satisfies
them; they keep the optimizer's code to what it uses. Each protocol is
``runtime_checkable``; the ``TYPE_CHECKING`` block below is the static check that the
tracker satisfies them (agents/protocols.py checks RemoteTracker: tracker does not import
agents).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from tracker.contradiction import DEFAULT_RULE, ContradictionRule
from tracker.rules import DEFAULT_BAND, DEFAULT_OUTCOME_TYPE

if TYPE_CHECKING:
    from tracker.failures import Case
    from tracker.store import DecisionTracker

__all__ = ["CaseSource", "DecisionRecorder", "RunLog"]


@runtime_checkable
class DecisionRecorder(Protocol):
    """Records decisions and their outcomes; returns the stored ids."""

    def track_decision(
        self,
        *,
        session_id: str,
        symbol: str,
        timestamp: datetime,
        action: str,
        confidence: float,
        risk_level: str | None = None,
        reasoning: str | None = None,
        market_condition: str | None = None,
        is_simulated: bool = False,
        agent_types: Sequence[str] | None = None,
        context: Mapping[str, Any] | None = None,
        prompt_versions: Mapping[str, str] | None = None,
        agent_outputs: Iterable[Mapping[str, Any]] = (),
        external_id: str | None = None,
    ) -> int: ...

    def track_decision_outcome(
        self,
        decision_id: int,
        outcome_type: str,
        outcome_value: float,
        details: Mapping[str, Any] | None = None,
        *,
        timestamp: datetime | None = None,
    ) -> int: ...

    def close(self) -> None: ...


@runtime_checkable
class CaseSource(Protocol):
    """Failure cases before a time cut, and every judged case in a window."""

    def failure_cases(
        self,
        agent: str,
        days: float = 30,
        limit: int | None = 20,
        *,
        until: datetime | None = None,
        outcome_type: str = DEFAULT_OUTCOME_TYPE,
        band: float = DEFAULT_BAND,
        contradiction: ContradictionRule = DEFAULT_RULE,
    ) -> list[Case]: ...

    def judged_cases(
        self,
        agent: str,
        since: datetime,
        until: datetime,
        *,
        outcome_type: str = DEFAULT_OUTCOME_TYPE,
        band: float = DEFAULT_BAND,
    ) -> list[Case]: ...


@runtime_checkable
class RunLog(Protocol):
    """The ``optimization_runs`` rows: listed newest first, updated by run id."""

    def optimization_runs(
        self, agent: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]: ...

    def update_optimization_run(self, run_id: str, **columns: Any) -> None: ...


if TYPE_CHECKING:
    def _satisfied(tracker: DecisionTracker) -> tuple[DecisionRecorder, CaseSource, RunLog]:
        return tracker, tracker, tracker
