"""RemoteTracker: in process (the TestClient's transport) and end to end against a real
``promptloop serve`` process, where a DecisionSession records through it. Retries resend
the same external_id, so a lost answer never duplicates a decision."""

from __future__ import annotations

import dataclasses
import json
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from llm_stub_server import Reply, StubLLM
from serve_process import free_port, start, wait_until_up
from server_support import decision

from agents.remote_tracker import RemoteTracker, RemoteTrackerError
from tracker import DecisionTracker


def remote(client: TestClient, **options: Any) -> RemoteTracker:
    return RemoteTracker("http://testserver", transport=client._transport, **options)


def test_batches_return_ids_in_order_and_a_resend_duplicates_nothing(
        client: TestClient, database_url: str) -> None:
    items = [decision(f"r{n}", n) for n in range(7)]
    with remote(client, batch_size=3) as tracker:
        ids = tracker.track_decisions(items)
        assert tracker.track_decisions(items) == ids  # the same external_ids: duplicates
        outcome = tracker.track_decision_outcome(ids[0], "return_24h", 0.01)
        assert tracker.track_decision_outcome(ids[0], "return_24h", 0.01) == outcome
    stored = DecisionTracker(database_url)
    try:
        assert sorted(d.id for d in stored.decisions()) == sorted(ids)
        assert len(ids) == 7
        assert stored.decision(ids[0]).outcomes["return_24h"]["value"] == 0.01
    finally:
        stored.close()


def test_transient_failures_are_retried_with_the_same_external_id(
        client: TestClient, database_url: str) -> None:
    """The first attempt is stored but its answer is lost (a 503 instead); the retry is
    answered 'duplicate' with the stored id."""
    sent: list[bytes] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        sent.append(request.content)
        answer = client._transport.handle_request(request)
        if len(sent) == 1:
            answer.read()
            return httpx.Response(503, json={"error": {"message": "lost"}})
        return answer

    tracker = RemoteTracker("http://testserver", transport=httpx.MockTransport(flaky),
                            backoff=0)
    when = datetime(2026, 1, 2, tzinfo=UTC)
    decision_id = tracker.track_decision(session_id="s", symbol="BTCUSDT", timestamp=when,
                                         action="HOLD", confidence=0.5)
    assert len(sent) == 2 and sent[0] == sent[1]
    assert json.loads(sent[0])["decisions"][0]["external_id"]
    stored = DecisionTracker(database_url)
    try:
        assert [d.id for d in stored.decisions()] == [decision_id]
    finally:
        stored.close()


def test_refusals_fail_at_once_with_the_servers_message(client: TestClient) -> None:
    calls = 0

    def counting(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return client._transport.handle_request(request)

    tracker = RemoteTracker("http://testserver", transport=httpx.MockTransport(counting))
    with pytest.raises(RemoteTrackerError, match="422: item 1: action") as refused:
        tracker.track_decisions([decision("bad", action="MAYBE")])
    assert refused.value.status == 422 and calls == 1


def test_an_unreachable_server_is_one_error_after_the_retries() -> None:
    tracker = RemoteTracker(f"http://127.0.0.1:{free_port()}", attempts=2, backoff=0)
    with pytest.raises(RemoteTrackerError, match="unreachable"):
        tracker.track_decisions([decision("x")])


def test_a_session_records_through_a_real_serve_process(workspace: Path, tmp_path: Path,
                                                        run_cli: Any) -> None:
    from agents.llm import LLMClient
    from agents.session import DecisionSession
    from prompt_repo import load_workspace
    from prompt_repo.config import LLMSettings

    made = run_cli("keys", "create", "--name", "bot", "--scope", "ingest", "--json",
                   cwd=workspace)
    secret = json.loads(made.stdout)["secret"]
    hold = json.dumps({"action": "HOLD", "confidence": 0.5, "risk_level": "LOW",
                       "reasoning": "flat"})
    port = free_port()
    server = start(workspace, port)
    try:
        wait_until_up(f"http://127.0.0.1:{port}", server)
        with StubLLM(lambda request: Reply(text=hold)) as llm:
            ws = dataclasses.replace(load_workspace(workspace), llm=LLMSettings(
                model="fake-model", base_url=llm.url, api_key="sk-test"))
            session = DecisionSession(workspace=ws, client=LLMClient(ws.llm),
                                      when=datetime(2019, 6, 1, 12, tzinfo=UTC),
                                      tracker_url=f"http://127.0.0.1:{port}",
                                      tracker_key=secret)
            result = session.run_session()
        assert isinstance(session.tracker, RemoteTracker)
        session.tracker.close()
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=60)
    stored = DecisionTracker(load_workspace(workspace).database_url)
    try:
        record = stored.decision(result.decision_id)
        assert record.action == "HOLD" and record.session_id == session.session_id
        assert [o["agent"] for o in record.outputs or []] == list(ws.agents)
        assert record.external_id
    finally:
        stored.close()


def test_a_value_json_cannot_carry_is_refused_before_sending(client: TestClient) -> None:
    with remote(client) as tracker, pytest.raises(RemoteTrackerError, match="cannot send"):
        tracker.track_decisions([decision("nan", confidence=float("nan"))])
    assert client.get("/v1/decisions").json()["decisions"] == []
