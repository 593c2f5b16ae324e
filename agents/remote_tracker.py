"""``RemoteTracker``: the part of :class:`tracker.DecisionTracker` a :class:`DecisionSession`
uses, spoken over HTTP to ``promptloop serve`` (docs/server.md).

- ``track_decision`` sends one decision and returns its id; ``track_decisions`` sends many,
  ``batch_size`` per request; ``track_decision_outcome`` sends one outcome.
- Every decision gets an ``external_id`` before its first attempt (the caller's, or a fresh
  one): a retry of a request whose answer was lost sends the same ids, so the server answers
  ``duplicate`` with the stored id and never stores a decision twice.
- Retried, up to ``attempts`` times with exponential backoff (honouring Retry-After):
  connection errors, timeouts, 429 and 5xx. Anything else (401, 403, 413, 422, ...) fails at
  once with :class:`RemoteTrackerError` carrying the server's status and one-line message.

``transport`` lets tests route the client in process (an ``httpx.ASGITransport`` or a
Starlette TestClient's transport) instead of a socket.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx

from agents.errors import RemoteTrackerError

__all__ = ["RemoteTracker", "RemoteTrackerError"]

RETRIED_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class RemoteTracker:
    """A client of the tracker service at ``url`` with the key ``key`` (None: open server)."""

    def __init__(self, url: str, key: str | None = None, *, batch_size: int = 500,
                 attempts: int = 5, backoff: float = 0.2, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._http = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout,
                                  transport=transport)
        self.batch_size, self.attempts, self.backoff = batch_size, max(1, attempts), backoff

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RemoteTracker:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def track_decision(self, **decision: Any) -> int:
        """Record one decision (``DecisionTracker.track_decision``'s arguments); its id."""
        return self.track_decisions([decision])[0]

    def track_decisions(self, decisions: Iterable[Mapping[str, Any]]) -> list[int]:
        """Record decisions, ``batch_size`` per request; ids in input order. Batches before
        a refused one stay recorded (each batch is all or nothing on the server)."""
        items = [_with_external_id(decision) for decision in decisions]
        ids: list[int] = []
        for start in range(0, len(items), self.batch_size):
            batch = items[start:start + self.batch_size]
            answer = self._post("/v1/decisions", {"decisions": batch})
            ids += [int(item["id"]) for item in answer["items"]]
        return ids

    def track_decision_outcome(self, decision_id: int, outcome_type: str, outcome_value: float,
                               details: Mapping[str, Any] | None = None, *,
                               timestamp: datetime | None = None) -> int:
        """Record the outcome of a decision; returns its id (the stored one on a retry)."""
        item: dict[str, Any] = {"decision_id": decision_id, "outcome_type": outcome_type,
                                "outcome_value": outcome_value}
        if details is not None:
            item["details"] = dict(details)
        if timestamp is not None:
            item["timestamp"] = timestamp
        return int(self._post("/v1/outcomes", {"outcomes": [item]})["items"][0]["id"])

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        content = _json_bytes(body)  # encoded once: every attempt sends the same bytes
        headers = {"Content-Type": "application/json"}
        for attempt in range(1, self.attempts + 1):
            try:
                response = self._http.post(path, content=content, headers=headers)
            except httpx.TransportError as exc:
                if attempt == self.attempts:
                    raise RemoteTrackerError(f"tracker service unreachable at "
                                             f"{self._http.base_url}: {exc}") from exc
                self._sleep(attempt, None)
                continue
            if response.status_code < 300:
                answer: dict[str, Any] = response.json()
                return answer
            if response.status_code not in RETRIED_STATUS or attempt == self.attempts:
                raise _refusal(response)
            self._sleep(attempt, response.headers.get("retry-after"))
        raise AssertionError("unreachable")  # the loop returns or raises

    def _sleep(self, attempt: int, retry_after: str | None) -> None:
        delay = self.backoff * 2 ** (attempt - 1)
        if retry_after and retry_after.replace(".", "", 1).isdigit():
            delay = max(delay, min(float(retry_after), 60.0))
        time.sleep(delay)


def _with_external_id(decision: Mapping[str, Any]) -> dict[str, Any]:
    item = {key: value for key, value in decision.items() if value is not None}
    item.setdefault("external_id", uuid.uuid4().hex)
    if "agent_outputs" in item:
        item["agent_outputs"] = [dict(output) for output in item["agent_outputs"]]
    return item


def _json_bytes(body: Any) -> bytes:
    import json

    try:
        return json.dumps(body, default=_encode, allow_nan=False).encode()
    except (TypeError, ValueError) as exc:  # nothing was sent
        raise RemoteTrackerError(f"cannot send this to the tracker service: {exc}") from exc


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Sequence | set | frozenset) and not isinstance(value, str | bytes):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"cannot send a {type(value).__name__} to the tracker service")


def _refusal(response: httpx.Response) -> RemoteTrackerError:
    try:
        message = str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        message = response.text[:200] or response.reason_phrase
    return RemoteTrackerError(f"tracker service answered {response.status_code}: {message}",
                              status=response.status_code)
