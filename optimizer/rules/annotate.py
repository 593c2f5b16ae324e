"""The annotations all rules share, made once the tokens are scanned (:mod:`.scan`).

Each sentence is annotated: an instruction or not (a listed verb, a modal, an if/when
rule..., or a bare word that is no determiner, pronoun or preposition followed by an object:
"Refund the order"; also after an introductory phrase: "For VIP callers, skip the queue");
filler (a pleasantry, or filler words around fewer than two content words: "Please note
that this is very important"); a
generic virtue; concrete (carries a number, value, field or placeholder); a duplicate of an
earlier sentence (same content words, or three quarters of them shared with a sentence that
begins or ends with the same word). The document also gets the lists rules loop over instead
of every sentence: the sentences that count (``counted``), that repeat (``repeated``), and
that hold three imperative verbs or more (``verbose``, found by the scan).

The terms the prompt defines ("X means ...", "a ticket is stale when ...", the listed values
of an input) go to ``doc.defined``: they are not vague.

Speed: the analyzer's results are pinned by tests/analyzer/test_analyzer_golden.py, so any
change made here for speed must leave them identical.
"""

from __future__ import annotations

from optimizer.rules import lexicon as lx
from optimizer.rules.text import Document, Hit, Sentence

__all__ = ["CONCRETE", "annotate"]

CONCRETE = frozenset(
    "number number_word anchor enum snake key allowed allowed_cue slot threshold quoted_key "
    "range slot_threshold".split()
)
CONDITIONALS = frozenset(lx.CATEGORIES["conditional"])
ROLE_OPENERS = ("you", "you're", "act", "your")
# A sentence opening with one of these is an instruction whatever else holds.
IMPERATIVE_OPENERS = lx.IMPERATIVE_VERBS.difference(ROLE_OPENERS)


def annotate(doc: Document) -> None:
    """Mark every sentence (instruction, filler, duplicate...), then the few that carry
    marks from the hits, then the terms the prompt defines."""
    hits, sentences = doc.hits, doc.sentences
    roles = {h[0] for h in hits["role"]}
    modals = {h[0] for h in hits["modal"]}
    seen: dict[frozenset[str], int] = {}
    buckets: dict[str, list[tuple[int, frozenset[str]]]] = {}
    stopwords, pleasantries = lx.STOPWORDS, lx.PLEASANTRIES
    for index, sentence in enumerate(sentences):
        low = sentence.low
        if low and low[0] in IMPERATIVE_OPENERS:
            sentence.instruction = True  # the common case of _is_instruction, decided early
        else:
            sentence.instruction = _is_instruction(sentence, index in roles, index in modals)
        words = sentence.content = frozenset(low).difference(stopwords)
        if not low or low[0] in pleasantries:
            sentence.filler = True
        size = len(words)
        earlier = seen.setdefault(words, index)
        if size >= 2 and earlier != index:
            sentence.duplicate_of = earlier
            continue
        if size >= 4:
            keys = {low[0], low[-1]} - stopwords or {low[0]}
            if not buckets.keys().isdisjoint(keys):
                sentence.duplicate_of = _near_duplicate(words, buckets, keys)
            for key in keys:
                if key in buckets:
                    buckets[key].append((index, words))
                else:
                    buckets[key] = [(index, words)]
    _mark(doc)
    doc.defined = _defined_terms(doc) | _definitional_conditions(doc) | _listed_values(doc)


def _mark(doc: Document) -> None:
    """The marks that only a few sentences carry, set from the hits rather than per sentence;
    then the sentences that count in score denominators."""
    hits, sentences = doc.hits, doc.sentences
    for index in {h[0] for category in CONCRETE for h in hits[category]}:
        sentences[index].concrete = True
    for index in {h[0] for h in hits["generic"]}:
        sentences[index].generic = len(sentences[index].low) <= 8
    filler_words: dict[int, set[str]] = {}
    for index, first, end in hits["filler"]:
        filler_words.setdefault(index, set()).update(sentences[index].low[first:end])
    for index, words in filler_words.items():
        sentence = sentences[index]
        sentence.filler = sentence.filler or len(sentence.content - words) < 2
    doc.counted = [s for s in sentences if s.counted]
    doc.instruction_count = len(doc.counted)
    doc.repeated = [i for i, s in enumerate(sentences) if s.duplicate_of is not None]
    doc.word_count = sum(map(len, (s.raw for s in sentences))) - sum(
        [len(sentences[i].raw) for i in doc.repeated]
    )


