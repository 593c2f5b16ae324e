"""The on-disk response cache: reruns make no HTTP call, entries are atomic, no secrets."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from pydantic import BaseModel

from agents.errors import InvalidStructuredAnswer
from agents.llm import Budget
from agents.llm_cache import ResponseCache, cache_key

ASK = [{"role": "user", "content": "BUY or SELL?"}]


class Verdict(BaseModel):
    action: str


def test_a_rerun_is_served_from_the_cache_with_zero_http_calls(llm_api, make_client, reply,
                                                                 tmp_path):
    route = llm_api.post("/chat/completions").mock(return_value=reply("HOLD"))
    first = make_client(cache=True).chat(ASK, temperature=0.0)
    assert route.call_count == 1 and first.cached is False

    again = make_client(cache=True)  # a new process would build a new client
    result = again.chat(ASK, temperature=0.0)
    assert route.call_count == 1
    assert (result.text, result.cached, result.prompt_tokens) == ("HOLD", True, 10)
    assert (again.usage.calls, again.usage.cached_calls) == (0, 1)


@pytest.mark.parametrize("change", [
    {"temperature": 0.9}, {"max_tokens": 10}, {"model": "other"},
    {"response_format": {"type": "json_object"}},
])
def test_any_parameter_change_misses_the_cache(llm_api, make_client, reply, change):
    route = llm_api.post("/chat/completions").mock(return_value=reply("HOLD"))
    client = make_client(cache=True)
    client.chat(ASK)
    client.chat(ASK, **change)
    assert route.call_count == 2


def test_another_endpoint_misses_the_cache(llm_api, make_client, reply, tmp_path):
    llm_api.post("/chat/completions").mock(return_value=reply("HOLD"))
    other = llm_api.post("http://other.test/v1/chat/completions").mock(return_value=reply("BUY"))
    folder = tmp_path / "shared-cache"
    make_client(cache_dir=folder).chat(ASK)
    assert make_client(cache_dir=folder, base_url="http://other.test/v1").chat(ASK).text == "BUY"
    assert other.call_count == 1


def test_no_cache_bypasses_reading(llm_api, make_client, reply):
    route = llm_api.post("/chat/completions").mock(return_value=reply("HOLD"))
    make_client(cache=True).chat(ASK)
    assert make_client(cache=True, use_cache=False).chat(ASK).cached is False
    assert route.call_count == 2


def test_cached_answers_cost_no_budget(llm_api, make_client, reply):
    route = llm_api.post("/chat/completions").mock(return_value=reply("HOLD"))
    make_client(cache=True).chat(ASK)
    client = make_client(cache=True, budget=Budget(max_calls=0, max_tokens=0))
    for _ in range(3):
        assert client.chat(ASK).cached
    assert route.call_count == 1 and client.usage.cached_calls == 3


def test_an_unwritable_cache_does_not_lose_the_answer(llm_api, make_client, reply, tmp_path,
                                                       caplog):
    llm_api.post("/chat/completions").mock(return_value=reply("HOLD"))
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    assert make_client(cache_dir=blocker).chat(ASK).text == "HOLD"
    assert "LLM cache not written" in caplog.text


def test_the_cache_holds_no_key(llm_api, make_client, reply, settings, tmp_path):
    llm_api.post("/chat/completions").mock(return_value=reply("HOLD"))
    make_client(cache=True).chat(ASK)
    files = list((tmp_path / "llm-cache").rglob("*"))
    assert any(f.suffix == ".json" for f in files)
    for path in files:
        if path.is_file():
            assert settings.api_key not in path.read_text()


def test_a_repaired_structured_answer_reruns_with_zero_calls(llm_api, make_client, reply):
    route = llm_api.post("/chat/completions").mock(
        side_effect=[reply("garbage"), reply('{"action": "BUY"}')])
    assert make_client(cache=True).structured(ASK, Verdict)[0].action == "BUY"
    assert make_client(cache=True).structured(ASK, Verdict)[0].action == "BUY"
    assert route.call_count == 2


def test_an_invalid_structured_answer_is_not_cached(llm_api, make_client, reply):
    route = llm_api.post("/chat/completions").mock(return_value=reply("garbage"))
    with pytest.raises(InvalidStructuredAnswer):
        make_client(cache=True).structured(ASK, Verdict)
    route.mock(return_value=reply('{"action": "SELL"}'))
    assert make_client(cache=True).structured(ASK, Verdict)[0].action == "SELL"
    assert route.call_count == 3


def test_a_corrupt_entry_is_a_miss(tmp_path):
    cache = ResponseCache(tmp_path)
    key = cache_key("http://x", "m", ASK, 0.2, None, None)
    cache.put(key, {"text": "ok"})
    next(tmp_path.rglob(f"{key}.json")).write_text("{trunc")
    assert cache.get(key) is None
    assert cache.get("0" * 64) is None


HAMMER = """
import sys
from pathlib import Path
from agents.llm_cache import ResponseCache
folder, key, writer = sys.argv[1], sys.argv[2], sys.argv[3]
cache = ResponseCache(Path(folder))
for i in range(200):
    cache.put(key, {"text": f"{writer}-{i}" * 500})
    entry = cache.get(key)
    assert entry is not None and entry["text"].count("-") == 500, entry
"""


def test_concurrent_processes_never_see_a_partial_entry(tmp_path):
    key = cache_key("http://x", "m", ASK, 0.2, None, None)
    workers = [subprocess.Popen([sys.executable, "-c", HAMMER, str(tmp_path), key, str(n)])
               for n in range(4)]
    assert [worker.wait(timeout=120) for worker in workers] == [0, 0, 0, 0]
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [f"{key}.json"]
    assert json.loads(next(tmp_path.rglob("*.json")).read_text())["text"].endswith("-199")
