"""Sessions run what a label says; a shadow runs another label on the same inputs, is
recorded as such, never reaches the team's decision nor the production metrics, and never
fails the session (SQLite and PostgreSQL; the endpoint mocked with respx)."""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agents.llm import LLMClient
from agents.session import DecisionSession
from prompt_repo import PromptRepo, load_workspace
from prompt_repo.config import LLMSettings
from prompt_repo.errors import PromptRepoError, UnknownRevision
from tracker import DecisionTracker
from tracker.analysis.report import analyze_performance

WHEN = datetime(2019, 6, 1, 12, tzinfo=UTC)
AGENT = "MarketAnalyst"
MARK = "Candidate rule: fade every rally."


def answer(action: str, confidence: float, risk: str = "MEDIUM", why: str = "test") -> str:
    return json.dumps({"action": action, "confidence": confidence, "risk_level": risk,
                       "reasoning": why})


def agent_of(request: dict) -> str:
    return request["messages"][0]["content"].splitlines()[0].lstrip("# ").strip()


def is_candidate(request: dict) -> bool:
    return MARK in request["messages"][0]["content"]


@pytest.fixture
def ws(workspace: Path, respx_llm, tmp_path: Path):
    base = load_workspace(workspace)
    llm = LLMSettings(model="fake-model", base_url=respx_llm.url, api_key="sk-test")
    return dataclasses.replace(base, llm=llm)


@pytest.fixture
def candidate(ws) -> tuple[str, str]:
    """(production sha, candidate sha): production pinned, candidate committed after it."""
    with PromptRepo(ws) as repo:
        repo.labels().pin_production(AGENT)
        production = repo.read(AGENT).sha
        new = repo.apply(AGENT, repo.read(AGENT).text + f"\n{MARK}\n", "candidate")
        repo.labels().set(AGENT, "candidate", new)
    return production, new


def team_answers(request: dict) -> str:
    if is_candidate(request):
        return answer("SELL", 0.99, "HIGH", "shadow says sell")
    return {"MarketAnalyst": answer("BUY", 0.7, "LOW", "MACD up"),
            "RiskManager": answer("BUY", 0.6, "MEDIUM", "ATR normal"),
            "TradingAdvisor": answer("BUY", 0.65, "LOW", "go long")}[agent_of(request)]


def session(ws, tracker, **kwargs) -> DecisionSession:
    return DecisionSession(symbol="BTCUSDT", workspace=ws, client=LLMClient(ws.llm),
                           tracker=tracker, when=WHEN, **kwargs)


def test_the_session_runs_the_labelled_versions(ws, candidate, respx_llm, database_url) -> None:
    respx_llm.responder = team_answers
    tracker = DecisionTracker(database_url)
    result = session(ws, tracker).run_session()  # default: production, pinned before MARK
    assert result.action == "BUY" and not any(is_candidate(r) for r in respx_llm.requests)
    assert result.prompt_versions[AGENT] == candidate[0]

    result = session(ws, tracker, label="candidate").run_session()
    assert result.outputs[0].answer.action == "SELL"
    assert result.prompt_versions[AGENT] == candidate[1]
    rows = {row["agent"]: row for row in tracker.decision(result.decision_id).outputs}
    assert (rows[AGENT]["label"], rows[AGENT]["prompt_sha"], rows[AGENT]["is_shadow"]) == (
        "candidate", candidate[1], False)
    assert rows["RiskManager"]["label"] == "production"  # it has no candidate label


def test_an_unknown_label_is_refused_before_any_call(ws, respx_llm, tmp_path) -> None:
    with pytest.raises(UnknownRevision, match="no agent of the team has a label 'staging'"):
        session(ws, None, track_performance=False, label="staging").run_session()
    assert respx_llm.requests == []


