"""How the heuristic engine scales with the prompt: time against size, 10 KB to 1 MB.

    python benchmarks/bench_heuristic_scale.py [--sizes 10000,30000,...] [--old REV]

Per size, on one generated prompt (lines of the example prompts and the analyzer's pair
corpus, shuffled with a fixed seed, as benchmarks/bench_analyzer.py builds them):

- ``analyze``: one analyzer pass, the baseline measured in the same run (linear: one parse,
  one scan);
- ``rewrite``: ``heuristic_rewrite(text, slots=False, behaviour=False)``, the engine's
  rewrite (up to three passes, each an analysis);
- ``optimize``: ``AgentPromptOptimizer.propose(engine="heuristic")`` then ``record(...,
  "dry-run")`` on a workspace whose agent prompt is that text, committed, with an empty
  tracker: the library call behind ``promptloop optimize --engine heuristic --dry-run``;
- with ``--old REV``: the rewrite of optimizer/suggest.py at git revision REV (before the
  linear fix: a221381), up to 300 KB (it needs minutes past that).

Then the growth exponent k of time ~ size^k (least squares on log-log, over the sizes from
100 KB on, where fixed costs no longer dominate; 1 is linear, 2 quadratic), the ratio
optimize / analyze at each size, and the peak memory (max RSS) of ``promptloop lint`` and
``score`` on a 1 MB prompt file and on a 20 MB one (refused at the size limit without
being read whole). CPU time (process_time) is shown next to wall time because this machine
may be shared; the best of ``--rounds`` counts.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_analyzer import corpus_lines  # noqa: E402

from optimizer.analyzer import analyze  # noqa: E402
from optimizer.suggest import heuristic_rewrite  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SIZES = (10_000, 30_000, 100_000, 300_000, 1_000_000)
OLD_LIMIT = 300_000
AGENT = "MarketAnalyst"


def make_prompt(size: int, seed: int = 11) -> str:
    import random

    rng = random.Random(seed)
    lines = corpus_lines()
    chosen, total, number = ["# MarketAnalyst"], 0, 0
    while total < size:
        number += 1
        line = rng.choice(lines)
        if number % 40 == 0:  # a numbered rule now and then, so no two blocks are the same
            line = f"Rule {number}: keep every position under {number % 9 + 1}% of equity."
        chosen.append(line)
        total += len(line) + 1
    return "\n".join(chosen)[:size].rsplit("\n", 1)[0] + "\n"


def timed(function: Callable[[], Any], rounds: int) -> tuple[float, float]:
    best = (math.inf, math.inf)
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        function()
        best = min(best[0], time.perf_counter() - wall), min(best[1], time.process_time() - cpu)
    return best


class Workspace:
    """A fresh workspace and tracker; ``optimize(text)`` commits ``text`` as the agent's
    prompt and runs the heuristic engine on it as ``--dry-run`` does."""

    def __init__(self, folder: Path) -> None:
        from prompt_repo import init_workspace, load_workspace
        from tracker import DecisionTracker

        init_workspace(folder)
        self.root = folder
        self.workspace = load_workspace(folder)
        self.tracker = DecisionTracker(self.workspace.database_url)

    def commit(self, text: str) -> None:
        (self.root / "prompts" / f"{AGENT}.md").write_text(text, encoding="utf-8")
        subprocess.run(["git", "-C", str(self.root), "commit", "-qam", "bench"], check=True)

    def optimize(self) -> None:
        from optimizer.loop import AgentPromptOptimizer

        optimizer = AgentPromptOptimizer(self.workspace, tracker=self.tracker)
        try:
            proposal = optimizer.propose(AGENT, engine="heuristic")
            optimizer.record(proposal, "dry-run", "benchmark")
        finally:
            optimizer.close()


def old_rewrite(rev: str) -> Callable[..., Any]:
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:optimizer/suggest.py"],
                            capture_output=True, text=True, check=True).stdout
    path = Path(tempfile.mkdtemp()) / "suggest_old.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("suggest_old", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["suggest_old"] = module
    spec.loader.exec_module(module)
    return module.heuristic_rewrite  # type: ignore[no-any-return]


def exponent(points: list[tuple[int, float]]) -> float:
    xs = [math.log(size) for size, _ in points]
    ys = [math.log(seconds) for _, seconds in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs)


def peak_memory(command: str, size: int, folder: Path) -> tuple[int, float]:
    """(exit code, max RSS in MB) of ``promptloop COMMAND FILE`` on a ``size``-char file."""
    path = folder / f"prompt-{size}.md"
    if not path.exists():
        path.write_text((make_prompt(1_000_000) * (size // 1_000_000 + 1))[:size],
                        encoding="utf-8")
    runner = ("import resource, subprocess, sys; "
              "code = subprocess.run(sys.argv[1:], capture_output=True).returncode; "
              "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    promptloop = str(Path(sys.executable).with_name("promptloop"))
    out = subprocess.run([sys.executable, "-c", runner, promptloop, command, str(path)],
                         capture_output=True, text=True, check=True, cwd=folder).stdout.split()
    return int(out[0]), int(out[1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--old", default=None, help="git revision of the rewrite to compare")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    old = old_rewrite(args.old) if args.old else None
    folder = Path(tempfile.mkdtemp(prefix="bench-heuristic-"))
    bench = Workspace(folder / "ws")
    rows: dict[str, list[tuple[int, float]]] = {"analyze": [], "rewrite": [], "optimize": [],
                                                 "old rewrite": []}
    print(f"{'size':>10} {'':12} {'wall s':>8} {'CPU s':>8}")
    for size in sizes:
        text = make_prompt(size)
        bench.commit(text)
        jobs: list[tuple[str, Callable[[], Any]]] = [
            ("analyze", partial(analyze, text)),
            ("rewrite", partial(heuristic_rewrite, text, slots=False, behaviour=False)),
            ("optimize", bench.optimize),
        ]
        if old is not None and size <= OLD_LIMIT:
            jobs.append(("old rewrite", partial(old, text, slots=False)))
        for name, job in jobs:
            wall, cpu = timed(job, 1 if name == "old rewrite" else args.rounds)
            rows[name].append((size, cpu))
            print(f"{len(text):>10,} {name:12} {wall:8.2f} {cpu:8.2f}")
    print("\ngrowth exponent k (CPU time ~ size^k, sizes >= 100 KB; 1 = linear):")
    for name, points in rows.items():
        large = [p for p in points if p[0] >= 100_000]
        if len(large) >= 2:
            print(f"  {name:12} k = {exponent(large):.2f}")
    print("\noptimize / analyze (CPU):",
          ", ".join(f"{s // 1000} KB {o / a:.1f}x"
                    for (s, a), (_, o) in zip(rows["analyze"], rows["optimize"], strict=True)))
    print("\npeak memory (max RSS) of the CLI on a prompt file:")
    for size in (1_000_000, 20_000_000):
        for command in ("score", "lint"):
            code, mb = peak_memory(command, size, folder)
            print(f"  {command:5} {size / 1e6:4.0f} MB file: exit {code}, {mb:6.0f} MB")


if __name__ == "__main__":
    main()
