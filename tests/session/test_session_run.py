"""DecisionSession end to end: the real workspace and prompts, the bundled real candles, a
respx-mocked endpoint, and the rows checked in SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from agents.llm import LLMClient
from agents.market import load_sample
from agents.session import DecisionSession, SessionFailed
from prompt_repo import PromptRepo, load_workspace
from prompt_repo.config import LLMSettings
from tracker import DecisionTracker

WHEN = datetime(2019, 6, 1, 12, tzinfo=UTC)
TEAM = ("MarketAnalyst", "RiskManager", "TradingAdvisor")


def agent_of(request: dict) -> str:
    return request["messages"][0]["content"].splitlines()[0].lstrip("# ").strip()


def user_json(request: dict, block: int) -> object:
    return json.loads(request["messages"][1]["content"].split("```json\n")[block]
                      .split("\n```")[0])


@pytest.fixture
def ws(workspace: Path, respx_llm, tmp_path: Path):
    base = load_workspace(workspace)
    llm = LLMSettings(model="fake-model", base_url=respx_llm.url, api_key="sk-test")
    return dataclasses.replace(base, llm=llm,
                               database_url=f"sqlite:///{tmp_path / 'tracker.db'}")


def client_for(ws) -> LLMClient:
    return LLMClient(ws.llm)


def answers(table: dict[str, str]):
    return lambda request: table[agent_of(request)]


def test_session_records_decision_outputs_context_and_versions(
    ws, respx_llm, fake_answer, database_url: str
) -> None:
    respx_llm.responder = answers({
        "MarketAnalyst": fake_answer("BUY", 0.72, "LOW", "MACD up"),
        "RiskManager": fake_answer("BUY", 0.6, "MEDIUM", "ATR normal"),
        "TradingAdvisor": fake_answer("BUY", 0.66, "LOW", "go long"),
    })
    tracker = DecisionTracker(database_url)
    session = DecisionSession(symbol="BTCUSDT", workspace=ws, client=client_for(ws),
                              tracker=tracker, when=WHEN)
    result = session.run_session()

    assert session.tracker is tracker
    assert (result.action, result.confidence, result.risk_level) == ("BUY", 0.66, "MEDIUM")
    assert result.reasoning == "go long" and not result.vetoed
    assert [agent_of(r) for r in respx_llm.requests] == list(TEAM)
    shas = {agent: PromptRepo(ws).read(agent).sha for agent in TEAM}

    record = tracker.decision(result.decision_id)
    assert (record.symbol, record.timestamp, record.action) == ("BTCUSDT", WHEN, "BUY")
    assert record.is_simulated is False and record.agent_types == list(TEAM)
    assert record.prompt_versions == shas
    assert record.market_condition == record.context["market_condition"]
    assert set(record.context["indicators"]) >= {"rsi_14", "macd_hist", "sma_20", "atr_14"}
    assert [entry["agent"] for entry in record.context["team"]] == list(TEAM)
    outputs = {row["agent"]: row for row in record.outputs}
    assert outputs["RiskManager"]["prompt_sha"] == shas["RiskManager"]
    assert (outputs["MarketAnalyst"]["action"], outputs["MarketAnalyst"]["confidence"]) == (
        "BUY", 0.72)
    assert outputs["TradingAdvisor"]["prompt_tokens"] == 50
    assert all(row["error"] is None for row in record.outputs)

    session.tracker.track_decision_outcome(result.decision_id, "pnl", 12.5)
    assert tracker.decision(result.decision_id).outcomes["pnl"]["value"] == 12.5


def test_agents_see_the_snapshot_and_the_answers_before_them(ws, respx_llm, fake_answer) -> None:
    respx_llm.responder = lambda request: fake_answer("HOLD", 0.5)
    DecisionSession(workspace=ws, client=client_for(ws), when=WHEN,
                    track_performance=False).run_session()
    first, second, third = respx_llm.requests
    snapshot = user_json(first, 1)
    assert snapshot["symbol"] == "BTCUSDT"
    assert datetime.fromisoformat(snapshot["timestamp"]) <= WHEN  # nothing from the future
    assert snapshot["recent_closes"][-1] == load_sample().candles("BTCUSDT", end=WHEN)[-1].close
    assert "agents before you" not in first["messages"][1]["content"]
    assert [a["agent"] for a in user_json(second, 2)] == ["MarketAnalyst"]
    assert [a["agent"] for a in user_json(third, 2)] == ["MarketAnalyst", "RiskManager"]
    assert first["temperature"] == 0.2 and second["temperature"] == 0.1


def test_high_risk_vetoes_to_hold(ws, respx_llm, fake_answer, tmp_path: Path) -> None:
    respx_llm.responder = answers({
        "MarketAnalyst": fake_answer("SELL", 0.9),
        "RiskManager": fake_answer("HOLD", 0.8, "HIGH", "ATR doubled"),
        "TradingAdvisor": fake_answer("SELL", 0.75, "MEDIUM", "short it"),
    })
    session = DecisionSession(workspace=ws, client=client_for(ws), when=WHEN)
    result = session.run_session()
    record = session.tracker.decision(result.decision_id)
    assert (record.action, record.confidence, record.risk_level) == ("HOLD", 0.75, "HIGH")
    assert record.reasoning.startswith("Vetoed to HOLD by RiskManager")
    assert "TradingAdvisor proposed SELL: short it" in record.reasoning


def test_unparseable_member_is_recorded_as_an_error_not_a_decision(
    ws, respx_llm, fake_answer, database_url: str
) -> None:
    respx_llm.responder = answers({
        "MarketAnalyst": "The market looks interesting today.",
        "RiskManager": fake_answer("HOLD", 0.6, "LOW"),
        "TradingAdvisor": fake_answer("HOLD", 0.55, "LOW", "no edge"),
    })
    tracker = DecisionTracker(database_url)
    result = DecisionSession(workspace=ws, client=client_for(ws), tracker=tracker,
                             when=WHEN).run_session()
    record = tracker.decision(result.decision_id)
    analyst = next(row for row in record.outputs if row["agent"] == "MarketAnalyst")
    assert analyst["action"] is None and analyst["confidence"] is None
    assert analyst["error"].startswith("unparseable answer")
    assert record.action == "HOLD" and record.reasoning == "no edge"  # the advisor's call
    assert record.context["team"][0] == {"agent": "MarketAnalyst", "error": analyst["error"]}
    risk_request = respx_llm.requests[2]  # two analyst calls (one repair), then the risk manager
    assert user_json(risk_request, 2)[0]["error"].startswith("unparseable answer")


def test_unparseable_decider_records_nothing(ws, respx_llm, fake_answer, database_url) -> None:
    respx_llm.responder = answers({
        "MarketAnalyst": fake_answer("BUY", 0.7),
        "RiskManager": fake_answer("BUY", 0.6, "LOW"),
        "TradingAdvisor": "HOLD, probably.",
    })
    tracker = DecisionTracker(database_url)
    session = DecisionSession(workspace=ws, client=client_for(ws), tracker=tracker, when=WHEN)
    with pytest.raises(SessionFailed, match="TradingAdvisor gave no usable answer") as failed:
        session.run_session()
    assert [o.agent for o in failed.value.outputs] == list(TEAM)
    assert failed.value.outputs[-1].answer is None
    with tracker.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM decisions")).scalar() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM agent_outputs")).scalar() == 0


def test_failed_risk_manager_stops_the_team(ws, respx_llm, fake_answer) -> None:
    respx_llm.responder = answers({"MarketAnalyst": fake_answer("BUY", 0.7),
                                   "RiskManager": "{}", "TradingAdvisor": fake_answer("BUY", 1)})
    with pytest.raises(SessionFailed, match="RiskManager"):
        DecisionSession(workspace=ws, client=client_for(ws), when=WHEN).run_session()
    assert "TradingAdvisor" not in {agent_of(r) for r in respx_llm.requests}


def test_defaults_use_the_bundled_sample_at_its_latest_candle(ws, respx_llm, fake_answer) -> None:
    respx_llm.responder = lambda request: fake_answer("HOLD", 0.5)
    session = DecisionSession(workspace=ws, client=client_for(ws))
    result = session.run_session()
    last = load_sample().all_candles[-1].timestamp
    assert result.timestamp == last + timedelta(hours=1)
    assert session.session_id.startswith("session-")
    assert session.tracker.decision(result.decision_id).session_id == session.session_id
