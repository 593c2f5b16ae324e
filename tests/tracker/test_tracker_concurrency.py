"""A fleet on one host: 8 processes x 2,000 decisions into one database, created by
whichever process gets there first. Each process makes 1,000 single track_decision calls
interleaved with 20 track_decisions batches of 50. Every row arrives with its agent
outputs and no "database is locked" (or any other error) reaches a caller."""

from __future__ import annotations

import subprocess
import sys

from tracker_support import count_rows

PROCESSES = 8
PER_PROCESS = 2_000

WORKER = """
import sys
from datetime import UTC, datetime, timedelta
from tracker import DecisionTracker

url, worker, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
tracker = DecisionTracker(url)
start = datetime(2026, 1, 1, tzinfo=UTC)


def row(n):
    outputs = [{"agent": agent, "action": "BUY", "confidence": 0.5, "prompt_sha": "a" * 40}
               for agent in ("MarketAnalyst", "RiskManager", "TradingAdvisor")]
    return dict(session_id=f"w{worker}", symbol="BTCUSDT", action="BUY", confidence=0.5,
                timestamp=start + timedelta(seconds=n), context={"n": n}, agent_outputs=outputs)


for n in range(0, count, 100):
    for k in range(n, n + 50):
        tracker.track_decision(**row(k))
    tracker.track_decisions([row(k) for k in range(n + 50, n + 100)])
tracker.close()
"""


def test_eight_processes_write_at_once(database_url: str) -> None:
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, database_url, str(w), str(PER_PROCESS)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for w in range(PROCESSES)
    ]
    results = [(w.wait(timeout=600), w.stderr.read()) for w in workers]
    for w in workers:
        w.stdout.close()
        w.stderr.close()
    assert [code for code, _ in results] == [0] * PROCESSES, [err for _, err in results]
    assert not any("locked" in err for _, err in results)

    from tracker import DecisionTracker

    tracker = DecisionTracker(database_url)
    try:
        assert count_rows(tracker.engine, "decisions") == PROCESSES * PER_PROCESS
        assert count_rows(tracker.engine, "agent_outputs") == PROCESSES * PER_PROCESS * 3
        with tracker.engine.connect() as conn:
            per_session = dict(conn.exec_driver_sql(
                "SELECT session_id, count(*) FROM decisions GROUP BY session_id").all())
            incomplete = conn.exec_driver_sql(
                "SELECT count(*) FROM decisions d WHERE (SELECT count(*) FROM agent_outputs o"
                " WHERE o.decision_id = d.id) <> 3").scalar()
        assert per_session == {f"w{w}": PER_PROCESS for w in range(PROCESSES)}
        assert incomplete == 0
    finally:
        tracker.close()
