"""Specificity: does the prompt pin down numbers, formats, values, inputs and rules?

Eight kinds of signal are counted over the whole prompt, code and JSON examples included
(that is where output keys and allowed values often are). Each count saturates
(``1 - exp(-count / k)``), so a long prompt cannot win by repeating one kind, and a short one
with one of each kind scores well::

    coverage = sum(weight[kind] * saturate(count[kind]))                  (0..1)
    density  = instructions carrying a concrete token / max(instructions, 4)
    specificity = 100 * (0.7 * coverage + 0.3 * density)

Kinds and weights: thresholds (a comparison or a number with a unit) .24, output format .18,
allowed values .12, named inputs .10, decision rules .14, ranges .08, examples .07,
definitions .07. Only instruction sentences count towards density, and padding (filler,
repeated sentences) adds no instruction, so it cannot raise the score. A comparison with a
<SLOT> left by the heuristic rewrite counts as half a threshold.
"""

from __future__ import annotations

import math

from optimizer.rules.base import Finding, Result
from optimizer.rules.lexicon import JSON_KEY, SLOT, STRIP
from optimizer.rules.scan import enumerations, is_range
from optimizer.rules.text import Document, Hit

WEIGHTS = {"thresholds": 0.24, "output": 0.18, "allowed": 0.12, "inputs": 0.10,
           "rules": 0.14, "ranges": 0.08, "examples": 0.07, "definitions": 0.07}
CODE_STRIP = STRIP + "<>"
SATURATION = {"thresholds": 3.0, "allowed": 1.5, "inputs": 2.0, "rules": 2.0, "ranges": 1.0,
              "examples": 1.0, "definitions": 1.0}


def check(doc: Document) -> Result:
    counts = _counts(doc)
    coverage = sum(
        WEIGHTS[kind] * (value if kind == "output" else 1 - math.exp(-value / SATURATION[kind]))
        for kind, value in counts.items()
    )
    counted = doc.counted
    concrete = sum(s.concrete for s in counted)
    density = concrete / max(len(counted), 4)
    out: list[Finding] = []
    _missing(doc, counts, out)
    _spans(doc, counts, out)
    out.sort(key=lambda f: (f.line, f.col))
    details = {k: round(v, 2) for k, v in counts.items()}
    details.update(coverage=round(coverage, 3), density=round(density, 3))
    return Result(out, 100 * (0.7 * coverage + 0.3 * density), details)


def _counts(doc: Document) -> dict[str, float]:
    hits = _unrepeated(doc)
    blocks = list(dict.fromkeys(doc.code))  # a pasted-twice example is one example
    code_tokens = [block.split() for block in blocks]
    return {
        "thresholds": len(hits["threshold"]) + 0.5 * len(hits["slot_threshold"]),
        "output": _output(doc, hits),
        "allowed": float(len(hits["enum"]) + len(hits["allowed"]) + len(hits["allowed_cue"])
                         + sum(len(enumerations(tokens)) for tokens in code_tokens)),
        "inputs": float(
            len(set(doc.placeholders)) + len(set(doc.inline_code))
            + len({doc.hit_text(h) for h in hits["snake"]}) + bool(hits["input_cue"])
            + _has_section(doc, "inputs")
        ),
        "rules": sum(1.0 if doc.sentences[i].concrete else 0.5
                     for i, _, _ in hits["conditional"]),
        "ranges": float(len(hits["range"]) + sum(map(_code_ranges, blocks))),
        "examples": float(len(hits["example"]) + len(blocks) + _has_section(doc, "examples")),
        "definitions": float(len(hits["definition"])),
    }


def _unrepeated(doc: Document) -> dict[str, list[Hit]]:
    """The hits outside sentences that repeat an earlier one: saying it twice is not more
    specific."""
    if not doc.repeated:
        return doc.hits
    return _Unrepeated(doc.hits, set(doc.repeated))


