"""The workspace: a git repository with ``promptloop.toml`` at its root.

Every setting resolves in one place, :func:`resolve`, in this order:
command-line flag, environment variable, ``promptloop.toml``, built-in default (the field
defaults of :class:`LLMSettings` and :class:`AgentConfig`).

A minimal ``promptloop.toml``::

    [promptloop]
    database_url = "sqlite:///.promptloop/tracker.db"   # relative paths: from the root

    [llm]
    model = "gpt-4o-mini"          # OPENAI_API_KEY / OPENAI_BASE_URL from the environment

    [agents.MarketAnalyst]
    prompt = "prompts/MarketAnalyst.md"
    model = "gpt-4o-mini"
    temperature = 0.2

The ``[promptloop]``, ``[llm]`` and ``[agents.NAME]`` tables are described by the pydantic
models below and checked once, at load, so a bad setting never reaches the network: unknown
keys are refused (a typo names the known keys), types are strict (``true`` is not 1, ``2.9``
is not 2) and ranges are stated. Each refusal is one :class:`ConfigError` line naming the
table, the key, the value and what is allowed, e.g.
``[llm] timeout = 0 in promptloop.toml: expected seconds, more than 0 and at most 3600``.
``OPENAI_BASE_URL`` is held to the same rule as ``[llm] base_url``. ``prompts_dir`` is the
folder where ``promptloop agents add`` creates a new agent's prompt file; each configured
agent names its own file.

The tables other packages read (``[optimize]``, ``[lint]``, ``[analysis]``, ``[team]``,
``[release]``, ``[shadow]``) are models of the same kind in :mod:`prompt_repo.settings`,
checked by :func:`load_workspace` too and read as typed attributes (``workspace.optimize``);
docs/settings.md lists every key. The file as parsed stays in :attr:`Workspace.raw`.
"""

from __future__ import annotations

import difflib
import json
import os
import tomllib
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticError

from prompt_repo.errors import ConfigError, PathEscapesWorkspace, UnknownAgent, WorkspaceNotFound

if TYPE_CHECKING:
    from prompt_repo.settings import (
        AnalysisTable,
        LintTable,
        OptimizeTable,
        ReleaseTable,
        TeamTable,
    )

CONFIG_NAME = "promptloop.toml"
STATE_DIR = ".promptloop"
DEFAULT_DATABASE_URL = f"sqlite:///{STATE_DIR}/tracker.db"
DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_PROMPTS_DIR = "prompts"


@dataclass(frozen=True)
class AgentConfig:
    name: str
    prompt: str  # path of the prompt file, relative to the workspace root
    model: str | None = None
    temperature: float = 0.2


@dataclass(frozen=True)
class LLMSettings:
    model: str = DEFAULT_MODEL
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)  # never printed
    max_calls: int = 300  # a default optimize run: 3 critic calls + 2 x ~100 replays + retries
    max_tokens: int = 1_000_000
    timeout: float = 60.0
    connect_timeout: float = 10.0
    deadline: float = 120.0
    cache_max_mb: float = 200.0

    @property
    def configured(self) -> bool:
        """True when an endpoint can be called: a key, or a local base_url that needs none."""
        return bool(self.api_key or self.base_url)


