"""The one markdown-fence reader (agents.fences) and the three readers of model answers that
use it: structured JSON, the critique and the patch."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agents.fences import Fence, fenced_blocks
from agents.llm_json import json_candidates
from optimizer.critic import parse_critique
from optimizer.patch import extract_diff

ROOT = Path(__file__).resolve().parents[2]
DIFF = "@@ -1 +1 @@\n-old\n+new\n"


def test_blocks_have_tag_body_and_span() -> None:
    text = f"Diagnosis: x.\n```Diff title\n{DIFF}```\nthen\n~~~\nplain\n~~~~\n"

    blocks = fenced_blocks(text)

    assert [(b.tag, b.body) for b in blocks] == [("diff", DIFF), ("", "plain\n")]
    assert text[blocks[0].start : blocks[0].end] == f"```Diff title\n{DIFF}```\n"
    assert text[blocks[1].end :] == ""


@pytest.mark.parametrize("text, expected", [
    ("```\nkeep\n ```\nstill\n```\n", [Fence("", "keep\n ```\nstill\n", 0, 24)]),  # col 0
    ("````md\na\n```\nb\n````\n", [Fence("md", "a\n```\nb\n", 0, 20)]),  # as long, not less
    ("```\nunclosed\n", [Fence("", "unclosed\n", 0, 13)]),
    ("```inline``` code\n", []),  # a backtick info string holds no backtick
    ("~~~ js `x`\nbody\r\n~~~\r\n", [Fence("js", "body\r\n", 0, 22)]),
])
def test_fence_rules(text: str, expected: list[Fence]) -> None:
    assert fenced_blocks(text) == expected


def test_the_three_readers_agree_on_one_answer() -> None:
    answer = f'Diagnosis: vague.\n\n```diff\n{DIFF}```\n\n```json\n{{"a": 1}}\n```\n'

    assert extract_diff(answer) == DIFF
    assert parse_critique(answer).diff == DIFF
    assert {"a": 1} in list(json_candidates(answer))


@pytest.mark.parametrize("module", ["agents/llm_json.py", "optimizer/critic.py",
                                    "optimizer/patch.py"])
def test_no_reader_keeps_a_fence_pattern_of_its_own(module: str) -> None:
    source = (ROOT / module).read_text()
    assert "fenced_blocks" in source
    assert not re.search(r"re\.compile\(r?[\"'][^\"']*(```|`\{3|~\{3)", source)
