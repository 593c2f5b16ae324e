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
   times); then the gates (optimizer/gates.py, then the replay gate on what passed them).
   Extra rounds are independent attempts (a marker in the request, a warmer temperature);
   the best candidate is the one with the highest analyzer overall among those passing
   every gate.

The ``heuristic`` engine replaces step 4 with the analyzer's offline rewrite
(``optimizer.suggest.heuristic_rewrite`` without slots, so nothing is left for a person to
fill in) plus the rules the agent's track record supports (``optimizer.evidence``: caps on
confidence where the analysis shows overconfidence, a tie-break where contradiction pairs'
outcomes favour one), then the same gates: no key, no network. The engine defaults to
``llm`` when an LLM is configured, else ``heuristic``.

Then the caller decides: :meth:`~AgentPromptOptimizer.apply` (one commit through
PromptRepo, optionally on a new branch and pushed) or :meth:`~AgentPromptOptimizer.record`
(a rejected or dry run). Every run leaves exactly one ``optimization_runs`` row: a run that
fails records an ``error`` row and re-raises. An apply records its row BEFORE the commit
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

import math
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from agents.errors import AgentError, LLMNotConfigured
from optimizer.critic import critic_messages, finding_lines, parse_critique, repair_message
from optimizer.errors import (
    CriticFailed,
    CritiqueFormatError,
    OptimizerError,
    PushFailed,
    UnknownEngine,
)
from optimizer.gates import GateSettings, setting, static_gates
from optimizer.proposal import (
    SCORE_KEYS,
    Candidate,
    Proposal,
    commit_subject,
    commit_trailers,
)
from optimizer.run_repair import APPLYING
from prompt_repo.config import Workspace
from prompt_repo.errors import PromptRepoError
from tracker.contradiction import ContradictionRule
from tracker.errors import TrackerError
from tracker.rules import DEFAULT_BAND, DEFAULT_OUTCOME_TYPE

if TYPE_CHECKING:
    from optimizer.evidence_check import Evidence

__all__ = ["AgentPromptOptimizer", "ENGINES"]

ENGINES = ("llm", "heuristic")
RUN_ERRORS = (PromptRepoError, TrackerError, AgentError, OptimizerError)
LATER_ROUND_TEMPERATURE = 0.7
EVIDENCE_CASES = 200  # failure cases the heuristic engine reads for contradiction pairs
HELD_OUT_DECISIONS = 5000  # the newest decisions after the cut its caps are checked on

Progress = Callable[[str], None]


