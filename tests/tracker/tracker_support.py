"""Helpers of the tracker tests (this folder is on sys.path through conftest.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AGENTS = ("MarketAnalyst", "RiskManager", "TradingAdvisor")


def output(agent: str = "MarketAnalyst", **overrides: Any) -> dict[str, Any]:
    row = {"agent": agent, "prompt_sha": "a" * 40, "action": "BUY", "confidence": 0.8,
           "risk_level": "LOW", "reasoning": f"{agent} thinks so", "raw_output": "{}",
           "latency_ms": 120.0, "prompt_tokens": 300, "completion_tokens": 40}
    row.update(overrides)
    return row


def decision(n: int = 0, **overrides: Any) -> dict[str, Any]:
    row = {"session_id": "sess-1", "symbol": "BTCUSDT", "timestamp": T0 + timedelta(hours=n),
           "action": "BUY", "confidence": 0.7, "risk_level": "MEDIUM", "reasoning": "up",
           "market_condition": "trending", "context": {"price": 100 + n, "rsi": 60},
           "prompt_versions": {a: "a" * 40 for a in AGENTS},
           "agent_outputs": [output(a) for a in AGENTS]}
    row.update(overrides)
    return row


def count_rows(engine: Any, table: str) -> int:
    import sqlalchemy as sa

    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
