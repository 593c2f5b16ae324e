"""PromptRepo against raw git on a repository with 2,000 versions of one prompt.

The repository (built with ``git fast-import``) holds a workspace made by
``promptloop init`` followed by 4,000 commits: 2,000 change MarketAnalyst's prompt, 2,000
change an unrelated file, interleaved. Measured in the same run:

- ``log``: ``PromptRepo.log(agent)`` (parsed Version objects) against the raw
  ``git log --format=<same fields> HEAD -- prompts/MarketAnalyst.md``;
- ``apply``: ``PromptRepo.apply`` (lock, checks, one commit, working file, index entry)
  against writing the file and ``git commit -q -m MSG -- FILE``, alternated on the same
  repository so both see the same history.

Medians of repeated runs; targets: log <= 2x, apply <= 3x raw git.

    python benchmarks/bench_prompt_repo.py [--versions 2000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from prompt_repo import PromptRepo, init_workspace

AGENT = "MarketAnalyst"
PATH = "prompts/MarketAnalyst.md"
LOG_FORMAT = "%H%x1f%h%x1f%aI%x1f%an%x1f%s%x1f%(trailers:only,unfold)%x1e"
IDENTITY = {"GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
            "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}


def build(root: Path, versions: int) -> None:
    init_workspace(root)
    branch = subprocess.run(["git", "symbolic-ref", "HEAD"], cwd=root, check=True,
                            capture_output=True, text=True).stdout.strip()
    stream = [f"reset {branch}\nfrom {branch}^0\n"]
    for i in range(2 * versions):
        path, body = (PATH, f"# MarketAnalyst\n\nRule set {i}.\n") if i % 2 == 0 else (
            "notes/other.txt", f"unrelated change {i}\n")
        message = f"change {i}\n\nPromptloop-Run-Id: {i}\n"
        stream.append(
            f"commit {branch}\ncommitter Bench <bench@example.com> {1_700_000_000 + i} +0000\n"
            f"data {len(message.encode())}\n{message}"
            f"M 100644 inline {path}\ndata {len(body.encode())}\n{body}\n"
        )
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input="".join(stream),
                   text=True, check=True)
    subprocess.run(["git", "reset", "-q", "--hard"], cwd=root, check=True)


def timed_ms(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return (time.perf_counter() - start) * 1000


def bench_log(root: Path, repo: PromptRepo, repeat: int) -> tuple[float, float, int]:
    raw = ["git", "log", f"--format={LOG_FORMAT}", "HEAD", "--", PATH]
    count = len(repo.log(AGENT))
    ours, theirs = [], []
    for _ in range(repeat):  # alternated, so that load on the machine hits both alike
        ours.append(timed_ms(lambda: repo.log(AGENT)))
        theirs.append(timed_ms(
            lambda: subprocess.run(raw, cwd=root, capture_output=True, check=True)))
    return statistics.median(ours), statistics.median(theirs), count


def bench_apply(root: Path, repo: PromptRepo, repeat: int) -> tuple[float, float]:
    ours, theirs = [], []
    for i in range(repeat):
        base = repo.read(AGENT).sha
        text, message = f"ours {i}\n", f"optimize(MarketAnalyst): ours {i}"
        trailers, raw_text = {"Promptloop-Run-Id": str(i)}, f"raw {i}\n"
        ours.append(timed_ms(lambda: repo.apply(AGENT, text, message, base=base,  # noqa: B023
                                                trailers=trailers)))  # noqa: B023
        theirs.append(timed_ms(lambda: raw_commit(root, raw_text)))  # noqa: B023
    return statistics.median(ours), statistics.median(theirs)


def raw_commit(root: Path, text: str) -> None:
    (root / PATH).write_text(text)
    subprocess.run(["git", "commit", "-q", "-m", text.strip(), "--", PATH], cwd=root, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    os.environ.update(IDENTITY)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        start = time.perf_counter()
        build(root, args.versions)
        built = time.perf_counter() - start
        with PromptRepo.open(root) as repo:
            log_ours, log_raw, count = bench_log(root, repo, args.repeat)
            apply_ours, apply_raw = bench_apply(root, repo, args.repeat)
    print(f"repository: {count} versions of {PATH}, {2 * args.versions} commits "
          f"(built in {built:.1f}s); medians of {args.repeat} runs\n")
    print(f"{'operation':<10}{'PromptRepo ms':>15}{'raw git ms':>12}{'ratio':>8}{'target':>8}")
    for name, ours, raw, target in (("log", log_ours, log_raw, 2.0),
                                    ("apply", apply_ours, apply_raw, 3.0)):
        print(f"{name:<10}{ours:>15.1f}{raw:>12.1f}{ours / raw:>7.2f}x{target:>7.1f}x")


if __name__ == "__main__":
    main()
