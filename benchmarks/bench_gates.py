"""Do the gates apply the right changes? Precision and recall on a labeled scenario set.

Each scenario (tests/optimize/gate_scenarios.py: four kinds of critic diff x several seeds,
~30 days of decisions with outcomes, an agent scripted on an OpenAI-compatible stub) runs
through the real command, in a fresh ``promptloop init`` workspace with DEFAULT settings:

    promptloop optimize --agent MarketAnalyst --engine llm --auto-apply --json

and is scored against its label (only ``good`` should be applied). Reported: precision,
recall, wrong applies, tool errors (exit code != 0), LLM calls per run and wall time, per
kind and overall, and one line per scenario (replay counts, p-value, which gate decided).

    python benchmarks/bench_gates.py            # 24 scenarios (6 seeds)
    python benchmarks/bench_gates.py --seeds 3  # 12 scenarios
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "optimize"))
sys.path.insert(0, str(HERE.parent / "tests" / "support"))

from gate_scenarios import AGENT, KINDS, Scenario, endpoint, now, record, scenario_set  # noqa: E402
from llm_stub_server import StubLLM  # noqa: E402

PROMPTLOOP = str(Path(sys.executable).with_name("promptloop"))


def run_scenario(folder: Path, scenario: Scenario) -> dict[str, Any]:
    """One fresh workspace, one optimize run; the outcome and its numbers."""
    from prompt_repo import PromptRepo, init_workspace, load_workspace

    root = folder / scenario.name
    init_workspace(root)
    workspace = load_workspace(root)
    with PromptRepo(workspace) as repo:
        version = repo.read(AGENT)
    count = record(workspace.database_url, scenario, version.text, version.sha, now())
    with StubLLM(endpoint(version.text, scenario)) as stub:
        start = time.perf_counter()
        result = _optimize(root, stub.url)
        wall = time.perf_counter() - start
    return _scored(scenario, result, wall, count)


def _optimize(root: Path, url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "PROMPTLOOP_"))}
    env.update(OPENAI_BASE_URL=url, OPENAI_API_KEY="sk-bench-gates")
    return subprocess.run([PROMPTLOOP, "-C", str(root), "optimize", "--agent", AGENT,
                           "--engine", "llm", "--auto-apply", "--json"],
                          capture_output=True, text=True, env=env, timeout=600)


def _scored(scenario: Scenario, result: subprocess.CompletedProcess[str], wall: float,
            decisions: int) -> dict[str, Any]:
    row: dict[str, Any] = {"name": scenario.name, "kind": scenario.kind,
                           "should_apply": scenario.should_apply, "decisions": decisions,
                           "wall": wall, "exit": result.returncode}
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or ["(no output)"]
        return {**row, "applied": False, "calls": None, "decided_by": lines[-1][:100]}
    data = json.loads(result.stdout)
    gates = {g["name"]: g for g in data["gates"]}
    failed = [name for name, g in gates.items() if not g["passed"]]
    replay = (gates.get("replay") or {}).get("data") or {}
    return {**row, "applied": bool(data["applied"]), "calls": data["usage"]["calls"],
            "held_out": (data.get("held_out") or {}).get("decisions"),
            "replayed": (data.get("held_out") or {}).get("replayed"),
            "fixed": replay.get("fixed"), "broken": replay.get("broken"),
            "p": replay.get("p_value"),
            "decided_by": ",".join(failed) if failed else "all gates passed"}


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    applied = [r for r in rows if r["applied"]]
    good = [r for r in rows if r["should_apply"]]
    right = [r for r in applied if r["should_apply"]]
    calls = [r["calls"] for r in rows if r["calls"] is not None]
    return {
        "scenarios": len(rows),
        "precision": len(right) / len(applied) if applied else None,
        "recall": len(right) / len(good) if good else None,
        "wrong_applies": len(applied) - len(right),
        "tool_errors": sum(r["exit"] != 0 for r in rows),
        "calls_mean": sum(calls) / len(calls) if calls else None,
        "calls_max": max(calls) if calls else None,
        "wall_mean": sum(r["wall"] for r in rows) / len(rows),
        "wall_max": max(r["wall"] for r in rows),
    }


def report(rows: list[dict[str, Any]]) -> None:
    print(f"{'scenario':<26} {'apply?':>6} {'applied':>7} {'exit':>4} {'calls':>5} "
          f"{'held':>4} {'repl':>4} {'fix':>3} {'brk':>3} {'p':>8} {'wall s':>6}  decided by")
    for r in rows:
        p = f"{r['p']:.4f}" if r.get("p") is not None else "-"
        print(f"{r['name']:<26} {str(r['should_apply']):>6} {str(r['applied']):>7} "
              f"{r['exit']:>4} {_n(r.get('calls')):>5} {_n(r.get('held_out')):>4} "
              f"{_n(r.get('replayed')):>4} {_n(r.get('fixed')):>3} {_n(r.get('broken')):>3} "
              f"{p:>8} {r['wall']:>6.1f}  {r['decided_by']}")
    print()
    for kind in (*KINDS, "all"):
        chosen = rows if kind == "all" else [r for r in rows if r["kind"] == kind]
        s = summary(chosen)
        print(f"{kind:<6} n={s['scenarios']:<3} precision={_f(s['precision'])} "
              f"recall={_f(s['recall'])} wrong_applies={s['wrong_applies']} "
              f"tool_errors={s['tool_errors']} calls/run={_f(s['calls_mean'], 1)} "
              f"(max {s['calls_max']}) wall/run={s['wall_mean']:.1f}s (max {s['wall_max']:.1f}s)")


def _n(value: Any) -> str:
    return "-" if value is None else str(value)


def _f(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


@contextmanager
def scratch() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="bench-gates-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--json", dest="as_json", action="store_true")
    args = parser.parse_args()
    with scratch() as folder:
        rows = [run_scenario(folder, s) for s in scenario_set(range(args.seeds))]
    if args.as_json:
        print(json.dumps({"rows": rows, "summary": summary(rows)}, indent=1))
    else:
        report(rows)


if __name__ == "__main__":
    main()
