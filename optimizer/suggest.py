"""The offline suggestion engine: deterministic suggestions and a rewrite as a unified diff.

This is ``promptloop optimize --engine heuristic``: it needs no model and no key. It works
from the analyzer's findings, in three kinds of edit, all on prose only (the findings never
point into code, JSON examples or ``{placeholders}``, so those are never touched):

- deletions: hedges ("try to", "ideally"), open list endings (", etc."), filler ("please note
  that", "very"), indirect openings ("you should"), judgment calls ("as you see fit") and
  sentences that repeat an earlier one;
- slots to fill: a vague amount or an undefined state gets a threshold with a ``<N>`` slot
  next to it ("high volume (above <N>)", "several" -> "at least <N>"); slots are upper-case
  in angle brackets, never ``{braces}``, so the prompt's template keeps exactly its
  placeholders, and ``lint`` reports every slot until a person fills it in;
- additions: a default rule when conditional rules have none, a range for an unbounded
  confidence, an output-format section when the prompt has none.

Everything else (contradictions, long sentences, missing structure...) becomes a suggestion
only. The rewrite is kept only if the analyzer's overall score improves and no dimension gets
worse; otherwise ``changed`` is False and only the suggestions are returned.

One span gets at most one edit: in a pass, an edit that overlaps one already made, or that
inserts where another edit starts, is dropped; and insertions (the hints) are made in the
first pass only, the later passes only delete or replace what earlier edits revealed (a hint
does not always silence its finding: "(define: <THRESHOLD>)" after "unclear" leaves the
condition undefined, so each pass would otherwise add one more).

``slots=False`` is the mode of ``optimize --engine heuristic``: what it produces is applied,
possibly unattended (``--auto-apply``), and an agent would read a ``<N>`` literally. Every
edit that would insert a slot is left out (its idea stays in ``suggestions``), so the rewrite
needs no human input; the loop's slot gate (optimizer/gates.py) checks the same thing.

``behaviour=False`` (also the mode of ``optimize --engine heuristic``) makes wording edits
only: an edit that could change what the agent decides (a permission made an order, "use
your judgement" -> "answer HOLD", an added default rule: the classification is in
:mod:`optimizer.rewrite_tables`) is not made but listed in ``Rewrite.proposed``, located in
the original text, for a person to judge.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass, field

from optimizer.analyzer import Analysis, Finding, analyze
from optimizer.gates import new_slots
from optimizer.rewrite_tables import DELETE, JUDGMENT_PHRASES, REPLACE, THRESHOLD_HINTS, WORDING
from optimizer.rules.base import SEVERITY_RANK
from optimizer.rules.lexicon import PLACEHOLDER, SLOT, STOPWORDS

__all__ = ["Rewrite", "finding_suggestions", "heuristic_rewrite", "unified_diff"]

Edit = tuple[int, int, str]  # start, end (offsets in the prompt), replacement
PASSES = 3

PREPOSITIONS = frozenset("after before around about into onto over under near than".split())
WORD_AFTER = re.compile(r"\s+([A-Za-z][\w-]*)")
CLAUSE_START = re.compile(r"(?:^|[.!?:]\s+|\n\s*(?:[-*+]\s+|\d{1,2}[.)]\s+)?)$")
LIST_MARKER = re.compile(r"(?:[-*+]|(?<!\d)\d{1,2}[.)])$")
NEWLINE = re.compile(r"\n")


@dataclass(frozen=True)
class Rewrite:
    """A proposed prompt; ``diff`` is empty and ``text`` the original when not ``changed``."""

    text: str
    diff: str
    suggestions: list[str]
    changed: bool
    before: Analysis = field(repr=False)
    after: Analysis = field(repr=False)
    proposed: list[str] = field(default_factory=list)  # behaviour edits not made


def heuristic_rewrite(text: str, *, slots: bool = True, behaviour: bool = True) -> Rewrite:
    """Rewrite ``text`` from its findings; deterministic, offline. With ``slots=False`` no
    ``<N>``-style slot is inserted: the result needs no human input. With
    ``behaviour=False`` only wording edits are made; the others come back in ``proposed``."""
    before = analyze(text)
    suggestions = finding_suggestions(before.findings)
    skipped: list[str] = []  # behaviour edits not made, located in the original text
    proposed, current = text, before
    for number in range(PASSES):  # an edit can reveal another ("You should generally use")
        edits = _edits(proposed, current, slots, inserts=number == 0, behaviour=behaviour,
                       skipped=skipped if number == 0 else None)
        edited = _apply(proposed, edits)
        if edited == proposed:
            break
        proposed, current = edited, analyze(edited)
    if behaviour:
        proposed = _additions(proposed, current, slots)
    else:
        skipped += _addition_proposals(text, before)
    unchanged = Rewrite(text, "", suggestions, False, before, before, skipped)
    if proposed == text or Counter(PLACEHOLDER.findall(proposed)) != Counter(
        PLACEHOLDER.findall(text)
    ) or (not slots and new_slots(text, proposed)):
        return unchanged
    after = analyze(proposed)
    if not _better(before, after):
        return unchanged
    return Rewrite(proposed, unified_diff(text, proposed), suggestions, True, before, after,
                   skipped)


def _better(before: Analysis, after: Analysis) -> bool:
    return (after.overall > before.overall and after.specificity >= before.specificity
            and after.clarity >= before.clarity and after.ambiguity <= before.ambiguity)


def unified_diff(old: str, new: str, path: str = "prompt") -> str:
    """A unified diff from ``a/<path>`` to ``b/<path>``, with git's no-newline markers."""
    lines = []
    for line in difflib.unified_diff(_lines(old), _lines(new), f"a/{path}", f"b/{path}"):
        if line.endswith("\n"):
            lines.append(line)
        else:
            lines.append(line + "\n\\ No newline at end of file\n")
    return "".join(lines)


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def finding_suggestions(findings: list[Finding]) -> list[str]:
    """One line per distinct suggestion, most severe first (``line N: ...`` when located)."""
    ranked = sorted(findings, key=lambda f: (SEVERITY_RANK[f.severity], f.line, f.col))
    seen: set[str] = set()
    out = []
    for finding in ranked:
        line = f"line {finding.line}: {finding.suggestion}" if finding.text else (
            finding.suggestion
        )
        if line not in seen:
            seen.add(line)
            out.append(line)
    return out


