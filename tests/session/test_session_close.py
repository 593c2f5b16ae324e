"""A DecisionSession closes the client and the tracker it built, never ones it was given."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.session import DecisionSession, make_client
from prompt_repo import init_workspace
from prompt_repo.config import load_workspace


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-session-close")
    init_workspace(tmp_path / "ws")
    return load_workspace(tmp_path / "ws")


def test_the_session_closes_the_client_it_built(ws) -> None:
    with DecisionSession(workspace=ws, market=object(), track_performance=False) as session:
        connections = session.client._openai()  # the pool an LLM call opens

    assert connections.is_closed()


def test_a_client_passed_in_stays_open(ws) -> None:
    with make_client(ws) as client:
        connections = client._openai()
        with DecisionSession(workspace=ws, market=object(), client=client,
                             track_performance=False):
            pass
        assert not connections.is_closed()


def test_the_session_closes_the_tracker_it_opened_not_one_passed_in(ws) -> None:
    from tracker import DecisionTracker

    with DecisionSession(workspace=ws, market=object()) as session:
        with session.tracker.engine.connect():  # a pooled connection, as a recording leaves
            pass
        assert session.tracker.engine.pool.checkedin() == 1
    assert session.tracker.engine.pool.checkedin() == 0

    given = DecisionTracker(ws.database_url)
    with given.engine.connect():
        pass
    with DecisionSession(workspace=ws, market=object(), tracker=given):
        pass
    assert given.engine.pool.checkedin() == 1
    given.close()
