"""What the dashboard's pages show, gathered from the packages below (no HTML here).

Each function calls the library (the analysis report, the tracker, the prompt repository,
the release flow) and returns plain values for a template. The promote and rollback actions
answer ``(notice, error)``: a library refusal is shown on the page, never a traceback.

Speed over a large tracker: the analysis behind the overview, the agent page and the prompt
page's per-version accuracy aggregates the whole window, so each is kept in a
:class:`tracker.rollups.FreshCache` (``views``, one per worker) per page and window: served
from memory while younger than its ``max_age`` (10 s), then served stale while one background
thread recomputes it. Only the first request for a page and window waits on the
aggregation. The latest decisions (the live fragment), the labels and the diff are read on
every request.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from agents.errors import AgentError
from prompt_repo.errors import PromptRepoError
from server import dashboard_charts as charts
from server.context import ServerContext
from tracker.analysis.metrics import wilson
from tracker.analysis.model import Block, Report, VersionPart
from tracker.errors import TrackerError
from tracker.rollups import FreshCache

Views = FreshCache[tuple[Any, ...], Any]


def analysis(context: ServerContext, agents: list[str] | None, days: int,
             until: datetime | None = None) -> Report:
    """The analysis report for ``agents`` over ``days`` (nothing stored), with the
    workspace's ``[analysis]`` settings, as ``promptloop analyze`` reads them; its
    ``to_dict()`` is the ``analyze --json`` document."""
    from tracker.analysis import analyze_performance

    with context.prompts() as repo:
        names = {name: {v.sha: v.name for v in repo.log(name)} for name in repo.agents()}
    return analyze_performance(
        context.tracker.engine, agents, days, until=until, store_metrics=False,
        version_names=lambda name, sha: names.get(name, {}).get(sha),
        **context.workspace.analysis.analyze_options())


def interval(block: Block | None) -> tuple[float | None, float | None]:
    """The 95% Wilson interval of the block's accuracy."""
    if block is None or not block.with_outcome or block.accuracy is None:
        return None, None
    n = block.with_outcome
    low, high = wilson(round(block.accuracy * n), n)
    return low, high


def trend(block: Block | None) -> str:
    """Up, down or flat: the last period's accuracy against the one before."""
    over_time = block.over_time if block is not None else ()
    points = [p.accuracy for p in over_time if p.accuracy is not None]
    if len(points) < 2:
        return ""
    delta = points[-1] - points[-2]
    return "▲" if delta > 0.02 else "▼" if delta < -0.02 else "▬"


def overview_report(context: ServerContext, views: Views, days: int) -> Report:
    """Every agent's analysis over ``days``, at most ``views.max_age`` seconds old."""
    report: Report = views.get(("overview", days), lambda: analysis(context, None, days))
    return report


def overview_rows(report: Report, configured: list[str]) -> list[dict[str, Any]]:
    blocks = report.agents
    rows = []
    for name in sorted(set(configured) | set(blocks)):
        block = blocks.get(name)  # None: configured, no calls in the window
        low, high = interval(block)
        calibration = block.calibration if block is not None else None
        rows.append({"name": name, "decisions": block.decisions if block else 0,
                     "with_outcome": block.with_outcome if block else 0,
                     "accuracy": block.accuracy if block else None, "low": low, "high": high,
                     "brier": calibration.brier if calibration else None,
                     "ece": calibration.ece if calibration else None,
                     "trend": trend(block)})
    return rows


def agent_view(context: ServerContext, views: Views, name: str, days: int
               ) -> dict[str, Any]:
    """The agent page's numbers, charts and cases, at most ``views.max_age`` seconds old."""
    view: dict[str, Any] = views.get(("agent", name, days),
                                     lambda: _agent_view(context, name, days))
    return view


def _agent_view(context: ServerContext, name: str, days: int) -> dict[str, Any]:
    block = analysis(context, [name], days).agents.get(name)
    settings = _case_settings(context)
    cases = context.tracker.failure_cases(name, days, limit=10, **settings)
    low, high = interval(block)
    return {"block": block, "low": low, "high": high, "cases": cases,
            "over_time": charts.accuracy_over_time(block.over_time if block else (),
                                                   _markers(context, name)),
            "reliability": charts.reliability(block.calibration.bins if block else ())}


def _case_settings(context: ServerContext) -> dict[str, Any]:
    table = context.workspace.section("analysis")
    return {key: table[key] for key in ("outcome_type", "band") if table.get(key) is not None}


