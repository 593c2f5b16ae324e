"""doctor's workspace, git, market data and disk checks, each passing and failing, on real
git repositories."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from agents.doctor import Check, DoctorOptions, run_checks

OFFLINE = DoctorOptions(offline=True)


def checks_of(root: Path, options: DoctorOptions = OFFLINE) -> dict[str, Check]:
    return {check.name: check for check in run_checks(root, options)}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          check=True).stdout


def test_a_fresh_workspace_passes_offline(workspace: Path) -> None:
    checks = run_checks(workspace, OFFLINE)
    assert [c.name for c in checks] == [
        "workspace", "git repository", "git identity", "prompt MarketAnalyst",
        "prompt RiskManager", "prompt TradingAdvisor", "database", "database round trip",
        "llm key", "llm endpoint", "llm model", "llm structured answer", "llm response formats",
        "market data", "disk"]
    assert [c.name for c in checks if c.status == "fail"] == []
    found = {c.name: c for c in checks}
    assert found["workspace"].detail.endswith(
        "3 agents, team MarketAnalyst → RiskManager → TradingAdvisor (decider TradingAdvisor)")
    assert found["git identity"].detail == "Test Person <test@example.com> (from environment)"
    assert found["prompt RiskManager"].detail == "prompts/RiskManager.md committed and clean"
    assert found["llm endpoint"] == Check("llm endpoint", "skipped", "--offline")
    assert not (workspace / ".promptloop" / "tracker.db").exists()  # doctor creates nothing


def test_no_workspace_fails_and_skips_the_rest(tmp_path: Path) -> None:
    checks = run_checks(tmp_path, OFFLINE)
    assert (checks[0].name, checks[0].status) == ("workspace", "fail")
    assert checks[0].fix and "promptloop init" in checks[0].fix
    assert {c.status for c in checks[1:]} == {"skipped"}


def test_a_team_naming_an_unknown_agent_fails_the_workspace(workspace: Path) -> None:
    config = workspace / "promptloop.toml"
    config.write_text(config.read_text().replace('"RiskManager", "TradingAdvisor"]',
                                                 '"Ghost", "TradingAdvisor"]'))
    check = checks_of(workspace)["workspace"]
    assert check.status == "fail" and "Ghost" in check.detail
    assert check.fix == "edit [team] or [agents.X] in promptloop.toml"


def test_detached_head(workspace: Path) -> None:
    git(workspace, "checkout", "-q", "--detach")
    check = checks_of(workspace)["git repository"]
    assert check.status == "fail" and check.detail.startswith("HEAD is detached at ")
    assert check.fix == "git switch BRANCH (or git switch -c NAME)"


def test_not_a_git_repository(tmp_path: Path) -> None:
    from prompt_repo.workspace_init import config_text

    (tmp_path / "promptloop.toml").write_text(config_text())
    checks = checks_of(tmp_path)
    assert checks["git repository"].status == "fail"
    assert "is not in a git repository" in checks["git repository"].detail
    assert checks["prompt MarketAnalyst"].status == "skipped"


def test_a_repository_without_commits(tmp_path: Path) -> None:
    from prompt_repo.workspace_init import config_text

    git(tmp_path, "init", "-q")
    (tmp_path / "promptloop.toml").write_text(config_text())
    check = checks_of(tmp_path)["git repository"]
    assert (check.status, check.detail) == ("fail", "the repository has no commits yet")
    assert check.fix and check.fix.startswith("git add promptloop.toml prompts && git commit")


def test_a_dirty_prompt(workspace: Path) -> None:
    with (workspace / "prompts" / "RiskManager.md").open("a") as handle:
        handle.write("\nAlso think of the weekend.\n")
    checks = checks_of(workspace)
    check = checks["prompt RiskManager"]
    assert check.status == "fail"
    assert check.detail.startswith("prompts/RiskManager.md has uncommitted edits")
    assert check.fix and "git checkout -- prompts/RiskManager.md" in check.fix
    assert checks["prompt MarketAnalyst"].status == "ok"


def test_a_prompt_file_not_committed(workspace: Path) -> None:
    config = workspace / "promptloop.toml"
    config.write_text(config.read_text() + '\n[agents.Extra]\nprompt = "prompts/Extra.md"\n')
    git(workspace, "commit", "-qam", "declare Extra")
    (workspace / "prompts" / "Extra.md").write_text("# Extra\n")
    check = checks_of(workspace)["prompt Extra"]
    assert (check.status, check.detail) == ("fail", "prompts/Extra.md is not committed")
    assert check.fix and check.fix.startswith("git add prompts/Extra.md && git commit")


def test_a_prompt_path_outside_the_workspace(workspace: Path) -> None:
    config = workspace / "promptloop.toml"
    config.write_text(config.read_text() + '\n[agents.Out]\nprompt = "../out.md"\n')
    check = checks_of(workspace)["prompt Out"]
    assert check.status == "fail" and "points outside the workspace" in check.detail


def test_no_git_identity(workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.delenv(f"GIT_{role}_NAME")
        monkeypatch.delenv(f"GIT_{role}_EMAIL")
    check = checks_of(workspace)["git identity"]
    assert (check.status, check.detail) == ("fail", "no name and email to commit with")
    assert check.fix and 'git config --global user.name "Your Name"' in check.fix

    git(workspace, "config", "user.name", "Repo Person")
    git(workspace, "config", "user.email", "repo@example.com")
    check = checks_of(workspace)["git identity"]
    assert (check.status, check.detail) == (
        "ok", "Repo Person <repo@example.com> (from git config)")


def test_market_data_from_a_csv_source(workspace: Path, tmp_path: Path) -> None:
    prices = tmp_path / "prices.csv"
    prices.write_text("timestamp,open,high,low,close,volume\n"
                      "2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n"
                      "2024-01-01T01:00:00Z,1.5,2,1,1.8,12\n")
    check = checks_of(workspace, DoctorOptions(offline=True, source=f"csv:{prices}",
                                               symbol="ETHUSDT"))["market data"]
    assert check.status == "ok", check.detail
    assert check.detail == f"csv:{prices}: 2 candles of ETHUSDT, the last at 2024-01-01T01:00+00:00"

    missing = checks_of(workspace, DoctorOptions(offline=True, source="csv:nope.csv"))
    assert missing["market data"].status == "fail"
    assert "nope.csv" in missing["market data"].detail


def test_market_data_from_an_exchange_is_skipped_offline(workspace: Path) -> None:
    check = checks_of(workspace, DoctorOptions(offline=True, source="ccxt:binance"))
    assert check["market data"] == Check("market data", "skipped",
                                         "ccxt:binance needs the network (--offline)")


def test_disk_below_the_minimum(workspace: Path) -> None:
    assert checks_of(workspace)["disk"].status == "ok"
    check = checks_of(workspace, DoctorOptions(offline=True, min_free_mb=10**12))["disk"]
    assert check.status == "fail" and check.fix and "llm-cache" in check.fix
