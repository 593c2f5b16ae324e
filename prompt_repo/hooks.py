"""The repository's commit hooks, run as ``git commit`` runs them, for commits built from
objects (:mod:`prompt_repo.plumbing`).

- Where: ``git rev-parse --git-path hooks/NAME``, so ``core.hooksPath`` and linked
  worktrees are honoured; a hook that is missing or not executable is skipped, as git does.
- How: executed as git executes them (at the top of the working tree, no stdin, output
  captured), in git's order: pre-commit, prepare-commit-msg (with the source ``message``,
  as for ``git commit -m``), commit-msg (on a file holding the message). Not through
  ``git hook run``, which needs git 2.36.
- What they see: ``GIT_INDEX_FILE`` names a temporary index holding the new commit's tree,
  so ``git diff --cached`` shows the change about to be committed; the user's own index is
  never touched. The working file is written only after the commit is published.
- A hook that exits non-zero refuses the commit: :class:`HookFailed` with the hook's name
  and the first line it printed, before any ref or file changed. A pre-commit hook that
  restages files (a formatter's ``git add``) is refused too: promptloop commits exactly the
  text it was given. A message hook's edits are kept, cleaned as ``git commit`` cleans them.
- post-commit runs once the commit is published; as with git, its exit status is ignored.
- No switch turns them off (git's ``--no-verify``): the hooks are the repository owner's
  policy. One command can still run without any hook, through git's own configuration:
  ``GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=core.hooksPath GIT_CONFIG_VALUE_0=/dev/null``.
"""

from __future__ import annotations

import errno
import functools
import os
import subprocess
import tempfile
from pathlib import Path

from git import Repo

from prompt_repo.errors import HookFailed
from prompt_repo.gitcmd import git

__all__ = ["run_commit_hooks", "run_post_commit"]

_BEFORE = ("pre-commit", "prepare-commit-msg", "commit-msg")


def run_commit_hooks(repo: Repo, tree: str, message: str) -> str:
    """Run the hooks that may refuse a commit of ``tree`` with ``message``; the message as
    they left it. HookFailed when one refuses."""
    hooks = _present(repo, _BEFORE)
    if not hooks:
        return message
    with tempfile.TemporaryDirectory(dir=repo.git_dir, prefix="promptloop-hooks-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp, "index")), "GIT_EDITOR": ":"}
        git(repo, "read-tree", tree, env=env)
        if "pre-commit" in hooks:
            _run(repo, hooks["pre-commit"], env)
            if git(repo, "write-tree", env=env).strip() != tree:
                raise HookFailed("pre-commit hook changed the staged files; promptloop "
                                 "commits only its own change, so it refused the commit")
        if hooks.keys().isdisjoint({"prepare-commit-msg", "commit-msg"}):
            return message
        edit = Path(tmp, "COMMIT_EDITMSG")
        edit.write_text(message, encoding="utf-8")
        if "prepare-commit-msg" in hooks:
            _run(repo, hooks["prepare-commit-msg"], env, str(edit), "message")
        if "commit-msg" in hooks:
            _run(repo, hooks["commit-msg"], env, str(edit))
        cleaned = _cleanup(edit.read_text(encoding="utf-8"))
    if not cleaned:
        raise HookFailed("a commit message hook left the message empty; commit refused")
    return cleaned


def run_post_commit(repo: Repo) -> None:
    """Run the post-commit hook, if any; what it prints and its exit status are ignored."""
    hook = _present(repo, ("post-commit",)).get("post-commit")
    if hook is None:
        return
    try:
        _spawn(repo, hook, {})
    except HookFailed:
        pass  # the commit is made; git too carries on after a post-commit that cannot run


def _present(repo: Repo, names: tuple[str, ...]) -> dict[str, Path]:
    """The runnable hooks among ``names``, by name."""
    paths = git(repo, "rev-parse", *(a for n in names for a in ("--git-path", f"hooks/{n}")))
    top = Path(str(repo.working_tree_dir))
    found = {name: top / path for name, path in zip(names, paths.splitlines(), strict=True)}
    return {name: path for name, path in found.items()
            if path.is_file() and os.access(path, os.X_OK)}


def _run(repo: Repo, hook: Path, env: dict[str, str], *args: str) -> None:
    proc = _spawn(repo, hook, env, *args)
    if proc.returncode != 0:
        first = next((line.strip() for line in proc.stdout.splitlines() if line.strip()), "")
        said = f": {first}" if first else f" (exit status {proc.returncode})"
        raise HookFailed(f"{hook.name} hook refused the commit{said}")


def _spawn(repo: Repo, hook: Path, env: dict[str, str], *args: str
           ) -> subprocess.CompletedProcess[str]:
    """Execute ``hook``, through ``sh`` when it has no ``#!`` line, as git does."""
    run = functools.partial(subprocess.run, cwd=repo.working_tree_dir,
                            env={**os.environ, **env}, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            encoding="utf-8", errors="replace")
    try:
        try:
            return run([str(hook), *args])
        except OSError as exc:
            if exc.errno != errno.ENOEXEC:
                raise
            return run(["/bin/sh", str(hook), *args])
    except OSError as exc:
        raise HookFailed(f"{hook.name} hook could not run: {exc.strerror}") from None


def _cleanup(text: str) -> str:
    """``git commit``'s whitespace cleanup: no trailing blanks, no leading or trailing empty
    lines, runs of empty lines collapsed to one."""
    lines: list[str] = []
    for line in (raw.rstrip() for raw in text.splitlines()):
        if line or (lines and lines[-1]):
            lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n" if lines else ""
