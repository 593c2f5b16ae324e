"""Running git: one place for the options every call needs and for git's error line."""

from __future__ import annotations

import os
import subprocess

from git import Repo

from prompt_repo.errors import GitError

__all__ = ["error_line", "git"]


def git(repo: Repo, *args: str, input: str | None = None,
        env: dict[str, str] | None = None) -> str:
    """Run ``git ARGS`` at the top of the working tree (``env`` added to the environment);
    GitError with git's error line."""
    proc = subprocess.run(
        # --no-optional-locks: a read (status) must not rewrite the index behind our back.
        ["git", "--literal-pathspecs", "--no-optional-locks", *args],
        cwd=repo.working_tree_dir,
        input=input,
        capture_output=True,
        encoding="utf-8",
        env={**os.environ, **env} if env else None,
    )
    if proc.returncode != 0:
        reason = error_line(proc.stderr or proc.stdout) or str(proc.returncode)
        raise GitError(f"git {args[0]} failed: {reason}", reason)
    return proc.stdout


def error_line(output: str) -> str:
    """git's first ``fatal:``/``error:`` line, else its last line: after the error, git
    often adds advice ("Please make sure ... and the repository exists.") that reads as garble."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    for line in lines:
        for prefix in ("fatal:", "error:"):
            if line.startswith(prefix):
                return line[len(prefix):].strip()
    return lines[-1] if lines else ""
