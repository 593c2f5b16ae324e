"""Small inline SVG charts for the dashboard, drawn on the server.

The HTML report (``cli/html_report.py``) draws its charts in the browser from embedded JSON;
the server may not import ``cli/``, and the dashboard must show charts without running a
script, so these are drawn here as SVG strings. Every text that reaches an SVG goes through
:func:`html.escape`; the numbers are formatted by us. Each chart is a ``viewBox`` scaled to
its container by CSS, so it reads at 1280 px and on a phone alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from tracker.analysis.model import CalibrationBin, PeriodPart

W, H, LEFT, RIGHT, TOP, BOTTOM = 360, 220, 40, 10, 12, 36


def _y(value: float) -> float:
    return TOP + (1 - value) * (H - TOP - BOTTOM)


def _frame(title: str, x_label: str, body: list[str]) -> str:
    grid = []
    for value in (0, 0.5, 1):
        y = _y(value)
        grid.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                    'stroke="#e5e5e5"/>')
        grid.append(f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">'
                    f'{int(value * 100)}%</text>')
    label = (f'<text x="{(LEFT + W - RIGHT) / 2:.0f}" y="{H - 6}" text-anchor="middle">'
             f'{escape(x_label)}</text>')
    return (f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" '
            f'aria-label="{escape(title)}" data-chart="{escape(title)}">'
            + "".join(grid + body) + label + "</svg>")


def reliability(bins: Sequence[CalibrationBin]) -> str | None:
    """Observed accuracy against stated confidence per bin; the diagonal is perfect."""
    used = [(b, b.accuracy) for b in bins if b.count and b.accuracy is not None]
    if not used:
        return None

    def x(value: float) -> float:
        return LEFT + value * (W - LEFT - RIGHT)

    body = [f'<line x1="{x(0):.1f}" y1="{_y(0):.1f}" x2="{x(1):.1f}" y2="{_y(1):.1f}" '
            'stroke="#999" stroke-dasharray="4 3"/>']
    body += [f'<text x="{x(v):.1f}" y="{_y(0) + 13:.1f}" text-anchor="middle">{v:g}</text>'
             for v in (0, 0.5, 1)]
    for b, accuracy in used:
        left, right = x(b.lo) + 1, x(b.hi) - 1
        top = _y(accuracy)
        body.append(f'<rect class="mark" x="{left:.1f}" y="{top:.1f}" '
                    f'width="{max(right - left, 1):.1f}" height="{_y(0) - top:.1f}" '
                    f'fill="#4a7ebb"><title>{b.count} calls, confidence '
                    f'{b.lo:.1f}-{b.hi:.1f}: '
                    f'{100 * accuracy:.0f}% right</title></rect>')
    return _frame("Reliability diagram", "stated confidence", body)


def accuracy_over_time(points: Sequence[PeriodPart],
                       markers: list[tuple[str, str]] | None = None) -> str | None:
    """Accuracy per period as a line; ``markers`` (period, label): dashed vertical lines
    where a prompt version or label move took effect."""
    used = [(p, p.accuracy) for p in points if p.accuracy is not None]
    if not used:
        return None
    step = (W - LEFT - RIGHT) / max(len(used) - 1, 1)

    def x(index: int) -> float:
        return LEFT + index * step if len(used) > 1 else (LEFT + W - RIGHT) / 2

    path = " ".join(f"{x(i):.1f},{_y(a):.1f}" for i, (_, a) in enumerate(used))
    body = [f'<polyline points="{path}" fill="none" stroke="#4a7ebb" stroke-width="2"/>']
    body += [f'<circle class="mark" cx="{x(i):.1f}" cy="{_y(a):.1f}" r="3" '
             f'fill="#4a7ebb"><title>{escape(p.period)}: '
             f'{100 * a:.0f}% of {p.with_outcome}</title></circle>'
             for i, (p, a) in enumerate(used)]
    periods = [p.period for p, _ in used]
    body += _markers(markers or [], periods, x)
    span = f"{periods[0]} to {periods[-1]}" if len(periods) > 1 else periods[0]
    return _frame("Accuracy over time", span, body)


def _markers(markers: list[tuple[str, str]], periods: list[str],
             x: Callable[[int], float]) -> list[str]:
    """One dashed line per period where versions or labels took effect, named together
    (several on one day share a line), its text kept inside the chart."""
    names: dict[int, list[str]] = {}
    for period, name in markers:
        index = next((i for i, p in enumerate(periods) if p >= period), None)
        if index is not None and name not in names.setdefault(index, []):
            names[index].append(name)
    body = []
    for index, listed in sorted(names.items()):
        at = x(index)
        anchor, shift = ("end", -3) if at > W / 2 else ("start", 3)
        body.append(f'<line class="marker" x1="{at:.1f}" x2="{at:.1f}" y1="{TOP}" '
                    f'y2="{_y(0):.1f}" stroke="#b06000" stroke-dasharray="3 3"/>'
                    f'<text x="{at + shift:.1f}" y="{TOP + 10}" fill="#b06000" '
                    f'text-anchor="{anchor}">{escape(", ".join(listed))}</text>')
    return body
