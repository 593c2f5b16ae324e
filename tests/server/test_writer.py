"""GroupWriter: batches waiting together are committed in one transaction; a bad batch in a
group fails alone, with its own error, and the good ones in its group are stored."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from server_support import decision

from server.writer import GroupWriter
from tracker import DecisionTracker
from tracker.errors import ValidationError


def records(prefix: str, count: int, **changes: Any) -> list[tuple[str, Any]]:
    return [(f"item {n}", decision(f"{prefix}{n}", n, **changes)) for n in range(1, count + 1)]


def test_waiting_batches_are_grouped_and_a_bad_one_fails_alone(tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    tracker = DecisionTracker(f"sqlite:///{path}")
    writer = GroupWriter(tracker)
    lock = sqlite3.connect(path, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")  # the writer's first batch waits on this lock
    jobs = {"first": records("f", 2), "good": records("g", 3),
            "bad": records("b", 2, action="MAYBE"), "again": records("g", 3)}
    answers: dict[str, Any] = {}

    def send(name: str) -> None:
        try:
            answers[name] = writer.ingest(jobs[name])
        except ValidationError as exc:
            answers[name] = exc

    threads = {name: threading.Thread(target=send, args=(name,)) for name in jobs}
    threads["first"].start()
    time.sleep(0.2)  # the writer holds "first" and waits for the lock; the rest queue up
    for name in ("good", "bad", "again"):
        threads[name].start()
    time.sleep(0.2)
    lock.execute("ROLLBACK")
    lock.close()
    for thread in threads.values():
        thread.join(timeout=60)
    writer.close()

    assert [created for _, created in answers["first"]] == [True, True]
    assert [created for _, created in answers["good"]] == [True] * 3
    assert answers["again"] == [(i, False) for i, _ in answers["good"]]
    assert isinstance(answers["bad"], ValidationError)
    assert "item 1: action" in str(answers["bad"])
    stored = sorted(d.external_id or "" for d in tracker.decisions())
    tracker.close()
    assert stored == ["f1", "f2", "g1", "g2", "g3"]


@pytest.mark.parametrize("count", [1, 30])
def test_answers_are_those_of_ingest_records(database_url: str, count: int) -> None:
    tracker = DecisionTracker(database_url)
    writer = GroupWriter(tracker, max_items=10)
    results: list[Any] = [None] * count

    def send(n: int) -> None:
        results[n] = writer.ingest(records(f"c{n}-", 4))

    threads = [threading.Thread(target=send, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    writer.close()
    ids = [i for answer in results for i, created in answer if created]
    assert len(ids) == len(set(ids)) == 4 * count
    assert sorted(d.id for d in tracker.decisions()) == sorted(ids)
    tracker.close()
