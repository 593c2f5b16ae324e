"""Real processes racing on one repository: none lost, none overwritten, killed ones harmless.

The racers are started first and released together through their stdin, so they contend
for real. A "killed in the middle" process is a child that wraps one step of the write so
that it announces the step and stops there; the test then SIGKILLs it. No sleeps, no
timing assumptions.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from prompt_repo import PromptRepo
from prompt_repo.errors import LockTimeout

AGENT = "MarketAnalyst"
PATH = "prompts/MarketAnalyst.md"

RACER = """
import json, sys
from pathlib import Path
from prompt_repo import PromptRepo
from prompt_repo.errors import PromptRepoError
ws, agent, text, base = sys.argv[1:5]
sys.stdin.readline()  # the start signal
try:
    sha = PromptRepo.open(Path(ws)).apply(agent, text, f"racer {text.strip()}", base=base)
    print(json.dumps({"ok": sha}))
except PromptRepoError as exc:
    print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
"""

STOPPER = """
import sys, time
from pathlib import Path
import prompt_repo.plumbing as plumbing
import prompt_repo.publish as publish_module
from prompt_repo import PromptRepo
ws, step = sys.argv[1:3]

def stop():
    print("stopped", flush=True)
    time.sleep(3600)

real_update_ref, real_git = publish_module.update_ref, plumbing.git
def update_ref(*args, **kwargs):
    if step == "before-ref":
        stop()
    real_update_ref(*args, **kwargs)
    if step == "after-ref":
        stop()
def git(repo, *args, **kwargs):
    if step == "before-index" and args[0] == "update-index":
        stop()
    return real_git(repo, *args, **kwargs)
publish_module.update_ref, plumbing.git = update_ref, git
PromptRepo.open(Path(ws)).apply("MarketAnalyst", "from the killed process\\n", "killed")
"""

HOLDER = """
import sys
from pathlib import Path
from prompt_repo.lock import RepoLock
with RepoLock(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.readline()
"""


def _race(ws: Path, jobs: list[tuple[str, str, str]]) -> list[dict[str, str]]:
    procs = [
        subprocess.Popen([sys.executable, "-c", RACER, str(ws), agent, text, base],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for agent, text, base in jobs
    ]
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = [json.loads(proc.communicate(timeout=120)[0]) for proc in procs]
    assert all(proc.returncode == 0 for proc in procs)
    return results


def _assert_clean_linear(ws: Path, git, head_before: str, commits: int) -> None:
    assert git(ws, "status", "--porcelain") == ""
    assert git(ws, "rev-list", "--count", f"{head_before}..HEAD").strip() == str(commits)
    assert git(ws, "rev-list", "--merges", "HEAD") == ""
    git(ws, "fsck", "--no-dangling")


def test_eight_processes_one_base_exactly_one_lands(workspace: Path, git) -> None:
    base = PromptRepo.open(workspace).read(AGENT).sha
    texts = [f"text from racer {i}\n" for i in range(8)]

    results = _race(workspace, [(AGENT, text, base) for text in texts])

    winners = [i for i, r in enumerate(results) if "ok" in r]
    assert len(winners) == 1
    losers = [r for r in results if "ok" not in r]
    assert {r["error"] for r in losers} == {"StaleBase"}
    assert all("moved on since" in r["message"] for r in losers)
    assert (workspace / PATH).read_text() == texts[winners[0]]
    assert git(workspace, "rev-parse", "HEAD").strip() == results[winners[0]]["ok"]
    _assert_clean_linear(workspace, git, base, 1)


def test_eight_processes_eight_agents_all_land(workspace: Path, git) -> None:
    names = [f"Agent{i}" for i in range(8)]
    with (workspace / "promptloop.toml").open("a") as handle:
        for name in names:
            (workspace / "prompts" / f"{name}.md").write_text(f"{name} v1\n")
            handle.write(f'\n[agents.{name}]\nprompt = "prompts/{name}.md"\n')
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", "eight agents")
    repo = PromptRepo.open(workspace)
    head = git(workspace, "rev-parse", "HEAD").strip()

    results = _race(workspace, [(n, f"{n} v2\n", repo.read(n).sha) for n in names])

    assert all("ok" in r for r in results), results
    for name, result in zip(names, results, strict=True):
        assert (workspace / "prompts" / f"{name}.md").read_text() == f"{name} v2\n"
        assert repo.log(name)[0].sha == result["ok"]
        assert git(workspace, "show", "--name-only", "--format=", result["ok"]).split() == [
            f"prompts/{name}.md"
        ]
    _assert_clean_linear(workspace, git, head, 8)


@pytest.mark.parametrize("step", ["before-ref", "after-ref", "before-index"])
def test_a_process_killed_mid_apply_leaves_a_usable_repository(
    workspace: Path, git, step: str
) -> None:
    head = git(workspace, "rev-parse", "HEAD").strip()
    proc = subprocess.Popen([sys.executable, "-c", STOPPER, str(workspace), step],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "stopped\n"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)

    repo = PromptRepo.open(workspace, lock_timeout=10)
    current = repo.read(AGENT)
    sha = repo.apply(AGENT, "after the crash\n", "next apply", base=current.sha)

    published = step != "before-ref"
    expected = "from the killed process\n" if published else repo.read(AGENT, head).text
    assert current.text == expected
    assert git(workspace, "rev-list", "--count", f"{head}..HEAD").strip() == str(1 + published)
    assert git(workspace, "rev-parse", "HEAD").strip() == sha
    assert (workspace / PATH).read_text() == "after the crash\n"
    assert git(workspace, "status", "--porcelain") == ""
    assert not (Path(repo._repo.git_dir) / "promptloop-apply.json").exists()


def test_a_live_lock_holder_makes_others_wait_then_give_up(workspace: Path, git, snapshot) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(workspace / ".git")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    before = snapshot(workspace)
    repo = PromptRepo.open(workspace, lock_timeout=0.2)
    try:
        with pytest.raises(LockTimeout, match="locked by another promptloop process"):
            repo.apply(AGENT, "blocked\n", "blocked")
        assert snapshot(workspace) == before
    finally:
        holder.communicate("release\n", timeout=30)

    assert repo.apply(AGENT, "free now\n", "free") == git(workspace, "rev-parse", "HEAD").strip()
