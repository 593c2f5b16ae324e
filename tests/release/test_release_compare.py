"""compare and promote: the statistics against hand-computed values, the paired SQL on SQLite
and PostgreSQL, promote refusing an inconclusive comparison and accepting a conclusive one."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime, timedelta
from math import comb
from pathlib import Path

import pytest

from agents.release import NotPromoted, compare_live, promote
from prompt_repo import PromptRepo, load_workspace
from tracker import DecisionTracker
from tracker.compare import PairCounts, compare_versions, needed_more, summarize
from tracker.errors import ValidationError
from tracker.stats import EXACT_INTEGERS_UP_TO, mcnemar_exact_p, sign_test_p

AGENT = "MarketAnalyst"
NOW = datetime.now(UTC).replace(microsecond=0)


def test_mcnemar_and_sign_test_by_hand() -> None:
    assert sign_test_p(9, 1) == pytest.approx(11 / 1024)  # (C(10,9) + C(10,10)) / 2^10
    assert mcnemar_exact_p(9, 1) == pytest.approx(22 / 1024)
    assert sign_test_p(3, 0) == pytest.approx(1 / 8)  # three of three: still not < 0.05
    assert mcnemar_exact_p(3, 0) == pytest.approx(2 / 8)
    assert sign_test_p(5, 0) == pytest.approx(1 / 32)  # the fewest pairs that can convince
    assert sign_test_p(12, 4) == pytest.approx((1820 + 560 + 120 + 16 + 1) / 65536)


@pytest.mark.parametrize(("better", "worse"), [(2700, 2500), (2500, 2700), (2600, 2600),
                                               (5200, 0), (0, 5200), (2800, 2500)])
def test_the_large_sample_path_matches_the_integer_sums(better: int, worse: int) -> None:
    n = better + worse
    assert n > EXACT_INTEGERS_UP_TO
    total, term = 0, comb(n, better)
    for k in range(better, n + 1):
        total += term
        term = term * (n - k) // (k + 1)
    assert sign_test_p(better, worse) == pytest.approx(total / 2**n, rel=1e-9, abs=1e-300)


def brute_needed(pairs: int, b: int, c: int, alpha: float = 0.05) -> int | None:
    rate, share = (b + c) / pairs, max(b, c) / (b + c)
    for total in range(pairs, 100_000):
        discordant = round(total * rate)
        ahead = round(discordant * share)
        if sign_test_p(ahead, discordant - ahead) < alpha:
            return total - pairs
    return None


@pytest.mark.parametrize(("pairs", "b", "c"), [(20, 3, 1), (40, 6, 2), (100, 7, 3),
                                               (12, 1, 2), (30, 5, 0), (400, 60, 45)])
def test_needed_more_matches_a_brute_force_search(pairs: int, b: int, c: int) -> None:
    assert needed_more(pairs, b, c) == brute_needed(pairs, b, c)


def test_needed_more_edge_cases() -> None:
    assert needed_more(50, 6, 0) == 0  # already conclusive
    assert needed_more(50, 4, 4) is None  # an even split: more data at these rates won't help
    assert needed_more(50, 0, 0) is None
    # a near-even split: beyond the scan, the normal approximation: (1.6449 / 0.02)^2 =
    # 6763.9, so 6,764 discordant pairs, half of all pairs: 13,527 pairs (6763.5 rounds to
    # 6764), 12,527 more than the 1,000 seen
    assert needed_more(1000, 255, 245) == 12_527


def test_summarize_by_hand() -> None:
    # 10 pairs: both right 4, only B 4, only A 1, both wrong 1.
    counts = PairCounts(pairs=10, a_correct=5, b_correct=8, both_correct=4, a_sq_err=2.5,
                        b_sq_err=1.5, diff_sum=-1.0, diff_sq_sum=0.5)
    c = summarize(counts, agent=AGENT, a="production", b="candidate", a_sha="a" * 40,
                  b_sha="b" * 40)
    assert (c.only_b, c.only_a, c.both_wrong) == (4, 1, 1)
    assert c.mcnemar_p == pytest.approx(2 * 6 / 32)  # P(X >= 4 | n=5) = 6/32, two-sided
    assert c.p_b_better == pytest.approx(6 / 32)
    assert c.verdict == "inconclusive"
    assert (c.a_accuracy, c.b_accuracy, c.a_brier, c.b_brier) == (0.5, 0.8, 0.25, 0.15)
    assert c.b_ci[0] == pytest.approx(0.4902, abs=1e-4) and c.b_ci[1] == pytest.approx(
        0.9433, abs=1e-4)  # Wilson, 8 of 10
    sd = math.sqrt((0.5 - 10 * 0.01) / 9)
    assert c.brier_diff == pytest.approx(-0.1)
    assert c.brier_diff_ci == pytest.approx((-0.1 - 1.959964 * sd / math.sqrt(10),
                                             -0.1 + 1.959964 * sd / math.sqrt(10)))


# -- recorded pairs ----------------------------------------------------------------------

A_SHA, B_SHA = "a" * 40, "b" * 40


def record(tracker: DecisionTracker, rows: list[tuple], *, a_sha: str = A_SHA,
           b_sha: str = B_SHA, start: datetime = NOW - timedelta(days=5)) -> None:
    """rows: (A action, A confidence, B action or None, B confidence, forward return or
    None); B is recorded as A's shadow."""
    decisions = []
    for n, (a_action, a_conf, b_action, b_conf, _) in enumerate(rows):
        outputs = [{"agent": AGENT, "prompt_sha": a_sha, "action": a_action,
                    "confidence": a_conf, "label": "production"},
                   {"agent": "RiskManager", "prompt_sha": "c" * 40, "action": "HOLD",
                    "confidence": 0.5}]
        if b_action is not None:
            outputs.append({"agent": AGENT, "prompt_sha": b_sha, "action": b_action,
                            "confidence": b_conf, "is_shadow": True, "label": "candidate"})
        decisions.append({"session_id": "s", "symbol": "BTCUSDT",
                          "timestamp": start + timedelta(hours=n), "action": a_action,
                          "confidence": a_conf, "agent_outputs": outputs,
                          "context": {"price": 100 + n}})
    ids = tracker.track_decisions(decisions)
    for decision_id, row in zip(ids, rows, strict=True):
        if row[4] is not None:
            tracker.track_decision_outcome(decision_id, "return_24h", row[4])