def _line_starts(text: str) -> list[int]:
    """The offset of each line's first character (one pass, so locating every finding is
    linear in the prompt, not lines x findings)."""
    return [0, *(match.end() for match in NEWLINE.finditer(text))]


def _edits(text: str, analysis: Analysis, slots: bool, inserts: bool, behaviour: bool,
           skipped: list[str] | None) -> list[Edit]:
    """One edit per finding that has one; insertions (hints) only when ``inserts``; behaviour
    edits only when ``behaviour``, else described in ``skipped`` (when given)."""
    edits: list[Edit] = []
    starts = _line_starts(text)
    for finding in analysis.findings:
        if not finding.text:
            continue
        start = starts[finding.line - 1] + finding.col - 1
        end = starts[finding.end_line - 1] + finding.end_col - 1
        edit = _edit(text, finding, start, end, analysis)
        if not edit or not (inserts or edit[0] != edit[1]) or (
                not slots and SLOT.search(edit[2])):
            continue
        if not behaviour and not _wording(text, finding, start):
            if skipped is not None:
                skipped.append(f"line {finding.line}: {_describe(text, edit)}")
            continue
        edits.append(edit)
    return edits


def _wording(text: str, finding: Finding, start: int) -> bool:
    """Whether the finding's edit leaves every instruction as it was (module
    optimizer.rewrite_tables)."""
    if finding.rule == "duplicate-instruction":  # the earlier copy is word for word the same
        return 0 <= text.find(finding.text) < start
    return " ".join(finding.text.lower().split()) in WORDING.get(finding.rule, ())


