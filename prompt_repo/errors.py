"""Errors of the prompt repository and the workspace.

Every refusal is raised before anything is written, so a caught error means the
repository is unchanged. Messages are one line, written for the person at the terminal.

PromptRepoError
├── WorkspaceNotFound      no promptloop.toml above the folder
├── ConfigError            promptloop.toml is unreadable or inconsistent
│   └── PathEscapesWorkspace   an agent's prompt path points outside the workspace
├── UnknownAgent           the agent is not configured, or its prompt file is not committed
├── UnknownRevision        a version name (sha, vN, git revision) names nothing
├── DirtyPromptFile        the prompt file has uncommitted (staged or unstaged) edits
├── StaleBase              the prompt file moved on since the base a change was made from
├── DetachedHead           HEAD is not on a branch, so there is no branch to commit to
├── NoChange               the new text equals the current one; no empty commits
├── BranchExists           apply(branch=...) names a branch that already exists
├── LockTimeout            another process held the repository lock for too long
├── InitConflict           init would overwrite files that are not ours
├── HookFailed             a commit hook of the repository refused the commit
└── GitError               git itself failed (push rejected, corrupt repository, ...)
"""


class PromptRepoError(Exception):
    """Base of every error raised by prompt_repo."""


class WorkspaceNotFound(PromptRepoError):
    """No promptloop.toml was found in the folder or any parent."""


class ConfigError(PromptRepoError):
    """promptloop.toml is malformed or names something inconsistent."""


class PathEscapesWorkspace(ConfigError):
    """An agent's configured prompt path resolves outside the workspace (or into .git)."""


class UnknownAgent(PromptRepoError):
    """The agent is not configured, or its prompt file is not in the repository."""


class UnknownRevision(PromptRepoError):
    """A version name (full or short sha, vN, git revision) does not name a version."""


class DirtyPromptFile(PromptRepoError):
    """The prompt file has uncommitted edits that a commit would overwrite."""


class StaleBase(PromptRepoError):
    """The prompt file has moved on since the base the change was made from."""


class DetachedHead(PromptRepoError):
    """HEAD is detached: there is no branch to commit to."""


class NoChange(PromptRepoError):
    """The new prompt text is identical to the current one."""


class BranchExists(PromptRepoError):
    """The branch asked for already exists."""


class LockTimeout(PromptRepoError):
    """The repository lock stayed held by another process past the wait limit."""


class InitConflict(PromptRepoError):
    """init would overwrite or commit files that are not its own."""


class HookFailed(PromptRepoError):
    """A pre-commit, prepare-commit-msg or commit-msg hook refused the commit."""


class GitError(PromptRepoError):
    """A git command failed; the message carries git's own error line (also ``reason``)."""

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = message if reason is None else reason
