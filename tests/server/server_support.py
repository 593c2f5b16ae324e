"""Helpers of the server tests."""

from __future__ import annotations

from typing import Any


def decision(external_id: str | None, n: int = 1, agent: str = "MarketAnalyst",
             **changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "session_id": "bot-7", "symbol": "BTCUSDT",
        "timestamp": f"2026-01-{n % 28 + 1:02d}T10:00:00Z", "action": "BUY",
        "confidence": 0.7, "market_condition": "trending",
        "agent_outputs": [{"agent": agent, "action": "BUY", "confidence": 0.7}],
    }
    if external_id is not None:
        item["external_id"] = external_id
    item.update(changes)
    return item