@dataclass(frozen=True)
class Workspace:
    root: Path
    database_url: str
    llm: LLMSettings
    agents: dict[str, AgentConfig]
    raw: dict[str, Any]
    prompts_dir: str = DEFAULT_PROMPTS_DIR  # where `agents add` creates prompt files

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    def prompt_path(self, agent: str) -> Path:
        """The absolute path of ``agent``'s prompt file, refused if it leaves the workspace.

        Symlinks are followed before the check, and nothing under ``.git`` is a prompt.
        """
        if agent not in self.agents:
            known = ", ".join(self.agents) or "none"
            raise UnknownAgent(f"unknown agent {agent!r} (configured: {known})")
        configured = self.agents[agent].prompt
        root = self.root.resolve()
        path = (root / configured).resolve()
        if path == root or not path.is_relative_to(root) or ".git" in path.relative_to(root).parts:
            raise PathEscapesWorkspace(
                f"[agents.{agent}] prompt = {configured!r} points outside the workspace {root}"
            )
        return path

    # The typed tables: parsed from ``raw`` on first use (load_workspace reads each once, so a
    # bad file fails at load); a Workspace built or replaced with another ``raw`` follows it.
    @cached_property
    def optimize(self) -> OptimizeTable:
        return self._settings_table("optimize")  # type: ignore[return-value]

    @cached_property
    def lint(self) -> LintTable:
        return self._settings_table("lint")  # type: ignore[return-value]

    @cached_property
    def analysis(self) -> AnalysisTable:
        return self._settings_table("analysis")  # type: ignore[return-value]

    @cached_property
    def team(self) -> TeamTable:
        return self._settings_table("team")  # type: ignore[return-value]

    @cached_property
    def release(self) -> ReleaseTable:
        return self._settings_table("release")  # type: ignore[return-value]

    @cached_property
    def shadow(self) -> dict[str, str]:
        """``[shadow]``: agent -> the label its shadow runs (membership checked by agents)."""
        table = _table(self.raw, "shadow")
        for agent, label in table.items():
            if not isinstance(label, str) or not label:
                raise ConfigError(f"[shadow] {agent} = {_toml(label)} in {CONFIG_NAME}: "
                                  "expected a label name in quotes, such as \"candidate\"")
        return dict(table)

    def check_settings(self) -> None:
        """Parse every table now, so a bad one is refused at load."""
        from prompt_repo.settings import SETTINGS_TABLES

        for name in (*SETTINGS_TABLES, "shadow"):
            getattr(self, name)

    def _settings_table(self, name: str) -> SettingsTable:
        from prompt_repo.settings import SETTINGS_TABLES

        return _validated(SETTINGS_TABLES[name], _table(self.raw, name), name)

    def section(self, name: str) -> dict[str, Any]:
        """A top-level table of promptloop.toml, empty when absent."""
        value = self.raw.get(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f"[{name}] in {CONFIG_NAME} must be a table")
        return value


def resolve(flag: Any, env: str | None, toml_value: Any, default: Any) -> Any:
    """The one order of precedence: flag, environment, promptloop.toml, default."""
    if flag is not None:
        return flag
    if env and os.environ.get(env):
        return os.environ[env]
    if toml_value is not None:
        return toml_value
    return default


def find_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: $PROMPTLOOP_WORKSPACE or cwd)
    holding promptloop.toml."""
    here = Path(start or os.environ.get("PROMPTLOOP_WORKSPACE") or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise WorkspaceNotFound(
        f"no {CONFIG_NAME} in {here} or its parents; run 'promptloop init' first"
    )


def load_workspace(
    start: Path | None = None, *, database_url: str | None = None, model: str | None = None
) -> Workspace:
    """Read promptloop.toml above ``start``; flags given here override everything else."""
    root = find_root(start)
    raw = _read_toml(root / CONFIG_NAME)
    main = _validated(MainTable, _table(raw, "promptloop"), "promptloop")
    workspace = Workspace(
        root=root,
        prompts_dir=main.prompts_dir,
        database_url=absolute_database_url(
            resolve(database_url, "PROMPTLOOP_DATABASE_URL", main.database_url,
                    DEFAULT_DATABASE_URL),
            root,
        ),
        llm=_llm_settings(_table(raw, "llm"), model),
        agents=_agents(_table(raw, "agents")),
        raw=raw,
    )
    workspace.check_settings()
    return workspace


def absolute_database_url(url: str, root: Path) -> str:
    """Make a relative SQLite path absolute against the workspace root."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + str(root / url[len(prefix):])
    return url


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def _table(raw: dict[str, Any], name: str) -> dict[str, Any]:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] in {CONFIG_NAME} must be a table")
    return value


def _llm_settings(table: dict[str, Any], model: str | None) -> LLMSettings:
    parsed = _validated(LLMTable, table, "llm")
    values: dict[str, Any] = {
        **parsed.model_dump(exclude_none=True),
        "model": resolve(model, "PROMPTLOOP_MODEL", parsed.model, None),
        "base_url": resolve(None, "OPENAI_BASE_URL", parsed.base_url, None) or None,
        "api_key": resolve(None, "OPENAI_API_KEY", parsed.api_key, None) or None,
    }
    if values["base_url"] is not None and values["base_url"] != parsed.base_url:
        _check_url(values["base_url"], "OPENAI_BASE_URL")
    given = {key: value for key, value in values.items() if value is not None}
    return LLMSettings(**_known_fields(LLMSettings, given))


def _agents(table: dict[str, Any]) -> dict[str, AgentConfig]:
    agents = {}
    for name, spec in table.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("prompt"), str):
            raise ConfigError(f"[agents.{name}] in {CONFIG_NAME} needs prompt = \"path\"")
        parsed = _validated(AgentTable, spec, f"agents.{name}")
        values = {"name": name, **parsed.model_dump(exclude_none=True)}
        agents[name] = AgentConfig(**_known_fields(AgentConfig, values))
    return agents


