"""Helpers of the optimize tests: workspace settings, recorded failures, critic transcripts.

- ``configure``: adds keys to [llm] and an [optimize] table.
- ``seed``: records decisions of MarketAnalyst with outcomes (failures and successes)
  before the walk-forward cut of the default 30-day window (10 days ago): the critic's.
- ``seed_held_out``: decisions after the cut, enough (``min_holdout`` = 20) for a replay
  verdict; ``scripted`` answers critic requests from a list and replays the agent: with
  GOOD_DIFF's line it sells on negative momentum, so GOOD_DIFF fixes every held-out failure.
- Diffs against the example MarketAnalyst prompt: one that improves it, one that makes
  it vaguer, one whose context does not exist.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from llm_stub_server import Reply, failure

AGENT = "MarketAnalyst"
API_KEY = "sk-test-SECRET-optimize-42"
CRITIC = "You are a senior prompt engineer"
GOOD_LINE = "If the trend and `macd_hist` disagree, answer HOLD with a confidence of at most 0.55."
BEFORE_CUT = 10  # days: the default window (30 days) is cut 10 days before its end


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
    """MarketAnalyst's calls before the cut: failure n is a confident BUY 10 + n days ago
    before a 4 % drop (negative macd_hist in its context); success n a BUY 10 + n - 0.5 days
    ago before a 3 % rise (positive macd_hist). Returns the decision ids, failures first."""
    from tracker import DecisionTracker

    tracker = DecisionTracker(url)
    now = datetime.now(UTC).replace(microsecond=0)
    calls = [(timedelta(days=BEFORE_CUT + n), -0.04, 0.9) for n in range(1, failures + 1)]
    calls += [(timedelta(days=BEFORE_CUT + n - 0.5), 0.03, 0.8)
              for n in range(1, successes + 1)]
    ids = [_record(tracker, now - ago, ret, conf, reasoning) for ago, ret, conf in calls]
    tracker.close()
    return ids


def seed_held_out(url: str, failures: int = 8, successes: int = 12) -> list[int]:
    """Calls after the cut (the last 10 days), failures and successes interleaved in time,
    like ``seed``'s. Returns the decision ids in time order."""
    from tracker import DecisionTracker

    tracker = DecisionTracker(url)
    now = datetime.now(UTC).replace(microsecond=0)
    spread = [((k + 0.5) / failures, "failure") for k in range(failures)]
    spread += [((k + 0.25) / successes, "success") for k in range(successes)]
    kinds = [kind for _, kind in sorted(spread)]  # interleaved in time
    total = len(kinds)
    ids = []
    for n, kind in enumerate(kinds):
        when = now - timedelta(days=(total - n) * (BEFORE_CUT - 1) / total)
        ret, conf = (-0.04, 0.9) if kind == "failure" else (0.03, 0.8)
        ids.append(_record(tracker, when, ret, conf, "held out"))
    tracker.close()
    return ids


def scripted(*critic_replies: Reply, good_line: str = GOOD_LINE
             ) -> Callable[[dict[str, Any]], Reply]:
    """A stub script: critic requests get the next of ``critic_replies`` (then HTTP 400);
    an agent call is answered as an agent would: with ``good_line`` in its prompt it sells
    on negative momentum, else it buys."""
    queue = list(critic_replies)

    def script(request: dict[str, Any]) -> Reply:
        system, user = request["messages"][:2]
        if system["content"].startswith(CRITIC):
            return queue.pop(0) if queue else failure(400, message="stub: no critic answer")
        negative = re.search(r'"macd_hist":\s*-', user["content"]) is not None
        action = "SELL" if good_line in system["content"] and negative else "BUY"
        return Reply(text=json.dumps({"action": action, "confidence": 0.6,
                                      "risk_level": "MEDIUM", "reasoning": "replayed"}))

    return script


def critic_requests(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in requests if r["messages"][0]["content"].startswith(CRITIC)]


def _record(tracker: Any, when: datetime, ret: float, confidence: float, reasoning: str) -> int:
    indicators = {"rsi_14": 64.2, "macd_hist": 15.0 if ret > 0 else -12.5, "sma_20": 63500.0,
                  "sma_50": 62000.0, "volatility": 0.025}
    price = 64000.0 + when.timestamp() % 997  # every context differs: no replay is cached
    context = {"symbol": "BTCUSDT", "price": price, "market_condition": "volatile",
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
