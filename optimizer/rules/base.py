"""The finding type and the catalogue of rules: id, dimension, severity, what it means.

The catalogue is the single source for the documentation (docs/analyzer.md lists the same
ids with an example each) and for the rule-level tests, which check that every id here has a
positive and a negative example.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Dimension = Literal["specificity", "clarity", "ambiguity"]
Severity = Literal["info", "warning", "error"]
SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in a prompt. Lines and columns are 1-based; ``end_col`` is exclusive.
    Whole-prompt findings (a missing section) point at line 1, column 1."""

    rule: str
    dimension: Dimension
    severity: Severity
    message: str
    line: int
    col: int
    end_line: int
    end_col: int
    text: str
    suggestion: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Rule:
    dimension: Dimension
    severity: Severity
    summary: str


RULES: dict[str, Rule] = {
    # ambiguity
    "vague-quantifier": Rule("ambiguity", "warning", "an amount without a number"),
    "hedge": Rule("ambiguity", "warning", "a hedge that makes the instruction optional"),
    "open-ended-list": Rule("ambiguity", "warning", "a list left open (etc., and so on)"),
    "subjective-term": Rule("ambiguity", "warning", "an adjective with no threshold"),
    "unresolved-reference": Rule("ambiguity", "warning", "it/this/they with no clear antecedent"),
    "undefined-condition": Rule("ambiguity", "warning", "a condition on an undefined state"),
    "missing-default": Rule("ambiguity", "warning", "rules with no case for 'none applies'"),
    "judgment-call": Rule("ambiguity", "warning", "the decision left to the model's judgment"),
    "generic-instruction": Rule("ambiguity", "info", "a virtue, not a checkable instruction"),
    "vague-verb": Rule("ambiguity", "info", "handle/consider/deal with: no concrete action"),
    # clarity
    "long-sentence": Rule("clarity", "warning", "a sentence over 30 words"),
    "multiple-instructions": Rule("clarity", "warning", "three or more steps in one sentence"),
    "indirect-instruction": Rule("clarity", "info", "an instruction not in the imperative"),
    "contradiction": Rule("clarity", "error", "two instructions that conflict"),
    "duplicate-instruction": Rule("clarity", "warning", "the same instruction twice"),
    "filler": Rule("clarity", "info", "words that carry no instruction"),
    "undefined-acronym": Rule("clarity", "info", "an acronym or clipped word without its meaning"),
    "undefined-term": Rule("clarity", "info", "trader slang used without its meaning"),
    "no-structure": Rule("clarity", "warning", "a long prompt with no headings or lists"),
    "wall-of-text": Rule("clarity", "warning", "a paragraph over 80 words"),
    "missing-section": Rule("clarity", "info", "a structured prompt without a usual section"),
    # specificity
    "missing-output-format": Rule("specificity", "warning", "no output format is stated"),
    "missing-allowed-values": Rule("specificity", "info", "output without allowed values"),
    "unbounded-score": Rule("specificity", "warning", "a confidence or score with no range"),
    "no-thresholds": Rule("specificity", "warning", "decisions without any number"),
    "no-decision-rules": Rule("specificity", "info", "no if/when rule says what to do"),
    "no-examples": Rule("specificity", "info", "no example of input or output"),
    "no-named-inputs": Rule("specificity", "info", "the inputs are not named"),
    "number-without-unit": Rule("specificity", "info", "a change amount with no unit"),
    "unfilled-slot": Rule("specificity", "warning", "a <SLOT> left to fill in"),
}


@dataclass
class Result:
    """What one dimension's check returns: its findings, its score and the signals behind it."""

    findings: list[Finding] = field(default_factory=list)
    score: float = 0.0
    details: dict[str, float] = field(default_factory=dict)