def _known_fields(cls: type, values: dict[str, Any]) -> dict[str, Any]:
    """The values ``cls`` has fields for: a key the dataclass does not know (yet) is
    accepted in the file and left out; an absent one takes the dataclass default."""
    names = {item.name for item in fields(cls)}
    return {key: value for key, value in values.items() if key in names}


# --- the tables as models -----------------------------------------------------------------
# Each field's description says what is allowed; it is the second half of the error line.


class SettingsTable(BaseModel):
    """A table of promptloop.toml: unknown keys refused, strict types, frozen."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class MainTable(SettingsTable):
    """``[promptloop]``."""

    database_url: str | None = Field(
        None, min_length=1, description="a database URL such as \"sqlite:///.promptloop/"
        "tracker.db\" or \"postgresql://user@host/promptloop\"")
    prompts_dir: str = Field(
        DEFAULT_PROMPTS_DIR, min_length=1,
        description="a folder, relative to the workspace root, for new agents' prompts")


class LLMTable(SettingsTable):
    """``[llm]``; absent keys take the defaults of :class:`LLMSettings`."""

    model: str | None = Field(None, min_length=1, description="a model name")
    base_url: str | None = Field(None, description="an http:// or https:// URL, such as "
                                 "\"http://127.0.0.1:8080/v1\"")
    api_key: str | None = Field(None, description="a string (better: OPENAI_API_KEY)")
    max_calls: int | None = Field(None, ge=1, le=1_000_000,
                                  description="a whole number of calls from 1 to 1000000")
    max_tokens: int | None = Field(None, ge=1, le=10**9,
                                   description="a whole number of tokens from 1 to 1000000000")
    timeout: float | None = Field(None, gt=0, le=3600,
                                  description="seconds, more than 0 and at most 3600")
    connect_timeout: float | None = Field(None, gt=0, le=3600,
                                          description="seconds, more than 0 and at most 3600 "
                                          "(default 10)")
    deadline: float | None = Field(None, gt=0, le=86_400,
                                   description="seconds, more than 0 and at most 86400 "
                                   "(default 120)")
    cache_max_mb: float | None = Field(None, ge=0, le=1_000_000,
                                       description="megabytes, from 0 to 1000000 (default 200)")

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not _is_url(value):
            raise ValueError("not an http(s) URL")
        return value


class AgentTable(SettingsTable):
    """``[agents.NAME]``; absent keys take the defaults of :class:`AgentConfig`."""

    prompt: str = Field(min_length=1, description="the prompt file's path from the "
                        "workspace root, such as \"prompts/MarketAnalyst.md\"")
    model: str | None = Field(None, min_length=1, description="a model name")
    temperature: float | None = Field(None, ge=0, le=2,
                                      description="a number from 0 to 2")


AnyTable = TypeVar("AnyTable", bound=SettingsTable)


def _validated(model: type[AnyTable], table: dict[str, Any], name: str) -> AnyTable:
    try:
        return model.model_validate(table)
    except PydanticError as exc:
        raise ConfigError(_message(model, exc, name)) from None


def _message(model: type[SettingsTable], exc: PydanticError, table: str) -> str:
    """One line for the first problem: table, key, value and what is allowed."""
    error = exc.errors()[0]
    key = str(error["loc"][0]) if error["loc"] else ""
    known = list(model.model_fields)
    if error["type"] == "extra_forbidden":
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        return (f"[{table}] {key} in {CONFIG_NAME}: unknown key; {hint}"
                f"known keys: {', '.join(known)}")
    if error["type"] == "missing":
        return f"[{table}] in {CONFIG_NAME} needs {key}"
    allowed = model.model_fields[key].description
    return f"[{table}] {key} = {_toml(error['input'])} in {CONFIG_NAME}: expected {allowed}"


def _toml(value: Any) -> str:
    """A value as it was written in TOML (true, "text", 1e+308), cut when long."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    text = json.dumps(value) if isinstance(value, str | list) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
        return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in value
    except ValueError:  # a malformed port or IPv6 literal
        return False


def _check_url(value: str, variable: str) -> None:
    if not _is_url(value):
        raise ConfigError(f"{variable} = {_toml(value)}: expected "
                          f"{LLMTable.model_fields['base_url'].description}")