def _describe(text: str, edit: Edit) -> str:
    start, end, replacement = edit
    old = " ".join(text[start:end].split())
    if not replacement.strip():
        return f"delete '{old}'"
    if len(replacement) == 1 and old[-1:] == replacement.lower():  # deleted, then capitalized
        return f"delete '{old[:-1].strip()}'"
    if start == end:
        before = text[max(0, start - 40):start].split() or [""]
        return f"insert '{replacement.strip()}' after '{before[-1]}'"
    return f"'{old}' -> '{replacement}'"


def _edit(text: str, finding: Finding, start: int, end: int, analysis: Analysis
          ) -> Edit | None:
    term = " ".join(finding.text.lower().split())
    rule = finding.rule
    if term in DELETE.get(rule, ()):
        return _deletion(text, start, end)
    if (rule, term) in REPLACE:
        return start, end, REPLACE[(rule, term)]
    if rule == "judgment-call" and term.startswith(JUDGMENT_PHRASES):
        return start, end, _default_action(analysis, text)
    if rule == "duplicate-instruction":
        return _deletion(text, start, end)
    if rule in ("subjective-term", "vague-quantifier") and term in THRESHOLD_HINTS:
        at = _after_noun(text, end) if rule == "subjective-term" else end
        return at, at, f" ({THRESHOLD_HINTS[term]})"
    if rule == "undefined-condition":
        state = finding.message.rsplit("('", 1)[-1].rstrip("')")
        hint = THRESHOLD_HINTS.get(state, "define: <THRESHOLD>")
        at = text.lower().find(state, start, end)
        if at >= 0:
            at = _after_noun(text, at + len(state))
            return at, at, f" ({hint})"
    return None


def _after_noun(text: str, end: int) -> int:
    """Just past the word after ``end`` when it is a noun-like word, else ``end``."""
    noun = WORD_AFTER.match(text, end)
    if noun and noun.group(1).lower() not in STOPWORDS | PREPOSITIONS:
        return noun.end()
    return end


def _deletion(text: str, start: int, end: int) -> Edit:
    """Delete a span with the space (and a comma left dangling) around it.

    Only the characters next to the span are looked at (never a copy of the text before or
    after it), so a prompt with many deletions costs time linear in its size."""
    at_clause_start = _clause_start(text, start)
    trailing = _run_forward(text, end, " ")
    if at_clause_start and text.startswith(",", end):
        trailing = 1 + _run_forward(text, end + 1, " ")
    elif trailing == 0 or text[end + trailing:end + trailing + 1] in ".,;:!?)\n":
        lead = _run_back(text, start, " ,")
        spaces = _run_back(text, start, " ")
        if text.startswith(",", end) and text[start - spaces - 1:start - spaces] == ",":
            lead = spaces
        return start - lead, end, ""
    replacement = ""
    following = text[end + trailing: end + trailing + 1]
    if at_clause_start and following.islower():
        replacement = following.upper()
        trailing += 1
    return start, end + trailing, replacement


def _run_forward(text: str, at: int, chars: str) -> int:
    """How many characters from ``at`` on are in ``chars``."""
    end = at
    while end < len(text) and text[end] in chars:
        end += 1
    return end - at


def _run_back(text: str, at: int, chars: str) -> int:
    """How many characters just before ``at`` are in ``chars``."""
    begin = at
    while begin > 0 and text[begin - 1] in chars:
        begin -= 1
    return at - begin


def _clause_start(text: str, at: int) -> bool:
    """Whether ``at`` starts a clause: the text's start, after a sentence end (or a colon)
    and a space, or at the start of a line or of a list item. Equivalent to CLAUSE_START
    matching ``text[:at]``, but it looks back only over the whitespace and list marker."""
    gap = _space_back(text, at)
    if gap == 0:
        return at == 0 or "\n" in text[:at]
    if gap < at and ("\n" in text[gap:at] or text[gap - 1] in ".!?:"):
        return True
    if gap == at:
        return False
    marker = LIST_MARKER.search(text, max(0, gap - 3), gap)
    if marker is None:
        return False
    before = _space_back(text, marker.start())
    return "\n" in text[before:marker.start()]


