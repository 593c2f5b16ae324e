"""``promptloop agents add`` / ``agents remove``: change the team without hand-editing TOML.

:func:`add_agent` writes an ``[agents.NAME]`` table into ``promptloop.toml``, puts NAME into
``[team] order``, creates the prompt file (the caller's text, or :func:`prompt_template`) and
makes ONE commit holding both files. :func:`remove_agent` removes the table and NAME from
``[team] order`` and deletes the prompt file in one commit; the prompt's history stays in git
(``git log -- prompts/NAME.md``, ``git show <commit>^:prompts/NAME.md``).

The settings file keeps every comment and its layout: ``[team] order`` and the removal go
through tomlkit, which round-trips; the new table is appended at the end of the file as text
(tomlkit would put it right after the first ``[agents.X]`` table, which changes the file
order of the agents). Either way the result is parsed again and must equal the intended
settings exactly, else nothing is written.

Team order: after ``add``, ``[team] order`` is always explicit. The new agent goes at
``team_position`` (1-based), by default just before the last member, so that the decider
(the last member unless ``[team] decider`` says otherwise) keeps deciding and sees the new
agent's answer.

Refusals change nothing: an invalid or existing name, a prompt path outside the workspace
(or in ``.git``) or already taken, a ``promptloop.toml`` that is not committed or has
uncommitted edits, a detached HEAD, removing the ``[team] decider`` or ``risk_agent``, or a
prompt file with uncommitted edits. Writes take the repository lock and publish with an
atomic compare-and-swap of HEAD, like :meth:`prompt_repo.PromptRepo.apply`: built from
HEAD's own ``promptloop.toml``, a commit made meanwhile is never overwritten.
"""

from __future__ import annotations

import copy
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from git import InvalidGitRepositoryError, NoSuchPathError, Repo

from prompt_repo.config import CONFIG_NAME, Workspace
from prompt_repo.errors import (
    ConfigError,
    DetachedHead,
    DirtyPromptFile,
    PathEscapesWorkspace,
    PromptRepoError,
    StaleBase,
    UnknownAgent,
)
from prompt_repo.lock import DEFAULT_TIMEOUT, RepoLock
from prompt_repo.plumbing import (
    Journal,
    blob_at,
    build_commit,
    format_message,
    git,
    update_ref,
    write_worktree,
)

__all__ = ["AgentChange", "NAME_PATTERN", "add_agent", "prompt_template", "remove_agent"]

NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
MAX_TEMPERATURE = 2.0


@dataclass(frozen=True)
class AgentChange:
    """What add or remove did: the agent, its prompt file, the commit, the new team order."""

    agent: str
    path: str  # relative to the workspace root
    commit: str
    team: list[str]


def prompt_template(name: str) -> str:
    """The prompt a new agent starts from (``prompt_repo/new_agent.md``): its role
    to fill in, and the JSON answer the runtime parses (:class:`agents.roles.AgentAnswer`)."""
    template = resources.files("prompt_repo") / "new_agent.md"
    return template.read_text(encoding="utf-8").replace("{name}", name)


def add_agent(
    workspace: Workspace,
    name: str,
    *,
    prompt_text: str | None = None,
    path: str | None = None,
    model: str | None = None,
    temperature: float | None = None,
    team_position: int | None = None,
    lock_timeout: float = DEFAULT_TIMEOUT,
) -> AgentChange:
    """Add agent ``name`` with one commit; see the module docstring for what is refused."""
    _check_name(name)
    if name in workspace.agents:
        raise ConfigError(f"an agent named {name!r} already exists in {CONFIG_NAME}")
    _check_settings(model, temperature)
    text = prompt_template(name) if prompt_text is None else prompt_text
    if not text.strip():
        raise ConfigError("the prompt text is empty; give a file with the agent's prompt")
    relative = path or f"{workspace.prompts_dir}/{name}.md"
    with _Editor(workspace, lock_timeout) as editor:
        prompt = editor.inside(relative)
        config, settings = editor.config()
        if name in settings.get("agents", {}):  # added by another process meanwhile
            raise ConfigError(f"an agent named {name!r} already exists in {CONFIG_NAME}")
        order = _team_order(settings)
        position = _position(team_position, order)
        editor.refuse_existing(prompt)
        new_order = [*order[: position], name, *order[position:]]
        new_text = _with_agent(config, settings, name, _table(relative, model, temperature),
                               new_order)
        subject = f"add-agent({name}): {Path(relative).as_posix()}"
        commit = editor.commit({CONFIG_NAME: new_text.encode(), prompt: text.encode()}, [],
                               subject)
    return AgentChange(name, Path(relative).as_posix(), commit, new_order)


