"""One writer per worker process that commits decision batches in groups.

SQLite has one writer at a time: concurrent requests each opening ``BEGIN IMMEDIATE``
queue on the busy timeout, which polls with sleeps, and each pays its own commit. Here the
request threads hand their batch to :class:`GroupWriter` and wait; its one thread takes
every batch waiting at that moment (up to ``max_items`` decisions) and stores them with
one ``DecisionTracker.ingest_records`` call: one transaction, one commit. Each request is
answered only after that commit, so "acknowledged only when committed" holds.

A batch stays all or nothing on its own: when a merged group is refused (one bad batch, or a
conflict), every batch of the group is stored again alone, so each gets its own answer and
its own error, and a good batch never fails because of another's. An ``external_id`` sent
in two batches of a group is stored once; the later batch is answered ``duplicate`` with
the same id, as it would be one commit later.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tracker.store import DecisionTracker

MAX_GROUP_ITEMS = 5000
Answers = list[tuple[int, bool]]


@dataclass
class _Job:
    records: Sequence[tuple[str, Any]]
    done: threading.Event = field(default_factory=threading.Event)
    answers: Answers | None = None
    error: BaseException | None = None


class GroupWriter:
    """Stores batches of decisions through one thread, several per transaction."""

    def __init__(self, tracker: DecisionTracker, max_items: int = MAX_GROUP_ITEMS) -> None:
        self.tracker, self.max_items = tracker, max_items
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="promptloop-writer",
                                        daemon=True)
        self._thread.start()

    def ingest(self, records: Sequence[tuple[str, Any]]) -> Answers:
        """``DecisionTracker.ingest_records(records)``, committed with whatever else waits."""
        job = _Job(records)
        self._queue.put(job)
        job.done.wait()
        if job.error is not None:
            raise job.error
        assert job.answers is not None
        return job.answers

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=60)

    def _work(self) -> None:
        while (first := self._queue.get()) is not None:
            group, stop = [first], False
            size = len(first.records)
            while size < self.max_items:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stop = True
                    break
                group.append(job)
                size += len(job.records)
            self._store(group)
            if stop:
                return

    def _store(self, group: list[_Job]) -> None:
        if len(group) > 1:
            try:
                answers = self.tracker.ingest_records([r for job in group for r in job.records])
            except Exception:  # each batch is stored alone below, with its own error
                pass
            else:
                start = 0
                for job in group:
                    job.answers = answers[start:start + len(job.records)]
                    start += len(job.records)
                    job.done.set()
                return
        for job in group:
            try:
                job.answers = self.tracker.ingest_records(job.records)
            except BaseException as exc:  # handed to the request's thread, raised there
                job.error = exc
            job.done.set()
