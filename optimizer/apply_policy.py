"""Apply a proposal or say why not: the one policy of ``promptloop optimize`` and the demo.

:func:`conclude` takes what :meth:`optimizer.loop.AgentPromptOptimizer.propose` returned
and the caller's :class:`ApplyMode`, records the run (``record`` or ``apply``, so every run
leaves its one ``optimization_runs`` row) and returns an :class:`ApplyOutcome` that the
CLI renders (and turns into its ``--json`` keys) and the demo turns into its step. The
situations, first match wins, each with one reason line:

==========================================  ==========  =======================================
situation                                   status      reason
==========================================  ==========  =======================================
the engine proposed no change               rejected    ``no change proposed (<diagnosis>)``
a candidate, but none passed every gate     rejected    ``no candidate passed every gate;
                                                        failed: <gate> (<detail>); ...``
``dry_run``                                 dry-run     ``--dry-run``
not ``auto_apply`` and no ``confirm``       dry-run     ``no terminal to ask on and no
                                                        --auto-apply``
``confirm()`` answered no                   rejected    ``declined by the user``
``auto_apply``, or ``confirm()`` said yes   applied     none: the commit (branch, push, label)
==========================================  ==========  =======================================

The library never prompts: an interactive caller passes ``confirm`` (the CLI's
``Apply? [y/N]``); a caller with no terminal, or one that must not ask (``--json``),
passes none. Errors of the apply (a moved prompt file, a failed push) are raised as the
optimizer raises them, with the run recorded ``error``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from optimizer.proposal import Proposal

if TYPE_CHECKING:
    from optimizer.loop import AgentPromptOptimizer

__all__ = ["ApplyMode", "ApplyOutcome", "conclude", "why_not", "DRY_RUN", "NO_TERMINAL",
           "DECLINED"]

DRY_RUN = "--dry-run"
NO_TERMINAL = "no terminal to ask on and no --auto-apply"
DECLINED = "declined by the user"


@dataclass(frozen=True)
class ApplyMode:
    """How the caller wants a proposal concluded (see the module's table)."""

    dry_run: bool = False
    auto_apply: bool = False
    confirm: Callable[[], bool] | None = None  # None: nobody to ask
    branch: str | None = None  # commit on this new branch, leaving the checkout alone
    push: bool = False  # push the branch to origin (needs ``branch``)
    label: str | None = None  # point this label at the new version, not production


@dataclass(frozen=True)
class ApplyOutcome:
    """What became of one proposal: applied (with its commit) or not, and why not."""

    status: str  # applied, rejected or dry-run (the optimization_runs status)
    run_id: str
    reason: str | None = None  # why nothing was applied; None when applied
    commit: str | None = None
    branch: str | None = None
    pushed: bool = False
    label: str | None = None

    @property
    def applied(self) -> bool:
        return self.status == "applied"

    @property
    def message(self) -> str:
        """The one-line outcome shown to people."""
        if self.commit is not None:
            where = f" on branch {self.branch}" if self.branch else ""
            where += " (pushed to origin)" if self.branch and self.pushed else ""
            where += f" as {self.label}" if self.label else ""
            return f"Applied as {self.commit[:12]}{where} (run {self.run_id})."
        if self.status == "dry-run" or self.reason == DECLINED:
            return f"Nothing applied ({self.reason})."  # the user's choice, not a verdict
        return f"Nothing applied: {self.reason}."

    def to_dict(self) -> dict[str, Any]:
        """The result keys of ``optimize --json``."""
        return {"status": self.status, "applied": self.applied, "commit": self.commit,
                "branch": self.branch, "pushed": self.pushed, "message": self.message,
                "reason": self.reason}


def why_not(proposal: Proposal) -> str | None:
    """Why nothing of ``proposal`` can be applied; None when a candidate passed every gate."""
    if proposal.best is not None:
        return None
    shown = proposal.shown
    if shown is None or (shown.text is None and shown.error is None):
        first = shown.diagnosis.strip().splitlines()[0] if shown and shown.diagnosis else ""
        return "no change proposed" + (f" ({first.rstrip('.')})" if first else "")
    failed = [f"{g.name} ({g.detail})" for g in shown.gates if not g.passed]
    return "no candidate passed every gate; " + ("failed: " + "; ".join(failed) if failed
                                                  else str(shown.error))


def conclude(optimizer: AgentPromptOptimizer, proposal: Proposal,
             mode: ApplyMode) -> ApplyOutcome:
    """Apply ``proposal`` or record why not (the module's table); one run row either way."""
    status, reason = "rejected", why_not(proposal)
    if reason is None and not mode.auto_apply:
        if mode.dry_run or mode.confirm is None:
            status, reason = "dry-run", DRY_RUN if mode.dry_run else NO_TERMINAL
        elif not mode.confirm():
            reason = DECLINED
    if reason is None:
        return _apply(optimizer, proposal, mode)
    optimizer.record(proposal, status, reason)
    return ApplyOutcome(status, proposal.run_id, reason, branch=mode.branch)


def _apply(optimizer: AgentPromptOptimizer, proposal: Proposal,
           mode: ApplyMode) -> ApplyOutcome:
    def commit() -> str:
        return optimizer.apply(proposal, branch=mode.branch, push=mode.push)

    sha = (optimizer.repo.labels().commit_as(proposal.agent, mode.label, commit,
                                             reason=f"optimize run {proposal.run_id}")
           if mode.label else commit())
    return ApplyOutcome("applied", proposal.run_id, commit=sha, branch=mode.branch,
                        pushed=mode.push and mode.branch is not None, label=mode.label)
