"""Errors of the agent runtime.

AgentError
├── LLMError                  the endpoint failed for good (after retries) or refused the call
├── BudgetExceeded            the run's LLM budget (calls or tokens) is spent; no call was made
├── InvalidStructuredAnswer   the answer was not JSON for the schema, even after one repair
│   └── LLMNotConfigured      no LLM endpoint is configured, and the command needs one
│                             (always the one message NO_LLM_CONFIGURED)
├── SessionFailed             the team reached no decision (its outputs are attached)
├── MarketDataError           market data cannot be had (file, symbol, exchange)
├── NotPromoted               promote refused: the comparison is not conclusive
└── RemoteTrackerError        the tracker service (promptloop serve) refused a request or
                              stayed unreachable after every retry

LLMNotConfigured, SessionFailed, MarketDataError and NotPromoted are importable from where
they are used too (agents.session, agents.market, agents.release).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agents.roles import CallResult
    from tracker.compare import Comparison


class AgentError(Exception):
    """Base of every error raised by agents."""


class LLMError(AgentError):
    """A chat call failed and will not be retried."""


class BudgetExceeded(AgentError):
    """The run's budget of LLM calls or tokens is spent; the call was not made."""


class InvalidStructuredAnswer(AgentError):
    """The model did not answer with JSON matching the schema, even after one repair re-ask."""

    def __init__(self, message: str, *, raw: str | None = None) -> None:
        super().__init__(message)
        self.raw = raw  # the model's last answer, as text, when there was one


NO_LLM_CONFIGURED = ("no LLM configured: set OPENAI_API_KEY (or OPENAI_BASE_URL for a local "
                     "server) or [llm] in promptloop.toml")


class LLMNotConfigured(LLMError):
    """No LLM endpoint is configured, and the command needs one."""

    def __init__(self) -> None:
        super().__init__(NO_LLM_CONFIGURED)


class SessionFailed(AgentError):
    """The team could not reach a decision (the decider or the risk agent failed)."""

    def __init__(self, message: str, outputs: Sequence[CallResult] = ()) -> None:
        super().__init__(message)
        self.outputs = list(outputs)


class MarketDataError(AgentError):
    """Market data cannot be had: unreadable file, unknown symbol, exchange failure."""


class NotPromoted(AgentError):
    """promote refused: the comparison does not show the candidate better (and no force)."""

    def __init__(self, message: str, comparison: Comparison) -> None:
        super().__init__(message)
        self.comparison = comparison


class RemoteTrackerError(AgentError):
    """The tracker service refused a request, or stayed unreachable after every retry."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # the HTTP status of a refusal; None when unreachable
