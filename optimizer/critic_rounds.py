"""The ``llm`` engine's rounds: one critic conversation per round, run concurrently.

A round asks the critic, applies its diff, and on a patch or format error sends the error
back (at most ``max_repairs`` times, the message written for the model); a text that
applies is then judged (optimizer/judging.py). Extra rounds are independent attempts (a
marker in the request, a warmer temperature). No failure case: no call at all.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from optimizer.critic import critic_messages, parse_critique, repair_message
from optimizer.errors import CriticFailed, CritiqueFormatError, PatchError
from optimizer.judging import Judge, Progress
from optimizer.proposal import Candidate, Proposal

if TYPE_CHECKING:
    from agents.llm import LLMClient

__all__ = ["CriticRounds", "LATER_ROUND_TEMPERATURE"]

LATER_ROUND_TEMPERATURE = 0.7


@dataclass(frozen=True)
class CriticRounds:
    """What the rounds of one run share: the client, the settings, the gates."""

    client: LLMClient
    model: str
    temperature: float
    max_repairs: int
    concurrency: int
    judge: Judge
    progress: Progress

    def run(self, proposal: Proposal, rounds: int) -> list[Candidate]:
        """One candidate per round; raises CriticFailed when no round produced a diff."""
        if not proposal.failures:
            proposal.notes.append("no failure cases to show the critic: no LLM call made")
            return [Candidate(round=1, diagnosis=f"No failure cases in the last "
                              f"{proposal.days} days: the critic was not asked.")]
        workers = min(rounds, self.concurrency)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(self.round, proposal, n) for n in range(1, rounds + 1)]
            try:
                candidates = [future.result() for future in futures]
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        if all(c.error for c in candidates):
            raise CriticFailed("no usable diff: " + "; ".join(
                f"round {c.round}: {c.error}" for c in candidates))
        return candidates

    def round(self, proposal: Proposal, number: int) -> Candidate:
        """One critic conversation: ask, patch, send errors back (bounded), then judge."""
        messages = critic_messages(
            proposal.agent, proposal.current, proposal.scores_before or {},
            proposal.analyzer_findings, proposal.findings, proposal.failures, attempt=number)
        temperature = self.temperature if number == 1 else LATER_ROUND_TEMPERATURE
        candidate = Candidate(round=number)
        while True:
            self.progress(f"Round {number}: asking the critic ({self.model})"
                          + (f", repair {candidate.repairs}" if candidate.repairs else ""))
            answer = self.client.chat(messages, temperature=temperature)
            try:
                text = patched(proposal.current, answer.text, candidate)
            except (CritiqueFormatError, PatchError) as exc:
                if candidate.repairs >= self.max_repairs:
                    candidate.error = (f"no applicable diff after {candidate.repairs} "
                                       f"repair(s): {exc}")
                    return candidate
                candidate.repairs += 1
                messages = [*messages, {"role": "assistant", "content": answer.text},
                            repair_message(str(exc))]
                continue
            if text is not None:
                self.judge(proposal, candidate, text)
            return candidate


def patched(current: str, answer: str, candidate: Candidate) -> str | None:
    """The prompt with the answer's diff applied (None: no change proposed); the diagnosis
    and diff are kept on ``candidate``. Raises CritiqueFormatError or PatchError."""
    from optimizer.patch import apply_unified_diff

    critique = parse_critique(answer)
    candidate.diagnosis, candidate.diff = critique.diagnosis, critique.diff
    if critique.diff is None:
        return None
    text = apply_unified_diff(current, critique.diff)
    if text == current:
        raise CritiqueFormatError("the diff changes nothing in the prompt.")
    return text
