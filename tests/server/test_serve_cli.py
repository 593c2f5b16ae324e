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
