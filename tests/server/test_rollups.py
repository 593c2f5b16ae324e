"""Rollups (GET /v1/rollups, tracker.rollups): they add up to what the analysis computes
from the raw rows, leave shadow and failed calls out, and the cache serves a stated
freshness (a stale answer is served while one background refresh runs)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tracker import DecisionTracker
from tracker.rollups import RollupCache, rollups

# half past the previous hour: always in the past, and n minutes earlier stays in that hour
NOW = (datetime.now(UTC) - timedelta(hours=1)).replace(minute=30, second=0, microsecond=0)


def seed(database_url: str, count: int = 24) -> list[int]:
    """Calls of MarketAnalyst (and a RiskManager) over a few hours, conditions and
    versions, most with a return_24h outcome; one shadow call and one failed call each."""
    tracker = DecisionTracker(database_url)
    items = []
    for n in range(count):
        action = ("BUY", "SELL", "HOLD")[n % 3]
        confidence = 0.5 + (n % 5) / 10
        outputs: list[dict[str, Any]] = [
            {"agent": "MarketAnalyst", "action": action, "confidence": confidence,
             "prompt_sha": "a" * 40 if n < count // 2 else "b" * 40},
            {"agent": "RiskManager", "action": "HOLD", "confidence": 0.6},
        ]
        if n == 0:
            outputs += [{"agent": "MarketAnalyst", "action": "SELL", "confidence": 0.9,
                         "is_shadow": True, "label": "candidate"},
                        {"agent": "TradingAdvisor", "error": "timeout"}]
        items.append({"session_id": "s", "symbol": "BTCUSDT", "action": action,
                      "timestamp": NOW - timedelta(hours=n % 4, minutes=n),
                      "confidence": confidence, "agent_outputs": outputs,
                      "market_condition": ("trending", "volatile")[n % 2]})
    ids = tracker.track_decisions(items)
    for n, decision_id in enumerate(ids):
        if n % 4 != 3:  # a quarter has no outcome yet
            tracker.track_decision_outcome(decision_id, "return_24h", (n % 7 - 3) / 100)
    tracker.close()
    return ids


def totals(rows: list[dict[str, Any]]) -> dict[str, float]:
    keys = ("decisions", "with_outcome", "correct", "sum_confidence", "sum_squared_error")
    return {key: sum(row[key] for row in rows) for key in keys}


def test_rollups_add_up_to_the_analysis(client: TestClient, database_url: str) -> None:
    seed(database_url)
    answer = client.get("/v1/rollups", params={"agent": "MarketAnalyst"})
    assert answer.status_code == 200, answer.text
    document = answer.json()
    assert (document["agent"], document["outcome_type"], document["band"]) == (
        "MarketAnalyst", "return_24h", 0.005)
    assert document["max_age_seconds"] == 10.0
    rows = document["rows"]
    assert {row["agent"] for row in rows} == {"MarketAnalyst"}
    assert {row["market_condition"] for row in rows} == {"trending", "volatile"}
    assert {row["prompt_sha"] for row in rows} == {"a" * 40, "b" * 40}
    assert all(row["hour"].endswith(":00:00Z") for row in rows)
    assert len({row["hour"] for row in rows}) == 4

    block = client.get("/v1/analysis", params={"agent": "MarketAnalyst"}).json()[
        "agents"]["MarketAnalyst"]
    total = totals(rows)
    assert total["decisions"] == 24  # the shadow call is not counted
    assert total["with_outcome"] == block["with_outcome"] == 18
    assert total["correct"] / total["with_outcome"] == pytest.approx(block["accuracy"], abs=1e-4)
    assert total["sum_squared_error"] / total["with_outcome"] == pytest.approx(
        block["calibration"]["brier"], abs=1e-4)

    everyone = client.get("/v1/rollups").json()["rows"]
    assert {row["agent"] for row in everyone} == {"MarketAnalyst", "RiskManager"}


def test_the_hour_is_the_utc_hour(database_url: str) -> None:
    tracker = DecisionTracker(database_url)
    when = datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC)
    tracker.track_decision(session_id="s", symbol="X", timestamp=when, action="BUY",
                           confidence=0.7, agent_outputs=[
                               {"agent": "MarketAnalyst", "action": "BUY", "confidence": 0.7}])
    [row] = rollups(tracker.engine).rows
    tracker.close()
    assert row["hour"] == "2026-03-01T23:00:00Z"
    assert (row["decisions"], row["with_outcome"], row["correct"]) == (1, 0, 0)


def test_the_cache_serves_a_stale_answer_while_it_refreshes(database_url: str) -> None:
    ids = seed(database_url, count=4)
    now = [0.0]
    tracker = DecisionTracker(database_url)
    cache = RollupCache(tracker.engine, max_age=10, clock=lambda: now[0])
    first = cache.get("MarketAnalyst")
    assert totals(first.rows)["with_outcome"] == 3
    tracker.track_decision_outcome(ids[3], "return_24h", 0.02)
    now[0] = 9.9
    assert cache.get("MarketAnalyst") is first  # fresh enough: not recomputed
    now[0] = 10.0
    assert cache.get("MarketAnalyst") is first  # stale: served, refreshed in the background
    deadline = time.monotonic() + 30
    while (latest := cache.get("MarketAnalyst")) is first and time.monotonic() < deadline:
        time.sleep(0.01)
    tracker.close()
    assert totals(latest.rows)["with_outcome"] == 4


def test_since_keeps_the_rows_from_its_hour_on(client: TestClient, database_url: str) -> None:
    seed(database_url)
    since = (NOW - timedelta(hours=1)).replace(minute=59)
    rows = client.get("/v1/rollups", params={"agent": "MarketAnalyst",
                                             "since": since.isoformat()}).json()["rows"]
    first = (NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:00:00Z")
    assert rows and min(row["hour"] for row in rows) == first
    assert len({row["hour"] for row in rows}) == 2
    naive = client.get("/v1/rollups", params={"since": "2026-01-01T00:00:00"})
    assert naive.status_code == 422 and "time zone" in naive.json()["error"]["message"]


def test_a_slow_value_rests_for_a_multiple_of_its_computation() -> None:
    from tracker.rollups import REST_RATIO, FreshCache

    now = [0.0]

    def slow() -> float:
        now[0] += 30.0  # the computation takes 30 s, three times max_age
        return now[0]

    cache: FreshCache[str, float] = FreshCache(max_age=10.0, clock=lambda: now[0])
    cache.get("page", slow)
    now[0] += REST_RATIO * 30.0 - 1  # older than max_age, younger than 3 x 30 s
    cache.get("page", slow)
    assert not cache.refreshing("page")  # still fresh: no background recomputation started
    now[0] += 2
    cache.get("page", slow)
    assert cache.refreshing("page") or cache.computations == 2
