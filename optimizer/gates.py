"""The gates a candidate prompt must pass before it may be applied.

A gate is a pure check that returns a :class:`GateResult`; it never raises for a bad
candidate. The loop runs the cheap static gates first (placeholders, slots, size, analyzer
scores, the change itself, taint) and the replay gate (``optimizer.replay_gate``, which
costs LLM calls) only on candidates that passed them. A candidate is applicable only
when every gate passed.

- placeholders: the set of ``{name}`` / ``{{ name }}`` placeholders is unchanged: a lost
  one breaks the agent's template, a new one has no value to fill it.
- slots: no new unfilled ``<SLOT>`` (an upper-case name in angle brackets, ``<N>``,
  ``<THRESHOLD>``, the analyzer's ``unfilled-slot``): a slot is a question to a person, and
  an applied prompt is read by the agent, which would take ``above <N>`` literally. Counted,
  so a second ``<N>`` is new too; slots the current prompt already has are left alone.
- size: the candidate keeps between ``min_size_ratio`` and ``max_size_ratio`` of the
  current length (growth of up to ``max_growth_chars`` is always allowed, so a short
  prompt may gain a rule). This is what stops a critic that was talked into deleting or
  replacing the prompt.
- scores (a tolerance gate on the whole prompt): no analyzer dimension worsens by more
  than ``tolerance`` points (ambiguity is worse when it rises). The overall score must
  strictly improve only when no replay evidence will judge the candidate
  (``replay_available=False``): then the analyzer is the only judge. With a replay, a
  neutral precise rule passes, and the replay decides whether it helps.
- change (``optimizer.change_gate``): the added and removed lines themselves: no vague
  wording added, no threshold dropped, no unconditional override of the prompt's rules.
- taint (``optimizer.taint``): no added line copies the untrusted case text shown to the
  critic (``untrusted``); a tainted candidate is held for a person.

Why the default tolerance is 5 points: one clarity penalty (an undefined acronym or a
domain term such as "squeeze", 4 points undamped; a long sentence, 5) is what one precise
rule may cost a short prompt, and a rule added to a long prompt moves the length-weighted
terms by less. Vague wording is refused line by line by the change gate, so the tolerance
only has to catch drift of the whole prompt, not a single hedge.

Thresholds come from the ``[optimize]`` table of promptloop.toml, checked at load
(``prompt_repo.settings.OptimizeTable``); the defaults are the fields of :class:`GateSettings`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from optimizer.errors import OptimizerError
from optimizer.rules.lexicon import PLACEHOLDER, SLOT

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "GateResult",
    "GateSettings",
    "setting",
    "placeholders",
    "placeholder_gate",
    "slot_gate",
    "new_slots",
    "size_gate",
    "score_gate",
    "static_gates",
]

HIGHER_IS_BETTER = ("specificity", "clarity")
LOWER_IS_BETTER = ("ambiguity",)


@dataclass
class GateResult:
    """The verdict of one gate on one candidate; ``data`` is JSON-serializable."""

    name: str
    passed: bool
    detail: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GateSettings:
    tolerance: float = 5.0
    min_size_ratio: float = 0.6
    max_size_ratio: float = 2.0
    max_growth_chars: int = 1500

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> GateSettings:
        """Read the gate keys of the ``[optimize]`` table; other keys are left alone."""
        return cls(**{spec.name: setting(section, spec.name, spec.default)
                      for spec in fields(cls)})


def setting(section: dict[str, Any], key: str, default: Any) -> Any:
    """``[optimize] key`` as the type of its default; a bad value is one clear error."""
    if key not in section:
        return default
    try:
        return type(default)(section[key])
    except (TypeError, ValueError) as exc:
        raise OptimizerError(f"[optimize] {key} in promptloop.toml: {exc}") from exc


def placeholders(text: str) -> set[str]:
    """The template placeholders of a prompt, normalised (``{{ x }}`` -> ``{{x}}``)."""
    return {re.sub(r"\s+", "", match) for match in PLACEHOLDER.findall(text)}


def placeholder_gate(current: str, candidate: str) -> GateResult:
    before, after = placeholders(current), placeholders(candidate)
    lost, added = sorted(before - after), sorted(after - before)
    problems = [f"lost {', '.join(lost)}"] if lost else []
    problems += [f"added {', '.join(added)}"] if added else []
    detail = "; ".join(problems) or f"{len(before)} placeholder(s) preserved"
    return GateResult("placeholders", not problems, detail, {"lost": lost, "added": added})


def new_slots(current: str, candidate: str) -> list[str]:
    """The ``<SLOT>``s of ``candidate`` that ``current`` lacks (a second ``<N>`` is new)."""
    return sorted((Counter(SLOT.findall(candidate)) - Counter(SLOT.findall(current))).elements())


def slot_gate(current: str, candidate: str) -> GateResult:
    added = new_slots(current, candidate)
    detail = (f"new unfilled slot(s): {', '.join(added)}" if added
              else "no new unfilled slot")
    return GateResult("slots", not added, detail, {"added": added})


def size_gate(current: str, candidate: str, settings: GateSettings) -> GateResult:
    size = len(current)
    new_size = len(candidate) if candidate.strip() else 0  # blank counts as empty
    low = int(size * settings.min_size_ratio)
    high = max(int(size * settings.max_size_ratio), size + settings.max_growth_chars)
    passed = 0 < new_size and low <= new_size <= high
    detail = f"{size} -> {new_size} characters (allowed {low}-{high})"
    return GateResult("size", passed, detail, {"before": size, "after": new_size,
                                               "min": low, "max": high})


def score_gate(before: dict[str, float], after: dict[str, float], tolerance: float, *,
               replay_available: bool = False) -> GateResult:
    worse = [
        f"{name} {before[name]:.1f} -> {after[name]:.1f}"
        for name in (*HIGHER_IS_BETTER, *LOWER_IS_BETTER)
        if _loss(name, before[name], after[name]) > tolerance
    ]
    overall = f"overall {before['overall']:.1f} -> {after['overall']:.1f}"
    problems = [f"worse beyond {tolerance:g} points: {', '.join(worse)}"] if worse else []
    if not replay_available and not after["overall"] > before["overall"]:
        problems.append(f"overall not better ({before['overall']:.1f} -> "
                        f"{after['overall']:.1f}) and no replay to judge the change")
    judged = ("the replay judges the behaviour" if replay_available
              else "strictly better: no replay to judge the change")
    detail = "; ".join(problems) or (f"{overall}, each score within {tolerance:g} points "
                                     f"({judged})")
    return GateResult("scores", not problems, detail,
                      {"before": before, "after": after, "tolerance": tolerance,
                       "overall_must_improve": not replay_available})


def static_gates(
    current: str,
    candidate: str,
    before: dict[str, float],
    after: dict[str, float],
    settings: GateSettings,
    *,
    replay_available: bool = False,
    untrusted: Sequence[tuple[str, str]] = (),
) -> list[GateResult]:
    """Every gate that costs no LLM call, in the order they are shown.

    ``replay_available``: a replay gate will judge the candidate (the overall score then
    need not improve). ``untrusted``: (source, text) pairs of the case text shown to the
    critic (``optimizer.taint.case_texts``); an added line copying one does not pass.
    """
    from optimizer.change_gate import change_gate, changed_lines
    from optimizer.taint import taint_gate

    change = changed_lines(current, candidate)
    return [
        placeholder_gate(current, candidate),
        slot_gate(current, candidate),
        size_gate(current, candidate, settings),
        score_gate(before, after, settings.tolerance, replay_available=replay_available),
        change_gate(current, candidate, change),
        taint_gate(change.added, untrusted),
    ]


def _loss(name: str, before: float, after: float) -> float:
    return after - before if name in LOWER_IS_BETTER else before - after
