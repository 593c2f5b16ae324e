"""Failure (and success) cases: what the critic LLM and the replay gate are shown.

An agent's output is judged on its OWN action against the decision's outcome of
``outcome_type`` with :func:`tracker.rules.is_correct`; the band is the outcome's
``details["band"]`` when the resolver stored one, else the caller's. Outputs that failed
(``error`` set, no action) are not judged.

Kinds, most instructive first by :attr:`Case.severity`:

- ``confidently_wrong``: wrong with confidence >= :data:`CONFIDENT` (0.7);
- ``wrong``: any other wrong call;
- ``contradiction``: two judged calls of the agent that contradict each other under the
  one definition (:mod:`tracker.contradiction`, with the caller's
  :class:`~tracker.contradiction.ContradictionRule`), at least one of them wrong; each
  call is in at most one pair (the earliest pairs win). The pair is ONE case
  (``case_id`` "d42+d57"): its main fields are those of the worse wrong call, ``others``
  holds the other call;
- ``success``: a correct call (:meth:`DecisionTracker.success_cases`).

:func:`judged_cases` is the other reading, for the walk-forward replay gate: EVERY judged
output of the agent in a time span, one case per decision (no pairing, no ranking),
oldest first, so that what judges a candidate is never chosen by severity.

Severity = confidence x (1 + m / (m + band)), where m is how far the realized return lay from
the rule's boundary: a confident call that missed by a lot scores near 2, a hesitant call that
barely missed near its confidence. A contradiction scores 1.25 x its worse member: the same
agent disagreeing with itself is the clearest sign of an unclear prompt. Successes use the
same formula (confident and clearly right first). Ties: newest first.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from tracker import context_schema
from tracker.contradiction import DEFAULT_RULE, ContradictionRule, pairs
from tracker.rules import is_correct

if TYPE_CHECKING:
    from tracker.store import DecisionTracker

CONFIDENT = 0.7
CONTRADICTION_WEIGHT = 1.25


@dataclass(frozen=True)
class Case:
    case_id: str
    kind: str
    decision_ids: list[int]
    agent: str
    symbol: str
    timestamp: datetime
    market_condition: str | None
    context: dict[str, Any]
    output: dict[str, Any]  # action, confidence, risk_level, reasoning, prompt_sha
    outcome: dict[str, Any]  # type, value, correct, details
    severity: float
    others: list[dict[str, Any]] = field(default_factory=list)  # a pair's other call

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["timestamp"] = self.timestamp.isoformat()
        for other in data["others"]:
            other["timestamp"] = other["timestamp"].isoformat()
        return data


@dataclass
class _Judged:
    """One judged output of the agent (light columns only until it is selected)."""

    decision_id: int
    timestamp: datetime
    symbol: str
    market_condition: str | None
    action: str
    confidence: float
    risk_level: str | None
    prompt_sha: str | None
    outcome_type: str
    value: float
    details: dict[str, Any] | None
    correct: bool
    severity: float
    rsi: float | None  # the context's readings the contradiction rule compares
    macd: float | None

    @property
    def at(self) -> float:
        return self.timestamp.timestamp()

    @property
    def condition(self) -> str | None:
        return self.market_condition


def select_cases(
    tracker: DecisionTracker,
    agent: str,
    days: float,
    limit: int | None,
    until: datetime | None,
    outcome_type: str,
    band: float,
    *,
    failures: bool,
    rule: ContradictionRule = DEFAULT_RULE,
) -> list[Case]:
    until = datetime.now(UTC) if until is None else until
    since = until - timedelta(days=days)
    with tracker.reading() as conn:
        judged = _judged(conn, agent, since, until, outcome_type, band)
        groups = _failure_groups(judged, rule) if failures else [[j] for j in judged if j.correct]
        groups.sort(key=lambda g: (-_group_severity(g), -g[0].timestamp.timestamp()))
        groups = groups[:limit] if limit is not None else groups
        extra = _heavy_columns(conn, agent, [j.decision_id for g in groups for j in g])
    return [_case(agent, group, extra) for group in groups]


def judged_cases(
    tracker: DecisionTracker,
    agent: str,
    since: datetime,
    until: datetime,
    outcome_type: str,
    band: float,
) -> list[Case]:
    """Every judged output of ``agent`` with ``since < timestamp <= until``, oldest first."""
    with tracker.reading() as conn:
        judged = [j for j in _judged(conn, agent, since, until, outcome_type, band)
                  if j.timestamp > since]
        extra = _heavy_columns(conn, agent, [j.decision_id for j in judged])
    return [_case(agent, [j], extra) for j in judged]


def _judged(
    conn: Any, agent: str, since: datetime, until: datetime, outcome_type: str, band: float
) -> list[_Judged]:
    from tracker.store import DECISIONS, OUTCOMES, OUTPUTS

    query = (
        sa.select(
            OUTPUTS.c.decision_id, OUTPUTS.c.timestamp, DECISIONS.c.symbol,
            DECISIONS.c.market_condition, OUTPUTS.c.action, OUTPUTS.c.confidence,
            OUTPUTS.c.risk_level, OUTPUTS.c.prompt_sha, DECISIONS.c.prompt_versions,
            OUTCOMES.c.outcome_value, OUTCOMES.c.details,
            context_schema.sql_value(DECISIONS.c.context, "rsi"),
            context_schema.sql_value(DECISIONS.c.context, "macd_hist"),
        )
        .join(DECISIONS, DECISIONS.c.id == OUTPUTS.c.decision_id)
        .join(OUTCOMES, sa.and_(OUTCOMES.c.decision_id == OUTPUTS.c.decision_id,
                                OUTCOMES.c.outcome_type == outcome_type))
        .where(OUTPUTS.c.agent == agent, OUTPUTS.c.action.is_not(None),
               OUTPUTS.c.timestamp >= since, OUTPUTS.c.timestamp <= until,
               OUTPUTS.c.is_shadow.is_(sa.false()))
        .order_by(OUTPUTS.c.timestamp, OUTPUTS.c.decision_id, OUTPUTS.c.id)
    )
    latest: dict[int, _Judged] = {}  # a retried agent call: its last output counts
    for row in conn.execute(query):
        row_band = _band(row.details, band)
        latest[row.decision_id] = _Judged(
            decision_id=row.decision_id, timestamp=row.timestamp, symbol=row.symbol,
            market_condition=row.market_condition, action=row.action,
            confidence=row.confidence, risk_level=row.risk_level,
            prompt_sha=row.prompt_sha or (row.prompt_versions or {}).get(agent),
            outcome_type=outcome_type, value=row.outcome_value, details=row.details,
            correct=is_correct(row.action, row.outcome_value, row_band),
            severity=severity(row.action, row.confidence, row.outcome_value, row_band),
            rsi=context_schema.number(row[-2]), macd=context_schema.number(row[-1]),
        )
    return list(latest.values())


def severity(action: str, confidence: float, forward_return: float, band: float) -> float:
    """confidence x (1 + m/(m + band)), m = distance of the return from the rule's boundary."""
    boundary = {"BUY": forward_return - band, "SELL": -forward_return - band,
                "HOLD": band - abs(forward_return)}[action]
    margin = abs(boundary)
    spread = margin / (margin + band) if margin + band > 0 else 0.0
    return round(confidence * (1.0 + spread), 6)


