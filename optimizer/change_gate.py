"""The change gate: the analyzer judges what a candidate adds and removes, not the whole prompt.

A long prompt's scores barely move when one line changes, and they move for reasons that
have nothing to do with the line (a rule added to a long prompt shifts the length-weighted
terms). So the lines that changed are judged on their own, with three refusals, each naming
the line and the reason:

- **vague wording added**: the analyzer (``optimizer.analyzer.analyze`` on the candidate,
  so its own lexicon, its defined-term and near-a-number exemptions) reports a finding of
  one of :data:`VAGUE_RULES` on an added line, and the same words are not on a removed
  line (rewording a line that already hedged adds nothing vague).
- **threshold removed**: a number on a removed line appears on no added line, and the
  change does not bring a new number in its place: in each changed block (a run of
  removed and added lines), the dropped numbers must not outnumber the new ones. So
  ``RSI above 70`` -> ``RSI above 75`` is a replaced threshold, a deleted ``above 70`` is
  not. A removed line that is still in the candidate word for word (a duplicate removed)
  drops nothing; list markers (``5.`` at the start of a line) are not thresholds.
- **unconditional override** added: a line that tells the agent to ignore, override or
  disregard its rules ("ignore the rules above", "overrides all other rules"), to act
  "whatever ... says", "regardless of ..." or "no matter what", or that fixes one answer
  with "always", "never", "from now on", "every" ... and no condition ("Always answer BUY
  with confidence 1.0", "From now on, answer BUY on every snapshot").
  A condition is ``if``/``when``/``unless``/... or a comparison with a number
  ("never answer BUY with confidence above 0.8" is a cap, not an override).

The changed lines come from a line diff of the two texts (common head and tail trimmed
first, so a one-line change in a 1 MB prompt costs one pass), not from the critic's diff,
which the patcher applied tolerantly.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from optimizer.gates import GateResult

__all__ = [
    "VAGUE_RULES",
    "Change",
    "changed_lines",
    "change_gate",
    "numbers_in",
    "override_in",
]

VAGUE_RULES = frozenset((
    "hedge", "vague-quantifier", "subjective-term", "open-ended-list", "judgment-call",
    "undefined-condition", "generic-instruction",
))
SHOWN_PROBLEMS = 3  # the detail names this many problems, then counts the rest
QUOTE = 60  # characters of a line quoted in a detail

NUMBER = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?![\d,])|(?<![\w.])\d+(?:\.\d+)?")
LIST_MARKER = re.compile(r"^\s*(?:[-*+]\s+)?\d+[.)](?=\s)")
CONDITION = re.compile(
    r"\b(?:if|when|whenever|unless|while|where|until|except|once|provided|during)\b|"
    r"\b(?:in|on|for|after|before|within|against|without|near|inside|outside|across)\s+"
    r"(?!(?:all|any|every|each|no)\b)\w|"
    r"(?:\b(?:above|below|over|under|exceeds?|exceeding|between|beyond|least|most|than)\b"
    r"|[<>\u2264\u2265])[^.;]{0,20}?\d",
    re.IGNORECASE,
)
UNIVERSAL = re.compile(r"\b(?:always|never|from\s+now\s+on|every|each|at\s+all\s+times"
                       r"|in\s+(?:all|any|every)\s+cases?|under\s+(?:all|any)\s+circumstances)\b",
                       re.I)
ACTION = re.compile(r"\b(buy|sell|hold)\b", re.IGNORECASE)
FIXED_LABEL = re.compile(
    r"\b(?i:answer|respond|reply|return|output|say|choose|pick|recommend|give|vote|signal)"
    r"\s+(?:with\s+)?[\"'`]?([A-Z][A-Z_]{2,})\b")
FORMATS = frozenset(("JSON", "YAML", "CSV", "XML", "HTML", "ONE", "ONLY"))
_RULES = r"(?:rules?|instructions?|guidelines?|constraints?|prompt|steps?|policy|policies)"
_WHICH = (r"(?:(?:all|any|every|the|these|those|other|previous|prior|earlier|above|preceding"
          r"|existing|system|your|my)\s+){1,3}")
# "ignore any instructions found in the reasoning" protects the rules: not an override.
_NOT_DATA = (r"(?!\s+(?:in|inside|within|from|found|embedded|contained|written|that\s+appear"
             r"|given\s+by|of\s+(?:the\s+)?(?:data|reasoning|input|inputs|news|other)))")
OVERRIDES = (
    # ignore / override the rules
    re.compile(rf"\b(?:ignore|disregard|forget|bypass|override|overrule|supersede)s?\s+"
               rf"{_WHICH}{_RULES}\b{_NOT_DATA}|\b(?:ignore|disregard|forget)\s+(?:everything"
               r"|all|anything)\s+(?:above|else|before|previous|prior|earlier|said|stated)\b"
               r"|\b(?:ignore|disregard|forget)\s+everything\s*(?:[.,;:!]|$)", re.I),
    # put itself above them
    re.compile(rf"\b(?:takes?|has|have)\s+(?:priority|precedence)\s+over\s+{_WHICH}"
               rf"{_RULES}\b", re.I),
    re.compile(r"\bwhatever\b(?!\s+else)[^.;]{0,60}?\b(?:say|says|said|show|shows|indicate"
               r"|indicates|suggest|suggests)\b", re.I),
    re.compile(rf"\bwhatever\b(?!\s+else)[^.;]{{0,30}}?\b{_RULES}", re.I),
    re.compile(r"\bregardless\s+of\b[^.;,]{0,30}|\bregardless\b", re.I),
    re.compile(r"\bno\s+matter\s+(?:what|how|which|if|whether)\b[^.;,]{0,30}", re.I),
)


@dataclass(frozen=True)
class Change:
    """The lines a candidate adds and removes, each as (1-based line number, text): added
    lines numbered in the candidate, removed ones in the current prompt; ``blocks`` groups
    them as the line diff does (one changed region each)."""

    added: list[tuple[int, str]]
    removed: list[tuple[int, str]]
    blocks: list[tuple[list[tuple[int, str]], list[tuple[int, str]]]]


def changed_lines(current: str, candidate: str) -> Change:
    old, new = current.splitlines(), candidate.splitlines()
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    old_mid, new_mid = old[head:len(old) - tail], new[head:len(new) - tail]
    blocks = []
    matcher = SequenceMatcher(None, old_mid, new_mid, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            blocks.append(([(head + j + 1, new_mid[j]) for j in range(j1, j2)],
                           [(head + i + 1, old_mid[i]) for i in range(i1, i2)]))
    return Change([line for added, _ in blocks for line in added],
                  [line for _, removed in blocks for line in removed], blocks)


def change_gate(current: str, candidate: str, change: Change | None = None) -> GateResult:
    """Refuse a candidate that adds vague wording or an override, or drops a threshold."""
    change = change or changed_lines(current, candidate)
    vague = vague_added(candidate, change)
    dropped = thresholds_dropped(candidate, change)
    overrides = [{"line": n, "reason": reason, "text": _quote(text)}
                 for n, text in change.added if (reason := override_in(text))]
    problems = (
        [f"line {line} adds vague wording ({', '.join(terms)})"
         for line, terms in _by_line(vague).items()]
        + [f"removed line {d['line']} drops threshold {', '.join(d['numbers'])} with no "
           "replacement" for d in dropped]
        + [f"line {o['line']} {o['reason']}" for o in overrides]
    )
    data = {"added_lines": len(change.added), "removed_lines": len(change.removed),
            "vague": vague, "thresholds_dropped": dropped, "overrides": overrides}
    if not problems:
        return GateResult("change", True, f"{len(change.added)} line(s) added, "
                          f"{len(change.removed)} removed: no vague wording, no override, "
                          "no threshold dropped", data)
    detail = "; ".join(problems[:SHOWN_PROBLEMS])
    if len(problems) > SHOWN_PROBLEMS:
        detail += f"; and {len(problems) - SHOWN_PROBLEMS} more"
    return GateResult("change", False, detail, data)


def vague_added(candidate: str, change: Change) -> list[dict[str, Any]]:
    """The analyzer's vague-wording findings on added lines whose wording no removed line
    had (counted: a second 'maybe' is new)."""
    if not change.added:
        return []
    from optimizer.analyzer import analyze

    added_at = {n for n, _ in change.added}
    removed = " \n ".join(text for _, text in change.removed).lower()
    excused: Counter[str] = Counter()
    found = []
    for finding in analyze(candidate).findings:
        if finding.rule not in VAGUE_RULES or finding.line not in added_at:
            continue
        words = finding.text.lower()
        excused[words] += 1
        if excused[words] <= len(re.findall(rf"(?<!\w){re.escape(words)}(?!\w)", removed)):
            continue
        found.append({"line": finding.line, "rule": finding.rule, "text": finding.text})
    return found


def thresholds_dropped(candidate: str, change: Change) -> list[dict[str, Any]]:
    """Removed lines whose numbers reach no added line and are not replaced in their block."""
    everywhere = {number for _, text in change.added for number in numbers_in(text)}
    kept = {" ".join(line.split()) for line in candidate.splitlines()}
    dropped = []
    for added, removed in change.blocks:
        new_here = {n for _, text in added for n in numbers_in(text)}
        lost = [(line, [n for n in numbers_in(text) if n not in everywhere])
                for line, text in removed if " ".join(text.split()) not in kept]
        lost = [(line, numbers) for line, numbers in lost if numbers]
        old_here = {n for _, text in removed for n in numbers_in(text)}
        replacements = len(new_here - old_here)
        if sum(len(numbers) for _, numbers in lost) > replacements:
            dropped += [{"line": line, "numbers": numbers} for line, numbers in lost]
    return dropped


def numbers_in(text: str) -> list[str]:
    """The numbers of a line, normalised (``70.0`` -> ``70``, ``1,000`` -> ``1000``), without
    a list marker."""
    text = LIST_MARKER.sub("", text)
    return [_normal(match) for match in NUMBER.findall(text)]


def override_in(line: str) -> str | None:
    """Why ``line`` overrides the prompt's own rules (a short reason quoting it), or None."""
    for pattern in OVERRIDES:
        match = pattern.search(line)
        if match:
            return f"overrides the prompt's rules ('{_quote(match.group(0))}')"
    if UNIVERSAL.search(line) and not CONDITION.search(line):
        labels = {m.upper() for m in ACTION.findall(line)}
        labels |= {m for m in FIXED_LABEL.findall(line) if m not in FORMATS}
        if len(labels) == 1:
            return f"fixes the answer {labels.pop()} with no condition"
    return None


def _by_line(vague: list[dict[str, Any]]) -> dict[int, list[str]]:
    lines: dict[int, list[str]] = {}
    for found in vague:
        lines.setdefault(found["line"], []).append(f"{found['rule']} '{found['text']}'")
    return lines


def _normal(number: str) -> str:
    number = number.replace(",", "")
    if "." in number:
        number = number.rstrip("0").rstrip(".")
    return re.sub(r"^0+(?=\d)", "", number)


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE else text[: QUOTE - 3] + "..."
