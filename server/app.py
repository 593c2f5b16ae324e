"""The FastAPI application: routers, the server's state, errors rendered as JSON.

Every error answers ``{"error": {"status", "code", "message"[, "items"]}}``: the library
packages' errors are mapped here (an unknown agent or version: 404; refused input: 422; the
database unreachable: 503), so routes raise and never build error responses themselves.

The OpenAPI document is at ``/openapi.json``. FastAPI's ``/docs`` and ``/redoc`` pages load
their scripts from a CDN, so they are off: the server works offline, and any OpenAPI viewer
reads the JSON.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from prompt_repo.errors import PromptRepoError, UnknownAgent, UnknownRevision
from server import dashboard, health, ingest, optimize_api, reads, rollups_api
from server.context import ServerConfig, ServerContext, config_from_environment
from server.errors import ApiError
from tracker.errors import DatabaseError, TrackerError, UnknownDecisionError


def create_app(config: ServerConfig | None = None) -> FastAPI:
    """The app on ``config`` (default: from the environment, as each uvicorn worker)."""
    chosen = config or config_from_environment()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.context = ServerContext.open(chosen)
        try:
            yield
        finally:
            app.state.context.close()

    app = FastAPI(title="promptloop", version=version("promptloop"), lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    for router in (health.router, ingest.router, reads.router, optimize_api.router,
                   rollups_api.router, dashboard.router):
        app.include_router(router)
    _install_error_handlers(app)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(PromptRepoError, _prompt_repo_error)
    app.add_exception_handler(TrackerError, _tracker_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(HTTPException, _http_error)


def render(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return render(exc)


async def _prompt_repo_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, UnknownAgent | UnknownRevision):
        return render(ApiError(404, "not_found", str(exc)))
    return render(ApiError(409, "prompt_repo", str(exc)))


async def _tracker_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, UnknownDecisionError):
        return render(ApiError(404, "not_found", str(exc)))
    if isinstance(exc, DatabaseError):
        return render(ApiError(503, "database_unavailable", str(exc)))
    return render(ApiError(422, "invalid_input", str(exc)))


async def _request_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    items = [{"field": ".".join(str(part) for part in error["loc"][1:]),
              "message": str(error["msg"])} for error in exc.errors()]
    message = "; ".join(f"{item['field']}: {item['message']}" for item in items)
    return render(ApiError(422, "invalid_input", message, items))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail: Any = exc.detail
    headers = dict(exc.headers) if exc.headers else None
    return render(ApiError(exc.status_code, "http_error", str(detail), headers=headers))
