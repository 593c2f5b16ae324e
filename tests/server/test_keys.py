"""Keys: created with the secret shown once and stored hashed; Bearer auth with scopes;
401 and 403 as JSON errors; beyond loopback never open."""

from __future__ import annotations

import json

import sqlalchemy as sa
from server_support import decision

from tracker.keys import KeyStore, hash_secret
from tracker.store import DecisionTracker


def create_key(run_cli, workspace, name: str, scope: str) -> str:
    made = run_cli("keys", "create", "--name", name, "--scope", scope, "--json", cwd=workspace)
    assert made.returncode == 0, made.stderr
    return str(json.loads(made.stdout)["secret"])


def test_keys_create_list_revoke_and_only_the_hash_is_stored(run_cli, workspace) -> None:
    made = run_cli("keys", "create", "--name", "bot-7", "--scope", "ingest", cwd=workspace)
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    assert secret.startswith("pl_") and len(secret) > 40
    assert "shown only now" in made.stderr
    listed = run_cli("keys", "list", "--json", cwd=workspace)
    [info] = json.loads(listed.stdout)
    assert (info["name"], info["scope"], info["revoked_at"]) == ("bot-7", "ingest", None)
    assert secret not in listed.stdout and info["prefix"] == secret[:10]
    database = workspace / ".promptloop" / "tracker.db"
    engine = sa.create_engine(f"sqlite:///{database}")
    with engine.connect() as conn:
        hashes = list(conn.execute(sa.text("SELECT secret_hash FROM api_keys")).scalars())
    engine.dispose()
    assert hashes == [hash_secret(secret)]
    assert secret.encode() not in database.read_bytes()
    again = run_cli("keys", "create", "--name", "bot-7", "--scope", "read", cwd=workspace)
    assert (again.returncode, again.stderr) == (1, "Error: a key named 'bot-7' already exists\n")
    revoked = run_cli("keys", "revoke", "bot-7", cwd=workspace)
    assert revoked.stdout == "Revoked key bot-7.\n"
    assert json.loads(run_cli("keys", "list", "--json", cwd=workspace).stdout)[0]["revoked_at"]
    missing = run_cli("keys", "revoke", "nobody", cwd=workspace)
    assert (missing.returncode, missing.stderr) == (1, "Error: no key named 'nobody'\n")


def test_scopes_are_enforced_with_json_401_and_403(make_client, database_url) -> None:
    client = make_client()
    assert client.get("/v1/decisions").status_code == 200  # no keys, loopback: open
    store = KeyStore(DecisionTracker(database_url).engine)
    _, ingest = store.create("bot", "ingest")
    _, read = store.create("reader", "read")
    _, admin = store.create("root", "admin")

    def call(method: str, path: str, secret: str | None, **kwargs):
        headers = {} if secret is None else {"Authorization": f"Bearer {secret}"}
        return client.request(method, path, headers=headers, **kwargs)

    body = {"json": {"decisions": [decision("k1")]}}
    unauthorized = call("GET", "/v1/decisions", None)
    assert unauthorized.status_code == 401
    assert unauthorized.headers["WWW-Authenticate"] == "Bearer"
    assert unauthorized.json() == {"error": {
        "status": 401, "code": "unauthorized",
        "message": "an API key is required: send 'Authorization: Bearer <key>'"}}
    assert call("GET", "/v1/decisions", "pl_wrong").json()["error"]["message"] == (
        "unknown or revoked API key")
    forbidden = call("POST", "/v1/decisions", read, **body)
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["message"] == "key 'reader' has scope read; this needs ingest"
    assert call("GET", "/v1/decisions", ingest).status_code == 403
    assert call("POST", "/v1/decisions", ingest, **body).status_code == 200
    assert call("GET", "/v1/decisions", read).status_code == 200
    assert call("GET", "/v1/decisions", admin).status_code == 200
    store.revoke("bot")
    assert call("POST", "/v1/decisions", ingest, **body).status_code == 401
    assert client.get("/healthz").status_code == 200  # health stays open


def test_beyond_loopback_a_key_is_always_needed(make_client) -> None:
    client = make_client(public=True)
    assert client.get("/v1/decisions").status_code == 401


def test_serve_refuses_a_public_address_without_keys(run_cli, workspace) -> None:
    refused = run_cli("serve", "--host", "0.0.0.0", cwd=workspace)
    assert refused.returncode == 1
    assert refused.stderr == (
        "Error: refusing to listen on 0.0.0.0 without an API key: create one with "
        "'promptloop keys create --name NAME --scope ingest', or listen on 127.0.0.1\n")
