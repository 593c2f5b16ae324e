"""The version-history commands, run as a user runs them (the installed entry point).

stdout is not a terminal here, so tables render without colour at the COLUMNS width and
diffs print as plain unified diffs.
"""

from __future__ import annotations

import json
from pathlib import Path

from prompt_repo import PromptRepo

AGENT = "MarketAnalyst"
PATH = "prompts/MarketAnalyst.md"
WIDE = {"COLUMNS": "220"}
SCORES = {"Promptloop-Scores-Before": "s=41 c=55 a=30", "Promptloop-Scores-After": "s=52 c=56 a=18"}


def _two_versions(ws: Path) -> PromptRepo:
    repo = PromptRepo.open(ws)
    repo.apply(AGENT, "second version\n", "optimize(MarketAnalyst): tighten RSI rule",
               base=repo.read(AGENT).sha, trailers=SCORES)
    return repo


def test_init_then_init_again(run_cli, tmp_path: Path) -> None:
    first = run_cli("init", "ws")
    again = run_cli("init", "ws")

    root = (tmp_path / "ws").resolve()
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(
        f"Created a promptloop workspace in {root} (a new git repository)"
    )
    assert first.stdout.endswith(f"Next: promptloop -C {root} agents\n")
    assert again.returncode == 0
    assert again.stdout == f"{root} is already a promptloop workspace; nothing changed\n"


def test_init_uses_the_workspace_option_as_the_folder(run_cli, tmp_path: Path) -> None:
    result = run_cli("-C", "elsewhere", "init")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "elsewhere" / "promptloop.toml").is_file()


def test_agents_json(run_cli, workspace: Path) -> None:
    repo = _two_versions(workspace)
    result = run_cli("-C", str(workspace), "agents", "--json")

    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["agent"] for r in rows] == ["MarketAnalyst", "RiskManager", "TradingAdvisor"]
    assert rows[0]["path"] == PATH and rows[0]["modified"] is False
    newest = repo.log(AGENT)[0]
    assert rows[0]["current"] == {
        "version": "v2", "number": 2, "sha": newest.sha, "short_sha": newest.short_sha,
        "date": newest.date.isoformat(), "author": "Test Person",
        "subject": "optimize(MarketAnalyst): tighten RSI rule", "trailers": SCORES,
    }


def test_agents_table(run_cli, workspace: Path) -> None:
    repo = _two_versions(workspace)
    (workspace / "prompts" / "RiskManager.md").write_text("[bold]edited[/bold]\n")

    result = run_cli("-C", str(workspace), "agents", env=WIDE)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    newest = repo.log(AGENT)[0]
    row = next(line for line in lines if "MarketAnalyst " in line)
    for cell in ("v2", newest.short_sha, newest.date.strftime("%Y-%m-%d %H:%M"),
                 "optimize(MarketAnalyst): tighten RSI rule"):
        assert cell in row
    assert "(modified)" not in row
    risk_row = next(line for line in lines if "RiskManager " in line)
    assert "v1 (modified)" in risk_row


def test_show_prints_the_exact_text(run_cli, workspace: Path) -> None:
    _two_versions(workspace)
    current = run_cli("-C", str(workspace), "show", "--agent", AGENT)
    first = run_cli("-C", str(workspace), "show", "--agent", AGENT, "--rev", "v1")

    assert current.returncode == 0 and current.stdout == "second version\n"
    assert first.stdout == PromptRepo.open(workspace).read(AGENT, "v1").text
    assert first.stdout.startswith("# MarketAnalyst\n")


def test_log_json_and_limit(run_cli, workspace: Path) -> None:
    repo = _two_versions(workspace)
    result = run_cli("-C", str(workspace), "log", "--agent", AGENT, "--json")
    limited = run_cli("-C", str(workspace), "log", "--agent", AGENT, "-n", "1", "--json")

    versions = json.loads(result.stdout)
    assert [v["version"] for v in versions] == ["v2", "v1"]
    assert [v["sha"] for v in versions] == [v.sha for v in repo.log(AGENT)]
    assert list(versions[0]) == ["version", "number", "sha", "short_sha", "date", "author",
                                 "subject", "trailers"]
    assert versions[0]["trailers"] == SCORES and versions[1]["trailers"] == {}
    assert json.loads(limited.stdout) == versions[:1]


