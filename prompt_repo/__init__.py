"""The workspace config and the prompts as files in a git repository; a version is a commit.

Public names are imported lazily (PEP 562) so that importing this package, which
``promptloop --help`` does through its errors module, stays cheap.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "PromptRepo": "prompt_repo.repo",
    "PromptVersion": "prompt_repo.repo",
    "Version": "prompt_repo.repo",
    "AgentSummary": "prompt_repo.repo",
    "RollbackPlan": "prompt_repo.repo",
    "init_workspace": "prompt_repo.workspace_init",
    "InitResult": "prompt_repo.workspace_init",
    "Workspace": "prompt_repo.config",
    "load_workspace": "prompt_repo.config",
}

if TYPE_CHECKING:  # the real types for mypy; at run time __getattr__ imports lazily
    from prompt_repo.config import Workspace as Workspace
    from prompt_repo.config import load_workspace as load_workspace
    from prompt_repo.repo import AgentSummary as AgentSummary
    from prompt_repo.repo import PromptRepo as PromptRepo
    from prompt_repo.repo import PromptVersion as PromptVersion
    from prompt_repo.repo import RollbackPlan as RollbackPlan
    from prompt_repo.repo import Version as Version
    from prompt_repo.workspace_init import InitResult as InitResult
    from prompt_repo.workspace_init import init_workspace as init_workspace

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
