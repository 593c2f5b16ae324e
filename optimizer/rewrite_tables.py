"""The offline rewrite's tables: which words it edits, to what, and which edits are wording.

:mod:`optimizer.suggest` turns analyzer findings into edits through these tables. Each edit
is one of two kinds, and the kind decides whether ``optimize --engine heuristic`` may apply
it with no evidence (``heuristic_rewrite(..., behaviour=False)``):

- **wording** (:data:`WORDING`): the instruction says the same thing with or without the
  words, so the agent decides the same: an imperative's softener ("try to", "attempt to"),
  an indirect opening ("you should", "we need you to"), filler that qualifies nothing
  ("please note that", "basically", "simply"), "in order to" -> "to", and a sentence
  repeated word for word (the earlier copy stays).
- **behaviour**: everything else, because it changes when or whether the agent acts or how
  sure it says it is: a qualifier of frequency or likelihood ("usually", "sometimes",
  "maybe": deleting it makes a rule unconditional), a permission ("you may agree" ->
  "agree", "feel free to", "if possible"), a degree ("very clear" -> "clear", "fairly
  strong" -> "strong" widens a condition), a list closed ("RSI, MACD, etc." -> "RSI,
  MACD"), a judgment call deleted or replaced ("use your judgement" -> "answer HOLD"), a
  near-repeat deleted (it may differ in a number), every slot (``<N>``) and every addition
  (a default rule, a range for the confidence, an output format).

A behaviour edit is never made without evidence: with ``behaviour=False`` it is listed in
``Rewrite.proposed`` for a person (and for the critique) instead.
"""

from __future__ import annotations

__all__ = ["DELETE", "JUDGMENT_PHRASES", "REPLACE", "THRESHOLD_HINTS", "WORDING"]

DELETE = {
    "hedge": {
        "maybe", "perhaps", "possibly", "probably", "ideally", "generally", "usually",
        "typically", "normally", "often", "sometimes", "somewhat", "fairly", "quite",
        "relatively", "hopefully", "arguably", "kind of", "sort of", "more or less",
        "to some extent", "in general", "for the most part", "try to", "tries to",
        "attempt to", "feel free to", "may want to", "might want to", "if possible",
        "you may want to", "you might want to",
        "where possible", "when possible", "as much as possible", "you may",
    },
    "open-ended-list": {
        "etc", "and so on", "and so forth", "and the like", "and more", "among others",
        "or similar", "and others", "and whatnot",
    },
    "filler": {
        "please note that", "please note", "note that", "keep in mind that",
        "it is important to note that", "needless to say", "it goes without saying that",
        "basically", "essentially", "actually", "really", "very", "simply", "literally",
        "obviously", "you know", "so much",
    },
    "indirect-instruction": {
        "you should", "you need to", "you will need to", "you have to", "we need you to",
        "we want you to", "i want you to", "i need you to",
    },
    "judgment-call": {
        "as you see fit", "at your discretion", "as you like", "however you like",
        "as you think best", "where it makes sense", "when it makes sense", "if it makes sense",
    },
}
REPLACE = {
    ("filler", "in order to"): "to",
    ("vague-quantifier", "several"): "at least <N>",
    ("vague-quantifier", "a few"): "at least <N>",
    ("vague-quantifier", "many"): "at least <N>",
    ("vague-quantifier", "numerous"): "at least <N>",
    ("vague-quantifier", "various"): "<N>",
    ("vague-quantifier", "a number of"): "<N>",
    ("vague-quantifier", "a couple of"): "<N>",
    ("vague-quantifier", "a lot of"): "more than <N>",
    ("vague-quantifier", "lots of"): "more than <N>",
    ("vague-quantifier", "plenty of"): "more than <N>",
}
JUDGMENT_PHRASES = ("use your", "use common sense", "go with your gut", "whatever you think")
THRESHOLD_HINTS = {
    "high": "above <N>", "large": "above <N>", "big": "above <N>", "strong": "above <N>",
    "elevated": "above <N>", "major": "above <N>", "sharp": "more than <N>%",
    "sharply": "more than <N>%", "significant": "more than <N>%",
    "significantly": "more than <N>%", "substantial": "more than <N>%",
    "considerable": "more than <N>%", "low": "below <N>", "small": "below <N>",
    "weak": "below <N>", "minor": "below <N>", "recent": "within the last <N> hours",
    "recently": "within the last <N> hours", "soon": "within <N> minutes",
    "later": "after <N> hours", "volatile": "ATR above <N>% of price",
    "extreme": "beyond <N>", "unusual": "more than <N> times the average",
}
WORDING = {  # (rule -> terms) whose deletion or replacement leaves every instruction as it was
    "hedge": frozenset({"try to", "tries to", "attempt to", "hopefully", "arguably"}),
    "filler": frozenset(DELETE["filler"] - {"very", "really", "so much"} | {"in order to"}),
    "indirect-instruction": frozenset(DELETE["indirect-instruction"]),
}
