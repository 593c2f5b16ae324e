"""Labels in git: set, resolve, list, log; one commit of the labels file per move; refusals
change nothing; labels survive rollbacks; eight racing processes lose no move."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from prompt_repo import PromptRepo
from prompt_repo.errors import DirtyPromptFile, NoChange, PromptRepoError, UnknownRevision
from prompt_repo.labels import LABELS_FILE, PRODUCTION

AGENT = "MarketAnalyst"


def test_without_labels_production_is_the_newest_version(workspace: Path, versions) -> None:
    with PromptRepo.open(workspace) as repo:
        assert repo.read(AGENT, label=PRODUCTION).sha == versions[-1]
        assert repo.read(AGENT).sha == versions[-1]
        with pytest.raises(UnknownRevision, match="has no label 'candidate'"):
            repo.read(AGENT, label="candidate")
        assert not (workspace / LABELS_FILE).exists()


def test_labels_round_trip_and_one_commit_per_move_touches_only_the_labels_file(
    workspace: Path, versions, git
) -> None:
    with PromptRepo.open(workspace) as repo:
        labels = repo.labels()
        move = labels.set(AGENT, PRODUCTION, "v2", reason="v2 won the comparison")
        assert (move.old, move.new, move.reason) == (None, versions[1], "v2 won the comparison")
        labels.set(AGENT, "candidate", versions[3][:10])
        labels.set(AGENT, "staging", "candidate")

        assert repo.read(AGENT, label=PRODUCTION).sha == versions[1]
        assert repo.read(AGENT, label="candidate").text.endswith("Revision 4.\n")
        assert repo.read(AGENT, "staging").sha == versions[3]  # a label is a revision too
        assert repo.read(AGENT).sha == versions[-1]  # rev=None keeps meaning HEAD
        assert labels.table() == {AGENT: {PRODUCTION: versions[1], "candidate": versions[3],
                                          "staging": versions[3]}}
    for commit in git(workspace, "log", "-3", "--format=%H").split():
        assert git(workspace, "show", "--name-only", "--format=", commit).split() == [LABELS_FILE]
    assert git(workspace, "status", "--porcelain") == ""
    subject = git(workspace, "log", "-1", "--format=%s", move.commit).strip()
    assert subject == f"label({AGENT}): production unset -> {versions[1][:7]}"


def test_a_first_candidate_pins_production_at_the_newest_version(workspace, versions) -> None:
    with PromptRepo.open(workspace) as repo:
        repo.labels().set(AGENT, "candidate", "v2")
        assert repo.labels().table()[AGENT] == {PRODUCTION: versions[3], "candidate": versions[1]}
        repo.apply(AGENT, "a newer prompt\n", "v5")
        assert repo.read(AGENT, label=PRODUCTION).sha == versions[3]  # pinned: not newest


def test_pin_production_then_candidate_keeps_production_off_the_new_commit(
    workspace: Path, versions
) -> None:
    with PromptRepo.open(workspace) as repo:
        labels = repo.labels()
        assert labels.pin_production(AGENT) is not None
        assert labels.pin_production(AGENT) is None  # already pinned: no commit
        new = repo.apply(AGENT, "candidate text\n", "optimize")
        labels.set(AGENT, "candidate", new)
        assert repo.read(AGENT, label=PRODUCTION).sha == versions[3]
        assert repo.read(AGENT, label="candidate").sha == new


def test_labels_survive_a_rollback(workspace: Path, versions) -> None:
    with PromptRepo.open(workspace) as repo:
        repo.labels().set(AGENT, PRODUCTION, "v3")
        rolled = repo.rollback(AGENT, "v1")
        assert repo.read(AGENT).sha == rolled
        assert repo.read(AGENT, label=PRODUCTION).sha == versions[2]
        assert repo.read(AGENT, label=PRODUCTION).text.endswith("Revision 3.\n")


def test_label_log_says_who_when_from_what_to_what_and_why(workspace, versions) -> None:
    with PromptRepo.open(workspace) as repo:
        labels = repo.labels()
        labels.set(AGENT, PRODUCTION, "v2", reason="first release")
        labels.set(AGENT, "candidate", "v4")
        labels.set(AGENT, PRODUCTION, "v3", reason="promoted anyway\n\nsecond paragraph",
                   forced=True)
        labels.remove(AGENT, PRODUCTION, reason="back to newest")
        moves = labels.log(AGENT, PRODUCTION)
    assert [(m.old, m.new) for m in moves] == [
        (versions[2], None), (versions[1], versions[2]), (None, versions[1])]
    assert [m.reason for m in moves] == [
        "back to newest", "promoted anyway\n\nsecond paragraph", "first release"]
    assert [m.forced for m in moves] == [False, True, False]
    assert {m.author for m in moves} == {"Test Person"}
    assert moves[0].date >= moves[-1].date


def test_a_git_revert_of_a_move_shows_in_the_log(workspace: Path, versions, git) -> None:
    with PromptRepo.open(workspace) as repo:
        move = repo.labels().set(AGENT, PRODUCTION, "v2")
        repo.labels().set(AGENT, PRODUCTION, "v3")
    git(workspace, "revert", "--no-edit", "HEAD")
    with PromptRepo.open(workspace) as repo:
        assert repo.read(AGENT, label=PRODUCTION).sha == move.new
        assert [(m.old, m.new) for m in repo.labels().log(AGENT, PRODUCTION)][0] == (
            versions[2], versions[1])


@pytest.mark.parametrize("name", ["Production", "v3", "abc1234", "-x", "a b", ""])
def test_bad_label_names_are_refused_and_change_nothing(workspace, versions, git, name) -> None:
    head = git(workspace, "rev-parse", "HEAD")
    with PromptRepo.open(workspace) as repo, pytest.raises(PromptRepoError, match="label name"):
        repo.labels().set(AGENT, name, "v1")
    assert git(workspace, "rev-parse", "HEAD") == head


def test_refusals_change_nothing(workspace: Path, versions, git) -> None:
    with PromptRepo.open(workspace) as repo:
        labels = repo.labels()
        labels.set(AGENT, PRODUCTION, "v2")
        head = git(workspace, "rev-parse", "HEAD")
        with pytest.raises(NoChange, match="already names"):
            labels.set(AGENT, PRODUCTION, versions[1])
        with pytest.raises(UnknownRevision):
            labels.set(AGENT, PRODUCTION, "v9")
        with pytest.raises(NoChange, match="no label 'candidate'"):
            labels.remove(AGENT, "candidate")
        (workspace / LABELS_FILE).write_text("# edited by hand\n")
        with pytest.raises(DirtyPromptFile, match="uncommitted changes"):
            labels.set(AGENT, PRODUCTION, "v3")
        assert git(workspace, "rev-parse", "HEAD") == head


RACER = """
import json, sys
from pathlib import Path
from prompt_repo import PromptRepo
from prompt_repo.errors import NoChange
ws, label, rev = sys.argv[1:4]
sys.stdin.readline()  # the start signal
with PromptRepo.open(Path(ws), lock_timeout=120) as repo:
    try:
        move = repo.labels().set("MarketAnalyst", label, rev, reason=f"racer {label} {rev}")
    except NoChange:  # the label already named that version when this racer's turn came
        print(json.dumps({"commit": None}))
    else:
        print(json.dumps({"commit": move.commit, "old": move.old, "new": move.new}))
