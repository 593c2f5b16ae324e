"""The release flow: ``label set|list|log|rm``, ``compare`` and ``promote``.

Each command opens the workspace, calls one library function (:mod:`prompt_repo.labels`,
:mod:`tracker.compare`, :mod:`agents.release`) and renders. ``--json`` shapes are in
docs/release.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from cli.output import escape, print_json, stderr, stdout, workspace

if TYPE_CHECKING:
    from prompt_repo.labels import LabelMove, Labels
    from tracker.compare import Comparison

AGENT_HELP = "Agent name, as in promptloop.toml."
JSON_HELP = "Print JSON (documented, stable keys) instead of text."


@contextmanager
def _labels(ctx: click.Context) -> Iterator[Labels]:
    from prompt_repo.repo import PromptRepo

    with PromptRepo(workspace(ctx)) as repo:
        yield repo.labels()


def _move_json(move: LabelMove) -> dict[str, Any]:
    return {"agent": move.agent, "label": move.label, "from": move.old, "to": move.new,
            "commit": move.commit, "author": move.author, "date": move.date.isoformat(),
            "reason": move.reason, "forced": move.forced}


def _short(sha: str | None) -> str:
    return sha[:7] if sha else "unset"


# -- label -------------------------------------------------------------------------------


@click.group(help="Prompt labels (production, candidate, ...): which version of an agent a "
             "label names. Each move is one commit of .promptloop-labels.toml.")
def label() -> None:
    pass


@label.command("set", help="Point LABEL of AGENT at REV (vN, a sha, a git revision or another "
               "label). Setting a label other than production on an agent whose production is "
               "unset pins production at the newest version in the same commit.")
@click.argument("agent")
@click.argument("name", metavar="LABEL")
@click.argument("rev")
@click.option("--reason", "-m", default=None, help="Why: kept in the commit message.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def set_label(ctx: click.Context, agent: str, name: str, rev: str, reason: str | None,
              as_json: bool) -> None:
    with _labels(ctx) as labels:
        move = labels.set(agent, name, rev, reason=reason)
    if as_json:
        print_json(_move_json(move))
        return
    stdout.print(f"{escape(agent)} {escape(name)}: {_short(move.old)} -> {_short(move.new)}"
                 f" (commit {move.commit[:7]}).")


@label.command("rm", help="Remove LABEL of AGENT (an agent without production follows its "
               "newest version again).")
@click.argument("agent")
@click.argument("name", metavar="LABEL")
@click.option("--reason", "-m", default=None, help="Why: kept in the commit message.")
@click.pass_context
def remove_label(ctx: click.Context, agent: str, name: str, reason: str | None) -> None:
    with _labels(ctx) as labels:
        move = labels.remove(agent, name, reason=reason)
    stdout.print(f"{escape(agent)} {escape(name)}: {_short(move.old)} -> unset"
                 f" (commit {move.commit[:7]}).")


@label.command("list", help="List the labels of AGENT (default: every agent).")
@click.argument("agent", required=False)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def list_labels(ctx: click.Context, agent: str | None, as_json: bool) -> None:
    from rich.table import Table

    with _labels(ctx) as labels:
        entries = labels.entries([agent] if agent else None)
    if as_json:
        print_json([{"agent": e.agent, "label": e.label, "sha": e.sha, "version": e.version,
                     "implicit": e.implicit} for e in entries])
        return
    table = Table("agent", "label", "version", "sha")
    for e in entries:
        version = e.version + (" (newest; not pinned)" if e.implicit else "")
        table.add_row(escape(e.agent), escape(e.label), version, e.sha[:7])
    stdout.print(table)


@label.command("log", help="The moves of LABEL of AGENT, newest first: when, who, from what "
               "to what, why.")
@click.argument("agent")
@click.argument("name", metavar="LABEL")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def log_label(ctx: click.Context, agent: str, name: str, as_json: bool) -> None:
    with _labels(ctx) as labels:
        moves = labels.log(agent, name)
    if as_json:
        print_json([_move_json(m) for m in moves])
        return
    if not moves:
        stderr.print(f"{escape(agent)}'s {escape(name)} has never been set.")
        return
    for m in moves:
        forced = " [red](forced)[/red]" if m.forced else ""
        stdout.print(f"{m.date:%Y-%m-%d %H:%M} {escape(m.author)}: {_short(m.old)} ->"
                     f" {_short(m.new)}{forced} (commit {m.commit[:7]})")
        if m.reason:
            stdout.print(f"   {escape(m.reason)}")


# -- compare and promote -----------------------------------------------------------------


def _comparison_json(c: Comparison) -> dict[str, Any]:
    return c.to_dict()


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _interval(pair: tuple[Any, Any], fmt: str = ".1%") -> str:
    low, high = pair
    return "-" if low is None else f"[{low:{fmt}}, {high:{fmt}}]"


def _num(value: float | None, fmt: str = ".4f") -> str:
    return "-" if value is None else f"{value:{fmt}}"


def _comparison_lines(c: Any) -> list[tuple[str, str, str]]:
    """(what, A, B) rows shared by the terminal table and the Markdown summary."""
    return [
        ("version", f"{c.a} ({c.a_sha[:7]})", f"{c.b} ({c.b_sha[:7]})"),
        ("accuracy (95% Wilson)", f"{_pct(c.a_accuracy)} {_interval(c.a_ci)}",
         f"{_pct(c.b_accuracy)} {_interval(c.b_ci)}"),
        ("right only here", str(c.only_a), str(c.only_b)),
        ("Brier score", _num(c.a_brier), _num(c.b_brier)),
    ]


def _verdict_lines(c: Any) -> list[str]:
    from agents.release import describe

    interval = _interval(c.brier_diff_ci, ".4f")
    diff = (f"Paired Brier difference B - A: {_num(c.brier_diff)} (95% normal interval on the"
            f" paired differences {interval}).")
    return [
        f"{c.pairs} paired decisions ({c.source}); both right {c.both_correct}, both wrong"
        f" {c.both_wrong}. Exact McNemar p = {c.mcnemar_p:.4g} (two-sided); B better:"
        f" p = {c.p_b_better:.4g}, B worse: p = {c.p_b_worse:.4g} (one-sided, alpha {c.alpha:g}).",
        diff,
        f"Verdict: {c.verdict}. {describe(c)}.",
    ]


def comparison_markdown(c: Any, title: str) -> str:
    rows = "\n".join(f"| {what} | {a} | {b} |" for what, a, b in _comparison_lines(c))
    return (f"### {title}\n\n| | A | B |\n| --- | --- | --- |\n{rows}\n\n"
            + "\n\n".join(_verdict_lines(c)) + "\n")


def _render_comparison(c: Any) -> None:
    from rich.table import Table

    table = Table("", "A", "B")
    for what, a, b in _comparison_lines(c):
        table.add_row(what, escape(a), escape(b))
    stdout.print(table)
    for line in _verdict_lines(c):
        stdout.print(escape(line))


@click.command(help="Compare two versions of an agent on the same decisions: live (recorded "
               "pairs, usually production and its shadow) or --replay (both run through the "
               "LLM on recorded contexts). Accuracy with intervals, discordant counts, exact "
               "McNemar test, paired Brier difference, and how much more data a verdict needs.")
@click.option("--agent", "-a", required=True, help=AGENT_HELP)
@click.option("--a", "first", default="production", show_default=True,
              help="Version A: a label, vN or a sha.")
@click.option("--b", "second", default="candidate", show_default=True,
              help="Version B: a label, vN or a sha.")
@click.option("--days", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Only decisions of the last N days (default: all).")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=None, help="Significance level (default: [release] alpha, else 0.05).")
@click.option("--replay", is_flag=True, help="Run both versions through the LLM on recorded "
              "contexts instead of using recorded pairs.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True,
              help="With --replay: how many recorded decisions to replay.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="With --replay: the seed of the sample of decisions.")
@click.option("--no-cache", is_flag=True, help="With --replay: bypass the LLM response cache.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def compare(ctx: click.Context, agent: str, first: str, second: str, days: float | None,
            alpha: float | None, replay: bool, limit: int, seed: int, no_cache: bool,
            as_json: bool) -> None:
    from agents.release import compare_live, compare_replay
    from agents.session import make_client
    from cli.tracker_cmds import open_tracker

    ws = workspace(ctx)
    with open_tracker(ctx) as tracker:
        if replay:
            with make_client(ws, use_cache=not no_cache) as client:
                result = compare_replay(ws, tracker.engine, client, agent, first, second,
                                        days=days, limit=limit, seed=seed, alpha=alpha)
        else:
            result = compare_live(ws, tracker.engine, agent, first, second, days=days,
                                  alpha=alpha)
    step_summary(comparison_markdown(result, f"promptloop compare: {agent}"))
    if as_json:
        print_json(_comparison_json(result))
        return
    _render_comparison(result)


@click.command(help="Move label --to (default production) onto the version of --from "
               "(default candidate) only when compare says it is better at the configured "
               "alpha (one-sided exact test on the paired decisions). Demotion is the same "
               "command with an older version as --from.")
@click.option("--agent", "-a", required=True, help=AGENT_HELP)
@click.option("--from", "source", default="candidate", show_default=True,
              help="The version to promote: a label, vN or a sha.")
@click.option("--to", "target", default="production", show_default=True,
              help="The label to move.")
@click.option("--days", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Compare on the decisions of the last N days only (default: all).")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=None, help="Significance level (default: [release] alpha, else 0.05).")
@click.option("--force", is_flag=True, help="Move the label whatever the comparison says "
              "(recorded as forced in the label commit).")
@click.option("--auto", is_flag=True, help="For CI: never ask; exit 0 when promoted and when "
              "the comparison is not (yet) conclusive, 1 only on errors.")
@click.option("--reason", "-m", default=None, help="Why: kept in the label commit.")
@click.option("--yes", "-y", "assume_yes", is_flag=True, help="Do not ask before moving.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def promote(ctx: click.Context, agent: str, source: str, target: str, days: float | None,
            alpha: float | None, force: bool, auto: bool, reason: str | None,
            assume_yes: bool, as_json: bool) -> None:
    from agents.release import NotPromoted, compare_live
    from agents.release import promote as promote_label
    from cli.output import confirm
    from cli.tracker_cmds import open_tracker

    ws = workspace(ctx)
    with open_tracker(ctx) as tracker:
        if not (auto or as_json or assume_yes):
            preview = compare_live(ws, tracker.engine, agent, target, source, days=days,
                                   alpha=alpha)
            _render_comparison(preview)
            if (preview.verdict == "better" or force) and not confirm(
                    f"Move {agent}'s {target} to {preview.b_sha[:7]}?", False):
                stderr.print("Nothing changed.")
                ctx.exit(1)
        try:
            done = promote_label(ws, tracker.engine, agent, source, target, force=force,
                                 days=days, alpha=alpha, reason=reason)
        except NotPromoted as exc:
            _report_not_promoted(exc, agent, as_json)
            if auto:
                return
            ctx.exit(1)
    step_summary(comparison_markdown(done.comparison, f"promptloop promote: {agent}")
                 + f"\nPromoted: {target} -> {done.move.new}{' (forced)' if force else ''}.\n")
    if as_json:
        print_json({"promoted": True, "forced": done.forced, "move": _move_json(done.move),
                    "comparison": _comparison_json(done.comparison)})
        return
    forced = " (forced)" if done.forced else ""
    stdout.print(f"Promoted{forced}: {escape(agent)} {escape(target)} {_short(done.move.old)}"
                 f" -> {_short(done.move.new)} (commit {done.move.commit[:7]}).")


def _report_not_promoted(exc: Any, agent: str, as_json: bool) -> None:
    step_summary(comparison_markdown(exc.comparison, f"promptloop promote: {agent}")
                 + f"\nNot promoted: {exc.comparison.verdict}.\n")
    if as_json:
        print_json({"promoted": False, "forced": False, "move": None,
                    "comparison": _comparison_json(exc.comparison)})
    else:
        stderr.print(escape(str(exc)[0].upper() + str(exc)[1:]))


def step_summary(markdown: str) -> None:
    """Append ``markdown`` to GitHub's step summary when running in GitHub Actions."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(markdown.rstrip("\n") + "\n")
