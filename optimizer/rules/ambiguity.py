"""Ambiguity: words and constructions that let two readers (or two runs) act differently.

Each finding has a weight; the score is a saturating function of the weighted count per
instruction, with the denominator damped (a square root against a floor of five) so that a
short prompt with one vague word is not judged as harshly as a pure density would, and a long
prompt cannot hide ten vague words among its instructions::

    rate = sum(weights) / sqrt(5 * max(instructions, 5))
    ambiguity = 100 * (1 - exp(-rate))

Filler, generic virtues ("be careful") and repeated sentences are not instructions, so
padding a prompt with them cannot lower its ambiguity; their vague words still count.

Amounts, subjective terms and vague verbs are only flagged in instructions (not in the
background a prompt gives). A subjective term ("high volume") or a vague verb is not flagged
when a number, a placeholder or a <SLOT> stands within six words of it in its sentence, or
when the prompt defines the term somewhere ("overbought means ...", "RSI above 70 is
overbought", "a ticket is stale when ...", or as a listed value of an input: "regime, one of
calm, volatile or trending"; see ``optimizer.rules.scan``). A vague state inside a
condition ("if the market is volatile") is reported once, as an undefined condition, not
again as a subjective term.
"""

from __future__ import annotations

import math

from optimizer.rules import lexicon as lx
from optimizer.rules.base import Finding, Result
from optimizer.rules.text import Document, Hit

WEIGHTS = {
    "vague-quantifier": 1.0, "hedge": 1.0, "open-ended-list": 1.0, "subjective-term": 0.8,
    "unresolved-reference": 1.0, "undefined-condition": 1.2, "missing-default": 1.0,
    "judgment-call": 1.5, "generic-instruction": 0.8, "vague-verb": 0.5,
}
NEAR = 6  # words around a term searched for the number that defines it
CLAUSE_END = (",", ".", ";", ":", "?", "!")
STATES = frozenset(lx.CATEGORIES["state"])
CONDITIONALS = frozenset(lx.CATEGORIES["conditional"])
RESOLVERS = frozenset(("by", "with", "using", "via"))
HINTS = {
    "high": "above <N>", "low": "below <N>", "large": "above <N>", "small": "below <N>",
    "big": "above <N>", "strong": "e.g. ADX above <N>", "weak": "e.g. ADX below <N>",
    "volatile": "e.g. ATR above <N>% of price", "recent": "within the last <N> hours",
    "recently": "within the last <N> hours", "soon": "within <N> minutes",
    "later": "after <N> hours", "overbought": "e.g. RSI above 70",
    "oversold": "e.g. RSI below 30", "sharp": "more than <N>% in <M> candles",
    "elevated": "above <N>", "unusual": "more than <N> times the usual",
}
SIMPLE = (
    ("quantifier", "vague-quantifier", True, "'{}' is an amount without a number",
     "Replace '{}' with a number or a threshold, e.g. 'at least <N>'."),
    ("hedge", "hedge", False, "'{}' makes the instruction optional",
     "Drop '{}' and state the instruction, or say exactly when it does not apply."),
    ("open", "open-ended-list", False, "'{}' leaves the list open",
     "List every item, or state the rule that decides what belongs to the list."),
    ("judgment", "judgment-call", False, "'{}' leaves the decision to judgment",
     "Write down the rule you would apply instead."),
    ("generic", "generic-instruction", False, "'{}' cannot be checked",
     "Replace it with the check to perform or the limit to respect."),
)


def check(doc: Document) -> Result:
    out: list[Finding] = []
    anchors = _anchors(doc)
    defined = doc.defined | {  # "RSI above 70 is overbought" defines "overbought"
        doc.hit_text(hit) for hit in doc.hits["subjective"] if _near(anchors, hit)
    }
    suppressed = _conditions(doc, anchors, defined, out)
    for category, rule, instructions_only, message, suggestion in SIMPLE:
        for hit in doc.hits[category]:
            if instructions_only and not doc.sentences[hit[0]].instruction:
                continue
            term = doc.hit_term(hit)
            out.append(doc.hit_finding(rule, hit, message.format(term),
                                       suggestion.format(term)))
    _subjective(doc, defined, suppressed, out)
    _vague_verbs(doc, anchors, out)
    _references(doc, out)
    _missing_default(doc, out)
    weight = sum(WEIGHTS[f.rule] for f in out)
    instructions = doc.instructions
    rate = weight / math.sqrt(5 * max(instructions, 5))
    out.sort(key=lambda f: (f.line, f.col))
    details = {"weighted_findings": round(weight, 2), "instructions": instructions}
    return Result(out, 100 * (1 - math.exp(-rate)), details)


def _anchors(doc: Document) -> dict[int, list[int]]:
    """Per sentence, the token positions of numbers, placeholders and slots."""
    anchors: dict[int, list[int]] = {}
    for category in ("number", "anchor", "slot"):
        for index, first, _ in doc.hits[category]:
            anchors.setdefault(index, []).append(first)
    return anchors


