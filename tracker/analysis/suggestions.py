"""Suggestions: what to change in a prompt, each derived from a finding and its numbers.

Every rule below fires only on evidence: a group needs at least MIN_SAMPLE calls with an
outcome, a calibration gap at least GAP points, an accuracy at least MARGIN under the block's
own. Nothing outcome-based is said when a block has fewer than MIN_SAMPLE outcomes (its
calibration warnings say so); inconsistencies need no outcome. The text names the group,
the numbers and one concrete change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from tracker.analysis.calibration import MIN_SAMPLE, bin_label
from tracker.analysis.metrics import UNKNOWN, Cell, Tally, rollup, total
from tracker.analysis.model import Block, VersionPart

GAP = 0.15  # calibration gap (mean confidence - accuracy) worth a suggestion
MARGIN = 0.10  # an action/condition this far under the block's accuracy is singled out
WEAK = 0.45  # ...and under this accuracy outright
BIAS_SHARE = 0.6  # an action used on this share of calls or more
MAX_PER_RULE = 2


def suggest(name: str, cells: list[Cell], block: Block) -> list[str]:
    """The suggestions for ``block`` (its own are not read), made from its ``cells``."""
    overall = total(cells)
    rules: list[Callable[[], list[str]]] = [lambda: _inconsistencies(name, block)]
    if overall.with_outcome >= MIN_SAMPLE:
        rules[:0] = [
            lambda: _miscalibrated(name, cells),
            lambda: _weak_action_in_condition(name, cells, overall),
            lambda: _action_bias(name, overall, cells),
            lambda: _version_regression(name, block.by_prompt_version),
        ]
    return [text for rule in rules for text in rule()[:MAX_PER_RULE]]


def _markets(condition: str) -> str:
    return f"{condition} markets" if condition != UNKNOWN else "markets of unknown condition"


def _pct(x: float | None) -> str:
    return f"{(x or 0) * 100:.0f}%"


def _miscalibrated(name: str, cells: list[Cell]) -> list[str]:
    """Confidence bins, per market condition, whose accuracy is GAP away from their confidence."""
    tallies = rollup(
        (c for c in cells if c.bin is not None), lambda c: (c.condition or UNKNOWN, c.bin)
    )
    found = []
    for (condition, k), t in tallies.items():
        if t.with_outcome < MIN_SAMPLE:
            continue
        gap = (t.confidence_when_resolved or 0) - (t.accuracy or 0)
        if abs(gap) >= GAP:
            found.append((abs(gap) * t.with_outcome, condition, k, gap, t))
    out = []
    for _, condition, k, gap, t in sorted(found, key=lambda f: -f[0]):
        head = (
            f"{name} is {'over' if gap > 0 else 'under'}confident in {_markets(condition)}: "
            f"its {bin_label(k)} confidence calls were right {_pct(t.accuracy)} of the time "
            f"(n={t.with_outcome}, mean confidence {t.confidence_when_resolved:.2f})"
        )
        markets = _markets(condition)
        action = (
            f"state when to lower confidence in {markets}"
            if gap > 0 else f"say which evidence in {markets} justifies higher confidence"
        )
        out.append(f"{head}; {action}.")
    return out


def _weak_action_in_condition(name: str, cells: list[Cell], overall: Tally) -> list[str]:
    tallies = rollup(cells, lambda c: (c.action, c.condition or UNKNOWN))
    base = overall.accuracy or 0.0
    weak = [
        (action, condition, t) for (action, condition), t in tallies.items()
        if t.with_outcome >= MIN_SAMPLE and (t.accuracy or 0) < min(WEAK, base - MARGIN)
    ]
    weak.sort(key=lambda w: (w[2].accuracy or 0, -w[2].with_outcome))
    return [
        f"{name}'s {action} calls in {_markets(condition)} were right {_pct(t.accuracy)} of "
        f"the time (n={t.with_outcome}, against {_pct(base)} over all its calls); add a rule "
        f"for when not to {action} in {_markets(condition)}."
        for action, condition, t in weak
    ]


def _action_bias(name: str, overall: Tally, cells: list[Cell]) -> list[str]:
    by_action = rollup(cells, lambda c: c.action)
    out = []
    for action, t in by_action.items():
        share = t.decisions / overall.decisions if overall.decisions else 0
        if share >= BIAS_SHARE and t.with_outcome >= MIN_SAMPLE and (t.accuracy or 0) < WEAK:
            out.append(
                f"{name} answers {action} on {_pct(share)} of its calls, but {action} was right "
                f"only {_pct(t.accuracy)} of the time (n={t.with_outcome}); state the conditions "
                f"for the other actions explicitly."
            )
    return out


def _version_regression(name: str, versions: Mapping[str, VersionPart]) -> list[str]:
    """A version whose 95% interval lies wholly under the previous version's."""
    rows = [v for v in versions.values() if v.ci_low is not None and v.ci_high is not None]
    out = []
    for before, after in zip(rows, rows[1:], strict=False):
        if min(before.with_outcome, after.with_outcome) < MIN_SAMPLE:
            continue
        if (after.ci_high or 0.0) < (before.ci_low or 0.0):
            out.append(
                f"{name}'s accuracy fell from {_pct(before.accuracy)} ({before.version}, "
                f"n={before.with_outcome}) to {_pct(after.accuracy)} ({after.version}, "
                f"n={after.with_outcome}), beyond both 95% intervals; review what "
                f"{after.version} changed and restore the instructions it dropped."
            )
    return out


def _inconsistencies(name: str, block: Block) -> list[str]:
    counts = block.inconsistency_counts
    examples: dict[str, list[str]] = {}
    for item in block.inconsistencies:
        ids = "/".join(f"#{i}" for i in item.decision_ids)
        examples.setdefault(item.kind, []).append(ids)
    texts = {
        "contradictory_calls": (
            "{n} {pairs} of opposite calls on similar inputs (same symbol and condition, "
            "indicators agreeing; e.g. {ex}); state which signal decides between "
            "BUY and SELL when they disagree."
        ),
        "confidence_flip_flop": (
            "{n} confident (>= 0.7) {reversals} on near-identical inputs (e.g. {ex}); require "
            "a lower confidence, or HOLD, when the signals are mixed."
        ),
        "reasoning_contradicts_action": (
            "{n} {calls} whose reasoning argues for the other side (e.g. {ex}); require the "
            "action to follow from the reasoning and to name the decisive signal."
        ),
    }
    out = []
    for kind, text in texts.items():
        n = counts.get(kind, 0)
        if n:
            ex = ", ".join(examples.get(kind, [])[:3])
            words = {w: w if n != 1 else w[:-1] for w in ("pairs", "reversals", "calls")}
            out.append(f"{name}: " + text.format(n=n, ex=ex, **words))
    return out
