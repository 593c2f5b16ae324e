"""The critique loop behind ``promptloop optimize``: :class:`AgentPromptOptimizer`.

One run, :meth:`AgentPromptOptimizer.propose`:

1. read the agent's current prompt and its commit sha (prompt_repo);
2. walk-forward by time (when the replay gate can run, i.e. an LLM is configured): the
   window is cut at :func:`optimizer.walk_forward.time_cut` (``holdout_fraction``, the last
   third by default); the critic sees failure cases from before the cut only; every
   decision after the cut that has an outcome (failures and successes) is held out for the
   replay gate. Then the budget plan (optimizer/replay_plan.py), before any LLM call: the
   held-out set is replayed whole, or as a seeded stratified sample when it does not fit
   ``[llm] max_calls``/``max_tokens``, or the run is refused at once. Fewer held-out
   decisions than ``min_holdout``: the replay gate gives no verdict and fails;
3. analyzer scores and findings, and the analysis findings (calibration, inconsistencies)
   when ``tracker.analysis`` exists;
4. per round (``rounds`` rounds, run concurrently up to ``concurrency``): the critic call,
   the patch, and on a patch or format error the error sent back (at most ``max_repairs``
   times) (optimizer/critic_rounds.py); then the gates (optimizer/judging.py: the static
   gates of optimizer/gates.py, then the replay gate on what passed them). Extra rounds
   are independent attempts (a marker in the request, a warmer temperature); the best
   candidate is the one with the highest analyzer overall among those passing every gate.

The ``heuristic`` engine (optimizer/heuristic_engine.py) replaces step 4 with the
analyzer's offline rewrite plus the rules the agent's track record supports, then the same
gates: no key, no network. The engine defaults to ``llm`` when an LLM is configured, else
``heuristic``.

Then :func:`optimizer.apply_policy.conclude` decides (the one policy of the CLI and the
demo): :meth:`~AgentPromptOptimizer.apply` (one commit through PromptRepo, optionally on a
new branch and pushed) or :meth:`~AgentPromptOptimizer.record` (a rejected or dry run).
Every run leaves exactly one ``optimization_runs`` row: a run that fails records an
``error`` row and re-raises. An apply records its row BEFORE the commit
(status ``error``, error :data:`APPLYING`) and completes it after, so a process killed
in between leaves a row; the next run on the agent repairs such rows from the commits'
``Promptloop-Run`` trailers (``applied`` with the commit's sha, or "nothing applied").
Progress goes to ``on_progress`` (one line per step, possibly from worker threads); the
library never prints.

Settings come from the ``[optimize]`` table of promptloop.toml: ``temperature`` (0.2),
``max_repairs`` (2), ``concurrency`` (4), ``max_cases`` (20), ``holdout_fraction`` (1/3),
``min_holdout`` (20), ``replay_repeats`` (1), ``replay_alpha`` (0.1), ``sample_seed`` (0)
and the gate thresholds of :class:`optimizer.gates.GateSettings`.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from agents.errors import AgentError, LLMNotConfigured
from optimizer.critic import finding_lines
from optimizer.errors import OptimizerError, PushFailed, UnknownEngine
from optimizer.gates import GateSettings, setting
from optimizer.judging import Judge, Progress, scores_of
from optimizer.proposal import Candidate, Proposal, commit_subject, commit_trailers
from optimizer.run_repair import APPLYING
from prompt_repo.config import Workspace
from prompt_repo.errors import PromptRepoError
from tracker.contradiction import ContradictionRule
from tracker.errors import TrackerError
from tracker.rules import DEFAULT_BAND, DEFAULT_OUTCOME_TYPE

if TYPE_CHECKING:
    from agents.llm import LLMClient
    from optimizer.held_out import Replayer, ReplaySettings
    from prompt_repo.repo import PromptRepo
    from tracker.store import DecisionTracker

__all__ = ["AgentPromptOptimizer", "ENGINES", "RUN_ERRORS", "scores_of"]

ENGINES = ("llm", "heuristic")
RUN_ERRORS = (PromptRepoError, TrackerError, AgentError, OptimizerError)


class AgentPromptOptimizer:
    """Propose a gated prompt change for one agent; apply it as a commit or record why not."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        repo: PromptRepo | None = None,
        tracker: DecisionTracker | None = None,
        client: LLMClient | None = None,
        use_cache: bool = True,
        on_progress: Progress | None = None,
    ) -> None:
        self.workspace = workspace
        self._repo, self._tracker, self._client = repo, tracker, client
        self.use_cache = use_cache
        self.progress: Progress = on_progress or (lambda message: None)
        section = workspace.optimize.model_dump(exclude_none=True)  # checked at load
        self.gate_settings = GateSettings.from_section(section)
        self.temperature = setting(section, "temperature", 0.2)
        self.max_repairs = setting(section, "max_repairs", 2)
        self.concurrency = max(1, setting(section, "concurrency", 4))
        self.max_cases = setting(section, "max_cases", 20)
        self.replay_settings = _replay_settings(section, use_cache)
        self.contradiction = ContradictionRule(**workspace.analysis.contradiction_options())
        self._replay: Replayer | None = None  # set by each run when the gate can run
        self._recorded: set[str] = set()  # run ids with a stored row (updated, not inserted)
        self._owned: list[PromptRepo | DecisionTracker | LLMClient] = []  # built here: closed

    # -- collaborators, built on first use ------------------------------------------------

    @property
    def repo(self) -> PromptRepo:
        if self._repo is None:
            from prompt_repo.repo import PromptRepo

            self._repo = PromptRepo(self.workspace)
            self._owned.append(self._repo)
        return self._repo

    @property
    def tracker(self) -> DecisionTracker:
        if self._tracker is None:
            from tracker.store import DecisionTracker

            self._tracker = DecisionTracker(self.workspace.database_url)
            self._owned.append(self._tracker)
        return self._tracker

    @property
    def client(self) -> LLMClient:
        if self._client is None:
            from agents.session import make_client

            client: LLMClient = make_client(self.workspace, use_cache=self.use_cache)
            self._client = client
            self._owned.append(client)
        return self._client

    def close(self) -> None:
        """Release the git helper processes and database connections this object opened."""
        while self._owned:
            self._owned.pop().close()

    def default_engine(self) -> str:
        return "llm" if self.workspace.llm.configured else "heuristic"

    # -- the run ----------------------------------------------------------------------------

    def propose(
        self,
        agent: str,
        *,
        days: int = 30,
        rounds: int = 1,
        engine: str | None = None,
        until: datetime | None = None,
        outcome_type: str = DEFAULT_OUTCOME_TYPE,
        band: float = DEFAULT_BAND,
    ) -> Proposal:
        """Run the loop up to the gated candidates; writes nothing but an error row (and
        the repair of rows left by an apply that was killed, see :data:`APPLYING`)."""
        engine = engine or self.default_engine()
        self._check_engine(engine, rounds)
        proposal = Proposal(
            run_id=uuid.uuid4().hex[:16], agent=agent, engine=engine,
            model=self.workspace.llm.model if engine == "llm" else None,
            days=days, started=datetime.now(UTC), outcome_type=outcome_type, band=band,
        )
        try:
            self._repair_interrupted(agent)
            self._gather(proposal, until)
            self._plan(proposal, rounds)
            proposal.candidates = self._candidates(proposal, rounds, until)
        except RUN_ERRORS as exc:
            self._record_error(proposal, exc)
            raise
        finally:
            proposal.usage = self._usage()
        return proposal

    def apply(self, proposal: Proposal, *, branch: str | None = None, push: bool = False,
              remote: str = "origin") -> str:
        """Commit the best candidate (one commit with trailers), push it if asked, record."""
        best = proposal.best
        if best is None or best.text is None:
            raise OptimizerError("nothing to apply: no candidate passed every gate")
        if push and not branch:
            raise OptimizerError("--push needs --branch: only a new branch is pushed")
        message = f"{commit_subject(proposal.agent, best.diagnosis)}\n\n{best.diagnosis}".strip()
        # Recorded before the commit: a kill between the two leaves a row to repair.
        self._save(proposal.run_columns("error", error=APPLYING,
                                        note=f"branch {branch}" if branch else None))
        try:
            sha = self.repo.apply(proposal.agent, best.text, message, base=proposal.base_sha,
                                  trailers=commit_trailers(proposal, best), branch=branch)
        except RUN_ERRORS as exc:
            self._record_error(proposal, exc)
            raise
        if push and branch:
            self._push(proposal, branch, sha, remote)
        self._save(proposal.run_columns("applied", result_sha=sha,
                                        note=f"committed on branch {branch}" if branch else None))
        return str(sha)

    def _push(self, proposal: Proposal, branch: str, sha: str, remote: str) -> None:
        """Push the new branch; a failed push deletes it, so a rerun starts clean."""
        self.progress(f"Pushing {branch} to {remote}")
        try:
            self.repo.push(branch, remote=remote)
        except PromptRepoError as exc:
            self.repo.delete_branch(branch, sha)
            failed = PushFailed(f"{exc}; the branch {branch} was removed, nothing changed")
            self._record_error(proposal, failed)
            raise failed from None

    def record(self, proposal: Proposal, status: str, note: str) -> str:
        """Record a run that applied nothing: ``rejected`` or ``dry-run``, with the reason."""
        if status not in ("rejected", "dry-run"):
            raise OptimizerError(f"record() takes rejected or dry-run, not {status!r}")
        return self._save(proposal.run_columns(status, note=note))

    # -- steps ------------------------------------------------------------------------------

    def _gather(self, proposal: Proposal, until: datetime | None) -> None:
        from optimizer.analyzer import analyze

        agent = proposal.agent
        self.progress(f"Reading {agent}'s prompt")
        version = self.repo.read(agent)
        proposal.base_sha, proposal.path, proposal.current = version.sha, version.path, version.text
        self.progress("Scoring the prompt")
        analysis = analyze(version.text)
        proposal.scores_before = scores_of(analysis)
        proposal.analyzer_findings = finding_lines(analysis.findings)
        self._cases(proposal, until)
        proposal.findings = self._performance_findings(agent, proposal.days, until)

    def _cases(self, proposal: Proposal, until: datetime | None) -> None:
        """The critic's failure cases, and with a replay gate the held-out decisions: the
        window is cut by time and the critic sees only what lies before the cut."""
        self._replay, reason = self._replay_gate()
        if self._replay is None:
            self.progress(f"Loading failure cases of the last {proposal.days} days")
            proposal.failures = list(self.tracker.failure_cases(
                proposal.agent, days=proposal.days, limit=self.max_cases, until=until,
                outcome_type=proposal.outcome_type, band=proposal.band,
                contradiction=self.contradiction))
            proposal.notes.append(str(reason))
            return
        from optimizer.held_out import load_cases

        self.progress("Loading failure cases before the walk-forward cut, and every "
                      "decision after it")
        load_cases(self.tracker, proposal, self.replay_settings, until or datetime.now(UTC),
                   self.max_cases, self.contradiction)

    def _plan(self, proposal: Proposal, rounds: int) -> None:
        """Plan the LLM calls before making any; sample the held-out set down to fit."""
        if self._replay is None and proposal.engine != "llm":
            return
        from optimizer.held_out import plan_run

        budget = self.client.budget
        plan_run(proposal, self.replay_settings, rounds=rounds, max_repairs=self.max_repairs,
                 max_calls=budget.max_calls, max_tokens=budget.max_tokens)

    def _candidates(self, proposal: Proposal, rounds: int, until: datetime | None
                    ) -> list[Candidate]:
        """The engine's candidates, each judged by the same gates."""
        judge = Judge(self.gate_settings, self._replay, self.progress)
        if proposal.engine == "heuristic":
            from optimizer.heuristic_engine import heuristic_candidate

            return [heuristic_candidate(proposal, self.tracker, judge, until,
                                        self.contradiction)]
        from optimizer.critic_rounds import CriticRounds

        return CriticRounds(self.client, self.workspace.llm.model, self.temperature,
                            self.max_repairs, self.concurrency, judge, self.progress
                            ).run(proposal, rounds)

    # -- helpers ----------------------------------------------------------------------------

    def _check_engine(self, engine: str, rounds: int) -> None:
        if engine not in ENGINES:
            raise UnknownEngine(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
        if engine == "llm" and not self.workspace.llm.configured:
            raise LLMNotConfigured()
        if rounds < 1:
            raise OptimizerError("rounds must be at least 1")

    def _replay_gate(self) -> tuple[Replayer | None, str | None]:
        """An :class:`optimizer.held_out.Replayer`, or None and why the gate cannot run."""
        if not self.workspace.llm.configured:
            return None, "replay gate skipped: no LLM configured to replay the agent"
        try:
            from optimizer.held_out import Replayer
        except ModuleNotFoundError as exc:
            if exc.name not in ("optimizer.replay_gate", "optimizer.held_out"):
                raise
            return None, "replay gate not available in this installation"
        return Replayer(self.client, self.workspace, self.replay_settings), None

    def _performance_findings(self, agent: str, days: int, until: datetime | None) -> list[str]:
        try:
            from tracker.analysis import agent_findings
        except ModuleNotFoundError as exc:
            if exc.name not in ("tracker.analysis",):
                raise
            return []
        self.progress("Reading the calibration and consistency findings")
        return list(agent_findings(self.tracker.engine, agent, days=days, until=until,
                                   rule=self.contradiction))

    def _usage(self) -> dict[str, int]:
        if self._client is None:
            return {"calls": 0, "cached_calls": 0, "prompt_tokens": 0, "completion_tokens": 0}
        usage = self._client.usage
        return {key: int(value) for key, value in asdict(usage).items()}

    def _record_error(self, proposal: Proposal, exc: Exception) -> None:
        proposal.usage = self._usage()
        try:
            self._save(proposal.run_columns("error", error=str(exc)))
        except TrackerError:
            pass  # the tracker itself is what failed; the original error is the one to show

    def _save(self, columns: dict[str, Any]) -> str:
        """Store the run's row; a run recorded before (an apply) has its row updated."""
        run_id = str(columns["run_id"])
        if run_id in self._recorded:
            self.tracker.update_optimization_run(**columns)
            return run_id
        self.tracker.record_optimization_run(**columns)
        self._recorded.add(run_id)
        return run_id

    def _repair_interrupted(self, agent: str) -> None:
        from optimizer.run_repair import repair_interrupted

        repair_interrupted(self.tracker, self.repo, agent)


def _replay_settings(section: dict[str, Any], use_cache: bool) -> ReplaySettings:
    from optimizer.held_out import ReplaySettings

    return ReplaySettings.from_section(section, use_cache=use_cache)

