"""Paired tests on discordant pairs: the one statistic behind the replay gate and ``compare``.

Two prompts answer the same cases; a case is *discordant* when exactly one of them is right.
``b`` counts the cases only the new prompt gets right (fixed), ``c`` those only the old one
gets right (broken). Under "no difference" each discordant case is a fair coin, so
``b ~ Binomial(b + c, 1/2)``; concordant cases carry no information about the difference.

- :func:`sign_test_p` — the exact one-sided sign test, P(X >= b): is the new prompt better?
- :func:`mcnemar_exact_p` — the exact two-sided McNemar test: do the two differ at all?

Both are exact (no normal approximation), so they are right for the handful of discordant
pairs a replay gate sees: integer sums up to :data:`EXACT_INTEGERS_UP_TO` discordant pairs,
the same binomial tail summed in floating point beyond (``compare`` over a large table).
"""

from __future__ import annotations

from math import comb, exp, lgamma, log

__all__ = ["sign_test_p", "mcnemar_exact_p"]


def sign_test_p(better: int, worse: int) -> float:
    """One-sided exact sign test: P(at least ``better`` of ``better + worse`` fair coins)."""
    _check_counts(better, worse)
    n = better + worse
    if n == 0:
        return 1.0
    if n > EXACT_INTEGERS_UP_TO:
        return _binomial_tail(n, better)
    total, term = 0, comb(n, better)
    for k in range(better, n + 1):  # C(n, k+1) = C(n, k) (n-k) / (k+1), exactly
        total += term
        term = term * (n - k) // (k + 1)
    return min(1.0, total / (1 << n))


# Integer sums grow with n^2 (big integers of n bits; 3 ms at n = 5,000, 0.17 s at 20,000):
# beyond this many discordant pairs (compare on a big table) the same tail is summed in
# floating point instead.
EXACT_INTEGERS_UP_TO = 5_000


def _binomial_tail(n: int, k: int) -> float:
    """P(X >= k), X ~ Binomial(n, 1/2), to double precision: the terms are summed outward
    from the mean side of k, each from the previous one, until they no longer count."""
    if k <= 0 or k > n:
        return 1.0 if k <= 0 else 0.0
    if k <= n // 2:  # the upper tail is most of the mass: 1 - P(X <= k - 1)
        return max(0.0, 1.0 - _binomial_tail(n, n - k + 1))
    log_term = lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1) - n * log(2.0)
    if log_term < -745.0:  # below the smallest double: the tail is 0 to double precision
        return 0.0
    term = exp(log_term)
    total = 0.0
    for j in range(k, n + 1):
        total += term
        term *= (n - j) / (j + 1)
        if term < total * 1e-17:
            break
    return min(1.0, total)


def mcnemar_exact_p(b: int, c: int) -> float:
    """Two-sided exact McNemar test on the discordant counts ``b`` and ``c``."""
    _check_counts(b, c)
    if b + c == 0:
        return 1.0
    return min(1.0, 2 * sign_test_p(max(b, c), min(b, c)))


def _check_counts(*counts: int) -> None:
    if any(count < 0 for count in counts):
        raise ValueError(f"discordant counts must not be negative: {counts}")
