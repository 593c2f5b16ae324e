"""Workspace configuration: discovery, precedence, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from prompt_repo.config import AgentConfig, LLMSettings, load_workspace, resolve
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


AGENT = "[agents.X]\nprompt = 'p.md'\n"
KNOWN_LLM = ("model, base_url, api_key, max_calls, max_tokens, timeout, connect_timeout, "
             "deadline")


@pytest.mark.parametrize(
    "text, message",
    [
        ("[llm]\ntimeout = 0\n",
         "[llm] timeout = 0 in promptloop.toml: expected seconds, more than 0 and at most 3600"),
        ("[llm]\ntimeout = -5\n", "[llm] timeout = -5 in promptloop.toml: expected seconds"),
        ("[llm]\ntimeout = 1e308\n", "[llm] timeout = 1e+308 in promptloop.toml: expected"),
        ("[llm]\ntimeout = nan\n", "[llm] timeout = nan in promptloop.toml: expected"),
        ("[llm]\ntimeout = true\n", "[llm] timeout = true in promptloop.toml: expected seconds"),
        ("[llm]\ntimeout = '60'\n", '[llm] timeout = "60" in promptloop.toml: expected'),
        ("[llm]\nbase_url = 'not a url'\n",
         '[llm] base_url = "not a url" in promptloop.toml: expected an http:// or https:// URL, '
         'such as "http://127.0.0.1:8080/v1"'),
        ("[llm]\nbase_url = 'ftp://host/v1'\n", '[llm] base_url = "ftp://host/v1"'),
        ("[llm]\nbase_url = 'http://host:port/v1'\n", '[llm] base_url = "http://host:port/v1"'),
        ("[llm]\nmax_calls = -1\n",
         "[llm] max_calls = -1 in promptloop.toml: expected a whole number of calls from 1 to "
         "1000000"),
        ("[llm]\nmax_calls = true\n", "[llm] max_calls = true in promptloop.toml"),
        ("[llm]\nmax_calls = 2.9\n", "[llm] max_calls = 2.9 in promptloop.toml"),
        ("[llm]\nmax_tokens = 0\n", "[llm] max_tokens = 0 in promptloop.toml: expected a whole"),
        ("[llm]\nconnect_timeout = 0\n", "[llm] connect_timeout = 0 in promptloop.toml"),
        ("[llm]\ndeadline = -1.0\n", "[llm] deadline = -1.0 in promptloop.toml"),
        ("[llm]\nmodel = ''\n", '[llm] model = "" in promptloop.toml: expected a model name'),
        ("[llm]\nmax_call = 10\n",
         f"[llm] max_call in promptloop.toml: unknown key; did you mean max_calls? "
         f"known keys: {KNOWN_LLM}"),
        (AGENT + "temperature = 9\n",
         "[agents.X] temperature = 9 in promptloop.toml: expected a number from 0 to 2"),
        (AGENT + "temperature = -0.1\n", "[agents.X] temperature = -0.1 in promptloop.toml"),
        (AGENT + "temprature = 0.5\n",
         "[agents.X] temprature in promptloop.toml: unknown key; did you mean temperature? "
         "known keys: prompt, model, temperature"),
        (AGENT + "model = 4\n", "[agents.X] model = 4 in promptloop.toml: expected a model name"),
        ("[agents.X]\nprompt = ''\n", '[agents.X] prompt = "" in promptloop.toml: expected the'),
        ("[promptloop]\ndatabase = 'sqlite:///x.db'\n",
         "[promptloop] database in promptloop.toml: unknown key; did you mean database_url? "
         "known keys: database_url, prompts_dir"),
        ("[promptloop]\ndatabase_url = 5\n", "[promptloop] database_url = 5 in promptloop.toml"),
    ],
)
def test_bad_setting_is_one_line_naming_table_key_value_and_what_is_allowed(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_workspace(write(tmp_path / "ws", text))
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_bad_base_url_from_the_environment_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "localhost:8080")
    with pytest.raises(ConfigError, match=r'^OPENAI_BASE_URL = "localhost:8080": expected an '
                                          r"http:// or https:// URL"):
        load_workspace(write(tmp_path / "ws"))


def test_good_settings_load_and_absent_ones_take_the_dataclass_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "PROMPTLOOP_MODEL"):
        monkeypatch.delenv(variable, raising=False)
    ws = load_workspace(write(tmp_path / "ws", AGENT + "[llm]\n"))
    assert ws.llm == LLMSettings()
    assert ws.agents["X"] == AgentConfig(name="X", prompt="p.md")
    text = ("[promptloop]\nprompts_dir = 'prompts'\n"  # older files: accepted, ignored
            "[llm]\nbase_url = 'http://127.0.0.1:8080/v1'\nmax_calls = 7\ntimeout = 5\n"
            "connect_timeout = 2.5\ndeadline = 30\n" + AGENT + "temperature = 1\n")
    ws = load_workspace(write(tmp_path / "ws2", text))
    assert (ws.llm.base_url, ws.llm.max_calls, ws.llm.timeout) == (
        "http://127.0.0.1:8080/v1", 7, 5.0)
    assert isinstance(ws.llm.timeout, float) and ws.agents["X"].temperature == 1.0
    assert not hasattr(ws, "prompts_dir")


def test_bad_setting_through_the_cli_is_one_line_and_exit_1(run_cli, tmp_path: Path) -> None:
    root = write(tmp_path / "ws", "[llm]\ntimeout = 0\n")
    result = run_cli("-C", str(root), "decisions")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == ("Error: [llm] timeout = 0 in promptloop.toml: expected seconds, "
                             "more than 0 and at most 3600\n")
