"""The dashboard in process: every page answers, untrusted text is escaped, login with keys,
admin only for promote and rollback, CSRF refusal, the static files shipped in the package."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from server_support import decision

from prompt_repo import PromptRepo
from prompt_repo.config import load_workspace
from tracker.keys import KeyStore

EVIL = "<script>alert('x')</script>"


def _post(client: TestClient, *items: dict) -> None:
    answer = client.post("/v1/decisions", json={"decisions": list(items)})
    assert answer.status_code == 200, answer.text


def _csrf(client: TestClient, page: str = "/") -> str:
    answer = client.get(page)
    assert answer.status_code == 200, answer.text
    found = re.search(r'name="csrf" value="([^"]+)"', answer.text)
    return found.group(1) if found else client.cookies["promptloop_csrf"]


def _wrong_call(external_id: str, n: int, reasoning: str) -> dict:
    outputs = [{"agent": "MarketAnalyst", "action": "BUY", "confidence": 0.9,
                "reasoning": reasoning}]
    return decision(external_id, n, action="BUY", confidence=0.9, reasoning=reasoning,
                    context={"note": reasoning}, agent_outputs=outputs)


def _recent(item: dict) -> dict:
    from datetime import UTC, datetime, timedelta

    item["timestamp"] = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    return item


def test_every_page_answers_and_escapes_untrusted_text(client: TestClient) -> None:
    _post(client, _recent(_wrong_call("evil-1", 1, EVIL)))
    outcome = {"external_id": "evil-1", "outcome_type": "return_24h", "outcome_value": -0.05}
    assert client.post("/v1/outcomes", json={"outcomes": [outcome]}).status_code == 200
    for page in ("/", "/agents/MarketAnalyst", "/agents/MarketAnalyst/prompt", "/runs",
                 "/fragments/decisions", "/login"):
        answer = client.get(page)
        assert answer.status_code == 200, (page, answer.text)
        assert "<script>alert" not in answer.text, page
        assert answer.headers["content-type"].startswith("text/html")
    agent_page = client.get("/agents/MarketAnalyst").text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in agent_page  # the failure case
    assert "Reliability diagram" in agent_page and "<svg" in agent_page
    assert 'hx-trigger="every 2s"' in client.get("/").text


def test_overview_lists_agents_with_interval(client: TestClient) -> None:
    items = [_recent(decision(f"d{n}", n, confidence=0.8)) for n in range(1, 5)]
    _post(client, *items)
    outcomes = [{"external_id": f"d{n}", "outcome_type": "return_24h",
                 "outcome_value": 0.05 if n % 2 else -0.05} for n in range(1, 5)]
    assert client.post("/v1/outcomes", json={"outcomes": outcomes}).status_code == 200
    page = client.get("/").text
    row = page[page.index('href="/agents/MarketAnalyst"'):].split("</tr>")[0]
    assert "50.0%" in row and "–" in row  # accuracy 2 of 4 and its Wilson interval
    assert "15.0% – 85.0%" in row


def test_unknown_agent_is_a_404_page(client: TestClient) -> None:
    answer = client.get("/agents/Nobody")
    assert answer.status_code == 404 and "no agent named &#39;Nobody&#39;" in answer.text


def test_static_files_are_shipped_and_nothing_else_is_served(client: TestClient) -> None:
    htmx = client.get("/static/htmx.min.js")
    assert htmx.status_code == 200 and "Zero-Clause BSD" in htmx.text[:300]
    assert client.get("/static/dashboard.css").status_code == 200
    assert client.get("/static/..%2Fapp.py").status_code == 404
    assert "cdn" not in client.get("/").text.lower()


def test_diff_between_two_chosen_versions(client: TestClient, workspace: Path) -> None:
    _commit_new_version(workspace, "MarketAnalyst", "A new rule: never trade <b>blind</b>.\n")
    page = client.get("/agents/MarketAnalyst/prompt", params={"a": "v1", "b": "v2"})
    assert page.status_code == 200
    added = '<span class="add">+A new rule: never trade &lt;b&gt;blind&lt;/b&gt;.</span>'
    assert added in page.text
    assert 'id="shadow"' not in page.text  # no candidate: nothing to compare
    with PromptRepo(load_workspace(workspace)) as repo:
        repo.labels().set("MarketAnalyst", "candidate", "v1")
    shadow = client.get("/agents/MarketAnalyst/prompt").text
    assert "candidate" in shadow and "on 0 paired decisions" in shadow
    same = client.get("/agents/MarketAnalyst/prompt", params={"a": "v2", "b": "v2"})
    assert "no difference" in same.text
    bad = client.get("/agents/MarketAnalyst/prompt", params={"a": "v9", "b": "v2"})
    assert bad.status_code == 200 and "there is no v9" in bad.text


def test_promote_forced_and_rollback_when_open(client: TestClient, workspace: Path) -> None:
    _commit_new_version(workspace, "MarketAnalyst", "Second version.\n")
    token = _csrf(client, "/agents/MarketAnalyst/prompt")
    refused = client.post("/agents/MarketAnalyst/promote",
                          data={"csrf": token, "source": "v1", "target": "production"})
    assert refused.status_code == 409 and "not promoted" in refused.text
    forced = client.post("/agents/MarketAnalyst/promote", data={
        "csrf": token, "source": "v1", "target": "production", "force": "on"})
    assert forced.status_code == 200 and "production now names" in forced.text
    assert client.get("/v1/prompts/MarketAnalyst").json()["version"] == "v1"
    rolled = client.post("/agents/MarketAnalyst/rollback", data={"csrf": token, "to": "v1"})
    assert rolled.status_code == 200 and "rolled back to v1" in rolled.text
    assert client.get("/v1/prompts/MarketAnalyst/versions").json()["versions"][0]["version"] == "v3"


def test_a_post_without_the_csrf_token_changes_nothing(client: TestClient,
                                                       workspace: Path) -> None:
    _commit_new_version(workspace, "MarketAnalyst", "Second version.\n")
    _csrf(client, "/agents/MarketAnalyst/prompt")
    for data in ({"to": "v1"}, {"to": "v1", "csrf": "forged"}):
        answer = client.post("/agents/MarketAnalyst/rollback", data=data)
        assert answer.status_code == 403 and "CSRF" in answer.text
    assert len(client.get("/v1/prompts/MarketAnalyst/versions").json()["versions"]) == 2


def test_with_keys_pages_need_a_login_and_actions_need_admin(client: TestClient,
                                                             workspace: Path) -> None:
    _commit_new_version(workspace, "MarketAnalyst", "Second version.\n")
    store = KeyStore(client.app.state.context.tracker.engine)  # type: ignore[attr-defined]
    _, read_secret = store.create("viewer", "read")
    _, admin_secret = store.create("boss", "admin")
    first = client.get("/agents/MarketAnalyst", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/login?next=/agents/MarketAnalyst"
    token = _csrf(client, "/login")
    wrong = client.post("/login", data={"csrf": token, "key": "pl_wrong", "next": "/"})
    assert wrong.status_code == 401 and "unknown or revoked" in wrong.text
    _login(client, token, read_secret)
    page = client.get("/agents/MarketAnalyst/prompt")
    assert page.status_code == 200 and "need an admin key" in page.text
    assert 'id="promote"' not in page.text
    denied = client.post("/agents/MarketAnalyst/promote",
                         data={"csrf": token, "source": "v1", "force": "on"})
    assert denied.status_code == 403 and "needs the admin scope" in denied.text
    bearer = {"Authorization": f"Bearer {read_secret}"}
    assert client.get("/v1/prompts/MarketAnalyst", headers=bearer).json()["version"] == "v2"
    _login(client, token, admin_secret)
    done = client.post("/agents/MarketAnalyst/promote",
                       data={"csrf": token, "source": "v1", "force": "on"})
    assert done.status_code == 200 and "production now names" in done.text


def test_login_cookie_is_httponly_and_next_stays_on_this_server(client: TestClient) -> None:
    store = KeyStore(client.app.state.context.tracker.engine)  # type: ignore[attr-defined]
    _, secret = store.create("viewer", "read")
    store.create("other", "read")  # keys stay configured after the viewer's is revoked
    token = _csrf(client, "/login")
    answer = client.post("/login", follow_redirects=False, data={
        "csrf": token, "key": secret, "next": "//evil.example/x"})
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    store.revoke("viewer")
    assert client.get("/", follow_redirects=False).status_code == 303


def _login(client: TestClient, token: str, secret: str) -> None:
    answer = client.post("/login", data={"csrf": token, "key": secret, "next": "/"},
                         follow_redirects=False)
    assert answer.status_code == 303, answer.text


def _commit_new_version(workspace: Path, agent: str, text: str) -> None:
    with PromptRepo(load_workspace(workspace)) as repo:
        repo.apply(agent, text, f"edit({agent}): a new version")
