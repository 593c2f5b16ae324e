"""Who may see the dashboard and press its buttons; CSRF protection of its forms.

- Open (no live key, loopback only): everyone is treated as admin, like the /v1 API.
- Otherwise the browser logs in once with an API key (the login form); the key goes into an
  HttpOnly, SameSite=Strict cookie and is checked against :class:`tracker.keys.KeyStore` on
  every request, so revoking the key logs the browser out. Pages need ``read``; promote
  and rollback need ``admin``.
- CSRF: a double-submit token. Each page sets a random token cookie (if absent) and puts
  the same token into its forms; a POST whose form field differs from the cookie is refused
  (403) before anything else happens. A page on another site can neither read the cookie
  nor set it, so it cannot forge the field.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs

from fastapi import Request

from server.context import ServerContext
from tracker.keys import KeyInfo, allows

KEY_COOKIE = "promptloop_key"
CSRF_COOKIE = "promptloop_csrf"
CSRF_FIELD = "csrf"


@dataclass(frozen=True)
class Viewer:
    """The browser's identity: its key (None when the server is open) and what it may do."""

    key: KeyInfo | None
    logged_in: bool

    def may(self, scope: str) -> bool:
        return self.key is None or allows(self.key.scope, scope)


def is_open(context: ServerContext) -> bool:
    return not context.config.public and not context.keys.any_active()


def viewer(request: Request) -> Viewer | None:
    """The viewer of ``request``, or None when it must log in first."""
    context: ServerContext = request.app.state.context
    if is_open(context):
        return Viewer(None, False)
    secret = request.cookies.get(KEY_COOKIE, "")
    key = context.keys.authenticate(secret) if secret else None
    return Viewer(key, True) if key is not None else None


def csrf_token(request: Request) -> str:
    """The token the page's forms carry: the cookie's, or a new one (set by the caller)."""
    return request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)


async def read_form(request: Request) -> dict[str, str]:
    """The urlencoded form of a POST (first value of each field)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return {name: values[0] for name, values in parse_qs(body).items()}


def csrf_ok(request: Request, form: dict[str, str]) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = form.get(CSRF_FIELD, "")
    return bool(cookie) and secrets.compare_digest(cookie.encode(), sent.encode())


def safe_next(target: str | None) -> str:
    """Only a path on this server (no scheme, no ``//host``) is followed after login."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"
