"""The prompt size limit (optimizer/limits.py) at every entry point, and lint's cap on what
it prints: a huge prompt is one clear line and exit 1, never minutes of work or gigabytes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from optimizer.analyzer import analyze
from optimizer.errors import OptimizerError, PromptTooLarge
from optimizer.limits import MAX_PROMPT_CHARS
from optimizer.suggest import heuristic_rewrite

TOO_LARGE = f"is too large to analyze: {MAX_PROMPT_CHARS + 1:,} characters, the limit is " \
    f"{MAX_PROMPT_CHARS:,} characters (1 MiB); shorten it"
SENTENCE = "Maybe buy when the trend is up. "


def test_analyze_and_the_rewrite_refuse_a_prompt_past_the_limit() -> None:
    text = "x" * (MAX_PROMPT_CHARS + 1)
    for call in (analyze, heuristic_rewrite):
        with pytest.raises(PromptTooLarge) as raised:
            call(text)
        assert str(raised.value) == f"the prompt {TOO_LARGE}"
    assert issubclass(PromptTooLarge, OptimizerError)  # one line at the CLI edge


def test_score_and_lint_refuse_a_huge_file_in_one_line(run_cli, tmp_path: Path) -> None:
    huge = tmp_path / "huge.md"
    huge.write_text(SENTENCE * (3 * MAX_PROMPT_CHARS // len(SENTENCE)), encoding="utf-8")
    for command in ("score", "lint"):
        result = run_cli(command, str(huge))
        assert result.returncode == 1
        assert result.stdout == ""
        assert result.stderr == (f"Error: {huge} is too large to analyze: more than that, the "
                                 f"limit is {MAX_PROMPT_CHARS:,} characters (1 MiB); "
                                 "shorten it\n")


def test_score_lint_and_optimize_refuse_a_committed_prompt_past_the_limit(
        run_cli, workspace: Path) -> None:
    prompt = workspace / "prompts" / "RiskManager.md"
    prompt.write_text("y" * (MAX_PROMPT_CHARS + 1), encoding="utf-8")
    subprocess.run(["git", "-C", str(workspace), "commit", "-qam", "a huge prompt"], check=True)
    for args in (("score", "--agent", "RiskManager"), ("lint", "--agent", "RiskManager")):
        result = run_cli(*args, cwd=workspace)
        assert result.returncode == 1 and result.stdout == ""
        assert result.stderr == (f"Error: RiskManager's prompt (prompts/RiskManager.md) "
                                 f"{TOO_LARGE}\n")
    result = run_cli("optimize", "--agent", "RiskManager", "--engine", "heuristic",
                     "--dry-run", cwd=workspace)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == f"Error: the prompt {TOO_LARGE}"


def test_lint_prints_at_most_max_findings_per_prompt(run_cli, tmp_path: Path) -> None:
    draft = tmp_path / "draft.md"
    draft.write_text(SENTENCE * 80, encoding="utf-8")
    hedges = [f for f in analyze(draft.read_text()).findings]
    assert len(hedges) > 60
    capped = run_cli("lint", "draft.md")
    lines = capped.stdout.splitlines()
    findings = [line for line in lines if line.startswith("draft.md:1:")]
    assert len(findings) == 50
    assert f"draft.md: ... and {len(hedges) - 50} more finding(s) (--max-findings 0 prints " \
        "all)" in lines
    assert len(run_cli("lint", "draft.md", "--max-findings", "3").stdout.splitlines()) == (
        len(lines) - 47)
    every = run_cli("lint", "draft.md", "--max-findings", "0").stdout.splitlines()
    assert len([line for line in every if line.startswith("draft.md:1:")]) == len(hedges)
    assert not any("more finding(s)" in line for line in every)
