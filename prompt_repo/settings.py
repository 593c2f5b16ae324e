"""The tables of ``promptloop.toml`` read by the other packages, one pydantic model each.

``[optimize]``, ``[lint]``, ``[analysis]``, ``[team]``, ``[release]`` and ``[shadow]`` are
checked once, by :func:`prompt_repo.config.load_workspace`, with the same rules as ``[llm]``
(the :class:`prompt_repo.config.SettingsTable` base): unknown keys refused with a "did you mean",
strict types (``true`` is not 1, ``2.9`` is not 2), ranges stated, and one ``ConfigError``
line naming table, key, value and what is allowed. The result is a typed attribute of
:class:`~prompt_repo.config.Workspace` (``workspace.optimize.tolerance``).

A key left out is ``None`` here: its default lives once, with the part that reads it
(``optimizer.gates.GateSettings``, ``optimizer.held_out.ReplaySettings``,
``optimizer.analyzer.LintThresholds``, ``tracker.rules``, ``agents.session``...), because this
package sits below them and cannot import their constants. Rules that need more than one
table (a ``[team]`` member must be an ``[agents.X]``) stay with their readers.
docs/settings.md lists every key; a test holds that list complete.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from prompt_repo.config import SettingsTable

__all__ = ["OptimizeTable", "LintTable", "AnalysisTable", "TeamTable", "ReleaseTable",
           "SETTINGS_TABLES"]

_SCORE = "a score from 0 to 100"


class OptimizeTable(SettingsTable):
    """``[optimize]``: the critic loop, the static gates and the replay gate."""

    temperature: float | None = Field(None, ge=0, le=2, description="a number from 0 to 2")
    max_repairs: int | None = Field(None, ge=0, le=20,
                                    description="a whole number from 0 to 20")
    concurrency: int | None = Field(None, ge=1, le=64,
                                    description="a whole number from 1 to 64")
    max_cases: int | None = Field(None, ge=1, le=10_000,
                                  description="a whole number from 1 to 10000")
    tolerance: float | None = Field(None, ge=0, le=100,
                                    description="points, a number from 0 to 100")
    min_size_ratio: float | None = Field(None, gt=0, le=1,
                                         description="a number more than 0 and at most 1")
    max_size_ratio: float | None = Field(None, ge=1, le=100,
                                         description="a number from 1 to 100")
    max_growth_chars: int | None = Field(None, ge=0, le=1_000_000,
                                         description="a whole number from 0 to 1000000")
    holdout_fraction: float | None = Field(None, gt=0, lt=1,
                                           description="a number strictly between 0 and 1")
    min_holdout: int | None = Field(None, ge=1, le=1_000_000,
                                    description="a whole number from 1 to 1000000")
    replay_alpha: float | None = Field(None, gt=0, lt=1,
                                       description="a number strictly between 0 and 1")
    replay_repeats: int | None = Field(None, ge=1, le=25,
                                       description="a whole number from 1 to 25")
    sample_seed: int | None = Field(None, ge=0, description="a whole number, 0 or more")


class LintTable(SettingsTable):
    """``[lint]``: the thresholds ``promptloop lint`` fails on (scripts rely on them)."""

    min_specificity: float | None = Field(None, ge=0, le=100, description=_SCORE)
    min_clarity: float | None = Field(None, ge=0, le=100, description=_SCORE)
    max_ambiguity: float | None = Field(None, ge=0, le=100, description=_SCORE)


class AnalysisTable(SettingsTable):
    """``[analysis]``: the defaults of ``promptloop analyze`` (and the server's reads)."""

    outcome_type: str | None = Field(None, min_length=1,
                                     description="an outcome type such as \"return_4h\"")
    band: float | None = Field(None, ge=0, le=1, description="a return band from 0 to 1, "
                               "such as 0.003")
    contradiction_window_hours: float | None = Field(
        None, gt=0, le=8760, description="hours, more than 0 and at most 8760")
    contradiction_rsi_tolerance: float | None = Field(
        None, ge=0, le=100, description="RSI points, a number from 0 to 100")

    def analyze_options(self) -> dict[str, Any]:
        """The keys set here, as keyword arguments of ``analyze_performance``."""
        chosen = {"outcome_type": self.outcome_type, "band": self.band}
        return {key: value for key, value in chosen.items() if value is not None} | (
            self.contradiction_options())

    def contradiction_options(self) -> dict[str, float]:
        """The contradiction keys set here, as keyword arguments of
        ``tracker.contradiction.ContradictionRule`` (and of ``analyze_performance``)."""
        chosen = {"window_hours": self.contradiction_window_hours,
                  "rsi_tolerance": self.contradiction_rsi_tolerance}
        return {key: value for key, value in chosen.items() if value is not None}


class TeamTable(SettingsTable):
    """``[team]``: who answers, in which order, who decides and who may veto."""

    order: list[str] | None = Field(None, description="a list of agent names")
    decider: str | None = Field(None, min_length=1, description="an agent name")
    risk_agent: str | None = Field(None, min_length=1, description="an agent name")
    risk_veto: str | None = Field(None, pattern=r"(?i)^(low|medium|high|off)$",
                                  description="\"LOW\", \"MEDIUM\", \"HIGH\" or \"off\"")


class ReleaseTable(SettingsTable):
    """``[release]``: the significance level of compare/promote and the shadows' wait."""

    alpha: float | None = Field(None, gt=0, lt=1,
                                description="a number strictly between 0 and 1")
    shadow_timeout: float | None = Field(None, gt=0, le=3600,
                                         description="seconds, more than 0 and at most 3600")


SETTINGS_TABLES: dict[str, type[SettingsTable]] = {
    "optimize": OptimizeTable, "lint": LintTable, "analysis": AnalysisTable,
    "team": TeamTable, "release": ReleaseTable,
}
