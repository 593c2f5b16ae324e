"""Heuristic prompt scores: specificity, clarity, ambiguity (0-100), with explained findings.

``analyze(text)`` is deterministic and offline: regexes, lexicons and the prompt's structure,
no model. It gates every optimization (scores before and after) and feeds the offline
rewrite (:mod:`optimizer.suggest`), so it has to be fast (one parse, precompiled patterns) and
every number has to be traceable to findings or to the ``details`` of :meth:`Analysis.to_dict`.

How it works:

1. :func:`optimizer.rules.text.parse` masks what is not prose (fenced code, JSON examples,
   ``{placeholders}``, inline code), splits the prose into sentences and marks each as an
   instruction, filler, generic, or a duplicate.
2. One module per dimension (:mod:`optimizer.rules.specificity`, ``.clarity``,
   ``.ambiguity``) produces findings and a score; their docstrings give the formulas.
3. ``overall = (specificity + clarity + (100 - ambiguity)) / 3``; higher is better.

Length normalization: scores are rates over *instructions* (or saturating counts), and
padding (filler sentences, repeated sentences, blank lines) is not counted as instructions,
so it cannot raise specificity or clarity nor lower ambiguity; a short precise prompt is not
punished for being short (structure only weighs from 50 prose words on, rates have floors).

``[lint]`` thresholds (:class:`LintThresholds`) decide what ``promptloop lint`` fails on.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from optimizer.errors import OptimizerError
from optimizer.limits import check_prompt_size
from optimizer.rules import ambiguity, clarity, specificity
from optimizer.rules.base import RULES, SEVERITY_RANK, Finding, Rule
from optimizer.rules.scan import scan
from optimizer.rules.text import parse

__all__ = [
    "Analysis", "Finding", "LintThresholds", "RULES", "Rule", "analyze", "threshold_failures",
]


@dataclass(frozen=True)
class Analysis:
    """Scores 0-100 (ambiguity: higher is worse), findings in text order, and the raw numbers
    each score was computed from."""

    specificity: float
    clarity: float
    ambiguity: float
    findings: list[Finding]
    details: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def overall(self) -> float:
        return round((self.specificity + self.clarity + (100 - self.ambiguity)) / 3, 2)

    def scores(self) -> dict[str, float]:
        return {"specificity": self.specificity, "clarity": self.clarity,
                "ambiguity": self.ambiguity, "overall": self.overall}

    def top_findings(self, limit: int = 5) -> list[Finding]:
        """The most severe findings first, then in text order."""
        ranked = sorted(self.findings, key=lambda f: (SEVERITY_RANK[f.severity], f.line, f.col))
        return ranked[:limit]

    def to_dict(self) -> dict[str, Any]:
        return {**self.scores(), "findings": [f.to_dict() for f in self.findings],
                "details": self.details}


def analyze(text: str) -> Analysis:
    """Score one prompt. Never raises on any string up to MAX_PROMPT_CHARS; a longer one
    is refused with PromptTooLarge (optimizer/limits.py)."""
    check_prompt_size(text)
    doc = parse(text)
    scan(doc)
    spec = specificity.check(doc)
    clar = clarity.check(doc)
    amb = ambiguity.check(doc)
    findings = sorted(spec.findings + clar.findings + amb.findings,
                      key=lambda f: (f.line, f.col, f.rule))
    return Analysis(
        specificity=round(_clamp(spec.score), 2),
        clarity=round(_clamp(clar.score), 2),
        ambiguity=round(_clamp(amb.score), 2),
        findings=findings,
        details={"specificity": spec.details, "clarity": clar.details,
                 "ambiguity": amb.details},
    )


def _clamp(value: float) -> float:
    return max(0.0, min(100.0, value))


@dataclass(frozen=True)
class LintThresholds:
    """The ``[lint]`` table of promptloop.toml; a key left out keeps its default."""

    min_specificity: float = 40.0
    min_clarity: float = 50.0
    max_ambiguity: float = 50.0

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> LintThresholds:
        values: dict[str, float] = {}
        for spec in fields(cls):
            if spec.name not in section:
                continue
            value = section[spec.name]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise OptimizerError(f"[lint] {spec.name} in promptloop.toml must be a number")
            values[spec.name] = float(value)
        unknown = set(section) - {f.name for f in fields(cls)}
        if unknown:
            raise OptimizerError(f"[lint] unknown keys in promptloop.toml: {sorted(unknown)}")
        return cls(**values)


def threshold_failures(analysis: Analysis, thresholds: LintThresholds) -> list[str]:
    """One line per missed threshold, e.g. ``clarity 35.0 < 50.0 (min_clarity)``."""
    failures = []
    if analysis.specificity < thresholds.min_specificity:
        failures.append(f"specificity {analysis.specificity:.1f} < "
                        f"{thresholds.min_specificity:.1f} (min_specificity)")
    if analysis.clarity < thresholds.min_clarity:
        failures.append(f"clarity {analysis.clarity:.1f} < {thresholds.min_clarity:.1f} "
                        "(min_clarity)")
    if analysis.ambiguity > thresholds.max_ambiguity:
        failures.append(f"ambiguity {analysis.ambiguity:.1f} > "
                        f"{thresholds.max_ambiguity:.1f} (max_ambiguity)")
    return failures
