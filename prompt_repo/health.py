"""The state of a workspace's git repository, read without changing anything (for
``promptloop doctor``).

:func:`git_health` answers: is the workspace in a git repository, is it bare, are there
commits, is HEAD on a branch, is there an identity to commit with, and is each agent's
prompt file committed and clean. It never raises for a state it can describe; it returns
it. Reads use ``git --no-optional-locks``, so not even the index is refreshed.

Identity: the commits promptloop makes take the author and committer from
``GIT_AUTHOR_*`` / ``GIT_COMMITTER_*``, else ``user.name`` / ``user.email`` of git config.
Without either, GitPython would invent ``user@hostname``; doctor reports that as missing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from git import InvalidGitRepositoryError, NoSuchPathError, Repo

from prompt_repo.config import Workspace
from prompt_repo.errors import PromptRepoError
from prompt_repo.plumbing import blob_at, git

__all__ = ["GitHealth", "Identity", "PromptState", "git_health"]


@dataclass(frozen=True)
class Identity:
    """Who commits: name and email, each None when unset, and where they came from."""

    name: str | None
    email: str | None
    source: str  # "environment", "git config" or "none"

    @property
    def complete(self) -> bool:
        return bool(self.name and self.email)


@dataclass(frozen=True)
class PromptState:
    """One agent's prompt file: its path, whether it is committed and clean, or the problem
    with its configured path."""

    agent: str
    path: str
    committed: bool = False
    dirty: bool = False
    problem: str | None = None


@dataclass(frozen=True)
class GitHealth:
    """What :func:`git_health` found; ``problem`` set means the repository is unusable."""

    problem: str | None = None
    branch: str | None = None
    detached: bool = False
    head: str | None = None
    identity: Identity = Identity(None, None, "none")
    prompts: list[PromptState] = field(default_factory=list)


def git_health(workspace: Workspace) -> GitHealth:
    """The repository's state as :class:`GitHealth`."""
    try:
        repo = Repo(workspace.root, search_parent_directories=True)
    except (InvalidGitRepositoryError, NoSuchPathError):
        return GitHealth(problem=f"{workspace.root} is not in a git repository")
    try:
        return _inspect(repo, workspace)
    finally:
        repo.close()


def _inspect(repo: Repo, workspace: Workspace) -> GitHealth:
    if repo.bare or repo.working_tree_dir is None:
        return GitHealth(problem=f"{workspace.root} is in a bare git repository")
    identity = _identity(repo)
    if not repo.head.is_valid():
        return GitHealth(problem="the repository has no commits yet", identity=identity)
    detached = repo.head.is_detached
    head = repo.head.commit.hexsha
    return GitHealth(
        branch=None if detached else repo.head.ref.name,
        detached=detached,
        head=head,
        identity=identity,
        prompts=_prompts(repo, workspace, head),
    )


def _identity(repo: Repo) -> Identity:
    env_name = os.environ.get("GIT_AUTHOR_NAME") or os.environ.get("GIT_COMMITTER_NAME")
    env_email = os.environ.get("GIT_AUTHOR_EMAIL") or os.environ.get("GIT_COMMITTER_EMAIL")
    reader = repo.config_reader()
    name = env_name or _config(reader, "name")
    email = env_email or _config(reader, "email")
    source = "environment" if env_name and env_email else "git config" if name else "none"
    return Identity(name, email, source)


def _config(reader: object, key: str) -> str | None:
    value = reader.get_value("user", key, default="")  # type: ignore[attr-defined]
    return str(value) or None


def _prompts(repo: Repo, workspace: Workspace, head: str) -> list[PromptState]:
    top = Path(str(repo.working_tree_dir)).resolve()
    root = workspace.root.resolve()
    states = []
    for agent, config in workspace.agents.items():
        try:
            path = workspace.prompt_path(agent)
        except PromptRepoError as exc:
            states.append(PromptState(agent, config.prompt, problem=str(exc)))
            continue
        in_git = path.relative_to(top).as_posix()
        shown = path.relative_to(root).as_posix()
        committed = blob_at(repo, head, in_git) is not None
        dirty = bool(git(repo, "status", "--porcelain=v1", "--untracked-files=all", "--",
                         in_git).strip())
        states.append(PromptState(agent, shown, committed, dirty and committed))
    return states