def _near(anchors: dict[int, list[int]], hit: Hit) -> bool:
    return any(hit[1] - NEAR <= a < hit[2] + NEAR for a in anchors.get(hit[0], ()))


def _is_value(doc: Document, index: int, token: int) -> bool:
    """An upper-case value such as HIGH is a label, not a vague adjective."""
    return doc.sentences[index].raw[token].strip(lx.STRIP).isupper()


def _conditions(doc: Document, anchors: dict[int, list[int]], defined: set[str],
                out: list[Finding]) -> set[tuple[int, int]]:
    suppressed: set[tuple[int, int]] = set()
    for index, first, end in doc.hits["conditional"]:
        sentence = doc.sentences[index]
        low, raw = sentence.low, sentence.raw
        limit = min(len(low), end + 15)
        stop = end
        while stop < limit:
            stop += 1
            if raw[stop - 1].endswith(CLAUSE_END):
                break
        if STATES.isdisjoint(low[end:stop]):
            continue
        window = range(end, stop)
        if any(a in window for a in anchors.get(index, ())) or any(
            raw[j][:2].isupper() and _is_value(doc, index, j) for j in window
        ):
            continue
        states = [j for j in window if low[j] in STATES and low[j] not in defined
                  and not _is_value(doc, index, j)]
        if not states:
            continue
        suppressed.update((index, j) for j in states)
        condition = " ".join(sentence.raw[end:stop]).rstrip(",.;:?!")
        out.append(doc.hit_finding(
            "undefined-condition", (index, first, stop),
            f"the condition '{condition}' is not defined ('{sentence.low[states[0]]}')",
            "Define it with a measurable test, e.g. 'if the 14-day ATR is above <N>% of price'.",
        ))
    return suppressed


def _subjective(doc: Document, defined: set[str], suppressed: set[tuple[int, int]],
                out: list[Finding]) -> None:
    for hit in doc.hits["subjective"]:
        if not doc.sentences[hit[0]].instruction or (hit[0], hit[1]) in suppressed:
            continue
        term = doc.hit_text(hit)
        if term not in defined and not _is_value(doc, hit[0], hit[1]):
            hint = HINTS.get(term, "a number, e.g. 'above <N>'")
            shown = doc.hit_term(hit)
            out.append(doc.hit_finding("subjective-term", hit, f"'{shown}' has no threshold",
                                       f"Define '{shown}' with {hint}."))


def _vague_verbs(doc: Document, anchors: dict[int, list[int]], out: list[Finding]) -> None:
    for hit in doc.hits["vague_verb"]:
        sentence = doc.sentences[hit[0]]
        if not sentence.instruction or _near(anchors, hit):
            continue
        after = sentence.low[hit[2]: hit[2] + 7]
        if RESOLVERS.intersection(after) or ":" in sentence.text:
            continue
        term = doc.hit_term(hit)
        out.append(doc.hit_finding(
            "vague-verb", hit, f"'{term}' does not say what to do",
            "Name the action: compute, compare, exclude, fill with, cap at...",
        ))


def _references(doc: Document, out: list[Finding]) -> None:
    """A pronoun that opens a sentence, or its condition ("If they fail, ..."), with nothing
    before it in its section or after a sentence naming two candidates."""
    sentences = doc.sentences
    pronouns, conditionals = lx.PRONOUNS, CONDITIONALS
    for index in [i for i, s in enumerate(sentences) if s.low and (
        s.low[0] in pronouns or (s.low[0] in conditionals and s.low[1:2] and s.low[1] in pronouns)
    )]:
        sentence = sentences[index]
        low, raw = sentence.low, sentence.raw
        at = 0 if low[0] in pronouns else 1
        pronoun = len(low) == at + 1 or low[at + 1] in lx.PRONOUN_VERBS or (
            raw[at][-1] in ",.;:!?"
        )
        if pronoun and (sentence.first_in_section or index == 0
                        or lx.TWO_CANDIDATES.search(sentences[index - 1].text)):
            out.append(doc.hit_finding(
                "unresolved-reference", (index, at, at + 1),
                f"'{low[at]}' has no clear antecedent", f"Name the thing '{low[at]}' refers to.",
            ))


def _missing_default(doc: Document, out: list[Finding]) -> None:
    conditionals = doc.hits["conditional"]
    if len(conditionals) < 2 or doc.hits["default"]:
        return
    if any("otherwise" in block.lower() or "default" in block.lower() for block in doc.code):
        return
    out.append(doc.hit_finding(
        "missing-default", conditionals[0],
        f"{len(conditionals)} conditional rules but no default for when none applies",
        "Add a default, e.g. 'Otherwise, answer HOLD.' or 'If no rule applies, ...'.",
    ))
