"""One definition of a contradiction: what ``analyze`` lists is what ``optimize`` shows the
critic, whatever the context's shape and whatever ``[analysis]`` configures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

AGENT = "MarketAnalyst"
UNTIL = "2026-03-03T00:00:00Z"


def _decision(hour: int, action: str, context: dict) -> str:
    """A decision as docs/tracker.md shows ``promptloop record`` taking one."""
    return json.dumps({
        "session_id": "bot-7", "symbol": "BTCUSDT", "timestamp": f"2026-03-02T{hour:02d}:00:00Z",
        "action": action, "confidence": 0.8, "market_condition": "trending", "context": context,
        "agent_outputs": [{"agent": AGENT, "action": action, "confidence": 0.9,
                           "prompt_sha": "a" * 40, "reasoning": "the signals say so"}]})


@pytest.fixture
def ws(run_cli, tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    result = run_cli("init", str(root))
    assert result.returncode == 0, result.stderr
    return root


def _record(run_cli, ws: Path, lines: list[str], returns: list[float]) -> list[int]:
    result = run_cli("-C", str(ws), "record", "--json", input="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    ids: list[int] = json.loads(result.stdout)["ids"]
    for decision_id, value in zip(ids, returns, strict=True):
        done = run_cli("-C", str(ws), "outcome", str(decision_id), "--value", str(value))
        assert done.returncode == 0, done.stderr
    return ids


def _analyzed_pairs(run_cli, ws: Path) -> list[list[int]]:
    result = run_cli("-C", str(ws), "analyze", "--json", "--no-store", "--days", "3",
                     "--until", UNTIL, "--agents", AGENT)
    assert result.returncode == 0, result.stderr
    block = json.loads(result.stdout)["agents"][AGENT]
    return [item["decision_ids"] for item in block["inconsistencies"]
            if item["kind"] in ("contradictory_calls", "confidence_flip_flop")]


def _case_pairs(run_cli, ws: Path) -> list[list[int]]:
    result = run_cli("-C", str(ws), "optimize", "--agent", AGENT, "--engine", "heuristic",
                     "--json", "--dry-run", "--days", "3", "--until", UNTIL)
    assert result.returncode == 0, result.stderr
    cases = json.loads(result.stdout)["failure_cases"]
    return [[int(part[1:]) for part in case["case_id"].split("+")] for case in cases
            if case["kind"] == "contradiction"]


def test_a_pair_recorded_as_the_docs_show_is_one_contradiction_everywhere(
        run_cli, ws: Path) -> None:
    ids = _record(run_cli, ws, [_decision(9, "BUY", {"price": 64210.5, "rsi": 61.2}),
                                _decision(11, "SELL", {"price": 64190.0, "rsi": 62.0})],
                  [-0.02, -0.02])
    assert _analyzed_pairs(run_cli, ws) == [ids]
    assert _case_pairs(run_cli, ws) == [ids]


def test_flat_and_nested_contexts_pair_alike(run_cli, ws: Path) -> None:
    ids = _record(run_cli, ws, [
        _decision(9, "BUY", {"indicators": {"rsi_14": 40.0, "macd_hist": -0.3}}),
        _decision(10, "SELL", {"rsi_14": 42.0, "macd_histogram": -0.1}),
    ], [0.03, 0.03])
    assert _analyzed_pairs(run_cli, ws) == [ids] == _case_pairs(run_cli, ws)


@pytest.mark.parametrize(("settings", "paired"), [
    ("", True),  # 5 h apart, RSI 4 points apart: inside the defaults (24 h, 5 points)
    ("contradiction_window_hours = 4", False),
    ("contradiction_rsi_tolerance = 3.5", False),
    ("contradiction_window_hours = 5\ncontradiction_rsi_tolerance = 4", True),
])
def test_the_configured_rule_changes_analyze_and_the_failure_cases_alike(
        run_cli, ws: Path, settings: str, paired: bool) -> None:
    config = ws / "promptloop.toml"
    config.write_text(config.read_text(encoding="utf-8") + f"\n[analysis]\n{settings}\n",
                      encoding="utf-8")
    ids = _record(run_cli, ws, [_decision(9, "BUY", {"rsi": 55.0}),
                                _decision(14, "SELL", {"rsi": 59.0})], [-0.02, -0.02])
    expected = [ids] if paired else []
    assert _analyzed_pairs(run_cli, ws) == expected
    assert _case_pairs(run_cli, ws) == expected
