"""Tolerant application of the unified diffs a critic LLM writes.

``apply_unified_diff(original, diff)`` returns the new text or raises :class:`PatchError`.
LLMs write imperfect diffs, so this is deliberately lenient about the *form*:

- the diff may sit inside a markdown fence (```diff, ```, ~~~) with prose around it;
- ``---``/``+++`` headers (and ``diff --git``/``index`` lines) may be missing; ``@@`` headers may
  carry wrong line numbers, no numbers (a bare ``@@``), or be missing altogether;
- context and removed lines may differ from the original in whitespace (trailing spaces, CRLF,
  indentation, a blank context line without its leading space);
- hunks may come in any order; every hunk is located in the original text, not after the others;
- lines may carry the ``12| `` line-number prefix of the numbered prompt the critic was shown
  (removed only when every context/removed line of the hunk has one and the hunk then matches).

and strict about the *place*: a hunk is applied only where its context and removed lines are
found, as a block, in the original. When they match in several places, the ``@@`` line number
picks the closest one (a tie is refused); without a line number the hunk is refused. A hunk with
no context at all is only accepted at the very start or end of the text (``@@ -0,0`` / after the
last line). Matching prefers exact lines, then lines equal but for trailing whitespace, then
lines equal but for any whitespace; unchanged lines keep the original's text.

Every error names the hunk (its number, its header, its first lines) and says why and how to fix
it, because the message is sent back to the critic. The result keeps the original's line ending
(LF or CRLF) and whether it ends with a newline. Pure functions only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from agents.fences import fenced_blocks
from optimizer.errors import PatchError as PatchError  # public as optimizer.patch.PatchError

_HEADER_NUMBERS = re.compile(r"-(\d+)(?:,(\d+))?")
_LINE_NUMBER = re.compile(r"^\s*\d+ ?[|:] ?")  # "12| text", as the critic is shown the prompt
_PREAMBLE = ("diff ", "index ", "new file mode", "deleted file mode", "similarity ", "rename ")
_HOW_TO_FIX = (
    "Copy the context (' ') and removed ('-') lines exactly from the current prompt, "
    "in their order, and keep 2-3 unchanged lines around each change."
)


@dataclass
class Hunk:
    """One ``@@`` block: its 1-based number, header and ``(op, text)`` lines, op in `` -+``."""

    number: int
    header: str | None
    old_start: int | None = None
    old_count: int | None = None
    lines: list[tuple[str, str]] = field(default_factory=list)
    loose: list[bool] = field(default_factory=list)  # a line without a diff prefix

    @property
    def old(self) -> list[str]:
        return [text for op, text in self.lines if op != "+"]

    @property
    def changes(self) -> bool:
        return any(op != " " for op, _ in self.lines)

    def add(self, op: str, text: str, loose: bool = False) -> None:
        self.lines.append((op, text))
        self.loose.append(loose)

    def close(self) -> None:
        """Drop trailing lines without a prefix: blank lines or prose after the diff."""
        while self.loose and self.loose[-1]:
            self.lines.pop()
            self.loose.pop()


def apply_unified_diff(original: str, diff: str) -> str:
    """``original`` with every hunk of ``diff`` applied, or :class:`PatchError`."""
    hunks = [h for h in parse_hunks(extract_diff(diff)) if h.lines]
    for number, hunk in enumerate(hunks, 1):
        hunk.number = number
    if not hunks:
        raise PatchError(
            "No unified diff found in the answer. Answer with a unified diff: '@@' hunk headers, "
            "then lines starting with ' ' (unchanged), '-' (removed) or '+' (added)."
        )
    if not any(h.changes for h in hunks):
        raise PatchError("The diff has no '+' or '-' lines, so it changes nothing.")
    eol = "\r\n" if original.count("\r\n") * 2 > original.count("\n") else "\n"
    final_newline = original.endswith("\n") or not original
    lines = original.replace("\r\n", "\n").split("\n")
    if final_newline:
        lines.pop()
    placed = sorted((place(h, lines, len(hunks)) for h in hunks),
                    key=lambda item: (item[0], item[1].number))
    _check_overlaps(placed, len(hunks))
    result = _rebuild(lines, placed)
    text = eol.join(result)
    return text + eol if final_newline and result else text


def extract_diff(text: str) -> str:
    """The diff inside an answer: every fenced block with hunk headers (joined: some models
    write one fence per hunk), else the first fenced block with +/- lines, else the text.
    A text that starts as a diff before any fence is a bare diff whose own lines may look
    like fences (a context line that lost its leading space)."""
    text = text.replace("\r\n", "\n")
    blocks = fenced_blocks(text)
    if not blocks or _has_hunk_header(text[: blocks[0].start]):
        return text
    bodies = [block.body for block in blocks]
    with_headers = [body for body in bodies if _has_hunk_header(body)]
    if with_headers:
        return "".join(block if block.endswith("\n") else block + "\n" for block in with_headers)
    return next((body for body in bodies if _has_diff_lines(body)), text)


def _has_hunk_header(block: str) -> bool:
    return any(line.startswith(("@@", "+++ ")) for line in block.split("\n"))


def _has_diff_lines(block: str) -> bool:
    return any(line.startswith(("+", "-")) for line in block.split("\n"))


def parse_hunks(diff: str) -> list[Hunk]:
    """The hunks of a (possibly sloppy) unified diff, in the order written."""
    rows = [row.rstrip("\r") for row in diff.replace("\r\n", "\n").split("\n")]
    implicit = not any(row.startswith("@@") for row in rows)
    hunks: list[Hunk] = []
    current: Hunk | None = None
    i = 0
    while i < len(rows):
        row = rows[i]
        if row.startswith("--- ") and i + 1 < len(rows) and rows[i + 1].startswith("+++ "):
            _close(current)
            current = None
            i += 2
            continue
        if row.startswith("@@"):
            _close(current)
            current = _new_hunk(len(hunks) + 1, row)
            hunks.append(current)
        elif current is None:
            if implicit and row[:1] in ("-", "+", " ") and not row.startswith(_PREAMBLE):
                current = Hunk(len(hunks) + 1, None)
                hunks.append(current)
                _add_row(current, row)
        else:
            _add_row(current, row)
        i += 1
    _close(current)
    return hunks


def _close(hunk: Hunk | None) -> None:
    if hunk is not None:
        hunk.close()


def _new_hunk(number: int, header: str) -> Hunk:
    hunk = Hunk(number, header.strip())
    inner = header[2:].split("@@")[0]
    found = _HEADER_NUMBERS.search(inner)
    if found:
        hunk.old_start = int(found.group(1))
        hunk.old_count = int(found.group(2)) if found.group(2) is not None else None
    return hunk


def _add_row(hunk: Hunk, row: str) -> None:
    op = row[:1]
    if op in (" ", "-", "+"):
        hunk.add(op, row[1:])
    elif row.startswith("\\"):
        return  # "\ No newline at end of file": the original's final newline is kept
    else:
        hunk.add(" ", row, loose=True)  # a blank line or a context line without its space


# -- locating hunks ---------------------------------------------------------------------


def _exact(s: str) -> str:
    return s


def _trailing(s: str) -> str:
    return s.rstrip()


def _spaces(s: str) -> str:
    return " ".join(s.split())


_LEVELS: tuple[Callable[[str], str], ...] = (_exact, _trailing, _spaces)


def place(hunk: Hunk, lines: list[str], total: int) -> tuple[int, Hunk]:
    """Where ``hunk`` goes, and the hunk to apply there (its line-number prefixes removed when
    the critic copied them from the numbered prompt it was shown)."""
    try:
        return locate(hunk, lines, total), hunk
    except PatchError:
        unnumbered = _without_line_numbers(hunk)
        if unnumbered is None:
            raise
        try:
            return locate(unnumbered, lines, total), unnumbered
        except PatchError:
            pass
        raise


def _without_line_numbers(hunk: Hunk) -> Hunk | None:
    """``hunk`` without ``12| `` prefixes, when every context/removed line carries one."""
    old = [(op, text) for op, text in hunk.lines if op != "+"]
    if not old or not all(_LINE_NUMBER.match(text) for _, text in old):
        return None
    stripped = Hunk(hunk.number, hunk.header, hunk.old_start, hunk.old_count)
    for (op, text), loose in zip(hunk.lines, hunk.loose, strict=True):
        stripped.add(op, _LINE_NUMBER.sub("", text, count=1), loose)
    return stripped


def locate(hunk: Hunk, lines: list[str], total: int) -> int:
    """The index in ``lines`` where ``hunk``'s old lines start; PatchError when unsure."""
    old = hunk.old
    if not old:
        return _locate_bare(hunk, lines, total)
    for norm in _LEVELS:
        matches = _matches(old, lines, norm)
        if matches:
            return _choose(hunk, matches, total)
    raise PatchError(_describe(hunk, total, _why_missing(hunk, lines)))


