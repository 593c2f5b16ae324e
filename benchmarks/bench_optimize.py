"""The critique loop against a local OpenAI-compatible stub with a fixed 200 ms latency.

For each scenario: LLM calls, tokens and wall time of ``AgentPromptOptimizer.propose``,
and the time the endpoint was busy (first request in to last answer out). The baseline,
measured in the same run, is the ideal LLM time: the number of sequential latency waves
on the critical path x 200 ms, i.e. (calls / concurrency) x latency for a phase whose calls
are independent. The ratio (LLM phase / ideal) must stay within 1.25: no hidden serial
waits. Scenarios:

- critic only (one failure case, so no replay gate): rounds 1, 2, 4, 8 at concurrency 4;
  rounds are independent, so waves = ceil(rounds / 4);
- critic + replay gate (6 failures and 3 successes, the newest held out): each round is one
  critic call, then the replay of the held-out cases with the candidate and the current
  prompt (4 at a time): waves = 1 + ceil(2 x held-out cases / 4).

No cache (every call hits the stub). Run: ``.venv/bin/python benchmarks/bench_optimize.py``.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "optimize"))
sys.path.insert(0, str(HERE.parent / "tests" / "support"))

from llm_stub_server import Reply, StubLLM  # noqa: E402
from optimize_support import (  # noqa: E402
    AGENT,
    GOOD_DIFF,
    configure,
    critic_answer,
    seed,
    seed_held_out,
    sqlite_url,
)

LATENCY = 0.2
CONCURRENCY = 4
GOOD_LINE = "If the trend and `macd_hist` disagree"


def endpoint(request: dict[str, Any]) -> Reply:
    system, user = request["messages"][:2]
    if system["content"].startswith("You are a senior prompt engineer"):
        return Reply(text=critic_answer(GOOD_DIFF), prompt_tokens=2400, completion_tokens=180)
    negative = re.search(r'"macd_hist":\s*-', user["content"]) is not None
    action = "SELL" if GOOD_LINE in system["content"] and negative else "BUY"
    text = json.dumps({"action": action, "confidence": 0.6, "risk_level": "MEDIUM",
                       "reasoning": "benchmark"})
    return Reply(text=text, prompt_tokens=900, completion_tokens=60)


def workspace(folder: Path, failures: int, successes: int) -> Path:
    from prompt_repo import init_workspace

    root = folder / f"ws-{failures}-{successes}"
    init_workspace(root)
    configure(root, llm="timeout = 10.0", optimize=f"concurrency = {CONCURRENCY}")
    seed(sqlite_url(root), failures=failures, successes=successes)
    if successes:  # decisions after the walk-forward cut, for the replay gate to judge
        seed_held_out(sqlite_url(root))
    return root


def measure(root: Path, rounds: int) -> dict[str, Any]:
    from optimizer import AgentPromptOptimizer
    from prompt_repo import load_workspace

    with StubLLM(endpoint, latency=LATENCY) as stub:
        os.environ["OPENAI_BASE_URL"] = stub.url
        optimizer = AgentPromptOptimizer(load_workspace(root), use_cache=False)
        start = time.perf_counter()
        proposal = optimizer.propose(AGENT, rounds=rounds)
        wall = time.perf_counter() - start
        spans = list(stub.spans)
    busy = max(end for _, end in spans) - min(begin for begin, _ in spans)
    held = len(proposal.holdout.failures) + len(proposal.holdout.successes) \
        if proposal.holdout else 0
    per_round_waves = 1 + (math.ceil(2 * held / CONCURRENCY) if held else 0)
    waves = math.ceil(rounds / CONCURRENCY) * per_round_waves
    usage = proposal.usage
    return {"rounds": rounds, "calls": usage["calls"], "held_out": held,
            "tokens": usage["prompt_tokens"] + usage["completion_tokens"],
            "wall": wall, "busy": busy, "ideal": waves * LATENCY,
            "passed": proposal.best is not None}


def main() -> None:
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench")
    for name in ("PROMPTLOOP_DATABASE_URL", "PROMPTLOOP_MODEL"):
        os.environ.pop(name, None)
    folder = Path(tempfile.mkdtemp(prefix="bench-optimize-"))
    try:
        critic_ws = workspace(folder, 1, 0)
        measure(critic_ws, 1)  # warm-up: imports, first connections; not reported
        rows = [("critic only", measure(critic_ws, n)) for n in (1, 2, 4, 8)]
        replay_ws = workspace(folder, 6, 3)
        rows += [("critic + replay", measure(replay_ws, n)) for n in (1, 4)]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"latency {LATENCY * 1000:.0f} ms per call, concurrency {CONCURRENCY}, no cache\n")
    header = (f"{'scenario':<16} {'rounds':>6} {'calls':>5} {'calls/rnd':>9} {'tokens':>7} "
              f"{'tok/rnd':>7} {'wall s':>7} {'LLM s':>6} {'ideal s':>7} {'ratio':>6}")
    print(header)
    print("-" * len(header))
    worst = 0.0
    for name, r in rows:
        ratio = r["busy"] / r["ideal"]
        worst = max(worst, ratio)
        print(f"{name:<16} {r['rounds']:>6} {r['calls']:>5} {r['calls'] / r['rounds']:>9.1f} "
              f"{r['tokens']:>7} {r['tokens'] // r['rounds']:>7} {r['wall']:>7.2f} "
              f"{r['busy']:>6.2f} {r['ideal']:>7.2f} {ratio:>6.2f}")
    print(f"\nworst ratio LLM phase / ideal: {worst:.2f} (target <= 1.25)")
    sys.exit(0 if worst <= 1.25 else 1)


if __name__ == "__main__":
    main()
