"""Judging one candidate text: the analyzer's scores, the static gates, then the replay gate.

Both engines of :class:`optimizer.loop.AgentPromptOptimizer` end a candidate here: the
critic's rounds (optimizer/critic_rounds.py) and the heuristic rewrite
(optimizer/heuristic_engine.py). The replay gate runs only on what passed every static
gate, and only when the run holds decisions out (an LLM configured to replay them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from optimizer.gates import GateSettings, static_gates
from optimizer.proposal import SCORE_KEYS, Candidate, Proposal

if TYPE_CHECKING:
    from optimizer.analyzer import Analysis
    from optimizer.held_out import Replayer

__all__ = ["Judge", "Progress", "scores_of"]

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Judge:
    """The gates of one run; ``replay`` is None when the replay gate cannot run."""

    settings: GateSettings
    replay: Replayer | None
    progress: Progress

    def __call__(self, proposal: Proposal, candidate: Candidate, text: str) -> None:
        """Score ``text`` and gate it; the results are kept on ``candidate``."""
        from optimizer.analyzer import analyze
        from optimizer.taint import case_texts

        self.progress(f"Round {candidate.round}: checking the gates")
        candidate.text = text
        candidate.scores = scores_of(analyze(text))
        holdout = proposal.holdout
        candidate.gates = static_gates(
            proposal.current, text, proposal.scores_before or {}, candidate.scores,
            self.settings, replay_available=self.replay is not None and holdout is not None,
            untrusted=case_texts(proposal.failures))
        if self.replay is None or holdout is None or not all(g.passed for g in candidate.gates):
            return
        candidate.gates.append(self.replay.verdict(proposal, holdout, text, self.progress,
                                                   candidate.round))


def scores_of(analysis: Analysis) -> dict[str, float]:
    """The four analyzer scores, rounded to what is shown (the gates judge these values)."""
    return {key: round(float(getattr(analysis, key)), 1) for key in SCORE_KEYS}
