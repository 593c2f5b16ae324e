"""``promptloop score`` and ``promptloop lint`` run as a user would (the installed entry
point, a real workspace made by init, real files)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from optimizer.analyzer import analyze

Run = Callable[..., subprocess.CompletedProcess[str]]
VAGUE = "Try to buy when several indicators look strong, etc.\n"
PRECISE = (
    "You are MarketAnalyst. BUY if RSI(14) is below 30. SELL if RSI(14) is above 70. "
    "Otherwise answer HOLD.\n"
    'Reply with JSON: {"action": "BUY" | "SELL" | "HOLD", "confidence": 0-1}.\n'
)


def commit(root: Path, message: str) -> None:
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t",
                    "commit", "-q", "-m", message], check=True)


def test_score_every_agent_table(run_cli: Run, workspace: Path) -> None:
    result = run_cli("score", cwd=workspace)
    assert result.returncode == 0, result.stderr
    for agent in ("MarketAnalyst", "RiskManager", "TradingAdvisor"):
        assert agent in result.stdout
    assert "specificity" in result.stdout and "ambiguity" in result.stdout
    assert ("\nHigher is better, except ambiguity: lower is better. overall = (specificity + "
            "clarity + (100 - ambiguity)) / 3\n") in result.stdout
    text = (workspace / "prompts" / "RiskManager.md").read_text(encoding="utf-8")
    analysis = analyze(text)
    assert f"{analysis.clarity:.1f}" in result.stdout
    assert analysis.top_findings(1)[0].message in result.stdout


def test_score_agent_json(run_cli: Run, workspace: Path) -> None:
    result = run_cli("score", "--agent", "RiskManager", "--json", cwd=workspace)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    [prompt] = data["prompts"]
    text = (workspace / "prompts" / "RiskManager.md").read_text(encoding="utf-8")
    expected = analyze(text).to_dict()
    assert prompt == {"path": "prompts/RiskManager.md", "agent": "RiskManager",
                      "sha": prompt["sha"], **expected}
    assert len(prompt["sha"]) == 40


def test_score_reads_the_committed_version(run_cli: Run, workspace: Path) -> None:
    path = workspace / "prompts" / "TradingAdvisor.md"
    committed = analyze(path.read_text(encoding="utf-8")).overall
    path.write_text(VAGUE, encoding="utf-8")  # an uncommitted edit
    data = json.loads(run_cli("score", "--agent", "TradingAdvisor", "--json",
                              cwd=workspace).stdout)
    assert data["prompts"][0]["overall"] == committed
    from_file = json.loads(run_cli("score", str(path), "--json", cwd=workspace).stdout)
    assert from_file["prompts"][0]["overall"] == analyze(VAGUE).overall


def test_score_files_outside_a_workspace(run_cli: Run, tmp_path: Path) -> None:
    prompt = tmp_path / "p.md"
    prompt.write_text(VAGUE, encoding="utf-8")
    result = run_cli("score", "p.md", "--top", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "p.md" in result.stdout
    assert result.stdout.count("\n  1:") == 2  # --top 2: two findings shown


def test_score_escapes_prompt_text(run_cli: Run, tmp_path: Path) -> None:
    (tmp_path / "[red]x.md").write_text("Maybe use [bold]several[/bold] values.",
                                         encoding="utf-8")
    result = run_cli("score", "[red]x.md", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "[red]x.md" in result.stdout


def set_lint(root: Path, **values: object) -> None:
    """Rewrite the [lint] table of the workspace's promptloop.toml."""
    toml = root / "promptloop.toml"
    lines = toml.read_text(encoding="utf-8").splitlines()
    for key, value in values.items():
        lines = [f"{key} = {value}" if line.startswith(f"{key} =") else line for line in lines]
    toml.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_lint_passes_on_a_fresh_workspace(run_cli: Run, workspace: Path) -> None:
    result = run_cli("lint", cwd=workspace)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == "3 prompt(s) checked, 0 below the thresholds.\n"
    assert "prompts/RiskManager.md:27:58 hedge 'you may' makes the instruction optional\n" in (
        result.stdout
    )


