"""``promptloop serve`` speed, each number next to a baseline measured in the same run.

The server is a real ``promptloop serve`` process on a free loopback port, on a fresh
workspace (SQLite in the workspace, one worker, uvicorn's access log on, as shipped).

1. HTTP ingestion: N decisions (3 agent outputs each, as benchmarks/bench_tracker.py makes
   them) in batches of 500 from 8 concurrent clients (threads, one httpx.Client each; the
   JSON bodies are encoded before the clock starts). Baseline: in-process
   ``DecisionTracker.track_decisions`` of the same decisions, in the same batches, into a
   fresh SQLite file. Target: HTTP >= 0.5x the baseline.
2. Peak server memory during (1): the server process's VmHWM (peak RSS) from /proc, next
   to its RSS once started.
3. Single-decision POSTs from 32 concurrent clients: throughput, p50 and p99 latency.
4. ``GET /v1/prompts/MarketAnalyst`` from 8 clients: requests/s with ``If-None-Match``
   (304, no body) against the same requests without it (200 with the text).
5. ``GET /v1/rollups`` over what (1) and (3) stored: the first (computing) request against
   the cached ones.

Requests are bounded in count (the options) and time (a 60 s timeout each; the whole run
stops at ``--deadline`` seconds).

    python benchmarks/bench_server.py [--decisions 40000] [--singles 3200] [--reads 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_tracker import decision  # noqa: E402

BATCH = 500
PROMPTLOOP = str(Path(sys.executable).with_name("promptloop"))


def items(start: int, count: int, prefix: str) -> list[dict[str, Any]]:
    return [{**decision(i), "external_id": f"{prefix}-{i}"} for i in range(start, start + count)]


def encode(batch: list[dict[str, Any]]) -> bytes:
    return json.dumps({"decisions": batch}, default=_iso).encode()


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(root: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PROMPTLOOP_", "OPENAI_"))}
    with log.open("wb") as out:
        server = subprocess.Popen([PROMPTLOOP, "serve", "--port", str(port)], cwd=root,
                                  env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the server did not come up")


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (the peak RSS) of a process, in MB (Linux /proc)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields


def concurrently(clients: int, jobs: list[Any], work: Callable[[httpx.Client, Any], None],
                 deadline: float) -> float:
    """Run ``work(client, job)`` for every job on ``clients`` threads; the wall time."""
    pending = iter(jobs)
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(timeout=60) as client:
            while time.monotonic() < deadline:
                with lock:
                    job = next(pending, None)
                if job is None:
                    return
                work(client, job)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(worker) for _ in range(clients)]:
            future.result()
    if time.monotonic() >= deadline:
        raise SystemExit("stopped at the deadline")
    return time.perf_counter() - started


def bench_baseline(rows: list[dict[str, Any]], folder: Path) -> float:
    from tracker import DecisionTracker

    tracker = DecisionTracker(f"sqlite:///{folder / 'baseline.db'}")
    started = time.perf_counter()
    for start in range(0, len(rows), BATCH):
        tracker.track_decisions(rows[start:start + BATCH])
    elapsed = time.perf_counter() - started
    tracker.close()
    return len(rows) / elapsed


def bench_ingest(base: str, bodies: list[bytes], deadline: float) -> float:
    headers = {"Content-Type": "application/json"}

    def post(client: httpx.Client, body: bytes) -> None:
        answer = client.post(f"{base}/v1/decisions", content=body, headers=headers)
        assert answer.status_code == 200, answer.text[:300]

    return concurrently(8, bodies, post, deadline)


def bench_singles(base: str, count: int, deadline: float) -> dict[str, float]:
    bodies = [encode(items(i, 1, "single")) for i in range(count)]
    latencies: list[float] = []
    headers = {"Content-Type": "application/json"}

    def post(client: httpx.Client, body: bytes) -> None:
        started = time.perf_counter()
        answer = client.post(f"{base}/v1/decisions", content=body, headers=headers)
        latencies.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.text[:300]

    wall = concurrently(32, bodies, post, deadline)
    quantiles = statistics.quantiles(latencies, n=100)
    return {"per_s": count / wall, "p50_ms": quantiles[49] * 1000,
            "p99_ms": quantiles[98] * 1000}


def bench_prompts(base: str, count: int, deadline: float) -> tuple[float, float]:
    url = f"{base}/v1/prompts/MarketAnalyst"
    etag = httpx.get(url).headers["etag"]

    def get(expected: int, headers: dict[str, str]) -> Callable[[httpx.Client, Any], None]:
        def work(client: httpx.Client, _: Any) -> None:
            assert client.get(url, headers=headers).status_code == expected

        return work

    with_etag = concurrently(8, list(range(count)), get(304, {"If-None-Match": etag}), deadline)
    without = concurrently(8, list(range(count)), get(200, {}), deadline)
    return count / with_etag, count / without


def bench_rollups(base: str) -> tuple[float, float]:
    started = time.perf_counter()
    assert httpx.get(f"{base}/v1/rollups", timeout=120).status_code == 200
    first = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(20):
        httpx.get(f"{base}/v1/rollups", timeout=120)
    return first * 1000, (time.perf_counter() - started) / 20 * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=40_000)
    parser.add_argument("--singles", type=int, default=3200)
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--deadline", type=float, default=900.0)
    args = parser.parse_args()
    deadline = time.monotonic() + args.deadline

    from prompt_repo import init_workspace

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = items(0, args.decisions, "bulk")
        baseline = bench_baseline(rows, folder)
        bodies = [encode(rows[start:start + BATCH]) for start in range(0, len(rows), BATCH)]
        del rows
        root = folder / "ws"
        init_workspace(root)
        port = free_port()
        server = start_server(root, port, folder / "serve.log")
        base = f"http://127.0.0.1:{port}"
        try:
            idle = memory_mb(server.pid)
            http = args.decisions / bench_ingest(base, bodies, deadline)
            peak = memory_mb(server.pid)
            singles = bench_singles(base, args.singles, deadline)
            etag_rps, plain_rps = bench_prompts(base, args.reads, deadline)
            rollups_first, rollups_cached = bench_rollups(base)
        finally:
            server.terminate()
            server.wait(timeout=60)
    print(f"HTTP ingestion, batches of {BATCH}, 8 clients: {http:,.0f} decisions/s; in-process "
          f"track_decisions: {baseline:,.0f}/s; ratio {http / baseline:.2f}x (target >= 0.5x)")
    print(f"server memory: {idle['VmRSS']:.0f} MB RSS once started, peak {peak['VmHWM']:.0f} MB "
          f"(VmHWM) after ingesting {args.decisions:,} decisions")
    print(f"single-decision POSTs, 32 clients: {singles['per_s']:,.0f}/s, p50 "
          f"{singles['p50_ms']:.1f} ms, p99 {singles['p99_ms']:.1f} ms")
    print(f"GET /v1/prompts, 8 clients: {etag_rps:,.0f} req/s with If-None-Match (304) vs "
          f"{plain_rps:,.0f} req/s without (200); {etag_rps / plain_rps:.2f}x")
    print(f"GET /v1/rollups over {args.decisions + args.singles:,} decisions: first "
          f"{rollups_first:.0f} ms, cached {rollups_cached:.1f} ms")


if __name__ == "__main__":
    main()
