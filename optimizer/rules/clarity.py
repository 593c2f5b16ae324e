"""Clarity: can the model tell what to do, in what order, without re-reading?

The score is a base made of three parts, minus penalties::

    base = 0.35 * length + 0.35 * structure + 0.30 * directness        (each 0..1)
    clarity = 100 * base - penalties / sqrt(max(instructions, 8) / 8)

- length: the mean words per instruction sentence, 1 up to 16 words, 0 from 38.
- structure: headings or labelled sections, lists (instructions one per line count as a
  list), and which of role / inputs / rules / output are labelled. It weighs nothing below
  50 prose words and fully from 500, so a short precise prompt is not asked for headings
  and a rule added to a longer one costs it little (the optimize gates compare scores
  before and after a change).
- directness: the share of instructions written as imperatives rather than "you should",
  "it is important that", passive voice or questions.
- penalties, in points: contradiction 15, duplicate 8, long sentence 5 (8 over 45 words),
  several instructions in one sentence 6, wall of text 6, filler 2 (at most 20), undefined
  acronym, clipped word or slang 1 (at most 3 together: domain vocabulary is a hint, not a
  fault, and a term next to a number or defined by the prompt is not flagged at all).
  Damping them by the number of instructions keeps a long prompt from being
  sunk by one long sentence, while filler and duplicates, which are not counted as
  instructions, can only add penalties: padding never raises clarity.
"""

from __future__ import annotations

import math
from typing import cast

from optimizer.rules import lexicon as lx
from optimizer.rules.base import Finding, Result, Severity
from optimizer.rules.text import Document, Hit, Sentence

PENALTY = {
    "contradiction": 15.0, "duplicate-instruction": 8.0, "long-sentence": 5.0,
    "multiple-instructions": 6.0, "wall-of-text": 6.0, "undefined-acronym": 1.0,
    "undefined-term": 1.0,
    "filler": 2.0,
}
# Domain vocabulary costs little: a reader of the domain knows most of it, so an undefined
# term is a hint, not a fault; at most this many points for all of them together.
VOCABULARY_CAP = 3.0
VOCABULARY = ("undefined-acronym", "undefined-term")
NEAR = 6  # a term this close to a number is used in a measurable test ("VIX above 30")
LONG, VERY_LONG, WALL = 30, 45, 80
SECTIONS = ("role", "inputs", "rules", "output")
# Structure weighs nothing up to STRUCTURE_FROM prose words and fully from STRUCTURE_FROM +
# STRUCTURE_RAMP. The ramp is long on purpose: every word on it costs an unstructured prompt
# 0.35 * 100 / STRUCTURE_RAMP points, and a precise rule added to a prompt must not cost more
# than about one point of clarity (the optimize gates compare before and after).
STRUCTURE_FROM, STRUCTURE_RAMP = 50, 450
_KEYS = frozenset(("key", "keys", "field", "fields"))


def check(doc: Document) -> Result:
    out: list[Finding] = []
    _sentence_rules(doc, out)
    _filler(doc, out)
    indirect = _indirect(doc, out)
    _contradictions(doc, out)
    _acronyms(doc, out)
    _clipped(doc, out)
    _jargon(doc, out)
    _walls(doc, out)
    structure = _structure(doc, out)
    length = _length_score(doc)
    instructions = doc.instructions
    directness = 1 - min(1.0, indirect / max(instructions, 3))
    penalty = _penalty(out, doc)
    base = 0.35 * length + 0.35 * structure + 0.30 * directness
    score = 100 * base - penalty / math.sqrt(max(instructions, 8) / 8)
    details = {"length": round(length, 3), "structure": round(structure, 3),
               "directness": round(directness, 3), "penalty": round(penalty, 2),
               "instructions": instructions}
    out.sort(key=lambda f: (f.line, f.col))
    return Result(out, max(0.0, min(100.0, score)), details)


def _sentence_rules(doc: Document, out: list[Finding]) -> None:
    """Long sentences, several instructions in one, repeats. Each loop runs over the few
    sentences it can concern (``scan`` lists those with three verbs or more)."""
    sentences = doc.sentences
    for sentence in [s for s in sentences if len(s.raw) > LONG]:
        severity: Severity = "error" if sentence.words > VERY_LONG else "warning"
        out.append(doc.finding(
            "long-sentence", sentence.start, sentence.end,
            f"{sentence.words} words in one sentence", "Split it: one instruction per sentence.",
            severity=severity,
        ))
    for sentence in map(sentences.__getitem__, doc.verbose):
        steps = _imperative_clauses(sentence)
        if steps >= 3:
            out.append(doc.finding(
                "multiple-instructions", sentence.start, sentence.end,
                f"{steps} instructions in one sentence",
                "Write them as a numbered list, one step per line.",
            ))
    for sentence in map(sentences.__getitem__, doc.repeated):
        first = cast(int, sentence.duplicate_of)  # set on every sentence in doc.repeated
        line, _ = doc.position(sentences[first].start)
        out.append(doc.finding(
            "duplicate-instruction", sentence.start, sentence.end,
            f"repeats the instruction on line {line}", "Delete the repetition.",
        ))


