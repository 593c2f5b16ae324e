"""Speed of the heuristic analyzer against textstat's flesch_reading_ease on the same texts.

    python benchmarks/bench_analyzer.py [--texts 2000] [--rounds 3]

The texts are 2 KB prompts built deterministically from the example prompts and the test
corpus (lines shuffled with a fixed seed, a numbered line added so that each text is
distinct): textstat caches its results per text (lru_cache, 128 entries), so every text is
scored once per round and there are more texts than cache entries. Both are warmed up once
(pyphen fills its per-word cache on first sight of a word). Each round times the full
``analyze`` and the single readability score on the same list; the best round counts.
CPU time (process_time) is shown next to wall time because this machine may be shared.

Targets (issue 4): >= 2,000 analyses/s, and within 3x of flesch_reading_ease.
"""

from __future__ import annotations

import argparse
import random
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import textstat

from optimizer.analyzer import analyze

ROOT = Path(__file__).resolve().parents[1]
SIZE = 2048


def corpus_lines() -> list[str]:
    lines = []
    for path in sorted((ROOT / "prompt_repo" / "examples").glob("*.md")):
        lines += path.read_text(encoding="utf-8").splitlines()
    for path in sorted((ROOT / "tests" / "analyzer").glob("analyzer_pairs_*.toml")):
        for pair in tomllib.loads(path.read_text(encoding="utf-8"))["pair"]:
            lines += pair["worse"].splitlines() + pair["better"].splitlines()
    return [line for line in lines if line.strip()]


def make_texts(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    lines = corpus_lines()
    texts = []
    for number in range(count):
        chosen = [f"# Agent {number}", f"Keep every position under {number % 9 + 1}% of equity."]
        while sum(len(line) + 1 for line in chosen) < SIZE:
            chosen.append(rng.choice(lines))
        texts.append("\n".join(chosen)[:SIZE])
    return texts


def timed(function: Callable[[str], object], texts: list[str]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    for text in texts:
        function(text)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    texts = make_texts(args.texts)
    for text in texts[:200]:  # warm-up: imports, pyphen's word cache
        analyze(text)
        textstat.flesch_reading_ease(text + " ")
    best: dict[str, tuple[float, float]] = {}
    for _ in range(args.rounds):
        for name, function in (("flesch_reading_ease", textstat.flesch_reading_ease),
                               ("analyze", analyze)):
            wall, cpu = timed(function, texts)
            old = best.get(name, (float("inf"), float("inf")))
            best[name] = (min(old[0], wall), min(old[1], cpu))
    n = len(texts)
    print(f"{n} distinct prompts of {SIZE} characters, best of {args.rounds} rounds\n")
    print(f"{'':22}{'per s (wall)':>14}{'per s (CPU)':>14}{'us each (CPU)':>15}")
    for name in ("flesch_reading_ease", "analyze"):
        wall, cpu = best[name]
        print(f"{name:22}{n / wall:14,.0f}{n / cpu:14,.0f}{cpu / n * 1e6:15.0f}")
    ratio_wall = best["analyze"][0] / best["flesch_reading_ease"][0]
    ratio_cpu = best["analyze"][1] / best["flesch_reading_ease"][1]
    print(f"\nanalyze / flesch_reading_ease: {ratio_wall:.2f}x (wall), {ratio_cpu:.2f}x (CPU)"
          "   target <= 3x")
    print(f"analyses per second (CPU): {n / best['analyze'][1]:,.0f}   target >= 2,000")


if __name__ == "__main__":
    main()
