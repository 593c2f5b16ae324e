"""How long ``promptloop doctor`` takes, against what its parts cost alone, in one run.

In-process (imports warmed up first), best of RUNS wall times, on a fresh workspace with a
migrated SQLite tracker:

- ``offline``: ``run_checks(offline=True)`` — workspace, git, prompts, database and its
  round trip, disk; baseline ``agents``: what ``promptloop agents`` does (load the workspace,
  ``PromptRepo.overview()``) plus opening the tracker (``DecisionTracker``);
- ``endpoint``: every check against a local endpoint that answers at once (5 requests);
  baseline: the offline run plus 5 bare ``chat.completions`` calls on the same endpoint;
- ``dead endpoint``: nothing listening on the port (one refused connection);
- ``silent endpoint``: a port that accepts and never answers, ``timeout`` = 1 s: the bound
  is one timeout, because the checks after an endpoint that does not answer are skipped.

    python benchmarks/bench_doctor.py [--runs R]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests" / "doctor"))

from endpoint_stub import Endpoint  # noqa: E402


def best(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def baseline_offline(root: Path) -> None:
    from prompt_repo import PromptRepo, load_workspace
    from tracker import DecisionTracker

    ws = load_workspace(root)
    with PromptRepo(ws) as repo:
        repo.overview()
    DecisionTracker(ws.database_url).close()


def bare_calls(url: str, count: int) -> None:
    import openai

    client = openai.OpenAI(api_key="x", base_url=url, max_retries=0, timeout=5)
    for _ in range(count):
        client.chat.completions.create(model="gpt-4o-mini", max_tokens=16,
                                       messages=[{"role": "user", "content": "hi"}])
    client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "PROMPTLOOP_DATABASE_URL"):
        os.environ.pop(name, None)
    from agents.doctor import DoctorOptions, run_checks
    from prompt_repo import init_workspace, load_workspace
    from tracker import DecisionTracker

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        init_workspace(root)
        DecisionTracker(load_workspace(root).database_url).close()
        offline = DoctorOptions(offline=True)
        run_checks(root, offline)  # warm-up: imports
        results = {"offline": best(lambda: run_checks(root, offline), runs),
                   "baseline agents+tracker": best(lambda: baseline_offline(root), runs)}
        with Endpoint() as server:
            os.environ["OPENAI_BASE_URL"] = server.url
            run_checks(root)
            results["endpoint"] = best(lambda: run_checks(root), runs)
            results["baseline offline + 5 bare calls"] = results["offline"] + best(
                lambda: bare_calls(server.url, 5), runs)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            dead = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
        os.environ["OPENAI_BASE_URL"] = dead
        results["dead endpoint"] = best(lambda: run_checks(root), runs)
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen(64)
            os.environ["OPENAI_BASE_URL"] = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
            options = DoctorOptions(timeout=1.0)
            results["silent endpoint (timeout 1 s)"] = best(lambda: run_checks(root, options),
                                                            min(runs, 2))
    for name, seconds in results.items():
        print(f"{name:<34} {seconds * 1000:8.0f} ms")
    print(json.dumps({k: round(v, 4) for k, v in results.items()}))


if __name__ == "__main__":
    main()
