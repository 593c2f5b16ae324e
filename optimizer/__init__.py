"""Heuristic prompt scores, tolerant patching, the critique loop and its gates.

Public names are imported lazily (PEP 562) so that importing this package, which
``promptloop --help`` does through its errors module, stays cheap.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "AgentPromptOptimizer": "optimizer.loop",
    "analyze": "optimizer.analyzer",
    "Analysis": "optimizer.analyzer",
    "Finding": "optimizer.analyzer",
    "LintThresholds": "optimizer.analyzer",
    "heuristic_rewrite": "optimizer.suggest",
    "Rewrite": "optimizer.suggest",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
