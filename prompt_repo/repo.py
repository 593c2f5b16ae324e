"""PromptRepo: each agent's prompt is a file in a git repository, and a version is a commit.

Guarantees (DESIGN.md, "Versions are commits"):

- :meth:`PromptRepo.apply` makes exactly one commit, touching only that agent's prompt
  file, whatever else is staged or modified (see :mod:`prompt_repo.plumbing`), signed and
  judged by the commit hooks as the repository's git policy asks (:mod:`prompt_repo.hooks`);
- it refuses, changing nothing, when the file has uncommitted edits, when the file's
  content moved on since ``base``, when HEAD is detached, when the agent or its file is
  unknown, or when the configured path leaves the workspace;
- writers serialize on a cross-process lock (:mod:`prompt_repo.lock`) and publish with an
  atomic compare-and-swap of the branch, so no update is lost or silently overwritten;
- :meth:`PromptRepo.rollback` is a new commit restoring older content: history is never
  rewritten.

A version of an agent is a commit that changed its prompt file; ``vN`` is the N-th such
commit reachable from HEAD (v1 the first). Anywhere a version is asked for, a full or
short sha, ``vN``, one of the agent's labels (:mod:`prompt_repo.labels`) or any git
revision (``HEAD~2``, a tag) is accepted.

:meth:`PromptRepo.read` returns committed text (uncommitted edits of the file are not seen)
with the sha of the version it belongs to, so the sha always identifies the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, cast

from git import BadName, BadObject, InvalidGitRepositoryError, NoSuchPathError, Repo

from prompt_repo.config import Workspace, load_workspace
from prompt_repo.errors import (
    DetachedHead,
    GitError,
    NoChange,
    PromptRepoError,
    StaleBase,
    UnknownAgent,
    UnknownRevision,
)
from prompt_repo.lock import DEFAULT_TIMEOUT, RepoLock
from prompt_repo.plumbing import Journal, blob_at, blob_hexsha, build_commit, format_message, git
from prompt_repo.publish import (
    create_branch,
    dirty_paths,
    publish,
    refuse_branch,
    refuse_dirty,
)
from prompt_repo.versions import (
    LOG_FORMAT,
    AgentSummary,
    PromptVersion,
    RollbackPlan,
    Version,
    parse_version,
)

if TYPE_CHECKING:
    from prompt_repo.labels import Labels

__all__ = ["AgentSummary", "PromptRepo", "PromptVersion", "RollbackPlan", "Version"]

_FULL_SHA = re.compile(r"[0-9a-f]{40}")
_VERSION = re.compile(r"v(\d+)")


class PromptRepo:
    """The prompts of one workspace, read and written as git commits."""

    def __init__(self, workspace: Workspace, *, lock_timeout: float = DEFAULT_TIMEOUT) -> None:
        self.workspace = workspace
        self.lock_timeout = lock_timeout
        try:
            self._repo = Repo(workspace.root, search_parent_directories=True)
        except (InvalidGitRepositoryError, NoSuchPathError):
            raise PromptRepoError(
                f"{workspace.root} is not in a git repository; run 'promptloop init' there"
            ) from None
        if self._repo.bare or self._repo.working_tree_dir is None:
            raise PromptRepoError(f"{workspace.root} is in a bare git repository")
        self._top = Path(self._repo.working_tree_dir).resolve()
        self._journal = Journal(Path(self._repo.git_dir))

    @classmethod
    def open(cls, path: Path | None = None, *, lock_timeout: float = DEFAULT_TIMEOUT) -> PromptRepo:
        """The repository of the workspace at or above ``path`` (default: current folder)."""
        return cls(load_workspace(path), lock_timeout=lock_timeout)

    def close(self) -> None:
        """Stop the git helper processes GitPython keeps running."""
        self._repo.close()

    def __enter__(self) -> PromptRepo:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------------

    def agents(self) -> list[str]:
        """The configured agents, in the order of promptloop.toml."""
        return list(self.workspace.agents)

    def read(self, agent: str, rev: str | None = None, *, label: str | None = None
             ) -> PromptVersion:
        """The committed prompt of ``agent`` at ``rev`` (default HEAD), with its version sha.

        ``label``: at the version the label names instead (an unset ``production``: HEAD).
        """
        if label is not None:
            if rev is not None:
                raise PromptRepoError("name a revision or a label, not both")
            rev = self.labels().resolve(agent, label)
        path = self._path(agent)
        commit = self.resolve(agent, rev) if rev is not None else self._head()
        found = blob_at(self._repo, commit, path)
        if found is None:
            if rev is None:
                raise UnknownAgent(f"{agent}'s prompt file {path} is not committed")
            raise UnknownRevision(f"{path} does not exist at {rev}")
        try:
            text = found[1].decode("utf-8")
        except UnicodeDecodeError:
            raise PromptRepoError(f"{path} at {rev or 'HEAD'} is not UTF-8 text") from None
        sha = git(self._repo, "rev-list", "-n1", commit, "--", path).strip()
        return PromptVersion(agent, self._ws_relative(agent), text, sha)

    def log(self, agent: str, limit: int | None = None) -> list[Version]:
        """The versions of ``agent``'s prompt reachable from HEAD, newest first."""
        path = self._path(agent)
        self._head()
        out = git(self._repo, "log", f"--format={LOG_FORMAT}", "HEAD", "--", path)
        records = [r for r in out.split("\x1e") if r.strip()]
        versions = [parse_version(len(records) - i, r) for i, r in enumerate(records)]
        return versions[:limit] if limit is not None else versions

    def diff(self, agent: str, a: str, b: str | None = None) -> str:
        """Unified diff of the prompt file from version ``a`` to ``b`` (default: current)."""
        path = self._path(agent)
        old = self.resolve(agent, a)
        new = self.resolve(agent, b) if b is not None else self._head()
        return git(self._repo, "diff", "--no-color", "--no-ext-diff", "--no-textconv",
                   old, new, "--", path)

    def resolve(self, agent: str, rev: str) -> str:
        """The commit sha named by ``rev``: a full or short sha, ``vN``, one of the agent's
        labels (before a git revision of the same name), a git revision."""
        match = _VERSION.fullmatch(rev)
        if match is None:
            return self._labelled(agent, rev) or self._unlabelled(agent, rev)
        versions = self.log(agent)
        number = int(match.group(1))
        if not 1 <= number <= len(versions):
            raise UnknownRevision(
                f"{agent} has versions v1..v{len(versions)}; there is no {rev}"
            )
        return versions[len(versions) - number].sha

    def overview(self) -> list[AgentSummary]:
        """Every agent with its newest version and whether its file has local edits."""
        paths = {agent: self._path(agent) for agent in self.agents()}
        dirty = dirty_paths(self._repo, list(paths.values())) if paths else set()
        return [
            AgentSummary(agent, self._ws_relative(agent),
                         next(iter(self.log(agent, limit=1)), None), path in dirty)
            for agent, path in paths.items()
        ]

    def labels(self) -> Labels:
        """The workspace's labels (:mod:`prompt_repo.labels`)."""
        from prompt_repo.labels import Labels

        return Labels(self)

    # -- writing -------------------------------------------------------------------------

    def apply(
        self,
        agent: str,
        text: str,
        message: str,
        base: str | None = None,
        trailers: dict[str, str] | None = None,
        branch: str | None = None,
    ) -> str:
        """Commit ``text`` as ``agent``'s new prompt; returns the new commit's sha.

        ``base``: the version the change was made from; refused if the file's content has
        moved on since (None: no such check). ``branch``: commit on this NEW branch, from
        HEAD, leaving the checkout (working tree, index, HEAD) untouched.
        """
        path = self._path(agent)
        full_message = format_message(message, trailers)
        data = text.encode("utf-8")
        with self._locked():
            head = self._head()
            ref = self._branch_ref() if branch is None else None
            current = blob_at(self._repo, head, path)
            if current is None:
                raise UnknownAgent(f"{agent}'s prompt file {path} is not committed")
            if branch is None:
                refuse_dirty(self._repo, path)
            if base is not None:
                self._refuse_stale(agent, path, base, current[0])
            if blob_hexsha(data) == current[0]:
                raise NoChange(f"{agent}'s prompt already has this text; nothing to commit")
            if branch is not None:
                refuse_branch(self._repo, branch)
            new = build_commit(self._repo, head, {path: data}, full_message)
            if branch is not None:
                create_branch(self._repo, branch, new, full_message)
            else:  # ref was read above exactly when branch is None
                publish(self._repo, self._journal, cast(str, ref), head, new, {path: data},
                        full_message)
        return new

    def plan_rollback(self, agent: str, to: str) -> RollbackPlan:
        """What :meth:`rollback` would do: the current version, the target, their diff.

        Raises what :meth:`rollback` would (NoChange, DirtyPromptFile, DetachedHead...)
        up front, so that nobody is asked to confirm a rollback that cannot happen.
        """
        with self._locked():  # also finishes a write a killed process left half done
            self._branch_ref()
            refuse_dirty(self._repo, self._path(agent))
        current = self.read(agent)
        target = self.read(agent, to)
        if target.text == current.text:
            raise NoChange(f"{agent}'s prompt already has the text of {to}; nothing to roll back")
        number = self._number(target.sha, self._path(agent))
        return RollbackPlan(agent, current.sha, target, number, self.diff(agent, current.sha,
                                                                          target.sha))

    def rollback(self, agent: str, to: str, base: str | None = None) -> str:
        """A new commit restoring ``agent``'s prompt as it was at ``to``; returns its sha.

        ``base``: refuse if the prompt moved on since this version (e.g. the one whose
        diff was shown to the user).
        """
        old = self.read(agent, to)
        number = self._number(old.sha, self._path(agent))
        message = f"rollback({agent}): restore v{number} ({old.sha[:7]})"
        return self.apply(agent, old.text, message, base=base,
                          trailers={"Promptloop-Rollback-To": old.sha})

    def push(self, branch: str, remote: str = "origin") -> None:
        """Push ``branch`` to ``remote`` (same name there); GitError in one line."""
        if remote not in git(self._repo, "remote").split():
            raise GitError(f"git push to {remote!r} failed: no such remote")
        try:
            git(self._repo, "push", "--quiet", remote, f"refs/heads/{branch}:refs/heads/{branch}")
        except GitError as exc:
            raise GitError(f"git push to {remote!r} failed: {exc.reason}") from None

    def delete_branch(self, branch: str, sha: str) -> None:
        """Delete ``branch`` if it still points at ``sha`` (undo of a branch apply)."""
        git(self._repo, "update-ref", "-d", f"refs/heads/{branch}", sha)

    # -- for files beside the prompts (the labels file of prompt_repo.labels) -------------

    @property
    def git_repo(self) -> Repo:
        """The GitPython repository, to read blobs and logs of the workspace's files."""
        return self._repo

    def top_relative(self, path: Path) -> str:
        """A resolved ``path`` relative to the top of the git working tree, as git names it."""
        return path.relative_to(self._top).as_posix()

    def head_sha(self) -> str:
        """The commit HEAD points at."""
        return self._head()

    def require_agent(self, agent: str) -> None:
        """UnknownAgent unless ``agent`` is configured in the workspace."""
        self._path(agent)

    def commit_file(self, path: str, change: Callable[[str], tuple[bytes, str]]) -> str:
        """One commit on the current branch that writes only ``path`` (top-relative):
        ``change(head)`` gives its new bytes and the message, under the repository lock;
        refused when the file has uncommitted edits; published as :meth:`apply` is."""
        with self._locked():
            head = self._head()
            ref = self._branch_ref()
            refuse_dirty(self._repo, path)
            data, message = change(head)
            commit = build_commit(self._repo, head, {path: data}, message)
            publish(self._repo, self._journal, ref, head, commit, {path: data}, message)
        return commit

    # -- internals -----------------------------------------------------------------------

    def _path(self, agent: str) -> str:
        """The prompt file's path relative to the top of the git working tree."""
        return self.workspace.prompt_path(agent).relative_to(self._top).as_posix()

    def _ws_relative(self, agent: str) -> str:
        root = self.workspace.root.resolve()
        return self.workspace.prompt_path(agent).relative_to(root).as_posix()

    def _head(self) -> str:
        try:
            return self._repo.head.commit.hexsha
        except ValueError:
            raise PromptRepoError("the repository has no commits yet") from None

    def _branch_ref(self) -> str:
        if self._repo.head.is_detached:
            raise DetachedHead(
                "HEAD is detached (not on a branch); check out a branch before committing"
            )
        return str(self._repo.head.ref.path)

    def _commit_sha(self, rev: str) -> str:
        if _FULL_SHA.fullmatch(rev):  # the common case (a base sha) without a subprocess
            try:
                if self._repo.odb.info(bytes.fromhex(rev)).type == b"commit":
                    return rev
            except (ValueError, BadName, BadObject):
                raise UnknownRevision(f"no commit {rev} in this repository") from None
        if not rev or rev.startswith("-"):
            raise UnknownRevision(f"not a revision: {rev!r}")
        try:
            return git(self._repo, "rev-parse", "--verify", "--quiet", "--end-of-options",
                       f"{rev}^{{commit}}").strip()
        except GitError:
            raise UnknownRevision(
                f"unknown revision {rev!r} (use a sha, vN or a git revision such as HEAD~1)"
            ) from None

    def _labelled(self, agent: str, rev: str) -> str | None:
        from prompt_repo.labels import is_label_name

        return self.labels().get(agent, rev) if is_label_name(rev) else None

    def _unlabelled(self, agent: str, rev: str) -> str:
        """A git revision; an unset ``production`` is the newest version, as sessions and
        ``label list`` read it (DESIGN.md: no label, the newest version)."""
        from prompt_repo.labels import PRODUCTION

        try:
            return self._commit_sha(rev)
        except UnknownRevision:
            if rev != PRODUCTION:
                raise
        return self.log(agent, limit=1)[0].sha

    def _number(self, sha: str, path: str) -> int:
        return int(git(self._repo, "rev-list", "--count", sha, "--", path).strip())

    def _refuse_stale(self, agent: str, path: str, base: str, current_blob: str) -> None:
        base_sha = self._commit_sha(base)
        at_base = blob_at(self._repo, base_sha, path)
        if at_base is None or at_base[0] != current_blob:
            now = self.log(agent, limit=1)[0]
            raise StaleBase(
                f"{agent}'s prompt has moved on since {base_sha[:7]} (now {now.name}, "
                f"{now.short_sha}); re-read it and make the change again"
            )

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with RepoLock(Path(self._repo.git_dir), self.lock_timeout):
            self._journal.recover(self._repo)
            yield
