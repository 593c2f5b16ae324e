"""One pass over the tokens of the whole prompt, then the annotations all rules share.

Tokens are the whitespace-separated words of each sentence (``str.split``, the cheapest
tokenizer there is), compared after stripping punctuation around them and lowercasing. All
sentences' tokens sit in one flat list, and each kind of token is found with one list
comprehension over it (phrase starts, numbers, field names, upper-case words): per-token work
in Python is what costs, so the loops that remain run over the few tokens that matter.

The pass records *hits*, ``(sentence, first token, end token)`` per category: every lexicon
phrase (see :data:`optimizer.rules.lexicon.CATEGORIES`) plus the structural ones computed
here: ``number``, ``threshold`` (a comparison with a number, or a number with a unit),
``slot_threshold`` (a comparison with a <SLOT>), ``slot``, ``anchor`` (a masked placeholder
or inline code), ``snake`` (a field name), ``range``, ``enum`` (upper-case values such as
BUY, SELL or HOLD), ``allowed`` (lower-case alternatives such as positive, negative or
neutral), ``quoted_key``, ``caps`` (upper-case words) and passive ``indirect`` instructions
("should be checked").

Each sentence is then annotated, and the document gets its lists of sentences, by
:mod:`optimizer.rules.annotate`.

Speed: the analyzer's results are pinned by tests/analyzer/test_analyzer_golden.py, so any
change made here for speed must leave them identical.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import accumulate, chain, compress, count, repeat
from operator import itemgetter

from optimizer.rules import lexicon as lx
from optimizer.rules.annotate import annotate
from optimizer.rules.text import Document, Hit

EXTRA = ("number", "threshold", "slot_threshold", "slot", "anchor", "snake", "range", "enum",
         "allowed", "quoted_key", "caps")
NUMBER_START = frozenset("0123456789$+-~<>\u2264\u2265")
NUMBER_WORDS = frozenset(lx.CATEGORIES["number_word"])
FIRST_THREE = itemgetter(slice(None, 3))


def where(flags: Iterable[object]) -> list[int]:
    """The indexes of the true flags: with ``map`` over a builtin (``frozenset.__contains__``,
    ``str.isupper``), a filter that runs in C."""
    return list(compress(count(), flags))


class _Tokens:
    """The flat token lists of a document and where each sentence's tokens start."""

    def __init__(self, doc: Document) -> None:
        lowered = doc.masked.lower()
        sentences = doc.sentences
        words = [sentence.text.split() for sentence in sentences]
        sizes = list(map(len, words))
        self.raw: list[str] = list(chain.from_iterable(words))
        # Lowercased once for the whole text, split once for all sentences (a space between
        # two sentences' slices cannot join their tokens).
        lower_raw = " ".join([lowered[s.start: s.end] for s in sentences]).split()
        self.low = list(map(str.strip, lower_raw, repeat(lx.STRIP)))
        self.owner: list[int] = list(chain.from_iterable(map(repeat, count(), sizes)))
        self.ends: list[int] = list(accumulate(sizes))
        self.first: list[int] = [0, *self.ends[:-1]] if sentences else []
        low = self.low
        for sentence, tokens, first, end in zip(sentences, words, self.first, self.ends,
                                                strict=True):
            sentence.raw = tokens
            sentence.low = low[first:end]

    def hit(self, start: int, end: int) -> Hit:
        owner = self.owner[start]
        return owner, start - self.first[owner], end - self.first[owner]

    def end_of(self, position: int) -> int:
        """The flat index just past the last token of the sentence holding ``position``."""
        return self.ends[self.owner[position]]


