"""The write side of :class:`prompt_repo.PromptRepo`: the checks that guard a write and the
publishing of a built commit (:mod:`prompt_repo.plumbing`), on the checked-out branch or on a
new branch.

Every function runs under the repository lock, taken by the caller.
"""

from __future__ import annotations

from git import Repo

from prompt_repo.errors import BranchExists, DirtyPromptFile, GitError, PromptRepoError, StaleBase
from prompt_repo.hooks import run_post_commit
from prompt_repo.plumbing import Journal, git, update_ref, write_worktree

__all__ = ["create_branch", "dirty_paths", "publish", "refuse_branch", "refuse_dirty"]


def dirty_paths(repo: Repo, paths: list[str]) -> set[str]:
    """Those of ``paths`` (top-relative) with staged or unstaged edits."""
    out = git(repo, "status", "--porcelain=v1", "-z", "--untracked-files=no", "--", *paths)
    return {item[3:] for item in out.split("\0") if len(item) > 3}


def refuse_dirty(repo: Repo, path: str) -> None:
    """DirtyPromptFile when ``path`` has uncommitted edits that a commit would overwrite."""
    if dirty_paths(repo, [path]):
        raise DirtyPromptFile(
            f"{path} has uncommitted changes; commit or discard them first "
            f"(git diff HEAD -- {path})"
        )


def refuse_branch(repo: Repo, branch: str) -> None:
    """Refuse an invalid branch name, or one that exists already."""
    try:
        git(repo, "check-ref-format", "--branch", branch)
    except GitError:
        raise PromptRepoError(f"{branch!r} is not a valid branch name") from None
    if git(repo, "for-each-ref", f"refs/heads/{branch}").strip():
        raise BranchExists(f"branch {branch!r} already exists; pick another name")


def create_branch(repo: Repo, branch: str, new: str, message: str) -> None:
    """Create ``branch`` at commit ``new``; the checkout (HEAD, index, files) is untouched."""
    reason = f"promptloop: {message.splitlines()[0]}"
    try:  # the empty old value makes creation itself the check: no race with another
        update_ref(repo, f"refs/heads/{branch}", new, None, reason)
    except GitError:
        raise BranchExists(f"branch {branch!r} already exists; pick another name") from None


def publish(repo: Repo, journal: Journal, ref: str, head: str, new: str,
            files: dict[str, bytes], message: str) -> None:
    """Move the checked-out branch ``ref`` from ``head`` to ``new`` (StaleBase if it moved),
    then write ``files`` to the working tree, then run the post-commit hook."""
    journal.begin(ref, head, new, files)
    try:
        # HEAD, not the branch: the swap also fails if someone switched branches meanwhile.
        update_ref(repo, "HEAD", new, head, f"promptloop: {message.splitlines()[0]}")
    except GitError:
        journal.end()
        raise StaleBase(
            "the branch moved while committing (another git command?); try again"
        ) from None
    write_worktree(repo, files)
    journal.end()
    run_post_commit(repo)
