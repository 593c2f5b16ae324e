"""The prompt as the rules see it: prose sentences, headings, list items, and non-prose.

Template awareness happens here, once. ``{placeholders}`` and inline code are replaced by
underscores of the same length and fenced blocks and JSON examples by spaces, giving
:attr:`Document.masked`, a string exactly as long as the text, so every offset found in it is
an offset in the original prompt and maps to a line and column with one bisect. The prose
rules only ever see sentences of ``masked``; the non-prose parts are kept apart (``code``,
``placeholders``, ``inline_code``) for the specificity signals they carry (keys, examples,
named inputs).

Sentences: a heading is not a sentence; a list item starts a new one; lines of a paragraph
are joined only when a line ends in a lowercase word or a comma and the next starts in
lowercase (wrapped text), because prompts usually put one instruction per line without a
full stop. ``optimizer.rules.scan`` then tokenizes each sentence once and annotates it.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from itertools import accumulate, count
from operator import add
from typing import cast

from optimizer.rules import lexicon as lx
from optimizer.rules.base import RULES, Finding, Severity

_NOT_NEWLINE = re.compile(r"[^\n]")
WALL_CHARS = 240  # a paragraph shorter than this cannot hold 80 words; its words go uncounted
Hit = tuple[int, int, int]  # sentence index, first token, end token (exclusive)


@dataclass(slots=True)
class Sentence:
    start: int
    end: int
    text: str
    section: str | None
    first_in_section: bool
    list_item: bool
    raw: list[str] = field(init=False)  # the tokens, as written and lowercased: set by scan
    low: list[str] = field(init=False)
    instruction: bool = False
    filler: bool = False
    generic: bool = False
    concrete: bool = False
    duplicate_of: int | None = None
    content: frozenset[str] = frozenset()
    offsets: list[int] | None = None

    @property
    def words(self) -> int:
        return len(self.raw)

    @property
    def counted(self) -> bool:
        """Counts in score denominators: an instruction that is neither filler nor repeated."""
        return self.instruction and not self.filler and not self.generic and (
            self.duplicate_of is None
        )


@dataclass(slots=True)
class Heading:
    line: int
    text: str
    kind: str | None


@dataclass(slots=True)
class Document:
    text: str
    masked: str
    line_starts: list[int]
    code: list[str]
    placeholders: list[str]
    inline_code: list[str]
    sentences: list[Sentence] = field(default_factory=list)
    headings: list[Heading] = field(default_factory=list)
    labels: set[str] = field(default_factory=set)
    list_items: int = 0
    # paragraphs over WALL_CHARS: start, end, words
    paragraphs: list[tuple[int, int, int]] = field(default_factory=list)
    hits: dict[str, list[Hit]] = field(default_factory=dict)
    counts: dict[str, float] = field(default_factory=dict)
    defined: set[str] = field(default_factory=set)
    tokens: list[str] = field(default_factory=list)  # all sentences' tokens, lowercased
    counted: list[Sentence] = field(default_factory=list)  # see Sentence.counted
    verbose: list[int] = field(default_factory=list)  # sentences with 3 imperative verbs or more
    repeated: list[int] = field(default_factory=list)  # sentences that repeat an earlier one
    instruction_count: int = 0
    word_count: int = 0

    def position(self, offset: int) -> tuple[int, int]:
        """1-based line and column of an offset."""
        line = bisect.bisect_right(self.line_starts, offset) - 1
        return line + 1, offset - self.line_starts[line] + 1

    def span(self, hit: Hit) -> tuple[int, int]:
        """Character offsets of the tokens ``hit`` covers, punctuation around them excluded."""
        sentence = self.sentences[hit[0]]
        offsets = _offsets(sentence)
        first, last = sentence.raw[hit[1]], sentence.raw[hit[2] - 1]
        start = sentence.start + offsets[hit[1]] + len(first) - len(first.lstrip(lx.STRIP))
        end = sentence.start + offsets[hit[2] - 1] + len(last.rstrip(lx.STRIP))
        return start, max(end, start)

    def finding(self, rule: str, start: int, end: int, message: str, suggestion: str,
                severity: Severity | None = None) -> Finding:
        """A finding on the span ``start:end`` of the prompt."""
        info = RULES[rule]
        line, col = self.position(start)
        end_line, end_col = self.position(end)
        return Finding(rule, info.dimension, severity or info.severity, message, line, col,
                       end_line, end_col, self.text[start:end], suggestion)

    def hit_finding(self, rule: str, hit: Hit, message: str, suggestion: str) -> Finding:
        start, end = self.span(hit)
        return self.finding(rule, start, end, message, suggestion)

    def whole(self, rule: str, message: str, suggestion: str) -> Finding:
        """A finding about the prompt as a whole (something missing): line 1, column 1."""
        info = RULES[rule]
        return Finding(rule, info.dimension, info.severity, message, 1, 1, 1, 1, "", suggestion)

    def hit_text(self, hit: Hit) -> str:
        """The hit's tokens, lowercased and stripped: for lookups."""
        return " ".join(self.sentences[hit[0]].low[hit[1]:hit[2]])

    def hit_term(self, hit: Hit) -> str:
        """The hit as written in the prompt (spaces normalized): for messages."""
        start, end = self.span(hit)
        return " ".join(self.text[start:end].split())

    @property
    def instructions(self) -> int:
        """Sentences that count in score denominators (set by ``scan``)."""
        return self.instruction_count

    @property
    def prose_words(self) -> int:
        """Words of the prose, repeated sentences not counted (set by ``scan``)."""
        return self.word_count


