"""Markdown code fences in a model's answer: the one reader behind JSON answers
(agents.llm_json), critiques (optimizer.critic) and diffs (optimizer.patch).

A fence opens at column 0 with three or more backticks or tildes and an optional info
string whose first word is the block's tag (a backtick fence's info string holds no
backtick, so an inline ```code``` line opens nothing). It closes at a line of the same
character, at least as long, at column 0: a diff's context line (`` ```'' after a space)
never closes one, so a prompt that itself contains fences does not cut a diff short.
An unclosed fence runs to the end of the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_OPENING = re.compile(r"^(`{3,}|~{3,})(.*)$")
_TAG = re.compile(r"[\w+-]*")


@dataclass(frozen=True)
class Fence:
    """One fenced block: its tag (lowercase, "" when none), body, and character span."""

    tag: str
    body: str
    start: int  # the opening line's first character
    end: int  # just after the closing line (or the end of the text)


def fenced_blocks(text: str) -> list[Fence]:
    """Every fenced block of ``text``, in order; bodies keep their line endings."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    blocks, index = [], 0
    while index < len(lines):
        opening = _opening(lines[index])
        if opening is None:
            index += 1
            continue
        fence, tag = opening
        close = _closing(lines, index + 1, fence)
        body = "".join(lines[index + 1 : close])
        blocks.append(Fence(tag, body, starts[index], starts[min(close + 1, len(lines))]))
        index = close + 1
    return blocks


def _opening(line: str) -> tuple[str, str] | None:
    """(fence, tag) when ``line`` opens a fence."""
    match = _OPENING.match(line.rstrip("\r\n"))
    if match is None:
        return None
    fence, info = match.group(1), match.group(2)
    if fence[0] == "`" and "`" in info:
        return None
    tag = _TAG.match(info.lstrip(" \t"))
    return fence, tag.group(0).lower() if tag else ""


def _closing(lines: list[str], start: int, fence: str) -> int:
    """Index of the closing fence line: same character, at least as long, at column 0."""
    for index in range(start, len(lines)):
        line = lines[index].rstrip()
        if line and set(line) == {fence[0]} and len(line) >= len(fence):
            return index
    return len(lines)
