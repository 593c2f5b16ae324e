"""Sessions per second and replay throughput against a local OpenAI-compatible stub.

The stub (127.0.0.1, a process of its own, a thread per request) answers every chat
completion after a fixed 200 ms. A session is three dependent calls (MarketAnalyst -> RiskManager ->
TradingAdvisor), so its ideal time is 3 x 200 ms; sessions run concurrently through
``agents.backtest.run_backtest`` (tracking into a SQLite file included). Replay is one
call per recorded context through ``agents.replay.replay_many``.

Per concurrency 1, 4 and 16 the table shows the wall time, the throughput, the ideal
wall time (calls / concurrency x latency) and the ratio to it, and the same for the
baseline measured in this run: bare ``httpx`` POSTs to the same stub from the same
number of threads (what the stub and the HTTP stack cost with no promptloop code).
Target: replay within 1.25x of ideal.

    python benchmarks/bench_session.py
"""

from __future__ import annotations

import dataclasses
import json
import math
import multiprocessing
import socket
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

LATENCY = 0.2
CONCURRENCY = (1, 4, 16)
ANSWER = json.dumps({"action": "HOLD", "confidence": 0.55, "risk_level": "MEDIUM",
                     "reasoning": "benchmark answer"})


class Stub(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real server

    def setup(self) -> None:
        super().setup()
        # Without this, the reply's second segment waits for the client's delayed ACK
        # (~40 ms on Linux): a cost of the stub, not of what is measured.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(LATENCY)
        body = json.dumps({
            "id": "x", "object": "chat.completion", "created": 0, "model": "stub",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": ANSWER}}],
            "usage": {"prompt_tokens": 400, "completion_tokens": 40, "total_tokens": 440},
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class StubServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # 16 clients connecting at once overflow the default 5


def _serve(port: Any) -> None:
    server = StubServer(("127.0.0.1", 0), Stub)
    port.send(server.server_address[1])
    server.serve_forever()


def start_stub() -> tuple[Any, str]:
    """The stub in a process of its own, like a real server: it must not share this
    process's GIL with the code being measured."""
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("fork").Process(target=_serve, args=(child,),
                                                          daemon=True)
    process.start()
    return process, f"http://127.0.0.1:{parent.recv()}/v1"


def make_workspace(folder: Path, url: str) -> Any:
    from prompt_repo import init_workspace, load_workspace
    from prompt_repo.config import LLMSettings

    init_workspace(folder)
    ws = load_workspace(folder)
    llm = LLMSettings(model="stub", base_url=url, api_key="sk-bench", max_calls=100_000,
                      max_tokens=100_000_000)
    return dataclasses.replace(ws, llm=llm)


def raw_baseline(url: str, calls: int, concurrency: int) -> float:
    import httpx

    payload = {"model": "stub", "messages": [{"role": "user", "content": "x"}]}
    with httpx.Client(timeout=30) as http, ThreadPoolExecutor(concurrency) as pool:
        start = time.perf_counter()
        list(pool.map(lambda _: http.post(f"{url}/chat/completions", json=payload),
                      range(calls)))
        return time.perf_counter() - start


def bench_sessions(ws: Any, concurrency: int, sessions: int, db: Path) -> float:
    from agents.backtest import run_backtest
    from agents.llm import LLMClient
    from agents.market import load_sample
    from tracker import DecisionTracker

    market = load_sample()
    start_at = market.all_candles[100].timestamp
    end_at = start_at + timedelta(hours=4) * (sessions - 1)
    tracker = DecisionTracker(f"sqlite:///{db}")
    client = LLMClient(ws.llm, use_cache=False)
    start = time.perf_counter()
    result = run_backtest(ws, "BTCUSDT", start_at, end_at, every=timedelta(hours=4),
                          market=market, client=client, tracker=tracker,
                          concurrency=concurrency)
    wall = time.perf_counter() - start
    assert result.ran == sessions, result
    return wall


def bench_replay(ws: Any, concurrency: int, contexts: list[dict[str, Any]]) -> float:
    from agents.llm import LLMClient
    from agents.replay import replay_many

    client = LLMClient(ws.llm, use_cache=False)
    start = time.perf_counter()
    results = replay_many(client, ws, "TradingAdvisor", "You are a benchmark.", contexts,
                          concurrency=concurrency)
    wall = time.perf_counter() - start
    assert all(r.ok for r in results)
    return wall


def replay_contexts(ws: Any, count: int) -> list[dict[str, Any]]:
    from agents.demo_log import synthetic_decisions
    from agents.market import load_sample
    from agents.session import team_spec

    team = team_spec(ws)
    decisions = synthetic_decisions(load_sample(), "BTCUSDT", dict.fromkeys(team.order, "0" * 40),
                                    team)
    return [d["context"] for d in decisions[:count]]


def row(name: str, c: int, units: int, calls: int, wall: float, raw: float) -> str:
    ideal = math.ceil(calls / c) * LATENCY
    return (f"{name:<9}{c:>4}{units:>7}{calls:>7}{wall:>9.2f}{units / wall:>9.2f}"
            f"{ideal:>8.2f}{wall / ideal:>8.2f}{raw:>8.2f}{wall / raw:>8.2f}")


def main() -> None:
    server, url = start_stub()
    folder = Path(tempfile.mkdtemp(prefix="bench-session-"))
    ws = make_workspace(folder / "ws", url)
    contexts = replay_contexts(ws, 160)
    # Warm-up (imports, first connections, the alembic migration code) outside the timings.
    bench_sessions(ws, 1, 1, folder / "warmup.db")
    raw_baseline(url, 2, 1)
    print(f"stub latency {LATENCY * 1000:.0f} ms; ideal = ceil(calls / c) x latency;"
          " raw = bare httpx POSTs, same calls, same threads")
    print(f"{'what':<9}{'c':>4}{'units':>7}{'calls':>7}{'wall s':>9}{'units/s':>9}"
          f"{'ideal':>8}{'/ideal':>8}{'raw s':>8}{'/raw':>8}")
    worst = 0.0
    for c in CONCURRENCY:
        sessions = 6 * c if c < 16 else 48
        calls = 3 * sessions
        wall = bench_sessions(ws, c, sessions, folder / f"s{c}.db")
        # sessions: 3 dependent calls each, so calls/c rounds per session wave
        raw = raw_baseline(url, calls, c)
        print(row("sessions", c, sessions, calls, wall, raw))
    for c in CONCURRENCY:
        n = 10 * c
        wall = bench_replay(ws, c, contexts[:n])
        raw = raw_baseline(url, n, c)
        worst = max(worst, wall / (math.ceil(n / c) * LATENCY))
        print(row("replay", c, n, n, wall, raw))
    print(f"replay worst ratio to ideal: {worst:.2f} (target <= 1.25):"
          f" {'OK' if worst <= 1.25 else 'MISSED'}")
    server.terminate()


if __name__ == "__main__":
    main()