"""


def _race(ws: Path, jobs: list[tuple[str, str]]) -> list[dict]:
    procs = [subprocess.Popen([sys.executable, "-c", RACER, str(ws), label, rev],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for label, rev in jobs]
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = [json.loads(proc.communicate(timeout=120)[0]) for proc in procs]
    assert all(proc.returncode == 0 for proc in procs)
    return results


def test_eight_processes_setting_eight_labels_lose_no_move(workspace, versions, git) -> None:
    head = git(workspace, "rev-parse", "HEAD").strip()
    jobs = [(f"racer-{i}", f"v{1 + i % 4}") for i in range(8)]

    results = _race(workspace, jobs)

    with PromptRepo.open(workspace) as repo:
        table = repo.labels().table()[AGENT]
    assert {label: table[label] for label, _ in jobs} == {
        label: versions[int(rev[1:]) - 1] for label, rev in jobs}
    assert git(workspace, "rev-list", "--count", f"{head}..HEAD").strip() == "8"
    assert sorted(r["commit"] for r in results) == sorted(
        git(workspace, "rev-list", f"{head}..HEAD").split())
    assert git(workspace, "status", "--porcelain") == ""


def test_eight_processes_moving_one_label_leave_an_unbroken_chain(workspace, versions) -> None:
    jobs = [(PRODUCTION, f"v{1 + i % 4}") for i in range(8)]
    with PromptRepo.open(workspace) as repo:
        repo.labels().set(AGENT, PRODUCTION, "v4")

    results = _race(workspace, jobs)

    with PromptRepo.open(workspace) as repo:
        moves = repo.labels().log(AGENT, PRODUCTION)
    landed = [r for r in results if r["commit"]]
    assert landed and len(moves) == 1 + len(landed)  # every landed move is in the history
    assert {m.commit for m in moves[:-1]} == {r["commit"] for r in landed}
    for newer, older in zip(moves, moves[1:], strict=False):
        assert newer.old == older.new  # each move started where the previous one ended
