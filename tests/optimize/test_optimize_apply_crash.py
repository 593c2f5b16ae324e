"""An apply killed (SIGKILL) between its commit and its run row: the row exists all the same.

The apply runs in a real subprocess whose PromptRepo is wrapped to kill the process right
after (or right before) the commit; the next ``promptloop optimize`` repairs the row from
the commit's ``Promptloop-Run`` trailer.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from optimize_support import AGENT, commit_message, head, runs, sqlite_url

from optimizer.run_repair import APPLYING

SCRIPT = textwrap.dedent("""
    import os, signal, sys
    from datetime import UTC, datetime
    from optimizer import AgentPromptOptimizer
    from optimizer.gates import GateResult
    from optimizer.proposal import Candidate, Proposal
    from prompt_repo import PromptRepo, load_workspace

    root, when = sys.argv[1], sys.argv[2]

    class Killed:
        def __init__(self, repo):
            self.repo = repo
        def __getattr__(self, name):
            return getattr(self.repo, name)
        def apply(self, *args, **kwargs):
            if when == "before":
                os.kill(os.getpid(), signal.SIGKILL)
            sha = self.repo.apply(*args, **kwargs)
            os.kill(os.getpid(), signal.SIGKILL)
            return sha

    workspace = load_workspace(root)
    repo = PromptRepo(workspace)
    version = repo.read("MarketAnalyst")
    scores = {"specificity": 1.0, "clarity": 1.0, "ambiguity": 1.0, "overall": 1.0}
    proposal = Proposal(
        run_id="crashrun0000001", agent="MarketAnalyst", engine="llm", model="m", days=30,
        started=datetime.now(UTC), base_sha=version.sha, path=version.path,
        current=version.text, scores_before=scores,
        candidates=[Candidate(round=1, diagnosis="Add a rule.", scores=scores,
                              text=version.text + "\\nNever exceed confidence 0.8.\\n",
                              gates=[GateResult("replay", True, "fixed 9, broke 0")])])
    AgentPromptOptimizer(workspace, repo=Killed(repo)).apply(proposal)
""")


def killed_apply(root: Path, when: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", SCRIPT, str(root), when],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "PROMPTLOOP_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_a_kill_after_the_commit_leaves_a_row_that_the_next_run_completes(
        run_cli, opt_ws, offline):
    base = head(opt_ws)

    result = killed_apply(opt_ws, "after")

    assert result.returncode == -signal.SIGKILL, result.stderr
    sha = head(opt_ws)
    assert sha != base and "Promptloop-Run: crashrun0000001" in commit_message(opt_ws)
    [row] = runs(sqlite_url(opt_ws))
    assert (row["run_id"], row["status"], row["error"]) == ("crashrun0000001", "error",
                                                             APPLYING)

    again = run_cli("-C", str(opt_ws), "optimize", "--agent", AGENT, "--engine", "heuristic",
                    "--dry-run")

    assert again.returncode == 0, again.stderr
    repaired = next(r for r in runs(sqlite_url(opt_ws)) if r["run_id"] == "crashrun0000001")
    assert (repaired["status"], repaired["result_sha"], repaired["error"]) == (
        "applied", sha, None)
    assert "Promptloop-Run trailer" in repaired["gates"]["notes"][-1]


def test_a_kill_before_the_commit_is_repaired_as_nothing_applied(run_cli, opt_ws, offline):
    base = head(opt_ws)

    result = killed_apply(opt_ws, "before")

    assert result.returncode == -signal.SIGKILL, result.stderr
    assert head(opt_ws) == base
    again = run_cli("-C", str(opt_ws), "optimize", "--agent", AGENT, "--engine", "heuristic",
                    "--dry-run")
    assert again.returncode == 0, again.stderr
    repaired = next(r for r in runs(sqlite_url(opt_ws)) if r["run_id"] == "crashrun0000001")
    assert (repaired["status"], repaired["result_sha"]) == ("error", None)
    assert repaired["error"] == "interrupted before its commit: nothing was applied"