def _imperative_clauses(sentence: Sentence) -> int:
    """Clauses (after a comma, a semicolon, 'and' or 'then') that start with a verb."""
    low, raw = sentence.low, sentence.raw
    if len(lx.IMPERATIVE_VERBS.intersection(low)) < 3:
        return 1  # fewer than three distinct verbs: never "three or more instructions"
    verbs: set[int] = set()
    size = len(low)
    starts = [0] + [i + 1 for i in range(size) if raw[i][-1] in ",;" or low[i] in ("and", "then")]
    for start in starts:
        for i in range(start, min(start + 3, size)):
            if low[i] in lx.IMPERATIVE_VERBS:
                verbs.add(i)
                break
            if low[i] not in lx.CLAUSE_LEAD:
                break
    return len(verbs)


def _filler(doc: Document, out: list[Finding]) -> None:
    for hit in doc.hits["filler"]:
        term = doc.hit_term(hit)
        out.append(doc.hit_finding("filler", hit, f"'{term}' carries no instruction",
                                   f"Delete '{term}'."))


def _indirect(doc: Document, out: list[Finding]) -> int:
    flagged: set[int] = set()
    for hit in doc.hits["indirect"]:
        term = doc.hit_term(hit)
        out.append(doc.hit_finding(
            "indirect-instruction", hit, f"'{term}' is not a direct instruction",
            "Write it as an imperative: 'Check the margin.' rather than 'It should be checked'.",
        ))
        flagged.add(hit[0])
    questions = enumerate(doc.sentences) if "?" in doc.masked else ()
    for index, sentence in questions:
        if sentence.text.endswith("?") and index not in flagged:
            out.append(doc.finding(
                "indirect-instruction", sentence.start, sentence.end,
                "a question where an instruction is meant", "Write it as an imperative.",
            ))
            flagged.add(index)
    return len(flagged)


def _contradictions(doc: Document, out: list[Finding]) -> None:
    pairs = (("concise", "detailed", "conciseness and detail"),
             ("json_only", "extra_text", "JSON only and extra text"),
             ("cautious", "aggressive", "caution and aggressiveness"))
    for first, second, what in pairs:
        extra = [h for h in doc.hits[second] if second != "extra_text" or not (
            _KEYS.intersection(doc.sentences[h[0]].low[h[2]:])
        )]
        if doc.hits[first] and extra:
            _contradiction(doc, doc.hits[first][0], extra[0], what, out)
    always = {_verb_object(doc, h): h for h in doc.hits["always"]}
    for hit in doc.hits["never"]:
        key = _verb_object(doc, hit)
        if key and key in always:
            _contradiction(doc, always[key], hit, f"always and never '{' '.join(key)}'", out)


def _verb_object(doc: Document, hit: Hit) -> tuple[str, ...]:
    following = doc.sentences[hit[0]].low[hit[2]: hit[2] + 4]
    return tuple(w for w in following if w not in lx.STOPWORDS)[:2]


def _contradiction(doc: Document, a: Hit, b: Hit, what: str, out: list[Finding]) -> None:
    first, second = sorted((a, b))
    line, _ = doc.position(doc.span(first)[0])
    out.append(doc.hit_finding(
        "contradiction", second,
        f"'{doc.hit_term(second)}' conflicts with '{doc.hit_term(first)}' on line {line} "
        f"({what})",
        "Keep one of the two, or say when each applies.",
    ))


def _numbers_near(doc: Document) -> dict[int, list[int]]:
    """Per sentence, the token positions of numbers."""
    near: dict[int, list[int]] = {}
    for index, first, _ in doc.hits["number"]:
        near.setdefault(index, []).append(first)
    return near


def _measured(numbers: dict[int, list[int]], hit: Hit) -> bool:
    """The term stands within NEAR words of a number: "DXY above 105", "a squeeze when
    funding is below -0.05%". Used in a measurable test, it is used precisely."""
    return any(hit[1] - NEAR <= n < hit[2] + NEAR for n in numbers.get(hit[0], ()))


def _acronyms(doc: Document, out: list[Finding]) -> None:
    values = {(i, t) for i, a, b in doc.hits["enum"] for t in range(a, b)}
    numbers = _numbers_near(doc)
    seen: set[str] = set()
    for index, position, end in doc.hits["caps"]:
        core = doc.sentences[index].raw[position].strip(lx.STRIP)
        if core in lx.KNOWN_ACRONYMS or core in seen or not (
            2 <= len(core) <= 6 and core.isupper() and core.isalnum() and core[0].isalpha()
        ):
            continue
        seen.add(core)
        if (index, position) in values or _defined(doc.text, core) or _measured(
            numbers, (index, position, end)
        ):
            continue
        out.append(doc.hit_finding(
            "undefined-acronym", (index, position, end),
            f"'{core}' is not defined", f"Spell it out once: 'Full Name ({core})'.",
        ))


