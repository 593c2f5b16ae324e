"""``GET /v1/rollups`` (scope ``read``): the dashboard's pre-aggregated numbers.

Rows per agent, prompt version, market condition and UTC hour (:mod:`tracker.rollups`),
served from a per-worker cache at most ``max_age_seconds`` old, under the outcome type and
band of the workspace's ``[analysis]`` table (as ``promptloop analyze`` reads them).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from server.auth import require
from server.context import ServerContext
from server.errors import ApiError

if TYPE_CHECKING:
    from tracker.rollups import RollupCache

router = APIRouter(prefix="/v1", tags=["read"], dependencies=[Depends(require("read"))])
_STARTING = threading.Lock()


@router.get("/rollups", response_class=JSONResponse)
def get_rollups(request: Request, agent: str | None = None,
                since: datetime | None = None) -> JSONResponse:
    """Per agent, prompt sha, market condition and hour (from ``since``'s hour on):
    decisions, sum_confidence, with_outcome, correct, sum_squared_error (accuracy and
    Brier add up from them)."""
    context: ServerContext = request.app.state.context
    if since is not None and since.tzinfo is None:
        raise ApiError(422, "invalid_input", "since: give a time zone (e.g. Z)")
    table = context.workspace.section("analysis")
    settings = {key: value for key, value in (("outcome_type", table.get("outcome_type")),
                                              ("band", table.get("band"))) if value is not None}
    cache = _cache(request)
    document = cache.get(agent, **settings).to_dict(cache.max_age)
    if since is not None:
        first = since.astimezone(UTC).strftime("%Y-%m-%dT%H:00:00Z")  # rows' hour format
        document["rows"] = [row for row in document["rows"] if row["hour"] >= first]
    # the rows are plain JSON already: skip FastAPI's encoder, slow on thousands of rows
    return JSONResponse(document)


def _cache(request: Request) -> RollupCache:
    from tracker.rollups import RollupCache

    state = request.app.state
    with _STARTING:
        cache: RollupCache | None = getattr(state, "rollup_cache", None)
        if cache is None or cache.engine is not state.context.tracker.engine:
            cache = state.rollup_cache = RollupCache(state.context.tracker.engine)
    return cache
