"""``DecisionSession``: run the agent team on a market snapshot and record the decision.

::

    session = DecisionSession(symbol="BTCUSDT", track_performance=True)
    result = session.run_session()          # result.decision_id, .action, .confidence
    session.tracker.track_decision_outcome(result.decision_id, "pnl", 12.5)
    session.close()                         # closes the LLM client it built (or use ``with``)

The team is ``[team] order`` of promptloop.toml (default: the ``[agents]`` tables in file
order; ``promptloop init`` writes MarketAnalyst -> RiskManager -> TradingAdvisor). Each
member sees the market snapshot and the answers of the members before it
(:mod:`agents.roles`).

The combine rule (:func:`combine`):

- the *decider* (``[team] decider``, default the last member) decides the action;
- the *risk agent* (``[team] risk_agent``, default ``RiskManager`` when it is a member)
  vetoes the decision to HOLD when its ``risk_level`` is at or above ``[team] risk_veto``
  (LOW < MEDIUM < HIGH; default HIGH; ``"off"`` disables the veto);
- confidence and reasoning are the decider's; a veto is stated at the start of the
  reasoning; the decision's risk level is the risk agent's (the decider's without one).

Failures are never turned into decisions. When a member's answer stays unparseable after
the client's repair re-ask, that call is an error (:class:`agents.roles.CallResult` with
``error`` set). If the failed member is the decider or the risk agent, no decision can
be made: :class:`SessionFailed` is raised, carrying the outputs, and nothing is written
(the tracker's ``agent_outputs`` rows hang off a decision, and inventing one would be
the very error-as-data this rule forbids). If another member failed, the team goes on
without its answer (later members see ``{"agent": ..., "error": ...}``) and the decision
is recorded together with the failed call's row (``error`` set, no action).

When tracking is on, the decision, every agent output with its prompt sha, the context
(the snapshot with its indicators, plus the team's answers under ``"team"`` so that a
decision can be replayed) and the prompt versions are written through
``session.tracker`` — the session's one :class:`tracker.DecisionTracker`, or with
``tracker_url`` (and ``tracker_key``) an :class:`agents.remote_tracker.RemoteTracker` that
records through ``promptloop serve``.

Prompts: each member runs the version its ``label`` names (default ``production``; an agent
without a production label runs its newest version, :mod:`prompt_repo.labels`), and every
output row records that label and the prompt's sha. ``shadow`` (default ``[shadow]`` of
promptloop.toml) runs some members' other labels on the same inputs alongside the team,
recorded as shadow outputs and never acted on (:mod:`agents.shadow`).

Time: the team sees only the candles complete before ``when``, and the decision is
stamped ``when``; without ``when`` it sees the latest candles and is stamped with the
snapshot's time (the close of the last candle). An agent's model is the session's
``model`` override, else its ``[agents.X] model``, else ``[llm] model``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from agents.errors import AgentError, LLMNotConfigured, SessionFailed
from agents.roles import TEAM_KEY, AgentAnswer, CallResult, answer_fields, call_agent
from agents.shadow import ShadowOutput, ShadowRunner, shadow_spec
from agents.shadow import shadow_timeout as default_shadow_timeout
from prompt_repo.config import Workspace, load_workspace
from prompt_repo.errors import ConfigError
from prompt_repo.labels import PRODUCTION, check_label_name

if TYPE_CHECKING:
    from agents.llm import Budget, LLMClient, RetryPolicy
    from agents.market import CsvMarketData
    from agents.protocols import ChatClient, MarketData
    from prompt_repo.config import LLMSettings
    from prompt_repo.repo import PromptVersion
    from tracker.protocols import DecisionRecorder

__all__ = [
    "DecisionSession",
    "SessionResult",
    "SessionFailed",
    "LLMNotConfigured",
    "TeamSpec",
    "FinalDecision",
    "team_spec",
    "combine",
    "make_client",
    "agent_model",
    "read_prompts",
    "read_prompt_versions",
    "team_labels",
]

RISK_ORDER = {"LOW": 0, "MEDIUM": 1, "HIGH": 2}
DEFAULT_RISK_AGENT = "RiskManager"


@dataclass(frozen=True)
class TeamSpec:
    order: tuple[str, ...]
    decider: str
    risk_agent: str | None
    risk_veto: str | None  # None: no veto


@dataclass(frozen=True)
class FinalDecision:
    action: str
    confidence: float
    risk_level: str | None
    reasoning: str
    vetoed: bool


@dataclass(frozen=True)
class SessionResult:
    session_id: str
    symbol: str
    timestamp: datetime
    decision_id: int | None  # None when tracking is off
    action: str
    confidence: float
    risk_level: str | None
    reasoning: str
    market_condition: str | None
    vetoed: bool
    outputs: list[CallResult]
    context: dict[str, Any] = field(repr=False)
    prompt_versions: dict[str, str] = field(repr=False)
    shadow_outputs: list[ShadowOutput] = field(default_factory=list, repr=False)


def team_spec(workspace: Workspace) -> TeamSpec:
    """The team of promptloop.toml's ``[team]`` table, checked against ``[agents]``."""
    table = workspace.team.model_dump(exclude_none=True)  # types checked at load
    order = tuple(table.get("order") or workspace.agents)
    unknown = [name for name in order if name not in workspace.agents]
    if not order or unknown:
        raise ConfigError(
            f"[team] order names agents without an [agents.X] table: {', '.join(unknown)}"
            if unknown else "no agents configured: add [agents.X] tables to promptloop.toml"
        )
    decider = str(table.get("decider") or order[-1])
    default_risk = DEFAULT_RISK_AGENT if DEFAULT_RISK_AGENT in order else None
    risk_agent = table.get("risk_agent", default_risk)
    veto = str(table.get("risk_veto", "HIGH")).upper()
    if decider not in order or (risk_agent is not None and risk_agent not in order):
        raise ConfigError("[team] decider and risk_agent must be members of [team] order")
    if veto not in RISK_ORDER and veto != "OFF":
        raise ConfigError("[team] risk_veto must be LOW, MEDIUM, HIGH or off")
    return TeamSpec(order, decider, risk_agent, None if veto == "OFF" else veto)


