"""LLM client overhead and tolerant patching speed.

1. LLMClient against a local OpenAI-compatible stub (127.0.0.1, fixed 200 ms per call), from a
   thread pool: the wall time must stay within 1.25x of (calls / concurrency) x latency, i.e.
   the client adds no hidden serial wait (lock held across a request, a single connection...).
   The baseline measured in the same run is plain httpx POSTs from the same pool. The first
   call of a process (importing openai and building its types, about a second) is timed apart.
   A cached rerun of the same calls is timed as well (zero HTTP calls expected).
2. apply_unified_diff on a 2,000-line prompt with 20 hunks (wrong line numbers, one whitespace
   variant), against a strict exact-position application as the baseline.

Run: ``.venv/bin/python benchmarks/bench_llm.py``
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from agents.llm import LLMClient  # noqa: E402
from optimizer.patch import apply_unified_diff  # noqa: E402
from prompt_repo.config import LLMSettings  # noqa: E402

LATENCY = 0.200
CALLS = 64
CONCURRENCY = 8


class Stub(BaseHTTPRequestHandler):
    hits = 0
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        with Stub.lock:
            Stub.hits += 1
        time.sleep(LATENCY)
        text = json.dumps({"action": "HOLD", "echo": body["messages"][-1]["content"]})
        payload = json.dumps({
            "id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": 50, "completion_tokens": 10, "total_tokens": 60},
        }).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


def timed(fn, jobs: list[int]) -> float:
    start = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(fn, jobs))
    return time.perf_counter() - start


def bench_client(base_url: str) -> list[tuple[str, float, str]]:
    ideal = CALLS / CONCURRENCY * LATENCY
    with httpx.Client(timeout=10, limits=httpx.Limits(max_connections=100)) as http:
        def raw(i: int) -> None:
            http.post(f"{base_url}/chat/completions", json={
                "model": "stub", "messages": [{"role": "user", "content": f"q{i}"}]})
        baseline = timed(raw, list(range(CALLS)))

    with tempfile.TemporaryDirectory() as cache:
        settings = LLMSettings(model="stub", base_url=base_url, api_key="sk-bench",
                               max_calls=1000)
        client = LLMClient(settings, cache_dir=Path(cache))
        start = time.perf_counter()  # once per process: import openai, build its types
        client.chat([{"role": "user", "content": "warm-up"}])
        cold = time.perf_counter() - start
        ask = lambda i: client.chat([{"role": "user", "content": f"q{i}"}])  # noqa: E731
        hits_before = Stub.hits
        ours = timed(ask, list(range(CALLS)))
        rerun_client = LLMClient(settings, cache_dir=Path(cache))
        hits_mid = Stub.hits
        rerun = timed(lambda i: rerun_client.chat([{"role": "user", "content": f"q{i}"}]),
                      list(range(CALLS)))
        assert Stub.hits == hits_mid, "cached rerun made HTTP calls"
        assert hits_mid - hits_before == CALLS and client.usage.calls == CALLS + 1
    return [
        ("LLMClient first call (cold start, 1 call)", cold, f"{cold - LATENCY:.2f} s setup"),
        ("ideal (calls/concurrency x latency)", ideal, "1.00x"),
        ("plain httpx, same pool (baseline)", baseline, f"{baseline / ideal:.2f}x"),
        ("LLMClient.chat, no cache hits", ours, f"{ours / ideal:.2f}x (limit 1.25x)"),
        ("LLMClient.chat, cached rerun", rerun, f"{rerun_client.usage.calls} HTTP calls"),
    ]


def bench_patch() -> list[tuple[str, float, str]]:
    lines = [f"Rule {i}: weigh indicator {i % 17} against trend {i % 5}." for i in range(2000)]
    original = "\n".join(lines) + "\n"
    hunks = []
    for k in range(20):
        i = 50 + k * 97
        context = lines[i - 2:i] if k % 7 else [lines[i - 2] + "  ", lines[i - 1]]
        hunks.append(f"@@ -{i + 300},3 +{i + 300},3 @@\n"
                     + "".join(f" {c}\n" for c in context)
                     + f"-{lines[i]}\n+{lines[i]} Unless volume is low.\n")
    diff = "```diff\n" + "".join(reversed(hunks)) + "```\n"
    repeats = 20
    start = time.perf_counter()
    for _ in range(repeats):
        result = apply_unified_diff(original, diff)
    ours = (time.perf_counter() - start) / repeats
    assert result.count("Unless volume is low.") == 20

    start = time.perf_counter()
    for _ in range(repeats):
        strict = list(lines)
        for k in range(20):
            strict[50 + k * 97] += " Unless volume is low."
        "\n".join(strict)
    baseline = (time.perf_counter() - start) / repeats
    return [
        ("strict in-place edit (baseline)", baseline, "1.00x"),
        ("apply_unified_diff, 2,000 lines, 20 hunks", ours, f"{ours / baseline:.0f}x"),
    ]


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        rows = bench_client(base_url) + bench_patch()
    finally:
        server.shutdown()
    print(f"{CALLS} calls, concurrency {CONCURRENCY}, stub latency {LATENCY * 1000:.0f} ms")
    print(f"{'case':44} {'seconds':>9}  ratio")
    for name, seconds, ratio in rows:
        print(f"{name:44} {seconds:9.4f}  {ratio}")


if __name__ == "__main__":
    main()
