"""Errors of the decision tracker.

TrackerError
├── ValidationError   a decision, outcome or metric was refused; nothing was written
│   ├── UnknownDecisionError   an outcome names a decision id that does not exist
│   └── UnknownAgentError      an analysis names an agent neither configured nor recorded
├── DatabaseError     the database cannot be opened, or a statement failed
├── SchemaError       the database's schema is unknown, newer than this code, or foreign
└── PriceDataError    a price file is missing, malformed or out of order (also importable
                      from tracker.prices)
"""


class TrackerError(Exception):
    """Base of every error raised by tracker."""


class ValidationError(TrackerError):
    """Input was refused before anything was written."""


class UnknownDecisionError(ValidationError):
    """An outcome or lookup named a decision id that is not in the database."""


class UnknownAgentError(ValidationError):
    """An analysis named an agent that is neither configured nor has recorded calls."""


class DatabaseError(TrackerError):
    """The database could not be opened or a statement failed."""


class SchemaError(TrackerError):
    """The database's schema cannot be used or upgraded by this version of promptloop."""


class PriceDataError(TrackerError):
    """A price file is missing, malformed or out of order."""
