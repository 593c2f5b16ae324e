"""The dashboard's agent page over a large tracker, next to a baseline in the same run.

A workspace under /tmp (reused between runs when present: seeding is the slow part) holds
``--decisions`` decisions (1,000,000 by default) of MarketAnalyst spread over the last 30
days (one agent output each, three market conditions, an outcome for 9 in 10), bulk-ingested
with ``DecisionTracker.track_decisions`` in batches and the outcomes inserted in the same
schema. A real ``promptloop serve`` process on a free loopback port answers:

- the agent page ``/agents/MarketAnalyst`` (30 days): one warm-up request (the first
  request computes the page's analysis: its time is reported), then ``--requests`` (50)
  sequential requests: p50 and p95. Target: p95 <= 1 s.
- baseline: ``GET /v1/analysis?agent=MarketAnalyst`` over the same 30 days (the same
  aggregation, uncached, as every page ran it before the page cache): ``--baseline``
  requests, p50.

The pages are cached for 10 s (stale while revalidate), so some of the 50 requests are
served while a background thread recomputes: their time includes that contention, as in
production.

    python benchmarks/bench_dashboard.py [--decisions 1000000] [--requests 50]
        [--folder /tmp/promptloop-bench-dashboard]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_server import free_port, start_server  # noqa: E402

BATCH = 5000
AGENT = "MarketAnalyst"
CONDITIONS = ("trending", "volatile", "ranging")
ACTIONS = ("BUY", "SELL", "HOLD")


def decision(i: int, start: datetime, step: timedelta, sha: str) -> dict[str, Any]:
    action = ACTIONS[i % 3]
    return {
        "session_id": f"s{i // 10}", "symbol": ("BTCUSDT", "ETHUSDT")[i % 2],
        "timestamp": start + step * i, "action": action, "confidence": (i % 100) / 100,
        "market_condition": CONDITIONS[i % 7 % 3], "context": {"price": 40_000 + i % 997},
        "reasoning": "Momentum is positive.", "prompt_versions": {AGENT: sha},
        "agent_outputs": [{"agent": AGENT, "prompt_sha": sha, "action": action,
                           "confidence": (i % 100) / 100, "reasoning": "Because."}],
    }


def seed(root: Path, count: int) -> None:
    """Make the workspace and its tracker unless a previous run left them complete."""
    from prompt_repo import PromptRepo, init_workspace
    from prompt_repo.config import load_workspace
    from tracker import DecisionTracker
    from tracker.models import Decision, Outcome

    done = root / "seeded"
    if done.exists() and done.read_text() == str(count):
        return
    if root.exists():
        raise SystemExit(f"{root} is left from another run: remove it or pass --folder")
    init_workspace(root)
    workspace = load_workspace(root)
    with PromptRepo(workspace) as repo:
        sha = repo.log(AGENT)[0].sha
    tracker = DecisionTracker(workspace.database_url)
    start = datetime.now(UTC) - timedelta(days=29)
    step = timedelta(days=28) / count  # all inside the page's 30-day window for a day
    outcomes = sa.insert(Outcome.__table__)  # type: ignore[arg-type]
    began = time.perf_counter()
    for first in range(0, count, BATCH):
        rows = [decision(i, start, step, sha) for i in range(first, min(first + BATCH, count))]
        ids = tracker.track_decisions(rows)
        values = [{"decision_id": id_, "outcome_type": "return_24h",
                   "outcome_value": (-0.03, 0.02, 0.04)[(id_ * 7) % 3],
                   "timestamp": row["timestamp"] + timedelta(days=1), "details": None}
                  for id_, row in zip(ids, rows, strict=True) if id_ % 10]
        with tracker.engine.begin() as conn:
            conn.execute(outcomes, values)
    with tracker.engine.connect() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(
            Decision.__table__)).scalar_one()  # type: ignore[arg-type]
    tracker.close()
    done.write_text(str(count))
    print(f"seeded {stored:,} decisions in {time.perf_counter() - began:.0f} s", flush=True)


def timed_get(client: httpx.Client, url: str) -> float:
    started = time.perf_counter()
    answer = client.get(url)
    elapsed = time.perf_counter() - started
    assert answer.status_code == 200, answer.text[:300]
    return elapsed


def p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--baseline", type=int, default=5)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/promptloop-bench-dashboard"))
    args = parser.parse_args()
    root = args.folder / f"ws-{args.decisions}"
    seed(root, args.decisions)
    port = free_port()
    server = start_server(root, port, args.folder / "serve.log")
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=600) as client:
            first = timed_get(client, f"/agents/{AGENT}")
            page = [timed_get(client, f"/agents/{AGENT}") for _ in range(args.requests)]
            analysis = [timed_get(client, f"/v1/analysis?agent={AGENT}&days=30")
                        for _ in range(args.baseline)]
    finally:
        server.terminate()
        server.wait(timeout=60)
    print(f"agent page over {args.decisions:,} decisions: first request (computes) "
          f"{first * 1000:.0f} ms; then {args.requests} requests: p50 {p(page, 50):.0f} ms, "
          f"p95 {p(page, 95):.0f} ms (target <= 1000 ms)")
    print(f"baseline GET /v1/analysis (uncached, same agent and window), {args.baseline} "
          f"requests: p50 {p(analysis, 50):.0f} ms; page p50 is "
          f"{p(analysis, 50) / p(page, 50):.0f}x faster")


if __name__ == "__main__":
    main()