def _offsets(sentence: Sentence) -> list[int]:
    if sentence.offsets is None:
        offsets, position = [], 0
        for token in sentence.raw:
            position = sentence.text.find(token, position)
            offsets.append(position)
            position += len(token)
        sentence.offsets = offsets
    return sentence.offsets


def section_kind(title: str) -> str | None:
    for kind, pattern in lx.SECTION_PATTERNS.items():
        if pattern.search(title):
            return kind
    return None


def parse(text: str) -> Document:
    """Split a prompt into sentences, headings and non-prose; no tokens yet (see scan)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    masked = text
    placeholders: list[str] = []
    inline_code: list[str] = []
    if "{" in text:
        masked = lx.PLACEHOLDER.sub(_Blank(placeholders, whole=True), text)
    if "`" in masked:  # inline code never spans lines
        masked = lx.INLINE_CODE.sub(_Blank(inline_code, whole=False), masked)
    lines = masked.split("\n")
    kinds = _classify(lines)
    code: list[str] = []
    if "code" in kinds:
        code = _code_blocks(text.split("\n"), kinds)
        lines = [" " * len(ln) if k == "code" else ln for ln, k in zip(lines, kinds, strict=True)]
        masked = "\n".join(lines)
    # line k starts after the k lines before it and their newlines
    starts = [0, *map(add, accumulate(map(len, lines[:-1])), count(1))]
    doc = Document(text, masked, starts, code, placeholders, inline_code)
    _segment(doc, lines, kinds)
    return doc


class _Blank:
    """A ``re.sub`` replacement that blanks each match with underscores of the same length
    (newlines kept) and collects what it blanked: one pass instead of finditer plus sub."""

    def __init__(self, found: list[str], whole: bool) -> None:
        self.found, self.whole = found, whole

    def __call__(self, match: re.Match[str]) -> str:
        text = match.group()
        self.found.append(text if self.whole else text[1:-1])
        return _NOT_NEWLINE.sub("_", text) if "\n" in text else "_" * len(text)


def _classify(lines: list[str]) -> list[str]:
    kinds: list[str] = []
    fence: str | None = None
    depth = 0
    for line in lines:
        stripped = line.strip()
        if fence is not None:
            kinds.append("code")
            if stripped.startswith(fence):
                fence = None
            continue
        if depth == 0 and stripped[:1].isalpha() and stripped[-1] != ":" and (
            stripped[1:2] not in (".", ")")
        ):  # most lines: what _kind would answer, without its eight tests
            kinds.append("prose")
            continue
        kinds.append(_kind(line, stripped, depth))
        if kinds[-1] == "code":
            if stripped[:3] in ("```", "~~~"):
                fence = stripped[:3]
            else:
                depth = max(0, depth + _brace_delta(stripped))
    return kinds


def _kind(line: str, stripped: str, depth: int) -> str:
    if not stripped:
        return "blank"
    first = stripped[0]
    if (first in "`~" and lx.FENCE.match(line)) or depth > 0:
        return "code"
    if first in "{[" and lx.JSON_OPEN.match(line):
        return "code"
    if (first == "#" or stripped[-1] == ":") and lx.HEADING.match(line):
        return "heading"
    if first in "-*_=" and lx.RULE_LINE.match(line):
        return "blank"
    if (first in "-*+\u2022" or first.isdigit() or stripped[1:2] in (".", ")")) and (
        lx.LIST_ITEM.match(line)
    ):
        return "item"
    return "prose"


def _brace_delta(line: str) -> int:
    return line.count("{") + line.count("[") - line.count("}") - line.count("]")


def _code_blocks(raw_lines: list[str], kinds: list[str]) -> list[str]:
    blocks: list[str] = []
    current: list[str] = []
    for line, kind in zip(raw_lines, kinds, strict=True):
        if kind == "code":
            current.append(line)
        elif current:
            blocks.append("\n".join(current))
            current = []
    if current:
        blocks.append("\n".join(current))
    return blocks


def _segment(doc: Document, lines: list[str], kinds: list[str]) -> None:
    starts = doc.line_starts
    ends = _sentence_ends(doc.masked)
    section: str | None = None
    fresh = True  # the next sentence is the first of the document or of a section
    # start, end, is a list item, section label of its first line
    unit: tuple[int, int, bool, str | None] = (-1, 0, False, None)
    previous = ""
    for index, kind in enumerate(kinds):
        line = lines[index]
        if kind == "prose" and unit[0] >= 0:
            tail = previous.rstrip()
            if tail and (tail[-1].islower() or tail[-1] == ",") and line.lstrip()[:1].islower():
                unit = (unit[0], starts[index] + len(line), unit[2], unit[3])
                previous = line
                continue
        if unit[0] >= 0:
            fresh = _emit(doc, unit, section, fresh, ends)
            unit = (-1, 0, False, None)
        if kind == "heading":
            match = cast(re.Match[str], lx.HEADING.match(line))  # what made it a heading
            title = match.group(1) or match.group(2)
            section = section_kind(title)
            doc.headings.append(Heading(index + 1, title, section))
            fresh = True
        elif kind == "prose" or kind == "item":
            label = lx.LABEL.match(line) if kind == "prose" and ":" in line[:40] else None
            label_kind = section_kind(label.group(1)) if label else None
            if label_kind:
                doc.labels.add(label_kind)
            doc.list_items += kind == "item"
            unit = (starts[index], starts[index] + len(line), kind == "item", label_kind)
        previous = line
    if unit[0] >= 0:
        _emit(doc, unit, section, fresh, ends)


def _sentence_ends(masked: str) -> list[int]:
    """Where sentences end inside a line (abbreviations such as e.g. excluded): the only
    ends that split a paragraph or list item, whose own end is always a line's end."""
    ends = []
    for match in lx.SENTENCE_BREAK.finditer(masked):
        dot = match.start()
        if masked[dot - 1: dot] in "gesxlf" and masked[max(0, dot - 7): dot + 1].lower().endswith(
            lx.ABBREVIATIONS
        ):
            continue
        ends.append(match.end())
    return ends


def _emit(doc: Document, unit: tuple[int, int, bool, str | None], section: str | None,
          fresh: bool, ends: list[int]) -> bool:
    """Split a paragraph or list item into sentences; returns the new ``fresh``."""
    start, end, item, label = unit
    masked = doc.masked
    if end - start > WALL_CHARS:
        doc.paragraphs.append((start, end, len(masked[start:end].split())))
    stops = [end]
    first = bisect.bisect_right(ends, start)
    if first < len(ends) and ends[first] < end:  # most units hold one sentence
        stops = ends[first: bisect.bisect_left(ends, end, first)] + stops
    cut = start
    for number, stop in enumerate(stops):
        raw = masked[cut:stop]
        piece_start, cut = cut, stop
        marker = lx.LIST_ITEM.match(raw) if item and number == 0 else None
        offset = marker.end() if marker else len(raw) - len(raw.lstrip())
        text = raw[offset:].rstrip()
        if text.lower() == text.upper():  # no letter at all: a masked placeholder, a number
            continue
        begin = piece_start + offset
        kind = (label if number == 0 else None) or section
        doc.sentences.append(Sentence(begin, begin + len(text), text, kind, fresh,
                                      item and number == 0))
        fresh = False
    return fresh
