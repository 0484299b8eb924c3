"""reportgen.sums: sums and inner products correctly rounded, hence the same on every processor."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from reportgen.sums import exact_sum, inner


def _rounded(values) -> float:
    """The exact sum of the floats, then rounded once: the correctly rounded sum, by hand."""
    return float(sum((Fraction(float(v)) for v in values), Fraction(0)))


def test_exact_sum_is_the_correctly_rounded_sum():
    # A naive left-to-right sum (and numpy's pairwise one) loses the 1 to the large terms.
    assert exact_sum(np.array([1e16, 1.0, -1e16])) == 1.0
    assert exact_sum(np.array([0.1] * 10)) == 1.0
    rng = np.random.default_rng(11)
    for _ in range(20):
        values = rng.normal(size=257) * 10.0 ** rng.integers(-8, 9, size=257)
        assert exact_sum(values) == _rounded(values)


def test_exact_sum_takes_any_shape_and_integers():
    assert exact_sum(np.arange(12).reshape(3, 4)) == 66.0
    assert exact_sum(np.empty((0, 3))) == 0.0


def test_inner_is_the_sum_of_the_rounded_products():
    rng = np.random.default_rng(12)
    a, b = rng.normal(size=(2, 101)) * 1e3
    assert inner(a, b) == _rounded(a * b)
    assert inner(np.array([1e8, 1.0, -1e8]), np.array([1e8, 1.0, 1e8])) == 1.0


def test_inner_refuses_arrays_of_different_lengths():
    with pytest.raises(ValueError):
        inner(np.ones(3), np.ones(4))
