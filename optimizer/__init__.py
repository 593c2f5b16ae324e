"""Heuristic prompt scores, tolerant patching, the critique loop and its gates.

Public names are imported lazily (PEP 562) so that importing this package, which
``promptloop --help`` does through its errors module, stays cheap.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "AgentPromptOptimizer": "optimizer.loop",
    "analyze": "optimizer.analyzer",
    "Analysis": "optimizer.analyzer",
    "Finding": "optimizer.analyzer",
    "LintThresholds": "optimizer.analyzer",
    "heuristic_rewrite": "optimizer.suggest",
    "Rewrite": "optimizer.suggest",
}

if TYPE_CHECKING:  # the real types for mypy; at run time __getattr__ imports lazily
    from optimizer.analyzer import Analysis as Analysis
    from optimizer.analyzer import Finding as Finding
    from optimizer.analyzer import LintThresholds as LintThresholds
    from optimizer.analyzer import analyze as analyze
    from optimizer.loop import AgentPromptOptimizer as AgentPromptOptimizer
    from optimizer.suggest import Rewrite as Rewrite
    from optimizer.suggest import heuristic_rewrite as heuristic_rewrite

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
