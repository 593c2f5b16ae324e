"""The workspace: a git repository with ``promptloop.toml`` at its root.

Every setting resolves in one place, :func:`resolve`, in this order:
command-line flag, environment variable, ``promptloop.toml``, built-in default.

A minimal ``promptloop.toml``::

    [promptloop]
    prompts_dir = "prompts"
    database_url = "sqlite:///.promptloop/tracker.db"   # relative paths: from the root

    [llm]
    model = "gpt-4o-mini"          # OPENAI_API_KEY / OPENAI_BASE_URL from the environment

    [agents.MarketAnalyst]
    prompt = "prompts/MarketAnalyst.md"
    model = "gpt-4o-mini"
    temperature = 0.2

Other tables (``[lint]``, ``[team]``, ``[analysis]``...) belong to the parts that read them;
they are kept in :attr:`Workspace.raw`.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prompt_repo.errors import ConfigError, PathEscapesWorkspace, UnknownAgent, WorkspaceNotFound

CONFIG_NAME = "promptloop.toml"
STATE_DIR = ".promptloop"
DEFAULT_DATABASE_URL = f"sqlite:///{STATE_DIR}/tracker.db"
DEFAULT_MODEL = "gpt-4o-mini"


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

    @property
    def configured(self) -> bool:
        """True when an endpoint can be called: a key, or a local base_url that needs none."""
        return bool(self.api_key or self.base_url)


@dataclass(frozen=True)
class Workspace:
    root: Path
    prompts_dir: str
    database_url: str
    llm: LLMSettings
    agents: dict[str, AgentConfig]
    raw: dict[str, Any]

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
    main = _table(raw, "promptloop")
    return Workspace(
        root=root,
        prompts_dir=str(main.get("prompts_dir", "prompts")),
        database_url=absolute_database_url(
            resolve(database_url, "PROMPTLOOP_DATABASE_URL", main.get("database_url"),
                    DEFAULT_DATABASE_URL),
            root,
        ),
        llm=_llm_settings(_table(raw, "llm"), model),
        agents=_agents(_table(raw, "agents")),
        raw=raw,
    )


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
    try:
        return LLMSettings(
            model=resolve(model, "PROMPTLOOP_MODEL", table.get("model"), DEFAULT_MODEL),
            base_url=resolve(None, "OPENAI_BASE_URL", table.get("base_url"), None) or None,
            api_key=resolve(None, "OPENAI_API_KEY", table.get("api_key"), None) or None,
            max_calls=int(table.get("max_calls", LLMSettings.max_calls)),
            max_tokens=int(table.get("max_tokens", LLMSettings.max_tokens)),
            timeout=float(table.get("timeout", 60.0)),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"[llm] in {CONFIG_NAME}: {exc}") from exc


def _agents(table: dict[str, Any]) -> dict[str, AgentConfig]:
    agents = {}
    for name, spec in table.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("prompt"), str):
            raise ConfigError(f"[agents.{name}] in {CONFIG_NAME} needs prompt = \"path\"")
        try:
            agents[name] = AgentConfig(
                name=name,
                prompt=spec["prompt"],
                model=spec.get("model"),
                temperature=float(spec.get("temperature", 0.2)),
            )
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"[agents.{name}] in {CONFIG_NAME}: {exc}") from exc
    return agents
