"""The key never leaks, end to end: an endpoint that plants the configured secrets in every
field it can return, the real CLI (``session run``, ``optimize --engine llm --auto-apply``,
``decisions``, a failing call), and then a search of everything the runs left behind: stdout and
stderr, every byte of every file under the workspace (the SQLite database and its journal, the
LLM cache, the prompts) and every git object (``git log -p --all`` and the object store)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from llm_stub_server import Reply, StubLLM

sys.path.insert(0, str(Path(__file__).parents[1] / "optimize"))
from optimize_support import GOOD_DIFF  # noqa: E402

KEY = "sk-test-LEAK-0123456789abcdefXYZ"
PASSWORD = "hunter2-hunter2"  # in the base_url: http://alice:hunter2-hunter2@127.0.0.1:port/v1
AGENT = "MarketAnalyst"
GOOD_LINE = "If the trend and `macd_hist` disagree, answer HOLD"


def spellings(secret: str) -> list[str]:
    """The secret as an endpoint may write it: plain, URL-encoded, JSON-escaped."""
    return [secret, "".join(f"%{b:02X}" for b in secret.encode()),
            "".join(f"\\u{ord(c):04x}" for c in secret)]


PLANTED = " / ".join(spellings(KEY) + spellings(PASSWORD) + [f"alice:{PASSWORD}"])


def agent_answer(request: dict[str, Any]) -> Reply:
    """BUY, except that the optimized prompt sells when macd_hist is negative: the replay
    gate sees the candidate fix the held-out failures."""
    system, user = (m["content"] for m in request["messages"][:2])
    name = system.splitlines()[0].lstrip("# ").strip()
    action = "SELL" if GOOD_LINE in system and re.search(r'"macd_hist":\s*-', user) else "BUY"
    content = json.dumps({"action": action, "confidence": 0.8, "risk_level": "LOW",
                          "reasoning": f"{name} saw {KEY} in the data"})
    # The JSON-escaped key inside the JSON text: decoded, it is the key itself.
    content = content[:-2] + " and " + spellings(KEY)[2] + '"}'
    return _reply(request, content)


def critic_answer(request: dict[str, Any]) -> Reply:
    diagnosis = f"Diagnosis: the key {PLANTED} leaks; mixed signals are left to judgement."
    return _reply(request, f"{diagnosis}\n\n```diff\n{GOOD_DIFF}```\n")


def _reply(request: dict[str, Any], content: str) -> Reply:
    message = {"role": "assistant", "content": content, "refusal": PLANTED,
               "tool_calls": [{"id": KEY, "type": "function",
                               "function": {"name": "echo",
                                            "arguments": json.dumps({"key": PLANTED})}}]}
    body = {"id": KEY, "object": "chat.completion", "created": 0, "model": KEY,
            "system_fingerprint": PLANTED,
            "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 40, "total_tokens": 140}}
    return Reply(body=json.dumps(body), headers={"x-echo": KEY})


def failure(message: str, status: int) -> Reply:
    body = {"error": {"message": message, "type": PLANTED, "code": KEY, "param": PLANTED}}
    return Reply(status=status, body=json.dumps(body))


class Endpoint:
    """The stub's script: one error with the key first (retried), then answers by kind."""

    def __init__(self) -> None:
        self.pending = [failure(f"overloaded, your key is {PLANTED}", 503)]
        self.refuse = False

    def __call__(self, request: dict[str, Any]) -> Reply:
        if self.refuse:
            return failure(f"Incorrect API key provided: {PLANTED}", 401)
        if self.pending:
            return self.pending.pop(0)
        if "response_format" in request:  # an agent (live or replayed) answers in JSON
            return agent_answer(request)
        return critic_answer(request)


@pytest.fixture
def endpoint() -> Any:
    script = Endpoint()
    with StubLLM(script) as stub:
        yield script, stub


