"""The taint gate: an added line copied from case text is never applied automatically.

The failure cases shown to the critic hold text no one at this end wrote: the agents'
reasoning (LLM output) and the recorded context (a market feed, news, whatever the bot
stored). A critic steered by an instruction planted there tends to copy it into the prompt.
So an added line is **tainted** when it shares a run of at least :data:`MIN_RUN` (6)
consecutive words with one of those texts (the run may go on over the next added lines: a
copied sentence split over three lines is still copied, and the line where it starts is
named), or, for a line of 4 or 5 words, when the whole line appears in one. Words are
compared normalised: lower case, runs of letters and digits (``1.0`` and ``0.55`` stay one
word), punctuation and Markdown ignored. A tainted candidate does not pass: it is held for
a person (shown, never auto-applied), and the gate's detail names the line, how many words
it shares and the case and field they came from.

:func:`case_texts` lists the untrusted texts of tracker cases as (source, text) pairs, the
source naming the case and the field (``case d17 output.reasoning``, ``case d17
context.news``); every string a case carries is included, the critic's view of a case
being a subset.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from optimizer.gates import GateResult

__all__ = ["MIN_RUN", "MIN_LINE", "Untrusted", "case_texts", "taint_gate", "words"]

MIN_RUN = 6  # consecutive shared words that make a line tainted
MIN_LINE = 4  # a shorter line copied whole is too common to mean anything
QUOTE = 60  # characters of a tainted line quoted in the detail
WORD = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")
# Written by the tracker, not by an LLM or a feed (at any depth: a pair's other call too).
SKIPPED_KEYS = frozenset(("case_id", "kind", "timestamp", "agent", "prompt_sha",
                          "decision_ids", "decision_id"))

Untrusted = Sequence[tuple[str, str]]


def words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def case_texts(cases: Iterable[Any]) -> list[tuple[str, str]]:
    """Every string of every case (reasoning, context, the other call of a pair), named."""
    texts: list[tuple[str, str]] = []
    for case in cases:
        data = case.to_dict() if hasattr(case, "to_dict") else dict(case)
        name = str(data.get("case_id") or "case")
        texts += [(f"case {name} {path}", text) for path, text in _strings(data, "")]
    return texts


def taint_gate(added: Iterable[tuple[int, str]], untrusted: Untrusted) -> GateResult:
    """Refuse added lines that copy untrusted case text; ``added`` is (line number, text)."""
    index = _Index(untrusted)
    tainted = [hit for group in _consecutive(added) for hit in index.matches(group)]
    data: dict[str, Any] = {"min_run": MIN_RUN, "texts": len(untrusted), "tainted": tainted}
    if not tainted:
        detail = (f"no added line copies case text ({MIN_RUN}+ words checked against "
                  f"{len(untrusted)} case text(s))" if untrusted else "no case text to compare")
        return GateResult("taint", True, detail, data)
    first = tainted[0]
    more = f"; and {len(tainted) - 1} more line(s)" if len(tainted) > 1 else ""
    return GateResult("taint", False, (
        f"line {first['line']} (\"{first['text']}\") copies {first['words']} words of "
        f"{first['source']}: held for a person, never auto-applied{more}"), data)


class _Index:
    """The word runs of the untrusted texts, for one pass over each added line."""

    def __init__(self, untrusted: Untrusted) -> None:
        self.sources: list[str] = []
        self.joined: list[str] = []  # each text's words, space-separated and padded
        self.runs: dict[tuple[str, ...], int] = {}
        for number, (source, text) in enumerate(untrusted):
            found = words(text)
            self.sources.append(source)
            self.joined.append(f" {' '.join(found)} ")
            for start in range(len(found) - MIN_RUN + 1):
                self.runs.setdefault(tuple(found[start:start + MIN_RUN]), number)

    def matches(self, lines: list[tuple[int, str]]) -> list[dict[str, Any]]:
        """The tainted lines of a group of consecutive added lines: a run may cross lines
        (splitting a copied sentence over three lines does not hide it)."""
        stream = [(word, line, text) for line, text in lines for word in words(text)]
        found = [word for word, _, _ in stream]
        hits: dict[int, dict[str, Any]] = {}
        start = 0
        while start <= len(found) - MIN_RUN:
            source = self.runs.get(tuple(found[start:start + MIN_RUN]))
            if source is None:
                start += 1
                continue
            shared = self._extend(found, start, source)
            _, line, text = stream[start]
            hits.setdefault(line, self._hit(line, text, source, shared))
            start += len(shared)
        for line, text in lines:
            short = words(text)
            if line not in hits and MIN_LINE <= len(short) < MIN_RUN:
                whole = f" {' '.join(short)} "
                source = next((n for n, joined in enumerate(self.joined) if whole in joined),
                              None)
                if source is not None:
                    hits[line] = self._hit(line, text, source, short)
        return [hits[line] for line in sorted(hits)]

    def _extend(self, found: list[str], start: int, source: int) -> list[str]:
        """The longest run from ``start`` that the source text holds."""
        end = start + MIN_RUN
        while end < len(found) and f" {' '.join(found[start:end + 1])} " in self.joined[source]:
            end += 1
        return found[start:end]

    def _hit(self, line: int, text: str, source: int, shared: list[str]) -> dict[str, Any]:
        text = " ".join(text.split())
        return {"line": line, "text": text if len(text) <= QUOTE else text[:QUOTE - 3] + "...",
                "source": self.sources[source], "words": len(shared), "shared": " ".join(shared)}


def _consecutive(added: Iterable[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    groups: list[list[tuple[int, str]]] = []
    for line, text in added:
        if groups and groups[-1][-1][0] == line - 1:
            groups[-1].append((line, text))
        else:
            groups.append([(line, text)])
    return groups


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        if len(words(value)) >= MIN_LINE:
            yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if key not in SKIPPED_KEYS:
                yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for number, item in enumerate(value):
            yield from _strings(item, f"{path}[{number}]")
