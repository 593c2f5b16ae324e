"""The dashboard: server-rendered HTML pages on the tracker, the prompts and the analysis.

Pages (Jinja2 templates in ``server/templates``, autoescaped: reasoning, context and prompt
text are untrusted; CSS and HTMX in ``server/static``, shipped in the package, no CDN):

- ``/``: every agent's decisions, accuracy with its 95% Wilson interval, Brier, ECE and
  trend (from :func:`tracker.analysis.analyze_performance`), and the latest decisions, a
  fragment HTMX polls every 2 s (``/fragments/decisions``) so new decisions and outcomes
  appear without a reload;
- ``/agents/{name}``: accuracy over time with version and label markers, the reliability
  diagram (SVG drawn here, :mod:`server.dashboard_charts`), per-condition table,
  inconsistencies and the latest failure cases with their reasoning and context;
- ``/agents/{name}/prompt``: versions with their scores and accuracy, labels, the diff
  between any two versions, and the promote and rollback forms (admin, CSRF-protected),
  which call :func:`agents.release.promote` and :meth:`prompt_repo.PromptRepo.rollback`;
- ``/runs``: optimization runs with their gates, counts and diffs.

The analysis behind the overview, agent and prompt pages is cached per worker with a
stated freshness (10 s, stale while revalidate; :mod:`server.dashboard_data`), so a page
over a million decisions does not re-aggregate them per request.

Access and CSRF: :mod:`server.dashboard_auth`. Routes only call the packages and render.
"""

from __future__ import annotations

import threading
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from server.context import ServerContext
from server.dashboard_auth import (
    CSRF_COOKIE,
    KEY_COOKIE,
    Viewer,
    csrf_ok,
    csrf_token,
    read_form,
    safe_next,
    viewer,
)

if TYPE_CHECKING:
    from server.dashboard_data import Views

router = APIRouter(include_in_schema=False)
_STARTING = threading.Lock()
_STATIC = {"htmx.min.js": "text/javascript", "dashboard.css": "text/css"}
_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'")
DEFAULT_DAYS = 30


@cache
def _templates() -> Environment:
    return Environment(loader=PackageLoader("server", "templates"),
                       autoescape=select_autoescape(default=True, default_for_string=True))


def _context(request: Request) -> ServerContext:
    context: ServerContext = request.app.state.context
    return context


def _views(request: Request) -> Views:
    """This worker's cache of page views (made on first use, dropped with the context)."""
    from tracker.rollups import FreshCache

    state = request.app.state
    with _STARTING:
        if getattr(state, "dashboard_views_of", None) is not state.context:
            state.dashboard_views, state.dashboard_views_of = FreshCache(), state.context
    views: Views = state.dashboard_views
    return views


def _page(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    token = csrf_token(request)
    who = values.pop("who", None) or viewer(request)
    body = _templates().get_template(template).render(csrf=token, who=who, **values)
    response = HTMLResponse(body, status_code=status)
    response.headers["Content-Security-Policy"] = _CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    if request.cookies.get(CSRF_COOKIE) != token:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
    return response


def _gate(request: Request, scope: str = "read") -> Viewer | Response:
    """The viewer when allowed; else the login redirect or a 403 page."""
    who = viewer(request)
    if who is None:
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"/login?next={target}", status_code=303)
    if not who.may(scope):
        name = who.key.name if who.key else "?"
        return _page(request, "error.html", 403, who=who, title="Forbidden",
                     message=f"key {name!r} may not do this: it needs the {scope} scope")
    return who


def _unknown_agent(request: Request, who: Viewer, name: str) -> Response | None:
    if name in _context(request).workspace.agents:
        return None
    return _page(request, "error.html", 404, who=who, title="Not found",
                 message=f"no agent named {name!r} in this workspace")


# -- static files and login ----------------------------------------------------------------

@router.get("/static/{name}")
def static(name: str) -> Response:
    if name not in _STATIC:
        return Response("not found", status_code=404, media_type="text/plain")
    data = files("server").joinpath("static", name).read_bytes()
    return Response(data, media_type=_STATIC[name],
                    headers={"Cache-Control": "public, max-age=3600"})


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    return _page(request, "login.html", next=safe_next(next), error=None,
                 who=Viewer(None, False))


