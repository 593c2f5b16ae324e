"""The on-disk response cache of :class:`agents.llm.LLMClient`.

One JSON file per answer, named by the sha256 of the request (endpoint, model, messages and
parameters; never the API key), fanned out in 256 sub-folders. Writes go to a temporary file
in the same folder and are published with :func:`os.replace`, which is atomic: concurrent
processes and threads either see a whole entry or none, and the last writer wins with an
equivalent answer. An unreadable or malformed entry is a miss, never an error.

Size limit: with ``max_bytes`` set (``[llm] cache_max_mb``), once the entries' total size goes
over it, the least recently used entries (oldest modification time; a hit touches its file) are
deleted until the total is at most 90 % of the limit, so that pruning, which lists the folder,
runs once per tenth of the limit written rather than on every write. A process learns the total
by listing the folder at its first write and keeps count of its own writes after that, so
concurrent writers may overshoot the limit a little before one of them prunes.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

CACHE_VERSION = 1
PRUNE_TO = 0.9  # of max_bytes


def cache_key(
    base_url: str,
    model: str,
    messages: list[dict[str, Any]],
    temperature: float,
    max_tokens: int | None,
    response_format: dict[str, Any] | None,
) -> str:
    """The sha256 of everything that shapes an answer, in a canonical JSON form."""
    payload = {
        "v": CACHE_VERSION,
        "base_url": base_url.rstrip("/"),
        "model": model,
        "messages": messages,
        "temperature": temperature,
        "max_tokens": max_tokens,
        "response_format": response_format,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ResponseCache:
    """Answers on disk under ``folder``, one file per key, ``max_bytes`` at most."""

    def __init__(self, folder: Path, *, max_bytes: int | None = None) -> None:
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self._size: int | None = None  # bytes of all entries, once listed by this process
        self._lock = threading.Lock()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            entry = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or not isinstance(entry.get("text"), str):
            return None
        if self.max_bytes is not None:
            _touch(self._path(key))  # recently used: evicted last
        return entry

    def put(self, key: str, entry: dict[str, Any]) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps(entry, ensure_ascii=False).encode("utf-8")
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._grew(len(data))

    def prune(self, target: int) -> int:
        """Delete the least recently used entries until they total at most ``target`` bytes;
        returns the total left."""
        entries = sorted(self._entries())
        total = sum(size for _, size, _ in entries)
        for _, size, path in entries:
            if total <= target:
                break
            path.unlink(missing_ok=True)
            total -= size
        return total

    def _grew(self, written: int) -> None:
        if self.max_bytes is None:
            return
        with self._lock:
            # The first listing already counts the entry just written.
            self._size = self._total() if self._size is None else self._size + written
            if self._size > self.max_bytes:
                self._size = self.prune(int(self.max_bytes * PRUNE_TO))

    def _total(self) -> int:
        return sum(size for _, size, _ in self._entries())

    def _entries(self) -> list[tuple[int, int, Path]]:
        """(mtime in ns, size, path) of every entry."""
        found = []
        for path in self.folder.glob("??/*.json"):
            try:
                stat = path.stat()
            except OSError:  # deleted meanwhile by another process
                continue
            found.append((stat.st_mtime_ns, stat.st_size, path))
        return found


def _touch(path: Path) -> None:
    try:
        os.utime(path)
    except OSError:
        pass
