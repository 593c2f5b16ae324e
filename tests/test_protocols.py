"""The collaborators' protocols (agents/protocols.py, tracker/protocols.py) fit the concrete
classes. mypy checks the signatures (the ``_satisfied`` functions under ``TYPE_CHECKING``, run
by test_code_quality); these tests check the same at runtime, method by method."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.llm import LLMClient
from agents.market import CcxtMarketData, CsvMarketData, load_sample
from agents.protocols import ChatClient, MarketData
from agents.remote_tracker import RemoteTracker
from prompt_repo.config import LLMSettings
from tracker.protocols import CaseSource, DecisionRecorder, RunLog
from tracker.store import DecisionTracker


def test_the_llm_client_is_a_chat_client() -> None:
    settings = LLMSettings(model="m", base_url="http://127.0.0.1:9/v1", api_key="k")
    with LLMClient(settings) as client:
        assert isinstance(client, ChatClient)


def test_the_market_sources_are_market_data() -> None:
    assert isinstance(load_sample("BTCUSDT"), MarketData)
    assert issubclass(CsvMarketData, MarketData)
    assert issubclass(CcxtMarketData, MarketData)  # built only with ccxt installed


def test_the_database_tracker_satisfies_every_tracker_protocol(tmp_path: Path) -> None:
    tracker = DecisionTracker(f"sqlite:///{tmp_path / 't.db'}")
    try:
        for protocol in (DecisionRecorder, CaseSource, RunLog):
            assert isinstance(tracker, protocol), protocol.__name__
    finally:
        tracker.close()


def test_the_remote_tracker_records_like_the_database_one() -> None:
    with RemoteTracker("http://127.0.0.1:9") as remote:
        assert isinstance(remote, DecisionRecorder)
        assert not isinstance(remote, CaseSource)  # it only records


@pytest.mark.parametrize("protocol", [ChatClient, MarketData, DecisionRecorder])
def test_something_else_is_not(protocol: type) -> None:
    assert not isinstance(object(), protocol)
