"""Session wall time with one shadow agent vs without, against a stub with a fixed latency.

The stub (``bench_session.start_stub``: 127.0.0.1, a process of its own, every chat
completion answered after 200 ms) serves a workspace whose MarketAnalyst has a pinned
production version and a candidate. A session is three dependent calls (MarketAnalyst ->
RiskManager -> TradingAdvisor), tracked into a SQLite file; with
``shadow={"MarketAnalyst": "candidate"}`` a fourth call runs concurrently with the team.
The two kinds of session alternate (so drift in the machine's load hits both), each
``ROUNDS`` times; the table shows the median and mean wall time per session of each and
their ratio. Target: with a shadow <= 1.1x without.

    python benchmarks/bench_shadow.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from bench_session import LATENCY, make_workspace, start_stub  # noqa: E402

ROUNDS = 12
AGENT = "MarketAnalyst"


def add_candidate(ws: Any) -> None:
    from prompt_repo import PromptRepo

    with PromptRepo(ws) as repo:
        repo.labels().pin_production(AGENT)
        text = repo.read(AGENT).text + "\nCandidate rule: wait for a daily close.\n"
        repo.labels().commit_as(AGENT, "candidate",
                                lambda: repo.apply(AGENT, text, "candidate"))


def one_session(ws: Any, tracker: Any, client: Any, market: Any, when: Any,
                shadow: dict[str, str]) -> float:
    from agents.session import DecisionSession

    session = DecisionSession("BTCUSDT", workspace=ws, market=market, client=client,
                              tracker=tracker, when=when, shadow=shadow)
    start = time.perf_counter()
    result = session.run_session()
    wall = time.perf_counter() - start
    assert len(result.shadow_outputs) == len(shadow), result.shadow_outputs
    assert all(s.result.ok for s in result.shadow_outputs)
    return wall


def main() -> None:
    from agents.llm import LLMClient
    from agents.market import load_sample
    from tracker import DecisionTracker

    server, url = start_stub()
    folder = Path(tempfile.mkdtemp(prefix="bench-shadow-"))
    ws = make_workspace(folder / "ws", url)
    add_candidate(ws)
    market = load_sample()
    tracker = DecisionTracker(f"sqlite:///{folder / 'tracker.db'}")
    client = LLMClient(ws.llm, use_cache=False)
    first = market.all_candles[100].timestamp
    moments = iter(first + timedelta(hours=n) for n in range(10_000))
    for shadow in ({}, {AGENT: "candidate"}):  # warm-up: imports, connections, migrations
        one_session(ws, tracker, client, market, next(moments), shadow)
    walls: dict[str, list[float]] = {"without": [], "with": []}
    for _ in range(ROUNDS):
        walls["without"].append(one_session(ws, tracker, client, market, next(moments), {}))
        walls["with"].append(one_session(ws, tracker, client, market, next(moments),
                                         {AGENT: "candidate"}))
    server.terminate()
    ideal = 3 * LATENCY
    print(f"stub latency {LATENCY * 1000:.0f} ms; a session is 3 dependent calls (ideal"
          f" {ideal:.2f} s); {ROUNDS} sessions each, alternating")
    print(f"{'shadow':<10}{'median s':>10}{'mean s':>10}{'/ideal':>8}")
    for name, values in walls.items():
        print(f"{name:<10}{statistics.median(values):>10.3f}{statistics.mean(values):>10.3f}"
              f"{statistics.median(values) / ideal:>8.2f}")
    ratio = statistics.median(walls["with"]) / statistics.median(walls["without"])
    print(f"with / without (medians): {ratio:.3f} (target <= 1.1):"
          f" {'OK' if ratio <= 1.1 else 'MISSED'}")


if __name__ == "__main__":
    main()