def remove_agent(
    workspace: Workspace, name: str, *, lock_timeout: float = DEFAULT_TIMEOUT
) -> AgentChange:
    """Remove agent ``name`` and delete its prompt file, with one commit."""
    if name not in workspace.agents:
        known = ", ".join(workspace.agents) or "none"
        raise UnknownAgent(f"unknown agent {name!r} (configured: {known})")
    relative = workspace.agents[name].prompt
    with _Editor(workspace, lock_timeout) as editor:
        prompt = editor.inside(relative)
        config, settings = editor.config()
        if name not in settings.get("agents", {}):  # HEAD's file differs from the loaded one
            raise StaleBase(f"{CONFIG_NAME} changed meanwhile; run the command again")
        _refuse_team_role(settings, name)
        editor.refuse_dirty(prompt)
        new_text, new_order = _without_agent(config, settings, name)
        deleted = [prompt] if editor.committed(prompt) else []
        commit = editor.commit({CONFIG_NAME: new_text.encode()}, deleted,
                               f"remove-agent({name}): {relative}")
    return AgentChange(name, relative, commit, new_order)


# -- settings (pure) ---------------------------------------------------------------------


def _check_name(name: str) -> None:
    if not NAME_PATTERN.fullmatch(name):
        raise ConfigError(
            f"invalid agent name {name!r}: use a letter, then letters, digits, '_' or '-'"
            " (at most 64)"
        )


def _check_settings(model: str | None, temperature: float | None) -> None:
    if model is not None and not model.strip():
        raise ConfigError("--model is empty; give a model name or leave it out")
    if temperature is not None and not 0.0 <= temperature <= MAX_TEMPERATURE:
        raise ConfigError(f"temperature {temperature:g} is outside 0..{MAX_TEMPERATURE:g}")


def _table(prompt: str, model: str | None, temperature: float | None) -> dict[str, Any]:
    table: dict[str, Any] = {"prompt": Path(prompt).as_posix()}
    if model is not None:
        table["model"] = model.strip()
    if temperature is not None:
        table["temperature"] = float(temperature)
    return table


def _explicit_order(settings: dict[str, Any]) -> list[str]:
    """``[team] order`` as written (empty when absent); refused when malformed."""
    team = settings.get("team", {})
    if not isinstance(team, dict):
        raise ConfigError(f"[team] in {CONFIG_NAME} must be a table")
    order = team.get("order") or []
    if not isinstance(order, list) or not all(isinstance(m, str) for m in order):
        raise ConfigError(f"[team] order in {CONFIG_NAME} must be a list of agent names")
    return order


def _team_order(settings: dict[str, Any]) -> list[str]:
    """The team as the session sees it: ``[team] order``, else every agent in file order."""
    return list(_explicit_order(settings) or settings.get("agents", {}))


def _position(team_position: int | None, order: list[str]) -> int:
    """0-based index for the new member; default: before the last member."""
    if team_position is None:
        return max(len(order) - 1, 0)
    if not 1 <= team_position <= len(order) + 1:
        raise ConfigError(
            f"--team-position {team_position} is outside 1..{len(order) + 1}"
            f" (the team has {len(order)} members)"
        )
    return team_position - 1


def _refuse_team_role(settings: dict[str, Any], name: str) -> None:
    team = settings.get("team", {})
    for role in ("decider", "risk_agent"):
        if isinstance(team, dict) and team.get(role) == name:
            raise ConfigError(
                f"{name} is [team] {role} in {CONFIG_NAME}; name another {role} first"
            )


def _with_agent(
    text: str, settings: dict[str, Any], name: str, table: dict[str, Any], order: list[str]
) -> str:
    import tomlkit

    if not isinstance(settings.get("agents", {}), dict):
        raise ConfigError(f"[agents] in {CONFIG_NAME} must be a table")
    doc = tomlkit.parse(text)
    _set_order(doc, order)
    body = tomlkit.dumps(doc)
    block = tomlkit.dumps({"agents": {name: table}}).strip()
    block = block[block.index(f"[agents.{name}]"):]  # tomlkit may emit a bare [agents] first
    new_text = body.rstrip("\n") + "\n\n" + block + "\n"
    expected = copy.deepcopy(settings)
    expected.setdefault("agents", {})[name] = table
    expected.setdefault("team", {})["order"] = order
    _verify(new_text, expected)
    return new_text


def _without_agent(text: str, settings: dict[str, Any], name: str) -> tuple[str, list[str]]:
    import tomlkit

    doc = tomlkit.parse(text)
    del doc["agents"][name]
    expected = copy.deepcopy(settings)
    del expected["agents"][name]
    order = [member for member in _team_order(settings) if member != name]
    if name in _explicit_order(settings):
        expected["team"]["order"] = order
        _set_order(doc, order)
    new_text = tomlkit.dumps(doc)
    _verify(new_text, expected)
    return new_text, order


def _set_order(doc: Any, order: list[str]) -> None:
    """Make ``[team] order`` equal ``order``, editing the existing array in place (its
    layout and comments stay) or adding it."""
    import tomlkit

    if "team" not in doc:
        doc.add(tomlkit.nl())
        doc.add("team", tomlkit.table())
    team = doc["team"]
    current = team.get("order")
    if current is None:
        team["order"] = order
        return
    for member in [m for m in current if m not in order]:
        current.remove(member)
    for index, member in enumerate(order):
        if index >= len(current) or current[index] != member:
            current.insert(index, member)


