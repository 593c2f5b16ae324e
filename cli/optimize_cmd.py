"""``promptloop optimize``: a critic proposes a prompt diff; preview it, apply it as a commit.

The command builds an :class:`optimizer.AgentPromptOptimizer`, runs ``propose`` under a
progress display, renders the proposal (failure summary, critique, diff, scores, gates)
and hands it to :func:`optimizer.apply_policy.conclude` (the policy the demo uses too),
which applies it or records why not; the command only says whether it may ask:

- nothing passed the gates (or nothing to change): recorded ``rejected``, exit 0;
- ``--dry-run``: recorded ``dry-run``;
- ``--auto-apply``: applied without a question (only a candidate that passed every gate
  can be applied at all);
- ``--json`` or no terminal on stdin: shown only, recorded ``dry-run`` (a CI job that
  forgot ``--auto-apply`` never hangs and never applies by surprise);
- otherwise ``Apply? [y/N]``; no is recorded ``rejected``.

Exit codes: 0 when applied or when nothing was worth applying (or not applied by choice),
1 on an error (one line on stderr; the run is recorded with status ``error``). When
``GITHUB_STEP_SUMMARY`` names a file, a Markdown summary is appended to it.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli.output import Moment, escape, print_json, stderr, stdin_is_terminal, stdout, workspace
from cli.tracker_cmds import open_tracker

if TYPE_CHECKING:
    from optimizer.apply_policy import ApplyMode, ApplyOutcome
    from optimizer.proposal import Proposal


@click.command(
    help="Let a critic LLM (or the offline heuristic engine) propose a diff to an agent's "
    "prompt from its failure cases; preview it, gate it, and apply it as one git commit. "
    "Exit code 0 when applied or when nothing was worth applying, 1 on error."
)
@click.option("--agent", required=True, help="The agent whose prompt to optimize.")
@click.option("--days", type=click.IntRange(min=1), default=30, show_default=True,
              help="Look back this many days for failure cases.")
@click.option("--until", type=Moment(), default=None,
              help="End of the window, ISO 8601 (a time without zone is UTC). Default: now.")
@click.option("--rounds", type=click.IntRange(1, 10), default=1, show_default=True,
              help="Independent critic attempts; the best candidate passing every gate wins.")
@click.option("--engine", type=click.Choice(["llm", "heuristic"]), default=None,
              help="llm (default when an LLM is configured) or heuristic (offline rewrite).")
@click.option("--model", default=None, help="The critic model (overrides [llm] model).")
@click.option("--dry-run", is_flag=True, help="Show the proposal; apply and commit nothing.")
@click.option("--auto-apply", is_flag=True,
              help="Apply without asking when every gate passed (CI mode).")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON summary instead of the preview; never asks.")
@click.option("--branch", default=None,
              help="Commit on this new branch from HEAD, leaving the checkout alone.")
@click.option("--push", is_flag=True, help="Push the --branch to origin after committing.")
@click.option("--no-cache", is_flag=True, help="Bypass the on-disk LLM response cache.")
@click.option("--outcome-type", default="return_24h", show_default=True,
              help="The outcome type a decision is judged on.")
@click.option("--band", type=click.FloatRange(min=0), default=0.005, show_default=True,
              help="HOLD band of the correctness rule (an outcome's own band wins).")
@click.option("--label", default=None, help="Point this label (e.g. candidate) at the applied "
              "version instead of letting production follow it (production is pinned first).")
@click.pass_context
def optimize(ctx: click.Context, agent: str, days: int, until: datetime | None, rounds: int,
             engine: str | None,
             model: str | None, dry_run: bool, auto_apply: bool, as_json: bool,
             branch: str | None, push: bool, no_cache: bool, outcome_type: str,
             band: float, label: str | None) -> None:
    if label and branch:
        raise click.UsageError("--label moves a label on the checked-out branch: drop --branch")
    if push and not branch:
        raise click.UsageError("--push needs --branch (only a new branch is pushed)")
    if dry_run and auto_apply:
        raise click.UsageError("--dry-run and --auto-apply exclude each other")
    from optimizer.apply_policy import conclude
    from optimizer.loop import AgentPromptOptimizer

    status = stderr.status("Starting")
    with open_tracker(ctx) as tracker:
        optimizer = AgentPromptOptimizer(
            workspace(ctx, model=model), tracker=tracker, use_cache=not no_cache,
            on_progress=lambda message: status.update(escape(message)),
        )
        try:
            with status:
                proposal = optimizer.propose(agent, days=days, rounds=rounds, engine=engine,
                                             until=until, outcome_type=outcome_type,
                                             band=band)
            if not as_json:
                _render(proposal)
            outcome = conclude(optimizer, proposal,
                               _mode(dry_run, auto_apply, as_json, branch, push, label))
        except Exception as exc:
            _step_summary_error(agent, exc)
            raise
        finally:
            optimizer.close()
    if as_json:
        print_json({**proposal.to_dict(), **outcome.to_dict()})
    else:
        stdout.print(("[green]" if outcome.applied else "[yellow]") + escape(outcome.message))
    _step_summary(proposal, outcome)


def _mode(dry_run: bool, auto_apply: bool, as_json: bool, branch: str | None, push: bool,
          label: str | None) -> ApplyMode:
    """The policy's mode: ``Apply?`` is asked only on a terminal and never with --json."""
    from optimizer.apply_policy import ApplyMode

    def confirm() -> bool:
        return click.confirm("Apply?", default=False)

    asks = not as_json and stdin_is_terminal()
    return ApplyMode(dry_run=dry_run, auto_apply=auto_apply, confirm=confirm if asks else None,
                     branch=branch, push=push, label=label)


