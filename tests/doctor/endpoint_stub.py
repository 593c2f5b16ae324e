"""An OpenAI-compatible endpoint on 127.0.0.1 for the doctor tests, in a thread.

Unlike tests/support/llm_stub_server.py it also answers ``GET /v1/models``, and it can
behave like a server without json_schema support (HTTP 400 naming ``response_format``, as
vLLM and llama.cpp do). Every request is kept in ``.requests`` as (method, path, body).
The CLI runs in a subprocess, out of respx's reach, hence a real server.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Endpoint:
    """``with Endpoint(models=[...]) as server:``; ``server.url`` is the base URL."""

    def __init__(self, models: list[str] | None = None, *, json_schema: bool = True) -> None:
        self.models = models if models is not None else ["gpt-4o-mini"]
        self.json_schema = json_schema
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> Endpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, dict]:
        self.requests.append((method, path, body))
        if method == "GET" and path == "/v1/models":
            return 200, {"object": "list", "data": [
                {"id": m, "object": "model", "created": 0, "owned_by": "stub"}
                for m in self.models]}
        if method == "POST" and path == "/v1/chat/completions":
            fmt = (body.get("response_format") or {}).get("type")
            if fmt == "json_schema" and not self.json_schema:
                return 400, {"error": {"message": "response_format json_schema is not "
                                                  "supported", "type": "invalid_request"}}
            return 200, completion('{"ok": true}', body.get("model", "stub"))
        return 404, {"error": {"message": f"no route {method} {path}"}}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                status, payload = endpoint.answer(method, self.path, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                self._reply("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._reply("POST")

        return Handler


def completion(text: str, model: str) -> dict[str, Any]:
    return {"id": "chatcmpl-doctor", "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16}}
