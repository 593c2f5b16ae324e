"""The reasoning/action lexicon: a labeled corpus and its accuracy, and the rules one by one."""

from __future__ import annotations

import pytest

from tracker.analysis.lexicon import contradicts, stance

# (action, reasoning, contradicts?) — short reasonings as agents write them.
CORPUS = [
    ("BUY", "RSI is oversold and a bullish divergence formed on the 4h chart.", False),
    ("BUY", "Clean breakout above resistance with strong buying pressure.", False),
    ("BUY", "Uptrend intact: higher highs and higher lows, golden cross confirmed.", False),
    ("BUY", "Bearish breakdown below support, selling pressure is heavy.", True),
    ("BUY", "Price is in a clear downtrend with lower lows; momentum is fading.", True),
    ("BUY", "RSI overbought and rejected at resistance, a sell-off looks likely.", True),
    ("BUY", "Despite the bearish headlines, the breakout holds and demand is rising.", False),
    ("BUY", "The market is not bearish anymore and a rebound is underway.", False),
    ("BUY", "No sign of weakness; strong momentum into the close.", False),
    ("BUY", "Trend is down, but RSI is oversold and a bounce is starting.", False),
    ("BUY", "Momentum isn't bullish and the price keeps falling.", True),
    ("BUY", "Funding is neutral and volume is average.", False),
    ("BUY", "Although the trend is bullish, a death cross just printed and outflows grow.",
     True),
    ("SELL", "Bearish engulfing candle after rejection at resistance.", False),
    ("SELL", "Lower highs and lower lows; the downtrend continues.", False),
    ("SELL", "Overbought RSI with negative momentum and distribution on volume.", False),
    ("SELL", "Bullish momentum with a breakout above resistance and strong demand.", True),
    ("SELL", "RSI oversold, price rebounding from support, uptrend resuming.", True),
    ("SELL", "Golden cross and accumulation by large holders; the rally continues.", True),
    ("SELL", "Even though the chart looks bullish, the breakdown below support decides.",
     False),
    ("SELL", "This is not a breakout; selling pressure is building.", False),
    ("SELL", "Price is not rising and the rally failed, a decline is likely.", False),
    ("SELL", "The uptrend is strong, however weakness in volume suggests a top.", False),
    ("SELL", "No downtrend yet, but the bounce looks strong and buyers are surging.", True),
    ("SELL", "Sideways chop with low volume; taking profits.", False),
    ("SELL", "Strong uptrend with higher highs, yet we sell.", True),
    ("HOLD", "Bullish breakout, strong demand, rally underway.", False),
    ("HOLD", "Bearish breakdown with heavy selling pressure.", False),
    ("BUY", "Not overbought, no rejection, and the recovery is gaining strength.", False),
    ("SELL", "Momentum is not bearish and the price is recovering quickly.", True),
    ("BUY", "Capitulation volume and a plunge through support; more downside ahead.", True),
    ("SELL", "Bullish? Not at all. Price broke below support and is dropping.", False),
    ("BUY", "Lack of selling pressure and an oversold bounce from support.", False),
    ("SELL", "Overvalued after the surge; distribution is visible.", False),
]


def test_corpus_is_big_enough_and_balanced() -> None:
    assert len(CORPUS) >= 30
    positives = sum(label for _, _, label in CORPUS)
    assert 10 <= positives <= len(CORPUS) - 10


def test_accuracy_on_the_labeled_corpus() -> None:
    misses = [(a, t) for a, t, label in CORPUS if (contradicts(a, t) is not None) != label]
    accuracy = 1 - len(misses) / len(CORPUS)
    assert accuracy >= 0.95, misses


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("bullish", "bullish"),
        ("not bullish", "neutral"),  # a lone negated term weighs half: no conclusion
        ("not bullish, and falling", "bearish"),
        ("no rally and no bounce", "bearish"),
        ("despite the bearish news, strong breakout", "bullish"),
        ("bearish, but a breakout is underway", "neutral"),  # -0.5 + 1
        ("a breakout, but bearish divergence and falling volume", "bearish"),
        ("momentum isn't bearish, the trend is rising", "bullish"),
        ("", "neutral"),
        (None, "neutral"),
    ],
)
def test_rules(text: str | None, label: str) -> None:
    assert stance(text).label == label


def test_hold_and_matching_reasoning_are_never_contradictions() -> None:
    assert contradicts("HOLD", "extremely bearish breakdown, plunge, dump") is None
    assert contradicts("SELL", "extremely bearish breakdown, plunge, dump") is None
    lean = contradicts("BUY", "extremely bearish breakdown, plunge, dump")
    assert lean is not None and lean.terms == ("bearish", "breakdown", "plunge", "dump")