UP, DOWN, FLAT = 0.02, -0.02, 0.0
TABLE = [
    ("BUY", 0.8, "BUY", 0.9, UP),     # both right
    ("BUY", 0.6, "SELL", 0.7, DOWN),  # only B
    ("BUY", 0.7, "SELL", 0.6, DOWN),  # only B
    ("HOLD", 0.5, "SELL", 0.8, DOWN),  # only B
    ("SELL", 0.9, "BUY", 0.6, DOWN),  # only A
    ("BUY", 0.6, "BUY", 0.6, DOWN),   # both wrong
    ("BUY", 0.6, None, None, DOWN),   # no shadow: not a pair
    ("BUY", 0.6, "SELL", 0.6, None),  # no outcome: not a pair
]


def test_recorded_pairs_are_counted_in_sql(database_url: str) -> None:
    tracker = DecisionTracker(database_url)
    record(tracker, TABLE)
    record(tracker, [("BUY", 0.6, "SELL", 0.6, DOWN)], start=NOW - timedelta(days=40))

    counts = compare_versions(tracker.engine, AGENT, A_SHA, B_SHA,
                              since=NOW - timedelta(days=30))
    assert (counts.pairs, counts.a_correct, counts.b_correct, counts.both_correct) == (6, 2, 4, 1)
    a_err = [0.2**2, 0.6**2, 0.7**2, 0.5**2, 0.1**2, 0.6**2]
    b_err = [0.1**2, 0.3**2, 0.4**2, 0.2**2, 0.6**2, 0.6**2]
    assert counts.a_sq_err == pytest.approx(sum(a_err))
    assert counts.b_sq_err == pytest.approx(sum(b_err))
    diffs = [b - a for a, b in zip(a_err, b_err, strict=True)]
    assert counts.diff_sum == pytest.approx(sum(diffs))
    assert counts.diff_sq_sum == pytest.approx(sum(d * d for d in diffs))
    assert compare_versions(tracker.engine, AGENT, A_SHA, B_SHA).pairs == 7  # all time
    with pytest.raises(ValidationError, match="same version"):
        compare_versions(tracker.engine, AGENT, A_SHA, A_SHA)


