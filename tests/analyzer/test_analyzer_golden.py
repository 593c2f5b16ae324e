"""Golden results: ``analyze(text).to_dict()`` pinned exactly, so that work on the analyzer's
speed cannot change a score, a finding, a span or a message unnoticed.

``analyzer_golden.json`` holds the full result of the three example prompts and of a few
corpus texts (readable diffs when one drifts), and a SHA-256 per group over the results of
many more texts: every corpus pair, every rule case, edge cases (empty text, CRLF, unclosed
fences, placeholders across lines...) and 300 deterministic mixes of corpus lines joined in
varied ways. A change that is meant to alter the analyzer's output regenerates the file:

    python tests/analyzer/test_analyzer_golden.py --update

and the diff of the JSON file is then reviewed with the change.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from optimizer.analyzer import analyze

HERE = Path(__file__).parent
GOLDEN = HERE / "analyzer_golden.json"
EXAMPLES = sorted((HERE.parents[1] / "prompt_repo" / "examples").glob("*.md"))
DIMENSIONS = ("specificity", "clarity", "ambiguity")
PINNED_PAIRS = {"specificity": (0, 7), "clarity": (0, 3), "ambiguity": (0, 5)}
EDGE_CASES = (
    "", " ", "\n\n\n", "a", "?", "It.", "etc", "{x}", "```", "```\nunclosed fence\nBuy now.",
    "Line one.\r\nLine two, maybe.\rLine three etc.", "\tTabbed: some text.\t\n  - item",
    "{{ name }} and {a.b} but not {{x} or {1}", "`code` then `more code` and ``",
    "# Heading\n\n## Output\n{\n  \"action\": \"BUY\"\n}\n", "[1, 2, 3]\n[\"a\"]\nDone.",
    "e.g. this. i.e. that. vs. other. approx. 5. incl. all. cf. ref.", "Hello! Thanks!!",
    "If it is high, buy. When it is low, sell. Unless unclear, hold.",
    "BUY/SELL or HOLD; \"LOW\" | \"HIGH\"; (yes or no); red, green or blue.",
    "Keep it < 5% and >= 2x, between 0-1, from 3 to 9, \u2264 7 \u2265 8, 10\u201320 bps.",
    "You are X. You are X. You are X. Always buy dips. Never buy dips.",
    "\u00e9l\u00e8ve na\u00efve caf\u00e9: tr\u00e8s bien, maybe.",
    "Use <THRESHOLD> and <N> for the drop of 5 and rise by 3.",
    "a " * 120, "Word. " * 90, "- " + "x, " * 50,
)


def load_pairs(dimension: str) -> list[dict[str, str]]:
    text = (HERE / f"analyzer_pairs_{dimension}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)["pair"]


def rule_case_texts() -> list[str]:
    cases = tomllib.loads((HERE / "analyzer_rule_cases.toml").read_text(encoding="utf-8"))
    return [cases[rule][kind] for rule in sorted(cases) for kind in ("positive", "negative")]


def pair_texts() -> list[str]:
    return [pair[side] for d in DIMENSIONS for pair in load_pairs(d)
            for side in ("worse", "better")]


def mixed_texts(count: int = 300, seed: int = 11) -> list[str]:
    """Corpus and example lines shuffled, joined by newlines, blank lines or spaces, sometimes
    lowercased or stripped of their full stop: inputs the hand-written cases do not cover."""
    lines = [ln for text in pair_texts() + [p.read_text(encoding="utf-8") for p in EXAMPLES]
             for ln in text.splitlines() if ln.strip()]
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        parts = []
        for line in rng.sample(lines, rng.randint(3, 40)):
            roll = rng.random()
            line = line.lower() if roll < 0.1 else line.rstrip(".") if roll < 0.2 else line
            parts.append(line + rng.choice(("\n", "\n", "\n\n", " ", "\r\n")))
        texts.append("".join(parts))
    return texts


def groups() -> dict[str, list[str]]:
    return {"pairs": pair_texts(), "rule_cases": rule_case_texts(),
            "edge_cases": list(EDGE_CASES), "mixed": mixed_texts()}


def pinned_texts() -> dict[str, str]:
    texts = {path.name: path.read_text(encoding="utf-8") for path in EXAMPLES}
    for dimension, indexes in PINNED_PAIRS.items():
        pairs = load_pairs(dimension)
        for index in indexes:
            for side in ("worse", "better"):
                texts[f"{dimension}[{index}].{side}"] = pairs[index][side]
    return texts


def digest(texts: list[str]) -> str:
    sha = hashlib.sha256()
    for text in texts:
        sha.update(json.dumps(analyze(text).to_dict(), sort_keys=True).encode())
    return sha.hexdigest()


def build() -> dict[str, Any]:
    return {"results": {name: analyze(text).to_dict() for name, text in pinned_texts().items()},
            "digests": {name: digest(texts) for name, texts in groups().items()}}


@functools.cache
def golden() -> dict[str, Any]:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_three_examples_and_corpus_texts_are_pinned() -> None:
    assert len(EXAMPLES) == 3
    assert set(golden()["results"]) == set(pinned_texts())


@pytest.mark.parametrize("name", sorted(pinned_texts()))
def test_result_is_unchanged(name: str) -> None:
    assert analyze(pinned_texts()[name]).to_dict() == golden()["results"][name]


@pytest.mark.parametrize("group", sorted(groups()))
def test_group_digest_is_unchanged(group: str) -> None:
    assert digest(groups()[group]) == golden()["digests"][group], (
        f"the analyzer's results on the '{group}' texts changed; if that is intended, run "
        "python tests/analyzer/test_analyzer_golden.py --update and review the diff"
    )


NEAR_TWICE = "Answer BUY, SELL or HOLD.\nAnswer with BUY, SELL or HOLD and a short reason.\n" \
    "Answer BUY, SELL or HOLD with a reason.\n"


@pytest.mark.parametrize("seed", [str(seed) for seed in range(8)])
def test_results_do_not_depend_on_the_hash_seed(seed: str) -> None:
    """Line 3 restates both line 1 (same first word) and line 2 (same last word): it is
    reported against the earliest, whatever order the interpreter iterates sets in."""
    code = ("import sys; from optimizer.analyzer import analyze; print([f.message for f in "
            "analyze(sys.stdin.read()).findings if f.rule == 'duplicate-instruction'])")
    done = subprocess.run([sys.executable, "-c", code], input=NEAR_TWICE, text=True,
                          capture_output=True, check=True, env={"PYTHONHASHSEED": seed})
    assert done.stdout == "['repeats the instruction on line 1']\n"


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit(__doc__)
    GOLDEN.write_text(json.dumps(build(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN}")
