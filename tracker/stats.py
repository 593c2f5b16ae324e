"""Paired tests on discordant pairs: the one statistic behind the replay gate and ``compare``.

Two prompts answer the same cases; a case is *discordant* when exactly one of them is right.
``b`` counts the cases only the new prompt gets right (fixed), ``c`` those only the old one
gets right (broken). Under "no difference" each discordant case is a fair coin, so
``b ~ Binomial(b + c, 1/2)``; concordant cases carry no information about the difference.

- :func:`sign_test_p` — the exact one-sided sign test, P(X >= b): is the new prompt better?
- :func:`mcnemar_exact_p` — the exact two-sided McNemar test: do the two differ at all?

Both are exact (no normal approximation), so they are right for the handful of discordant
pairs a replay gate sees.
"""

from __future__ import annotations

from math import comb

__all__ = ["sign_test_p", "mcnemar_exact_p"]


def sign_test_p(better: int, worse: int) -> float:
    """One-sided exact sign test: P(at least ``better`` of ``better + worse`` fair coins)."""
    _check_counts(better, worse)
    n = better + worse
    if n == 0:
        return 1.0
    return min(1.0, sum(comb(n, k) for k in range(better, n + 1)) / 2**n)


def mcnemar_exact_p(b: int, c: int) -> float:
    """Two-sided exact McNemar test on the discordant counts ``b`` and ``c``."""
    _check_counts(b, c)
    if b + c == 0:
        return 1.0
    return min(1.0, 2 * sign_test_p(max(b, c), min(b, c)))


def _check_counts(*counts: int) -> None:
    if any(count < 0 for count in counts):
        raise ValueError(f"discordant counts must not be negative: {counts}")