def test_a_shadow_is_recorded_and_the_team_decision_ignores_it(
    ws, candidate, respx_llm, database_url
) -> None:
    respx_llm.responder = team_answers
    tracker = DecisionTracker(database_url)
    result = session(ws, tracker, shadow={AGENT: "candidate"}).run_session()

    assert (result.action, result.confidence, result.reasoning) == ("BUY", 0.65, "go long")
    assert [out.agent for out in result.outputs] == [AGENT, "RiskManager", "TradingAdvisor"]
    assert [(s.label, s.result.answer.action) for s in result.shadow_outputs] == [
        ("candidate", "SELL")]
    production_calls = [r for r in respx_llm.requests if not is_candidate(r)]
    shadow_calls = [r for r in respx_llm.requests if is_candidate(r)]
    assert len(production_calls) == 3 and len(shadow_calls) == 1
    assert shadow_calls[0]["messages"][1] == next(
        r for r in production_calls if agent_of(r) == AGENT)["messages"][1]  # same inputs
    assert not any("shadow says sell" in r["messages"][1]["content"] for r in production_calls)

    rows = tracker.decision(result.decision_id).outputs
    assert [(r["agent"], r["is_shadow"], r["label"], r["prompt_sha"], r["action"])
            for r in rows] == [
        (AGENT, False, "production", candidate[0], "BUY"),
        ("RiskManager", False, "production", result.prompt_versions["RiskManager"], "BUY"),
        ("TradingAdvisor", False, "production", result.prompt_versions["TradingAdvisor"], "BUY"),
        (AGENT, True, "candidate", candidate[1], "SELL"),
    ]
    tracker.track_decision_outcome(result.decision_id, "return_24h", -0.05)
    report = analyze_performance(tracker.engine, days=10_000, until=WHEN.replace(year=2020),
                                 store_metrics=False).to_dict()
    block = report["agents"][AGENT]
    assert (block["decisions"], block["accuracy"], block["actions"]["SELL"]) == (1, 0.0, 0)
    assert list(block["by_prompt_version"]) == [candidate[0]]
    cases = tracker.failure_cases(AGENT, days=10_000, until=WHEN.replace(year=2020))
    assert [(c.output["action"], c.output["reasoning"]) for c in cases] == [("BUY", "MACD up")]


def test_a_shadow_timeout_does_not_fail_the_session(ws, candidate, respx_llm, database_url):
    release = threading.Event()

    def slow_shadow(request: dict) -> str:
        if is_candidate(request):
            release.wait(60)  # held until the session is over
        return team_answers(request)

    respx_llm.responder = slow_shadow
    tracker = DecisionTracker(database_url)
    try:
        result = session(ws, tracker, shadow={AGENT: "candidate"},
                         shadow_timeout=0.01).run_session()
    finally:
        release.set()
    assert result.action == "BUY" and result.decision_id is not None
    shadow = [r for r in tracker.decision(result.decision_id).outputs if r["is_shadow"]]
    assert [(r["action"], r["error"]) for r in shadow] == [
        (None, "shadow call did not finish within 0.01s of the team's decision")]
    for thread in threading.enumerate():
        if thread.name.startswith("shadow-"):
            thread.join(30)


def test_a_failing_shadow_is_an_error_row_not_a_failed_session(ws, candidate, respx_llm,
                                                               database_url) -> None:
    def broken_shadow(request: dict) -> object:
        if is_candidate(request):
            return 400, {"error": {"message": "bad request", "type": "invalid"}}
        return team_answers(request)

    respx_llm.responder = broken_shadow
    tracker = DecisionTracker(database_url)
    result = session(ws, tracker, shadow={AGENT: "candidate"}).run_session()
    assert result.action == "BUY"
    (shadow,) = [r for r in tracker.decision(result.decision_id).outputs if r["is_shadow"]]
    assert shadow["action"] is None and shadow["error"].startswith("LLMError: ")


def test_shadow_from_promptloop_toml_and_its_refusals(ws, candidate, respx_llm) -> None:
    respx_llm.responder = team_answers
    raw = {**ws.raw, "shadow": {AGENT: "candidate"}}
    configured = dataclasses.replace(ws, raw=raw)
    result = session(configured, None, track_performance=False).run_session()
    assert [s.result.agent for s in result.shadow_outputs] == [AGENT]
    assert session(configured, None, track_performance=False,
                   shadow={AGENT: "production"}).run_session().shadow_outputs == []

    for bad, message in [({"Nobody": "candidate"}, "not a member of the team"),
                         ({AGENT: "Bad Name"}, "invalid label name")]:
        with pytest.raises(PromptRepoError, match=message):
            session(ws, None, track_performance=False, shadow=bad)
