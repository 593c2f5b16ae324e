"""Workspace configuration: discovery, precedence, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from prompt_repo.config import load_workspace, resolve
from prompt_repo.errors import ConfigError, WorkspaceNotFound

CONFIG = """
[promptloop]
database_url = "sqlite:///state/t.db"

[llm]
model = "toml-model"

[agents.MarketAnalyst]
prompt = "prompts/MarketAnalyst.md"
temperature = 0.1
"""


def write(root: Path, text: str = CONFIG) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "promptloop.toml").write_text(text)
    return root


def test_resolve_order() -> None:
    assert resolve("flag", "PL_TEST_X", "toml", "default") == "flag"
    assert resolve(None, None, "toml", "default") == "toml"
    assert resolve(None, None, None, "default") == "default"


def test_environment_beats_toml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PL_TEST_X", "env")
    assert resolve(None, "PL_TEST_X", "toml", "default") == "env"


def test_found_from_a_subfolder_with_relative_sqlite_made_absolute(tmp_path: Path) -> None:
    root = write(tmp_path / "ws")
    (root / "deep" / "er").mkdir(parents=True)
    ws = load_workspace(root / "deep" / "er")
    assert ws.root == root.resolve()
    assert ws.database_url == f"sqlite:///{root.resolve()}/state/t.db"
    assert ws.agents["MarketAnalyst"].temperature == 0.1
    assert ws.llm.model == "toml-model"


def test_flags_and_environment_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write(tmp_path / "ws")
    monkeypatch.setenv("PROMPTLOOP_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    ws = load_workspace(root, model="flag-model")
    assert ws.database_url == "postgresql+psycopg://u@h/db"
    assert ws.llm.model == "flag-model"
    assert ws.llm.configured and "sk-test" not in repr(ws.llm)


def test_missing_workspace(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceNotFound, match="run 'promptloop init' first"):
        load_workspace(tmp_path)


@pytest.mark.parametrize(
    "text, message",
    [
        ("[promptloop\n", "promptloop.toml"),
        ("[agents.X]\nmodel = 'm'\n", r"\[agents.X\] .* needs prompt"),
        ("[agents.X]\nprompt = 'p.md'\ntemperature = 'hot'\n", r"\[agents.X\]"),
        ("llm = 3\n", r"\[llm\] .* must be a table"),
    ],
)
def test_bad_config_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_workspace(write(tmp_path / "ws", text))
