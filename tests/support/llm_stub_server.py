"""A scripted OpenAI-compatible chat endpoint on 127.0.0.1, for tests that run the CLI.

The CLI runs in a subprocess, where respx (which patches httpx in *this* process) cannot
reach: this server answers real HTTP instead. ``OPENAI_BASE_URL=stub.url`` points the
subprocess at it. Every request body is recorded (``stub.requests``), so a test can
assert how many calls were made and what they contained.

Answers come from a script: a list of :class:`Reply` consumed in order, or a function of
the request body (for answers that depend on the prompt received). An unscripted request
gets HTTP 400 (not retried by the client), so a test fails loudly instead of hanging.
The optimize and session tests and the optimize benchmark (with a fixed latency) use it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted HTTP answer. ``delay`` seconds pass before it is sent."""

    text: str | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None  # raw body instead of a chat completion built from ``text``
    delay: float = 0.0
    prompt_tokens: int = 120
    completion_tokens: int = 40


def answer(text: str, **kwargs: Any) -> Reply:
    return Reply(text=text, **kwargs)


def failure(status: int, headers: dict[str, str] | None = None, message: str = "stub") -> Reply:
    body = json.dumps({"error": {"message": message, "type": "stub", "code": status}})
    return Reply(status=status, headers=headers or {}, body=body)


Script = list[Reply] | Callable[[dict[str, Any]], Reply]


class StubLLM:
    """Start with ``with StubLLM(script) as stub:``; ``stub.url`` is the base URL."""

    def __init__(self, script: Script | None = None, *, latency: float = 0.0) -> None:
        self.script: Script = script if script is not None else []
        self.latency = latency
        self.requests: list[dict[str, Any]] = []
        self.spans: list[tuple[float, float]] = []  # (arrived, answered), perf_counter
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> StubLLM:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add(self, *replies: Reply) -> None:
        assert isinstance(self.script, list)
        self.script.extend(replies)

    def _next(self, request: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(request)
            if callable(self.script):
                return self.script(request)
            if not self.script:
                return failure(400, message="stub: no scripted answer left for this request")
            return self.script.pop(0)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                arrived = time.perf_counter()
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                reply = stub._next(request)
                time.sleep(stub.latency + reply.delay)
                body = reply.body if reply.body is not None else _completion(request, reply)
                data = body.encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test): nothing to answer
                with stub._lock:
                    stub.spans.append((arrived, time.perf_counter()))

        return Handler


def _completion(request: dict[str, Any], reply: Reply) -> str:
    return json.dumps({
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 0,
        "model": request.get("model", "stub"),
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": reply.text}}],
        "usage": {"prompt_tokens": reply.prompt_tokens,
                  "completion_tokens": reply.completion_tokens,
                  "total_tokens": reply.prompt_tokens + reply.completion_tokens},
    })
