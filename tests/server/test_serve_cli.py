"""The serve and keys commands stay light: help imports neither fastapi nor uvicorn."""

from __future__ import annotations

import subprocess
import sys


def test_help_of_serve_and_keys_imports_no_web_framework() -> None:
    code = (
        "import sys, contextlib, io; from cli.main import cli\n"
        "for args in (['--help'], ['serve', '--help'], ['keys', '--help']):\n"
        "    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "        cli(args)\n"
        "print(sorted(m for m in ('fastapi', 'uvicorn', 'starlette') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_serve_outside_a_workspace_is_one_line(run_cli, tmp_path) -> None:
    result = run_cli("serve", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (1, (
        f"Error: no promptloop.toml in {tmp_path.resolve()} or its parents; "
        "run 'promptloop init' first\n"))
