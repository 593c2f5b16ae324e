"""Bearer keys and scopes (:mod:`tracker.keys` keeps them, hashed).

A /v1 route declares the scope it needs with ``Depends(require("read"))``. Without any
live key and on loopback the server is open (one person on their own machine); once a key
exists, or when listening beyond loopback, every /v1 request needs one. 401: no key, a
malformed header, an unknown or revoked key; 403: a key without the scope. The secret is
never put in a message or a log line.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from server.context import ServerContext
from server.errors import ApiError
from tracker.keys import KeyInfo, allows

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def require(scope: str) -> Callable[[Request], KeyInfo | None]:
    """A dependency that admits a request holding ``scope`` (or any, when open)."""

    def check(request: Request) -> KeyInfo | None:
        context: ServerContext = request.app.state.context
        header = request.headers.get("authorization")
        if header is None:
            if not context.config.public and not context.keys.any_active():
                return None
            raise _unauthorized("an API key is required: send 'Authorization: Bearer <key>'")
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise _unauthorized("the Authorization header must be 'Bearer <key>'")
        key = context.keys.authenticate(secret.strip())
        if key is None:
            raise _unauthorized("unknown or revoked API key")
        if not allows(key.scope, scope):
            raise ApiError(403, "forbidden",
                           f"key {key.name!r} has scope {key.scope}; this needs {scope}")
        return key

    return check


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers=_CHALLENGE)
