"""Fixtures of the ``agents add`` / ``agents remove`` tests: real git repositories, with a
fixed git identity and ``snapshot`` (tests/support/git_fixtures.py)."""

from git_fixtures import git_identity, snapshot

__all__ = ["git_identity", "snapshot"]
