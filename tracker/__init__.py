"""The SQL memory of decisions, agent outputs, outcomes, metrics and optimization runs.

Public names are imported lazily (PEP 562) so that importing this package, which
``promptloop --help`` does through its errors module, stays cheap.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "DecisionTracker": "tracker.store",
    "DecisionRecord": "tracker.store",
    "Case": "tracker.failures",
    "connect": "tracker.db",
    "upgrade_notice": "tracker.db",
    "read_transaction": "tracker.db",
    "write_transaction": "tracker.db",
    "resolve_outcomes": "tracker.resolve",
    "ResolveReport": "tracker.resolve",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