@router.post("/login")
async def login(request: Request) -> Response:
    form = await read_form(request)
    target = safe_next(form.get("next"))
    if not csrf_ok(request, form):
        return _refused(request)
    secret = form.get("key", "").strip()
    key = _context(request).keys.authenticate(secret) if secret else None
    if key is None:
        return _page(request, "login.html", 401, next=target, who=Viewer(None, False),
                     error="unknown or revoked API key")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(KEY_COOKIE, secret, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    if not csrf_ok(request, await read_form(request)):
        return _refused(request)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(KEY_COOKIE)
    return response


def _refused(request: Request) -> Response:
    return _page(request, "error.html", 403, who=Viewer(None, False), title="Refused",
                 message="the form's CSRF token is missing or stale: reload the page and retry")


# -- pages ---------------------------------------------------------------------------------

@router.get("/", response_class=HTMLResponse)
def overview(request: Request, days: int = DEFAULT_DAYS) -> Response:
    who = _gate(request)
    if isinstance(who, Response):
        return who
    from server import dashboard_data as data

    report = data.overview_report(_context(request), _views(request), _days(days))
    rows = data.overview_rows(report, list(_context(request).workspace.agents))
    decisions = _context(request).tracker.decisions(limit=15)
    return _page(request, "overview.html", who=who, rows=rows, days=_days(days),
                 decisions=decisions)


@router.get("/fragments/decisions", response_class=HTMLResponse)
def latest_decisions(request: Request, agent: str | None = None) -> Response:
    who = _gate(request)
    if isinstance(who, Response):
        return who
    decisions = _context(request).tracker.decisions(agent=agent, limit=15)
    return _page(request, "_decisions.html", who=who, decisions=decisions)


@router.get("/agents/{name}", response_class=HTMLResponse)
def agent_page(request: Request, name: str, days: int = DEFAULT_DAYS) -> Response:
    who = _gate(request)
    if isinstance(who, Response):
        return who
    if (missing := _unknown_agent(request, who, name)) is not None:
        return missing
    from server import dashboard_data as data

    values = data.agent_view(_context(request), _views(request), name, _days(days))
    decisions = _context(request).tracker.decisions(agent=name, limit=15)
    return _page(request, "agent.html", who=who, agent=name, days=_days(days),
                 decisions=decisions, **values)


@router.get("/agents/{name}/prompt", response_class=HTMLResponse)
def prompt_page(request: Request, name: str, a: str | None = None,
                b: str | None = None) -> Response:
    who = _gate(request)
    if isinstance(who, Response):
        return who
    if (missing := _unknown_agent(request, who, name)) is not None:
        return missing
    return _prompt(request, who, name, a, b)


@router.post("/agents/{name}/promote", response_class=HTMLResponse)
async def promote(request: Request, name: str) -> Response:
    return await _admin_action(request, name, "promote")


@router.post("/agents/{name}/rollback", response_class=HTMLResponse)
async def rollback(request: Request, name: str) -> Response:
    return await _admin_action(request, name, "rollback")


@router.get("/runs", response_class=HTMLResponse)
def runs_page(request: Request, agent: str | None = None) -> Response:
    who = _gate(request)
    if isinstance(who, Response):
        return who
    runs = _context(request).tracker.optimization_runs(agent=agent or None, limit=100)
    return _page(request, "runs.html", who=who, runs=runs, agent=agent)


async def _admin_action(request: Request, name: str, action: str) -> Response:
    from starlette.concurrency import run_in_threadpool

    from server import dashboard_data as data

    form = await read_form(request)
    if not csrf_ok(request, form):
        return _refused(request)
    who = _gate(request, "admin")
    if isinstance(who, Response):
        return who
    if (missing := _unknown_agent(request, who, name)) is not None:
        return missing
    work = data.promote if action == "promote" else data.rollback
    notice, error = await run_in_threadpool(work, _context(request), name, form)
    return _prompt(request, who, name, None, None, notice=notice, error=error,
                   status=200 if error is None else 409)


def _prompt(request: Request, who: Viewer, name: str, a: str | None, b: str | None,
            notice: str | None = None, error: str | None = None, status: int = 200
            ) -> Response:
    from server import dashboard_data as data

    values = data.prompt_view(_context(request), _views(request), name, a, b)
    return _page(request, "prompt.html", status, who=who, agent=name, notice=notice,
                 error=error or values.pop("diff_error"), **values)


def _days(days: int) -> int:
    return min(max(days, 1), 3650)