def _clipped(doc: Document, out: list[Finding]) -> None:
    """Words clipped to their consonants ("pt msg", "no dx", "lvl"): telegraphic notes the
    reader has to decode. Counted with undefined acronyms (same penalty, same cap)."""
    # one regex over the distinct tokens: a Python test per token would cost more
    vowelless = set(lx.CLIPPED.findall(f" {' '.join(set(doc.tokens))} ")) - lx.KNOWN_CLIPPED
    if not vowelless:
        return
    for index, sentence in enumerate(doc.sentences):
        for position, token in enumerate(sentence.low):
            if token in vowelless and not sentence.raw[position].strip(lx.STRIP).isupper():
                vowelless.discard(token)
                out.append(doc.hit_finding(
                    "undefined-acronym", (index, position, position + 1),
                    f"'{token}' is an abbreviation", "Write the word out.",
                ))


def _jargon(doc: Document, out: list[Finding]) -> None:
    seen: set[str] = set()
    numbers = _numbers_near(doc) if doc.hits["jargon"] else {}
    for hit in doc.hits["jargon"]:
        term = doc.hit_text(hit)
        if term in seen or term in doc.defined or _measured(numbers, hit):
            continue
        seen.add(term)
        shown = doc.hit_term(hit)
        out.append(doc.hit_finding(
            "undefined-term", hit, f"'{shown}' is slang",
            f"Say what '{shown}' means in measurable terms.",
        ))


def _defined(text: str, token: str) -> bool:
    return any(form in text for form in (
        f"{token} (", f"({token})", f"{token} means", f"{token} stands for", f"{token}:",
        f"{token} is the", f"{token} =",
    ))


def _walls(doc: Document, out: list[Finding]) -> None:
    for start, end, words in doc.paragraphs:
        if words > WALL:
            out.append(doc.finding(
                "wall-of-text", start, end, f"a paragraph of {words} words",
                "Break it into a list or into sections with headings.",
            ))


def _structure(doc: Document, out: list[Finding]) -> float:
    words = doc.prose_words
    present = {h.kind for h in doc.headings} | doc.labels
    if doc.hits["role"] and doc.hits["role"][0][:2] == (0, 0):
        present.add("role")
    structured = bool(doc.headings or doc.labels)
    if not structured and not doc.list_items and (words >= 80 or len(doc.sentences) >= 8):
        out.append(doc.whole(
            "no-structure", f"{words} words with no headings, labels or lists",
            "Add sections: Role, Inputs, Rules, Output; put rules in a list.",
        ))
    missing = [s for s in SECTIONS if s not in present]
    if len(doc.headings) + len(doc.labels) >= 2 and missing:
        out.append(doc.whole(
            "missing-section", f"no section for {', '.join(missing)}",
            f"Add a section for {', '.join(missing)}.",
        ))
    coverage = sum(s in present for s in SECTIONS) / len(SECTIONS)
    listed = bool(doc.list_items) or _one_per_line(doc)
    own = 0.45 * structured + 0.25 * listed + 0.30 * coverage
    weight = min(1.0, max(0.0, (words - STRUCTURE_FROM) / STRUCTURE_RAMP))
    return 1 - weight * (1 - own)


def _one_per_line(doc: Document) -> bool:
    """Instructions written one per line, without list markers, read like a list: at least
    three, and three quarters of them start their line."""
    masked, counted = doc.masked, doc.counted
    if len(counted) < 3:
        return False
    starting = sum(not masked[masked.rfind("\n", 0, s.start) + 1: s.start].strip()
                   for s in counted)
    return starting >= 0.75 * len(counted)


def _length_score(doc: Document) -> float:
    basis = [len(s.raw) for s in doc.counted]
    if not basis:
        basis = [s.words for s in doc.sentences if s.duplicate_of is None] or [0]
    mean = sum(basis) / len(basis)
    return min(1.0, max(0.0, (38 - mean) / 22))


def _penalty(findings: list[Finding], doc: Document) -> float:
    total = 0.0
    filler = 0.0
    vocabulary = 0.0
    for finding in findings:
        points = PENALTY.get(finding.rule, 0.0)
        if finding.rule == "long-sentence" and finding.severity == "error":
            points = 8.0
        if finding.rule == "filler":
            filler += points
        elif finding.rule in VOCABULARY:
            vocabulary += points
        else:
            total += points
    return total + min(filler, 20.0) + min(vocabulary, VOCABULARY_CAP)