def scan(doc: Document) -> None:
    tokens = _Tokens(doc)
    hits: dict[str, list[Hit]] = {name: [] for name in (*lx.CATEGORIES, *EXTRA)}
    marks = _phrases(tokens, hits)
    numbers = _numbers(tokens, hits)
    _structures(doc, tokens, hits, numbers, marks)
    doc.hits = hits
    doc.tokens = tokens.low
    owner, verbs = tokens.owner, lx.IMPERATIVE_VERBS
    owners = [owner[i] for i, t in enumerate(tokens.low) if t in verbs]  # in text order
    # owners is sorted: a sentence with three verbs or more has owners[j] == owners[j + 2]
    doc.verbose = sorted({a for a, b in zip(owners, owners[2:], strict=False) if a == b})
    annotate(doc)


def _phrases(tokens: _Tokens, hits: dict[str, list[Hit]]) -> dict[str, list[int]]:
    """Lexicon hits; also returns where 'or' and 'be' stand (for values and passives)."""
    low, single, multi = tokens.low, lx.SINGLE_WORDS, lx.MULTI_WORDS
    owner, first, ends = tokens.owner, tokens.first, tokens.ends
    last_end: dict[str, int] = {}
    marks: dict[str, list[int]] = {"or": [], "be": []}
    last, starters = len(low) - 1, lx.FIRST_WORDS  # a local: read once per token
    for i in [i for i, t in enumerate(low) if t in starters]:
        word = low[i]
        if word == "or" or word == "be":
            marks[word].append(i)
        # most candidates ("the", "you", "and") start no phrase here: skip them first
        entries = multi.get((word, low[i + 1]), ()) if i < last else ()
        if not entries and word not in single:
            continue
        sentence = owner[i]
        limit, base = ends[sentence], first[sentence]
        if i + 1 < limit:
            for rest, category in entries:
                end = i + 2 + len(rest)
                if end > limit or last_end.get(category, 0) > i or (
                    rest and tuple(low[i + 2:end]) != rest
                ):
                    continue
                hits[category].append((sentence, i - base, end - base))
                last_end[category] = end
        for category in single.get(word, ()):
            if last_end.get(category, 0) <= i:
                hits[category].append((sentence, i - base, i + 1 - base))
                last_end[category] = i + 1
    return marks


def _numbers(tokens: _Tokens, hits: dict[str, list[Hit]]) -> set[int]:
    low, owner, first = tokens.low, tokens.owner, tokens.first
    numbers: set[int] = set()
    found = hits["number"]
    for i in [i for i, t in enumerate(low) if t[:1] in NUMBER_START or "_" in t]:
        tok = low[i]
        base = first[owner[i]]
        if "_" in tok:
            category = "anchor" if tok[0] == "_" or "__" in tok else "snake"
            hits[category].append((owner[i], i - base, i + 1 - base))
        elif tok[0].isdigit() or tok[1:2].isdigit():
            numbers.add(i)
            found.append((owner[i], i - base, i + 1 - base))
    return numbers


def _structures(doc: Document, tokens: _Tokens, hits: dict[str, list[Hit]],
                numbers: set[int], marks: dict[str, list[int]]) -> None:
    low, raw = tokens.low, tokens.raw
    slots = set()
    if "<" in doc.masked and lx.SLOT.search(doc.masked):
        slots = {i for i, t in enumerate(raw) if t[:1] == "<" and lx.SLOT.match(t)}
        hits["slot"] += [tokens.hit(i, i + 1) for i in sorted(slots)]
    for sentence_index, first, end in hits["comparator"]:
        start, j = tokens.first[sentence_index] + first, tokens.first[sentence_index] + end
        limit = tokens.ends[sentence_index]
        j += j < limit and low[j] in ("the", "a")
        if j in slots:
            hits["slot_threshold"].append(tokens.hit(start, j + 1))
        elif j in numbers or (j < limit and low[j] in NUMBER_WORDS):
            hits["threshold"].append(tokens.hit(start, j + 1))
    for i in sorted(numbers):
        tok = low[i]
        following = low[i + 1] if i + 1 < len(low) else ""
        if tok[0] in "<>\u2264\u2265" or has_unit(tok) or following in lx.UNITS:
            hits["threshold"].append(tokens.hit(i, i + 1))
        if is_range(tok) or (i + 2 in numbers and following in ("to", "and", "-", "\u2013")):
            hits["range"].append(tokens.hit(i, i + 1))
    caps = where(map(str.isupper, map(FIRST_THREE, raw)))
    owner, starts = tokens.owner, tokens.first
    hits["caps"] += [(owner[i], i - starts[owner[i]], i + 1 - starts[owner[i]]) for i in caps]
    hits["enum"] += [tokens.hit(a, b) for a, b in enumerations(raw, caps, tokens.owner)]
    _allowed(tokens, hits, marks["or"])
    if '":' in doc.masked:
        hits["quoted_key"] += [tokens.hit(i, i + 1) for i, t in enumerate(raw)
                               if t.startswith('"') and '":' in t]
    _passive(tokens, hits, marks["be"])


