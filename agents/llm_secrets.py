"""Secrets out of everything the LLM endpoint returns: the one scrubber of promptloop.

Endpoints echo what they are sent: a proxy's error page quotes the ``Authorization`` header, a
model repeats a key it saw in a prompt or a tool result. Text that came from the endpoint is
stored (tracker, cache), shown (stdout, errors) and committed (commit messages), so the client
removes the configured secrets from it first, in one place (:class:`Scrubber`, used by
:class:`agents.llm.LLMClient` on every response body and on every value it hands out).

What is a secret (:func:`secrets_of`):

- the API key (``[llm] api_key`` / ``OPENAI_API_KEY``);
- credentials in ``base_url``: the ``user:password`` of ``http://user:password@host`` as a
  whole and the password alone, and the value of a query parameter whose name says it is one
  (``key``, ``token``, ``secret``, ``password``, ``sig``, ``auth``...).

Each is replaced by ``***`` wherever it appears literally, URL-encoded (``%2D`` for ``-``, any
case, any mix of encoded and plain characters) or JSON-escaped (``\\u002d``, ``\\/``), so that a
JSON body cannot carry it past the scrubber and come out whole once decoded.

The rule for short values: a secret shorter than :data:`MIN_SECRET_LENGTH` (8) characters is not
scrubbed from endpoint text, because it would turn ordinary words into ``***`` (local servers
take placeholders such as ``ollama`` or ``none``, and ``user:pw`` would hit every ``pw``). Such a
value is not a credential worth the name; promptloop itself still never prints it (the URL it
shows has its credentials replaced by ``***``, see :func:`redact_url`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

__all__ = ["MIN_SECRET_LENGTH", "REDACTED", "Scrubber", "redact_url", "secrets_of"]

MIN_SECRET_LENGTH = 8
REDACTED = "***"
_ENCODING_MARKS = ("%", "\\u", "\\/")  # without any, only the plain spelling can occur
_SECRET_PARAMS = re.compile(r"key|token|secret|passw|sig|auth|credential", re.IGNORECASE)


def secrets_of(api_key: str | None, base_url: str | None) -> list[str]:
    """The configured secrets worth scrubbing (long enough), longest first."""
    found = [api_key or ""]
    if base_url:
        parts = urlsplit(base_url)
        if parts.password:
            found += [unquote(parts.password), f"{unquote(parts.username or '')}:"
                      f"{unquote(parts.password)}"]
        found += [value for name, value in parse_qsl(parts.query) if _SECRET_PARAMS.search(name)]
    unique = {value for value in found if len(value) >= MIN_SECRET_LENGTH}
    return sorted(unique, key=len, reverse=True)


def redact_url(url: str) -> str:
    """``url`` with its user info and secret-looking query values replaced by ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    query = "&".join(
        f"{name}={REDACTED if _SECRET_PARAMS.search(name) else value}"
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


class Scrubber:
    """Replaces each secret, in any of its encodings, by ``***``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = [secret for secret in secrets if len(secret) >= MIN_SECRET_LENGTH]
        patterns = [_pattern(secret) for secret in self._secrets]
        self._regex = re.compile("|".join(patterns)) if patterns else None

    def __bool__(self) -> bool:
        return self._regex is not None

    def text(self, text: str) -> str:
        if self._regex is None:
            return text
        if not any(mark in text for mark in _ENCODING_MARKS):  # the common case, 100x faster
            for secret in self._secrets:
                text = text.replace(secret, REDACTED)
            return text
        return self._regex.sub(REDACTED, text)

    def body(self, data: bytes) -> bytes:
        """A raw HTTP body (UTF-8 or not: undecodable bytes are kept as they are)."""
        if self._regex is None:
            return data
        return self.text(data.decode("utf-8", "surrogateescape")).encode(
            "utf-8", "surrogateescape")

    def value(self, value: Any) -> Any:
        """Every string in a JSON-like value (dicts, lists, keys included)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.value(k): self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.value(item) for item in value)
        return value


def _pattern(secret: str) -> str:
    return "".join(_char_pattern(char) for char in secret)


def _char_pattern(char: str) -> str:
    """One character of a secret: itself, URL-encoded or JSON-escaped (hex digits any case)."""
    percent = "".join(f"%{byte:02x}" for byte in char.encode("utf-8"))
    forms = {re.escape(char), _any_case_hex(percent)}
    if ord(char) < 0x10000:
        forms.add(r"\\u" + _any_case_hex(f"{ord(char):04x}"))
    if char == "/":
        forms.add(r"\\/")
    return "(?:" + "|".join(sorted(forms)) + ")"


def _any_case_hex(text: str) -> str:
    return re.sub(r"[a-fA-F]", lambda m: f"[{m.group().lower()}{m.group().upper()}]", text)