def _is_instruction(sentence: Sentence, role: bool, modal: bool) -> bool:
    low = sentence.low
    if not low:
        return False
    if role and low[0] in ROLE_OPENERS and not modal:
        return False
    if sentence.list_item or sentence.section == "output" or sentence.text.endswith("?"):
        return True
    for word in low[:3]:
        if word in lx.IMPERATIVE_VERBS:
            return True
        if word not in lx.LEAD_WORDS:
            break
    return modal or low[0] in CONDITIONALS or _opens_with_verb(sentence, 0) or (
        low[0] in lx.INTRO_OPENERS and _after_intro(sentence)
    )


def _opens_with_verb(sentence: Sentence, at: int) -> bool:
    """A listed verb at ``at``, or a word that is no determiner, pronoun or preposition
    followed by an object ("Refund the order", "Triage each message"; not "Rent: it is")."""
    low = sentence.low
    word = low[at] if at < len(low) else ""
    if word in lx.IMPERATIVE_VERBS:
        return True
    return at + 1 < len(low) and low[at + 1] in lx.OBJECT_STARTERS and word.isalpha() and (
        sentence.raw[at][-1:].isalpha() and word not in lx.NOT_VERBS
        and not word.endswith(("ly", "ing", "ed"))
        and (not word.endswith("s") or word.endswith("ss"))
    )


def _after_intro(sentence: Sentence) -> bool:
    """An instruction after an introductory phrase: "For enterprise customers, tell them...",
    "After each call, update the record"."""
    raw = sentence.raw
    for i in range(1, min(len(raw) - 1, 10)):
        if raw[i].endswith(","):
            return _opens_with_verb(sentence, i + 1)
    return False


def _near_duplicate(words: frozenset[str], buckets: dict[str, list[tuple[int, frozenset[str]]]],
                    keys: set[str]) -> int | None:
    """The earliest sentence sharing three quarters of the content words. Only sentences
    that begin or end with the same word are compared: a restated rule keeps its verb or its
    object, and this keeps the search linear. (The earliest over both keys, not the first
    found: ``keys`` is a set, and its order changes with the interpreter's hash seed.)"""
    size = len(words)
    found: int | None = None
    for key in keys:
        for other, theirs in buckets.get(key, ()):
            if found is not None and other >= found:
                break
            if min(size, len(theirs)) < 0.75 * max(size, len(theirs)):
                continue
            if len(words & theirs) >= 0.75 * len(words | theirs):
                found = other
                break
    return found


def _definitional_conditions(doc: Document) -> set[str]:
    """"A ticket is stale when ...": outside an instruction, "is <term> when/if" defines the
    term; it is a definition (for specificity), not a rule that needs a default."""
    terms: set[str] = set()
    kept: list[Hit] = []
    hits = doc.hits
    for hit in hits["conditional"]:
        index, first, _ = hit
        sentence = doc.sentences[index]
        if first >= 2 and not sentence.instruction and sentence.low[first - 2] in ("is", "are"):
            terms.add(sentence.low[first - 1])
            hits["definition"].append(hit)
        else:
            kept.append(hit)
    if terms:
        hits["conditional"] = kept
    return terms


def _listed_values(doc: Document) -> set[str]:
    """The values of an input the prompt lists ("market_condition, one of trending, volatile
    or sideways"; "(low, normal or high)"): each is defined by the data, not vague."""
    values: set[str] = set()
    for index, _, end in doc.hits["allowed_cue"]:
        raw, low = doc.sentences[index].raw, doc.sentences[index].low
        for j in range(end, min(end + 12, len(raw))):
            values.add(low[j])
            if raw[j][-1] in ".;:)":
                break
    for index, first, end in doc.hits["allowed"]:
        raw, low = doc.sentences[index].raw, doc.sentences[index].low
        values.update(low[first:end])
        j = first - 1
        while j >= 0 and raw[j].endswith(","):
            values.add(low[j])
            j -= 1
    return values - lx.STOPWORDS


def _defined_terms(doc: Document) -> set[str]:
    """The one or two words before 'means', 'is defined as'... in any sentence."""
    terms: set[str] = set()
    for index, first, _ in doc.hits["definition"]:
        terms.update(doc.sentences[index].low[max(0, first - 2): first])
    return terms - lx.STOPWORDS
