"""``promptloop init``: make a folder a workspace, with three example trading agents.

- No git repository at the folder: one is created there. A folder inside another
  repository also gets its own repository (``promptloop init demo`` inside a project's
  clone does not commit into that project).
- The folder is already the top of a repository (the user's app repository): our files are
  added and committed, and only them, with the same plumbing as every prompt commit
  (:mod:`prompt_repo.plumbing`): whatever the user has staged stays staged, and the
  repository's policy holds as for ``git commit``: its hooks run (:mod:`prompt_repo.hooks`;
  one that refuses leaves everything as it was) and ``commit.gpgSign`` signs the commit.
- ``promptloop.toml`` already there: nothing changes, and the result says so.

Refusals change nothing: a detached HEAD, a prompt file or config that already exists,
or a tracked ``.gitignore`` with uncommitted edits (its committed version gets our line, so
the commit would have to choose between the user's edits and ours). An untracked
``.gitignore`` gets the line in the working tree only; the user commits it with the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import cast

from git import Repo

from prompt_repo.config import CONFIG_NAME, DEFAULT_DATABASE_URL, DEFAULT_MODEL, STATE_DIR
from prompt_repo.errors import DetachedHead, InitConflict
from prompt_repo.hooks import run_post_commit
from prompt_repo.lock import RepoLock
from prompt_repo.plumbing import blob_at, build_commit, git, update_ref, write_worktree

__all__ = ["EXAMPLE_AGENTS", "InitResult", "init_workspace"]

EXAMPLE_AGENTS = ("MarketAnalyst", "RiskManager", "TradingAdvisor")
PROMPTS_DIR = "prompts"
IGNORE_LINE = f"{STATE_DIR}/"
_TEMPERATURES = {"MarketAnalyst": 0.2, "RiskManager": 0.1, "TradingAdvisor": 0.2}


@dataclass(frozen=True)
class InitResult:
    """What init did: ``created`` False means the folder already was a workspace."""

    created: bool
    root: Path
    message: str
    commit: str | None = None


def init_workspace(directory: Path) -> InitResult:
    """Make ``directory`` (created if missing) a workspace; idempotent."""
    root = Path(directory).expanduser().resolve()
    if (root / CONFIG_NAME).is_file():
        return InitResult(False, root, f"{root} is already a promptloop workspace; nothing changed")
    fresh = not (root / ".git").exists()
    if fresh:
        _refuse_conflicts(root, None, None)  # before anything is created
        root.mkdir(parents=True, exist_ok=True)
    repo = Repo.init(root) if fresh else Repo(root)
    try:
        sha = _commit_workspace(repo, root)
    finally:
        repo.close()
    where = "a new git repository" if fresh else "the existing git repository"
    names = ", ".join(EXAMPLE_AGENTS)
    message = (f"Created a promptloop workspace in {root} ({where}) with agents {names}; "
               f"committed {sha[:7]}")
    return InitResult(True, root, message, sha)


def config_text() -> str:
    """The promptloop.toml that init writes: every setting commented."""
    agents = "\n".join(
        f'\n[agents.{name}]\nprompt = "{PROMPTS_DIR}/{name}.md"\nmodel = "{DEFAULT_MODEL}"\n'
        f"temperature = {_TEMPERATURES[name]}"
        for name in EXAMPLE_AGENTS
    )
    order = ", ".join(f'"{name}"' for name in EXAMPLE_AGENTS)
    return _CONFIG_TEMPLATE.format(prompts=PROMPTS_DIR, database_url=DEFAULT_DATABASE_URL,
                                   model=DEFAULT_MODEL, order=order, agents=agents)


def example_prompt(agent: str) -> str:
    """The bundled prompt of one example agent."""
    return (resources.files("prompt_repo.examples") / f"{agent}.md").read_text(encoding="utf-8")


def _commit_workspace(repo: Repo, root: Path) -> str:
    if repo.head.is_detached:
        raise DetachedHead("HEAD is detached; check out a branch before 'promptloop init'")
    head = repo.head.commit.hexsha if repo.head.is_valid() else None
    files = _refuse_conflicts(root, repo, head)
    ignore = _gitignore(repo, root, head)
    untracked_ignore = ignore is not None and (root / ".gitignore").exists() and not (
        head and blob_at(repo, head, ".gitignore")
    )
    if ignore is not None and not untracked_ignore:
        files[".gitignore"] = ignore
    with RepoLock(Path(repo.git_dir)):  # taken only once every check has passed
        sha = build_commit(repo, head, files, "promptloop init: workspace and example agents\n")
        update_ref(repo, "HEAD", sha, head, "promptloop init")
        write_worktree(repo, files)
        run_post_commit(repo)
    if untracked_ignore:  # the user's own file: the line goes in, the commit leaves it alone
        (root / ".gitignore").write_bytes(cast(bytes, ignore))  # set when untracked_ignore
    return sha


def _refuse_conflicts(root: Path, repo: Repo | None, head: str | None) -> dict[str, bytes]:
    """Our files and their content; InitConflict if any exists already."""
    files = {CONFIG_NAME: config_text().encode()}
    files |= {f"{PROMPTS_DIR}/{a}.md": example_prompt(a).encode() for a in EXAMPLE_AGENTS}
    for path in files:
        committed = repo is not None and head is not None and blob_at(repo, head, path)
        if (root / path).exists() or committed:
            raise InitConflict(f"{root / path} already exists; init would overwrite it")
    return files


def _gitignore(repo: Repo, root: Path, head: str | None) -> bytes | None:
    """The .gitignore with our line added; None when it already ignores the state folder."""
    path = root / ".gitignore"
    current = path.read_bytes() if path.is_file() else b""
    lines = {line.strip() for line in current.decode("utf-8", "replace").splitlines()}
    if {IGNORE_LINE, STATE_DIR, f"/{IGNORE_LINE}", f"/{STATE_DIR}"} & lines:
        return None
    if head is not None and git(repo, "status", "--porcelain", "--untracked-files=no",
                                "--", ".gitignore").strip():
        raise InitConflict(
            ".gitignore has uncommitted changes; commit them first, then run init again"
        )
    separator = b"" if not current or current.endswith(b"\n") else b"\n"
    return current + separator + IGNORE_LINE.encode() + b"\n"


_CONFIG_TEMPLATE = """\
# promptloop workspace. Every setting below can also come from the command line or
# the environment; the order is: flag > environment variable > this file > default.

[promptloop]
# Folder where `promptloop agents add` creates a new agent's prompt file.
prompts_dir = "{prompts}"
# Where decisions and outcomes are recorded. The default is a SQLite file under
# .promptloop/ (git-ignored). For a team or a fleet of bots, use PostgreSQL, e.g.
# "postgresql+psycopg://user@host:5432/promptloop" (or PROMPTLOOP_DATABASE_URL).
database_url = "{database_url}"

[llm]
# Any OpenAI-compatible endpoint. The key comes from OPENAI_API_KEY and the endpoint
# from OPENAI_BASE_URL; never write a key into this file.
model = "{model}"

[team]
# The order in which agents answer; each sees the answers of those before it.
order = [{order}]

[lint]
# 'promptloop lint' fails when a prompt scores below these (0-100; ambiguity: above).
min_specificity = 40
min_clarity = 50
max_ambiguity = 50

# One table per agent: its prompt file (committed in this repository), the model it
# uses and its sampling temperature.
{agents}
"""

