"""How long the static gates take on one candidate, against one analyzer pass.

The loop scores every candidate with ``optimizer.analyzer.analyze`` (the baseline here);
the static gates then diff the two texts, analyze the candidate again for the change gate
(the findings on the added lines), and match the added lines against the case texts for the
taint gate. So the gates should cost a little more than one analyzer pass, and grow with
the prompt as the analyzer does.

Prompts: the three example prompts of ``promptloop init`` repeated (numbers made unique per
copy) to 10 KB, 100 KB and 1 MB; the candidate adds one precise rule in the middle and
rewords one line; 20 case texts of about 250 characters each. Best of RUNS, one process.

    python benchmarks/bench_static_gates.py [--runs R]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from optimizer.analyzer import analyze  # noqa: E402
from optimizer.gates import GateResult, GateSettings, static_gates  # noqa: E402
from optimizer.loop import scores_of  # noqa: E402

SIZES = (10_000, 100_000, 1_000_000)
RULE = "   If `rsi_14` is above 75 and `macd_hist` < 0, answer SELL with confidence at most 0.6."
CASES = [(f"case d{n} output.reasoning",
          "Uptrend and RSI 64; momentum positive, so BUY. Price above sma_50 and macd_hist "
          f"positive at {n}.5, volatility 0.021 inside the bands. " * 2) for n in range(20)]


def prompt_of(size: int) -> str:
    examples = "".join((ROOT / "prompt_repo" / "examples" / f"{name}.md").read_text()
                       for name in ("MarketAnalyst", "RiskManager", "TradingAdvisor"))
    parts: list[str] = []
    while sum(map(len, parts)) < size:
        parts.append(examples.replace("0.02", f"0.02{len(parts)}"))
    return "".join(parts)


def candidate_of(current: str) -> str:
    lines = current.splitlines()
    middle = len(lines) // 2
    lines[middle + 5] = lines[middle + 5].replace("the", "the current", 1)
    return "\n".join([*lines[:middle], RULE, *lines[middle:]]) + "\n"


def best(function: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(size: int, runs: int) -> str:
    current = prompt_of(size)
    candidate = candidate_of(current)
    before, after = scores_of(analyze(current)), scores_of(analyze(candidate))

    def gates() -> list[GateResult]:
        return static_gates(current, candidate, before, after, GateSettings(),
                            replay_available=True, untrusted=CASES)

    baseline = best(lambda: analyze(candidate), runs)
    measured = best(gates, runs)
    failed = [g.name for g in gates() if not g.passed]
    return (f"{len(current):>10,} {baseline:>8.3f}s {measured:>8.3f}s "
            f"{measured / baseline:>5.1f}x  {', '.join(failed) or 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    print(f"{'prompt':>10} {'analyze':>9} {'gates':>9} {'ratio':>6}  failed")
    for size in SIZES:
        print(measure(size, runs))


if __name__ == "__main__":
    main()
