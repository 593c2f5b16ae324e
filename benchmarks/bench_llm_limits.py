"""The LLM client's limits: what the secret scrub costs, how long a dead endpoint holds a call,
and what an oversized request costs before it is refused.

1. Scrubbing every response body (the key plain, URL-encoded or JSON-escaped) against a plain
   ``bytes.replace`` of the literal key as the baseline, on bodies of 1 KB to 1 MB.
2. A socket on 127.0.0.1 that accepts and never answers, read timeout 1 s, 5 attempts with the
   real backoff (1 s, 2 s, 4 s, 8 s): without a deadline (the baseline, as before) and with
   ``[llm] deadline = 3``.
3. A 22.8 MB request with ``max_tokens = 200000``: refused before sending (requests sent: 0).

Run: ``.venv/bin/python benchmarks/bench_llm_limits.py``
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.errors import AgentError  # noqa: E402
from agents.llm import LLMClient, RetryPolicy  # noqa: E402
from agents.llm_secrets import Scrubber  # noqa: E402
from prompt_repo.config import LLMSettings  # noqa: E402

KEY = "sk-proj-" + "A1b2C3d4" * 20  # a realistic 168-character key


def bench_scrub() -> None:
    scrubber = Scrubber([KEY])
    print(f"{'body':>18}  {'bytes.replace (baseline)':>26}  {'Scrubber.body':>14}  ratio")
    for size in (1_000, 100_000, 1_000_000):
        for kind, word in (("plain", b"lorem ipsum dolor sit amet "),
                           ("\\u escapes", b"caf\\u00e9 ipsum dolor sit amet ")):
            body = b'{"content": "' + word * (size // len(word)) + KEY.encode() + b'"}'
            base = _best(lambda body=body: body.replace(KEY.encode(), b"***"))
            ours = _best(lambda body=body: scrubber.body(body))
            print(f"{size:>8} {kind:>9}  {base * 1e3:>23.3f} ms  {ours * 1e3:>11.3f} ms  "
                  f"{ours / base:5.1f}x")


def bench_dead_endpoint() -> None:
    import agents.llm_http  # noqa: F401 (openai imported before the clock starts)

    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}/v1"
    for label, deadline in (("no deadline (baseline)", 1e9), ("deadline = 3 s", 3.0)):
        settings = LLMSettings(model="m", base_url=url, api_key="sk-bench-key", timeout=1.0,
                               connect_timeout=1.0, deadline=deadline)
        client = LLMClient(settings, retry=RetryPolicy(attempts=5))
        before = len(held)
        start = time.perf_counter()
        try:
            client.chat([{"role": "user", "content": "hello"}])
        except AgentError:
            pass
        elapsed = time.perf_counter() - start
        print(f"dead endpoint, {label:<24} {elapsed:6.2f} s, {len(held) - before} attempts")
    server.close()


def bench_oversized() -> None:
    settings = LLMSettings(model="m", base_url="http://127.0.0.1:9/v1", api_key="sk-bench-key",
                           max_tokens=200_000)
    client = LLMClient(settings)
    huge = [{"role": "user", "content": "x" * 22_800_000}]
    start = time.perf_counter()
    try:
        client.chat(huge)
    except AgentError as exc:
        message = str(exc)
    elapsed = time.perf_counter() - start
    print(f"22.8 MB request refused in {elapsed:.3f} s, requests sent: {client.usage.calls}: "
          f"{message[:80]}...")


def _best(work: object, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


if __name__ == "__main__":
    bench_scrub()
    bench_oversized()
    bench_dead_endpoint()
