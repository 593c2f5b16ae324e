"""Labeled scenarios for the optimize gates: a scripted market, a scripted agent, a critic diff.

Used by benchmarks/bench_gates.py (the whole set, precision and recall) and by
tests/optimize/test_optimize_scenarios.py (one fast scenario of each kind).

**The market.** Every ``every_hours`` over 30 days, a context with ``rsi_14``, ``macd_hist``,
``funding_rate`` and ``price`` (flat, as ``promptloop record`` takes it, or nested under
``indicators``, as sessions record it) and a 24 h return drawn from these rules:

- ``rsi_14`` above 72: the market reverses, the return is negative (always);
- early in the window only (the first ``early`` fraction): ``funding_rate`` above 0.015 makes
  the return negative too (crowded longs unwinding); later it means nothing;
- otherwise the return follows the sign of ``macd_hist``, flipped with probability ``noise``.

With ``late_cluster`` the overbought regime (rsi above 72) is rare before the last third and
frequent in it: the failures it causes cluster late.

**The agent** (the OpenAI-compatible stub's answer to an agent call): it reads its prompt for
rule lines ``When `<field>` is above|below <x>, answer <ACTION>`` (first match wins, at
confidence 0.6) and otherwise buys on positive ``macd_hist`` and sells on negative, at 0.75.
Hedged prose changes nothing, as with a real model that cannot act on it. The recorded
decisions are that agent's answers with the current (init) prompt, so a replay of the
current prompt reproduces them.

**The critic** answers one diff, by kind:

- ``good``: the precise rule that fixes the reversal failures and breaks nothing
  (should be applied);
- ``broad``: a specific but over-broad or wrong rule that breaks many successes (should not);
- ``vague``: hedged wording (should not);
- ``early``: the funding rule that held only early in the window (should not: it fixes the
  early failures the critic saw and breaks later decisions).
"""

from __future__ import annotations

import difflib
import json
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from llm_stub_server import Reply, failure

AGENT = "MarketAnalyst"
CRITIC = "You are a senior prompt engineer"
ANCHOR = "   If the signals seem mixed, use your judgement.\n"
KINDS = ("good", "broad", "vague", "early")
SHOULD_APPLY = {"good": True, "broad": False, "vague": False, "early": False}

LINES = {
    "good": ["6. Reversal. When `rsi_14` is above 72, answer SELL with a confidence of at most "
             "0.6:", "   an overbought market has reversed within 24 hours."],
    "broad": ["6. Overbought. When `rsi_14` is above 50, answer SELL with a confidence of at "
              "most 0.6."],
    "wrong": ["6. Oversold. When `rsi_14` is below 45, answer SELL with a confidence of at "
              "most 0.6."],
    "vague": ["   Perhaps be somewhat more careful when things might look a bit stretched, as "
              "appropriate."],
    "early": ["6. Funding. When `funding_rate` is above 0.015, answer SELL with a confidence of "
              "at most 0.6:", "   crowded longs unwind within 24 hours."],
}
DIAGNOSES = {
    "good": "The agent buys into overbought markets: every failure with `rsi_14` above 72 "
            "reversed. Add a reversal rule.",
    "broad": "The agent buys when RSI is elevated. Sell above RSI 50.",
    "wrong": "The agent misses weakness at low RSI. Sell below RSI 45.",
    "vague": "The agent could be more careful.",
    "early": "The failures share a high funding rate: crowded longs unwound. Add a funding rule.",
}
RULE = re.compile(r"When `(\w+)` is (above|below) (-?[\d.]+), answer (BUY|SELL|HOLD)")


@dataclass(frozen=True)
class Scenario:
    kind: str
    seed: int
    every_hours: float = 4.0
    noise: float = 0.15
    early: float = 0.6
    late_cluster: bool = False
    nested: bool = False
    variant: str | None = None  # "wrong" for the second flavour of the broad kind

    @property
    def name(self) -> str:
        flags = "".join(f"-{flag}" for flag, on in (
            ("late", self.late_cluster), ("nested", self.nested)) if on)
        return f"{self.variant or self.kind}-s{self.seed}-{self.every_hours:g}h{flags}"

    @property
    def should_apply(self) -> bool:
        return SHOULD_APPLY[self.kind]


def scenario_set(seeds: range = range(6)) -> list[Scenario]:
    """Four kinds x the seeds, varied in frequency, context shape and late clustering."""
    found = []
    for seed in seeds:
        for kind in KINDS:
            found.append(Scenario(
                kind=kind, seed=seed, every_hours=(4.0, 2.0, 6.0)[seed % 3],
                late_cluster=seed % 2 == 1, nested=seed % 3 == 2,
                variant="wrong" if kind == "broad" and seed % 2 else None))
    return found


# -- the market and the agent --------------------------------------------------------------


def agent_answer(prompt: str, context: dict[str, Any]) -> dict[str, Any]:
    """What the scripted agent answers with ``prompt`` on ``context``."""
    values = {**(context.get("indicators") or {}), **context}
    for field, side, threshold, action in RULE.findall(prompt):
        value = values.get(field)
        if isinstance(value, int | float) and (
                value > float(threshold) if side == "above" else value < float(threshold)):
            return {"action": action, "confidence": 0.6, "risk_level": "MEDIUM",
                    "reasoning": f"{field} {value} is {side} {threshold}"}
    action = "BUY" if values["macd_hist"] > 0 else "SELL"
    return {"action": action, "confidence": 0.75, "risk_level": "MEDIUM",
            "reasoning": f"macd_hist {values['macd_hist']}"}