class _Unrepeated(dict[str, list[Hit]]):
    """``hits`` without those in ``repeated`` sentences, filtered per category on first use
    (a few of the fifty categories are read)."""

    def __init__(self, hits: dict[str, list[Hit]], repeated: set[int]) -> None:
        super().__init__()
        self.hits, self.repeated = hits, repeated

    def __missing__(self, category: str) -> list[Hit]:
        kept = self.hits[category]
        if kept:
            kept = [h for h in kept if h[0] not in self.repeated]
        self[category] = kept
        return kept


def _code_ranges(block: str) -> int:
    if "-" not in block and "\u2013" not in block:  # a range needs a dash
        return 0
    return sum(1 for t in block.split() if is_range(t.strip(CODE_STRIP)))


def _has_section(doc: Document, kind: str) -> bool:
    return kind in doc.labels or any(h.kind == kind for h in doc.headings)


def _output(doc: Document, hits: dict[str, list[Hit]]) -> float:
    has_format = bool(hits["format"] or doc.code or _has_section(doc, "output"))
    has_keys = bool(hits["key"] or hits["quoted_key"]
                    or any(JSON_KEY.search(block) for block in doc.code))
    has_answer = bool(hits["output_verb"] and (
        hits["enum"] or hits["allowed"] or hits["allowed_cue"]
    ))
    return min(1.0, 0.5 * has_format + 0.5 * has_keys + 0.35 * has_answer)


def _missing(doc: Document, counts: dict[str, float], out: list[Finding]) -> None:
    words = doc.prose_words
    if counts["output"] == 0:
        out.append(doc.whole(
            "missing-output-format", "the prompt does not say what the answer looks like",
            "Add an 'Output' section: the format (e.g. one JSON object), its keys and their "
            "allowed values.",
        ))
    elif counts["allowed"] == 0:
        out.append(doc.whole(
            "missing-allowed-values", "the output has no list of allowed values",
            "List the allowed values, e.g. 'action: one of BUY, SELL, HOLD'.",
        ))
    if counts["thresholds"] == 0 and not doc.hits["number"] and doc.hits["decision"]:
        out.append(doc.whole(
            "no-thresholds", "decisions are asked for but no number or threshold is given",
            "State the thresholds, e.g. 'BUY when RSI(14) is below 30'.",
        ))
    if counts["rules"] == 0 and len(doc.sentences) >= 3:
        out.append(doc.whole(
            "no-decision-rules", "no if/when rule says what to do in which case",
            "Add decision rules: 'If <condition>, answer <value>.'",
        ))
    if counts["examples"] == 0 and words >= 60:
        out.append(doc.whole(
            "no-examples", "no example of an input or an answer",
            "Add one short example of a correct answer.",
        ))
    if counts["inputs"] == 0 and words >= 40:
        out.append(doc.whole(
            "no-named-inputs", "the inputs are not named",
            "Name the inputs and their fields, e.g. 'Inputs: price, rsi_14, sma_50'.",
        ))


def _spans(doc: Document, counts: dict[str, float], out: list[Finding]) -> None:
    if counts["ranges"] == 0:
        for hit in doc.hits["score_word"][:1]:
            term = doc.hit_term(hit)
            out.append(doc.hit_finding(
                "unbounded-score", hit, f"'{term}' has no range",
                f"Give its range, e.g. '{term} between 0 and 1'.",
            ))
    changes = doc.hits["change"]
    numbers = {(i, a) for i, a, _ in doc.hits["number"]} if changes else set()
    thresholds = {(i, a) for i, a, _ in doc.hits["threshold"]} if changes else set()
    for index, _, end in changes:
        low = doc.sentences[index].low
        target = end + (end < len(low) and low[end] in ("of", "by"))
        if (index, target) in numbers and (index, target) not in thresholds:
            out.append(doc.hit_finding(
                "number-without-unit", (index, target, target + 1),
                f"'{low[target]}' has no unit", "Add the unit: %, USD, points, ATR...",
            ))
    for match in SLOT.finditer(doc.text):
        out.append(doc.finding(
            "unfilled-slot", match.start(), match.end(), f"'{match.group()}' is to be filled in",
            f"Replace '{match.group()}' with the value you mean.",
        ))
