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

Each sentence is then annotated: an instruction or not; filler (a pleasantry, or filler
words around fewer than two content words: "Please note that this is very important"); a
generic virtue; concrete (carries a number, value, field or placeholder); a duplicate of an
earlier sentence (same content words, or three quarters of them shared with a sentence that
begins or ends with the same word).
"""

from __future__ import annotations

from optimizer.rules import lexicon as lx
from optimizer.rules.text import Document, Hit, Sentence

CONCRETE = frozenset(
    "number number_word anchor enum snake key allowed allowed_cue slot threshold quoted_key "
    "range slot_threshold".split()
)
EXTRA = ("number", "threshold", "slot_threshold", "slot", "anchor", "snake", "range", "enum",
         "allowed", "quoted_key", "caps")
NUMBER_START = frozenset("0123456789$+-~<>\u2264\u2265")
NUMBER_WORDS = frozenset(lx.CATEGORIES["number_word"])
CONDITIONALS = frozenset(lx.CATEGORIES["conditional"])


class _Tokens:
    """The flat token lists of a document and where each sentence's tokens start."""

    def __init__(self, doc: Document) -> None:
        lowered = doc.masked.lower()
        self.raw: list[str] = []
        lower_raw: list[str] = []
        self.owner: list[int] = []
        self.first: list[int] = []
        for index, sentence in enumerate(doc.sentences):
            words = sentence.text.split()
            self.first.append(len(self.raw))
            self.raw += words
            lower_raw += lowered[sentence.start: sentence.end].split()
            self.owner += [index] * len(words)
        self.low = [t.strip(lx.STRIP) for t in lower_raw]
        self.ends = self.first[1:] + [len(self.raw)]
        for index, sentence in enumerate(doc.sentences):
            sentence.raw = self.raw[self.first[index]: self.ends[index]]
            sentence.low = self.low[self.first[index]: self.ends[index]]

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
    _annotate(doc)
    doc.defined = _defined_terms(doc)


def _phrases(tokens: _Tokens, hits: dict[str, list[Hit]]) -> dict[str, list[int]]:
    """Lexicon hits; also returns where 'or' and 'be' stand (for values and passives)."""
    low, single, multi = tokens.low, lx.SINGLE_WORDS, lx.MULTI_WORDS
    owner, first, ends = tokens.owner, tokens.first, tokens.ends
    last_end: dict[str, int] = {}
    marks: dict[str, list[int]] = {"or": [], "be": []}
    for i in [i for i, t in enumerate(low) if t in lx.FIRST_WORDS]:
        word = low[i]
        if word == "or" or word == "be":
            marks[word].append(i)
        sentence = owner[i]
        limit, base = ends[sentence], first[sentence]
        if i + 1 < limit:
            for rest, category in multi.get((word, low[i + 1]), ()):
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
    low = tokens.low
    numbers: set[int] = set()
    for i in [i for i, t in enumerate(low) if t[:1] in NUMBER_START or "_" in t]:
        tok = low[i]
        if "_" in tok:
            category = "anchor" if tok[0] == "_" or "__" in tok else "snake"
            hits[category].append(tokens.hit(i, i + 1))
        elif tok[0].isdigit() or tok[1:2].isdigit():
            numbers.add(i)
            hits["number"].append(tokens.hit(i, i + 1))
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
    caps = [i for i, t in enumerate(raw) if t[:3].isupper()]
    hits["caps"] += [tokens.hit(i, i + 1) for i in caps]
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
        listed = i - 2 >= start and raw[i - 2].endswith(",") and (
            i + 2 == end or raw[i + 1][-1:] in ".;):"
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


def _annotate(doc: Document) -> None:
    hits = doc.hits
    concrete = {h[0] for category in CONCRETE for h in hits[category]}
    roles = {h[0] for h in hits["role"]}
    modals = {h[0] for h in hits["modal"]}
    generic = {h[0] for h in hits["generic"]}
    filler_words: dict[int, set[str]] = {}
    for index, first, end in hits["filler"]:
        filler_words.setdefault(index, set()).update(doc.sentences[index].low[first:end])
    seen: dict[frozenset[str], int] = {}
    buckets: dict[str, list[tuple[int, frozenset[str]]]] = {}
    for index, sentence in enumerate(doc.sentences):
        low = sentence.low
        sentence.instruction = _is_instruction(sentence, index in roles, index in modals)
        words = sentence.content = frozenset(low).difference(lx.STOPWORDS)
        sentence.filler = not low or low[0] in lx.PLEASANTRIES or (
            index in filler_words and len(words - filler_words[index]) < 2
        )
        sentence.generic = index in generic and len(low) <= 8
        sentence.concrete = index in concrete
        if len(words) >= 2 and words in seen:
            sentence.duplicate_of = seen[words]
            continue
        seen.setdefault(words, index)
        if len(words) >= 4:
            keys = {low[0], low[-1]} - lx.STOPWORDS or {low[0]}
            sentence.duplicate_of = _near_duplicate(words, buckets, keys)
            for key in keys:
                buckets.setdefault(key, []).append((index, words))
    doc.instruction_count = sum(1 for s in doc.sentences if s.counted)
    doc.word_count = sum(len(s.raw) for s in doc.sentences if s.duplicate_of is None)


def _is_instruction(sentence: Sentence, role: bool, modal: bool) -> bool:
    low = sentence.low
    if not low:
        return False
    if role and low[0] in ("you", "you're", "act", "your") and not modal:
        return False
    if sentence.list_item or sentence.section == "output" or sentence.text.endswith("?"):
        return True
    for word in low[:3]:
        if word in lx.IMPERATIVE_VERBS:
            return True
        if word not in lx.LEAD_WORDS:
            break
    return modal or low[0] in CONDITIONALS


def _near_duplicate(words: frozenset[str], buckets: dict[str, list[tuple[int, frozenset[str]]]],
                    keys: set[str]) -> int | None:
    """An earlier sentence sharing three quarters of the content words. Only sentences that
    begin or end with the same word are compared: a restated rule keeps its verb or its
    object, and this keeps the search linear."""
    size = len(words)
    for key in keys:
        for other, theirs in buckets.get(key, ()):
            if min(size, len(theirs)) < 0.75 * max(size, len(theirs)):
                continue
            if len(words & theirs) >= 0.75 * len(words | theirs):
                return other
    return None


def _defined_terms(doc: Document) -> set[str]:
    """The one or two words before 'means', 'is defined as'... in any sentence."""
    terms: set[str] = set()
    for index, first, _ in doc.hits["definition"]:
        terms.update(doc.sentences[index].low[max(0, first - 2): first])
    return terms - lx.STOPWORDS
