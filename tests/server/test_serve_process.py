"""End to end: ``promptloop serve`` as a real process on a free loopback port; a client posts,
reads back, and the server stops on SIGTERM. The key's secret never reaches the log."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import httpx
from serve_process import free_port, start, wait_until_up
from server_support import decision


def test_serve_posts_and_reads_back_then_stops(workspace: Path, run_cli) -> None:
    made = run_cli("keys", "create", "--name", "bot", "--scope", "admin", "--json",
                   cwd=workspace)
    secret = json.loads(made.stdout)["secret"]
    port = free_port()
    server = start(workspace, port)
    base, auth = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {secret}"}
    try:
        wait_until_up(base, server)
        posted = httpx.post(f"{base}/v1/decisions", headers=auth,
                            json={"decisions": [decision("e2e-1"), decision("e2e-2", 2)]})
        assert posted.status_code == 200, posted.text
        assert posted.json()["created"] == 2
        assert httpx.get(f"{base}/v1/decisions", headers={
            "Authorization": "Bearer nope"}).status_code == 401
        listed = httpx.get(f"{base}/v1/decisions", headers=auth).json()["decisions"]
        assert [d["external_id"] for d in listed] == ["e2e-2", "e2e-1"]
        prompt = httpx.get(f"{base}/v1/prompts/TradingAdvisor", headers=auth)
        assert prompt.json()["version"] == "v1"
    finally:
        server.send_signal(signal.SIGTERM)
        log, _ = server.communicate(timeout=60)
    # uvicorn shuts down cleanly, then re-raises the signal it handled
    assert server.returncode in (0, -signal.SIGTERM), log
    assert "Application shutdown complete." in log
    assert f"on http://127.0.0.1:{port} (1 worker, loopback only)" in log
    assert secret not in log


def test_kill_9_during_ingestion_loses_no_acknowledged_decision(workspace: Path) -> None:
    """Batches go in while the server is killed; what was acknowledged is there after a
    restart, and retrying every batch stores each decision exactly once."""
    import threading

    batches = [[decision(f"k{b}:{n}", n) for n in range(20)] for b in range(30)]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start(workspace, port)
    acknowledged: dict[str, int] = {}

    def ingest() -> None:
        for batch in batches:
            try:
                answer = httpx.post(f"{base}/v1/decisions", json={"decisions": batch})
            except httpx.TransportError:
                return  # killed: this batch's answer is lost
            acknowledged.update({i["external_id"]: i["id"] for i in answer.json()["items"]})

    try:
        wait_until_up(base, server)
        client = threading.Thread(target=ingest)
        client.start()
        while len(acknowledged) < 60 and client.is_alive():
            time.sleep(0.01)
        server.kill()
        client.join()
    finally:
        server.kill()
        server.communicate(timeout=60)
    assert 60 <= len(acknowledged) < 600  # killed during ingestion
    server = start(workspace, port)
    try:
        wait_until_up(base, server)
        answers = [httpx.post(f"{base}/v1/decisions", json={"decisions": batch}).json()
                   for batch in batches]
        listed = httpx.get(f"{base}/v1/decisions", params={"limit": 500}).json()
        more = httpx.get(f"{base}/v1/decisions",
                         params={"limit": 500, "before": listed["next"]}).json()
    finally:
        server.terminate()
        server.communicate(timeout=60)
    ids = {i["external_id"]: i["id"] for a in answers for i in a["items"]}
    assert all(ids[key] == value for key, value in acknowledged.items())
    assert sum(a["duplicates"] for a in answers) >= len(acknowledged)
    stored = [d["external_id"] for d in listed["decisions"] + more["decisions"]]
    assert len(stored) == len(set(stored)) == 600
