"""Does a call's reasoning argue for the other side? A small lexicon with negation.

:func:`stance` scores a text: +1 for each bullish term, -1 for each bearish one, read
clause by clause with three rules:

- negation: a negator ("not", "no", "n't", "never", "without", "lack of", "hardly"...) among
  the three words before a term, in the same phrase (up to a comma, "and", "or", "while"),
  flips it at half weight ("not bearish" leans bullish, but
  less than "bullish" does);
- concession: a clause opened by "despite", "although", "though", "even if", "in spite of",
  "regardless of" runs to the next comma or the end of the sentence and does not count
  (it names the other side only to set it aside);
- contrast: before "but", "however", ", yet", "whereas", the clause counts half; after it,
  fully.

A reasoning *contradicts* its action when its score is at least 1 toward the other side:
a BUY argued bearishly or a SELL argued bullishly. HOLD is never judged. The threshold
keeps a lone negated term (0.5) from flagging a call. The corpus in
``tests/analysis/test_analysis_lexicon.py`` holds the labeled cases and the accuracy asserted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

BULLISH = (
    "bullish", "bull flag", "uptrend", "up trend", "upward", "upside", "uptick", "breakout",
    "breaking out", "broke out", "broke above", "above resistance", "oversold", "higher highs",
    "higher lows", "golden cross", "accumulation", "rally", "rallying", "buying pressure",
    "strong demand", "bounce", "bouncing", "rebound", "recovery", "recovering",
    "positive momentum", "momentum is strong", "strong momentum", "undervalued", "surge",
    "surging", "rising", "climbing", "support holds", "holding support", "buy signal",
    "long setup", "inflows",
)
BEARISH = (
    "bearish", "bear flag", "downtrend", "down trend", "downward", "downside", "breakdown",
    "breaking down", "broke down", "broke below", "below support", "overbought", "lower highs",
    "lower lows", "death cross", "distribution", "sell-off", "selloff", "selling pressure",
    "weak demand", "rejection", "rejected", "negative momentum", "weak momentum",
    "momentum is fading", "fading momentum", "overvalued", "plunge", "plunging", "decline",
    "declining", "falling", "dropping", "weakness", "capitulation", "dump", "dumping",
    "sell signal", "outflows",
)
NEGATORS = frozenset({
    "not", "no", "never", "without", "lack", "lacks", "lacking", "hardly", "barely", "neither",
    "nor", "isn't", "aren't", "wasn't", "doesn't", "don't", "didn't", "cannot", "can't",
    "won't", "absent", "fails", "failed", "nothing", "none",
})
CONCESSIVE = re.compile(
    r"\b(despite|although|though|even if|in spite of|regardless of|notwithstanding)\b[^,]*",
)
CONTRAST = re.compile(r",?\s*\b(but|however|whereas|nevertheless)\b|,\s*(yet)\b")
SENTENCE = re.compile(r"[.;!?\n]+")
NEGATION_REACH = 3  # words before a term that a negator may stand in
NEGATED_WEIGHT = 0.5
THRESHOLD = 1.0

_TERMS = {t: 1 for t in BULLISH} | {t: -1 for t in BEARISH}


def _trie_pattern(terms: list[str]) -> str:
    """One alternation per shared prefix ("rall(?:y(?:ing)?)"...): Python's regex engine
    tries a flat alternation term by term at every position, three times slower here."""
    trie: dict[str, Any] = {}
    for term in terms:
        node = trie
        for char in term:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items())
                    if char]
        if not branches:
            return ""
        ends_here = "" in node
        if len(branches) == 1 and not ends_here:
            return branches[0]
        return "(?:" + "|".join(branches) + ")" + ("?" if ends_here else "")

    return build(trie)


_TERM = re.compile(r"\b(" + _trie_pattern(list(_TERMS)) + r")\b")
_WORD = re.compile(r"[a-z']+")
_PHRASE_BREAK = re.compile(r"[,:()]| and | or | while ")


@dataclass(frozen=True)
class Stance:
    score: float
    terms: tuple[str, ...]  # the counted terms, "not " prefixed when negated

    @property
    def label(self) -> str:
        if self.score >= THRESHOLD:
            return "bullish"
        if self.score <= -THRESHOLD:
            return "bearish"
        return "neutral"


def stance(text: str | None) -> Stance:
    """The bullish (+) or bearish (-) lean of a reasoning text."""
    score, terms = 0.0, []
    lowered = (text or "").lower().replace("\u2019", "'")
    if not _TERM.search(lowered):  # most of the cost is in texts with no term at all
        return Stance(0.0, ())
    for sentence in SENTENCE.split(lowered):
        if not _TERM.search(sentence):
            continue
        sentence = CONCESSIVE.sub(" ", sentence)
        clauses = CONTRAST.split(sentence)[::3]  # split keeps both marker groups after each
        for n, clause in enumerate(clauses):
            weight = 0.5 if n < len(clauses) - 1 else 1.0
            for value, term in _clause_terms(clause):
                score += weight * value
                terms.append(term)
    return Stance(round(score, 4), tuple(terms))


def _clause_terms(clause: str) -> list[tuple[float, str]]:
    found = []
    for match in _TERM.finditer(clause):
        phrase = _PHRASE_BREAK.split(clause[: match.start()])[-1]  # negation stops at a comma
        before = _WORD.findall(phrase)[-NEGATION_REACH:]
        term = match.group(1)
        if any(word in NEGATORS or word.endswith("n't") for word in before):
            found.append((-NEGATED_WEIGHT * _TERMS[term], f"not {term}"))
        else:
            found.append((float(_TERMS[term]), term))
    return found


def contradicts(action: str, text: str | None) -> Stance | None:
    """The stance when the reasoning argues against ``action`` (BUY or SELL), else None."""
    lean = stance(text)
    if action == "BUY" and lean.label == "bearish":
        return lean
    if action == "SELL" and lean.label == "bullish":
        return lean
    return None
