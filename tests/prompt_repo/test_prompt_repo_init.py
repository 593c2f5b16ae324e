"""init_workspace: fresh folders, existing app repositories, idempotence, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from prompt_repo import PromptRepo, init_workspace
from prompt_repo.config import load_workspace
from prompt_repo.errors import InitConflict

OURS = [
    ".gitignore",
    "promptloop.toml",
    "prompts/MarketAnalyst.md",
    "prompts/RiskManager.md",
    "prompts/TradingAdvisor.md",
]


def _app_repo(root: Path, git) -> Path:
    root.mkdir()
    git(root, "init", "-q")
    (root / "app.py").write_text("print('app')\n")
    (root / ".gitignore").write_text("__pycache__/\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "the app")
    return root


def test_init_in_a_new_folder_makes_a_repository_and_one_commit(tmp_path: Path, git) -> None:
    result = init_workspace(tmp_path / "new" / "ws")

    root = tmp_path / "new" / "ws"
    assert result.created and result.root == root.resolve()
    assert git(root, "rev-list", "--count", "HEAD").strip() == "1"
    assert sorted(git(root, "show", "--name-only", "--format=", "HEAD").split()) == OURS
    assert git(root, "status", "--porcelain", "--ignored") == ""
    assert (root / ".gitignore").read_text() == ".promptloop/\n"
    assert result.commit == git(root, "rev-parse", "HEAD").strip()
    assert "a new git repository" in result.message


def test_the_config_names_the_three_agents_and_the_defaults(workspace: Path) -> None:
    ws = load_workspace(workspace)
    assert list(ws.agents) == ["MarketAnalyst", "RiskManager", "TradingAdvisor"]
    assert ws.agents["RiskManager"].prompt == "prompts/RiskManager.md"
    assert ws.database_url == f"sqlite:///{workspace.resolve()}/.promptloop/tracker.db"
    assert ws.llm.model == "gpt-4o-mini"
    assert ws.section("team")["order"] == ["MarketAnalyst", "RiskManager", "TradingAdvisor"]
    assert set(ws.section("lint")) == {"min_specificity", "min_clarity", "max_ambiguity"}


@pytest.mark.parametrize("agent", ["MarketAnalyst", "RiskManager", "TradingAdvisor"])
def test_example_prompts_state_inputs_rules_and_the_json_answer(workspace: Path, agent) -> None:
    text = PromptRepo.open(workspace).read(agent).text
    for needle in ('"action"', '"confidence"', '"risk_level"', '"reasoning"', "BUY", "SELL",
                   "HOLD", "rsi_14", "macd_hist", "sma_50", "volatility", "between 0 and 1"):
        assert needle in text, (agent, needle)
    assert f"You are the {agent}" in text


def test_init_twice_changes_nothing_and_says_so(workspace: Path, snapshot) -> None:
    before = snapshot(workspace)

    result = init_workspace(workspace)

    assert not result.created
    root = workspace.resolve()
    assert result.message == f"{root} is already a promptloop workspace; nothing changed"
    assert snapshot(workspace) == before


def test_init_in_an_app_repository_commits_only_its_files(tmp_path: Path, git) -> None:
    app = _app_repo(tmp_path / "app", git)
    head = git(app, "rev-parse", "HEAD").strip()
    (app / "app.py").write_text("print('staged work')\n")
    git(app, "add", "app.py")
    (app / "scratch.txt").write_text("untracked\n")

    result = init_workspace(app)

    assert "the existing git repository" in result.message
    assert git(app, "rev-parse", "HEAD^").strip() == head
    assert sorted(git(app, "show", "--name-only", "--format=", "HEAD").split()) == OURS
    assert git(app, "show", "HEAD:.gitignore") == "__pycache__/\n.promptloop/\n"
    assert sorted(git(app, "status", "--porcelain").splitlines()) == ["?? scratch.txt",
                                                                      "M  app.py"]


def test_init_in_an_empty_repository(tmp_path: Path, git) -> None:
    root = tmp_path / "empty"
    root.mkdir()
    git(root, "init", "-q")

    init_workspace(root)

    assert git(root, "rev-list", "--count", "HEAD").strip() == "1"
    assert git(root, "status", "--porcelain") == ""


def test_init_inside_another_repository_makes_its_own(tmp_path: Path, git) -> None:
    app = _app_repo(tmp_path / "app", git)
    head = git(app, "rev-parse", "HEAD").strip()

    init_workspace(app / "demo-ws")

    assert git(app, "rev-parse", "HEAD").strip() == head
    assert (app / "demo-ws" / ".git").is_dir()
    assert git(app / "demo-ws", "rev-list", "--count", "HEAD").strip() == "1"


def test_untracked_gitignore_gets_the_line_but_stays_out_of_the_commit(
    tmp_path: Path, git
) -> None:
    root = tmp_path / "r"
    root.mkdir()
    git(root, "init", "-q")
    (root / ".gitignore").write_text("*.log")

    init_workspace(root)

    assert (root / ".gitignore").read_text() == "*.log\n.promptloop/\n"
    assert ".gitignore" not in git(root, "show", "--name-only", "--format=", "HEAD").split()
    assert git(root, "status", "--porcelain") == "?? .gitignore\n"


def test_gitignore_already_ignoring_the_state_folder_is_left_alone(
    tmp_path: Path, git
) -> None:
    app = _app_repo(tmp_path / "app", git)
    (app / ".gitignore").write_text("/.promptloop\n")
    git(app, "commit", "-qam", "ignore")

    init_workspace(app)

    assert ".gitignore" not in git(app, "show", "--name-only", "--format=", "HEAD").split()


def _dirty_gitignore(app: Path, git) -> None:
    (app / ".gitignore").write_text("__pycache__/\n*.tmp\n")


def _existing_prompt(app: Path, git) -> None:
    (app / "prompts").mkdir()
    (app / "prompts" / "RiskManager.md").write_text("mine\n")


def _committed_prompt(app: Path, git) -> None:
    _existing_prompt(app, git)
    git(app, "add", "-A")
    git(app, "commit", "-qm", "my prompt")
    (app / "prompts" / "RiskManager.md").unlink()


@pytest.mark.parametrize(
    ("setup", "text"),
    [
        (_dirty_gitignore, ".gitignore has uncommitted changes"),
        (_existing_prompt, "RiskManager.md already exists"),
        (_committed_prompt, "RiskManager.md already exists"),
    ],
)
def test_init_refuses_to_overwrite_and_changes_nothing(
    tmp_path: Path, git, snapshot, setup, text: str
) -> None:
    app = _app_repo(tmp_path / "app", git)
    setup(app, git)
    before = snapshot(app)

    with pytest.raises(InitConflict, match=text):
        init_workspace(app)

    assert snapshot(app) == before


def test_init_refuses_in_a_plain_folder_before_creating_anything(tmp_path: Path, snapshot) -> None:
    root = tmp_path / "plain"
    (root / "prompts").mkdir(parents=True)
    (root / "prompts" / "MarketAnalyst.md").write_text("mine\n")
    before = snapshot(root)

    with pytest.raises(InitConflict, match="MarketAnalyst.md already exists"):
        init_workspace(root)

    assert snapshot(root) == before and not (root / ".git").exists()
