"""The analysis report as frozen dataclasses; ``to_dict()`` is the documented JSON.

:func:`tracker.analysis.analyze_performance` returns a :class:`Report`; the optimizer, the
CLI and the server read its attributes (``report.agents[name].calibration.brier``), so a
renamed or mistyped field is an error for mypy and at run time instead of a silent
``None``. The JSON that ``promptloop analyze --json`` prints (schema in docs/analysis.md,
its core fixed by DESIGN.md) is made only at the edges, by ``to_dict()``.

Each class's fields are its JSON keys, in the JSON's order: ``to_dict()`` turns the fields
into a dict, nested parts into dicts, tuples into lists. Two exceptions: the report's
window holds two datetimes (ISO 8601 strings in the JSON), and the team's block has no
``by_label`` (None here, absent from the JSON). Sequences are tuples; mappings are typed
read-only (``Mapping``) and are not to be changed.

Ratios are rounded to 4 places, or None when there is nothing to divide by.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, cast

from tracker.analysis.sql import Window

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "Block", "Calibration", "CalibrationBin", "ConditionPart", "Finding", "LabelRow",
    "Parameters", "PeriodPart", "Report", "Scope", "VersionPart",
]

Counts = Mapping[str, int]  # action or inconsistency kind -> how many


def _plain(value: Any) -> Any:
    if isinstance(value, _Part):
        return value.to_dict()
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    return value


class _Part:
    """``to_dict()`` for the dataclasses below: their fields, in order, as plain values."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name))
                for f in fields(cast("DataclassInstance", self))}


@dataclass(frozen=True, slots=True)
class CalibrationBin(_Part):
    """Confidences in [lo, hi) (1.0 in the last bin); ``count``: calls with an outcome."""

    lo: float
    hi: float
    count: int
    decisions: int
    mean_confidence: float | None
    accuracy: float | None


@dataclass(frozen=True, slots=True)
class Calibration(_Part):
    brier: float | None
    ece: float | None
    count: int  # calls with an outcome
    mean_confidence: float | None
    accuracy: float | None
    gap: float | None  # mean confidence - accuracy
    bins: tuple[CalibrationBin, ...]
    verdict: str
    warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ConditionPart(_Part):
    """One market condition of a block."""

    decisions: int
    with_outcome: int
    accuracy: float | None
    avg_return: float | None
    mean_confidence: float | None
    actions: Counts


@dataclass(frozen=True, slots=True)
class VersionPart(_Part):
    """One prompt version of an agent's block, with the 95% Wilson interval."""

    version: str  # "vN", else the short sha ("unknown" without a sha)
    decisions: int
    with_outcome: int
    accuracy: float | None
    avg_return: float | None
    mean_confidence: float | None
    ci_low: float | None
    ci_high: float | None
    brier: float | None
    first_seen: str  # the period the version was first used in
    last_seen: str


@dataclass(frozen=True, slots=True)
class PeriodPart(_Part):
    """One day (or week, from its Monday) of a block."""

    period: str
    decisions: int
    with_outcome: int
    accuracy: float | None
    avg_return: float | None
    mean_confidence: float | None


@dataclass(frozen=True, slots=True)
class Finding(_Part):
    """An inconsistency: an earlier and a later call for the pair kinds, one call for
    ``reasoning_contradicts_action``; ids of the ``decisions`` table."""

    kind: str
    decision_ids: tuple[int, ...]
    detail: str


@dataclass(frozen=True, slots=True)
class Scope(_Part):
    """How many BUY/SELL calls the inconsistency checks read, out of how many."""

    checked: int
    directional_calls: int


@dataclass(frozen=True, slots=True)
class LabelRow(_Part):
    """A label (production or a shadow) on the decisions that have a shadow call."""

    label: str
    shadow: bool
    prompt_sha: str | None
    version: str | None
    decisions: int
    with_outcome: int
    accuracy: float | None
    ci_low: float | None
    ci_high: float | None
    brier: float | None


@dataclass(frozen=True, slots=True)
class Block(_Part):
    """One agent's own calls, or (``by_label`` None) the team's final decisions."""

    decisions: int
    with_outcome: int
    accuracy: float | None
    avg_return: float | None
    mean_confidence: float | None
    errors: int
    actions: Counts
    calibration: Calibration
    by_market_condition: Mapping[str, ConditionPart]
    by_prompt_version: Mapping[str, VersionPart]  # sha -> part; empty for the team
    over_time: tuple[PeriodPart, ...]
    inconsistencies: tuple[Finding, ...]  # the listed ones, newest first
    inconsistency_counts: Counts  # every one found, per kind
    inconsistency_scope: Scope
    suggestions: tuple[str, ...]
    by_label: tuple[LabelRow, ...] | None = None

    @property
    def inconsistencies_found(self) -> int:
        return sum(self.inconsistency_counts.values())

    def to_dict(self) -> dict[str, Any]:
        out = _Part.to_dict(self)
        if self.by_label is None:
            del out["by_label"]
        return out


@dataclass(frozen=True, slots=True)
class Parameters(_Part):
    days: int
    outcome_type: str
    band: float
    period: str  # "day" or "week"
    contradiction_window_hours: float
    contradiction_rsi_tolerance: float
    max_checked: int


@dataclass(frozen=True, slots=True)
class Report(_Part):
    """The whole report: the window [start, end), the team's block and one per agent."""

    window: Window
    parameters: Parameters
    overall: Block
    agents: Mapping[str, Block]  # in the order asked, else sorted
    stored_metrics: int = 0  # rows written to performance_metrics

    def to_dict(self) -> dict[str, Any]:
        return {
            "window": {"start": self.window.start.isoformat(),
                       "end": self.window.end.isoformat()},
            "parameters": self.parameters.to_dict(),
            "overall": self.overall.to_dict(),
            "agents": _plain(self.agents),
            "stored_metrics": self.stored_metrics,
        }
