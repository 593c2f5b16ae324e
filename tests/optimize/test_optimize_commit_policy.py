"""``optimize --auto-apply`` under the repository's commit hooks: a refusing pre-commit hook
is one line and nothing is committed or written; a commit-msg hook's line is kept."""

from __future__ import annotations

import subprocess
from pathlib import Path

from llm_stub_server import StubLLM, answer
from optimize_support import (
    AGENT,
    API_KEY,
    GOOD_DIFF,
    GOOD_LINE,
    commit_message,
    critic_answer,
    head,
    runs,
    scripted,
    seed,
    seed_held_out,
    sqlite_url,
)


def hook(ws: Path, name: str, body: str) -> None:
    path = ws / ".git" / "hooks" / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def auto_apply(run_cli, ws: Path, stub: StubLLM) -> subprocess.CompletedProcess[str]:
    url = sqlite_url(ws)
    seed(url)
    seed_held_out(url)
    stub.script = scripted(answer(critic_answer(GOOD_DIFF)))
    return run_cli("-C", str(ws), "optimize", "--agent", AGENT, "--auto-apply",
                   env={"OPENAI_BASE_URL": stub.url, "OPENAI_API_KEY": API_KEY})


def test_a_failing_pre_commit_hook_refuses_the_auto_apply(run_cli, opt_ws, stub) -> None:
    hook(opt_ws, "pre-commit", 'echo "prompts are frozen until Monday" >&2\nexit 1')
    prompt = opt_ws / "prompts" / f"{AGENT}.md"
    base, text = head(opt_ws), prompt.read_text()

    result = auto_apply(run_cli, opt_ws, stub)

    assert result.returncode == 1
    assert result.stderr == (
        "Error: pre-commit hook refused the commit: prompts are frozen until Monday\n")
    assert (head(opt_ws), prompt.read_text()) == (base, text)
    [run] = runs(sqlite_url(opt_ws))
    assert run["status"] == "error" and run["result_sha"] is None


def test_a_commit_msg_hook_line_is_in_the_applied_commit(run_cli, opt_ws, stub) -> None:
    hook(opt_ws, "commit-msg",
         'git interpret-trailers --in-place --trailer "Reviewed-by: policy bot" "$1"')

    result = auto_apply(run_cli, opt_ws, stub)

    assert result.returncode == 0, result.stderr
    message = commit_message(opt_ws)
    assert message.rstrip().endswith("\nReviewed-by: policy bot")
    assert "\nPromptloop-Run: " in message
    assert GOOD_LINE in (opt_ws / "prompts" / f"{AGENT}.md").read_text()
