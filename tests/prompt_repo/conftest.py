"""Fixtures of the prompt store tests: real git repositories in temporary folders, with a
fixed git identity and ``snapshot`` (tests/support/git_fixtures.py)."""

from git_fixtures import git_identity, snapshot

__all__ = ["git_identity", "snapshot"]
