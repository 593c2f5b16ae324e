"""The client's limits: the budget counts every HTTP attempt and refuses an oversized request
before it goes out; timeouts and the per-call deadline against a real silent socket; the cache's
size limit; retry warnings on a named logger."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.errors import BudgetExceeded, LLMError
from agents.llm import Budget, request_tokens
from agents.llm_cache import ResponseCache
from agents.llm_retry import LOGGER_NAME

ASK = [{"role": "user", "content": "BUY or SELL?"}]


# -- budget ---------------------------------------------------------------------------------

def test_max_calls_counts_every_http_attempt(llm_api, make_client, fail):
    route = llm_api.post("/chat/completions").mock(return_value=fail(500, "down"))
    client = make_client(budget=Budget(max_calls=1), attempts=5)
    with pytest.raises(BudgetExceeded, match=(
            r"^LLM budget spent: 1 calls made, max_calls is 1 \(raise \[llm\] max_calls in "
            r"promptloop.toml\); the last attempt failed \(500 Internal Server Error\)$")):
        client.chat(ASK)
    assert route.call_count == 1 and client.usage.calls == 1


def test_retries_are_counted_as_calls(llm_api, make_client, reply, fail):
    llm_api.post("/chat/completions").mock(side_effect=[fail(503), fail(429), reply("ok")])
    client = make_client(budget=Budget(max_calls=3))
    assert client.chat(ASK).text == "ok"
    assert client.usage.calls == 3 and client.remaining_calls == 0


def test_an_oversized_request_is_refused_before_it_is_sent(llm_api, make_client, reply):
    route = llm_api.post("/chat/completions").mock(return_value=reply("ok"))
    client = make_client(budget=Budget(max_tokens=1000))
    huge = [{"role": "user", "content": "x" * 40_000}]  # about 10,000 tokens
    with pytest.raises(BudgetExceeded, match=(
            "^LLM request not sent: it needs about 10000 tokens and 1000 of max_tokens 1000 "
            "are left")):
        client.chat(huge)
    assert route.call_count == 0 and client.usage.calls == 0


def test_the_estimate_counts_what_is_left_and_the_answer_cap(llm_api, make_client, reply):
    route = llm_api.post("/chat/completions").mock(
        return_value=reply("ok", prompt_tokens=80, completion_tokens=10))
    client = make_client(budget=Budget(max_tokens=100))
    client.chat(ASK)
    assert client.remaining_tokens == 10
    with pytest.raises(BudgetExceeded, match="needs about 53 tokens and 10 of max_tokens"):
        client.chat(ASK, max_tokens=50)
    assert route.call_count == 1


def test_request_tokens_is_about_four_characters_per_token():
    assert request_tokens([{"role": "system", "content": "a" * 400},
                           {"role": "user", "content": "b" * 400}]) == 200
    assert request_tokens(ASK, max_tokens=64) == 3 + 64


def test_remaining_is_none_without_a_limit(make_client):
    client = make_client(budget=Budget())
    assert (client.remaining_calls, client.remaining_tokens) == (None, None)


# -- timeouts and the deadline against a real socket that never answers ------------------------

class SilentServer:
    """Accepts connections on 127.0.0.1 and never sends a byte."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    with SilentServer() as server:
        yield server


def test_a_silent_endpoint_times_out_on_read_and_is_retried(silent, make_client, sleeps):
    client = make_client(base_url=silent.url, timeout=0.2, connect_timeout=2.0, deadline=60.0,
                         attempts=3)
    with pytest.raises(LLMError) as caught:
        client.chat(ASK)
    assert str(caught.value) == (
        "LLM request timed out after 3 attempts (no answer within 0.2s, [llm] timeout) at "
        f"{silent.url}/chat/completions")
    assert len(silent.accepted) == 3 and len(sleeps) == 2


def test_an_endpoint_that_never_accepts_times_out_on_connect(make_client, sleeps):
    # A listening socket whose one-connection queue is full: the kernel drops the next SYNs,
    # so a client's connect hangs until its connect timeout.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    filler = socket.create_connection(server.getsockname())
    url = f"http://127.0.0.1:{server.getsockname()[1]}/v1"
    try:
        with pytest.raises(LLMError) as caught:
            make_client(base_url=url, connect_timeout=0.2, timeout=30.0, attempts=2).chat(ASK)
    finally:
        filler.close()
        server.close()
    assert str(caught.value) == (
        "LLM request timed out after 2 attempts (no connection within 0.2s, "
        f"[llm] connect_timeout) at {url}/chat/completions")


