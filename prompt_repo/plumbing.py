"""Git plumbing for "one commit that touches exactly these files", whatever the index holds.

The porcelain (``git add`` + ``git commit``) would sweep in whatever the user has staged.
Instead, a commit is built from objects, keeping the user's policy as ``git commit`` would:

1. blobs and trees are written straight into the object database (GitPython, no
   subprocess): the parent's tree with only the named files' entries replaced;
2. the repository's commit hooks judge that tree (:mod:`prompt_repo.hooks`: pre-commit,
   prepare-commit-msg, commit-msg, through a temporary index; the user's index is never
   touched); one that refuses stops here;
3. ``git commit-tree`` writes the commit object: identity, and signing when
   ``commit.gpgSign`` asks for it (commit-tree itself reads only how to sign, not whether);
4. ``git update-ref <ref> <new> <old>`` publishes it: an atomic compare-and-swap, so a
   ref that moved meanwhile is never overwritten;
5. only then the working files are replaced (write-then-rename, so a reader never sees
   half a prompt) and just their index entries refreshed; then the post-commit hook runs.

Objects written before step 4 are unreachable if the process dies, and harmless. Between
steps 4 and 5 a death would leave the working file behind its commit; the :class:`Journal`,
written before step 4 and removed after step 5, lets the next writer finish the job.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import socket
import tempfile
from collections.abc import Sequence
from io import BytesIO
from pathlib import Path
from typing import Any

from git import Repo
from git.objects.fun import tree_entries_from_data, tree_to_stream
from gitdb.base import IStream

from prompt_repo.errors import GitError, PromptRepoError
from prompt_repo.gitcmd import git as git  # re-exported: the one git runner
from prompt_repo.hooks import run_commit_hooks

TREE_MODE = 0o040000
FILE_MODES = (0o100644, 0o100755)
JOURNAL_NAME = "promptloop-apply.json"

Entry = tuple[bytes, int, str]


def blob_hexsha(data: bytes) -> str:
    """The object id git gives ``data`` as a blob, computed without git."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def blob_at(repo: Repo, commit: str, path: str) -> tuple[str, bytes] | None:
    """(blob sha, content) of ``path`` in ``commit``; None when the file is absent there."""
    entry = _entry(repo, repo.commit(commit).tree.binsha, path.split("/"))
    if entry is None or entry[1] not in FILE_MODES:
        return None
    return entry[0].hex(), repo.odb.stream(entry[0]).read()


def build_commit(
    repo: Repo, parent: str | None, files: dict[str, bytes], message: str,
    deleted: Sequence[str] = (),
) -> str:
    """Write a commit whose tree is ``parent``'s with ``files`` replaced and ``deleted``
    removed, once the repository's hooks accepted it (HookFailed if not); refs untouched."""
    tree = repo.commit(parent).tree.binsha if parent else None
    for path, data in files.items():
        blob = repo.odb.store(IStream(b"blob", len(data), BytesIO(data))).binsha
        tree = _replace(repo, tree, path.split("/"), blob)
    for path in deleted:
        if tree is not None:
            tree = _without(repo, tree, path.split("/"))
    if tree is None:
        raise PromptRepoError("a commit needs at least one file")
    message = run_commit_hooks(repo, tree.hex(), message)
    return commit_tree(repo, tree.hex(), parent, message)


def commit_tree(repo: Repo, tree: str, parent: str | None, message: str) -> str:
    """``git commit-tree``, signed when ``commit.gpgSign`` is true (git commit's rule)."""
    sign = git(repo, "config", "--type=bool", "--default=false", "--get", "commit.gpgSign")
    args = ["-S"] if sign.strip() == "true" else []
    args += ["-p", parent] if parent else []
    try:
        try:
            return git(repo, "commit-tree", *args, "-F", "-", tree, input=message).strip()
        except GitError as exc:
            if not _no_identity(exc.reason):
                raise
        return git(repo, "commit-tree", *args, "-F", "-", tree, input=message,
                   env=_fallback_identity()).strip()
    except GitError as exc:
        if not args or args[0] != "-S":
            raise
        raise GitError(f"signing the commit failed (commit.gpgSign is true): {exc.reason}",
                       exc.reason) from None


def _no_identity(reason: str) -> bool:
    return "auto-detect email" in reason or "empty ident name" in reason


def _fallback_identity() -> dict[str, str]:
    """An identity for a machine with none configured (a fresh container, CI), as GitPython
    made one: the login name at the host name. What the environment sets is kept."""
    try:
        user = getpass.getuser()
    except OSError:  # no login name anywhere (a bare container)
        user = "promptloop"
    defaults = {"NAME": user, "EMAIL": f"{user}@{socket.gethostname() or 'localhost'}"}
    return {f"GIT_{role}_{key}": os.environ.get(f"GIT_{role}_{key}") or value
            for role in ("AUTHOR", "COMMITTER") for key, value in defaults.items()}


def update_ref(repo: Repo, ref: str, new: str, old: str | None, reason: str) -> None:
    """Point ``ref`` at ``new`` only if it still points at ``old`` (None: must not exist)."""
    git(repo, "update-ref", "-m", reason, ref, new, old or "")


def write_worktree(repo: Repo, files: dict[str, bytes]) -> None:
    """Replace the working files atomically, then refresh only their index entries."""
    root = Path(str(repo.working_tree_dir))
    for path, data in files.items():
        _atomic_write(root / path, data)
    git(repo, "update-index", "--add", "--", *files)


