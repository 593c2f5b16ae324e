"""Errors of the agent runtime.

AgentError
├── LLMError                  the endpoint failed for good (after retries) or refused the call
├── BudgetExceeded            the run's LLM budget (calls or tokens) is spent; no call was made
├── InvalidStructuredAnswer   the answer was not JSON for the schema, even after one repair
└── RemoteTrackerError        the tracker service (promptloop serve) refused a request or
                              stayed unreachable after every retry
"""


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


class RemoteTrackerError(AgentError):
    """The tracker service refused a request, or stayed unreachable after every retry."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # the HTTP status of a refusal; None when unreachable
