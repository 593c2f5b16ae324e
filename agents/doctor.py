"""``promptloop doctor``: verify a setup end to end, one :class:`Check` per line.

:func:`run_checks` returns the checks in a fixed order; each is ``ok``, ``fail`` (with the
command or setting that fixes it) or ``skipped`` (with the reason). Nothing is changed:
the git state is read with ``--no-optional-locks``, the database is not created nor
upgraded, its write/read round trip is rolled back, and the LLM calls are one-token
probes with no cache.

1. ``workspace``: promptloop.toml loads and its ``[team]`` names configured agents.
2. ``git repository`` (a working tree with commits, HEAD on a branch), ``git identity``
   (name and email to commit with), then ``prompt NAME`` per agent: committed and clean.
3. ``database`` (reachable, at the head schema revision), ``database round trip``.
4. ``llm key`` (present or not; never its value), then, unless offline or no endpoint is
   configured, ``llm endpoint``, ``llm model``, ``llm structured answer`` and
   ``llm response formats`` (:mod:`agents.doctor_llm`).
5. ``market data`` for ``symbol`` from ``source`` when one is given, and ``disk`` free
   under ``.promptloop`` (the LLM cache and the SQLite tracker).

A check that cannot run because an earlier one failed is skipped and says which. No check
waits longer than ``timeout`` seconds (a few); ``offline`` skips every network check.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from agents.errors import AgentError
from prompt_repo.config import CONFIG_NAME, Workspace, load_workspace
from prompt_repo.errors import ConfigError, PromptRepoError, WorkspaceNotFound
from tracker.errors import SchemaError, TrackerError

if TYPE_CHECKING:
    from prompt_repo.health import PromptState
    from tracker.prices import Candle

__all__ = ["Check", "DoctorOptions", "run_checks"]

Status = Literal["ok", "fail", "skipped"]
MB = 1024 * 1024


@dataclass(frozen=True)
class Check:
    """One line of the report; ``fix`` is set for a failed check."""

    name: str
    status: Status
    detail: str
    fix: str | None = None


@dataclass(frozen=True)
class DoctorOptions:
    offline: bool = False
    timeout: float = 5.0  # seconds, for every network wait
    symbol: str = "BTCUSDT"
    source: str | None = None  # csv:FILE or ccxt:EXCHANGE, as for 'session run'
    min_free_mb: int = 200


def ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def fail(name: str, detail: str, fix: str) -> Check:
    return Check(name, "fail", detail, fix)


def skipped(name: str, detail: str) -> Check:
    return Check(name, "skipped", detail)


def run_checks(start: Path | None = None, options: DoctorOptions | None = None) -> list[Check]:
    """Every check, in order (see the module docstring)."""
    options = options or DoctorOptions()
    try:
        ws = load_workspace(start)
    except PromptRepoError as exc:
        return [_workspace_failure(exc), *_without_workspace()]
    from agents.doctor_llm import llm_checks

    return [
        _workspace_check(ws),
        *git_checks(ws),
        *database_checks(ws),
        *llm_checks(ws, offline=options.offline, timeout=options.timeout),
        market_check(options),
        disk_check(ws, options.min_free_mb),
    ]


# -- workspace -------------------------------------------------------------------------


def _workspace_failure(exc: PromptRepoError) -> Check:
    if isinstance(exc, WorkspaceNotFound):
        return fail("workspace", str(exc), "promptloop init (or run from the workspace, or -C DIR)")
    return fail("workspace", str(exc), f"edit {CONFIG_NAME} (promptloop init writes a commented "
                                       "example)")


def _without_workspace() -> list[Check]:
    names = ("git repository", "git identity", "database", "database round trip", "llm key",
             "market data", "disk")
    return [skipped(name, "the workspace did not load") for name in names]


def _workspace_check(ws: Workspace) -> Check:
    from agents.session import team_spec

    try:
        team = team_spec(ws)
    except ConfigError as exc:
        return fail("workspace", f"{ws.root}: {exc}", f"edit [team] or [agents.X] in "
                                                       f"{CONFIG_NAME}")
    return ok("workspace", f"{ws.root}: {len(ws.agents)} agents, team "
                           f"{' → '.join(team.order)} (decider {team.decider})")


# -- git -------------------------------------------------------------------------------


def git_checks(ws: Workspace) -> list[Check]:
    from prompt_repo.health import git_health

    health = git_health(ws)
    identity = health.identity
    if identity.complete:
        who = ok("git identity", f"{identity.name} <{identity.email}> (from {identity.source})")
    else:
        who = fail("git identity", "no name and email to commit with",
                   'git config --global user.name "Your Name" && '
                   "git config --global user.email you@example.com")
    prompts_skipped = [skipped(f"prompt {agent}", "the git repository is not usable")
                       for agent in ws.agents]
    if health.problem is not None:
        return [fail("git repository", health.problem, _repo_fix(health.problem)), who,
                *prompts_skipped]
    short = (health.head or "")[:7]
    if health.detached:
        repo = fail("git repository", f"HEAD is detached at {short}: promptloop commits go "
                                      "to a branch", "git switch BRANCH (or git switch -c NAME)")
    else:
        repo = ok("git repository", f"on branch {health.branch} at {short}")
    return [repo, who, *(_prompt_check(p) for p in health.prompts)]


def _repo_fix(problem: str) -> str:
    if "no commits" in problem:
        return f"git add {CONFIG_NAME} prompts && git commit -m 'promptloop workspace'"
    if "bare" in problem:
        return "use a clone with a working tree"
    return "promptloop init (it creates the repository), or git init in the workspace"


def _prompt_check(state: PromptState) -> Check:
    name = f"prompt {state.agent}"
    if state.problem is not None:
        return fail(name, state.problem, f"fix [agents.{state.agent}] prompt in {CONFIG_NAME}")
    if not state.committed:
        return fail(name, f"{state.path} is not committed",
                    f"git add {state.path} && git commit -m 'add {state.agent} prompt' "
                    f"(or promptloop agents remove {state.agent})")
    if state.dirty:
        return fail(name, f"{state.path} has uncommitted edits (the runtime reads the "
                          "committed text)",
                    f"git commit {state.path} -m 'edit {state.agent} prompt' "
                    f"(or discard: git checkout -- {state.path})")
    return ok(name, f"{state.path} committed and clean")


# -- database --------------------------------------------------------------------------


def database_checks(ws: Workspace) -> list[Check]:
    from tracker.health import database_state

    url_fix = (f"check database_url in {CONFIG_NAME} (or PROMPTLOOP_DATABASE_URL) and that "
               "the server is up")
    try:
        state = database_state(ws.database_url)
    except SchemaError as exc:
        return [fail("database", str(exc), "upgrade promptloop, or use another database"),
                skipped("database round trip", "the schema is not usable")]
    except TrackerError as exc:
        return [fail("database", str(exc), url_fix),
                skipped("database round trip", "the database is not reachable")]
    if not state.exists:
        return [ok("database", f"{state.database} not created yet: the first command that "
                               f"records creates it at revision {state.head}"),
                skipped("database round trip", "no database yet")]
    if state.revision is None:
        return [ok("database", f"{state.database} reachable, no tracker schema yet: the first "
                               "command that records creates it"),
                skipped("database round trip", "no tracker schema yet")]
    if not state.current:
        return [fail("database", f"{state.database} is at schema revision {state.revision}, "
                                 f"this promptloop's newest is {state.head}",
                     "promptloop db upgrade"),
                skipped("database round trip", "the schema is not at the newest revision")]
    return [ok("database", f"{state.database} at schema revision {state.revision} (newest)"),
            _round_trip(ws.database_url)]


def _round_trip(database_url: str) -> Check:
    from tracker.health import round_trip

    try:
        millis = round_trip(database_url)
    except TrackerError as exc:
        return fail("database round trip", str(exc),
                    "check that the database user may INSERT and that the disk is not full")
    return ok("database round trip", f"wrote and read a decision in {millis:.0f} ms, "
                                     "rolled back (nothing stays)")


# -- market data and disk --------------------------------------------------------------


def market_check(options: DoctorOptions) -> Check:
    name = "market data"
    source, symbol = options.source, options.symbol
    if not source:
        return skipped(name, "no --source given (session run uses the bundled sample)")
    if source.startswith("ccxt:") and options.offline:
        return skipped(name, f"{source} needs the network (--offline)")
    try:
        candles = _candles(source, symbol, options.timeout)
    except (AgentError, TrackerError) as exc:
        return fail(name, f"{source}: {exc}", "check --source and --symbol (as for 'session "
                                              "run')")
    if not candles:
        return fail(name, f"{source} has no candles for {symbol}",
                    "check --symbol, or use a source that serves it")
    last = candles[-1].timestamp.isoformat(timespec="minutes")
    return ok(name, f"{source}: {len(candles)} candles of {symbol}, the last at {last}")


def _candles(source: str, symbol: str, timeout: float) -> list[Candle]:
    kind, _, value = source.partition(":")
    if kind == "ccxt" and value:
        from agents.market import CcxtMarketData

        market = CcxtMarketData(value, timeout=int(timeout * 1000))
        return market.candles(symbol, limit=3)
    from agents.session import market_from_spec

    return list(market_from_spec(source, symbol).candles(symbol, limit=3))


def disk_check(ws: Workspace, min_free_mb: int) -> Check:
    where = ws.state_dir if ws.state_dir.is_dir() else ws.root
    free = shutil.disk_usage(where).free // MB
    detail = f"{free:,} MB free at {where} (LLM cache and SQLite tracker)"
    if free < min_free_mb:
        return fail("disk", detail, f"free at least {min_free_mb} MB there, or clear "
                                    f"{ws.state_dir / 'llm-cache'}")
    return ok("disk", detail)
