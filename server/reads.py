"""Read API v1 (scope ``read``): prompts by label or version, their versions, decisions,
the analysis.

``GET /v1/prompts/{agent}`` answers the prompt a label names (default ``production``) or a
``version`` (vN, a sha); the ETag is the version's sha, so a bot polling for its prompt
sends ``If-None-Match`` and gets 304 until a label moves. An answer for a ``version`` never
changes and says so (``Cache-Control: immutable``); one for a label is revalidated.

``GET /v1/decisions`` pages newest first: each page ends with ``next`` (a cursor, the last
decision's id) to pass as ``before`` for the following page, or null at the end.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from prompt_repo.labels import is_label_name
from server.auth import require
from server.context import ServerContext
from server.errors import ApiError

router = APIRouter(prefix="/v1", tags=["read"], dependencies=[Depends(require("read"))])
_IMMUTABLE = "public, max-age=31536000, immutable"


@router.get("/prompts/{agent}")
def get_prompt(request: Request, response: Response, agent: str,
               label: str | None = None, version: str | None = None) -> Any:
    """The prompt of ``agent`` under ``label`` (default production) or at ``version``."""
    if label is not None and version is not None:
        raise ApiError(422, "invalid_input", "name a label or a version, not both")
    if label is not None and not is_label_name(label):
        raise ApiError(422, "invalid_input", f"label: {label!r} is not a label name")
    with _context(request).prompts() as repo:
        prompt = repo.read(agent, version, label=None if version else label or "production")
        number = next((v.name for v in repo.log(agent) if v.sha == prompt.sha), None)
    etag = f'"{prompt.sha}"'
    headers = {"ETag": etag, "Cache-Control": _IMMUTABLE if version else "no-cache"}
    if etag in _etags(request.headers.get("if-none-match", "")):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return {"agent": agent, "label": None if version else label or "production",
            "version": number, "sha": prompt.sha, "path": prompt.path, "text": prompt.text}


@router.get("/prompts/{agent}/versions")
def get_versions(request: Request, agent: str) -> dict[str, Any]:
    """The versions of ``agent``'s prompt, newest first, with the labels naming each."""
    with _context(request).prompts() as repo:
        versions = repo.log(agent)
        labels: dict[str, list[str]] = {}
        for entry in repo.labels().entries([agent]):
            labels.setdefault(entry.sha, []).append(entry.label)
    return {"agent": agent, "versions": [
        {"version": v.name, "sha": v.sha, "date": v.date.isoformat(), "author": v.author,
         "subject": v.subject, "labels": labels.get(v.sha, [])} for v in versions]}


@router.get("/decisions")
def get_decisions(
    request: Request,
    agent: str | None = None,
    symbol: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before: Annotated[int | None, Query(ge=1, description="a page's next cursor")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Recorded decisions, newest first, with their agent outputs and outcomes."""
    found = _context(request).tracker.decisions(agent=agent, symbol=symbol, since=since,
                                                until=until, limit=limit + 1, before_id=before)
    page = found[:limit]
    return {"decisions": [record.to_dict() for record in page],
            "next": page[-1].id if len(found) > limit else None}


@router.get("/analysis")
def get_analysis(
    request: Request,
    agent: Annotated[list[str] | None, Query()] = None,
    days: Annotated[int, Query(ge=1, le=3650)] = 30,
    until: datetime | None = None,
) -> dict[str, Any]:
    """The document ``promptloop analyze --json`` prints (metrics are not stored)."""
    from server.dashboard_data import analysis

    if until is not None and until.tzinfo is None:
        raise ApiError(422, "invalid_input", "until: give a time zone (e.g. Z)")
    return analysis(_context(request), agent, days, until=until).to_dict()


def _context(request: Request) -> ServerContext:
    context: ServerContext = request.app.state.context
    return context


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}