def combine(answers: Mapping[str, AgentAnswer], team: TeamSpec) -> FinalDecision:
    """The documented rule: the decider decides, the risk agent may veto to HOLD."""
    decision = answers[team.decider]
    risk = answers.get(team.risk_agent) if team.risk_agent else None
    risk_level = risk.risk_level if risk else decision.risk_level
    vetoed = bool(
        risk is not None
        and team.risk_veto is not None
        and decision.action != "HOLD"
        and RISK_ORDER[risk.risk_level] >= RISK_ORDER[team.risk_veto]
    )
    reasoning = decision.reasoning
    if vetoed:
        reasoning = (
            f"Vetoed to HOLD by {team.risk_agent} (risk {risk_level} >= limit"
            f" {team.risk_veto}); {team.decider} proposed {decision.action}: {reasoning}"
        )
    return FinalDecision(
        action="HOLD" if vetoed else decision.action,
        confidence=decision.confidence,
        risk_level=risk_level,
        reasoning=reasoning,
        vetoed=vetoed,
    )


def agent_model(workspace: Workspace, agent: str, override: str | None = None) -> str:
    """An agent's model: the override (``--model``), its ``[agents.X] model``, ``[llm] model``."""
    return override or workspace.agents[agent].model or workspace.llm.model


def make_client(workspace: Workspace, *, use_cache: bool = True, cached: bool = True,
                settings: LLMSettings | None = None, budget: Budget | None = None,
                retry: RetryPolicy | None = None) -> LLMClient:
    """The one way to build an LLM client: the workspace's ``[llm]`` (or ``settings``, e.g.
    with a shorter timeout) and its cache (``use_cache=False``: not read; ``cached=False``:
    none at all, as for the doctor's probe); refuses without an endpoint. Whoever builds the
    client closes it (``with make_client(ws) as client:``, or an owner's ``close()``)."""
    settings = workspace.llm if settings is None else settings
    if not settings.configured:
        raise LLMNotConfigured()
    from agents.llm import LLMClient

    cache_dir = workspace.state_dir / "llm-cache" if cached else None
    return LLMClient(settings, cache_dir=cache_dir, use_cache=use_cache, budget=budget,
                     retry=retry)


def read_prompts(workspace: Workspace, agents: Sequence[str],
                 label: str = PRODUCTION) -> dict[str, PromptVersion]:
    """Each agent's prompt version (``.text``, ``.sha``) under ``label`` (see
    :func:`team_labels`; production: the pinned version, else the newest)."""
    return read_prompt_versions(workspace, team_labels(workspace, agents, label))


