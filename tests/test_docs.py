"""The docs against the code (as sqlite-utils tests its docs): every ``promptloop ...`` line
in a code block of README.md or docs/*.md names a real command, and every ``--option`` on
it exists on that command. Documentation can then not drift from the CLI unnoticed."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from cli.main import LazyGroup, cli

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")


def documented_commands() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        for block in FENCE.findall(doc.read_text(encoding="utf-8")):
            for line in block.splitlines():
                line = line.strip().removeprefix("$ ").removeprefix(".venv/bin/")
                if line.startswith("promptloop "):
                    found.append((doc.name, line.split("  #")[0].split(" # ")[0].rstrip()))
    return found


def resolve(words: list[str]) -> tuple[str, click.Command]:
    """The (sub)command a documented line runs: group names are followed down."""
    ctx = click.Context(cli)
    command: click.Command = cli
    path = "promptloop"
    for word in words:
        if word.startswith("-") or not isinstance(command, click.Group):
            break
        group = LazyGroup() if command is cli else command
        sub = group.get_command(ctx, word)
        if sub is None:
            break
        command, path = sub, f"{path} {word}"
    return path, command


def option_names(command: click.Command) -> set[str]:
    names = {"--help"}
    for param in command.params:
        names.update(getattr(param, "opts", []))
        names.update(getattr(param, "secondary_opts", []))
    return names


@pytest.mark.parametrize("doc,line", documented_commands())
def test_documented_command_and_options_exist(doc: str, line: str) -> None:
    words = [w.strip("[]|.") for w in line.split()[1:]]
    path, command = resolve([w for w in words if w])
    assert path != "promptloop", f"{doc}: {line!r} names no promptloop command"
    known = option_names(command) | option_names(cli)
    unknown = sorted(set(OPTION.findall(line)) - known)
    assert not unknown, f"{doc}: {line!r}: {path} has no option {', '.join(unknown)}"
