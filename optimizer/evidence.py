"""Evidence-driven prompt rules: the agent's track record in, deterministic prompt lines out.

The heuristic engine of ``promptloop optimize`` (optimizer/heuristic_engine.py) calls
this after the analyzer's offline rewrite, so that the change it proposes answers what the
analysis found, with the numbers. Pure functions: no database, no model, no clock.

Inputs:

- ``block``: one agent's :class:`~tracker.analysis.model.Block` of the analysis report
  (``tracker.analysis.analyze_performance``); ``by_market_condition`` and
  ``calibration.bins`` are read;
- ``cases``: the agent's failure cases (``DecisionTracker.failure_cases``); only the
  ``contradiction`` pairs are read: each call's indicators, action and outcome.

Rules, each stated only on enough evidence (otherwise nothing is said):

1. A confidence cap per market condition. A condition (not ``unknown``) with at least
   MIN_OUTCOMES calls with an outcome, whose mean confidence exceeds its accuracy by GAP or
   more, gets ``- In `volatile` markets your calls were right 29% of the time at a mean
   confidence of 0.92 (n=174): do not exceed confidence 0.3 when `market_condition` is
   `volatile`.`` The cap is the observed accuracy rounded up to the next 0.05 (at least
   0.1): a calibrated confidence *is* the accuracy. Most overconfident first, at most MAX_CAPS.
2. An overall cap, only when rule 1 found nothing (e.g. no condition is recorded): the lowest
   calibration bin with MIN_OUTCOMES outcomes and a GAP, pooled with every bin above it:
   ``- Your calls at confidence 0.7 or above were right 31% of the time (n=440): do not
   exceed confidence 0.35.``
3. A tie-break for contradictions (the failure cases of kind ``contradiction``: pairs of
   the agent's calls that contradict each other under the one definition,
   :mod:`tracker.contradiction`, at least one wrong). Over at least MIN_PAIRS pairs, two
   simple policies are scored on the outcomes of the pairs' calls: answer HOLD, and follow
   the sign of ``macd_hist``. The better one is stated when it would have been right at
   least TIE_MARGIN more often than the agent's own calls; its scope is the market
   condition that SCOPE_SHARE of the calls share, and the ``rsi_14`` range they span when
   it is at most RSI_SPAN points wide (rounded out to 5).
   The calls' indicators are read with :mod:`tracker.context_schema` (flat or nested).

Placement (:func:`apply_rules`): a cap goes at the end of the section whose heading mentions
confidence, the tie-break at the end of the one about deciding or rules; a prompt with no
such heading gets a ``## Rules from your track record`` section (before its output section,
or at the end). A rule is a Markdown bullet wrapped at WIDTH columns. A line that starts with
a rule's ``key`` is that rule from an earlier run: it is replaced (with its indented
continuation lines), so optimizing again updates the numbers instead of stacking rules.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tracker.context_schema import read
from tracker.contradiction import DEFAULT_RULE, ContradictionRule
from tracker.rules import DEFAULT_BAND, is_correct

if TYPE_CHECKING:
    from tracker.analysis.model import Block, CalibrationBin

__all__ = [
    "EvidenceRule",
    "apply_rules",
    "confidence_caps",
    "derive_rules",
    "tie_break",
]

MIN_OUTCOMES = 30  # calls with an outcome behind a cap (tracker.analysis uses 30 too)
GAP = 0.15  # mean confidence - accuracy worth a cap
MAX_CAPS = 4
CAP_STEP = 0.05
MIN_CAP = 0.1
MIN_PAIRS = 10
TIE_MARGIN = 0.10
SCOPE_SHARE = 0.8
RSI_SPAN = 30.0
UNKNOWN = "unknown"
FALLBACK_TITLE = "Rules from your track record"
SECTIONS = {
    "confidence": re.compile(r"confiden", re.IGNORECASE),
    "decision": re.compile(r"decid|decision|rules?\b|how to", re.IGNORECASE),
}
OUTPUT_HEADING = re.compile(r"answer|output|format|respon|reply", re.IGNORECASE)
WIDTH = 95  # the example prompts' line width
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


@dataclass(frozen=True)
class EvidenceRule:
    """One prompt line derived from the track record; ``key`` starts the line and names
    its scope (a line starting with it is this rule from an earlier run)."""

    kind: str  # "confidence_cap" | "tie_break"
    section: str  # a key of SECTIONS
    key: str
    line: str
    cap: float | None = None  # a confidence cap's value
    scope: str | None = None  # the market condition a cap is for (None: every call)

    @property
    def summary(self) -> str:
        return self.line.removeprefix("- ")


def derive_rules(block: Block | None, cases: Sequence[Any] = (),
                 contradiction: ContradictionRule = DEFAULT_RULE) -> list[EvidenceRule]:
    """Every rule the evidence supports, in the order they are shown; ``contradiction`` is
    the rule the cases were paired under."""
    rules = confidence_caps(block) if block else []
    tie = tie_break(cases, contradiction)
    return rules + ([tie] if tie else [])


# -- confidence caps ------------------------------------------------------------------------


def confidence_caps(block: Block) -> list[EvidenceRule]:
    """Caps per market condition, or one overall cap from the calibration bins."""
    found = []
    for condition, part in block.by_market_condition.items():
        n, accuracy, confidence = part.with_outcome, part.accuracy, part.mean_confidence
        if condition == UNKNOWN or n < MIN_OUTCOMES or accuracy is None or confidence is None:
            continue
        if confidence - accuracy >= GAP:
            found.append((accuracy - confidence, condition, n, accuracy, confidence))
    rules = [_condition_cap(condition, n, accuracy, confidence)
             for _, condition, n, accuracy, confidence in sorted(found)[:MAX_CAPS]]
    if rules:
        return rules
    overall = _overall_cap(block.calibration.bins)
    return [overall] if overall else []


def _condition_cap(condition: str, n: int, accuracy: float, confidence: float
                   ) -> EvidenceRule:
    key = f"- In `{condition}` markets your calls were right"
    line = (f"{key} {_pct(accuracy)} of the time at a mean confidence of {confidence:.2f} "
            f"(n={n}): do not exceed confidence {_number(cap(accuracy))} when "
            f"`market_condition` is `{condition}`.")
    return EvidenceRule("confidence_cap", "confidence", key, line, cap(accuracy), condition)


def _overall_cap(bins: Sequence[CalibrationBin]) -> EvidenceRule | None:
    usable = [(b, b.accuracy, b.mean_confidence) for b in bins
              if b.count and b.accuracy is not None and b.mean_confidence is not None]
    lowest = next((b for b, acc, conf in usable
                   if b.count >= MIN_OUTCOMES and conf - acc >= GAP), None)
    if lowest is None:
        return None
    pooled = [(b, acc) for b, acc, _ in usable if b.lo >= lowest.lo]
    n = sum(b.count for b, _ in pooled)
    accuracy = sum(acc * b.count for b, acc in pooled) / n
    key = "- Your calls at confidence"
    line = (f"{key} {lowest.lo:.1f} or above were right {_pct(accuracy)} of the time "
            f"(n={n}): do not exceed confidence {_number(cap(accuracy))}.")
    return EvidenceRule("confidence_cap", "confidence", key, line, cap(accuracy))


def cap(accuracy: float) -> float:
    """The observed accuracy rounded up to the next CAP_STEP, at least MIN_CAP."""
    steps = math.ceil(round(accuracy / CAP_STEP, 6))
    return max(MIN_CAP, round(steps * CAP_STEP, 2))


# -- tie-break ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Call:
    action: str
    value: float
    band: float
    condition: str | None
    rsi: float | None
    macd: float | None


POLICIES = {  # name -> (the instruction, the action it takes on a call)
    "HOLD": ("answer HOLD", lambda call: "HOLD"),
    "macd": ("follow the sign of `macd_hist` (BUY above 0, SELL below 0)",
             lambda call: None if call.macd is None else
             "BUY" if call.macd > 0 else "SELL" if call.macd < 0 else "HOLD"),
}


def tie_break(cases: Sequence[Any], contradiction: ContradictionRule = DEFAULT_RULE
              ) -> EvidenceRule | None:
    """A tie-break between BUY and SELL, when the contradiction pairs' outcomes favour one."""
    pairs = [case for case in cases if _get(case, "kind") == "contradiction"
             and _get(case, "others")]
    calls = [call for case in pairs for call in _calls(case)]
    if len(pairs) < MIN_PAIRS or not calls:
        return None
    own = sum(is_correct(c.action, c.value, c.band) for c in calls) / len(calls)
    scored = [(_hits(rule, calls) / len(calls), name) for name, (_, rule) in POLICIES.items()]
    rate, name = max(scored, key=lambda s: s[0])  # ties: the first policy (HOLD)
    if rate < own + TIE_MARGIN:
        return None
    key = "- Tie-break between BUY and SELL"
    what = "HOLD" if name == "HOLD" else "that rule"
    line = (f"{key}{_scope(calls)}: {POLICIES[name][0]}. On {len(pairs)} pairs of opposite "
            f"calls you made on similar inputs within {_hours(contradiction.window_hours)}, "
            f"{what} would have been right {_pct(rate)} of the time, your calls {_pct(own)} "
            f"(n={len(calls)}).")
    return EvidenceRule("tie_break", "decision", key, line)


