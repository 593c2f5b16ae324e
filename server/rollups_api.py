"""``GET /v1/rollups`` (scope ``read``): the dashboard's pre-aggregated numbers.

Rows per agent, prompt version, market condition and UTC hour (:mod:`tracker.rollups`),
served from a per-worker cache at most ``max_age_seconds`` old, under the outcome type and
band of the workspace's ``[analysis]`` table (as ``promptloop analyze`` reads them).
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi import APIRouter, Depends, Request

from server.auth import require
from server.context import ServerContext

router = APIRouter(prefix="/v1", tags=["read"], dependencies=[Depends(require("read"))])
_STARTING = threading.Lock()


@router.get("/rollups")
def get_rollups(request: Request, agent: str | None = None) -> dict[str, Any]:
    """Per agent, prompt sha, market condition and hour: decisions, sum_confidence,
    with_outcome, correct, sum_squared_error (accuracy and Brier add up from them)."""
    context: ServerContext = request.app.state.context
    table = context.workspace.section("analysis")
    settings = {key: value for key, value in (("outcome_type", table.get("outcome_type")),
                                              ("band", table.get("band"))) if value is not None}
    cache = _cache(request)
    return cache.get(agent, **settings).to_dict(cache.max_age)


def _cache(request: Request) -> Any:
    from tracker.rollups import RollupCache

    state = request.app.state
    with _STARTING:
        cache: RollupCache | None = getattr(state, "rollup_cache", None)
        if cache is None or cache.engine is not state.context.tracker.engine:
            cache = state.rollup_cache = RollupCache(state.context.tracker.engine)
    return cache
