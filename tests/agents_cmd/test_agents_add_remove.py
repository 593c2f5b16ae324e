"""``promptloop agents add`` / ``agents remove`` through the installed entry point, on real
git repositories: one commit each, promptloop.toml keeps every comment, refusals change
nothing."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from prompt_repo import load_workspace

TRICKY = """\
# my bots, hand-written   -- keep me
[promptloop]
prompts_dir = "bots"   # where the prompts are

[agents.Alpha]  # the first one
prompt = "bots/Alpha.md"   # inline comment
temperature = 0.1

[team]
order = [
  "Alpha",  # answers first
  "Omega",
]
decider = "Omega"

[agents.Omega]
prompt = "bots/Omega.md"
# Omega's own note

[lint]
min_clarity = 10   # lenient
"""


def run_json(run_cli, ws: Path, *args: str) -> dict:
    result = run_cli("-C", str(ws), "agents", *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def commit_files(git, ws: Path, rev: str = "HEAD") -> list[str]:
    out = git(ws, "show", "--name-status", "--format=", rev)
    return sorted(out.split("\n")[:-1])


def lines_kept_in_order(old: str, new: str) -> bool:
    remaining = iter(new.splitlines())
    return all(any(line == candidate for candidate in remaining) for line in old.splitlines())


def test_add_writes_the_table_the_template_and_one_commit(run_cli, workspace, git) -> None:
    before = (workspace / "promptloop.toml").read_text()
    head = git(workspace, "rev-parse", "HEAD").strip()

    data = run_json(run_cli, workspace, "add", "Sentiment", "--model", "m-1",
                    "--temperature", "0.3")

    assert data["agent"] == "Sentiment" and data["path"] == "prompts/Sentiment.md"
    assert data["team"] == ["MarketAnalyst", "RiskManager", "Sentiment", "TradingAdvisor"]
    assert git(workspace, "rev-parse", "HEAD^").strip() == head
    assert git(workspace, "rev-parse", "HEAD").strip() == data["commit"]
    assert commit_files(git, workspace) == ["A\tprompts/Sentiment.md", "M\tpromptloop.toml"]
    assert git(workspace, "log", "-1", "--format=%s").strip() == (
        "add-agent(Sentiment): prompts/Sentiment.md")
    assert git(workspace, "status", "--porcelain").strip() == ""
    after = (workspace / "promptloop.toml").read_text()
    assert after == before.replace(
        'order = ["MarketAnalyst", "RiskManager", "TradingAdvisor"]',
        'order = ["MarketAnalyst", "RiskManager", "Sentiment", "TradingAdvisor"]',
    ) + '\n[agents.Sentiment]\nprompt = "prompts/Sentiment.md"\nmodel = "m-1"\ntemperature = 0.3\n'
    prompt = (workspace / "prompts" / "Sentiment.md").read_text()
    assert prompt.startswith("# Sentiment\n")
    assert '{"action": "BUY" | "SELL" | "HOLD", "confidence"' in prompt
    ws = load_workspace(workspace)
    assert ws.agents["Sentiment"].model == "m-1" and ws.agents["Sentiment"].temperature == 0.3


def test_add_from_a_file_at_a_team_position(run_cli, workspace, tmp_path, git) -> None:
    source = tmp_path / "mine.md"
    source.write_text("# Contrarian\n\nDo the opposite. Answer with JSON.\n")
    data = run_json(run_cli, workspace, "add", "Contrarian", "--from", str(source),
                    "--team-position", "1")
    assert data["team"][0] == "Contrarian"
    assert (workspace / "prompts" / "Contrarian.md").read_text() == source.read_text()
    settings = tomllib.loads((workspace / "promptloop.toml").read_text())
    assert settings["team"]["order"] == data["team"]
    assert "model" not in settings["agents"]["Contrarian"]  # [llm] model applies
    shown = run_cli("-C", str(workspace), "log", "--agent", "Contrarian", "--json")
    assert [v["version"] for v in json.loads(shown.stdout)] == ["v1"]


def test_add_keeps_every_comment_of_a_hand_written_file(run_cli, tmp_path, git) -> None:
    ws = tmp_path / "bots-ws"
    (ws / "bots").mkdir(parents=True)
    (ws / "promptloop.toml").write_text(TRICKY)
    for name in ("Alpha", "Omega"):
        (ws / "bots" / f"{name}.md").write_text(f"# {name}\n")
    git(ws, "init", "-q", "-b", "main")
    git(ws, "add", ".")
    git(ws, "commit", "-qm", "start")

    data = run_json(run_cli, ws, "add", "Beta", "--team-position", "2")

    text = (ws / "promptloop.toml").read_text()
    assert lines_kept_in_order(TRICKY, text)
    assert '  "Alpha",  # answers first\n  "Beta",\n  "Omega",\n' in text
    assert data["team"] == ["Alpha", "Beta", "Omega"] and data["path"] == "bots/Beta.md"
    settings = tomllib.loads(text)
    assert list(settings["agents"]) == ["Alpha", "Omega", "Beta"]  # file order kept

    removed = run_json(run_cli, ws, "remove", "Alpha")
    text = (ws / "promptloop.toml").read_text()
    assert removed["team"] == ["Beta", "Omega"]
    for kept in ("# my bots, hand-written   -- keep me", '"bots"   # where the prompts are',
                 "# Omega's own note", "min_clarity = 10   # lenient"):
        assert kept in text
    assert "[agents.Alpha]" not in text and "Alpha" not in text


def test_new_agent_lists_at_once(run_cli, workspace) -> None:
    run_json(run_cli, workspace, "add", "Sentiment")
    listed = run_cli("-C", str(workspace), "agents", "list", "--json")
    bare = run_cli("-C", str(workspace), "agents", "--json")
    assert listed.stdout == bare.stdout
    assert [row["agent"] for row in json.loads(bare.stdout)][-1] == "Sentiment"


def test_remove_deletes_the_file_in_one_commit_history_stays(run_cli, workspace, git) -> None:
    text = (workspace / "prompts" / "RiskManager.md").read_text()
    data = run_json(run_cli, workspace, "remove", "RiskManager")
    assert data["team"] == ["MarketAnalyst", "TradingAdvisor"]
    assert commit_files(git, workspace) == ["D\tprompts/RiskManager.md", "M\tpromptloop.toml"]
    assert not (workspace / "prompts" / "RiskManager.md").exists()
    assert git(workspace, "show", "HEAD^:prompts/RiskManager.md") == text
    assert git(workspace, "status", "--porcelain").strip() == ""
    assert "RiskManager" not in load_workspace(workspace).agents


def _tracked_edit(ws: Path) -> None:
    with (ws / "promptloop.toml").open("a") as handle:
        handle.write("# my edit\n")


def _untracked_settings(ws: Path, git) -> None:
    git(ws, "rm", "-q", "--cached", "promptloop.toml")
    git(ws, "commit", "-qm", "untrack")


REFUSALS = [
    (("add", "MarketAnalyst"), None, "an agent named 'MarketAnalyst' already exists"),
    (("add", "bad name"), None, "invalid agent name 'bad name'"),
    (("add", "../x"), None, "invalid agent name '../x'"),
    (("add", "X", "--path", "../outside.md"), None, "prompt path '../outside.md' points outside"),
    (("add", "X", "--path", ".git/x.md"), None, "prompt path '.git/x.md' points outside"),
    (("add", "X", "--path", "prompts/MarketAnalyst.md"), None,
     "prompts/MarketAnalyst.md already exists"),
    (("add", "X"), _tracked_edit, "promptloop.toml has uncommitted changes"),
    (("add", "X"), "untracked", "promptloop.toml is not committed"),
    (("add", "X", "--team-position", "9"), None, "--team-position 9 is outside 1..4"),
    (("add", "X", "--temperature", "7"), None, "temperature 7 is outside 0..2"),
    (("add", "X", "--from", "missing.md"), None, "cannot read missing.md"),
    (("remove", "Nobody"), None, "unknown agent 'Nobody'"),
    (("remove", "TradingAdvisor"), "decider", "TradingAdvisor is [team] decider"),
    (("remove", "RiskManager"), "dirty-prompt", "prompts/RiskManager.md has uncommitted changes"),
    (("remove", "RiskManager"), _tracked_edit, "promptloop.toml has uncommitted changes"),
    (("add", "X"), "detached", "HEAD is detached"),
]


@pytest.mark.parametrize(("args", "setup", "message"), REFUSALS,
                         ids=[f"{a[0]}-{m[:24]}" for a, _, m in REFUSALS])
def test_refusals_are_one_line_and_change_nothing(
    run_cli, workspace, git, snapshot, args, setup, message
) -> None:
    if setup == "untracked":
        _untracked_settings(workspace, git)
    elif setup == "decider":
        config = workspace / "promptloop.toml"
        config.write_text(config.read_text().replace("[lint]", 'decider = "TradingAdvisor"\n\n'
                                                              "[lint]"))
        git(workspace, "commit", "-qam", "decider")
    elif setup == "dirty-prompt":
        (workspace / "prompts" / "RiskManager.md").write_text("edited\n")
    elif setup == "detached":
        git(workspace, "checkout", "-q", "--detach")
    elif setup is not None:
        setup(workspace)
    before = snapshot(workspace)

    result = run_cli("-C", str(workspace), "agents", *args, cwd=workspace)

    assert result.returncode == 1, result.stdout
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("Error: ") and message in result.stderr
    assert result.stdout == ""
    assert snapshot(workspace) == before


def test_concurrent_adds_lose_no_update(workspace, git) -> None:
    import subprocess
    import sys

    promptloop = str(Path(sys.executable).with_name("promptloop"))
    names = ["Alpha", "Beta", "Gamma"]
    procs = [subprocess.Popen([promptloop, "-C", str(workspace), "agents", "add", name],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name in names]
    results = [proc.communicate(timeout=120) + (proc.returncode,) for proc in procs]
    assert [code for _, _, code in results] == [0, 0, 0], results
    settings = tomllib.loads((workspace / "promptloop.toml").read_text())
    assert set(names) <= set(settings["agents"]) and set(names) <= set(settings["team"]["order"])
    subjects = git(workspace, "log", "-3", "--format=%s").split("\n")[:3]
    assert sorted(s.split("(")[1].split(")")[0] for s in subjects) == names
    assert git(workspace, "status", "--porcelain").strip() == ""
