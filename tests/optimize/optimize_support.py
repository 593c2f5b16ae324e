"""Helpers of the optimize tests: workspace settings, recorded failures, critic transcripts.

- ``configure``: adds keys to [llm] and an [optimize] table.
- ``seed``: records decisions of MarketAnalyst with outcomes (failures and successes).
- Diffs against the example MarketAnalyst prompt: one that improves it, one that makes
  it vaguer, one whose context does not exist.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

AGENT = "MarketAnalyst"
API_KEY = "sk-test-SECRET-optimize-42"


GOOD_DIFF = """\
--- a/prompt
+++ b/prompt
@@ -38,3 +38,4 @@
 5. Combine. BUY when the trend is up and momentum supports it and RSI is below 70. SELL when
    the trend is down and momentum supports it and RSI is above 30. Otherwise HOLD.
-   If the signals seem mixed, use your judgement.
+   If the trend and `macd_hist` disagree, answer HOLD with a confidence of at most 0.55.
+   In a `volatile` market_condition, never give a confidence above 0.65.
"""

VAGUE_DIFF = """\
--- a/prompt
+++ b/prompt
@@ -38,3 +38,4 @@
 5. Combine. BUY when the trend is up and momentum supports it and RSI is below 70. SELL when
    the trend is down and momentum supports it and RSI is above 30. Otherwise HOLD.
    If the signals seem mixed, use your judgement.
+   Maybe consider various other factors as appropriate, perhaps use intuition if needed, etc.
"""

BAD_DIFF = """\
--- a/prompt
+++ b/prompt
@@ -12,2 +12,3 @@
 Always buy the dip, whatever the trend says.
+Unless it is Sunday.
"""


def critic_answer(diff: str, diagnosis: str = "The prompt leaves mixed signals to judgement, "
                  "so the agent stays confident when trend and momentum disagree.") -> str:
    return f"Diagnosis: {diagnosis}\n\n```diff\n{diff}```\n"


def configure(root: Path, llm: str = "", optimize: str = "") -> None:
    """Add keys to [llm] and an [optimize] table of the workspace's promptloop.toml."""
    path = root / "promptloop.toml"
    text = path.read_text().replace("[llm]\n", f"[llm]\n{llm}\n", 1)
    path.write_text(text + (f"\n[optimize]\n{optimize}\n" if optimize else ""))


def head(root: Path, ref: str = "HEAD") -> str:
    return subprocess.run(["git", "-C", str(root), "rev-parse", ref], capture_output=True,
                          text=True, check=True).stdout.strip()


def commit_message(root: Path, ref: str = "HEAD") -> str:
    return subprocess.run(["git", "-C", str(root), "log", "-1", "--format=%B", ref],
                          capture_output=True, text=True, check=True).stdout


def sqlite_url(root: Path) -> str:
    return f"sqlite:///{root / '.promptloop' / 'tracker.db'}"


def seed(url: str, failures: int = 1, successes: int = 0,
         reasoning: str = "Uptrend and RSI 64; momentum positive, so BUY.") -> list[int]:
    """MarketAnalyst's calls: failure n is a confident BUY n days ago before a 4 % drop
    (negative macd_hist in its context); success n a BUY n - 0.5 days ago before a 3 % rise
    (positive macd_hist). Returns the decision ids, failures first."""
    from tracker import DecisionTracker

    tracker = DecisionTracker(url)
    now = datetime.now(UTC).replace(microsecond=0)
    calls = [(timedelta(days=n), -0.04, 0.9) for n in range(1, failures + 1)]
    calls += [(timedelta(days=n - 0.5), 0.03, 0.8) for n in range(1, successes + 1)]
    ids = [_record(tracker, now - ago, ret, conf, reasoning) for ago, ret, conf in calls]
    tracker.close()
    return ids


def _record(tracker: Any, when: datetime, ret: float, confidence: float, reasoning: str) -> int:
    indicators = {"rsi_14": 64.2, "macd_hist": 15.0 if ret > 0 else -12.5, "sma_20": 63500.0,
                  "sma_50": 62000.0, "volatility": 0.025}
    context = {"symbol": "BTCUSDT", "price": 64000.0, "market_condition": "volatile",
               "indicators": indicators}
    decision = tracker.track_decision(
        session_id="test", symbol="BTCUSDT", timestamp=when, action="BUY",
        confidence=confidence, risk_level="LOW", reasoning=reasoning,
        market_condition="volatile", context=context,
        agent_outputs=[{"agent": AGENT, "prompt_sha": None, "action": "BUY",
                        "confidence": confidence, "risk_level": "LOW",
                        "reasoning": reasoning}])
    tracker.track_decision_outcome(decision, "return_24h", ret, details={"band": 0.005})
    return decision


def runs(url: str) -> list[dict[str, Any]]:
    from tracker import DecisionTracker

    tracker = DecisionTracker(url)
    try:
        return tracker.optimization_runs()
    finally:
        tracker.close()
