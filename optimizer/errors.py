"""Errors of the optimizer.

OptimizerError
├── UnknownEngine        --engine names no engine (no endpoint: agents' LLMNotConfigured)
├── CritiqueFormatError  the critic's answer holds no diff (message written for the critic)
├── CriticFailed         no round produced a candidate: every diff failed after its repairs
├── BudgetTooSmall       the LLM budget cannot pay for the planned run (refused before any call)
├── PromptTooLarge       a prompt is longer than optimizer.limits.MAX_PROMPT_CHARS
├── PushFailed           the new branch could not be pushed (and was deleted again)
└── PatchError           a diff does not apply (also a ValueError; importable from
                         optimizer.patch, where DESIGN.md names it)

The loop catches CritiqueFormatError and PatchError and sends their message back to the
critic, at most ``max_repairs`` times; CriticFailed is what is left when that did not help.
"""


class OptimizerError(Exception):
    """Base of every error raised by optimizer."""


class UnknownEngine(OptimizerError):
    """The requested engine does not exist or cannot run here."""


class CritiqueFormatError(OptimizerError):
    """The critic's answer could not be read as a diagnosis and a diff."""


class CriticFailed(OptimizerError):
    """Every round ended without an applicable candidate."""


class BudgetTooSmall(OptimizerError):
    """The run's planned LLM calls or tokens exceed [llm] max_calls / max_tokens."""


class PromptTooLarge(OptimizerError):
    """A prompt is longer than the analyzer's size limit (optimizer/limits.py)."""


class PushFailed(OptimizerError):
    """git push of the applied branch failed; the branch was deleted, nothing changed."""


class PatchError(OptimizerError, ValueError):
    """The diff cannot be applied; the message says which hunk and why, for the critic."""
