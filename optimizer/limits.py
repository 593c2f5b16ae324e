"""The size limit on a prompt, met by every entry point through ``analyze()``.

A prompt is read whole, scored, rewritten and diffed; past a point that is no longer a
prompt an agent can use (a model's context window is far smaller) and only costs time and
memory. :data:`MAX_PROMPT_CHARS` is 1 MiB of characters (1,048,576): ``analyze()`` refuses a
longer text with :class:`~optimizer.errors.PromptTooLarge`, so ``score``, ``lint``,
``optimize`` and the gates all stop at the same limit with the same one-line message.
:func:`read_prompt_file` reads at most one character past the limit, so a huge file is
refused without being loaded.
"""

from __future__ import annotations

from pathlib import Path

from optimizer.errors import PromptTooLarge

__all__ = ["MAX_PROMPT_CHARS", "check_prompt_size", "read_prompt_file"]

MAX_PROMPT_CHARS = 1024 * 1024


def check_prompt_size(text: str, name: str = "the prompt") -> None:
    """Raise PromptTooLarge when ``text`` is longer than MAX_PROMPT_CHARS."""
    if len(text) > MAX_PROMPT_CHARS:
        raise PromptTooLarge(_message(name, f"{len(text):,} characters"))


def read_prompt_file(path: Path) -> str:
    """The file's text (UTF-8), refused past the limit without reading the rest."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read(MAX_PROMPT_CHARS + 1)
    if len(text) > MAX_PROMPT_CHARS:
        raise PromptTooLarge(_message(str(path), "more than that"))
    return text


def _message(name: str, size: str) -> str:
    return (f"{name} is too large to analyze: {size}, the limit is {MAX_PROMPT_CHARS:,} "
            "characters (1 MiB); shorten it")
