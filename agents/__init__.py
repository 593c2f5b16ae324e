"""The agent runtime: the one LLM client, agent roles, DecisionSession, market data, replay.

Public names are imported lazily (PEP 562) so that importing this package, which
``promptloop --help`` does through its errors module, stays cheap.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "LLMClient": "agents.llm",
    "ChatResult": "agents.llm",
    "Usage": "agents.llm",
    "Budget": "agents.llm",
    "RetryPolicy": "agents.llm",
    "DecisionSession": "agents.session",
}

if TYPE_CHECKING:  # the real types for mypy; at run time __getattr__ imports lazily
    from agents.llm import Budget as Budget
    from agents.llm import ChatResult as ChatResult
    from agents.llm import LLMClient as LLMClient
    from agents.llm import RetryPolicy as RetryPolicy
    from agents.llm import Usage as Usage
    from agents.session import DecisionSession as DecisionSession

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