def _verify(new_text: str, expected: dict[str, Any]) -> None:
    try:
        parsed = tomllib.loads(new_text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"could not edit {CONFIG_NAME} safely ({exc}); nothing written") from exc
    if parsed != expected:
        raise ConfigError(f"could not edit {CONFIG_NAME} safely; nothing written")


# -- git ---------------------------------------------------------------------------------


class _Editor:
    """The repository, locked, for one settings change: checks, then one commit."""

    def __init__(self, workspace: Workspace, lock_timeout: float) -> None:
        self.workspace = workspace
        try:
            self.repo = Repo(workspace.root, search_parent_directories=True)
        except (InvalidGitRepositoryError, NoSuchPathError):
            raise PromptRepoError(
                f"{workspace.root} is not in a git repository; run 'promptloop init' there"
            ) from None
        if self.repo.bare or self.repo.working_tree_dir is None:
            self.repo.close()
            raise PromptRepoError(f"{workspace.root} is in a bare git repository")
        self.top = Path(self.repo.working_tree_dir).resolve()
        self.root = workspace.root.resolve()
        self._lock = RepoLock(Path(self.repo.git_dir), lock_timeout)
        self._journal = Journal(Path(self.repo.git_dir))
        self.head = ""

    def __enter__(self) -> _Editor:
        try:
            self._lock.acquire()
            self._journal.recover(self.repo)
            if self.repo.head.is_detached:
                raise DetachedHead(
                    "HEAD is detached (not on a branch); check out a branch before committing"
                )
            if not self.repo.head.is_valid():
                raise PromptRepoError("the repository has no commits yet")
        except BaseException:
            self.__exit__()
            raise
        self.head = self.repo.head.commit.hexsha
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._lock.release()
        self.repo.close()

    def git_path(self, workspace_relative: str) -> str:
        return (self.root / workspace_relative).resolve().relative_to(self.top).as_posix()

    def inside(self, relative: str) -> str:
        """``relative`` (to the workspace) as a path from the top of the git tree, refused
        when it leaves the workspace or enters .git."""
        path = (self.root / relative).resolve()
        if path == self.root or not path.is_relative_to(self.root) or (
            ".git" in path.relative_to(self.root).parts
        ):
            raise PathEscapesWorkspace(f"prompt path {relative!r} points outside the "
                                       f"workspace {self.root}")
        return path.relative_to(self.top).as_posix()

    def config(self) -> tuple[str, dict[str, Any]]:
        """HEAD's promptloop.toml (text and settings), refused when the working file differs."""
        path = self.git_path(CONFIG_NAME)
        found = blob_at(self.repo, self.head, path)
        if found is None:
            raise ConfigError(f"{CONFIG_NAME} is not committed; commit it first "
                              f"(git add {path} && git commit)")
        if self._dirty(path):
            raise DirtyPromptFile(f"{path} has uncommitted changes; commit or discard them "
                                  f"first (git diff HEAD -- {path})")
        text = found[1].decode("utf-8")
        try:
            return text, tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from exc

    def refuse_existing(self, path: str) -> None:
        if (self.top / path).exists() or self.committed(path):
            raise ConfigError(f"{path} already exists; remove it or choose another --path")

    def refuse_dirty(self, path: str) -> None:
        if self._dirty(path):
            raise DirtyPromptFile(f"{path} has uncommitted changes; commit or discard them "
                                  f"first (git diff HEAD -- {path})")

    def committed(self, path: str) -> bool:
        return blob_at(self.repo, self.head, path) is not None

    def commit(self, files: dict[str, bytes], deleted: list[str], subject: str) -> str:
        """One commit from HEAD writing ``files`` (git paths, except CONFIG_NAME which is
        workspace-relative) and deleting ``deleted``; HEAD moves only if it did not move."""
        files = {(self.git_path(p) if p == CONFIG_NAME else p): data for p, data in files.items()}
        new = build_commit(self.repo, self.head, files, format_message(subject), deleted)
        ref = str(self.repo.head.ref.path)
        self._journal.begin(ref, self.head, new, files)
        try:
            update_ref(self.repo, "HEAD", new, self.head, f"promptloop: {subject}")
        except PromptRepoError:
            self._journal.end()
            raise StaleBase("the branch moved while committing; try again") from None
        write_worktree(self.repo, files)
        for path in deleted:
            (self.top / path).unlink(missing_ok=True)
            git(self.repo, "update-index", "--force-remove", "--", path)
        self._journal.end()
        return new

    def _dirty(self, path: str) -> bool:
        out = git(self.repo, "status", "--porcelain=v1", "--untracked-files=no", "--", path)
        return bool(out.strip())