# -- promote -----------------------------------------------------------------------------


@pytest.fixture
def release(workspace: Path, tmp_path: Path, database_url: str):
    """A workspace whose production is pinned and whose candidate is a newer version,
    with a tracker (SQLite and PostgreSQL)."""
    ws = dataclasses.replace(load_workspace(workspace), database_url=database_url)
    with PromptRepo(ws) as repo:
        repo.labels().pin_production(AGENT)
        old = repo.read(AGENT).sha
        new = repo.apply(AGENT, repo.read(AGENT).text + "\nBe careful.\n", "candidate")
        repo.labels().set(AGENT, "candidate", new)
    return ws, DecisionTracker(database_url), old, new


def test_promote_refuses_an_inconclusive_comparison(release) -> None:
    ws, tracker, old, new = release
    record(tracker, TABLE, a_sha=old, b_sha=new)  # 3 fixed, 1 broken: p = 5/16
    head = PromptRepo(ws).labels().table()
    with pytest.raises(NotPromoted, match=r"inconclusive \(one-sided p=0.312, about \d+ more"):
        promote(ws, tracker.engine, AGENT)
    assert PromptRepo(ws).labels().table() == head
    assert compare_live(ws, tracker.engine, AGENT).needed_more == needed_more(6, 3, 1)


def test_promote_accepts_a_conclusive_comparison(release) -> None:
    ws, tracker, old, new = release
    record(tracker, [("BUY", 0.7, "SELL", 0.7, DOWN)] * 6 + [("BUY", 0.7, "BUY", 0.7, UP)],
           a_sha=old, b_sha=new)  # 6 fixed, 0 broken: one-sided p = 1/64
    done = promote(ws, tracker.engine, AGENT, reason="weekly release")
    assert done.comparison.verdict == "better" and not done.forced
    assert done.comparison.p_b_better == pytest.approx(1 / 64)
    with PromptRepo(ws) as repo:
        assert repo.read(AGENT, label="production").sha == new
        (move, *_) = repo.labels().log(AGENT, "production")
    assert (move.old, move.new, move.forced) == (old, new, False)
    assert move.reason.startswith("weekly release\n\ncandidate (")
    assert "better (one-sided p=0.0156 < 0.05)" in move.reason


def test_a_forced_promotion_and_a_demotion(release) -> None:
    ws, tracker, old, new = release
    record(tracker, TABLE, a_sha=old, b_sha=new)
    done = promote(ws, tracker.engine, AGENT, force=True)
    assert done.forced and done.comparison.verdict == "inconclusive"
    with PromptRepo(ws) as repo:
        (move, *_) = repo.labels().log(AGENT, "production")
        assert move.forced and move.reason.startswith("forced, without a conclusive comparison")
    # back again: the old version, compared with what production now is, forced
    back = promote(ws, tracker.engine, AGENT, source=old, force=True)
    assert (back.move.old, back.move.new) == (new, old)


def test_alpha_from_promptloop_toml(release) -> None:
    ws, tracker, old, new = release
    record(tracker, [("BUY", 0.7, "SELL", 0.7, DOWN)] * 4, a_sha=old, b_sha=new)  # p = 1/16
    assert compare_live(ws, tracker.engine, AGENT).verdict == "inconclusive"
    lenient = dataclasses.replace(ws, raw={**ws.raw, "release": {"alpha": 0.1}})
    assert compare_live(lenient, tracker.engine, AGENT).verdict == "better"


def test_analyze_shows_production_and_shadow_side_by_side(database_url: str) -> None:
    from tracker.analysis.report import analyze_performance

    tracker = DecisionTracker(database_url)
    record(tracker, TABLE)
    report = analyze_performance(tracker.engine, days=30, store_metrics=False).to_dict()
    block = report["agents"][AGENT]
    assert (block["decisions"], block["with_outcome"]) == (8, 7)  # production calls only
    rows = [(r["label"], r["shadow"], r["version"], r["decisions"], r["with_outcome"],
             r["accuracy"]) for r in block["by_label"]]
    assert rows == [("production", False, "aaaaaaa", 7, 6, round(2 / 6, 4)),
                    ("candidate", True, "bbbbbbb", 7, 6, round(4 / 6, 4))]
    assert report["agents"]["RiskManager"]["by_label"] == []
