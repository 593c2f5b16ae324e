"""The user's git policy holds for promptloop's commits as for ``git commit``: signing
(``commit.gpgSign``) and the commit hooks (``core.hooksPath`` honoured), on real
repositories with real hooks (shell scripts) and a real SSH signing key."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from prompt_repo import PromptRepo, init_workspace
from prompt_repo.errors import GitError, HookFailed

AGENT = "MarketAnalyst"
PATH = "prompts/MarketAnalyst.md"


def hook(folder: Path, name: str, body: str) -> Path:
    """An executable shell hook ``name`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def state(ws: Path, git) -> tuple[str, str, bytes, str, str]:
    """HEAD, the reflog, the user's index, the working file and the status."""
    return (git(ws, "rev-parse", "HEAD"), git(ws, "reflog"), (ws / ".git" / "index").read_bytes(),
            (ws / PATH).read_text(), git(ws, "status", "--porcelain"))


def apply(ws: Path, text: str = "new text\n") -> str:
    repo = PromptRepo.open(ws)
    return repo.apply(AGENT, text, "optimize(MarketAnalyst): x", base=repo.read(AGENT).sha)


def test_commit_gpgsign_with_an_ssh_key_signs_the_commit(workspace: Path, git,
                                                         tmp_path: Path) -> None:
    key = tmp_path / "signing_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    signers = tmp_path / "allowed_signers"
    signers.write_text(f"test@example.com {(tmp_path / 'signing_key.pub').read_text()}")
    for name, value in [("gpg.format", "ssh"), ("user.signingKey", str(key)),
                        ("commit.gpgSign", "true"), ("gpg.ssh.allowedSignersFile", str(signers))]:
        git(workspace, "config", name, value)

    sha = apply(workspace)

    assert "\ngpgsig -----BEGIN SSH SIGNATURE-----" in git(workspace, "cat-file", "commit", sha)
    git(workspace, "verify-commit", sha)  # raises unless the signature is good
    assert git(workspace, "show", "--name-only", "--format=", sha).split() == [PATH]


def test_a_signature_that_cannot_be_made_refuses_in_one_line(workspace: Path, git,
                                                             tmp_path: Path) -> None:
    for name, value in [("gpg.format", "ssh"), ("user.signingKey", str(tmp_path / "missing")),
                        ("commit.gpgSign", "true")]:
        git(workspace, "config", name, value)
    before = state(workspace, git)

    with pytest.raises(GitError) as refused:
        apply(workspace)

    assert str(refused.value).startswith(
        "signing the commit failed (commit.gpgSign is true): Couldn't load public key")
    assert "\n" not in str(refused.value)
    assert state(workspace, git) == before


def test_without_commit_gpgsign_the_commit_is_not_signed(workspace: Path, git) -> None:
    sha = apply(workspace)

    assert "gpgsig" not in git(workspace, "cat-file", "commit", sha)


def test_a_failing_pre_commit_hook_refuses_and_changes_nothing(workspace: Path, git) -> None:
    hook(workspace / ".git" / "hooks", "pre-commit",
         'echo "prompt lint: the RSI band is missing"\necho "second line"\nexit 1')
    before = state(workspace, git)

    with pytest.raises(HookFailed) as refused:
        apply(workspace)

    assert str(refused.value) == (
        "pre-commit hook refused the commit: prompt lint: the RSI band is missing")
    assert state(workspace, git) == before
    assert not list((workspace / ".git").glob("promptloop-hooks-*"))  # temporary index gone


def test_a_silent_failing_hook_gives_its_exit_status(workspace: Path) -> None:
    hook(workspace / ".git" / "hooks", "commit-msg", "exit 3")

    with pytest.raises(HookFailed, match=r"^commit-msg hook refused the commit \(exit status 3\)$"):
        apply(workspace)


def test_pre_commit_sees_the_new_content_staged_and_only_that_file(workspace: Path, git,
                                                                   tmp_path: Path) -> None:
    seen = tmp_path / "seen"
    hook(workspace / ".git" / "hooks", "pre-commit",
         f'git diff --cached --name-only > "{seen}.names"\ngit show :{PATH} > "{seen}.text"')
    (workspace / "app.py").write_text("print('wip')\n")
    git(workspace, "add", "app.py")

    sha = apply(workspace, "hooked text\n")

    assert Path(f"{seen}.names").read_text() == f"{PATH}\n"
    assert Path(f"{seen}.text").read_text() == "hooked text\n"
    assert git(workspace, "show", "--name-only", "--format=", sha).split() == [PATH]
    assert git(workspace, "status", "--porcelain") == "A  app.py\n"


def test_a_pre_commit_hook_that_restages_files_is_refused(workspace: Path, git) -> None:
    hook(workspace / ".git" / "hooks", "pre-commit",
         'blob=$(echo formatted | git hash-object -w --stdin)\n'
         'git update-index --add --cacheinfo "100644,$blob,extra.txt"')
    before = state(workspace, git)

    with pytest.raises(HookFailed, match="^pre-commit hook changed the staged files"):
        apply(workspace)

    assert state(workspace, git) == before


def test_a_commit_msg_hook_that_appends_a_line_is_honoured(workspace: Path, git) -> None:
    hook(workspace / ".git" / "hooks", "commit-msg",
         r"""printf '\nReviewed-by: policy bot  \n\n' >> "$1" """)

    sha = apply(workspace)

    message = git(workspace, "log", "-1", "--format=%B", sha)
    assert message == "optimize(MarketAnalyst): x\n\nReviewed-by: policy bot\n\n"
    assert PromptRepo.open(workspace).log(AGENT)[0].trailers == {"Reviewed-by": "policy bot"}


def test_prepare_commit_msg_gets_the_message_source(workspace: Path, git) -> None:
    hook(workspace / ".git" / "hooks", "prepare-commit-msg",
         'printf "\\nSource: %s\\n" "$2" >> "$1"')

    sha = apply(workspace)

    assert git(workspace, "log", "-1", "--format=%(trailers:only)", sha) == "Source: message\n\n"


def test_a_hook_that_empties_the_message_refuses(workspace: Path, git) -> None:
    hook(workspace / ".git" / "hooks", "commit-msg", ': > "$1"')
    before = state(workspace, git)

    with pytest.raises(HookFailed, match="left the message empty"):
        apply(workspace)

    assert state(workspace, git) == before


@pytest.mark.parametrize("where", ["absolute", "relative"])
def test_core_hooks_path_is_honoured(workspace: Path, git, tmp_path: Path, where: str) -> None:
    hook(workspace / ".git" / "hooks", "pre-commit", "exit 0")  # not used: hooksPath wins
    folder = tmp_path / "policy" if where == "absolute" else workspace / ".githooks"
    hook(folder, "pre-commit", 'echo "policy says no"; exit 1')
    git(workspace, "config", "core.hooksPath",
        str(folder) if where == "absolute" else ".githooks")

    with pytest.raises(HookFailed, match="^pre-commit hook refused the commit: policy says no$"):
        apply(workspace)


def test_a_hook_that_is_not_executable_is_skipped_as_git_does(workspace: Path) -> None:
    hook(workspace / ".git" / "hooks", "pre-commit", "exit 1").chmod(0o644)

    apply(workspace)


def test_post_commit_runs_after_the_commit_is_published(workspace: Path, tmp_path: Path) -> None:
    seen = tmp_path / "seen"
    hook(workspace / ".git" / "hooks", "post-commit",
         f'git rev-parse HEAD > "{seen}"; cat {PATH} >> "{seen}"; exit 1')

    sha = apply(workspace, "posted\n")  # post-commit's exit status is ignored, as by git

    assert seen.read_text() == f"{sha}\nposted\n"


def test_hooks_are_skipped_for_one_command_through_git_config_environment(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook(workspace / ".git" / "hooks", "pre-commit", "exit 1")
    for name, value in [("GIT_CONFIG_COUNT", "1"), ("GIT_CONFIG_KEY_0", "core.hooksPath"),
                        ("GIT_CONFIG_VALUE_0", "/dev/null")]:
        monkeypatch.setenv(name, value)

    apply(workspace)


def test_init_in_an_app_repository_runs_its_hooks(tmp_path: Path, git, snapshot) -> None:
    app = tmp_path / "app"
    app.mkdir()
    git(app, "init", "-q")
    (app / "app.py").write_text("print('hi')\n")
    git(app, "add", "app.py")
    git(app, "commit", "-qm", "app")
    hook(app / ".git" / "hooks", "pre-commit", 'echo "no toml here"; exit 1')
    before = snapshot(app)

    with pytest.raises(HookFailed, match="^pre-commit hook refused the commit: no toml here$"):
        init_workspace(app)

    def kept(files: dict[str, tuple[int, str]]) -> dict[str, tuple[int, str]]:
        # unreachable objects and the lock file are harmless leftovers
        return {k: v for k, v in files.items()
                if not k.startswith(".git/objects/") and k != ".git/promptloop.lock"}

    assert kept(snapshot(app)) == kept(before)
    assert not (app / "promptloop.toml").exists()


def test_rollback_refused_by_a_hook_is_one_line_and_changes_nothing(run_cli, workspace: Path,
                                                                    git) -> None:
    apply(workspace, "v2 text\n")
    hook(workspace / ".git" / "hooks", "pre-commit", 'echo "frozen: no prompt changes"; exit 1')
    before = state(workspace, git)

    result = run_cli("-C", str(workspace), "rollback", "--agent", AGENT, "--to", "v1", "--yes")

    assert result.returncode == 1 and "Restored" not in result.stdout  # the diff was shown
    assert result.stderr == "Error: pre-commit hook refused the commit: frozen: no prompt changes\n"
    assert state(workspace, git) == before


def test_a_hook_without_a_shebang_line_runs_through_sh_as_git_does(workspace: Path) -> None:
    path = workspace / ".git" / "hooks" / "pre-commit"
    path.write_text('echo "plain script says no"\nexit 1\n')
    path.chmod(0o755)

    with pytest.raises(HookFailed, match="^pre-commit hook refused the commit: plain script"):
        apply(workspace)


def test_a_machine_without_a_git_identity_still_commits(workspace: Path, git, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh container has no user.name/user.email and a host name git cannot make an
    address of; the commit gets login@host, as GitPython made it, instead of failing."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("USER", "newcomer")
    monkeypatch.setenv("LOGNAME", "newcomer")
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME",
                 "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)
    git(workspace, "config", "--unset-all", "user.name", check=False)
    git(workspace, "config", "--unset-all", "user.email", check=False)

    sha = apply(workspace)

    assert git(workspace, "log", "-1", "--format=%an <%ae>", sha).startswith("newcomer <newcomer@")
