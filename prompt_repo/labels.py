"""Labels: named pointers (``production``, ``candidate``...) from an agent to a version.

The labels live in one small file at the workspace root, :data:`LABELS_FILE`, committed
like the prompts (never under the git-ignored ``.promptloop/``)::

    [MarketAnalyst]
    candidate = "<40-hex version sha>"
    production = "<40-hex version sha>"

Moving a label is ONE commit that touches only that file, made with the same plumbing,
repository lock and compare-and-swap of the branch as :meth:`PromptRepo.apply`: writers
queue on the lock and each reads the file at HEAD under it, so concurrent moves from many
processes are all kept, one commit each. A prompt-file commit never touches the labels file.

A label names the *version* (the commit that last changed the prompt file at the revision
it was set to), so a later commit (an apply, a rollback) never moves it: labels survive
rollbacks, which are new commits.

``production`` is the default label. An agent without a ``production`` entry resolves to its
newest version, as before labels existed. Setting any other label on such an agent pins
``production`` at the agent's newest version in the same commit: otherwise a candidate
committed later (``optimize --label candidate``) would silently become "newest", hence
production. :meth:`Labels.pin_production` does that pinning alone, before an apply.

History (:meth:`Labels.log`) comes from git: every commit that changed the file, with the
entry before and after it, its author, date and reason (the commit body). So a move made
by hand, merged from a pull request or undone with ``git revert`` shows up like any other.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from prompt_repo.errors import ConfigError, NoChange, PromptRepoError, UnknownRevision
from prompt_repo.plumbing import blob_at, format_message, git

if TYPE_CHECKING:
    from prompt_repo.repo import PromptRepo

__all__ = ["LABELS_FILE", "PRODUCTION", "LabelEntry", "LabelMove", "Labels", "check_label_name",
           "is_label_name"]

LABELS_FILE = ".promptloop-labels.toml"
PRODUCTION = "production"
FORCED_TRAILER = "Promptloop-Forced"
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")
_VERSION_LIKE = re.compile(r"v\d+|[0-9a-f]{4,40}")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_LOG_FORMAT = "%H%x1f%P%x1f%aI%x1f%an%x1f%B%x1e"
_HEADER = (
    "# Prompt labels: the version (commit sha) of each agent that a label names.\n"
    "# Moved by 'promptloop label set' and 'promptloop promote', one commit per move.\n"
)

Table = dict[str, dict[str, str]]


@dataclass(frozen=True)
class LabelEntry:
    """A label of an agent and the version it names; ``implicit``: an unset production,
    which names the newest version."""

    agent: str
    label: str
    sha: str
    version: str  # vN
    implicit: bool = False


@dataclass(frozen=True)
class LabelMove:
    """One change of one label: ``old`` -> ``new`` (None: unset), made by commit ``commit``."""

    agent: str
    label: str
    old: str | None
    new: str | None
    commit: str
    author: str
    date: datetime
    reason: str
    forced: bool


def is_label_name(name: str) -> bool:
    """Whether ``name`` is shaped like a label (it may still name no label)."""
    return bool(_NAME.fullmatch(name)) and not _VERSION_LIKE.fullmatch(name)


def check_label_name(label: str) -> str:
    """``label`` if it is a valid name: lowercase letters, digits, '-' and '_', not a version."""
    if not is_label_name(label):
        raise PromptRepoError(
            f"invalid label name {label!r}: use lowercase letters, digits, '-' and '_',"
            " starting with a letter, and not vN or a hex sha"
        )
    return label


class Labels:
    """The labels of one :class:`~prompt_repo.repo.PromptRepo`'s workspace."""

    def __init__(self, repo: PromptRepo) -> None:
        self.repo = repo
        root = repo.workspace.root.resolve()
        self.path = repo.top_relative(root / LABELS_FILE)

    # -- reading -------------------------------------------------------------------------

    def table(self, commit: str | None = None) -> Table:
        """Every agent's labels as committed at ``commit`` (default HEAD)."""
        return self._table_at(commit or self.repo.head_sha())

    def get(self, agent: str, label: str) -> str | None:
        """The version sha ``label`` names for ``agent``, None when unset."""
        return self.table().get(agent, {}).get(label)

    def resolve(self, agent: str, label: str) -> str | None:
        """The sha to read for ``agent`` under ``label``; None: unset production (newest)."""
        self.repo.require_agent(agent)  # UnknownAgent first
        sha = self.get(agent, check_label_name(label))
        if sha is None and label != PRODUCTION:
            raise UnknownRevision(f"{agent} has no label {label!r} (see: promptloop label list)")
        return sha

    def entries(self, agents: list[str] | None = None) -> list[LabelEntry]:
        """The labels of ``agents`` (default: every configured agent), ``production`` first,
        with their version names; an unset production shows as the newest (implicit)."""
        table = self.table()
        rows = []
        for agent in agents if agents is not None else self.repo.agents():
            names = {v.sha: v.name for v in self.repo.log(agent)}
            labels = dict(table.get(agent, {}))
            if PRODUCTION not in labels and names:
                newest = self.repo.read(agent).sha
                rows.append(LabelEntry(agent, PRODUCTION, newest, names[newest], True))
            for label in sorted(labels, key=lambda name: (name != PRODUCTION, name)):
                sha = labels[label]
                rows.append(LabelEntry(agent, label, sha, names.get(sha, sha[:7])))
        return rows

    def for_team(self, agents: list[str], label: str) -> dict[str, str]:
        """Agent -> the label it runs under when a team runs ``label``: ``label`` where the
        agent has it, else ``production``. UnknownRevision when no agent has it."""
        table = self.table()
        has = {agent: check_label_name(label) in table.get(agent, {}) for agent in agents}
        if label != PRODUCTION and not any(has.values()):
            raise UnknownRevision(f"no agent of the team has a label {label!r}"
                                  " (see: promptloop label list)")
        return {agent: label if has[agent] else PRODUCTION for agent in agents}

    def log(self, agent: str, label: str) -> list[LabelMove]:
        """The moves of ``agent``'s ``label``, newest first, from the file's git history."""
        check_label_name(label)
        out = git(self.repo.git_repo, "log", f"--format={_LOG_FORMAT}", "HEAD", "--", self.path)
        moves = []
        for record in (r.strip("\n") for r in out.split("\x1e")):
            if not record:
                continue
            sha, parents, date, author, body = record.split("\x1f", 4)
            parent = parents.split()[0] if parents.strip() else None
            old = self._table_at(parent).get(agent, {}).get(label) if parent else None
            new = self._table_at(sha).get(agent, {}).get(label)
            if old != new:
                reason, forced = _reason(body)
                moves.append(LabelMove(agent, label, old, new, sha, author,
                                       datetime.fromisoformat(date), reason, forced))
        return moves

    # -- writing -------------------------------------------------------------------------

    def set(self, agent: str, label: str, rev: str, *, reason: str | None = None,
            forced: bool = False) -> LabelMove:
        """Point ``label`` at the version named by ``rev`` (vN, sha, revision, a label)."""
        check_label_name(label)

        def change(table: Table) -> Table:
            target = self.repo.read(agent, rev).sha
            if table.get(agent, {}).get(label) == target:
                raise NoChange(f"{agent}'s {label} already names {target[:7]}")
            entry = dict(table.get(agent, {}))
            if label != PRODUCTION and PRODUCTION not in entry:
                entry[PRODUCTION] = self.repo.read(agent).sha
            entry[label] = target
            return {**table, agent: entry}

        return self._commit(agent, label, change, reason, forced)

    def remove(self, agent: str, label: str, *, reason: str | None = None) -> LabelMove:
        """Unset ``label`` (an unset ``production`` follows the newest version again)."""
        check_label_name(label)

        def change(table: Table) -> Table:
            entry = dict(table.get(agent, {}))
            if entry.pop(label, None) is None:
                raise NoChange(f"{agent} has no label {label!r}; nothing to remove")
            rest = {name: labels for name, labels in table.items() if name != agent}
            return {**rest, agent: entry} if entry else rest

        return self._commit(agent, label, change, reason, False)

    def pin_production(self, agent: str, *, reason: str | None = None) -> LabelMove | None:
        """Pin an unset ``production`` at the agent's newest version; None if already set."""

        def change(table: Table) -> Table:
            if PRODUCTION in table.get(agent, {}):
                raise NoChange(f"{agent}'s {PRODUCTION} is already pinned")
            entry = {**table.get(agent, {}), PRODUCTION: self.repo.read(agent).sha}
            return {**table, agent: entry}

        try:
            return self._commit(agent, PRODUCTION, change,
                                reason or "pinned before a candidate is committed", False)
        except NoChange:
            return None

    def commit_as(self, agent: str, label: str, commit: Callable[[], str], *,
                  reason: str | None = None) -> str:
        """Make a prompt commit (``commit()`` returns its sha) that goes to ``label`` instead
        of production: production is pinned first (if unset), then ``label`` is pointed at
        the new version. Three commits at most, each touching one file."""
        check_label_name(label)
        if label == PRODUCTION:
            raise PromptRepoError("commit_as moves a label other than production")
        self.pin_production(agent)
        sha = commit()
        self.set(agent, label, sha, reason=reason)
        return sha

    # -- internals -----------------------------------------------------------------------

    def _commit(self, agent: str, label: str, change: Callable[[Table], Table],
                reason: str | None, forced: bool) -> LabelMove:
        self.repo.require_agent(agent)
        moved: dict[str, str | None] = {}

        def write(head: str) -> tuple[bytes, str]:  # under the repository's lock
            table = self._table_at(head)
            new_table = change(table)
            moved["old"] = table.get(agent, {}).get(label)
            moved["new"] = new_table.get(agent, {}).get(label)
            message = format_message(_message(agent, label, moved["old"], moved["new"], reason),
                                     {FORCED_TRAILER: "true"} if forced else None)
            return render(new_table).encode("utf-8"), message

        commit = self.repo.commit_file(self.path, write)
        old, new = moved["old"], moved["new"]
        made = self.repo.git_repo.commit(commit)
        return LabelMove(agent, label, old, new, commit, str(made.author.name),
                         made.authored_datetime, (reason or "").strip(), forced)

    def _table_at(self, commit: str) -> Table:
        found = blob_at(self.repo.git_repo, commit, self.path)
        return parse(found[1].decode("utf-8"), self.path) if found else {}


