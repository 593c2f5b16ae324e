"""Walk-forward by time: where an optimize window is cut into "seen" and "judged".

The critic (or the offline engine) learns only from decisions before the cut; a candidate
is judged only on decisions after it. The cut is a point in time, never a count of cases,
so a pattern that held only early in the window meets the later decisions it would break.
"""

from __future__ import annotations

from datetime import datetime, timedelta

__all__ = ["DEFAULT_HOLDOUT_FRACTION", "time_cut"]

DEFAULT_HOLDOUT_FRACTION = 1 / 3


def time_cut(end: datetime, days: float, fraction: float = DEFAULT_HOLDOUT_FRACTION) -> datetime:
    """The cut of the window ``(end - days, end]`` that leaves its last ``fraction`` judged."""
    if not 0 < fraction < 1:
        raise ValueError(f"the held-out fraction must lie strictly between 0 and 1, not {fraction}")
    return end - timedelta(days=days) * fraction
