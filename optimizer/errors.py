"""Errors of the optimizer.

OptimizerError
"""


class OptimizerError(Exception):
    """Base of every error raised by optimizer."""