def _hits(rule: Any, calls: Iterable[_Call]) -> int:
    hits = 0
    for call in calls:
        action = rule(call)
        hits += action is not None and is_correct(action, call.value, call.band)
    return hits


def _scope(calls: Sequence[_Call]) -> str:
    parts = []
    condition, count = Counter(c.condition for c in calls).most_common(1)[0]
    if condition and condition != UNKNOWN and count >= SCOPE_SHARE * len(calls):
        parts.append(f"`market_condition` is `{condition}`")
    rsis = [c.rsi for c in calls if c.rsi is not None]
    if len(rsis) == len(calls) and max(rsis) - min(rsis) <= RSI_SPAN:
        low, high = 5 * math.floor(min(rsis) / 5), 5 * math.ceil(max(rsis) / 5)
        parts.append(f"`rsi_14` is between {low} and {high}")
    return f" (when {' and '.join(parts)})" if parts else ""


def _calls(case: Any) -> list[_Call]:
    main = {"context": _get(case, "context"), "output": _get(case, "output"),
            "outcome": _get(case, "outcome"), "market_condition": _get(case, "market_condition")}
    out = []
    for member in [main, *_get(case, "others")]:
        output, outcome = member.get("output") or {}, member.get("outcome") or {}
        if output.get("action") not in ("BUY", "SELL") or outcome.get("value") is None:
            continue
        context = member.get("context")
        band = (outcome.get("details") or {}).get("band", DEFAULT_BAND)
        out.append(_Call(output["action"], float(outcome["value"]), float(band),
                         member.get("market_condition"), read(context, "rsi"),
                         read(context, "macd_hist")))
    return out


