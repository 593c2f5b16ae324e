"""The tracker's tables as SQLAlchemy Core tables, for the queries of the store and of the
package's query modules (the ORM models in :mod:`tracker.models` define them)."""

from __future__ import annotations

from typing import cast

import sqlalchemy as sa

from tracker.models import AgentOutput, Decision, OptimizationRun, Outcome, PerformanceMetric

__all__ = ["DECISIONS", "METRICS", "OUTCOMES", "OUTPUTS", "RUNS"]

DECISIONS = cast(sa.Table, Decision.__table__)
OUTPUTS = cast(sa.Table, AgentOutput.__table__)
OUTCOMES = cast(sa.Table, Outcome.__table__)
METRICS = cast(sa.Table, PerformanceMetric.__table__)
RUNS = cast(sa.Table, OptimizationRun.__table__)