def history(scenario: Scenario, end: datetime) -> list[tuple[datetime, dict[str, Any], float]]:
    """(time, context, 24 h return) every ``every_hours`` over the 30 days before ``end``."""
    rng = random.Random(scenario.seed * 1009 + KINDS.index(scenario.kind))
    start = end - timedelta(days=30)
    step = timedelta(hours=scenario.every_hours)
    steps = int(timedelta(days=29, hours=23) / step)
    rows = []
    for n in range(1, steps + 1):
        when = start + n * step
        share = n / steps
        rsi = _rsi(rng, share, scenario.late_cluster)
        macd = round(rng.gauss(0, 40), 3)
        funding = round(rng.uniform(-0.02, 0.03), 5)
        rows.append((when, _context(scenario, rsi, macd, funding, rng),
                     _return(rng, scenario, share, rsi, macd, funding)))
    return rows


def _rsi(rng: random.Random, share: float, late_cluster: bool) -> float:
    if late_cluster:
        high = 0.05 if share < 2 / 3 else 0.35
        return round(rng.uniform(72.5, 88) if rng.random() < high else rng.uniform(30, 72), 2)
    return round(rng.uniform(30, 88), 2)


def _context(scenario: Scenario, rsi: float, macd: float, funding: float,
             rng: random.Random) -> dict[str, Any]:
    indicators = {"rsi_14": rsi, "macd_hist": macd, "funding_rate": funding}
    price = round(rng.uniform(58000, 70000), 2)
    condition = rng.choice(["trending", "sideways", "volatile"])
    if scenario.nested:
        return {"symbol": "BTCUSDT", "price": price, "market_condition": condition,
                "indicators": indicators}
    return {"symbol": "BTCUSDT", "price": price, "market_condition": condition, **indicators}


def _return(rng: random.Random, scenario: Scenario, share: float, rsi: float, macd: float,
            funding: float) -> float:
    size = rng.uniform(0.01, 0.04)
    if rsi > 72 or (share < scenario.early and funding > 0.015):
        return round(-size, 5)
    sign = 1 if macd > 0 else -1
    if rng.random() < scenario.noise:
        sign = -sign
    return round(sign * size, 5)


# -- the workspace ---------------------------------------------------------------------------


def record(url: str, scenario: Scenario, prompt: str, prompt_sha: str, end: datetime) -> int:
    """Record the scenario's decisions and outcomes; returns how many."""
    from tracker import DecisionTracker

    tracker = DecisionTracker(url)
    try:
        rows = history(scenario, end)
        items = []
        for when, context, _ in rows:
            answer = agent_answer(prompt, context)
            items.append({
                "session_id": f"scenario-{scenario.name}", "symbol": "BTCUSDT",
                "timestamp": when, "market_condition": context["market_condition"],
                "context": context, "prompt_versions": {AGENT: prompt_sha},
                "agent_types": [AGENT],
                "agent_outputs": [{"agent": AGENT, "prompt_sha": prompt_sha, **answer}],
                **{k: answer[k] for k in ("action", "confidence", "risk_level", "reasoning")},
            })
        ids = tracker.track_decisions(items)
        for decision, (_, _, ret) in zip(ids, rows, strict=True):
            tracker.track_decision_outcome(decision, "return_24h", ret,
                                           details={"band": 0.005})
        return len(ids)
    finally:
        tracker.close()


def critic_diff(prompt: str, scenario: Scenario) -> str:
    """The scenario's diff against ``prompt`` (the init MarketAnalyst prompt)."""
    lines = LINES[scenario.variant or scenario.kind]
    new = prompt.replace(ANCHOR, ANCHOR + "".join(f"{line}\n" for line in lines), 1)
    assert new != prompt, "the anchor line is not in the prompt"
    return "".join(difflib.unified_diff(prompt.splitlines(keepends=True),
                                        new.splitlines(keepends=True), "a/prompt", "b/prompt"))


def critic_text(prompt: str, scenario: Scenario) -> str:
    diagnosis = DIAGNOSES[scenario.variant or scenario.kind]
    return f"Diagnosis: {diagnosis}\n\n```diff\n{critic_diff(prompt, scenario)}```\n"


def endpoint(prompt: str, scenario: Scenario) -> Any:
    """The stub script: the critic's diff for critic calls, the scripted agent otherwise."""
    answer = critic_text(prompt, scenario)

    def script(request: dict[str, Any]) -> Reply:
        system, user = request["messages"][:2]
        if system["content"].startswith(CRITIC):
            return Reply(text=answer, prompt_tokens=3000, completion_tokens=200)
        match = re.search(r"```json\n(.*?)\n```", user["content"], flags=re.DOTALL)
        if match is None:
            return failure(400, message="stub: no snapshot in the agent call")
        context = json.loads(match.group(1))
        return Reply(text=json.dumps(agent_answer(system["content"], context)),
                     prompt_tokens=900, completion_tokens=60)

    return script


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