def test_the_deadline_bounds_the_whole_call_across_retries(silent, make_client, sleeps):
    # Each attempt waits at least 0.3 s for an answer that never comes, so a deadline of
    # 1 s leaves room for 4 attempts at most, whatever the machine's speed (fewer when the
    # planned backoff would end past it); without the deadline all 20 would be made.
    client = make_client(base_url=silent.url, timeout=0.3, deadline=1.0, attempts=20)
    with pytest.raises(LLMError) as caught:
        client.chat(ASK)
    message = str(caught.value)
    assert message.startswith("LLM request timed out ")  # "after N attempts" when N > 1
    assert message.endswith("; stopped at the call's deadline of 1s ([llm] deadline)")
    assert 1 <= len(silent.accepted) <= 4
    assert client.usage.calls == len(silent.accepted)


def test_no_wait_is_slept_past_the_deadline(llm_api, make_client, fail, sleeps):
    route = llm_api.post("/chat/completions").mock(
        return_value=fail(429, "slow down", headers={"Retry-After": "20"}))
    with pytest.raises(LLMError, match=r"429 Too Many Requests .*deadline of 10s"):
        make_client(deadline=10.0, attempts=5).chat(ASK)
    assert route.call_count == 1 and sleeps == []


def test_the_timeouts_reach_the_http_client(make_client):
    from agents.llm_http import attempt_timeout

    timeout = attempt_timeout(3.0, 45.0, None)
    assert (timeout.connect, timeout.read) == (3.0, 45.0)
    cut = attempt_timeout(3.0, 45.0, 2.5)  # what is left of the deadline wins
    assert (cut.connect, cut.read) == (2.5, 2.5)


# -- the cache's size limit ---------------------------------------------------------------

def _fill(cache: ResponseCache, keys: list[str], size: int = 1000) -> None:
    for n, key in enumerate(keys):
        cache.put(key, {"text": "x" * size})
        path = cache.folder / key[:2] / f"{key}.json"
        os.utime(path, ns=(n * 10**9, n * 10**9))  # a distinct age per entry, oldest first


def test_the_cache_evicts_the_oldest_entries_beyond_its_limit(tmp_path: Path):
    cache = ResponseCache(tmp_path / "c", max_bytes=5_500)
    keys = [f"{n:02d}" + "k" * 62 for n in range(6)]
    _fill(cache, keys[:5])
    assert all(cache.get(key) for key in keys[:5])  # 5 x 1,013 bytes: within the limit
    _fill(cache, keys[5:])  # 6,078 bytes: pruned to 90 % of the limit, oldest first
    left = {key for key in keys if (cache.folder / key[:2] / f"{key}.json").exists()}
    assert left == set(keys[2:])


def test_a_hit_makes_an_entry_recent(tmp_path: Path):
    cache = ResponseCache(tmp_path / "c", max_bytes=5_500)
    keys = [f"{n:02d}" + "k" * 62 for n in range(6)]
    _fill(cache, keys[:5])
    assert cache.get(keys[0])  # touched: now the most recent
    cache.put(keys[5], {"text": "x" * 1000})
    assert cache.get(keys[0]) is not None and cache.get(keys[1]) is None


def test_the_client_applies_the_configured_limit(llm_api, make_client, reply, tmp_path):
    llm_api.post("/chat/completions").mock(return_value=reply("y" * 600))
    client = make_client(cache=True, cache_max_mb=0.002)  # 2,000 bytes: three answers
    for n in range(6):
        client.chat([{"role": "user", "content": f"question {n}"}])
    total = sum(f.stat().st_size for f in (tmp_path / "llm-cache").rglob("*.json"))
    assert 0 < total <= 2000


# -- retry warnings -----------------------------------------------------------------------

def test_retry_warnings_go_to_the_named_logger_only(llm_api, make_client, reply, fail, caplog,
                                                    capsys):
    llm_api.post("/chat/completions").mock(side_effect=[fail(500), reply("ok")])
    with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
        make_client().chat(ASK)
    [record] = [r for r in caplog.records if r.name == LOGGER_NAME]
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith(
        "LLM call failed (500 Internal Server Error), retry 1 of 4 in ")
    assert capsys.readouterr().out == ""
