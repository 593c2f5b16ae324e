"""Errors of the prompt repository and the workspace.

PromptRepoError
├── WorkspaceNotFound   no promptloop.toml above the folder
└── ConfigError         promptloop.toml is unreadable or inconsistent
"""


class PromptRepoError(Exception):
    """Base of every error raised by prompt_repo."""


class WorkspaceNotFound(PromptRepoError):
    """No promptloop.toml was found in the folder or any parent."""


class ConfigError(PromptRepoError):
    """promptloop.toml is malformed or names something inconsistent."""