def test_lint_fails_below_thresholds_with_exact_output(run_cli: Run, workspace: Path) -> None:
    (workspace / "prompts" / "MarketAnalyst.md").write_text(VAGUE, encoding="utf-8")
    commit(workspace, "vague")
    set_lint(workspace, min_specificity=40, min_clarity=40, max_ambiguity=40)
    result = run_cli("lint", "--agent", "MarketAnalyst", cwd=workspace)
    assert result.returncode == 1
    analysis = analyze(VAGUE)
    lines = [f"prompts/MarketAnalyst.md:{f.line}:{f.col} {f.rule} {f.message}"
             for f in analysis.findings]
    lines.append(f"prompts/MarketAnalyst.md: specificity {analysis.specificity:.1f} < 40.0 "
                 "(min_specificity)")
    lines.append(f"prompts/MarketAnalyst.md: ambiguity {analysis.ambiguity:.1f} > 40.0 "
                 "(max_ambiguity)")
    assert result.stdout == "\n".join(lines) + "\n"
    assert result.stderr == "1 prompt(s) checked, 1 below the thresholds.\n"


def test_lint_thresholds_from_toml_and_flags(run_cli: Run, workspace: Path) -> None:
    set_lint(workspace, min_specificity=40, min_clarity=99.5)
    result = run_cli("lint", "--agent", "RiskManager", "--max-ambiguity", "90",
                     cwd=workspace)
    assert result.returncode == 1
    assert result.stdout.endswith("prompts/RiskManager.md: clarity 90.2 < 99.5 (min_clarity)\n")
    relaxed = run_cli("lint", "--agent", "RiskManager", "--min-clarity", "10",
                      "--max-ambiguity", "90", "--json", cwd=workspace)
    assert relaxed.returncode == 0
    data = json.loads(relaxed.stdout)
    assert data["passed"] is True
    assert data["thresholds"] == {"min_specificity": 40.0, "min_clarity": 10.0,
                                  "max_ambiguity": 90.0}
    assert data["prompts"][0]["failures"] == [] and data["prompts"][0]["passed"] is True


def test_lint_as_pre_commit_hook_outside_a_workspace(run_cli: Run, tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text(PRECISE, encoding="utf-8")
    (tmp_path / "bad.md").write_text(VAGUE, encoding="utf-8")
    assert run_cli("lint", "good.md", cwd=tmp_path).returncode == 0
    result = run_cli("lint", "good.md", "bad.md", "--severity", "warning", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("bad.md:1:1 hedge 'Try to' makes the instruction optional\n")
    assert "bad.md: ambiguity" in result.stdout and "good.md:" not in result.stdout
    assert "info" not in {f.severity for f in analyze(VAGUE).findings
                          if f"{f.line}:{f.col} {f.rule}" in result.stdout}


def test_lint_uses_the_workspace_thresholds_for_files(run_cli: Run, workspace: Path) -> None:
    set_lint(workspace, min_specificity=99)
    (workspace / "extra.md").write_text(PRECISE, encoding="utf-8")
    result = run_cli("lint", "extra.md", cwd=workspace)
    assert result.returncode == 1
    assert "(min_specificity)" in result.stdout


@pytest.mark.parametrize("args, code, message", [
    (("lint", "--agent", "Nobody"), 1, "Error: "),
    (("score", "--agent", "RiskManager", "prompts/RiskManager.md"), 2, "not both"),
    (("lint", "missing.md"), 2, "does not exist"),
])
def test_errors(run_cli: Run, workspace: Path, args: tuple[str, ...], code: int,
                message: str) -> None:
    result = run_cli(*args, cwd=workspace)
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_not_utf8_file(run_cli: Run, tmp_path: Path) -> None:
    (tmp_path / "latin.md").write_bytes("Caf\xe9 maybe".encode("latin-1"))
    result = run_cli("lint", "latin.md", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == "Error: latin.md is not UTF-8 text\n"


def test_bad_lint_table_is_one_line_error(run_cli: Run, workspace: Path) -> None:
    set_lint(workspace, min_clarity='"high"')
    result = run_cli("lint", cwd=workspace)
    assert result.returncode == 1
    assert result.stderr == ('Error: [lint] min_clarity = "high" in promptloop.toml: expected '
                             "a score from 0 to 100\n")


def test_lint_outside_a_workspace_without_files_fails(run_cli: Run, tmp_path: Path) -> None:
    result = run_cli("lint", cwd=tmp_path)
    assert result.returncode == 1
    assert "no promptloop.toml" in result.stderr


@pytest.mark.parametrize("command", ["score", "lint"])
def test_help(run_cli: Run, command: str, tmp_path: Path) -> None:
    result = run_cli(command, "--help", cwd=tmp_path)
    assert result.returncode == 0
    for option in ("--agent", "--json"):
        assert option in result.stdout
    assert "Usage: promptloop" in result.stdout
