"""Errors of the decision tracker.

TrackerError
└── ValidationError   a decision, outcome or metric was refused; nothing was written
"""


class TrackerError(Exception):
    """Base of every error raised by tracker."""


class ValidationError(TrackerError):
    """Input was refused before anything was written."""
