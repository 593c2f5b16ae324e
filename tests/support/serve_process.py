"""``promptloop serve`` as a real process on a free loopback port, for the end-to-end, kill -9,
two-server, remote-tracker and browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

PROMPTLOOP = str(Path(sys.executable).with_name("promptloop"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server exited"
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the server did not come up")


def start(workspace: Path, port: int) -> subprocess.Popen:
    """The server, its output captured; the machine's endpoint and workspace settings left out."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PROMPTLOOP_", "OPENAI_"))}
    return subprocess.Popen([PROMPTLOOP, "serve", "--port", str(port)], cwd=workspace,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
