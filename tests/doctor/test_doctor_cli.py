"""``promptloop doctor`` through the installed entry point: one line per check, the fix
under each failure, exit code 1 on any failure, --json, the key never printed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

SECRET = "sk-test-NEVER-PRINTED-77c1"


def test_a_fresh_workspace_offline(run_cli, workspace: Path) -> None:
    result = run_cli("-C", str(workspace), "doctor", "--offline")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 15 and result.stderr == ""
    assert lines[0].startswith("✓ workspace ")
    assert lines[1].split()[:4] == ["✓", "git", "repository", "on"]
    assert "– llm endpoint" in result.stdout and "--offline" in result.stdout
    assert "fix:" not in result.stdout


def test_a_failure_prints_its_fix_and_exits_1(run_cli, workspace: Path) -> None:
    subprocess.run(["git", "checkout", "-q", "--detach"], cwd=workspace, check=True)
    result = run_cli("-C", str(workspace), "doctor", "--offline")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("✗ git repository"))
    assert "HEAD is detached at" in lines[index]
    assert lines[index + 1].split() == ["fix:", "git", "switch", "BRANCH", "(or", "git",
                                        "switch", "-c", "NAME)"]


def test_json(run_cli, workspace: Path) -> None:
    (workspace / "prompts" / "MarketAnalyst.md").write_text("changed [not markup]\n")
    result = run_cli("-C", str(workspace), "doctor", "--offline", "--json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert list(data) == ["ok", "checks"] and data["ok"] is False
    assert all(list(c) == ["name", "status", "detail", "fix"] for c in data["checks"])
    [failed] = [c for c in data["checks"] if c["status"] == "fail"]
    assert failed["name"] == "prompt MarketAnalyst" and "uncommitted edits" in failed["detail"]


def test_outside_a_workspace(run_cli, tmp_path: Path) -> None:
    result = run_cli("doctor", "--offline", "--json", cwd=tmp_path)
    assert result.returncode == 1
    first = json.loads(result.stdout)["checks"][0]
    assert (first["name"], first["status"]) == ("workspace", "fail")
    assert first["fix"].startswith("promptloop init")


def test_against_an_endpoint_the_key_is_never_printed(run_cli, workspace: Path,
                                                      endpoint) -> None:
    env = {"OPENAI_BASE_URL": endpoint.url, "OPENAI_API_KEY": SECRET}
    as_json = run_cli("-C", str(workspace), "doctor", "--json", env=env)
    result = run_cli("-C", str(workspace), "doctor", env=env)
    assert (as_json.returncode, result.returncode) == (0, 0), result.stdout
    assert SECRET not in as_json.stdout + as_json.stderr + result.stdout + result.stderr
    [formats] = [line for line in result.stdout.splitlines() if "llm response formats" in line]
    assert formats.startswith("✓ llm response formats")
    assert formats.endswith("  honours json_schema, json_object, plain")


def test_a_dead_endpoint_from_the_cli(run_cli, workspace: Path, dead_url: str) -> None:
    result = run_cli("-C", str(workspace), "doctor", "--json",
                     env={"OPENAI_BASE_URL": dead_url})
    assert result.returncode == 1
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["llm endpoint"]["status"] == "fail"
    assert checks["llm model"]["status"] == "skipped"
