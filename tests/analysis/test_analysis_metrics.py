"""Metrics against a small set whose answers were computed by hand (SQLite and PostgreSQL).

The MarketAnalyst calls (r = forward return, band 0.005):

  #  day   action conf  r       right  bin  condition  sha
  1  D1    BUY    0.85  +0.02   yes    8    bullish    A
  2  D1    BUY    0.82  -0.01   no     8    bullish    A    (the team said HOLD 0.5)
  3  D1    SELL   0.30  -0.02   yes    3    bearish    A
  4  D2    HOLD   0.55  +0.003  yes    5    sideways   B
  5  D2    SELL   1.00  +0.01   no     9    bearish    B
  6  D2    BUY    0.60  none    -      6    bullish    B
  7  D2    HOLD   0.50  +0.005  yes    5    sideways   B    (|r| = band counts as HOLD)
  8  D2    failed call (error)                            B
  9  old   BUY    0.90  +0.02   yes    9    bullish    A    (31 days back: outside)
 10  D1    BUY    0.70  return_1h only: no outcome   7    bullish    A

With an outcome: 1 2 3 4 5 7 -> 6, right 4: accuracy 2/3.
Brier = (0.0225 + 0.6724 + 0.49 + 0.2025 + 1 + 0.25) / 6 = 2.6374 / 6.
ECE = (1*|1-0.3| + 2*|1-0.525| + 2*|0.5-0.835| + 1*|0-1|) / 6 = 3.32 / 6.
Realized return: (0.02 - 0.01 + 0.02 + 0 - 0.01 + 0) / 6.
Wilson 95% for 2 of 3: (0.2077, 0.9385).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.analysis.conftest import AGENT, UNTIL, call
from tracker.analysis import analyze_performance
from tracker.models import PerformanceMetric

A, B = "a" * 40, "b" * 40
D1, D2 = 24 * 8 + 14, 24 * 7 + 9  # hours before UNTIL: 2026-02-20 10:00, 2026-02-21 15:00


@pytest.fixture
def report(seed, tracker):
    seed([
        call(D1, "BUY", 0.85, 0.02, condition="bullish", sha=A),
        call(D1, "BUY", 0.82, -0.01, condition="bullish", sha=A, final=("HOLD", 0.5)),
        call(D1, "SELL", 0.30, -0.02, condition="bearish", sha=A),
        call(D2, "HOLD", 0.55, 0.003, condition="sideways", sha=B),
        call(D2, "SELL", 1.0, 0.01, condition="bearish", sha=B),
        call(D2, "BUY", 0.60, None, condition="bullish", sha=B),
        call(D2, "HOLD", 0.50, 0.005, condition="sideways", sha=B),
        call(D2, None, None, None, sha=B),
        call(31 * 24, "BUY", 0.90, 0.02, condition="bullish", sha=A),
        call(D1, "BUY", 0.70, 0.02, condition="bullish", sha=A, outcome_type="return_1h"),
    ])
    return analyze_performance(tracker.engine, [AGENT], 30, until=UNTIL).to_dict()


def test_headline_numbers(report) -> None:
    block = report["agents"][AGENT]
    assert block["decisions"] == 8
    assert block["with_outcome"] == 6
    assert block["errors"] == 1
    assert block["accuracy"] == pytest.approx(4 / 6, abs=1e-4)
    assert block["avg_return"] == pytest.approx(0.02 / 6, abs=1e-4)
    assert block["mean_confidence"] == pytest.approx(5.32 / 8, abs=1e-4)
    assert block["actions"] == {"BUY": 4, "SELL": 2, "HOLD": 2}


def test_brier_and_ece_match_the_hand_computation(report) -> None:
    cal = report["agents"][AGENT]["calibration"]
    assert cal["brier"] == pytest.approx(2.6374 / 6, abs=1e-4)
    assert cal["ece"] == pytest.approx(3.32 / 6, abs=1e-4)
    assert cal["count"] == 6


def test_reliability_table_bin_by_bin(report) -> None:
    bins = report["agents"][AGENT]["calibration"]["bins"]
    assert [(b["lo"], b["hi"]) for b in bins] == [(k / 10, (k + 1) / 10) for k in range(10)]
    expected = {3: (1, 0.30, 1.0), 5: (2, 0.525, 1.0), 8: (2, 0.835, 0.5), 9: (1, 1.0, 0.0)}
    for k, row in enumerate(bins):
        if k in expected:
            count, confidence, accuracy = expected[k]
            assert row["count"] == count, k
            assert row["mean_confidence"] == pytest.approx(confidence, abs=1e-4), k
            assert row["accuracy"] == pytest.approx(accuracy, abs=1e-4), k
        else:
            assert row["count"] == 0 and row["accuracy"] is None, k
    # calls without an outcome are in their bin's decisions, not in its count
    assert bins[6]["decisions"] == 1 and bins[7]["decisions"] == 1


def test_by_market_condition(report) -> None:
    conditions = report["agents"][AGENT]["by_market_condition"]
    assert set(conditions) == {"bullish", "bearish", "sideways"}
    bullish = conditions["bullish"]
    assert (bullish["decisions"], bullish["with_outcome"], bullish["accuracy"]) == (4, 2, 0.5)
    assert bullish["actions"] == {"BUY": 4, "SELL": 0, "HOLD": 0}
    assert conditions["bearish"]["accuracy"] == 0.5
    assert conditions["bearish"]["actions"] == {"BUY": 0, "SELL": 2, "HOLD": 0}
    assert conditions["sideways"]["accuracy"] == 1.0


def test_by_prompt_version_with_wilson_interval(report) -> None:
    versions = report["agents"][AGENT]["by_prompt_version"]
    assert list(versions) == [A, B]  # in the order they were first used
    a = versions[A]
    assert (a["decisions"], a["with_outcome"], a["version"]) == (4, 3, A[:7])
    assert a["accuracy"] == pytest.approx(2 / 3, abs=1e-4)
    assert (a["ci_low"], a["ci_high"]) == pytest.approx((0.2077, 0.9385), abs=1e-4)
    assert a["brier"] == pytest.approx((0.0225 + 0.6724 + 0.49) / 3, abs=1e-4)
    b = versions[B]
    assert (b["decisions"], b["with_outcome"]) == (4, 3)
    assert (a["first_seen"], b["first_seen"]) == ("2026-02-20", "2026-02-21")


def test_over_time_per_day(report) -> None:
    days = report["agents"][AGENT]["over_time"]
    assert [(d["period"], d["decisions"], d["with_outcome"]) for d in days] == [
        ("2026-02-20", 4, 3), ("2026-02-21", 4, 3)
    ]
    assert days[0]["accuracy"] == pytest.approx(2 / 3, abs=1e-4)


def test_final_decisions_use_the_decision_action(report) -> None:
    overall = report["overall"]
    # the failed call's decision is a HOLD 0.5 without outcome; #2 became HOLD (wrong: -1%)
    assert overall["decisions"] == 9
    assert overall["with_outcome"] == 6
    assert overall["accuracy"] == pytest.approx(4 / 6, abs=1e-4)
    assert overall["actions"] == {"BUY": 3, "SELL": 2, "HOLD": 4}
    assert overall["by_prompt_version"] == {}


def test_window_and_parameters(report) -> None:
    assert report["window"] == {
        "start": (UNTIL - timedelta(days=30)).isoformat(), "end": UNTIL.isoformat()
    }
    assert report["parameters"]["period"] == "day"


def test_band_and_outcome_type_change_the_judgement(seed, tracker) -> None:
    seed([call(5, "HOLD", 0.6, 0.008), call(6, "BUY", 0.6, 0.02, outcome_type="return_1h")])
    default = analyze_performance(tracker.engine, None, 30, until=UNTIL,
                                  store_metrics=False).to_dict()
    wide = analyze_performance(tracker.engine, None, 30, until=UNTIL, band=0.01,
                               store_metrics=False).to_dict()
    hourly = analyze_performance(tracker.engine, None, 30, until=UNTIL,
                                 outcome_type="return_1h", store_metrics=False).to_dict()
    assert default["agents"][AGENT]["accuracy"] == 0.0
    assert wide["agents"][AGENT]["accuracy"] == 1.0
    assert (hourly["agents"][AGENT]["with_outcome"], hourly["agents"][AGENT]["accuracy"]) == (1, 1)


def test_each_run_stores_its_metrics_with_the_window(report, tracker) -> None:
    table = PerformanceMetric.__table__
    with tracker.engine.connect() as conn:
        rows = conn.execute(sa.select(table)).mappings().all()
    by_name = {(r["agent_type"], r["metric_name"]): r for r in rows}
    accuracy = by_name[(AGENT, "accuracy")]
    assert accuracy["metric_value"] == pytest.approx(4 / 6, abs=1e-4)
    assert accuracy["start_date"] == UNTIL - timedelta(days=30)
    assert accuracy["end_date"] == UNTIL
    assert by_name[(AGENT, "brier")]["metric_value"] == pytest.approx(2.6374 / 6, abs=1e-4)
    assert by_name[("overall", "decisions")]["metric_value"] == 9
    assert by_name[(AGENT, "accuracy[market_condition=sideways]")]["metric_value"] == 1.0
    assert (AGENT, f"accuracy[prompt_sha={A}]") in by_name


def test_weekly_periods_for_long_windows(seed, tracker) -> None:
    seed([call(24 * 3, "BUY", 0.6, 0.02), call(24 * 10, "BUY", 0.6, 0.02)])
    report = analyze_performance(tracker.engine, None, 90, until=UNTIL,
                                 store_metrics=False).to_dict()
    periods = [p["period"] for p in report["agents"][AGENT]["over_time"]]
    assert report["parameters"]["period"] == "week"
    assert periods == ["2026-02-16", "2026-02-23"]  # the Mondays of those weeks


@pytest.mark.parametrize("known", [None, ["Nobody"]])
def test_an_agent_without_calls_gets_an_empty_block_with_a_warning(
        seed, tracker, known) -> None:
    seed([call(5, "BUY", 0.6, 0.02)])
    report = analyze_performance(tracker.engine, ["Nobody"], 30, until=UNTIL,
                                 store_metrics=False, known_agents=known).to_dict()
    block = report["agents"]["Nobody"]
    assert block["decisions"] == 0 and block["accuracy"] is None
    assert block["calibration"]["warnings"][0] == "no calls by Nobody in the window"


def test_an_agent_neither_configured_nor_recorded_is_refused(seed, tracker) -> None:
    from tracker.errors import UnknownAgentError

    seed([call(5, "BUY", 0.6, 0.02)])
    with pytest.raises(UnknownAgentError, match=r"unknown agent Nobody: .*\(known: Risk"
                                                r"Manager, MarketAnalyst\)"):
        analyze_performance(tracker.engine, [AGENT, "Nobody"], 30, until=UNTIL,
                            store_metrics=False, known_agents=["RiskManager"])


def test_an_in_memory_database_is_read_on_one_connection() -> None:
    from tests.analysis.conftest import _decision
    from tracker import DecisionTracker
    from tracker.db import connect

    engine = connect("sqlite://")  # every connection of another thread would be empty
    tracker = DecisionTracker(engine=engine)
    ids = tracker.track_decisions([_decision(call(5, "BUY", 0.7, 0.02), 0)])
    tracker.track_decision_outcome(ids[0], "return_24h", 0.02)
    report = analyze_performance(engine, None, 30, until=UNTIL).to_dict()
    assert report["agents"][AGENT]["accuracy"] == 1.0
    engine.dispose()