def _space_back(text: str, at: int) -> int:
    """The offset where the whitespace run ending at ``at`` begins."""
    begin = at
    while begin > 0 and text[begin - 1].isspace():
        begin -= 1
    return begin


def _apply(text: str, edits: list[Edit]) -> str:
    """Make the edits, at most one per span: an edit that overlaps one already made, or
    starts where one already made starts (two insertions at one point), is dropped."""
    result, cursor, last_start = [], 0, -1
    for start, end, replacement in sorted(set(edits)):
        if start < cursor or start == last_start:
            continue
        last_start = start
        result.append(text[cursor:start])
        result.append(replacement)
        cursor = end
    result.append(text[cursor:])
    return "".join(result)


def _default_action(analysis: Analysis, text: str) -> str:
    return "answer HOLD" if _trading(text) else "apply the rules above"


def _trading(text: str) -> bool:
    return "HOLD" in text and ("BUY" in text or "SELL" in text)


def _additions(text: str, analysis: Analysis, slots: bool) -> str:
    """Add what is missing (each addition is a behaviour edit: optimizer.rewrite_tables)."""
    rules = {f.rule for f in analysis.findings}
    if "missing-default" in rules:
        text = _add_default(text, analysis)
    if "unbounded-score" in rules:
        finding = next(f for f in analysis.findings if f.rule == "unbounded-score")
        if finding.text in text:
            at = text.index(finding.text) + len(finding.text)
            text = f"{text[:at]} (a number from 0 to 1){text[at:]}"
    if "missing-output-format" in rules:
        with_section = text.rstrip("\n") + "\n\n" + _output_section(text)
        if slots or not new_slots(text, with_section):
            text = with_section
    return text


def _addition_proposals(text: str, analysis: Analysis) -> list[str]:
    """What :func:`_additions` would add, described for a person."""
    rules = {f.rule for f in analysis.findings}
    out = []
    if "missing-default" in rules:
        out.append(f"add a default rule: '{_default_sentence(text)}'")
    for finding in analysis.findings:
        if finding.rule == "unbounded-score":
            out.append(f"line {finding.line}: give '{finding.text}' a range (a number "
                       "from 0 to 1)")
            break
    if "missing-output-format" in rules:
        out.append("add an '## Output format' section with a JSON schema")
    return out


def _add_default(text: str, analysis: Analysis) -> str:
    last_line = max(f.line for f in analysis.findings if f.rule == "missing-default")
    lines = text.split("\n")
    conditional = re.compile(r"\b(?:if|when|whenever|unless)\b", re.IGNORECASE)
    for index in range(len(lines) - 1, last_line - 2, -1):
        if conditional.search(lines[index]):
            last_line = index + 1
            break
    sentence = _default_sentence(text)
    line = lines[last_line - 1].rstrip()
    separator = " " if line.endswith((".", "!", "?")) else ". "
    lines[last_line - 1] = line + separator + sentence
    return "\n".join(lines)


def _default_sentence(text: str) -> str:
    return ("If no rule above applies, answer HOLD." if _trading(text)
            else "If no rule above applies, say so instead of guessing.")


def _output_section(text: str) -> str:
    if _trading(text):
        schema = ('{"action": "BUY" | "SELL" | "HOLD", "confidence": <number from 0 to 1>, '
                  '"reasoning": "<two sentences naming the values you used>"}')
    else:
        schema = ('{"answer": "<ALLOWED_VALUE>", "confidence": <number from 0 '
                  'to 1>, "reasoning": "<two sentences>"}')
    return (f"## Output format\n\nReply with ONE JSON object and nothing else:\n\n"
            f"```json\n{schema}\n```\n")
