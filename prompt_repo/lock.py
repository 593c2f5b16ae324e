"""A cross-process lock around the writes to one repository.

``fcntl.flock`` on ``<git dir>/promptloop.lock``: the kernel drops the lock when the
holder's file descriptor closes, which includes the holder being killed with SIGKILL, so a
dead process never blocks the others. A live holder makes the others wait, polling, up to
``timeout`` seconds; then :class:`~prompt_repo.errors.LockTimeout` says who holds it.

flock locks belong to an open file description, so two threads of one process that each
open the file also exclude each other. The lock file is empty and never deleted (deleting it
would let two processes lock two different inodes) nor written: taking the lock changes no
byte of the repository.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from prompt_repo.errors import LockTimeout

LOCK_NAME = "promptloop.lock"
DEFAULT_TIMEOUT = 30.0
_POLL = 0.02


class RepoLock:
    """``with RepoLock(git_dir):`` holds the repository's promptloop lock."""

    def __init__(self, git_dir: Path, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.path = Path(git_dir) / LOCK_NAME
        self.timeout = timeout
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise LockTimeout(
                        f"the prompt repository is locked by another promptloop process;"
                        f" gave up after {self.timeout:g}s ({self.path})"
                    ) from None
                time.sleep(_POLL)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def __enter__(self) -> RepoLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

