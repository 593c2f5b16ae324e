"""The typed report (tracker/analysis/model.py): read by attribute, frozen, and its
``to_dict()`` is the documented ``--json`` document, key for key and in order."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest

from tests.analysis.conftest import AGENT, UNTIL, call
from tracker.analysis import Block, Report, analyze_performance, metric_rows

SEEDED = [
    call(50, "BUY", 0.85, 0.02, rsi=60, macd=0.5),  # right, bin 8
    call(45, "SELL", 0.55, 0.01, rsi=62, macd=0.3),  # wrong; with the BUY: contradictory
    call(20, "HOLD", 0.6, 0.001, condition="sideways"),  # right
]

# docs/analysis.md, "--json schema", in its order (DESIGN.md fixes the core)
REPORT_KEYS = ["window", "parameters", "overall", "agents", "stored_metrics"]
PARAMETER_KEYS = ["days", "outcome_type", "band", "period", "contradiction_window_hours",
                  "contradiction_rsi_tolerance", "max_checked"]
BLOCK_KEYS = ["decisions", "with_outcome", "accuracy", "avg_return", "mean_confidence",
              "errors", "actions", "calibration", "by_market_condition", "by_prompt_version",
              "over_time", "inconsistencies", "inconsistency_counts", "inconsistency_scope",
              "suggestions"]
CALIBRATION_KEYS = ["brier", "ece", "count", "mean_confidence", "accuracy", "gap", "bins",
                    "verdict", "warnings"]
BIN_KEYS = ["lo", "hi", "count", "decisions", "mean_confidence", "accuracy"]
HEADLINE = ["decisions", "with_outcome", "accuracy", "avg_return", "mean_confidence"]
CONDITION_KEYS = [*HEADLINE, "actions"]
VERSION_KEYS = ["version", *HEADLINE, "ci_low", "ci_high", "brier", "first_seen", "last_seen"]
PERIOD_KEYS = ["period", *HEADLINE]
FINDING_KEYS = ["kind", "decision_ids", "detail"]


@pytest.fixture
def report(seed, tracker) -> Report:
    seed(SEEDED)
    return analyze_performance(tracker.engine, [AGENT], 30, until=UNTIL)


def test_the_library_reads_the_report_by_attribute(report: Report) -> None:
    assert (report.window.start, report.window.end) == (UNTIL - timedelta(days=30), UNTIL)
    assert report.parameters.period == "day"
    assert report.stored_metrics == len(metric_rows(report)) > 0
    block = report.agents[AGENT]
    assert isinstance(block, Block)
    assert (block.decisions, block.with_outcome, block.accuracy) == (3, 3, round(2 / 3, 4))
    assert block.actions == {"BUY": 1, "SELL": 1, "HOLD": 1}
    assert block.calibration.count == 3 and block.calibration.bins[8].count == 1
    assert block.calibration.bins[8].accuracy == 1.0
    assert block.by_market_condition["sideways"].accuracy == 1.0
    assert block.by_market_condition["bullish"].actions["SELL"] == 1
    assert [v.version for v in block.by_prompt_version.values()] == ["aaaaaaa"]
    assert [(f.kind, len(f.decision_ids)) for f in block.inconsistencies] == [
        ("contradictory_calls", 2)]
    assert block.inconsistencies_found == 1 and block.inconsistency_scope.checked == 2
    assert block.suggestions and "1 pair of opposite calls" in block.suggestions[0]
    assert block.by_label == () and report.overall.by_label is None
    assert report.overall.by_prompt_version == {}


def test_the_report_is_frozen(report: Report) -> None:
    block = report.agents[AGENT]
    parts = [report, report.parameters, block, block.calibration, block.calibration.bins[0],
             block.inconsistencies[0], block.inconsistency_scope, block.over_time[0],
             block.by_market_condition["bullish"], *block.by_prompt_version.values()]
    for part in parts:
        name = dataclasses.fields(part)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(part, name, None)
        assert not hasattr(part, "__dict__"), type(part)  # slots
    assert isinstance(block.suggestions, tuple) and isinstance(block.calibration.bins, tuple)


def test_to_dict_is_the_documented_json_key_for_key(report: Report) -> None:
    data = report.to_dict()
    assert json.loads(json.dumps(data)) == data  # plain JSON values only
    assert list(data) == REPORT_KEYS and list(data["parameters"]) == PARAMETER_KEYS
    assert data["window"] == {"start": report.window.start.isoformat(),
                              "end": UNTIL.isoformat()}
    assert list(data["overall"]) == BLOCK_KEYS  # the team has no by_label
    block = data["agents"][AGENT]
    assert list(block) == [*BLOCK_KEYS, "by_label"] and block["by_label"] == []
    assert list(block["calibration"]) == CALIBRATION_KEYS
    assert [list(row) for row in block["calibration"]["bins"]] == [BIN_KEYS] * 10
    assert list(block["by_market_condition"]["bullish"]) == CONDITION_KEYS
    assert [list(v) for v in block["by_prompt_version"].values()] == [VERSION_KEYS]
    assert {tuple(p) for p in block["over_time"]} == {tuple(PERIOD_KEYS)}
    assert [list(f) for f in block["inconsistencies"]] == [FINDING_KEYS]
    assert block["inconsistency_scope"] == {"checked": 2, "directional_calls": 2}
    assert block["calibration"]["brier"] == report.agents[AGENT].calibration.brier
    assert block["inconsistencies"][0]["decision_ids"] == list(
        report.agents[AGENT].inconsistencies[0].decision_ids)
