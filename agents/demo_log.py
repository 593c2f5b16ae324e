"""A SYNTHETIC decision log over REAL prices, for ``promptloop demo`` and tests.

The prices are the bundled sample of real historical candles (``agents/data``). The
decisions are NOT made by an LLM: scripted stand-ins for the three example agents answer
from the same market snapshot a real session would see (no look-ahead), with flaws
planted so that the analysis has something real to find:

- MarketAnalyst follows the trend (MACD histogram and price against SMA 20), but in a
  *volatile* market it is overconfident (confidence 0.88-0.97 on what is mostly noise),
  and in a *sideways* market it guesses BUY or SELL at random — and, asked again 30
  minutes later on the very same snapshot (a bot re-checking), answers the opposite:
  it contradicts itself.
- RiskManager rates risk from the condition (volatile: often HIGH; bearish: MEDIUM).
- TradingAdvisor follows the analyst, except that in a bearish market with RSI below 35
  it buys "the oversold bounce" with confidence 0.8-0.9 (catching a falling knife).
- The final decision uses the real combine rule (:func:`agents.session.combine`), so the
  risk manager's veto applies.

Everything is labelled: session ids start with ``synthetic-``, ``is_simulated`` is True,
every reasoning starts with ``[synthetic]`` and the context has ``"synthetic": true``.
The generator is deterministic for a seed. Outcomes are resolved afterwards from the same
prices by the tracker's resolver, exactly as for real decisions.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from agents.roles import TEAM_KEY, AgentAnswer, answer_fields
from agents.session import TeamSpec, combine
from tracker.context_schema import read

if TYPE_CHECKING:
    from agents.market import CsvMarketData
    from tracker.prices import Candle

__all__ = ["SYNTHETIC_PREFIX", "SyntheticAgents", "synthetic_decisions", "decision_moments"]

SYNTHETIC_PREFIX = "synthetic-"
LABEL = "[synthetic]"
RECHECK_AFTER = timedelta(minutes=30)
WARMUP_CANDLES = 60  # enough history for SMA 50 and MACD


@dataclass
class SyntheticAgents:
    """The scripted team; ``rng`` makes it deterministic."""

    rng: random.Random

    def analyst(self, snap: Mapping[str, Any], recheck_of: AgentAnswer | None) -> AgentAnswer:
        condition = snap.get("market_condition")
        trend = _trend(snap)
        if condition == "sideways":
            if recheck_of is not None and recheck_of.action != "HOLD":
                action = "SELL" if recheck_of.action == "BUY" else "BUY"
            else:
                action = self.rng.choice(["BUY", "SELL"])
            return self._answer(action, 0.6, 0.72, "MEDIUM",
                                f"range-bound; RSI {_f(snap, 'rsi')} suggests a move to "
                                f"{'the upside' if action == 'BUY' else 'the downside'}")
        low, high = (0.88, 0.97) if condition == "volatile" else (0.55, 0.75)
        action = {1: "BUY", -1: "SELL", 0: "HOLD"}[trend]
        return self._answer(action, low, high, "MEDIUM" if condition == "volatile" else "LOW",
                            f"MACD histogram {_f(snap, 'macd_hist')}, price "
                            f"{'above' if trend >= 0 else 'below'} SMA20 {_f(snap, 'sma_20')};"
                            f" {condition} market")

    def risk(self, snap: Mapping[str, Any], analyst: AgentAnswer) -> AgentAnswer:
        condition = snap.get("market_condition")
        if condition == "volatile":
            level = "HIGH" if self.rng.random() < 0.4 else "MEDIUM"
        else:
            level = "MEDIUM" if condition == "bearish" else "LOW"
        action = "HOLD" if level == "HIGH" else analyst.action
        atr = _f(snap, "atr")
        return self._answer(action, 0.6, 0.8, level, f"ATR {atr}; {condition} market")

    def advisor(self, snap: Mapping[str, Any], analyst: AgentAnswer) -> AgentAnswer:
        rsi = read(snap, "rsi")
        if snap.get("market_condition") == "bearish" and rsi is not None and rsi < 35:
            return self._answer("BUY", 0.8, 0.9, "MEDIUM",
                                f"RSI {rsi:.0f} is oversold; expecting a bounce")
        confidence = max(0.0, analyst.confidence - 0.05)
        return analyst.model_copy(update={
            "confidence": round(confidence, 3),
            "reasoning": f"{LABEL} following the analyst: {analyst.action}"})

    def _answer(self, action: str, low: float, high: float, risk: str, why: str) -> AgentAnswer:
        return AgentAnswer.model_validate({
            "action": action, "confidence": round(self.rng.uniform(low, high), 3),
            "risk_level": risk, "reasoning": f"{LABEL} {why}"})


def decision_moments(candles: list[Candle], every: timedelta, horizon: timedelta) -> list[datetime]:
    """Every ``every`` from the end of the warm-up, leaving ``horizon`` of data for outcomes."""
    if len(candles) <= WARMUP_CANDLES:
        return []
    first = candles[WARMUP_CANDLES].timestamp
    last = candles[-1].timestamp - horizon
    moments = []
    while first <= last:
        moments.append(first)
        first += every
    return moments


def synthetic_decisions(
    market: CsvMarketData,
    symbol: str,
    prompt_shas: Mapping[str, str],
    team: TeamSpec,
    *,
    every: timedelta = timedelta(hours=4),
    horizon: timedelta = timedelta(hours=24),
    seed: int = 7,
    session_id: str | None = None,
) -> list[dict[str, Any]]:
    """The decisions (``DecisionTracker.track_decisions`` dicts) of the scripted team."""
    from agents.snapshot import market_snapshot

    agents = SyntheticAgents(random.Random(seed))
    session_id = session_id or f"{SYNTHETIC_PREFIX}demo-{seed}"
    decisions = []
    for when in decision_moments(market.all_candles, every, horizon):
        snap = dict(market_snapshot(symbol, market.candles(symbol, end=when, limit=200)))
        first = _decision(agents, snap, when, None, symbol, prompt_shas, team, session_id)
        decisions.append(first)
        if snap.get("market_condition") == "sideways":
            decisions.append(_decision(agents, snap, when + RECHECK_AFTER, first["_analyst"],
                                       symbol, prompt_shas, team, session_id))
    for decision in decisions:
        del decision["_analyst"]
    return decisions


def _decision(
    agents: SyntheticAgents,
    snap: dict[str, Any],
    when: datetime,
    recheck_of: AgentAnswer | None,
    symbol: str,
    shas: Mapping[str, str],
    team: TeamSpec,
    session_id: str,
) -> dict[str, Any]:
    analyst = agents.analyst(snap, recheck_of)
    answers = {"MarketAnalyst": analyst, "RiskManager": agents.risk(snap, analyst),
               "TradingAdvisor": agents.advisor(snap, analyst)}
    answers = {name: answers[name] for name in team.order if name in answers}
    final = combine(answers, team)
    context = {**snap, "synthetic": True,
               TEAM_KEY: [answer_fields(name, answer) for name, answer in answers.items()]}
    return {
        "session_id": session_id, "symbol": symbol, "timestamp": when,
        "action": final.action, "confidence": final.confidence,
        "risk_level": final.risk_level, "reasoning": final.reasoning,
        "market_condition": snap.get("market_condition"), "is_simulated": True,
        "agent_types": list(answers), "context": context,
        "prompt_versions": {name: shas[name] for name in answers},
        "agent_outputs": [_output(name, answer, shas[name]) for name, answer in answers.items()],
        "_analyst": analyst,
    }


def _output(agent: str, answer: AgentAnswer, sha: str) -> dict[str, Any]:
    return {"agent": agent, "prompt_sha": sha, **answer.model_dump(),
            "raw_output": answer.model_dump_json(), "error": None, "latency_ms": None,
            "prompt_tokens": None, "completion_tokens": None}


def _trend(snap: Mapping[str, Any]) -> int:
    hist, price, sma20 = (read(snap, field) for field in ("macd_hist", "price", "sma_20"))
    if hist is None or price is None or sma20 is None:
        return 0
    if hist > 0 and price > sma20:
        return 1
    if hist < 0 and price < sma20:
        return -1
    return 0


def _f(snap: Mapping[str, Any], field: str) -> str:
    value = read(snap, field)
    return "n/a" if value is None else f"{value:,.1f}"
