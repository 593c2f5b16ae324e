"""The exact paired tests, against values computed by hand."""

import pytest

from tracker.stats import mcnemar_exact_p, sign_test_p


def test_sign_test_matches_hand_computed_tails():
    assert sign_test_p(6, 0) == pytest.approx(1 / 64)
    assert sign_test_p(5, 1) == pytest.approx(7 / 64)  # (1 + 6) / 2**6
    assert sign_test_p(3, 3) == pytest.approx(42 / 64)  # (20 + 15 + 6 + 1) / 64
    assert sign_test_p(0, 4) == 1.0


def test_no_discordant_pair_is_no_evidence():
    assert sign_test_p(0, 0) == 1.0
    assert mcnemar_exact_p(0, 0) == 1.0


def test_mcnemar_is_two_sided_and_symmetric():
    assert mcnemar_exact_p(1, 9) == pytest.approx(2 * 11 / 1024)
    assert mcnemar_exact_p(9, 1) == mcnemar_exact_p(1, 9)
    assert mcnemar_exact_p(5, 5) == 1.0


def test_negative_counts_are_refused():
    with pytest.raises(ValueError):
        sign_test_p(-1, 2)
