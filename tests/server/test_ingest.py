"""POST /v1/decisions and /v1/outcomes: per-item answers, idempotency, refusals that write
nothing."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from server_support import decision


def post(client: TestClient, items: list, kind: str = "decisions", **kwargs):
    return client.post(f"/v1/{kind}", json={kind: items}, **kwargs)


def stored(client: TestClient) -> list[dict]:
    answer = client.get("/v1/decisions", params={"limit": 500})
    assert answer.status_code == 200, answer.text
    return answer.json()["decisions"]


def test_a_batch_is_answered_per_item_and_a_retry_duplicates_nothing(client) -> None:
    batch = [decision(f"bot-7:{n}", n) for n in range(1, 4)]
    first = post(client, batch)
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["created"], body["duplicates"]) == (3, 0)
    assert [item["status"] for item in body["items"]] == ["created"] * 3
    assert [item["external_id"] for item in body["items"]] == ["bot-7:1", "bot-7:2", "bot-7:3"]
    retry = post(client, batch + [decision("bot-7:4", 4)])
    assert [item["status"] for item in retry.json()["items"]] == [
        "duplicate", "duplicate", "duplicate", "created"]
    assert [i["id"] for i in retry.json()["items"][:3]] == [i["id"] for i in body["items"]]
    assert len(stored(client)) == 4


def test_outcomes_by_external_id_or_id_are_idempotent(client) -> None:
    ids = [item["id"] for item in post(client, [decision("a", 1), decision("b", 2)]).json()[
        "items"]]
    outcomes = [{"external_id": "a", "outcome_type": "return_24h", "outcome_value": 0.02},
                {"decision_id": ids[1], "outcome_type": "return_24h", "outcome_value": -0.01}]
    first = post(client, outcomes, "outcomes")
    assert first.status_code == 200, first.text
    assert [(i["decision_id"], i["status"]) for i in first.json()["items"]] == [
        (ids[0], "created"), (ids[1], "created")]
    again = post(client, outcomes, "outcomes")
    assert [i["status"] for i in again.json()["items"]] == ["duplicate", "duplicate"]
    changed = post(client, [{**outcomes[0], "outcome_value": 0.5}], "outcomes")
    assert changed.status_code == 409
    assert "already has an outcome of type 'return_24h'" in changed.json()["error"]["message"]
    values = {d["external_id"]: d["outcomes"]["return_24h"]["value"] for d in stored(client)}
    assert values == {"a": 0.02, "b": -0.01}


def test_malformed_json_is_400_and_writes_nothing(client) -> None:
    answer = client.post("/v1/decisions", content=b'{"decisions": [', headers={
        "Content-Type": "application/json"})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "malformed_json"
    assert error["message"].startswith("the body is not valid JSON (Expecting value at line 1")
    assert stored(client) == []


def test_a_body_nested_too_deeply_is_400_not_a_crash(client) -> None:
    body = b'{"decisions": [{"context": ' + b"[" * 100_000 + b"]" * 100_000 + b"}]}"
    answer = client.post("/v1/decisions", content=body)
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == (
        "the body is nested too deeply; nothing was recorded")


def test_a_body_that_is_not_utf8_is_400(client) -> None:
    answer = client.post("/v1/decisions", content=b'{"decisions": ["caf\xe9"]}')
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == "the body is not UTF-8 text"


def test_a_body_of_the_wrong_shape_is_422(client) -> None:
    answer = client.post("/v1/decisions", json=[decision("a")])
    assert answer.status_code == 422
    assert answer.json()["error"]["message"] == (
        'the body must be a JSON object {"decisions": [...]}; nothing was recorded')


def test_bad_items_are_all_named_with_their_field_and_nothing_is_written(client) -> None:
    batch = [decision("ok", 1), decision("conf", 2, confidence="high"),
             decision(None, 3), decision("agent", 4, agent="Nobody"),
             decision("time", 5, timestamp="2026-01-05T10:00:00"),
             decision("list", 6, agent=["MarketAnalyst"])]
    answer = post(client, batch)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid_input"
    assert [(i["item"], i["field"]) for i in error["items"]] == [
        (2, "confidence"), (3, "external_id"), (4, "agent"), (5, "timestamp"), (6, "agent")]
    assert error["items"][0]["message"] == "item 2: confidence: expected a number, got 'high'"
    assert error["items"][2]["message"].startswith(
        "item 4: agent_outputs[0]: agent: 'Nobody' is not an agent of this workspace")
    assert error["message"] == (
        "item 2: confidence: expected a number, got 'high' (and 4 more); nothing was recorded")
    assert stored(client) == []


def test_the_messages_are_those_of_promptloop_record(client, run_cli, tmp_path,
                                                      database_url) -> None:
    bad = decision("x", 1, action="MAYBE")
    source = tmp_path / "one.json"
    source.write_text(json.dumps([bad]))
    recorded = run_cli("record", str(source), "--database-url", database_url)
    answer = post(client, [bad])
    assert recorded.returncode == 1
    assert recorded.stderr.strip() == f"Error: {answer.json()['error']['items'][0]['message']}"


def test_an_oversized_batch_is_413_by_items_or_bytes(make_client) -> None:
    client = make_client(max_items=2, max_bytes=4000)
    by_items = post(client, [decision(f"n{n}", n) for n in range(3)])
    assert by_items.status_code == 413
    assert by_items.json()["error"]["message"] == (
        "batch too large: 3 items; at most 2 per batch; nothing was recorded")
    by_bytes = post(client, [decision("big", 1, reasoning="x" * 5000)])
    assert by_bytes.status_code == 413
    assert by_bytes.json()["error"]["code"] == "batch_too_large"
    assert stored(client) == []


def test_an_outcome_for_an_unknown_decision_names_the_item(client) -> None:
    post(client, [decision("a", 1)])
    answer = post(client, [
        {"external_id": "a", "outcome_type": "return_24h", "outcome_value": 0.01},
        {"external_id": "zz", "outcome_type": "return_24h", "outcome_value": 0.01}], "outcomes")
    assert answer.status_code == 422
    assert answer.json()["error"]["items"] == [
        {"item": 2, "field": None, "message": "item 2: no decision with external_id 'zz'"}]
    assert stored(client)[0]["outcomes"] == {}


def post_twice_at_once(client, items: list, kind: str) -> list:
    import threading

    barrier, answers = threading.Barrier(2), []

    def send() -> None:
        barrier.wait()
        answers.append(post(client, items, kind))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_two_identical_batches_at_once_store_everything_once(client) -> None:
    decisions = [decision(f"twin:{n}", n) for n in range(1, 41)]
    outcomes = [{"external_id": f"twin:{n}", "outcome_type": "return_24h",
                 "outcome_value": n / 1000} for n in range(1, 41)]
    for kind, items in (("decisions", decisions), ("outcomes", outcomes)):
        answers = post_twice_at_once(client, items, kind)
        assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
        assert sum(a.json()["created"] for a in answers) == 40
        assert [i["id"] for i in answers[0].json()["items"]] == [
            i["id"] for i in answers[1].json()["items"]]
    found = stored(client)
    assert len(found) == 40
    assert all(len(d["outcomes"]) == 1 for d in found)
