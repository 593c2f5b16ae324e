"""The HTML report renders in headless Chromium, offline, with every chart drawn."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from cli.html_report import render_html
from tests.analysis.conftest import AGENT, UNTIL, call
from tracker.analysis import analyze_performance

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run")
EVIL = "</script><script>document.title='pwned'</script><b>bold</b>"  # a hostile reasoning


def _dump_dom(page: Path, profile: Path) -> str:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian package 'chromium'): HTML not rendered")
    result = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def _marks(dom: str) -> dict[str, int]:
    found = re.findall(r'<svg[^>]*data-chart="([^"]+)"[^>]*data-marks="(\d+)"', dom)
    return {f"{i}:{title}": int(n) for i, (title, n) in enumerate(found)}


@pytest.fixture
def database_url(tmp_path: Path) -> str:  # rendering is dialect-free: SQLite only
    return f"sqlite:///{tmp_path / 'html.db'}"


def test_charts_are_drawn(seed, tracker, tmp_path: Path) -> None:
    seed([
        call(50, "BUY", 0.85, 0.02, condition="bullish", sha="a" * 40),
        call(49, "SELL", 0.35, 0.02, condition="bearish", sha="a" * 40),
        call(20, "HOLD", 0.55, 0.001, condition="sideways", sha="b" * 40),
        call(19, "BUY", 0.65, None, condition="sideways", sha="b" * 40,
             reasoning=f"Bearish breakdown {EVIL}"),
    ])
    report = analyze_performance(tracker.engine, [AGENT], 30, until=UNTIL, store_metrics=False)
    page = tmp_path / "report.html"
    page.write_text(render_html(report), encoding="utf-8")
    dom = _dump_dom(page, tmp_path / "profile")

    status = re.search(r'id="render-status" data-charts="(\d+)" data-shapes="(\d+)"', dom)
    assert status is not None, dom[:2000]
    # team: reliability, conditions, over time; agent: the same and prompt versions
    assert int(status.group(1)) == 7
    assert _marks(dom) == {
        "0:Reliability diagram": 6,  # 3 bins with an outcome: a bar and a dot each
        "1:Accuracy by market condition": 3,
        "2:Accuracy over time": 2,  # 2 days: a dot each
        "3:Reliability diagram": 6,
        "4:Accuracy by market condition": 3,
        "5:Accuracy per prompt version": 2,
        "6:Accuracy over time": 2,
    }
    assert int(status.group(2)) == sum(_marks(dom).values())
    # the status line is for this test, not for the reader; lists have headings
    assert re.search(r'<p id="render-status"[^>]* hidden=""', dom)
    assert "charts drawn" not in dom
    assert "<h3>Warnings</h3>" in dom and "<h3>Inconsistencies</h3>" in dom
    assert "<p>4 calls, 3 with an outcome" in dom and "<p>1 calls" not in dom
    # the reasoning is quoted in a finding, as text: it neither runs nor becomes markup
    assert "<title>pwned</title>" not in dom and "<b>bold</b>" not in dom
    assert "&lt;b&gt;bold&lt;/b&gt;" in dom


def test_an_empty_window_renders_without_charts(tracker, tmp_path: Path) -> None:
    report = analyze_performance(tracker.engine, None, 30, until=UNTIL, store_metrics=False)
    page = tmp_path / "empty.html"
    page.write_text(render_html(report), encoding="utf-8")
    dom = _dump_dom(page, tmp_path / "profile")
    assert 'data-charts="0"' in dom
    assert "Reliability diagram: no calls with an outcome" in dom
