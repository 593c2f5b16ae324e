"""How long ``analyze`` takes on a million decisions, against hand-written SQL.

Data: 1,000,000 decisions over the 30 days of the window, 10 agents (each decision carries
the output of one of them, so 100,000 calls per agent), 5 symbols, 4 market conditions,
3 prompt versions per agent, an outcome (return_24h) on 90% of them, an indicator context
and a reasoning of about 190 characters (unique texts) on each. Written with raw
``sqlite3.executemany`` into a schema made by ``tracker.db.connect`` (the migrated one);
generation time is not measured.

Measured, each in a fresh process (best of RUNS, and the peak RSS of that process):

- ``analyze``: ``analyze_performance(engine, None, 30)`` — every agent and the final
  decisions: metrics, breakdowns, calibration, inconsistency checks, suggestions, and the
  metrics stored in performance_metrics;
- ``baseline``: the same core metrics by hand: for the agents' calls and for the final
  decisions, one plain GROUP BY query each for the headline (count, with outcome, right,
  Brier, realized return), by market condition (with the action mix), by prompt version,
  by confidence bin and by day — ten queries through ``sqlite3``, no Python roll-up. The
  queries keep SQLite off the timestamp index like analyze does (``+timestamp``), so the
  comparison measures the library, not the planner.

- ``one-scan``: for reference, the two GROUP BY queries analyze itself sends, through
  ``sqlite3``, one after the other, with nothing else: the floor of its approach on one core;
- ``floor``: the same rows read with the same joins and summed, no grouping: what any
  approach that aggregates in the database pays.

analyze runs its two GROUP BYs on two worker threads; its wall time beats one-scan only as
far as the machine runs two threads at once (on the 2-vCPU machine of the numbers in
docs/analysis.md, two busy processes got about 1.1x the work of one done).

Targets (issue 7): analyze <= 2x baseline, <= 3 s, <= 500 MB peak RSS. Wall times are the
best of RUNS; CPU seconds (all threads) are less sensitive to a busy machine.

    python benchmarks/bench_analyze.py [--decisions N] [--runs R] [--keep DB]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

END = datetime(2026, 1, 31, tzinfo=UTC)
DAYS = 30
AGENTS = [f"Agent{i}" for i in range(10)]
SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT"]
CONDITIONS = ["bullish", "bearish", "sideways", "volatile"]
VIEWS = [
    "RSI is oversold and a bullish divergence formed on the 4h chart",
    "a bearish breakdown below support with heavy selling pressure",
    "no clear trend, volume is average",
    "momentum is not bearish and the price is recovering",
    "funding rates are flat and open interest is unchanged",
    "despite the weak demand, the uptrend holds",
]
RISKS = ["Volatility is elevated, so size stays small.", "Liquidity is thin over the weekend.",
         "No major events are scheduled.", "A retest of the range high is possible."]
BAND = 0.005
_cpu_at_start = 0.0


def generate(path: Path, n: int, seed: int = 7) -> None:
    from tracker.db import connect

    connect(f"sqlite:///{path}").dispose()  # the migrated schema
    rng = random.Random(seed)
    start = END - timedelta(days=DAYS)
    step = DAYS * 86400 / n
    decisions, outputs, outcomes = [], [], []
    for i in range(1, n + 1):
        ts = (start + timedelta(seconds=(i - 0.5) * step)).strftime("%Y-%m-%d %H:%M:%S.%f")
        agent = AGENTS[i % len(AGENTS)]
        sha = f"{agent}{min(2, 3 * i // n)}".ljust(40, "0")
        action = rng.choice(("BUY", "SELL", "HOLD"))
        confidence = round(rng.random(), 3)
        context = json.dumps({"price": round(rng.uniform(90, 110), 2), "indicators": {
            "rsi_14": round(rng.uniform(10, 90), 1), "macd_hist": round(rng.uniform(-1, 1), 3)}})
        reasoning = (  # unique texts of LLM-like length (~190 characters)
            f"RSI at {rng.uniform(10, 90):.1f} and MACD histogram {rng.uniform(-1, 1):+.3f}: "
            f"{rng.choice(VIEWS)}. {rng.choice(RISKS)} Price is {rng.uniform(-3, 3):+.2f}% "
            "from the 20-period average."
        )
        decisions.append((i, f"s{i}", rng.choice(SYMBOLS), ts, action, confidence, reasoning,
                          rng.choice(CONDITIONS), 0, json.dumps([agent]), context,
                          json.dumps({agent: sha})))
        outputs.append((i, i, agent, ts, sha, action, confidence, reasoning))
        if rng.random() < 0.9:
            outcomes.append((i, "return_24h", rng.gauss(0, 0.02), ts))
    con = sqlite3.connect(path)
    con.executemany(
        "INSERT INTO decisions (id, session_id, symbol, timestamp, action, confidence, "
        "reasoning, market_condition, is_simulated, agent_types, context, prompt_versions) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", decisions)
    con.executemany(
        "INSERT INTO agent_outputs (id, decision_id, agent, timestamp, prompt_sha, action, "
        "confidence, reasoning) VALUES (?,?,?,?,?,?,?,?)", outputs)
    con.executemany(
        "INSERT INTO outcomes (decision_id, outcome_type, outcome_value, timestamp) "
        "VALUES (?,?,?,?)", outcomes)
    con.commit()
    con.execute("ANALYZE")
    con.close()


def _baseline_queries() -> list[str]:
    ok = (f"CASE WHEN o.outcome_value IS NULL THEN NULL WHEN c.action = 'BUY' THEN "
          f"o.outcome_value > {BAND} WHEN c.action = 'SELL' THEN o.outcome_value < -{BAND} "
          f"ELSE abs(o.outcome_value) <= {BAND} END")
    core = (f"count(*), count(o.outcome_value), sum({ok}), "
            f"sum((c.confidence - ({ok})) * (c.confidence - ({ok}))), "
            "sum(CASE c.action WHEN 'BUY' THEN o.outcome_value WHEN 'SELL' THEN "
            "-o.outcome_value ELSE 0 END)")
    start, end = (END - timedelta(days=DAYS)).strftime("%Y-%m-%d"), END.strftime("%Y-%m-%d")
    sources = {
        "c.agent": "agent_outputs c JOIN decisions d ON d.id = c.decision_id",
        "'overall'": "decisions c JOIN decisions d ON d.id = c.id",
    }
    queries = []
    for who, source in sources.items():
        frm = (f"FROM {source} LEFT JOIN outcomes o ON o.decision_id = d.id AND "
               f"o.outcome_type = 'return_24h' WHERE +c.timestamp >= '{start}' "
               f"AND +c.timestamp < '{end}'")
        queries += [
            f"SELECT {who}, {core} {frm} GROUP BY 1",
            f"SELECT {who}, d.market_condition, {core}, sum(c.action = 'BUY'), "
            f"sum(c.action = 'SELL'), sum(c.action = 'HOLD') {frm} GROUP BY 1, 2",
            f"SELECT {who}, min(CAST(c.confidence * 10 AS INTEGER), 9), {core}, "
            f"avg(c.confidence) {frm} GROUP BY 1, 2",
            f"SELECT {who}, date(c.timestamp), {core} {frm} GROUP BY 1, 2",
        ]
        if who == "c.agent":
            queries.append(f"SELECT {who}, c.prompt_sha, {core} {frm} GROUP BY 1, 2")
    return queries


def _one_scan_queries() -> list[str]:
    """The floor of analyze's own approach: its two GROUP BYs (period, bin and action packed
    in one integer key; correctness summed, not grouped on), run one after the other, rows
    fetched and nothing else (no roll-up, checks or storage)."""
    r = "o.outcome_value"
    ok = (f"CASE WHEN {r} IS NULL THEN NULL WHEN c.action = 'BUY' THEN {r} > {BAND} "
          f"WHEN c.action = 'SELL' THEN {r} < -{BAND} ELSE abs({r}) <= {BAND} END")
    key = ("CAST(julianday(c.timestamp) + 0.5 AS INTEGER) * 1000 + "
           "coalesce(min(CAST(c.confidence * 10 AS INTEGER), 9), 10) * 10 + "
           "CASE c.action WHEN 'BUY' THEN 0 WHEN 'SELL' THEN 1 WHEN 'HOLD' THEN 2 ELSE 3 END")
    sums = (f"count(*), count({r}), sum({ok}), sum(c.confidence), "
            f"sum(iif({r} IS NULL, 0, c.confidence)), "
            f"sum(iif({r} IS NULL, 0, c.confidence * c.confidence)), "
            f"sum(c.confidence * ({ok})), sum({r})")
    outcome = "LEFT JOIN outcomes o ON o.decision_id = {id} AND o.outcome_type = 'return_24h'"
    return [
        f"SELECT * FROM (SELECT {key}, d.market_condition, c.prompt_sha, c.agent, {sums} "
        f"FROM agent_outputs c JOIN decisions d ON d.id = c.decision_id "
        f"{outcome.format(id='c.decision_id')} {_WHERE} GROUP BY 1, 2, 3, 4) ORDER BY 1, 2, 3, 4",
        f"SELECT * FROM (SELECT {key}, c.market_condition, {sums} FROM decisions c "
        f"{outcome.format(id='c.id')} {_WHERE} GROUP BY 1, 2) ORDER BY 1, 2",
    ]


def _floor_queries() -> list[str]:
    """Reading the same rows with the same joins and one SUM, no grouping: what any
    approach that reads the calls in the database pays."""
    outcome = "LEFT JOIN outcomes o ON o.decision_id = {id} AND o.outcome_type = 'return_24h'"
    return [
        "SELECT count(d.market_condition), sum(c.confidence), sum(o.outcome_value) "
        "FROM agent_outputs c JOIN decisions d ON d.id = c.decision_id "
        f"{outcome.format(id='c.decision_id')} {_WHERE}",
        "SELECT count(c.market_condition), sum(c.confidence), sum(o.outcome_value) "
        f"FROM decisions c {outcome.format(id='c.id')} {_WHERE}",
    ]


_WHERE = (f"WHERE +c.timestamp >= '{(END - timedelta(days=DAYS)).strftime('%Y-%m-%d')}' "
          f"AND +c.timestamp < '{END.strftime('%Y-%m-%d')}'")


def run_baseline(db: Path, queries: list[str] | None = None) -> int:
    con = sqlite3.connect(db)
    rows = sum(len(con.execute(q).fetchall()) for q in (queries or _baseline_queries()))
    con.close()
    return rows


def run_analyze(db: Path) -> int:
    from tracker.analysis import analyze_performance
    from tracker.db import connect

    engine = connect(f"sqlite:///{db}")
    report = analyze_performance(engine, None, DAYS, until=END)
    engine.dispose()
    return len(report.agents)


def _child(kind: str, db: Path) -> None:
    global _cpu_at_start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _cpu_at_start = usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    runs = {"analyze": run_analyze, "baseline": run_baseline,
            "one-scan": lambda db: run_baseline(db, _one_scan_queries()),
            "floor": lambda db: run_baseline(db, _floor_queries())}
    size = runs[kind](db)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - _cpu_at_start
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": _peak_rss_mb(), "size": size}))


def _peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM, unlike ru_maxrss, starts afresh at exec: the child
    does not inherit the high-water mark of the parent that generated the data."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure(kind: str, db: Path, runs: int) -> dict[str, float]:
    results = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, __file__, "--child", kind, str(db)],
                             capture_output=True, text=True, check=True)
        results.append(json.loads(out.stdout))
    best = min(results, key=lambda r: r["seconds"])
    return {"seconds": best["seconds"], "cpu": min(r["cpu"] for r in results),
            "peak_mb": max(r["peak_mb"] for r in results)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None,
                        help="database file to reuse (generated if missing)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], Path(args.child[1]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        db = args.keep or Path(tmp) / "bench.db"
        if not db.exists():
            started = time.perf_counter()
            generate(db, args.decisions)
            took = time.perf_counter() - started
            print(f"generated {args.decisions:,} decisions in {took:.0f} s")
        results = {kind: _measure(kind, db, args.runs)
                   for kind in ("baseline", "floor", "one-scan", "analyze")}
    analyze = results["analyze"]
    print(f"{'':10} {'wall s':>8} {'CPU s':>8} {'peak MB':>8} {'analyze/this (wall)':>20}")
    for name, r in results.items():
        print(f"{name:10} {r['seconds']:8.2f} {r['cpu']:8.2f} {r['peak_mb']:8.0f} "
              f"{analyze['seconds'] / r['seconds']:20.2f}")
    print("targets: analyze <= 2x baseline, <= 3 s, <= 500 MB peak RSS")


if __name__ == "__main__":
    main()
