"""Fixtures of the analysis tests: a migrated tracker (SQLite and PostgreSQL through the
shared ``database_url`` fixture) and a compact way to seed it.

A seeded *call* is one decision with one agent output (the final decision repeats the
agent's call unless ``final`` says otherwise), timed in hours before UNTIL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

UNTIL = datetime(2026, 3, 1, tzinfo=UTC)
AGENT = "MarketAnalyst"


def call(
    hours: float,
    action: str | None,
    confidence: float | None,
    r: float | None = None,
    *,
    agent: str = AGENT,
    symbol: str = "BTCUSDT",
    condition: str | None = "bullish",
    sha: str | None = "a" * 40,
    rsi: float | None = 50.0,
    macd: float | None = 0.1,
    price: float | None = 100.0,
    reasoning: str | None = None,
    final: tuple[str, float] | None = None,
    outcome_type: str = "return_24h",
) -> dict[str, Any]:
    """One seeded call; ``r`` None means no outcome (of ``outcome_type``)."""
    return {
        "at": UNTIL - timedelta(hours=hours), "action": action, "confidence": confidence,
        "r": r, "agent": agent, "symbol": symbol, "condition": condition, "sha": sha,
        "rsi": rsi, "macd": macd, "price": price, "reasoning": reasoning, "final": final,
        "outcome_type": outcome_type,
    }


def _decision(spec: dict[str, Any], n: int) -> dict[str, Any]:
    indicators = {k: v for k, v in (("rsi_14", spec["rsi"]), ("macd_hist", spec["macd"]))
                  if v is not None}
    context: dict[str, Any] = {"indicators": indicators}
    if spec["price"] is not None:
        context["price"] = spec["price"]
    output: dict[str, Any] = {"agent": spec["agent"], "prompt_sha": spec["sha"],
                              "reasoning": spec["reasoning"]}
    if spec["action"] is None:
        output["error"] = "the model did not answer"
    else:
        output.update(action=spec["action"], confidence=spec["confidence"])
    final_action, final_confidence = spec["final"] or (
        spec["action"] or "HOLD", spec["confidence"] if spec["confidence"] is not None else 0.5
    )
    return {
        "session_id": f"s{n}", "symbol": spec["symbol"], "timestamp": spec["at"],
        "action": final_action, "confidence": final_confidence,
        "reasoning": spec["reasoning"], "market_condition": spec["condition"],
        "context": context, "prompt_versions": {spec["agent"]: spec["sha"]},
        "agent_outputs": [output],
    }


Seed = Callable[[list[dict[str, Any]]], list[int]]


@pytest.fixture
def tracker(database_url: str) -> Iterator[Any]:
    from tracker import DecisionTracker

    instance = DecisionTracker(database_url)
    yield instance
    instance.close()


@pytest.fixture
def seed(tracker: Any) -> Seed:
    """Record the calls; returns their decision ids in order."""

    def run(specs: list[dict[str, Any]]) -> list[int]:
        ids = tracker.track_decisions([_decision(s, n) for n, s in enumerate(specs)])
        for decision_id, spec in zip(ids, specs, strict=True):
            if spec["r"] is not None:
                tracker.track_decision_outcome(decision_id, spec["outcome_type"], spec["r"],
                                               timestamp=spec["at"] + timedelta(hours=24))
        return ids

    return run
