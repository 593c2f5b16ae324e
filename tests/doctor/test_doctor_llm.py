"""doctor's LLM checks against a real local HTTP endpoint (endpoint_stub.py): reachable,
the model listed, a structured answer, the response formats honoured; a dead endpoint,
a model not listed, a server without json_schema; the key's presence, never its value."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pytest
from endpoint_stub import Endpoint

from agents.doctor import Check, DoctorOptions, run_checks

SECRET = "sk-test-DO-NOT-SHOW-4f9a"


def llm_checks(workspace: Path, **options: object) -> dict[str, Check]:
    checks = run_checks(workspace, DoctorOptions(**options))  # type: ignore[arg-type]
    return {c.name: c for c in checks if c.name.startswith("llm")}


@pytest.fixture
def point_at(monkeypatch: pytest.MonkeyPatch):
    def point(url: str, key: str | None = SECRET) -> None:
        monkeypatch.setenv("OPENAI_BASE_URL", url)
        if key:
            monkeypatch.setenv("OPENAI_API_KEY", key)

    return point


def test_a_working_endpoint_passes_every_check(workspace: Path, endpoint, point_at) -> None:
    point_at(endpoint.url)
    checks = llm_checks(workspace)
    assert {name: c.status for name, c in checks.items()} == dict.fromkeys(checks, "ok")
    assert checks["llm key"].detail == "set (from OPENAI_API_KEY; the value is not shown)"
    assert checks["llm endpoint"].detail.startswith(f"{endpoint.url} answers, 1 models listed")
    assert checks["llm model"].detail == "gpt-4o-mini listed"
    assert checks["llm structured answer"].detail.startswith(
        'gpt-4o-mini answered {"ok":true} in ')
    assert checks["llm response formats"].detail == "honours json_schema, json_object, plain"
    formats = [body.get("response_format", {}).get("type") for method, _, body
               in endpoint.requests if method == "POST"]
    assert formats == ["json_schema", "json_schema", "json_object", None]
    assert all(body.get("max_tokens") == 16 for m, _, body in endpoint.requests if m == "POST")


def test_the_key_is_never_shown(workspace: Path, endpoint, point_at) -> None:
    point_at(endpoint.url)
    everything = json.dumps([asdict(c) for c in run_checks(workspace, DoctorOptions())])
    assert SECRET not in everything and SECRET[:12] not in everything
    assert "OPENAI_API_KEY" in everything


def test_a_key_in_the_settings_file_is_named_not_shown(workspace: Path, endpoint,
                                                       point_at) -> None:
    point_at(endpoint.url, key=None)
    config = workspace / "promptloop.toml"
    config.write_text(config.read_text().replace("[llm]\n", f'[llm]\napi_key = "{SECRET}"\n'))
    check = llm_checks(workspace, offline=True)["llm key"]
    assert check.detail == "set (from [llm] api_key in promptloop.toml; the value is not shown)"


def test_no_key_for_a_local_server_is_fine(workspace: Path, endpoint, point_at) -> None:
    point_at(endpoint.url, key=None)
    check = llm_checks(workspace)["llm key"]
    assert check.status == "ok" and check.detail.startswith("not set; fine for a local server")


def test_no_llm_configured_skips_the_endpoint_checks(workspace: Path) -> None:
    checks = llm_checks(workspace)
    assert {c.status for c in checks.values()} == {"skipped"}
    assert checks["llm endpoint"].detail == "no LLM configured"


def test_offline_makes_no_request(workspace: Path, endpoint, point_at) -> None:
    point_at(endpoint.url)
    checks = llm_checks(workspace, offline=True)
    assert checks["llm key"].status == "ok"
    assert [c.detail for n, c in checks.items() if n != "llm key"] == ["--offline"] * 4
    assert endpoint.requests == []


def test_a_dead_endpoint(workspace: Path, dead_url: str, point_at) -> None:
    point_at(dead_url)
    checks = llm_checks(workspace)
    assert checks["llm endpoint"].status == "fail"
    assert checks["llm endpoint"].detail.startswith(f"{dead_url} unreachable")
    assert checks["llm endpoint"].fix == (
        "start the server, or fix OPENAI_BASE_URL (or [llm] base_url)")
    for name in ("llm model", "llm structured answer", "llm response formats"):
        assert checks[name] == Check(name, "skipped", "the endpoint is not reachable")


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A port that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/v1"
    for conn in accepted:
        conn.close()
    server.close()


def test_a_silent_endpoint_times_out(workspace: Path, silent_url: str, point_at) -> None:
    point_at(silent_url)
    check = llm_checks(workspace, timeout=0.3)["llm endpoint"]
    assert check.status == "fail" and check.detail.startswith(f"{silent_url} timed out")


def test_a_model_not_listed(workspace: Path, point_at) -> None:
    with Endpoint(models=["qwen2.5:7b", "llama3"]) as server:
        point_at(server.url)
        check = llm_checks(workspace)["llm model"]
    assert check.status == "fail"
    assert check.detail == f"gpt-4o-mini not served by {server.url} (it lists: qwen2.5:7b, llama3)"
    assert check.fix == "set [llm] model and [agents.X] model to a listed model, or pass --model"


def test_an_agent_model_not_listed(workspace: Path, endpoint, point_at) -> None:
    point_at(endpoint.url)
    config = workspace / "promptloop.toml"
    config.write_text(config.read_text().replace('temperature = 0.1', 'temperature = 0.1\n'
                                                 'model = "gpt-9"', 1).replace(
        '[agents.RiskManager]\nprompt = "prompts/RiskManager.md"\nmodel = "gpt-4o-mini"\n',
        '[agents.RiskManager]\nprompt = "prompts/RiskManager.md"\n'))
    check = llm_checks(workspace)["llm model"]
    assert check.status == "fail" and check.detail.startswith("gpt-9 not served")


def test_an_endpoint_without_json_schema(workspace: Path, point_at) -> None:
    with Endpoint(json_schema=False) as server:
        point_at(server.url)
        checks = llm_checks(workspace)
    assert checks["llm structured answer"].status == "ok"  # the client fell back
    formats = checks["llm response formats"]
    assert formats.status == "ok"
    assert formats.detail == ("honours json_object, plain; json_schema refused (HTTP 400) "
                              "(structured answers fall back to json_object)")


def test_an_endpoint_refusing_every_call(workspace: Path, point_at) -> None:
    class Broken(Endpoint):
        def answer(self, method: str, path: str, body: dict) -> tuple[int, dict]:
            if method == "POST":
                return 401, {"error": {"message": "bad key"}}
            return super().answer(method, path, body)

    with Broken() as server:
        point_at(server.url)
        checks = llm_checks(workspace)
    assert checks["llm structured answer"].status == "fail"
    assert "401" in checks["llm structured answer"].detail
    assert checks["llm response formats"].status == "fail"
    assert checks["llm response formats"].detail.startswith("no format works (json_schema: "
                                                            "failed (HTTP 401)")
