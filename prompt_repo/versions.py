"""What the prompt store returns: a prompt at a version, a version, a rollback plan, an
agent's summary; and the parsing of ``git log`` records into versions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["LOG_FORMAT", "AgentSummary", "PromptVersion", "RollbackPlan", "Version",
           "parse_version"]

# sha, short sha, author date, author, subject, trailers: unit-separated, record-separated.
LOG_FORMAT = "%H%x1f%h%x1f%aI%x1f%an%x1f%s%x1f%(trailers:only,unfold)%x1e"


@dataclass(frozen=True)
class PromptVersion:
    """An agent's prompt text as committed, and the version (commit) it belongs to."""

    agent: str
    path: str  # relative to the workspace root
    text: str
    sha: str


@dataclass(frozen=True)
class Version:
    """One commit that changed an agent's prompt file."""

    number: int
    sha: str
    short_sha: str
    date: datetime
    author: str
    subject: str
    trailers: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"v{self.number}"


@dataclass(frozen=True)
class RollbackPlan:
    """A rollback to preview: from version ``base`` to ``target`` (``v{number}``)."""

    agent: str
    base: str
    target: PromptVersion
    number: int
    diff: str


@dataclass(frozen=True)
class AgentSummary:
    """An agent, its prompt file, its newest version (None if never committed), local edits."""

    agent: str
    path: str
    current: Version | None
    modified: bool


def parse_version(number: int, record: str) -> Version:
    """Version ``number`` from one record of ``git log --format=LOG_FORMAT``."""
    sha, short, date, author, subject, trailer_text = record.strip("\n").split("\x1f", 5)
    trailers = {}
    for line in trailer_text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            trailers[key.strip()] = value.strip()
    return Version(number, sha, short, datetime.fromisoformat(date), author, subject, trailers)