# -- rendering ----------------------------------------------------------------------------


def _render(proposal: Proposal) -> None:
    from rich.syntax import Syntax

    engine = proposal.engine + (f" ({proposal.model})" if proposal.model else
                                " (offline rewrite, no LLM)")
    stdout.print(f"[bold]{escape(proposal.agent)}[/] {escape(str(proposal.path))} at "
                 f"{(proposal.base_sha or '')[:12]} - engine: {escape(engine)}")
    _render_failures(proposal)
    for note in proposal.notes:
        stdout.print(f"[dim]{escape(note)}[/]")
    shown = proposal.shown
    if shown is None:
        return
    if shown.diagnosis:
        stdout.print(f"\n[bold]Critique[/] (round {shown.round})\n{escape(shown.diagnosis)}\n")
    if shown.diff and shown.text is not None:
        stdout.print(Syntax(shown.diff, "diff", theme="ansi_dark", background_color="default"))
    elif shown.error:
        stdout.print(f"[red]Round {shown.round}: {escape(shown.error)}[/]")
    _render_scores(proposal)
    _render_gates(proposal)


def _render_failures(proposal: Proposal) -> None:
    from rich.table import Table

    if not proposal.failures:
        stdout.print(f"No failure cases in the last {proposal.days} days.")
        return
    table = Table(title=f"Failure cases shown to the critic ({len(proposal.failures)})",
                  title_justify="left")
    for column in ("case", "kind", "when", "condition", "action", "confidence", "return"):
        table.add_column(column)
    for case in proposal.to_dict()["failure_cases"]:
        table.add_row(escape(str(case["case_id"])), escape(str(case["kind"])),
                      str(case["timestamp"] or "")[:16], escape(str(case["market_condition"])),
                      escape(str(case["action"])), _number(case["confidence"], "{:.2f}"),
                      _number(case["outcome_value"], "{:+.2%}"))
    stdout.print(table)


def _render_scores(proposal: Proposal) -> None:
    from rich.table import Table

    after = proposal.shown.scores if proposal.shown else None
    if not proposal.scores_before or not after:
        return
    table = Table(title="Scores", title_justify="left")
    for column in ("score", "before", "after", "change"):
        table.add_column(column, justify="left" if column == "score" else "right")
    for key, before in proposal.scores_before.items():
        table.add_row(key, f"{before:.1f}", f"{after[key]:.1f}", f"{after[key] - before:+.1f}")
    stdout.print(table)


def _render_gates(proposal: Proposal) -> None:
    from rich.table import Table

    shown = proposal.shown
    if shown is None or not shown.gates:
        return
    table = Table(title="Gates", title_justify="left")
    for column in ("gate", "result", "detail"):
        table.add_column(column)
    for gate in shown.gates:
        verdict = "[green]pass[/]" if gate.passed else "[red]FAIL[/]"
        table.add_row(gate.name, verdict, escape(gate.detail))
    stdout.print(table)


def _number(value: Any, pattern: str) -> str:
    return pattern.format(value) if isinstance(value, int | float) else "-"


# -- GitHub step summary --------------------------------------------------------------------


def _step_summary(proposal: Proposal, outcome: ApplyOutcome) -> None:
    data = proposal.to_dict()
    lines = [f"## promptloop optimize: {proposal.agent}", "", f"**{outcome.message}**", "",
             f"Engine: {proposal.engine}" + (f" ({proposal.model})" if proposal.model else ""),
             f"Failure cases shown to the critic: {len(proposal.failures)}", ""]
    lines += [f"- {note}" for note in proposal.notes] + [""]
    if data["scores_before"] and data["scores_after"]:
        lines += ["| score | before | after |", "| --- | ---: | ---: |"]
        lines += [f"| {key} | {value:.1f} | {data['scores_after'][key]:.1f} |"
                  for key, value in data["scores_before"].items()] + [""]
    if data["gates"]:
        lines += ["| gate | result | detail |", "| --- | --- | --- |"]
        lines += [f"| {g['name']} | {'pass' if g['passed'] else 'FAIL'} | "
                  f"{g['detail'].replace('|', '/')} |" for g in data["gates"]] + [""]
    if data["critique"]:
        lines += ["### Critique", "", data["critique"], ""]
    if data["diff"]:
        lines += ["### Diff", "", "````diff", data["diff"].rstrip("\n"), "````", ""]
    _append_summary(lines)


def _step_summary_error(agent: str, exc: Exception) -> None:
    _append_summary([f"## promptloop optimize: {agent}", "", f"**Error:** {exc}", ""])


def _append_summary(lines: list[str]) -> None:
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if target:
        with Path(target).open("a", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
