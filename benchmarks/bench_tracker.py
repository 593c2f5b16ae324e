"""Tracker ingest speed.

1. Bulk: N decisions (default 200,000) with 3 agent outputs each, recorded by
   ``DecisionTracker.track_decisions`` (validation included) and, as the baseline, by raw
   ``sqlite3.executemany`` of the same rows into the same schema (converting the same
   dicts: JSON text, UTC timestamp strings, explicit ids under one write lock: the least a
   hand-written ingest must do). Both in one transaction, on a fresh file each.
2. Single ``track_decision`` calls (one transaction each) on SQLite, and on PostgreSQL when
   ``PROMPTLOOP_TEST_POSTGRES_URL`` (or ``--postgres URL``) is set.

    python benchmarks/bench_tracker.py [--decisions 200000] [--single 3000] [--rounds 2]
                                       [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

AGENTS = ("MarketAnalyst", "RiskManager", "TradingAdvisor")
ACTIONS = ("BUY", "SELL", "HOLD")
START = datetime(2026, 1, 1, tzinfo=UTC)


def decision(i: int) -> dict[str, Any]:
    return {
        "session_id": f"s{i // 3}",
        "symbol": ("BTCUSDT", "ETHUSDT")[i % 2],
        "timestamp": START + timedelta(minutes=i),
        "action": ACTIONS[i % 3],
        "confidence": (i % 100) / 100,
        "risk_level": "MEDIUM",
        "reasoning": "Momentum is positive and volume confirms the breakout.",
        "market_condition": "trending",
        "context": {"price": 40_000 + i % 997, "rsi": 55.2, "macd": 0.8, "volume": 1234.5},
        "prompt_versions": {agent: "a" * 40 for agent in AGENTS},
        "agent_outputs": [
            {
                "agent": agent, "prompt_sha": "a" * 40, "action": ACTIONS[(i + k) % 3],
                "confidence": 0.5 + k / 10, "risk_level": "LOW", "reasoning": "Because.",
                "raw_output": '{"action": "BUY"}', "error": None, "latency_ms": 812.0,
                "prompt_tokens": 950, "completion_tokens": 120,
            }
            for k, agent in enumerate(AGENTS)
        ],
    }


def bench_tracker_bulk(path: Path, rows: list[dict[str, Any]]) -> float:
    from tracker import DecisionTracker

    tracker = DecisionTracker(f"sqlite:///{path}")
    start = time.perf_counter()
    ids = tracker.track_decisions(rows)
    elapsed = time.perf_counter() - start
    assert len(ids) == len(rows)
    tracker.close()
    return elapsed


DECISION_SQL = (
    "INSERT INTO decisions (id, session_id, symbol, timestamp, action, confidence, risk_level,"
    " reasoning, market_condition, is_simulated, agent_types, context, prompt_versions)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
OUTPUT_SQL = (
    "INSERT INTO agent_outputs (decision_id, agent, timestamp, prompt_sha, action, confidence,"
    " risk_level, reasoning, raw_output, error, latency_ms, prompt_tokens, completion_tokens)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


def bench_raw_bulk(path: Path, rows: list[dict[str, Any]]) -> float:
    from tracker.db import connect

    connect(f"sqlite:///{path}").dispose()  # the same schema, made by the migrations
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    first = (conn.execute("SELECT max(id) FROM decisions").fetchone()[0] or 0) + 1
    decisions, outputs = [], []
    for n, row in enumerate(rows, start=first):
        ts = row["timestamp"].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        decisions.append((
            n, row["session_id"], row["symbol"], ts, row["action"], row["confidence"],
            row["risk_level"], row["reasoning"], row["market_condition"], 0,
            json.dumps([o["agent"] for o in row["agent_outputs"]]), json.dumps(row["context"]),
            json.dumps(row["prompt_versions"]),
        ))
        outputs.extend(
            (n, o["agent"], ts, o["prompt_sha"], o["action"], o["confidence"], o["risk_level"],
             o["reasoning"], o["raw_output"], o["error"], o["latency_ms"], o["prompt_tokens"],
             o["completion_tokens"])
            for o in row["agent_outputs"]
        )
    conn.executemany(DECISION_SQL, decisions)
    conn.executemany(OUTPUT_SQL, outputs)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def bench_single(url: str, count: int) -> float:
    """track_decision calls per second."""
    from tracker import DecisionTracker

    tracker = DecisionTracker(url)
    rows = [decision(i) for i in range(count)]
    start = time.perf_counter()
    for row in rows:
        tracker.track_decision(**row)
    elapsed = time.perf_counter() - start
    tracker.close()
    return count / elapsed


def postgres_schema(base: str) -> tuple[str, Any]:
    import sqlalchemy as sa

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=200_000)
    parser.add_argument("--single", type=int, default=3_000)
    parser.add_argument("--rounds", type=int, default=2, help="bulk runs of each (best kept)")
    parser.add_argument("--postgres", default=os.environ.get("PROMPTLOOP_TEST_POSTGRES_URL"))
    args = parser.parse_args()

    rows = [decision(i) for i in range(args.decisions)]
    raws, ours_runs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):  # alternated, best of each: a busy host hurts less
            raws.append(bench_raw_bulk(Path(tmp, f"raw{round_}.db"), rows))
            ours_runs.append(bench_tracker_bulk(Path(tmp, f"tracker{round_}.db"), rows))
        single_sqlite = bench_single(f"sqlite:///{Path(tmp, 'single.db')}", args.single)
    raw, ours = min(raws), min(ours_runs)
    n = args.decisions
    print(f"bulk ingest: {n:,} decisions x {len(AGENTS)} agent outputs (SQLite, "
          f"best of {args.rounds})")
    print(f"  {'method':<32}{'seconds':>10}{'decisions/s':>14}")
    print(f"  {'raw sqlite3.executemany':<32}{raw:>10.2f}{n / raw:>14,.0f}")
    print(f"  {'DecisionTracker.track_decisions':<32}{ours:>10.2f}{n / ours:>14,.0f}")
    print(f"  ratio tracker/raw (speed): {raw / ours:.2f}x   (target >= 0.5x)")
    print(f"single track_decision calls ({args.single:,}, one transaction each)")
    print(f"  SQLite:     {single_sqlite:>8,.0f}/s   (target >= 1,000/s)")
    if args.postgres:
        url, drop = postgres_schema(args.postgres)
        try:
            print(f"  PostgreSQL: {bench_single(url, args.single):>8,.0f}/s")
        finally:
            drop()
    else:
        print("  PostgreSQL: skipped (set PROMPTLOOP_TEST_POSTGRES_URL or --postgres)")


if __name__ == "__main__":
    main()