def team_labels(workspace: Workspace, agents: Sequence[str], label: str) -> dict[str, str]:
    """Agent -> its label when the team runs ``label``: that label where the agent has it,
    else production; refused when no member has it."""
    from prompt_repo.repo import PromptRepo

    with PromptRepo(workspace) as repo:
        return repo.labels().for_team(list(agents), label)


def read_prompt_versions(workspace: Workspace,
                         labels: Mapping[str, str]) -> dict[str, PromptVersion]:
    """Agent -> its prompt version under the label ``labels`` gives it."""
    from prompt_repo.repo import PromptRepo

    with PromptRepo(workspace) as repo:
        return {agent: repo.read(agent, label=label) for agent, label in labels.items()}


def default_market(symbol: str) -> CsvMarketData:
    """The bundled sample of real historical candles."""
    from agents.market import load_sample

    return load_sample(symbol)


def market_from_spec(spec: str | None, symbol: str, timeframe: str = "1h") -> MarketData:
    """``None`` (the bundled sample), ``csv:FILE`` or ``ccxt:EXCHANGE`` -> a market source."""
    if not spec:
        return default_market(symbol)
    kind, _, value = spec.partition(":")
    if kind == "csv" and value:
        from agents.market import CsvMarketData

        return CsvMarketData(value, symbol=symbol)
    if kind == "ccxt" and value:
        from agents.market import CcxtMarketData

        return CcxtMarketData(value, timeframe=timeframe)
    raise AgentError(f"unknown market source {spec!r}: use csv:FILE or ccxt:EXCHANGE")