class AgentPromptOptimizer:
    """Propose a gated prompt change for one agent; apply it as a commit or record why not."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        repo: Any = None,
        tracker: Any = None,
        client: Any = None,
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
        self._replay: Any = None  # an optimizer.held_out.Replayer when the gate can run
        self._recorded: set[str] = set()  # run ids with a stored row (updated, not inserted)
        self._owned: list[Any] = []  # what this object built, hence closes

    # -- collaborators, built on first use ------------------------------------------------

    @property
    def repo(self) -> Any:
        if self._repo is None:
            from prompt_repo import PromptRepo

            self._repo = PromptRepo(self.workspace)
            self._owned.append(self._repo)
        return self._repo

    @property
    def tracker(self) -> Any:
        if self._tracker is None:
            from tracker import DecisionTracker

            self._tracker = DecisionTracker(self.workspace.database_url)
            self._owned.append(self._tracker)
        return self._tracker

    @property
    def client(self) -> Any:
        if self._client is None:
            from agents.session import make_client

            self._client = make_client(self.workspace, use_cache=self.use_cache)
            self._owned.append(self._client)
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
            if engine == "heuristic":
                proposal.candidates = [self._heuristic(proposal, until)]
            else:
                proposal.candidates = self._rounds(proposal, rounds)
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
        return sha

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

        budget = getattr(self.client, "budget", None)
        plan_run(proposal, self.replay_settings, rounds=rounds, max_repairs=self.max_repairs,
                 max_calls=getattr(budget, "max_calls", self.workspace.llm.max_calls),
                 max_tokens=getattr(budget, "max_tokens", self.workspace.llm.max_tokens))

    def _heuristic(self, proposal: Proposal, until: datetime | None) -> Candidate:
        """Wording edits of the analyzer's offline rewrite (no slots, nothing that changes
        what the agent decides), plus the confidence caps the track record before the cut
        supports and the calls after it confirm (optimizer/evidence_check.py); every other
        change is proposed in the critique, never applied."""
        from optimizer.analyzer import analyze
        from optimizer.evidence import apply_rules, derive_rules
        from optimizer.evidence_check import check_rules, evidence_gate, heuristic_diagnosis
        from optimizer.suggest import finding_suggestions, heuristic_rewrite, unified_diff

        self.progress("Rewriting the wording with the heuristic engine")
        rewrite = heuristic_rewrite(proposal.current, slots=False, behaviour=False)
        evidence = self._evidence(proposal, until)
        checks = check_rules(derive_rules(evidence.block, evidence.cases, self.contradiction),
                             evidence.held_out)
        text = apply_rules(rewrite.text, [check.rule for check in checks if check.applied])
        gate = evidence_gate(evidence, checks, rewrite.proposed, proposal.current, text)
        left = finding_suggestions(analyze(text).findings)  # numbered as in the new text
        diagnosis = heuristic_diagnosis(rewrite.changed, checks, rewrite.proposed, left,
                                        evidence)
        if text == proposal.current:
            return Candidate(round=1, diagnosis=diagnosis, gates=[gate])
        candidate = Candidate(round=1, diagnosis=diagnosis,
                              diff=unified_diff(proposal.current, text,
                                                proposal.path or "prompt"))
        self._judge(proposal, candidate, text)
        candidate.gates.append(gate)
        return candidate

    def _evidence(self, proposal: Proposal, until: datetime | None) -> Evidence:
        """The evidence before the time cut (the agent's analysis block and failure cases)
        and its calls after it (held out): the engine never learns from what checks it. The
        cut is the replay gate's when it holds cases out, else ``time_cut`` of the window."""
        from optimizer.evidence_check import Evidence, held_out_calls
        from optimizer.walk_forward import time_cut
        from tracker.analysis import analyze_performance
        from tracker.rules import DEFAULT_BAND, DEFAULT_OUTCOME_TYPE

        end = until or datetime.now(UTC)
        cut = proposal.holdout.since if proposal.holdout is not None else time_cut(
            end, proposal.days)
        before = max(1, math.ceil(proposal.days - (end - cut) / timedelta(days=1)))
        outcome_type = getattr(proposal, "outcome_type", None) or DEFAULT_OUTCOME_TYPE
        band = getattr(proposal, "band", None)
        band = DEFAULT_BAND if band is None else band
        self.progress("Deriving rules from the track record before the cut")
        cases = self.tracker.failure_cases(proposal.agent, days=before, limit=EVIDENCE_CASES,
                                           until=cut, outcome_type=outcome_type, band=band,
                                           contradiction=self.contradiction)
        report = analyze_performance(self.tracker.engine, [proposal.agent], before, until=cut,
                                     outcome_type=outcome_type, band=band, store_metrics=False,
                                     window_hours=self.contradiction.window_hours,
                                     rsi_tolerance=self.contradiction.rsi_tolerance)
        records = self.tracker.decisions(agent=proposal.agent, since=cut, until=end,
                                         limit=HELD_OUT_DECISIONS)
        return Evidence(cut, report["agents"].get(proposal.agent), list(cases),
                        held_out_calls(records, proposal.agent, cut, outcome_type, band))

    def _rounds(self, proposal: Proposal, rounds: int) -> list[Candidate]:
        if not proposal.failures:
            proposal.notes.append("no failure cases to show the critic: no LLM call made")
            return [Candidate(round=1, diagnosis=f"No failure cases in the last "
                              f"{proposal.days} days: the critic was not asked.")]
        workers = min(rounds, self.concurrency)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(self._round, proposal, n) for n in range(1, rounds + 1)]
            try:
                candidates = [future.result() for future in futures]
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        if all(c.error for c in candidates):
            raise CriticFailed("no usable diff: " + "; ".join(
                f"round {c.round}: {c.error}" for c in candidates))
        return candidates

    def _round(self, proposal: Proposal, number: int) -> Candidate:
        """One critic conversation: ask, patch, send errors back (bounded), then judge."""
        from optimizer.patch import PatchError

        messages = critic_messages(
            proposal.agent, proposal.current, proposal.scores_before or {},
            proposal.analyzer_findings, proposal.findings, proposal.failures, attempt=number)
        temperature = self.temperature if number == 1 else LATER_ROUND_TEMPERATURE
        candidate = Candidate(round=number)
        while True:
            self.progress(f"Round {number}: asking the critic ({self.workspace.llm.model})"
                          + (f", repair {candidate.repairs}" if candidate.repairs else ""))
            answer = self.client.chat(messages, temperature=temperature)
            try:
                text = _patched(proposal.current, answer.text, candidate)
            except (CritiqueFormatError, PatchError) as exc:
                if candidate.repairs >= self.max_repairs:
                    candidate.error = (f"no applicable diff after {candidate.repairs} "
                                       f"repair(s): {exc}")
                    return candidate
                candidate.repairs += 1
                messages = [*messages, {"role": "assistant", "content": answer.text},
                            repair_message(str(exc))]
                continue
            if text is not None:
                self._judge(proposal, candidate, text)
            return candidate

    def _judge(self, proposal: Proposal, candidate: Candidate, text: str) -> None:
        from optimizer.analyzer import analyze
        from optimizer.taint import case_texts

        self.progress(f"Round {candidate.round}: checking the gates")
        candidate.text = text
        candidate.scores = scores_of(analyze(text))
        holdout = proposal.holdout
        candidate.gates = static_gates(
            proposal.current, text, proposal.scores_before or {}, candidate.scores,
            self.gate_settings, replay_available=self._replay is not None and holdout is not None,
            untrusted=case_texts(proposal.failures))
        if self._replay is None or holdout is None or not all(g.passed for g in candidate.gates):
            return
        candidate.gates.append(self._replay.verdict(proposal, holdout, text, self.progress,
                                                    candidate.round))

    # -- helpers ----------------------------------------------------------------------------

    def _check_engine(self, engine: str, rounds: int) -> None:
        if engine not in ENGINES:
            raise UnknownEngine(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
        if engine == "llm" and not self.workspace.llm.configured:
            raise LLMNotConfigured()
        if rounds < 1:
            raise OptimizerError("rounds must be at least 1")

    def _replay_gate(self) -> tuple[Any, str | None]:
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


def _patched(current: str, answer: str, candidate: Candidate) -> str | None:
    """The prompt with the answer's diff applied (None: no change proposed); the diagnosis
    and diff are kept on ``candidate``. Raises CritiqueFormatError or PatchError."""
    from optimizer.patch import apply_unified_diff

    critique = parse_critique(answer)
    candidate.diagnosis, candidate.diff = critique.diagnosis, critique.diff
    if critique.diff is None:
        return None
    text = apply_unified_diff(current, critique.diff)
    if text == current:
        raise CritiqueFormatError("the diff changes nothing in the prompt.")
    return text


def _replay_settings(section: dict[str, Any], use_cache: bool) -> Any:
    from optimizer.held_out import ReplaySettings

    return ReplaySettings.from_section(section, use_cache=use_cache)


def scores_of(analysis: Any) -> dict[str, float]:
    """The four analyzer scores, rounded to what is shown (the gates judge these values)."""
    return {key: round(float(getattr(analysis, key)), 1) for key in SCORE_KEYS}
