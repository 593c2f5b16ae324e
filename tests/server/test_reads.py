"""GET /v1/prompts (by label or version, ETag and 304), versions, decisions (filters, paging),
analysis; /healthz, /readyz and /openapi.json."""

from __future__ import annotations

from pathlib import Path

from server_support import decision

from prompt_repo.repo import PromptRepo


def new_version(workspace: Path, text: str) -> str:
    with PromptRepo.open(workspace) as repo:
        base = repo.read("MarketAnalyst").sha
        return repo.apply("MarketAnalyst", text, "MarketAnalyst: stricter", base=base)


def test_a_prompt_by_label_with_etag_and_304(client, workspace, run_cli) -> None:
    first = client.get("/v1/prompts/MarketAnalyst")
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["label"], body["version"]) == ("production", "v1")
    assert body["text"] == (workspace / body["path"]).read_text()
    assert first.headers["ETag"] == f'"{body["sha"]}"'
    cached = client.get("/v1/prompts/MarketAnalyst", headers={"If-None-Match": first.headers[
        "ETag"]})
    assert (cached.status_code, cached.content) == (304, b"")
    newer = new_version(workspace, "Only BUY above the 200-day average.\n")
    moved = client.get("/v1/prompts/MarketAnalyst", headers={"If-None-Match": first.headers[
        "ETag"]})
    assert (moved.status_code, moved.json()["sha"], moved.json()["version"]) == (200, newer, "v2")
    label = run_cli("label", "set", "MarketAnalyst", "candidate", "v1", cwd=workspace)
    assert label.returncode == 0, label.stderr
    candidate = client.get("/v1/prompts/MarketAnalyst", params={"label": "candidate"})
    assert candidate.json()["sha"] == body["sha"]
    pinned = client.get("/v1/prompts/MarketAnalyst", params={"version": "v1"})
    assert pinned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    versions = client.get("/v1/prompts/MarketAnalyst/versions").json()["versions"]
    assert [(v["version"], v["labels"]) for v in versions] == [
        ("v2", ["production"]), ("v1", ["candidate"])]


def test_unknown_agent_label_or_version_is_404(client) -> None:
    unknown = client.get("/v1/prompts/Nobody")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"].startswith("unknown agent 'Nobody'")
    assert client.get("/v1/prompts/MarketAnalyst", params={"label": "staging"}).json()[
        "error"]["message"] == "MarketAnalyst has no label 'staging' (see: promptloop label list)"
    assert client.get("/v1/prompts/MarketAnalyst", params={"version": "v9"}).status_code == 404
    assert client.get("/v1/prompts/MarketAnalyst", params={"label": "Not A Label"}).json() == {
        "error": {"status": 422, "code": "invalid_input",
                  "message": "label: 'Not A Label' is not a label name"}}


def test_decisions_filter_and_page(client) -> None:
    batch = [decision(f"d{n}", n, symbol="ETHUSDT" if n % 2 else "BTCUSDT") for n in range(1, 8)]
    assert client.post("/v1/decisions", json={"decisions": batch}).status_code == 200
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"before": cursor} if cursor else {})}
        page = client.get("/v1/decisions", params=params).json()
        seen += [d["external_id"] for d in page["decisions"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == [f"d{n}" for n in range(7, 0, -1)]
    eth = client.get("/v1/decisions", params={"symbol": "ETHUSDT"}).json()["decisions"]
    assert [d["external_id"] for d in eth] == ["d7", "d5", "d3", "d1"]
    bad = client.get("/v1/decisions", params={"limit": 0})
    assert bad.status_code == 422
    assert bad.json()["error"]["items"][0]["field"] == "limit"


def test_analysis_is_the_analyze_json_document(client, workspace, run_cli,
                                               database_url) -> None:
    client.post("/v1/decisions", json={"decisions": [decision(f"a{n}", n) for n in range(5)]})
    served = client.get("/v1/analysis", params={"days": 3650, "until": "2026-02-01T00:00:00Z"})
    assert served.status_code == 200, served.text
    printed = run_cli("analyze", "--json", "--no-store", "--days", "3650", "--until",
                      "2026-02-01T00:00:00Z", "--database-url", database_url, cwd=workspace)
    import json

    assert served.json() == json.loads(printed.stdout)
    assert served.json()["agents"]["MarketAnalyst"]["decisions"] == 5


def test_health_readiness_and_openapi(client, workspace) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready",
                                            "checks": {"database": "ok", "git": "ok"}}
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/decisions", "/v1/outcomes", "/v1/prompts/{agent}", "/v1/analysis"} <= set(paths)
    assert client.get("/docs").status_code == 404  # its page would load scripts from a CDN
    (workspace / ".git").rename(workspace / ".git-away")
    broken = client.get("/readyz")
    assert broken.status_code == 503
    assert broken.json()["checks"]["database"] == "ok"
    assert broken.json()["checks"]["git"] != "ok"