class DecisionSession:
    """One run of the team for one symbol at one moment (``when``; default: the latest)."""

    def __init__(
        self,
        symbol: str = "BTCUSDT",
        track_performance: bool = True,
        *,
        workspace: Workspace | None = None,
        market: MarketData | None = None,
        client: ChatClient | None = None,
        tracker: DecisionRecorder | None = None,
        when: datetime | None = None,
        is_simulated: bool = False,
        session_id: str | None = None,
        prompts: Mapping[str, PromptVersion] | None = None,
        history: int = 200,
        model: str | None = None,
        label: str = PRODUCTION,
        shadow: Mapping[str, str] | None = None,
        shadow_timeout: float | None = None,
        tracker_url: str | None = None,
        tracker_key: str | None = None,
    ) -> None:
        self.symbol = symbol
        self.track_performance = track_performance
        self.workspace = workspace or load_workspace()
        self.team = team_spec(self.workspace)
        self.market = market if market is not None else default_market(symbol)
        self._client = client
        self._owns_client = False  # True once the session built its own (closed by close())
        self.when = when
        self.is_simulated = is_simulated
        self.session_id = session_id or f"session-{uuid.uuid4().hex[:12]}"
        self._prompts = dict(prompts) if prompts is not None else None
        self.history = history
        self.model = model
        self.label = check_label_name(label)
        self.shadow = shadow_spec(self.workspace, self.team.order, shadow)
        self.shadow_timeout = (default_shadow_timeout(self.workspace) if shadow_timeout is None
                               else shadow_timeout)
        self._owns_tracker = tracker is None and track_performance  # closed by close()
        self.tracker = (_open_tracker(self.workspace, tracker_url, tracker_key)
                        if self._owns_tracker else tracker)

    @property
    def client(self) -> ChatClient:
        if self._client is None:
            self._client = make_client(self.workspace)
            self._owns_client = True
        return self._client

    def close(self) -> None:
        """Close the LLM client and the tracker the session built (what was passed in is
        its owner's)."""
        if self._owns_client and self._client is not None:
            self._client.close()
        if self._owns_tracker and self.tracker is not None:
            self.tracker.close()

    def __enter__(self) -> DecisionSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def snapshot(self) -> dict[str, Any]:
        """The market snapshot the team sees (no candle at or after ``when``)."""
        from agents.snapshot import market_snapshot

        candles = self.market.candles(self.symbol, end=self.when, limit=self.history)
        if not candles:
            raise AgentError(f"no market data for {self.symbol} before {self.when or 'now'}")
        return dict(market_snapshot(self.symbol, candles))

    def run_session(self) -> SessionResult:
        """Ask the team, combine the answers, record the decision when tracking is on."""
        snapshot = self.snapshot()
        labels = self._labels()
        prompts = self._prompts or read_prompt_versions(self.workspace, labels)
        shadows = self._shadow_runner(prompts)
        outputs = self._ask_team(snapshot, prompts, shadows)
        shadow_outputs = shadows.collect(self.shadow_timeout)
        answers = {out.agent: out.answer for out in outputs if out.answer is not None}
        final = combine(answers, self.team)
        context = {**snapshot, TEAM_KEY: [answer_fields(o.agent, o.answer, o.error)
                                          for o in outputs]}
        versions = {agent: prompts[agent].sha for agent in self.team.order}
        timestamp = self.when or _timestamp(snapshot)
        decision_id = None
        if self.track_performance and self.tracker is not None:
            decision_id = self.tracker.track_decision(
                session_id=self.session_id, symbol=self.symbol, timestamp=timestamp,
                action=final.action, confidence=final.confidence,
                risk_level=final.risk_level, reasoning=final.reasoning,
                market_condition=snapshot.get("market_condition"),
                is_simulated=self.is_simulated, agent_types=list(self.team.order),
                context=context, prompt_versions=versions,
                agent_outputs=[{**out.to_output_row(), "label": labels[out.agent]}
                               for out in outputs]
                + [shadow.to_output_row() for shadow in shadow_outputs],
            )
        return SessionResult(
            session_id=self.session_id, symbol=self.symbol, timestamp=timestamp,
            decision_id=decision_id, action=final.action, confidence=final.confidence,
            risk_level=final.risk_level, reasoning=final.reasoning,
            market_condition=snapshot.get("market_condition"), vetoed=final.vetoed,
            outputs=outputs, context=context, prompt_versions=versions,
            shadow_outputs=shadow_outputs,
        )

    def _labels(self) -> dict[str, str]:
        """Each member's label; given prompts under production need no look-up (and no git)."""
        if self._prompts is not None and self.label == PRODUCTION:
            return dict.fromkeys(self.team.order, PRODUCTION)
        return team_labels(self.workspace, self.team.order, self.label)

    def _shadow_runner(self, prompts: Mapping[str, PromptVersion]) -> ShadowRunner:
        """The shadows to run: those whose label names another version than the team's."""
        versions = read_prompt_versions(self.workspace, self.shadow) if self.shadow else {}
        chosen = {agent: (self.shadow[agent], version) for agent, version in versions.items()
                  if version.sha != prompts[agent].sha}
        settings = {agent: (agent_model(self.workspace, agent, self.model),
                            self.workspace.agents[agent].temperature) for agent in chosen}
        return ShadowRunner(self.client if chosen else None, chosen, settings)

    def _ask_team(
        self, snapshot: Mapping[str, Any], prompts: Mapping[str, PromptVersion],
        shadows: ShadowRunner,
    ) -> list[CallResult]:
        required = {self.team.decider, self.team.risk_agent} - {None}
        outputs: list[CallResult] = []
        for agent in self.team.order:
            config = self.workspace.agents[agent]
            earlier = [answer_fields(o.agent, o.answer, o.error) for o in outputs]
            shadows.start(agent, snapshot, earlier)
            result = call_agent(
                self.client, agent, prompts[agent].text, snapshot, earlier,
                prompt_sha=prompts[agent].sha,
                model=agent_model(self.workspace, agent, self.model),
                temperature=config.temperature,
            )
            outputs.append(result)
            if result.error and agent in required:
                raise SessionFailed(
                    f"{agent} gave no usable answer, so the team has no decision"
                    f" ({result.error})",
                    outputs,
                )
        return outputs


def _open_tracker(workspace: Workspace, url: str | None, key: str | None) -> DecisionRecorder:
    """The workspace's database, or with ``url`` the tracker service that records into it."""
    if url:
        from agents.remote_tracker import RemoteTracker  # records through promptloop serve

        return RemoteTracker(url, key)
    from tracker.store import DecisionTracker

    return DecisionTracker(workspace.database_url)


def _timestamp(snapshot: Mapping[str, Any]) -> datetime:
    from tracker.prices import parse_timestamp

    value = snapshot["timestamp"]
    return value if isinstance(value, datetime) else parse_timestamp(str(value))