def _markers(context: ServerContext, name: str) -> list[tuple[str, str]]:
    """(day, text) for every version of the prompt and every label naming one."""
    with context.prompts() as repo:
        versions = repo.log(name)
        labels = repo.labels().entries([name])
    dates = {v.sha: v.date.date().isoformat() for v in versions}
    marks = [(dates[v.sha], v.name) for v in versions]
    marks += [(dates[e.sha], e.label) for e in labels if e.sha in dates and not e.implicit]
    return marks


def prompt_view(context: ServerContext, views: Views, name: str, a: str | None,
                b: str | None) -> dict[str, Any]:
    """Versions (newest first) with labels, scores and accuracy (at most ``views.max_age``
    seconds old); the diff from a to b."""
    accuracy: dict[str, Any] = views.get(("versions", name),
                                         lambda: _version_accuracy(context, name))
    with context.prompts() as repo:
        versions = repo.log(name)
        entries = repo.labels().entries([name])
        a = a or (versions[1].sha if len(versions) > 1 else None)
        b = b or (versions[0].sha if versions else None)
        diff, diff_error = "", None
        if a and b:
            try:
                diff = repo.diff(name, a, b)
            except PromptRepoError as exc:
                diff_error = str(exc)
    labels: dict[str, list[str]] = {}
    for entry in entries:
        labels.setdefault(entry.sha, []).append(entry.label)
    rows = [{"version": v, "labels": labels.get(v.sha, []), "accuracy": accuracy.get(v.sha),
             "scores": {key.removeprefix("Promptloop-"): value
                        for key, value in v.trailers.items() if "Scores" in key}}
            for v in versions]
    label_names = sorted({entry.label for entry in entries} | {"production", "candidate"})
    shadow = _shadow(context, name) if any(e.label == "candidate" for e in entries) else None
    return {"rows": rows, "label_names": label_names, "a": a, "b": b, "shadow": shadow,
            "diff_lines": _diff_lines(diff), "diff_error": diff_error}


def _version_accuracy(context: ServerContext, name: str) -> Mapping[str, VersionPart]:
    block = analysis(context, [name], 3650).agents.get(name)
    return block.by_prompt_version if block is not None else {}


def _shadow(context: ServerContext, name: str) -> str:
    """Production against the candidate on the decisions both answered (live shadow)."""
    from agents.release import compare_live, describe

    try:
        return describe(compare_live(context.workspace, context.tracker.engine, name,
                                     **_case_settings(context)))
    except (AgentError, PromptRepoError, TrackerError) as exc:
        return f"no comparison: {exc}"


def _diff_lines(diff: str) -> list[tuple[str, str]]:
    """(css class, line) for a unified diff."""
    lines = []
    for line in diff.splitlines():
        kind = ("meta" if line.startswith(("diff ", "index ", "--- ", "+++ ")) else
                "hunk" if line.startswith("@@") else
                "add" if line.startswith("+") else "del" if line.startswith("-") else "ctx")
        lines.append((kind, line))
    return lines


def promote(context: ServerContext, name: str, form: dict[str, str]
            ) -> tuple[str | None, str | None]:
    """Move a label (default production) to the source's version, as ``promptloop
    promote`` does: only on a conclusive comparison unless ``force`` is ticked."""
    from agents.release import describe
    from agents.release import promote as promote_label

    source = form.get("source", "candidate").strip() or "candidate"
    target = form.get("target", "production").strip() or "production"
    try:
        done = promote_label(context.workspace, context.tracker.engine, name, source, target,
                             force=form.get("force") == "on",
                             reason=form.get("reason", "").strip() or "from the dashboard")
    except (AgentError, PromptRepoError, TrackerError) as exc:
        return None, str(exc)
    forced = " (forced)" if done.forced else ""
    return (f"{target} now names {done.move.new[:7] if done.move.new else '?'}{forced}: "
            f"{describe(done.comparison)}"), None


def rollback(context: ServerContext, name: str, form: dict[str, str]
             ) -> tuple[str | None, str | None]:
    """A new commit restoring the chosen version (history is kept)."""
    to = form.get("to", "").strip()
    if not to:
        return None, "choose the version to roll back to"
    try:
        with context.prompts() as repo:
            sha = repo.rollback(name, to)
    except PromptRepoError as exc:
        return None, str(exc)
    return f"rolled back to {to}: new commit {sha[:7]}", None
