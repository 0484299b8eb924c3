"""reportgen.rounding: one half-up rule for printed numbers, the published check and clinical categories."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from reportgen import indices
from reportgen.formatting import Formatter
from reportgen.rounding import round_half_up, round_half_up_array


def test_half_up_on_the_decimal_representation() -> None:
    assert round_half_up(2.675, 2) == Decimal("2.68")  # stored as 2.67499999...
    assert round_half_up(-0.125, 2) == Decimal("-0.13")
    assert round_half_up(4.4 - 3.2, 2) == Decimal("1.20")
    assert round_half_up(Decimal("12.5"), 0) == Decimal("13")


# Halves at 0-3 decimals, the doubles either side of them, and any other value.
_halves = st.tuples(st.integers(-10**7, 10**7), st.integers(0, 3)).map(lambda kd: ((kd[0] + 0.5) / 10 ** kd[1], kd[1]))
_near = _halves.flatmap(lambda vd: st.sampled_from([vd, (np.nextafter(vd[0], -np.inf), vd[1]), (np.nextafter(vd[0], np.inf), vd[1])]))
_any = st.tuples(st.floats(-1e6, 1e6, allow_nan=False), st.integers(0, 4))


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.one_of(_near, _any))
def test_the_array_rounding_is_the_same_rule_element_by_element(case: tuple[float, int]) -> None:
    value, decimals = case
    assert float(round_half_up_array(np.array([value]), decimals)[0]) == float(round_half_up(value, decimals))


def test_a_category_follows_the_printed_value() -> None:
    # 2.5949999999 is printed 2.59 (remission): the category must not round it to 2.60 (low).
    score = 2.5949999999
    assert Formatter().number(score, 2) == "2.59"
    assert indices.das28_category(np.array([score]))[0] == "remission"
    assert list(round_half_up_array(np.array([np.nan, 2.675, -2.675]), 2)[1:]) == [2.68, -2.68]
