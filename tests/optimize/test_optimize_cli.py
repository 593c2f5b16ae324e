"""``promptloop optimize`` end to end: the installed command in a subprocess, a real git
workspace, a real tracker database, and a scripted OpenAI-compatible endpoint on 127.0.0.1
(respx cannot reach into the subprocess; the stub server records every request instead)."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from llm_stub_server import Reply, StubLLM, answer, failure
from optimize_support import (
    AGENT,
    API_KEY,
    BAD_DIFF,
    GOOD_DIFF,
    GOOD_LINE,
    VAGUE_DIFF,
    commit_message,
    configure,
    critic_answer,
    critic_requests,
    head,
    runs,
    scripted,
    seed,
    seed_held_out,
    sqlite_url,
)

from agents.errors import NO_LLM_CONFIGURED


def llm_env(stub: StubLLM, **extra: str) -> dict[str, str]:
    return {"OPENAI_BASE_URL": stub.url, "OPENAI_API_KEY": API_KEY, **extra}


def optimize(run_cli, ws: Path, stub: StubLLM | None, *args: str, env: dict | None = None,
             input: str = "") -> subprocess.CompletedProcess[str]:
    full_env = {**(llm_env(stub) if stub else {}), **(env or {})}
    return run_cli("-C", str(ws), "optimize", "--agent", AGENT, *args, env=full_env, input=input)


def trailers(message: str) -> dict[str, str]:
    return dict(re.findall(r"^(Promptloop-[\w-]+): (.*)$", message, flags=re.MULTILINE))


def prompt_text(ws: Path) -> str:
    return (ws / "prompts" / f"{AGENT}.md").read_text()


def test_good_diff_is_applied_as_one_commit_with_trailers(run_cli, opt_ws, stub, database_url):
    [decision] = seed(database_url, failures=1)
    seed_held_out(database_url)
    stub.script = scripted(answer(critic_answer(GOOD_DIFF)))
    base = head(opt_ws)

    result = optimize(run_cli, opt_ws, stub, "--auto-apply",
                      env={"PROMPTLOOP_DATABASE_URL": database_url})

    assert result.returncode == 0, result.stderr
    assert "engine: llm (gpt-4o-mini)" in result.stdout
    assert "Applied as" in result.stdout
    assert head(opt_ws, "HEAD~1") == base
    changed = subprocess.run(["git", "-C", str(opt_ws), "show", "--name-only", "--format=",
                              "HEAD"], capture_output=True, text=True).stdout.split()
    assert changed == [f"prompts/{AGENT}.md"]
    assert GOOD_LINE in prompt_text(opt_ws)
    message = commit_message(opt_ws)
    subject = message.splitlines()[0]
    assert subject.startswith(f"optimize({AGENT}): The prompt leaves mixed signals")
    assert subject.endswith("...") and len(subject) <= len(f"optimize({AGENT}): ") + 60
    [run] = runs(database_url)
    found = trailers(message)
    assert found["Promptloop-Run"] == run["run_id"]
    assert found["Promptloop-Engine"] == "llm"
    assert found["Promptloop-Model"] == "gpt-4o-mini"
    assert found["Promptloop-Failure-Cases"] == f"d{decision}"
    assert re.fullmatch(r"specificity=[\d.]+ clarity=[\d.]+ ambiguity=[\d.]+ overall=[\d.]+",
                        found["Promptloop-Scores-After"])
    assert run["status"] == "applied" and run["result_sha"] == head(opt_ws)
    assert run["base_sha"] == base and run["engine"] == "llm"
    calls = 1 + 2 * 20  # the critic, then both prompts on the 20 held-out decisions
    assert (run["llm_calls"], run["prompt_tokens"], run["completion_tokens"]) == (
        calls, 120 * calls, 40 * calls)
    assert run["failure_case_ids"] == [f"d{decision}"]
    assert GOOD_LINE in run["diff"] and run["critique"].startswith("The prompt leaves")
    assert run["gates"]["passed"] is True
    [request] = critic_requests(stub.requests)
    assert f'"case": "d{decision}"' in request["messages"][1]["content"]
    assert found["Promptloop-Replay"].startswith("fixed 8, broke 0 of 20 held-out decisions")
    assert found["Promptloop-Held-Out"].endswith(
        "20 decisions (8 failures, 12 successes), all replayed")
    everything = result.stdout + result.stderr + message + json.dumps(run, default=str)
    assert API_KEY not in everything


def test_malformed_diff_is_repaired_on_the_second_try(run_cli, opt_ws, stub):
    seed(sqlite_url(opt_ws))
    seed_held_out(sqlite_url(opt_ws))
    stub.script = scripted(answer(critic_answer(BAD_DIFF)), answer(critic_answer(GOOD_DIFF)))

    result = optimize(run_cli, opt_ws, stub, "--auto-apply")

    assert result.returncode == 0, result.stderr
    assert GOOD_LINE in prompt_text(opt_ws)
    assert len(critic_requests(stub.requests)) == 2
    system, user, previous, repair = critic_requests(stub.requests)[1]["messages"]
    assert previous == {"role": "assistant", "content": critic_answer(BAD_DIFF)}
    assert "Hunk 1 of 1" in repair["content"] and "not in the prompt" in repair["content"]
    [run] = runs(sqlite_url(opt_ws))
    assert run["gates"]["candidates"][0]["repairs"] == 1 and run["llm_calls"] == 2 + 40


def test_a_diff_that_never_applies_ends_the_run_with_nothing_written(run_cli, opt_ws, stub):
    seed(sqlite_url(opt_ws))
    stub.add(*[answer(critic_answer(BAD_DIFF)) for _ in range(3)])
    base, text = head(opt_ws), prompt_text(opt_ws)

    result = optimize(run_cli, opt_ws, stub, "--auto-apply")

    assert result.returncode == 1
    assert result.stderr.startswith(
        "Error: no usable diff: round 1: no applicable diff after 2 repair(s): Hunk 1 of 1")
    assert "Traceback" not in result.stderr
    assert len(stub.requests) == 3
    assert (head(opt_ws), prompt_text(opt_ws)) == (base, text)
    [run] = runs(sqlite_url(opt_ws))
    assert run["status"] == "error" and run["result_sha"] is None
    assert run["error"].startswith("no usable diff") and run["llm_calls"] == 3


def test_rate_limit_with_retry_after_then_success(run_cli, opt_ws, stub):
    seed(sqlite_url(opt_ws))
    seed_held_out(sqlite_url(opt_ws))
    stub.script = scripted(failure(429, {"Retry-After": "1"}, "slow down"),
                           answer(critic_answer(GOOD_DIFF)))

    result = optimize(run_cli, opt_ws, stub, "--auto-apply")

    assert result.returncode == 0, result.stderr
    assert len(critic_requests(stub.requests)) == 2
    assert GOOD_LINE in prompt_text(opt_ws)


def test_timeout_then_success(run_cli, opt_ws, stub):
    seed(sqlite_url(opt_ws))
    seed_held_out(sqlite_url(opt_ws))
    # The workspace's [llm] timeout is 1 s: the first answer comes too late.
    stub.script = scripted(Reply(text=critic_answer(GOOD_DIFF), delay=3.0),
                           answer(critic_answer(GOOD_DIFF)))

    result = optimize(run_cli, opt_ws, stub, "--auto-apply")

    assert result.returncode == 0, result.stderr
    assert len(critic_requests(stub.requests)) == 2
    assert GOOD_LINE in prompt_text(opt_ws)


def test_garbage_instead_of_an_answer_is_sent_back_once(run_cli, opt_ws, stub):
    seed(sqlite_url(opt_ws))
    seed_held_out(sqlite_url(opt_ws))
    stub.script = scripted(answer('{"action": "BUY", "confidence": 0.9'),
                           answer(critic_answer(GOOD_DIFF)))

    result = optimize(run_cli, opt_ws, stub, "--auto-apply")

    assert result.returncode == 0, result.stderr
    repair = critic_requests(stub.requests)[1]["messages"][-1]["content"]
    assert "contains no unified diff" in repair
    assert GOOD_LINE in prompt_text(opt_ws)


def test_a_garbage_http_body_is_one_clean_error(run_cli, opt_ws, stub):
    seed(sqlite_url(opt_ws))
    stub.add(Reply(body="<html><h1>502 Bad Gateway</h1></html>"))  # a 200 that is not JSON
    base = head(opt_ws)

    result = optimize(run_cli, opt_ws, stub, "--auto-apply")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("Error: ")
    assert head(opt_ws) == base
    assert runs(sqlite_url(opt_ws))[0]["status"] == "error"


def test_a_budget_that_cannot_pay_for_the_run_is_refused_before_any_call(run_cli, opt_ws, stub):
    configure(opt_ws, llm="max_calls = 40")
    seed(sqlite_url(opt_ws))
    seed_held_out(sqlite_url(opt_ws))
    stub.script = scripted(answer(critic_answer(GOOD_DIFF)))
    base = head(opt_ws)

    result = optimize(run_cli, opt_ws, stub, "--auto-apply")

    assert result.returncode == 1
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("Error: the LLM budget cannot pay for this run: 3 critic call(s) "
                           "and 20 held-out decision(s) x 2 replay call(s) need about 43 calls")
    assert "max_calls is 40" in line
    assert stub.requests == [] and head(opt_ws) == base
    [run] = runs(sqlite_url(opt_ws))
    assert run["status"] == "error" and "budget" in run["error"]


def test_a_small_budget_replays_a_seeded_stratified_sample(run_cli, opt_ws, stub):
    configure(opt_ws, llm="max_calls = 60")  # 48 after the 20 % spare: 3 critic + 2 x 22
    seed(sqlite_url(opt_ws))
    seed_held_out(sqlite_url(opt_ws), failures=10, successes=20)
    stub.script = scripted(answer(critic_answer(GOOD_DIFF)))

    result = optimize(run_cli, opt_ws, stub, "--auto-apply", "--json")

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    held = data["held_out"]
    assert (held["decisions"], held["replayed"], held["sampled"], held["seed"]) == (
        30, 22, True, 0)
    assert (len(held["failure_case_ids"]), len(held["success_case_ids"])) == (7, 15)
    assert data["plan"]["replay_calls"] == 44 and data["usage"]["calls"] == 1 + 44
    replay = {g["name"]: g for g in data["gates"]}["replay"]
    assert replay["data"]["fixed"] == 7 and replay["passed"]
    assert data["applied"] is True


def test_a_candidate_that_worsens_ambiguity_is_rejected_by_the_gate(run_cli, opt_ws, stub):
    seed(sqlite_url(opt_ws))
    stub.add(answer(critic_answer(VAGUE_DIFF)))
    base = head(opt_ws)

    result = optimize(run_cli, opt_ws, stub, "--auto-apply")

    assert result.returncode == 0, result.stderr
    assert "Nothing applied: no candidate passed every gate; failed: scores (" in result.stdout
    assert "ambiguity" in result.stdout.split("failed: scores")[1]
    assert head(opt_ws) == base
    [run] = runs(sqlite_url(opt_ws))
    assert run["status"] == "rejected" and run["gates"]["passed"] is False
    scores = {g["name"]: g for g in run["gates"]["results"]}["scores"]
    assert scores["passed"] is False
    assert run["scores_after"]["ambiguity"] > run["scores_before"]["ambiguity"]


def test_dry_run_shows_the_proposal_and_writes_no_commit(run_cli, opt_ws, stub):
    seed(sqlite_url(opt_ws))
    seed_held_out(sqlite_url(opt_ws))
    stub.script = scripted(answer(critic_answer(GOOD_DIFF)))
    base, text = head(opt_ws), prompt_text(opt_ws)

    result = optimize(run_cli, opt_ws, stub, "--dry-run")

    assert result.returncode == 0, result.stderr
    assert GOOD_LINE in result.stdout  # the diff is shown
    assert "Critique" in result.stdout and "Scores" in result.stdout
    assert "Nothing applied (--dry-run)." in result.stdout
    assert (head(opt_ws), prompt_text(opt_ws)) == (base, text)
    [run] = runs(sqlite_url(opt_ws))
    assert run["status"] == "dry-run" and run["result_sha"] is None


def test_without_a_terminal_and_without_auto_apply_nothing_is_applied(run_cli, opt_ws, stub):
    seed(sqlite_url(opt_ws))
    seed_held_out(sqlite_url(opt_ws))
    stub.script = scripted(answer(critic_answer(GOOD_DIFF)))
    base = head(opt_ws)

    result = optimize(run_cli, opt_ws, stub)  # stdin is a pipe, not a terminal

    assert result.returncode == 0, result.stderr
    assert "Nothing applied (no terminal to ask on and no --auto-apply)." in result.stdout
    assert "Apply?" not in result.stdout
    assert head(opt_ws) == base
    assert runs(sqlite_url(opt_ws))[0]["status"] == "dry-run"


def test_stdin_closed_is_no_terminal_not_a_traceback(opt_ws, stub):
    seed(sqlite_url(opt_ws))
    seed_held_out(sqlite_url(opt_ws))
    stub.script = scripted(answer(critic_answer(GOOD_DIFF)))
    base = head(opt_ws)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "PROMPTLOOP_"))}

    result = subprocess.run(  # as a shell's `promptloop ... <&-`: fd 0 not open at all
        ["sh", "-c", '"$0" "$@" <&-', str(Path(sys.executable).with_name("promptloop")),
         "-C", str(opt_ws), "optimize", "--agent", AGENT],
        env={**env, **llm_env(stub)}, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    assert "Nothing applied (no terminal to ask on and no --auto-apply)." in result.stdout
    assert head(opt_ws) == base
    assert runs(sqlite_url(opt_ws))[0]["status"] == "dry-run"


def test_branch_and_push_to_a_local_bare_remote(run_cli, opt_ws, stub, tmp_path):
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    subprocess.run(["git", "-C", str(opt_ws), "remote", "add", "origin", str(remote)], check=True)
    seed(sqlite_url(opt_ws))
    seed_held_out(sqlite_url(opt_ws))
    stub.script = scripted(answer(critic_answer(GOOD_DIFF)))
    base, text = head(opt_ws), prompt_text(opt_ws)

    result = optimize(run_cli, opt_ws, stub, "--auto-apply", "--branch", "promptloop/opt-1",
                      "--push")

    assert result.returncode == 0, result.stderr
    assert "on branch promptloop/opt-1 (pushed to origin)" in result.stdout
    assert (head(opt_ws), prompt_text(opt_ws)) == (base, text)  # the checkout is untouched
    pushed = head(remote, "refs/heads/promptloop/opt-1")
    assert pushed == head(opt_ws, "promptloop/opt-1")
    assert head(remote, f"{pushed}~1") == base
    assert trailers(commit_message(remote, pushed))["Promptloop-Engine"] == "llm"
    [run] = runs(sqlite_url(opt_ws))
    assert run["status"] == "applied" and run["result_sha"] == pushed


def test_a_failed_push_leaves_nothing_behind_and_the_rerun_works(run_cli, opt_ws, stub):
    seed(sqlite_url(opt_ws))
    seed_held_out(sqlite_url(opt_ws))
    stub.script = scripted(answer(critic_answer(GOOD_DIFF)))
    base, text = head(opt_ws), prompt_text(opt_ws)
    args = ("--auto-apply", "--branch", "promptloop/opt-1", "--push")

    for _ in range(2):  # no "branch already exists" the second time
        result = optimize(run_cli, opt_ws, stub, *args)

        assert result.returncode == 1
        assert result.stderr == ("Error: git push to 'origin' failed: no such remote; the branch "
                                 "promptloop/opt-1 was removed, nothing changed\n")
        assert (head(opt_ws), prompt_text(opt_ws)) == (base, text)
        branches = subprocess.run(["git", "-C", str(opt_ws), "branch", "--list", "promptloop/*"],
                                  capture_output=True, text=True, check=True).stdout
        assert branches == ""
    statuses = [(run["status"], run["result_sha"]) for run in runs(sqlite_url(opt_ws))]
    assert statuses == [("error", None), ("error", None)]
    assert "no such remote" in runs(sqlite_url(opt_ws))[0]["error"]


def test_push_needs_a_branch(run_cli, opt_ws):
    result = optimize(run_cli, opt_ws, None, "--push")
    assert result.returncode == 2
    assert "--push needs --branch" in result.stderr


def test_a_cached_rerun_makes_no_http_call(run_cli, opt_ws, stub):
    seed(sqlite_url(opt_ws))
    seed_held_out(sqlite_url(opt_ws))
    stub.script = scripted(answer(critic_answer(BAD_DIFF)), answer(critic_answer(GOOD_DIFF)))

    first = optimize(run_cli, opt_ws, stub, "--dry-run")
    second = optimize(run_cli, opt_ws, stub, "--dry-run")

    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert len(critic_requests(stub.requests)) == 2  # both from the first run
    assert GOOD_LINE in second.stdout
    rerun = runs(sqlite_url(opt_ws))[0]
    assert rerun["llm_calls"] == 0 and rerun["gates"]["cached_calls"] == 2 + 40

    stub.script = scripted(answer(critic_answer(GOOD_DIFF)))
    third = optimize(run_cli, opt_ws, stub, "--dry-run", "--no-cache")
    assert third.returncode == 0, third.stderr
    assert len(critic_requests(stub.requests)) == 3


def test_heuristic_engine_by_default_without_a_key(run_cli, opt_ws):
    base = head(opt_ws)

    result = optimize(run_cli, opt_ws, None, "--auto-apply")

    assert result.returncode == 0, result.stderr
    assert "engine: heuristic (offline rewrite, no LLM)" in result.stdout
    # no decisions, so no evidence: the example prompt gets no edit that changes a decision
    # (tests/optimize/test_optimize_evidence.py checks what is applied when there is one)
    assert "Nothing applied: no change proposed" in result.stdout
    assert head(opt_ws) == base
    [run] = runs(sqlite_url(opt_ws))
    assert (run["status"], run["engine"], run["llm_calls"]) == ("rejected", "heuristic", 0)


def test_llm_engine_without_an_endpoint_is_an_error(run_cli, opt_ws):
    result = optimize(run_cli, opt_ws, None, "--engine", "llm")
    assert result.returncode == 1
    assert result.stderr == f"Error: {NO_LLM_CONFIGURED}\n"


def test_no_failure_cases_means_no_call(run_cli, opt_ws, stub):
    result = optimize(run_cli, opt_ws, stub, "--auto-apply")
    assert result.returncode == 0, result.stderr
    assert "No failure cases in the last 30 days." in result.stdout
    assert "Nothing applied: no change proposed" in result.stdout
    assert stub.requests == []
    assert runs(sqlite_url(opt_ws))[0]["status"] == "rejected"


def test_json_summary(run_cli, opt_ws, stub):
    [decision] = seed(sqlite_url(opt_ws))
    seed_held_out(sqlite_url(opt_ws))
    stub.script = scripted(answer(critic_answer(GOOD_DIFF)))

    result = optimize(run_cli, opt_ws, stub, "--json", "--auto-apply")

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["status"], data["applied"], data["commit"]) == ("applied", True, head(opt_ws))
    assert data["agent"] == AGENT and data["engine"] == "llm" and data["passed"] is True
    assert [c["case_id"] for c in data["failure_cases"]] == [f"d{decision}"]
    assert [g["name"] for g in data["gates"]] == ["placeholders", "slots", "size", "scores",
                                                  "change", "taint", "replay"]
    assert data["usage"] == {"calls": 41, "cached_calls": 0, "prompt_tokens": 120 * 41,
                             "completion_tokens": 40 * 41}
    replay = data["gates"][-1]
    assert (replay["data"]["fixed"], replay["data"]["broken"], replay["data"]["cases"]) == (
        8, 0, 20)
    assert replay["data"]["p_value"] == 0.003906 and replay["data"]["alpha"] == 0.1
    assert replay["data"]["brier"]["change"] == -0.08
    assert data["held_out"]["decisions"] == 20 and data["held_out"]["cut"]
    assert (data["outcome_type"], data["band"]) == ("return_24h", 0.005)
    assert GOOD_LINE in data["diff"] and data["scores_after"]["overall"] > \
        data["scores_before"]["overall"]


def test_github_step_summary_is_appended(run_cli, opt_ws, stub, tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n")
    seed(sqlite_url(opt_ws))
    seed_held_out(sqlite_url(opt_ws))
    stub.script = scripted(answer(critic_answer(GOOD_DIFF)))

    result = optimize(run_cli, opt_ws, stub, "--auto-apply",
                      env={"GITHUB_STEP_SUMMARY": str(summary)})

    assert result.returncode == 0, result.stderr
    text = summary.read_text()
    assert text.startswith("# earlier step\n## promptloop optimize: MarketAnalyst\n")
    assert "**Applied as" in text and "| overall |" in text and "| scores | pass |" in text
    assert f"````diff\n{GOOD_DIFF.rstrip()}\n````" in text


@pytest.mark.parametrize(("reply", "status"), [("y", "applied"), ("n", "rejected")])
def test_the_apply_question_on_a_terminal(opt_ws, stub, reply, status):
    seed(sqlite_url(opt_ws))
    seed_held_out(sqlite_url(opt_ws))
    stub.script = scripted(answer(critic_answer(GOOD_DIFF)))
    base = head(opt_ws)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "PROMPTLOOP_"))}
    master, terminal = pty.openpty()
    try:
        os.write(master, f"{reply}\n".encode())  # typed ahead; read when the question comes
        result = subprocess.run(
            [str(Path(sys.executable).with_name("promptloop")), "-C", str(opt_ws), "optimize",
             "--agent", AGENT], stdin=terminal, capture_output=True, text=True, timeout=120,
            env={**env, **llm_env(stub)})
    finally:
        os.close(master)
        os.close(terminal)

    assert result.returncode == 0, result.stderr
    assert "Apply? [y/N]" in result.stdout
    assert ("Nothing applied (declined by the user)." in result.stdout) == (status == "rejected")
    assert runs(sqlite_url(opt_ws))[0]["status"] == status
    assert (head(opt_ws, "HEAD~1") if status == "applied" else head(opt_ws)) == base


def test_the_replay_gate_judges_held_out_decisions_and_signs_the_commit(run_cli, opt_ws):
    ids = seed(sqlite_url(opt_ws), failures=3, successes=2)
    held = seed_held_out(sqlite_url(opt_ws))
    with StubLLM(scripted(answer(critic_answer(GOOD_DIFF)))) as stub:
        result = optimize(run_cli, opt_ws, stub, "--auto-apply")
        calls = len(stub.requests)

    assert result.returncode == 0, result.stderr
    assert re.search(r"walk-forward: 20 decision\(s\) after the cut \S+ \(8 failure\(s\), 12 "
                     r"success\(es\)\) are held out from the critic", result.stdout)
    assert "Failure cases shown to the critic (3)" in result.stdout
    assert re.search(r"replay\s+.\s*pass\s+.\s*fixed 8, broke 0 of 20 held-out decisions",
                     result.stdout)
    assert calls == 1 + 2 * 20  # the critic, then both prompts on the 20 held-out decisions
    found = trailers(commit_message(opt_ws))
    assert found["Promptloop-Replay"].startswith("fixed 8, broke 0 of 20 held-out decisions")
    assert sorted(found["Promptloop-Failure-Cases"].split(",")) == sorted(
        f"d{i}" for i in ids[:3])
    [run] = runs(sqlite_url(opt_ws))
    judged = run["gates"]["held_out"]
    assert sorted(judged["failure_case_ids"] + judged["success_case_ids"]) == sorted(
        f"d{i}" for i in held)


def test_outcome_type_and_band_choose_what_judges_the_calls(run_cli, opt_ws, stub):
    """Under return_4h every recorded call of the window was right: nothing to show."""
    from tracker import DecisionTracker

    [decision] = seed(sqlite_url(opt_ws))
    tracker = DecisionTracker(sqlite_url(opt_ws))
    tracker.track_decision_outcome(decision, "return_4h", 0.02)
    tracker.close()

    result = optimize(run_cli, opt_ws, stub, "--json", "--outcome-type", "return_4h",
                      "--band", "0.01")

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["outcome_type"], data["band"], data["failure_cases"]) == (
        "return_4h", 0.01, [])
    assert stub.requests == []
