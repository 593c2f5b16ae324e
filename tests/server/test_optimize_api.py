"""POST /v1/optimize (admin) runs ``promptloop optimize`` in a background thread; GET it for
status; GET /v1/optimization-runs lists the stored runs. The LLM endpoint is the stub server
(real HTTP on 127.0.0.1); the workspace is a real git repository."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from llm_stub_server import StubLLM, answer

sys.path.insert(0, str(Path(__file__).parents[1] / "optimize"))
from optimize_support import (  # noqa: E402
    AGENT,
    API_KEY,
    GOOD_DIFF,
    configure,
    critic_answer,
    scripted,
    seed,
    seed_held_out,
)


def wait_for(client: TestClient, job_id: str, **headers: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/v1/optimize/{job_id}", headers=headers).json()
        if job["status"] in ("finished", "error"):
            return job
        time.sleep(0.05)
    raise AssertionError("the optimize job did not end")


def head(root: Path) -> str:
    return subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()


def test_heuristic_dry_run_is_queued_then_finished_and_listed(client: TestClient,
                                                              workspace: Path) -> None:
    base = head(workspace)
    started = client.post("/v1/optimize", json={"agent": AGENT, "engine": "heuristic",
                                                "dry_run": True})
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["status"] in ("queued", "running")
    assert started.headers["location"] == f"/v1/optimize/{job['id']}"

    done = wait_for(client, job["id"])
    assert done["status"] == "finished", done
    result = done["result"]
    assert result["agent"] == AGENT and result["engine"] == "heuristic"
    assert result["status"] in ("dry-run", "rejected") and result["applied"] is False
    if result["status"] == "dry-run":  # the CLI's policy, in the service's words
        assert result["reason"] == "dry_run" and result["message"] == "Nothing applied (dry_run)."
    else:
        assert result["reason"].startswith(("no change proposed", "no candidate passed"))
    assert head(workspace) == base
    runs = client.get("/v1/optimization-runs", params={"agent": AGENT}).json()["runs"]
    assert [run["run_id"] for run in runs] == [result["run_id"]]
    assert client.get("/v1/optimization-runs", params={"agent": "Nobody"}).json() == {"runs": []}


def test_llm_run_with_auto_apply_commits_the_critics_diff(
        make_client: Any, workspace: Path, database_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    configure(workspace, llm="timeout = 5.0")
    seed(database_url, failures=1)
    seed_held_out(database_url)  # the replay gate judges the candidate on these
    with StubLLM(scripted(answer(critic_answer(GOOD_DIFF)))) as stub:
        monkeypatch.setenv("OPENAI_BASE_URL", stub.url)
        monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
        client = make_client()
        job = client.post("/v1/optimize", json={"agent": AGENT, "auto_apply": True}).json()
        done = wait_for(client, job["id"])
    assert done["status"] == "finished", done
    result = done["result"]
    assert result["status"] == "applied" and result["engine"] == "llm"
    assert result["commit"] == head(workspace)
    assert "macd_hist" in (workspace / "prompts" / f"{AGENT}.md").read_text()
    assert API_KEY not in json.dumps(done)


def test_a_failed_run_is_an_error_status(make_client: Any, workspace: Path, database_url: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    seed(database_url, failures=1)
    with StubLLM([]) as stub:  # every call answered 400: the run fails for good
        monkeypatch.setenv("OPENAI_BASE_URL", stub.url)
        monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
        client = make_client()
        job = client.post("/v1/optimize", json={"agent": AGENT, "engine": "llm"}).json()
        done = wait_for(client, job["id"])
    assert done["status"] == "error" and done["error"], json.dumps(done)[:3000]
    assert done["result"] is None


@pytest.mark.parametrize(("body", "status", "needle"), [
    ({"agent": "Nobody"}, 404, "'Nobody' is not an agent"),
    ({"agent": AGENT, "auto_apply": True, "dry_run": True}, 422, "exclude each other"),
    ({"agent": AGENT, "engine": "magic"}, 422, "engine"),
    ({"agent": AGENT, "label": "no such/label"}, 422, "label"),
    ({"agent": AGENT, "surprise": 1}, 422, "surprise"),
])
def test_bad_requests_are_refused_and_queue_nothing(client: TestClient, body: dict[str, Any],
                                                     status: int, needle: str) -> None:
    answer_ = client.post("/v1/optimize", json=body)
    assert answer_.status_code == status, answer_.text
    assert needle in answer_.json()["error"]["message"]
    assert client.get("/v1/optimization-runs").json() == {"runs": []}


def test_optimize_needs_an_admin_key(client: TestClient, database_url: str) -> None:
    from tracker.keys import KeyStore
    from tracker.store import DecisionTracker

    tracker = DecisionTracker(database_url)
    _, secret = KeyStore(tracker.engine).create("reader", "read")
    tracker.close()
    auth = {"Authorization": f"Bearer {secret}"}
    assert client.post("/v1/optimize", json={"agent": AGENT}).status_code == 401
    refused = client.post("/v1/optimize", json={"agent": AGENT}, headers=auth)
    assert refused.status_code == 403
    assert client.get("/v1/optimization-runs", headers=auth).status_code == 200
    assert client.get("/v1/optimize/nope", headers=auth).status_code == 404
