"""``promptloop doctor``: run :func:`agents.doctor.run_checks` and render one line per check.

``✓`` ok, ``✗`` failed (followed by an indented ``fix:`` line), ``–`` skipped. Exit code 1
when any check failed. ``--json`` prints ``{"ok": bool, "checks": [{"name", "status",
"detail", "fix"}]}`` (documented in docs/doctor.md).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click

from cli.output import escape, print_json, stdout

MARKS = {"ok": "[green]✓[/]", "fail": "[red]✗[/]", "skipped": "[dim]–[/]"}


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON (documented, stable keys).")
@click.option("--offline", is_flag=True, help="Skip every check that needs the network.")
@click.option("--symbol", default="BTCUSDT", show_default=True,
              help="The symbol whose market data is checked.")
@click.option("--source", default=None,
              help="Market source to check: csv:FILE or ccxt:EXCHANGE (as for session run).")
@click.option("--timeout", type=click.FloatRange(0.1, 30), default=5.0, show_default=True,
              help="Seconds any one network check may wait.")
@click.pass_context
def doctor(ctx: click.Context, as_json: bool, offline: bool, symbol: str, source: str | None,
           timeout: float) -> None:
    """Check the workspace, git, the database and the LLM endpoint; say how to fix each
    problem. Run it first when something is wrong. Exit code 1 if any check fails."""
    from agents.doctor import DoctorOptions, run_checks

    root = ctx.find_root().obj.get("workspace")
    options = DoctorOptions(offline=offline, timeout=timeout, symbol=symbol, source=source)
    checks = run_checks(Path(root) if root else None, options)
    failed = any(check.status == "fail" for check in checks)
    if as_json:
        print_json({"ok": not failed, "checks": [asdict(check) for check in checks]})
    else:
        width = max(len(check.name) for check in checks)
        for check in checks:
            stdout.print(f"{MARKS[check.status]} {check.name:<{width}}  {escape(check.detail)}")
            if check.fix:
                stdout.print(f"  {'':<{width}}  fix: {escape(check.fix)}")
    if failed:
        ctx.exit(1)
