"""An apply killed between its commit and its run row: the row is written first, repaired later.

:meth:`optimizer.loop.AgentPromptOptimizer.apply` records its ``optimization_runs`` row
BEFORE the commit, with status ``error`` and :data:`APPLYING` as the error (the status
column's CHECK knows no "applying", and a migration is not worth one transient state), and
completes the row after the commit. A process killed in between leaves that row; the next
run on the agent calls :func:`repair_interrupted`, which looks for the commit whose
``Promptloop-Run`` trailer names the run: found, the row becomes ``applied`` with the
commit's sha; not found (killed before the commit), it says nothing was applied. A commit
made on another branch (``--branch``) is not on HEAD's log, so its row stays as it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prompt_repo.repo import PromptRepo
    from tracker.protocols import RunLog

__all__ = ["APPLYING", "NOTHING_APPLIED", "repair_interrupted"]

APPLYING = "interrupted while applying: recorded before the commit, completed after it"
NOTHING_APPLIED = "interrupted before its commit: nothing was applied"
LOOK_BACK = 50  # newest runs of the agent inspected


def repair_interrupted(tracker: RunLog, repo: PromptRepo, agent: str) -> list[str]:
    """Complete the rows of the agent's applies that were killed; returns their run ids."""
    stuck = [run for run in tracker.optimization_runs(agent, limit=LOOK_BACK)
             if run["status"] == "error" and run["error"] == APPLYING]
    if not stuck:
        return []
    commits = {v.trailers.get("Promptloop-Run"): v.sha for v in repo.log(agent)}
    for run in stuck:
        sha = commits.get(run["run_id"])
        if sha is None:
            tracker.update_optimization_run(run["run_id"], error=NOTHING_APPLIED)
            continue
        gates = dict(run["gates"] or {})
        gates["notes"] = [*gates.get("notes", []),
                          "completed by a later run from the commit's Promptloop-Run trailer"]
        tracker.update_optimization_run(run["run_id"], status="applied", result_sha=sha,
                                        error=None, gates=gates)
    return [run["run_id"] for run in stuck]
