"""Errors of the server.

ServerError
├── ServeRefused   ``promptloop serve`` will not start as asked (e.g. a public address
│                  without any key); nothing was started
└── ApiError       a request is refused: an HTTP status, a stable code, a one-line message
                   and, for a batch, the items at fault; rendered as ``{"error": {...}}``
"""

from __future__ import annotations

from typing import Any


class ServerError(Exception):
    """Base of every error raised by server."""


class ServeRefused(ServerError):
    """The server refuses to start with these settings."""


class ApiError(ServerError):
    """A request refused with an HTTP status and a JSON error body."""

    def __init__(self, status: int, code: str, message: str,
                 items: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.items = status, code, message, items
        self.headers = headers

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"status": self.status, "code": self.code,
                                 "message": self.message}
        if self.items is not None:
            error["items"] = self.items
        return {"error": error}