def test_log_table_shows_the_scores(run_cli, workspace: Path) -> None:
    repo = _two_versions(workspace)
    result = run_cli("-C", str(workspace), "log", "--agent", AGENT, env=WIDE)

    assert result.returncode == 0, result.stderr
    newest, first = repo.log(AGENT)
    row = next(line for line in result.stdout.splitlines() if newest.short_sha in line)
    assert "v2" in row and "Test Person" in row
    assert "s=41 c=55 a=30 → s=52 c=56 a=18" in row
    assert first.short_sha in result.stdout


def test_diff_prints_the_unified_diff(run_cli, workspace: Path) -> None:
    repo = _two_versions(workspace)
    result = run_cli("-C", str(workspace), "diff", "--agent", AGENT, "v1")
    reverse = run_cli("-C", str(workspace), "diff", "--agent", AGENT, "HEAD", "v1")

    assert result.returncode == 0, result.stderr
    assert result.stdout == repo.diff(AGENT, "v1", "v2")
    assert result.stdout.startswith(f"diff --git a/{PATH} b/{PATH}\n")
    assert result.stdout.endswith("+second version\n")
    assert "+# MarketAnalyst\n" in reverse.stdout


def test_diff_of_identical_versions_says_so(run_cli, workspace: Path) -> None:
    result = run_cli("-C", str(workspace), "diff", "--agent", AGENT, "v1")
    assert result.returncode == 0
    assert result.stdout == ""
    assert result.stderr == "No differences between v1 and the current version.\n"


def test_rollback_without_terminal_refuses_instead_of_hanging(
    run_cli, workspace: Path, snapshot
) -> None:
    _two_versions(workspace)
    before = snapshot(workspace)

    result = run_cli("-C", str(workspace), "rollback", "--agent", AGENT, "--to", "v1")

    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "Error: no terminal to ask on; pass --yes to proceed without asking"
    )
    assert "-second version" in result.stdout
    assert snapshot(workspace) == before


def test_rollback_with_yes(run_cli, workspace: Path, git) -> None:
    repo = _two_versions(workspace)
    v1 = repo.resolve(AGENT, "v1")

    result = run_cli("-C", str(workspace), "rollback", "--agent", AGENT, "--to", "v1", "--yes")

    assert result.returncode == 0, result.stderr
    head = git(workspace, "rev-parse", "HEAD").strip()
    assert result.stdout.endswith(
        f"Restored MarketAnalyst's prompt to v1 ({v1[:7]}): new commit {head[:7]}.\n"
    )
    assert (workspace / PATH).read_text() == repo.read(AGENT, "v1").text
    assert [v.name for v in repo.log(AGENT)] == ["v3", "v2", "v1"]


def test_refusals_are_one_line_exit_1_and_change_nothing(
    run_cli, workspace: Path, snapshot
) -> None:
    _two_versions(workspace)
    ws = str(workspace)
    cases = [
        (("rollback", "--agent", AGENT, "--to", "v2", "--yes"),
         "Error: MarketAnalyst's prompt already has the text of v2; nothing to roll back"),
        (("show", "--agent", "Nobody"),
         "Error: unknown agent 'Nobody' (configured: MarketAnalyst, RiskManager, TradingAdvisor)"),
        (("diff", "--agent", AGENT, "v3"),
         "Error: MarketAnalyst has versions v1..v2; there is no v3"),
        (("show", "--agent", AGENT, "--rev", "nope"),
         "Error: unknown revision 'nope' (use a sha, vN or a git revision such as HEAD~1)"),
        (("rollback", "--agent", AGENT, "--to", "v1", "--yes"),
         f"Error: {PATH} has uncommitted changes; commit or discard them first "
         f"(git diff HEAD -- {PATH})"),
    ]
    for args, message in cases:
        if args[0] == "rollback" and args[-2] == "v1":
            (workspace / PATH).write_text("local edit\n")
        before = snapshot(workspace)
        result = run_cli("-C", ws, *args)
        assert (result.returncode, result.stderr, result.stdout) == (1, message + "\n", ""), args
        assert snapshot(workspace) == before


def test_outside_a_workspace(run_cli, tmp_path: Path) -> None:
    result = run_cli("log", "--agent", AGENT, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: no promptloop.toml in ")