def _matches(old: list[str], lines: list[str], norm: Callable[[str], str]) -> list[int]:
    want = [norm(s) for s in old]
    have = [norm(s) for s in lines]
    size = len(want)
    return [i for i in range(len(have) - size + 1)
            if have[i] == want[0] and have[i:i + size] == want]


def _choose(hunk: Hunk, matches: list[int], total: int) -> int:
    if len(matches) == 1:
        return matches[0]
    places = ", ".join(str(m + 1) for m in matches[:6])
    if hunk.old_start is None:
        raise PatchError(_describe(
            hunk, total,
            f"its context and removed lines match {len(matches)} places (starting at lines "
            f"{places}) and the @@ header gives no line number to choose",
            "Add more unchanged lines around the change so that it matches one place only, "
            "or give the right line numbers in the @@ header.",
        ))
    target = hunk.old_start - 1
    ranked = sorted(matches, key=lambda m: abs(m - target))
    if abs(ranked[0] - target) == abs(ranked[1] - target):
        raise PatchError(_describe(
            hunk, total,
            f"its lines match {len(matches)} places (starting at lines {places}) and the @@ "
            f"line number {hunk.old_start} is as close to two of them",
            "Add more unchanged lines around the change so that it matches one place only.",
        ))
    return ranked[0]


