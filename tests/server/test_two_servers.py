"""Two ``promptloop serve`` processes on one PostgreSQL (the scale-out path) ingest the same
and different batches at once: nothing is lost, nothing is stored twice, and both servers
answer the same id for the same external_id."""

from __future__ import annotations

import signal
import subprocess
import threading
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from serve_process import PROMPTLOOP, free_port, wait_until_up
from server_support import decision

from tracker import DecisionTracker


def start(workspace: Path, port: int, database_url: str) -> subprocess.Popen:
    return subprocess.Popen([PROMPTLOOP, "serve", "--port", str(port),
                             "--database-url", database_url], cwd=workspace,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_two_servers_on_one_postgres_lose_and_duplicate_nothing(workspace: Path,
                                                                 postgres_url: str) -> None:
    DecisionTracker(postgres_url).close()  # the schema, made once before either starts
    shared = [[decision(f"same-{b}-{n}", n) for n in range(25)] for b in range(8)]
    own = {side: [[decision(f"{side}-{b}-{n}", n) for n in range(25)] for b in range(8)]
           for side in ("a", "b")}
    outcomes = [{"external_id": f"same-{b}-0", "outcome_type": "return_24h",
                 "outcome_value": 0.01} for b in range(8)]
    ports = {"a": free_port(), "b": free_port()}
    servers = {side: start(workspace, port, postgres_url) for side, port in ports.items()}
    answers: dict[str, list[dict[str, Any]]] = {"a": [], "b": []}
    errors: list[str] = []
    barrier = threading.Barrier(2)

    def ingest(side: str) -> None:
        base = f"http://127.0.0.1:{ports[side]}"
        barrier.wait()
        with httpx.Client(base_url=base, timeout=60) as client:
            for mine, same in zip(own[side], shared, strict=True):
                for batch in (same, mine):
                    answer = client.post("/v1/decisions", json={"decisions": batch})
                    if answer.status_code != 200:
                        errors.append(answer.text)
                        continue
                    answers[side] += answer.json()["items"]
            posted = client.post("/v1/outcomes", json={"outcomes": outcomes})
            if posted.status_code != 200:
                errors.append(posted.text)

    try:
        for side, port in ports.items():
            wait_until_up(f"http://127.0.0.1:{port}", servers[side])
        threads = [threading.Thread(target=ingest, args=(side,)) for side in ports]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for server in servers.values():
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)

    assert errors == []
    given = {side: {item["external_id"]: item["id"] for item in items}
             for side, items in answers.items()}
    assert len(given["a"]) == len(given["b"]) == 400
    assert all(given["a"][key] == given["b"][key] for key in given["a"] if key in given["b"])
    created = sum(item["status"] == "created" for items in answers.values() for item in items)
    assert created == 600  # 200 shared, 200 of each side's own
    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        stored = dict(conn.execute(sa.text("SELECT external_id, id FROM decisions")).all())
        outputs = conn.execute(sa.text("SELECT count(*) FROM agent_outputs")).scalar()
        results = conn.execute(sa.text("SELECT count(*) FROM outcomes")).scalar()
    engine.dispose()
    assert stored == {**given["a"], **given["b"]}
    assert (len(stored), outputs, results) == (600, 600, 8)
