"""The standalone HTML report of ``promptloop analyze --html FILE``.

One file, no network: the report's JSON (``Report.to_dict()``) is embedded in a
``<script type="application/json">`` element and a small inline script draws the charts as
SVG for every block (the team's final decisions and each agent): the reliability diagram,
accuracy by market condition, accuracy per prompt version with its 95% interval, and
accuracy over time. Every text from the database reaches the page through ``textContent``
(never as HTML), and the embedded JSON has ``<`` escaped so no value can close the script
element.

When the script is done it records what it drew: ``#render-status`` (which tells a reader
without JavaScript that the charts need it, and is hidden once they are drawn) gets
``data-charts`` and ``data-shapes`` (data marks in all), every chart's
``<svg data-chart="...">`` gets ``data-marks`` (its bars and dots); the headless-browser test
reads them from the DOM. The warnings, inconsistencies and suggestions of a block are lists
under their own headings.
"""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tracker.analysis.model import Report

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1b1f24;background:#fff}
h1{font-size:20px} h2{font-size:17px;margin-top:32px;border-bottom:1px solid #ddd}
.charts{display:flex;flex-wrap:wrap;gap:18px}
figure{margin:0;border:1px solid #e3e3e3;border-radius:6px;padding:8px}
figcaption{font-weight:600;margin-bottom:4px}
table{border-collapse:collapse;margin:8px 0} td,th{padding:3px 8px;border-bottom:1px solid #eee;
text-align:right} td:first-child,th:first-child{text-align:left}
.suggestion{color:#084c8d;font-weight:600} .warning{color:#9a6700} .finding{color:#6f42c1}
.empty{color:#777;font-style:italic}
"""

_SCRIPT = r"""
(function () {
  const report = JSON.parse(document.getElementById('report-data').textContent);
  const NS = 'http://www.w3.org/2000/svg';
  const W = 360, H = 240, L = 44, R = 12, T = 14, B = 46;
  let charts = 0, shapes = 0;
  const el = (tag, attrs, parent) => {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (parent) parent.appendChild(node);
    if (attrs && attrs.class === 'mark') shapes++;
    return node;
  };
  const text = (parent, x, y, s, attrs) => {
    const t = el('text', Object.assign({x: x, y: y, 'font-size': 11}, attrs || {}), parent);
    t.textContent = s;
    return t;
  };
  const pct = v => v === null || v === undefined ? '–' : (100 * v).toFixed(1) + '%';
  function frame(container, title, xLabel) {
    const fig = document.createElement('figure');
    const cap = document.createElement('figcaption');
    cap.textContent = title;
    fig.appendChild(cap);
    const svg = el('svg', {width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img'});
    svg.setAttribute('data-chart', title);
    fig.appendChild(svg);
    container.appendChild(fig);
    const y = v => T + (1 - v) * (H - T - B);
    for (const v of [0, 0.25, 0.5, 0.75, 1]) {
      el('line', {x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: '#eee'}, svg);
      text(svg, L - 6, y(v) + 4, (v * 100) + '%', {'text-anchor': 'end'});
    }
    text(svg, (L + W - R) / 2, H - 6, xLabel, {'text-anchor': 'middle'});
    charts++;
    return {svg: svg, y: y};
  }
  function empty(container, title) {
    const p = document.createElement('p');
    p.className = 'empty';
    p.textContent = title + ': no calls with an outcome';
    container.appendChild(p);
  }
  function reliability(container, cal) {
    const bins = cal.bins.filter(b => b.count > 0);
    if (!bins.length) return empty(container, 'Reliability diagram');
    const f = frame(container, 'Reliability diagram', 'confidence');
    const x = v => L + v * (W - L - R);
    el('line', {x1: x(0), y1: f.y(0), x2: x(1), y2: f.y(1), stroke: '#999',
                'stroke-dasharray': '4 3'}, f.svg);
    for (const b of cal.bins) {
      if (!b.count) continue;
      const bar = el('rect', {x: x(b.lo) + 2, width: x(b.hi) - x(b.lo) - 4, y: f.y(b.accuracy),
        height: f.y(0) - f.y(b.accuracy), fill: b.count < 30 ? '#b6c8e6' : '#3d6cb9',
        class: 'mark'}, f.svg);
      const tip = el('title', {}, bar);
      tip.textContent = `${b.lo.toFixed(1)}-${b.hi.toFixed(1)}: right ${pct(b.accuracy)}, ` +
        `mean confidence ${b.mean_confidence.toFixed(2)}, n=${b.count}`;
      el('circle', {cx: x(b.mean_confidence), cy: f.y(b.accuracy), r: 3, fill: '#c0392b',
                    class: 'mark'}, f.svg);
    }
    for (const v of [0, 0.5, 1]) text(f.svg, x(v), f.y(0) + 14, v.toFixed(1),
                                      {'text-anchor': 'middle'});
  }
  function bars(container, title, xLabel, items) {
    const shown = items.filter(i => i.accuracy !== null);
    if (!shown.length) return empty(container, title);
    const f = frame(container, title, xLabel);
    const step = (W - L - R) / shown.length;
    shown.forEach((item, i) => {
      const x0 = L + i * step + step * 0.15, w = step * 0.7;
      const bar = el('rect', {x: x0, width: w, y: f.y(item.accuracy),
        height: f.y(0) - f.y(item.accuracy), fill: '#2e8b57', class: 'mark'}, f.svg);
      el('title', {}, bar).textContent = `${item.label}: ${pct(item.accuracy)} (n=${item.n})`;
      if (item.lo !== undefined && item.lo !== null) {
        el('line', {x1: x0 + w / 2, x2: x0 + w / 2, y1: f.y(item.lo), y2: f.y(item.hi),
                    stroke: '#222', 'stroke-width': 1.5}, f.svg);
      }
      text(f.svg, x0 + w / 2, f.y(0) + 14, item.label.slice(0, 12), {'text-anchor': 'middle'});
    });
  }
  function line(container, points) {
    const shown = points.filter(p => p.accuracy !== null);
    if (!shown.length) return empty(container, 'Accuracy over time');
    const f = frame(container, 'Accuracy over time', 'period');
    const x = i => L + (shown.length === 1 ? 0.5 : i / (shown.length - 1)) * (W - L - R);
    const path = shown.map((p, i) => `${i ? 'L' : 'M'}${x(i)},${f.y(p.accuracy)}`).join(' ');
    el('path', {d: path, fill: 'none', stroke: '#8e44ad', 'stroke-width': 2}, f.svg);
    shown.forEach((p, i) => {
      const dot = el('circle', {cx: x(i), cy: f.y(p.accuracy), r: 2.5, fill: '#8e44ad',
                                class: 'mark'}, f.svg);
      el('title', {}, dot).textContent = `${p.period}: ${pct(p.accuracy)} (n=${p.with_outcome})`;
    });
    if (shown.length === 1) {
      text(f.svg, x(0), f.y(0) + 14, shown[0].period, {'text-anchor': 'middle'});
    } else {
      text(f.svg, x(0), f.y(0) + 14, shown[0].period, {'text-anchor': 'start'});
      text(f.svg, x(shown.length - 1), f.y(0) + 14, shown[shown.length - 1].period,
           {'text-anchor': 'end'});
    }
  }
  const plural = (n, noun) => `${n} ${noun}${n === 1 ? '' : 's'}`;
  function list(parent, cls, heading, items) {
    if (!items.length) return;
    const h = document.createElement('h3');
    h.textContent = heading;
    parent.appendChild(h);
    const ul = document.createElement('ul');
    for (const s of items) {
      const li = document.createElement('li');
      li.className = cls;
      li.textContent = s;
      ul.appendChild(li);
    }
    parent.appendChild(ul);
  }
  function block(title, b) {
    const section = document.createElement('section');
    const h = document.createElement('h2');
    h.textContent = title;
    section.appendChild(h);
    const p = document.createElement('p');
    p.textContent = `${plural(b.decisions, 'call')}, ${b.with_outcome} with an outcome, accuracy ` +
      `${pct(b.accuracy)}, Brier ${b.calibration.brier ?? '–'}, ECE ${b.calibration.ece ?? '–'}. ` +
      `Calibration: ${b.calibration.verdict}.`;
    section.appendChild(p);
    list(section, 'warning', 'Warnings', b.calibration.warnings);
    const grid = document.createElement('div');
    grid.className = 'charts';
    section.appendChild(grid);
    reliability(grid, b.calibration);
    bars(grid, 'Accuracy by market condition', 'market condition',
         Object.entries(b.by_market_condition).map(([k, v]) =>
           ({label: k, accuracy: v.accuracy, n: v.with_outcome})));
    const versions = Object.values(b.by_prompt_version);
    if (versions.length) {
      bars(grid, 'Accuracy per prompt version', 'prompt version (95% interval)',
           versions.map(v => ({label: v.version, accuracy: v.accuracy, n: v.with_outcome,
                               lo: v.ci_low, hi: v.ci_high})));
    }
    line(grid, b.over_time);
    const found = Object.values(b.inconsistency_counts).reduce((a, n) => a + n, 0);
    const listed = b.inconsistencies.slice(0, 10);
    list(section, 'finding', listed.length < found
      ? `Inconsistencies (${listed.length} of ${found})` : 'Inconsistencies',
      listed.map(i => i.detail));
    list(section, 'suggestion', 'Suggestions', b.suggestions);
    document.getElementById('blocks').appendChild(section);
  }
  block('Team (final decisions)', report.overall);
  for (const [name, b] of Object.entries(report.agents)) block(name, b);
  const status = document.getElementById('render-status');
  status.setAttribute('data-charts', charts);
  status.setAttribute('data-shapes', shapes);
  for (const svg of document.querySelectorAll('svg[data-chart]')) {
    svg.setAttribute('data-marks', svg.querySelectorAll('.mark').length);
  }
  status.hidden = true;  // the note is for pages opened without JavaScript
})();
"""


def render_html(report: Report) -> str:
    """The whole page for one ``analyze_performance`` report (its ``to_dict()`` embedded)."""
    window = report.window
    title = f"promptloop analysis, {window.start:%Y-%m-%d} to {window.end:%Y-%m-%d}"
    data = json.dumps(report.to_dict(), default=str).replace("<", "\\u003c")
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        "<p id=\"render-status\" data-charts=\"0\" data-shapes=\"0\">"
        "The charts need JavaScript.</p><div id=\"blocks\"></div>"
        f"<script type=\"application/json\" id=\"report-data\">{data}</script>"
        f"<script>{_SCRIPT}</script></body></html>\n"
    )
