"""Errors of the agent runtime.

AgentError
└── LLMError   the chat endpoint failed for good (after retries) or refused the request
"""


class AgentError(Exception):
    """Base of every error raised by agents."""


class LLMError(AgentError):
    """A chat call failed and will not be retried."""
