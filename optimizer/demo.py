"""``promptloop demo``: the whole loop on bundled data, in one call, with no key.

:func:`run_demo` walks through the loop a user would run, each step one library call:

1. ``workspace``: a fresh workspace (git repository, promptloop.toml, three example
   agents) in the given folder or a new temporary one;
2. ``decisions``: the tracker filled with the SYNTHETIC decision log of
   :mod:`agents.demo_log` over the REAL sample prices (or, with ``llm=True``, real team
   sessions over the last part of the sample, through the configured endpoint), and the
   outcomes resolved from the same prices;
3. ``analyze``: :func:`tracker.analysis.analyze_performance` over the log's window (the
   typed report in the step's data: ``to_dict()`` where it leaves as JSON);
4. ``optimize``: the optimize loop on ``agent`` (heuristic engine, or the LLM engine with
   ``llm=True``), applied as one commit when a candidate passes every gate;
5. ``diff``: the applied change, as ``git diff`` of the prompt file;
6. ``log``: the agent's prompt history, now two versions;
7. ``rollback``: the first version restored as a new commit (history is never rewritten).

Without ``llm=True`` the demo is offline whatever the environment says: a user with a local
server has ``OPENAI_BASE_URL`` (and a key) in the shell, and the optimize loop would replay
the heuristic candidate through it (a minute of retries when that server is down). The
optimizer is given the workspace with its LLM settings cleared (:func:`_offline`), so the
only engine that can run is the heuristic one and no replay gate is attempted.

The demo sits in ``optimizer/`` because it drives every package below it. Each step is
reported to ``on_step`` as it finishes and collected in the returned :class:`DemoReport`;
nothing is printed here. The data's window is historical, so the analysis and the
optimizer are given ``until`` = the end of the log and ``days`` covering it.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optimizer.errors import OptimizerError
from prompt_repo.config import Workspace
from tracker.wording import plural

if TYPE_CHECKING:
    from prompt_repo.repo import PromptRepo

__all__ = ["DemoReport", "DemoStep", "run_demo", "DEMO_SYMBOL"]

DEMO_SYMBOL = "BTCUSDT"
DEMO_AGENT = "MarketAnalyst"
EVERY = timedelta(hours=4)
HORIZON = "24h"


@dataclass(frozen=True)
class DemoStep:
    name: str
    explanation: str  # one line: what this step did, for the reader
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class DemoReport:
    root: Path
    steps: list[DemoStep] = field(default_factory=list)

    def step(self, name: str) -> DemoStep | None:
        return next((s for s in self.steps if s.name == name), None)


def run_demo(
    directory: Path | None,
    *,
    llm: bool = False,
    sessions: int = 12,
    agent: str = DEMO_AGENT,
    on_step: Callable[[DemoStep], None] | None = None,
) -> DemoReport:
    """Run the seven steps (module doc); returns what each produced."""
    from prompt_repo import PromptRepo, init_workspace, load_workspace

    root = _fresh_folder(directory)
    report = DemoReport(root)

    def done(step: DemoStep) -> None:
        report.steps.append(step)
        if on_step is not None:
            on_step(step)

    init = init_workspace(root)
    workspace = load_workspace(root)
    done(DemoStep("workspace", f"Created a workspace with three example agents in {root}",
                  {"root": str(root), "commit": init.commit, "agents": list(workspace.agents)}))
    repo = PromptRepo(workspace)
    fill = _real_sessions if llm else _synthetic_log
    first, last, step = fill(workspace, repo, sessions)
    done(step)
    days = max(1, math.ceil((last - first) / timedelta(days=1)) + 1)
    until = last + timedelta(seconds=1)
    done(_analyze(workspace, days, until))
    result = _optimize(workspace if llm else _offline(workspace), agent, days=days,
                       until=until, engine="llm" if llm else "heuristic")
    done(_optimized(agent, result))
    if result.get("applied"):
        done(DemoStep("diff", "The change, as git sees it (git diff of the prompt file)",
                      {"diff": repo.diff(agent, result["base_sha"], result["sha"])}))
        done(DemoStep("log", f"{agent}'s prompt history: every version is a commit",
                      {"versions": _versions(repo, agent)}))
        sha = repo.rollback(agent, result["base_sha"])
        done(DemoStep("rollback", f"Rolled back to v1 with a new commit ({sha[:7]}); "
                      "history is kept", {"sha": sha, "versions": _versions(repo, agent)}))
    return report


def _offline(workspace: Workspace) -> Workspace:
    """The workspace with no endpoint configured (module doc: the demo without --llm)."""
    return replace(workspace, llm=replace(workspace.llm, api_key=None, base_url=None))


def _fresh_folder(directory: Path | None) -> Path:
    if directory is None:
        return Path(tempfile.mkdtemp(prefix="promptloop-demo-")) / "workspace"
    directory = Path(directory).expanduser().resolve()
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise OptimizerError(f"{directory} is not empty; the demo needs a new or empty folder")
    return directory


def _optimize(workspace: Workspace, agent: str, *, days: int, until: datetime,
              engine: str) -> dict[str, Any]:
    """Propose, then the optimize command's policy with --auto-apply: apply what passed
    every gate, record the rest with the reason the command gives."""
    from optimizer.apply_policy import ApplyMode, conclude
    from optimizer.loop import AgentPromptOptimizer

    optimizer = AgentPromptOptimizer(workspace)
    try:
        proposal = optimizer.propose(agent, days=days, engine=engine, until=until)
        outcome = conclude(optimizer, proposal, ApplyMode(auto_apply=True))
        shown = proposal.shown
        return {
            "applied": outcome.applied, "status": outcome.status, "reason": outcome.reason,
            "engine": engine, "base_sha": proposal.base_sha, "sha": outcome.commit,
            "scores_before": proposal.scores_before,
            "scores_after": shown.scores if shown else None,
            "gates": [gate.to_dict() for gate in shown.gates] if shown else [],
            "notes": list(proposal.notes),
        }
    finally:
        optimizer.close()


def _synthetic_log(workspace: Workspace, repo: PromptRepo, sessions: int
                   ) -> tuple[datetime, datetime, DemoStep]:
    from agents.demo_log import synthetic_decisions
    from agents.market import load_sample
    from agents.session import team_spec
    from tracker import DecisionTracker
    from tracker.resolve import resolve_outcomes

    market = load_sample(DEMO_SYMBOL)
    team = team_spec(workspace)
    shas = {agent: repo.read(agent).sha for agent in team.order}
    decisions = synthetic_decisions(market, DEMO_SYMBOL, shas, team, every=EVERY)
    if not decisions:
        raise OptimizerError("the bundled sample is too short for the demo")
    tracker = DecisionTracker(workspace.database_url)
    tracker.track_decisions(decisions)
    resolved = resolve_outcomes(tracker, market, horizon=HORIZON, symbol=DEMO_SYMBOL)
    first, last = decisions[0]["timestamp"], decisions[-1]["timestamp"]
    step = DemoStep(
        "decisions",
        f"Recorded {len(decisions)} SYNTHETIC decisions (scripted agents, labelled"
        f" 'synthetic') over REAL {DEMO_SYMBOL} prices, {first:%Y-%m-%d} to {last:%Y-%m-%d},"
        f" and resolved {resolved.resolved} 24h outcomes from the same prices",
        {"decisions": len(decisions), "outcomes": resolved.resolved, "synthetic": True,
         "session_id": decisions[0]["session_id"], "start": first.isoformat(),
         "end": last.isoformat(), "source": str(market.path.name)},
    )
    return first, last, step


def _real_sessions(workspace: Workspace, repo: PromptRepo, sessions: int
                   ) -> tuple[datetime, datetime, DemoStep]:
    from agents.backtest import run_backtest
    from agents.market import load_sample
    from agents.session import make_client
    from tracker import DecisionTracker
    from tracker.resolve import parse_horizon

    market = load_sample(DEMO_SYMBOL)
    end = market.all_candles[-1].timestamp - parse_horizon(HORIZON)
    start = end - EVERY * (max(sessions, 1) - 1)
    tracker = DecisionTracker(workspace.database_url)
    with make_client(workspace) as client:
        result = run_backtest(workspace, DEMO_SYMBOL, start, end, every=EVERY, market=market,
                              client=client, tracker=tracker, concurrency=4)
    step = DemoStep(
        "decisions",
        f"Ran {result.ran} real team sessions through {workspace.llm.model} over REAL"
        f" {DEMO_SYMBOL} prices ({len(result.failed)} without a decision), and resolved"
        f" {result.outcomes} 24h outcomes from the same prices",
        {"decisions": result.ran, "failed": len(result.failed), "outcomes": result.outcomes,
         "synthetic": False, "session_id": result.session_id, "start": start.isoformat(),
         "end": end.isoformat()},
    )
    return start, end, step


def _analyze(workspace: Workspace, days: int, until: datetime) -> DemoStep:
    from tracker import DecisionTracker
    from tracker.analysis import analyze_performance

    tracker = DecisionTracker(workspace.database_url)
    report = analyze_performance(tracker.engine, list(workspace.agents), days, until=until)
    found = sum(block.inconsistencies_found for block in report.agents.values())
    suggested = sum(len(block.suggestions) for block in report.agents.values())
    return DemoStep(
        "analyze",
        f"Analyzed accuracy, calibration and consistency per agent: "
        f"{plural(found, 'inconsistency', 'inconsistencies')}, {plural(suggested, 'suggestion')}",
        {"report": report, "suggestions": suggested},
    )


def _optimized(agent: str, result: dict[str, Any]) -> DemoStep:
    engine = result.get("engine", "heuristic")
    if result.get("applied"):
        line = (f"Optimized {agent}'s prompt with the {engine} engine; it passed every gate"
                f" and was applied as commit {str(result['sha'])[:7]}")
    else:
        line = (f"Optimized {agent}'s prompt with the {engine} engine; nothing applied:"
                f" {result.get('reason', 'no candidate passed every gate')}")
    return DemoStep("optimize", line, result)


def _versions(repo: PromptRepo, agent: str) -> list[dict[str, str]]:
    return [{"version": v.name, "sha": v.short_sha, "subject": v.subject}
            for v in repo.log(agent)]
