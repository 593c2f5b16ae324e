"""Idempotent ingestion by external_id: recording the same decisions again adds nothing."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from tracker import DecisionTracker


def decision(external_id: str | None, n: int = 0) -> dict:
    item = {"session_id": "s", "symbol": "BTCUSDT", "timestamp": f"2026-01-0{n % 9 + 1}T10:00:00Z",
            "action": "BUY", "confidence": 0.7,
            "agent_outputs": [{"agent": "MarketAnalyst", "action": "BUY", "confidence": 0.7}]}
    if external_id is not None:
        item["external_id"] = external_id
    return item


def count(tracker: DecisionTracker) -> int:
    return len(tracker.decisions())


def test_recording_the_same_file_twice_stores_each_decision_once(run_cli, tmp_path: Path,
                                                                 database_url: str) -> None:
    source = tmp_path / "batch.jsonl"
    source.write_text("\n".join(json.dumps(decision(f"bot-7:{n}", n)) for n in range(3)))
    first = run_cli("record", str(source), "--json", "--database-url", database_url)
    again = run_cli("record", str(source), "--json", "--database-url", database_url)
    assert first.returncode == again.returncode == 0, first.stderr + again.stderr
    assert json.loads(again.stdout)["ids"] == json.loads(first.stdout)["ids"]
    tracker = DecisionTracker(database_url)
    assert count(tracker) == 3
    assert sorted(r.external_id or "" for r in tracker.decisions()) == [
        "bot-7:0", "bot-7:1", "bot-7:2"]


def test_a_batch_repeating_an_id_stores_it_once_and_says_so(database_url: str) -> None:
    tracker = DecisionTracker(database_url)
    answers = tracker.ingest_records([("item 1", decision("a")), ("item 2", decision(None)),
                                      ("item 3", decision("a")), ("item 4", decision(None))])
    assert [created for _, created in answers] == [True, True, False, True]
    assert answers[2][0] == answers[0][0]
    again = tracker.ingest_records([("item 1", decision("a"))])
    assert again == [(answers[0][0], False)]
    assert count(tracker) == 3  # decisions without an external_id are not deduplicated


def test_a_blank_external_id_is_refused_naming_the_item(database_url: str) -> None:
    import pytest

    from tracker.errors import ValidationError

    tracker = DecisionTracker(database_url)
    with pytest.raises(ValidationError, match="item 2: external_id"):
        tracker.ingest_records([("item 1", decision("ok")), ("item 2", decision(" "))])
    assert count(tracker) == 0


def test_concurrent_identical_batches_on_postgres_store_each_decision_once(
        postgres_url: str) -> None:
    DecisionTracker(postgres_url).close()  # create the schema once, before the race
    batch = [(f"item {n}", decision(f"race:{n}", n)) for n in range(1, 51)]
    barrier = threading.Barrier(4)
    answers: list[list[tuple[int, bool]]] = []

    def ingest() -> None:
        tracker = DecisionTracker(postgres_url)
        barrier.wait()
        answers.append(tracker.ingest_records(batch))
        tracker.close()

    threads = [threading.Thread(target=ingest) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 4
    assert all([i for i, _ in a] == [i for i, _ in answers[0]] for a in answers)
    assert sum(created for a in answers for _, created in a) == 50
    assert count(DecisionTracker(postgres_url)) == 50
