"""Calibration: Brier score, ECE over 10 equal-width bins, the reliability table, a verdict.

Only calls with an outcome count. Bin k holds confidences in [k/10, (k+1)/10), with 1.0 in
the last bin. ECE is the count-weighted mean of |accuracy - mean confidence| over the bins.
The verdict compares mean confidence with accuracy over the whole sample (over- or
under-confident by how many points, and the bin where the gap is widest among bins with
enough calls); anything under MIN_SAMPLE calls is flagged as too small to conclude.
"""

from __future__ import annotations

from collections.abc import Sequence

from tracker.analysis.metrics import Cell, Tally, r4, rollup, total
from tracker.analysis.model import Calibration, CalibrationBin
from tracker.analysis.sql import BINS
from tracker.wording import plural

MIN_SAMPLE = 30  # fewer calls with an outcome than this: no conclusion
WELL_CALIBRATED = 0.05  # |mean confidence - accuracy| under this is called calibrated


def bin_label(k: int) -> str:
    return f"{k / BINS:.1f}-{(k + 1) / BINS:.1f}"


def calibration(cells: list[Cell]) -> Calibration:
    scored = [cell for cell in cells if cell.bin is not None]
    tallies = rollup(scored, lambda c: c.bin)
    bins = [_bin_row(k, tallies.get(k, Tally())) for k in range(BINS)]
    whole = total(scored)
    n = whole.with_outcome
    ece = sum(
        row.count / n * abs((row.accuracy or 0.0) - (row.mean_confidence or 0.0))
        for row in bins
        if row.count
    ) if n else None
    conf, acc = whole.confidence_when_resolved, whole.accuracy
    gap = conf - acc if conf is not None and acc is not None else None
    return Calibration(
        brier=r4(whole.brier), ece=r4(ece), count=n,
        mean_confidence=r4(whole.confidence_when_resolved), accuracy=r4(whole.accuracy),
        gap=r4(gap), bins=tuple(bins), verdict=verdict(bins, n, conf, acc),
        warnings=tuple(warnings(bins, n)),
    )


def _bin_row(k: int, tally: Tally) -> CalibrationBin:
    return CalibrationBin(
        lo=k / BINS, hi=(k + 1) / BINS, count=tally.with_outcome, decisions=tally.decisions,
        mean_confidence=r4(tally.confidence_when_resolved), accuracy=r4(tally.accuracy),
    )


def verdict(bins: Sequence[CalibrationBin], n: int, conf: float | None,
            acc: float | None) -> str:
    if not n or conf is None or acc is None:
        return "no calls with an outcome: calibration cannot be judged"
    gap = conf - acc
    numbers = f"mean confidence {conf:.2f} against accuracy {acc:.2f} (n={n})"
    if abs(gap) < WELL_CALIBRATED:
        text = f"well calibrated: {numbers}"
    else:
        side = "over" if gap > 0 else "under"
        text = f"{side}confident by {abs(gap) * 100:.0f} points: {numbers}"
        worst = _worst_bin(bins, gap > 0)
        if worst is not None:
            text += (
                f"; widest in {bin_label(round(worst.lo * BINS))} "
                f"(confidence {worst.mean_confidence or 0.0:.2f}, "
                f"right {(worst.accuracy or 0.0) * 100:.0f}%, n={worst.count})"
            )
    if n < MIN_SAMPLE:
        text = f"too few calls with an outcome to conclude (n={n} < {MIN_SAMPLE}); {text}"
    return text


def _worst_bin(bins: Sequence[CalibrationBin], over: bool) -> CalibrationBin | None:
    sign = 1 if over else -1

    def gap(b: CalibrationBin) -> float:  # a bin with calls has both numbers
        return sign * ((b.mean_confidence or 0.0) - (b.accuracy or 0.0))

    candidates = [b for b in bins if b.count >= MIN_SAMPLE and gap(b) > 0]
    return max(candidates, key=gap, default=None)


def warnings(bins: Sequence[CalibrationBin], n: int) -> list[str]:
    out = []
    if n == 0:
        out.append("no calls with an outcome in the window")
    elif n < MIN_SAMPLE:
        out.append(f"only {plural(n, 'call')} with an outcome (< {MIN_SAMPLE}): too few to "
                   "conclude")
    thin = [bin_label(k) for k, b in enumerate(bins) if 0 < b.count < MIN_SAMPLE]
    if thin and n >= MIN_SAMPLE:
        out.append(
            f"bins {', '.join(thin)} hold fewer than {MIN_SAMPLE} calls with an outcome: "
            "their accuracy is not conclusive"
        )
    return out
