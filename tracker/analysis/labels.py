"""Per-label blocks: production and its shadows side by side, on the same decisions.

The production metrics of ``analyze`` never count shadow calls (:func:`sql.calls`). This
module adds, for each agent that had shadow calls in the window, one row per (label,
shadow or not, prompt version) over the decisions *that have a shadow call of that agent*,
so that production and shadow are measured on the same inputs: decisions, with an outcome,
accuracy with its 95% Wilson interval, Brier score. The paired test lives in ``compare``.

Cost: the shadow calls in the window are found through ``ix_agent_outputs_shadow_ts``
(is_shadow, timestamp), and the production calls of those decisions through the decision
index: proportional to the shadow calls, nothing when there are none.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tracker.analysis import sql
from tracker.analysis.metrics import r4, wilson
from tracker.analysis.model import LabelRow

VersionName = Callable[[str, str], str | None]


def label_blocks(
    conn: Connection, window: sql.Window, outcome_type: str, band: float,
    agents: list[str] | None = None, version_name: VersionName | None = None,
) -> dict[str, list[LabelRow]]:
    """Agent -> its per-label rows (production first), for the agents with shadow calls."""
    o, s, r = sql.OUTPUTS, sql.OUTPUTS.alias("s"), sql.OUTCOMES
    shadowed = sa.select(s.c.decision_id, s.c.agent).distinct().where(
        s.c.is_shadow == sa.true(), s.c.timestamp >= window.start,
        s.c.timestamp < window.end).subquery("shadowed")
    ok = sql.correct(o.c.action, r.c.outcome_value, band)
    err = o.c.confidence - ok
    joined = shadowed.join(o, sa.and_(o.c.decision_id == shadowed.c.decision_id,
                                      o.c.agent == shadowed.c.agent)).outerjoin(
        r, sa.and_(r.c.decision_id == o.c.decision_id, r.c.outcome_type == outcome_type))
    query = (
        sa.select(o.c.agent, o.c.is_shadow, o.c.label, o.c.prompt_sha, sa.func.count(),
                  sa.func.count(r.c.outcome_value), sa.func.sum(ok), sa.func.sum(err * err))
        .select_from(joined)
        .where(o.c.action.is_not(None))
        .group_by(o.c.agent, o.c.is_shadow, o.c.label, o.c.prompt_sha)
        .order_by(o.c.agent, o.c.is_shadow, o.c.label, o.c.prompt_sha)
    )
    if agents is not None:
        query = query.where(o.c.agent.in_(agents))
    blocks: dict[str, list[LabelRow]] = {}
    for agent, shadow, label, sha, n, resolved, right, sq_err in conn.execute(query):
        low, high = wilson(int(right or 0), resolved)
        blocks.setdefault(agent, []).append(LabelRow(
            label=label or "production", shadow=bool(shadow), prompt_sha=sha,
            version=(version_name(agent, sha) if version_name and sha else None)
            or (sha[:7] if sha else None),
            decisions=n, with_outcome=resolved,
            accuracy=r4(int(right or 0) / resolved) if resolved else None,
            ci_low=r4(low), ci_high=r4(high),
            brier=r4(float(sq_err) / resolved) if resolved else None,
        ))
    return blocks
