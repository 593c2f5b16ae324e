"""The dashboard's pages over a large tracker: within the freshness window a second request
is served from the per-worker cache (the analysis is not run again), while the live
fragment of the latest decisions still shows a decision posted in between."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from server_support import decision


def _post_recent(client: TestClient, external_id: str, n: int) -> None:
    item = decision(external_id, n, confidence=0.8)
    item["timestamp"] = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    answer = client.post("/v1/decisions", json={"decisions": [item]})
    assert answer.status_code == 200, answer.text


def _computations(client: TestClient) -> int:
    count: int = client.app.state.dashboard_views.computations  # type: ignore[attr-defined]
    return count


def test_a_second_request_in_the_window_does_not_aggregate_again(client: TestClient) -> None:
    _post_recent(client, "c1", 1)
    for page in ("/", "/agents/MarketAnalyst", "/agents/MarketAnalyst/prompt"):
        assert client.get(page).status_code == 200, page
    first = _computations(client)
    assert first == 3  # one per page: overview, agent view, per-version accuracy
    _post_recent(client, "c2", 2)
    for page in ("/", "/agents/MarketAnalyst", "/agents/MarketAnalyst/prompt"):
        assert client.get(page).status_code == 200, page
    assert _computations(client) == first  # fresh enough: served from the cache
    live = client.get("/fragments/decisions").text
    assert live.count("data-decision=") == 2  # the live part stays live


def test_another_window_is_its_own_entry(client: TestClient) -> None:
    _post_recent(client, "w1", 1)
    client.get("/agents/MarketAnalyst")
    client.get("/agents/MarketAnalyst", params={"days": 7})
    client.get("/agents/MarketAnalyst", params={"days": 7})
    assert _computations(client) == 2