def _band(details: dict[str, Any] | None, default: float) -> float:
    value = (details or {}).get("band")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return default


def _failure_groups(judged: list[_Judged], rule: ContradictionRule) -> list[list[_Judged]]:
    """Wrong calls, each alone or in a contradictory pair (primary member first)."""
    paired: set[int] = set()
    groups: list[list[_Judged]] = []
    for first, second in pairs(judged, rule):
        ids = {first.decision_id, second.decision_id}
        if ids & paired or (first.correct and second.correct):
            continue
        paired.update(ids)
        wrong = [j for j in (first, second) if not j.correct]
        primary = max(wrong, key=lambda j: j.severity)
        groups.append([primary, second if primary is first else first])
    groups.extend([j] for j in judged if not j.correct and j.decision_id not in paired)
    return groups


def _group_severity(group: list[_Judged]) -> float:
    if len(group) > 1:
        return round(group[0].severity * CONTRADICTION_WEIGHT, 6)
    return group[0].severity


def _heavy_columns(conn: Any, agent: str, ids: list[int]) -> dict[int, tuple[Any, Any]]:
    """(context, the agent's reasoning) of the selected decisions only."""
    from tracker.store import DECISIONS, OUTPUTS

    if not ids:
        return {}
    query = (
        sa.select(DECISIONS.c.id, DECISIONS.c.context, OUTPUTS.c.reasoning)
        .join(OUTPUTS, sa.and_(OUTPUTS.c.decision_id == DECISIONS.c.id, OUTPUTS.c.agent == agent,
                               OUTPUTS.c.is_shadow.is_(sa.false())))
        .where(DECISIONS.c.id.in_(ids))
        .order_by(OUTPUTS.c.id)
    )
    return {row.id: (row.context, row.reasoning) for row in conn.execute(query)}


def _case(agent: str, group: list[_Judged], extra: dict[int, tuple[Any, Any]]) -> Case:
    main = group[0]
    if len(group) > 1:
        kind = "contradiction"
    elif main.correct:
        kind = "success"
    else:
        kind = "confidently_wrong" if main.confidence >= CONFIDENT else "wrong"
    return Case(
        case_id="+".join(f"d{j.decision_id}" for j in sorted(group, key=lambda j: j.decision_id)),
        kind=kind,
        decision_ids=sorted(j.decision_id for j in group),
        agent=agent,
        symbol=main.symbol,
        timestamp=main.timestamp,
        market_condition=main.market_condition,
        context=extra.get(main.decision_id, (None, None))[0] or {},
        output=_output(main, extra),
        outcome=_outcome(main),
        severity=_group_severity(group),
        others=[_member(j, extra) for j in group[1:]],
    )


def _output(item: _Judged, extra: dict[int, tuple[Any, Any]]) -> dict[str, Any]:
    return {
        "action": item.action,
        "confidence": item.confidence,
        "risk_level": item.risk_level,
        "reasoning": extra.get(item.decision_id, (None, None))[1],
        "prompt_sha": item.prompt_sha,
    }


def _outcome(item: _Judged) -> dict[str, Any]:
    return {"type": item.outcome_type, "value": item.value, "correct": item.correct,
            "details": item.details}


def _member(item: _Judged, extra: dict[int, tuple[Any, Any]]) -> dict[str, Any]:
    return {
        "decision_id": item.decision_id,
        "timestamp": item.timestamp,
        "market_condition": item.market_condition,
        "context": extra.get(item.decision_id, (None, None))[0] or {},
        "output": _output(item, extra),
        "outcome": _outcome(item),
    }