def _get(case: Any, name: str) -> Any:
    return case.get(name) if isinstance(case, Mapping) else getattr(case, name, None)


def _hours(hours: float) -> str:
    return "an hour" if hours == 1 else f"{hours:g} hours"


# -- placing the rules in the prompt ----------------------------------------------------------


def apply_rules(text: str, rules: Sequence[EvidenceRule]) -> str:
    """``text`` with each rule replacing its earlier version or added to its section (as a
    bullet wrapped at WIDTH columns, continuation lines indented by two spaces)."""
    lines = text.split("\n")
    for rule in rules:
        wrapped = textwrap.wrap(rule.line, WIDTH, subsequent_indent="  ",
                                break_long_words=False, break_on_hyphens=False)
        earlier = next((i for i, line in enumerate(lines) if line.startswith(rule.key)), None)
        if earlier is None:
            _insert(lines, rule.section, wrapped)
            continue
        end = earlier + 1
        while end < len(lines) and lines[end].startswith("  ") and lines[end].strip():
            end += 1
        lines[earlier:end] = wrapped
    return "\n".join(lines)


def _insert(lines: list[str], section: str, wrapped: list[str]) -> None:
    headings = _headings(lines)
    match = SECTIONS[section]
    found = next((h for h in headings if match.search(h[2])), None)
    found = found or next((h for h in headings if h[2] == FALLBACK_TITLE), None)
    if found is None:
        _new_section(lines, headings, wrapped)
        return
    index, level, _ = found
    end = next((i for i, lv, _ in headings if i > index and lv <= level), len(lines))
    last = end - 1
    while last > index and not lines[last].strip():
        last -= 1
    in_list = last > index and lines[last].startswith(("- ", "  "))
    lines[last + 1:last + 1] = wrapped if in_list else ["", *wrapped]


def _new_section(lines: list[str], headings: list[tuple[int, int, str]], wrapped: list[str]
                 ) -> None:
    output = next((h for h in headings if OUTPUT_HEADING.search(h[2])), None)
    section = [f"## {FALLBACK_TITLE}", "", *wrapped]
    if output is not None:
        lines[output[0]:output[0]] = [*section, ""]
        return
    while lines and not lines[-1].strip():
        lines.pop()
    lines.extend(["", *section, ""] if lines else [*section, ""])


def _headings(lines: list[str]) -> list[tuple[int, int, str]]:
    """(line index, level, title) of the Markdown headings outside fenced code."""
    out, fenced = [], False
    for index, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            continue
        heading = None if fenced else HEADING.match(line)
        if heading:
            out.append((index, len(heading.group(1)), heading.group(2)))
    return out


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%"


def _number(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")