def format_message(message: str, trailers: dict[str, str] | None = None) -> str:
    """The message's first line as subject, the rest as body, then the git trailers
    (``Key: value``) as the last paragraph."""
    first, _, body = message.strip().partition("\n")
    subject = " ".join(first.split())
    if not subject:
        raise PromptRepoError("a commit needs a non-empty message")
    parts = [subject]
    if body.strip():
        parts.append(body.strip())
    if trailers:
        parts.append("\n".join(_trailer(k, v) for k, v in trailers.items()))
    return "\n\n".join(parts) + "\n"


def _trailer(key: str, value: str) -> str:
    if not key or not all(c.isalnum() or c == "-" for c in key):
        raise PromptRepoError(f"invalid trailer key {key!r}: use letters, digits and '-'")
    return f"{key}: {' '.join(str(value).split())}"


def _entry(repo: Repo, tree: bytes, parts: list[str]) -> Entry | None:
    for entry in _read_tree(repo, tree):
        if entry[2] == parts[0]:
            if len(parts) == 1:
                return entry
            return _entry(repo, entry[0], parts[1:]) if entry[1] == TREE_MODE else None
    return None


def _replace(repo: Repo, tree: bytes | None, parts: list[str], blob: bytes) -> bytes:
    entries = _read_tree(repo, tree) if tree else []
    name, rest = parts[0], parts[1:]
    old = next((e for e in entries if e[2] == name), None)
    entries = [e for e in entries if e[2] != name]
    if rest:
        if old is not None and old[1] != TREE_MODE:
            raise PromptRepoError(f"{name} is a file in the repository, not a folder")
        subtree = old[0] if old is not None else None
        entries.append((_replace(repo, subtree, rest, blob), TREE_MODE, name))
    else:
        mode = old[1] if old is not None and old[1] in FILE_MODES else FILE_MODES[0]
        entries.append((blob, mode, name))
    return _write_tree(repo, entries)


def _without(repo: Repo, tree: bytes, parts: list[str]) -> bytes:
    """``tree`` with the file at ``parts`` removed (an emptied folder disappears too)."""
    entries = _read_tree(repo, tree)
    name, rest = parts[0], parts[1:]
    kept = [e for e in entries if e[2] != name]
    if rest:
        old = next((e for e in entries if e[2] == name and e[1] == TREE_MODE), None)
        if old is not None:
            sub = _without(repo, old[0], rest)
            if _read_tree(repo, sub):
                kept.append((sub, TREE_MODE, name))
    return _write_tree(repo, kept)


def _read_tree(repo: Repo, binsha: bytes) -> list[Entry]:
    return tree_entries_from_data(repo.odb.stream(binsha).read())


def _write_tree(repo: Repo, entries: list[Entry]) -> bytes:
    # git orders tree entries by name, a folder's name compared as if it ended in "/".
    entries.sort(key=lambda e: (e[2] + ("/" if e[1] == TREE_MODE else "")).encode())
    buffer = BytesIO()
    tree_to_stream(entries, buffer.write)
    size = buffer.tell()
    buffer.seek(0)
    binsha: bytes = repo.odb.store(IStream(b"tree", size, buffer)).binsha
    return binsha


def _atomic_write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Journal:
    """What an in-flight write promised, so that the next writer can finish it.

    Holds the ref, its old and new commit, and each file's old and new blob. Only read and
    written under the repository lock.
    """

    def __init__(self, git_dir: Path) -> None:
        self.path = Path(git_dir) / JOURNAL_NAME

    def begin(self, ref: str, old: str | None, new: str, files: dict[str, bytes]) -> None:
        record = {"ref": ref, "old": old, "new": new,
                  "files": {path: blob_hexsha(data) for path, data in files.items()}}
        _atomic_write(self.path, json.dumps(record).encode())

    def end(self) -> None:
        self.path.unlink(missing_ok=True)

    def recover(self, repo: Repo) -> None:
        """Finish a write whose process died after publishing its commit; then forget it."""
        record = self._load()
        if record is None:
            return
        if _ref_sha(repo, record["ref"]) == record["new"] and _head_ref(repo) == record["ref"]:
            self._finish(repo, record)
        self.end()

    def _finish(self, repo: Repo, record: dict[str, Any]) -> None:
        root = Path(str(repo.working_tree_dir))
        stale: dict[str, bytes | None] = {}
        for path, new_blob in record["files"].items():
            current = root / path
            content = current.read_bytes() if current.is_file() else None
            if content is None:
                continue  # our writes replace files atomically: gone means removed since
            if blob_hexsha(content) == new_blob:
                stale[path] = None  # only the index entry may lag
                continue
            old = blob_at(repo, record["old"], path) if record["old"] else None
            if old is not None and old[0] == blob_hexsha(content):
                stale[path] = repo.odb.stream(bytes.fromhex(new_blob)).read()
            # any other content is someone's edit made since: left alone
        for path, data in stale.items():
            if data is not None:
                _atomic_write(root / path, data)
        if stale:
            git(repo, "update-index", "--add", "--", *stale)

    def _load(self) -> dict[str, Any] | None:
        try:
            record = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except ValueError:  # torn write: it was never acted upon (written before the ref)
            self.end()
            return None
        return record if isinstance(record, dict) else None


def _ref_sha(repo: Repo, ref: str) -> str | None:
    try:
        return git(repo, "rev-parse", "--verify", "--quiet", ref).strip() or None
    except GitError:
        return None


def _head_ref(repo: Repo) -> str | None:
    return None if repo.head.is_detached else repo.head.ref.path