def _locate_bare(hunk: Hunk, lines: list[str], total: int) -> int:
    """A hunk of '+' lines only: accepted at the start or the end of the text."""
    if not lines:
        return 0
    if hunk.old_start == 0:
        return 0
    if hunk.old_start == len(lines) and hunk.old_count in (0, None):
        return len(lines)
    raise PatchError(_describe(
        hunk, total,
        "it has only added lines, so nothing shows where they go",
        "Include 2-3 unchanged lines (prefixed by a space) before and after the added lines.",
    ))


def _why_missing(hunk: Hunk, lines: list[str]) -> str:
    present = {_spaces(s) for s in lines}
    missing = [(op, s) for op, s in hunk.lines if op != "+" and _spaces(s) not in present]
    if not missing:
        return _partial_match(hunk.old, lines)
    shown = "; ".join(repr(s) for _, s in missing[:3])
    more = f" (and {len(missing) - 3} more)" if len(missing) > 3 else ""
    why = f"{len(missing)} of its context/removed lines are not in the prompt: {shown}{more}"
    for op, text in missing:
        if _spaces(op + text) in present:  # "- item" read as the removal of " item"
            why += (f"; the prompt has the line {op + text!r}: to remove it write "
                    f"{'-' + op + text!r}, to keep it write {' ' + op + text!r}")
            break
    return why


def _partial_match(old: list[str], lines: list[str]) -> str:
    want = [_spaces(s) for s in old]
    have = [_spaces(s) for s in lines]
    best_start, best_len = 0, -1
    for start in range(len(have)):
        size = 0
        while (size < len(want) and start + size < len(have)
               and have[start + size] == want[size]):
            size += 1
        if size > best_len:
            best_start, best_len = start, size
    if best_len <= 0:
        return "its lines exist in the prompt, but not together in this order"
    at = best_start + best_len
    actual = repr(lines[at]) if at < len(lines) else "the end of the prompt"
    return (f"its first {best_len} context/removed line(s) match prompt lines {best_start + 1}-"
            f"{at}, but then the prompt has {actual} where the hunk has {old[best_len]!r}")


def _describe(hunk: Hunk, total: int, why: str, fix: str = _HOW_TO_FIX) -> str:
    preview = " / ".join(repr(f"{op}{text}"[:60]) for op, text in hunk.lines[:2])
    header = hunk.header or "no @@ header"
    return (f"Hunk {hunk.number} of {total} ({header}; starts {preview}) does not apply: "
            f"{why}. {fix}")


# -- rebuilding -------------------------------------------------------------------------


def _check_overlaps(placed: list[tuple[int, Hunk]], total: int) -> None:
    for (start_a, a), (start_b, b) in zip(placed, placed[1:], strict=False):
        if start_a + len(a.old) > start_b:
            first, second = sorted((a, b), key=lambda h: h.number)
            raise PatchError(_describe(
                second, total,
                f"it changes lines that hunk {first.number} also changes (from line "
                f"{start_b + 1})",
                "Merge the two hunks into one.",
            ))


def _rebuild(lines: list[str], placed: list[tuple[int, Hunk]]) -> list[str]:
    out: list[str] = []
    pos = 0
    for start, hunk in placed:
        out.extend(lines[pos:start])
        pos = start
        for op, text in hunk.lines:
            if op == "+":
                out.append(text)
            elif op == " ":
                out.append(lines[pos])  # unchanged lines keep the original's exact text
                pos += 1
            else:
                pos += 1
    out.extend(lines[pos:])
    return out