def test_the_key_planted_in_every_field_is_nowhere_afterwards(run_cli, workspace: Path,
                                                              endpoint) -> None:
    script, stub = endpoint
    host = stub.url.removeprefix("http://")
    env = {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": f"http://alice:{PASSWORD}@{host}"}
    outputs = []

    def cli(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = run_cli("-C", str(workspace), *args, env=env, real_process=True)
        outputs.append(result)
        assert (result.returncode == 0) is ok, result.stdout + result.stderr
        return result

    shown = cli("session", "run", "--at", "2019-06-01 12:00")
    cli("session", "run", "--at", "2019-06-02 12:00", "--json")
    _seed_failures(workspace)
    optimized = cli("optimize", "--agent", AGENT, "--engine", "llm", "--auto-apply")
    cli("decisions", "--json")
    script.refuse = True
    refused = cli("session", "run", "--at", "2019-06-03 12:00", "--no-cache", ok=False)

    # The planted text went through every path, scrubbed: shown, stored, committed.
    assert "***" in shown.stdout and "***" in optimized.stdout
    assert "LLM call failed (503 Service Unavailable), retry 1 of 4" in shown.stderr
    assert refused.stderr.startswith("Error: LLM request failed: 401 Unauthorized from "
                                     "http://***@127.0.0.1:")
    assert "Incorrect API key provided: ***" in refused.stderr
    assert len(stub.requests) >= 8  # 2 sessions x 3 agents, a retry, the critic, the refusal

    assert "Applied as" in optimized.stdout
    _assert_context_has_scrubbed_team_answers(workspace)
    leaks = _search(outputs, workspace)
    assert leaks == []


def _assert_context_has_scrubbed_team_answers(root: Path) -> None:
    """decisions.context copies the team's answers (model text): scrubbed by then."""
    from prompt_repo import load_workspace
    from tracker import DecisionTracker

    tracker = DecisionTracker(load_workspace(root).database_url)
    try:
        first = tracker.decisions()[-1]
    finally:
        tracker.close()
    assert first.session_id != "seed"
    reasons = [answer["reasoning"] for answer in first.context["team"]]
    assert reasons[0] == "MarketAnalyst saw *** in the data and ***"


def _search(outputs: list[subprocess.CompletedProcess[str]], root: Path) -> list[str]:
    """Where any spelling of a secret is found: outputs, files (bytes), git objects."""
    needles = [s for secret in (KEY, PASSWORD) for s in spellings(secret)]
    places = {f"output {n}": r.stdout + r.stderr for n, r in enumerate(outputs)}
    for path in root.rglob("*"):
        if path.is_file():
            places[str(path)] = path.read_bytes().decode("utf-8", "replace")
    places["git log -p --all"] = _git(root, "log", "-p", "--all")
    objects = _git(root, "cat-file", "--batch-all-objects", "--batch")
    places["git objects"] = objects
    return [f"{needle!r} in {place}" for place, text in places.items()
            for needle in needles if needle in text or quote(needle) in text]


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=True
                          ).stdout.decode("utf-8", "replace")


def _seed_failures(root: Path) -> None:
    """MarketAnalyst's confident BUYs before 4 % drops (failures) and before 3 % rises
    (successes), every 0.4 days over the last 28: failures before the walk-forward cut (10
    days ago) for the critic, 24 decisions after it for the replay gate."""
    from prompt_repo import load_workspace
    from tracker import DecisionTracker

    tracker = DecisionTracker(load_workspace(root).database_url)
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        for k in range(1, 71):
            _record(tracker, now - timedelta(days=0.4 * k), -0.04 if k % 2 else 0.03)
    finally:
        tracker.close()


def _record(tracker: Any, when: datetime, ret: float) -> None:
    indicators = {"rsi_14": 64.2, "macd_hist": 15.0 if ret > 0 else -12.5, "sma_20": 63500.0,
                  "sma_50": 62000.0, "volatility": 0.025}
    context = {"symbol": "BTCUSDT", "price": 64000.0, "market_condition": "volatile",
               "indicators": indicators}
    reasoning = "Uptrend and RSI 64; momentum positive, so BUY."
    decision = tracker.track_decision(
        session_id="seed", symbol="BTCUSDT", timestamp=when, action="BUY", confidence=0.9,
        risk_level="LOW", reasoning=reasoning, market_condition="volatile", context=context,
        agent_outputs=[{"agent": AGENT, "prompt_sha": None, "action": "BUY", "confidence": 0.9,
                        "risk_level": "LOW", "reasoning": reasoning}])
    tracker.track_decision_outcome(decision, "return_24h", ret, details={"band": 0.005})