def parse(text: str, where: str = LABELS_FILE) -> Table:
    """The labels file's text -> {agent: {label: sha}}; ConfigError when malformed."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    table: Table = {}
    for agent, labels in raw.items():
        if not isinstance(labels, dict) or not all(
            isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{40}", sha) for sha in labels.values()
        ):
            raise ConfigError(f"{where}: [{agent}] must map label names to full commit shas")
        table[agent] = dict(labels)
    return table


def render(table: Table) -> str:
    """The file's text for ``table``, agents and labels sorted (stable diffs)."""
    parts = [_HEADER]
    for agent in sorted(table):
        lines = [f"[{_key(agent)}]"]
        lines += [f'{_key(label)} = "{sha}"' for label, sha in sorted(table[agent].items())]
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


def _key(name: str) -> str:
    return name if _BARE_KEY.fullmatch(name) else json.dumps(name)


def _message(agent: str, label: str, old: str | None, new: str | None,
             reason: str | None) -> str:
    before, after = (sha[:7] if sha else "unset" for sha in (old, new))
    subject = f"label({agent}): {label} {before} -> {after}"
    return subject + (f"\n\n{reason.strip()}" if reason and reason.strip() else "")


def _reason(body: str) -> tuple[str, bool]:
    """(the commit body without subject and trailers, whether it carries the forced trailer)."""
    paragraphs = body.strip().split("\n\n")
    forced = any(line.startswith(f"{FORCED_TRAILER}:") for line in paragraphs[-1].splitlines())
    middle = paragraphs[1:-1] if forced else paragraphs[1:]
    return "\n\n".join(middle).strip(), forced
