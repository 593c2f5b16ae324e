"""The SQL memory of decisions, agent outputs, outcomes, metrics and optimization runs.

Public names are imported lazily (PEP 562) so that importing this package, which
``promptloop --help`` does through its errors module, stays cheap.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:  # the real types for mypy; at run time __getattr__ imports lazily
    from tracker.db import connect as connect
    from tracker.db import read_transaction as read_transaction
    from tracker.db import upgrade_notice as upgrade_notice
    from tracker.db import write_transaction as write_transaction
    from tracker.failures import Case as Case
    from tracker.resolve import ResolveReport as ResolveReport
    from tracker.resolve import resolve_outcomes as resolve_outcomes
    from tracker.store import DecisionRecord as DecisionRecord
    from tracker.store import DecisionTracker as DecisionTracker

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