def has_unit(tok: str) -> bool:
    if tok[0] == "$" or tok.endswith(lx.UNIT_SUFFIXES):
        return True
    return "-" in tok and tok.rsplit("-", 1)[1] in lx.UNITS


def is_range(tok: str) -> bool:
    parts = tok.replace("\u2013", "-").split("-")
    return len(parts) == 2 and parts[0][:1].isdigit() and parts[1][:1].isdigit()


def _caps(core: str) -> bool:
    return len(core) >= 2 and core.isalpha() and core.isupper()


def enumerations(raw: list[str], caps: list[int] | None = None,
                 owner: list[int] | None = None) -> list[tuple[int, int]]:
    """Token spans of upper-case value lists: BUY, SELL or HOLD; "LOW" | "HIGH"; BUY/SELL."""
    if caps is None:
        caps = [i for i, t in enumerate(raw) if t[:3].isupper()]
    runs: list[tuple[int, int]] = []
    start = last = -9
    for i in caps:
        core = raw[i].strip(lx.STRIP)
        if ("/" in core or "|" in core) and all(
            _caps(p.strip("\"'")) for p in core.replace("|", "/").split("/")
        ):
            runs.append((i, i + 1))
            continue
        if not _caps(core):
            continue
        joined = (i - last == 1 and raw[last].rstrip("\"'`").endswith((",", "/", "|"))) or (
            i - last == 2 and raw[i - 1].strip("\"'") in ("or", "and", "|", "/", ",")
        )
        if joined and owner is not None and owner[i] != owner[last]:
            joined = False
        if not joined:
            if last > start:
                runs.append((start, last + 1))
            start = i
        last = i
    if last > start:
        runs.append((start, last + 1))
    return runs


def _allowed(tokens: _Tokens, hits: dict[str, list[Hit]], positions: list[int]) -> None:
    raw = tokens.raw
    for i in positions:
        end = tokens.end_of(i)
        start = tokens.first[tokens.owner[i]]
        if i == start or i + 1 >= end:
            continue
        parenthetical = raw[i - 1].startswith("(") and raw[i + 1].endswith(")")
        # the last value may be quoted and close a parenthesis: ("up", "flat" or "down"),
        listed = i - 2 >= start and raw[i - 2].endswith(",") and (
            i + 2 == end or raw[i + 1].rstrip(",").rstrip("\"'`")[-1:] in ".;):"
        )
        if parenthetical or listed:
            hits["allowed"].append(tokens.hit(i - 1, i + 2))


def _passive(tokens: _Tokens, hits: dict[str, list[Hit]], positions: list[int]) -> None:
    low = tokens.low
    for i in positions:
        start = tokens.first[tokens.owner[i]]
        if i == start or i + 1 >= tokens.end_of(i) or not low[i + 1].endswith(("ed", "en")):
            continue
        if low[i - 1] in lx.PASSIVE_LEADS:
            hits["indirect"].append(tokens.hit(i - 1, i + 2))
        elif low[i - 1] == "to" and i - 2 >= start and low[i - 2] in lx.PASSIVE_LEADS:
            hits["indirect"].append(tokens.hit(i - 2, i + 2))
