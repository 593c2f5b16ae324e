"""``/healthz`` (the process answers) and ``/readyz`` (the database and git answer too).

Both are open without a key, for load balancers and orchestrators; neither says more than
which check failed and why in one line.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from prompt_repo.errors import PromptRepoError
from server.context import ServerContext
from tracker.errors import TrackerError

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> Any:
    """The database answers a query and the git workspace can be read."""
    context: ServerContext = request.app.state.context
    checks = {"database": _check_database(context), "git": _check_git(context)}
    ready = all(result == "ok" for result in checks.values())
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks},
                        status_code=200 if ready else 503)


def _check_database(context: ServerContext) -> str:
    try:
        context.tracker.decisions(limit=1)  # a real read of the schema
    except TrackerError as exc:
        return str(exc)
    return "ok"


def _check_git(context: ServerContext) -> str:
    try:
        with context.prompts() as repo:
            for agent in repo.agents()[:1]:
                repo.log(agent, limit=1)
    except PromptRepoError as exc:
        return str(exc)
    return "ok"
