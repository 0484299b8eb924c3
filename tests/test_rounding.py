"""reportgen.rounding: the report's two half-up rules, for written numbers and for clinical scores."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from reportgen import indices
from reportgen.formatting import Formatter
from reportgen.rounding import round_half_up, round_half_up_array


def test_written_numbers_round_half_up_on_their_decimal_representation() -> None:
    assert round_half_up(2.675, 2) == Decimal("2.68")  # stored as 2.67499999...
    assert round_half_up(-0.125, 2) == Decimal("-0.13")
    assert round_half_up(4.4 - 3.2, 2) == Decimal("1.20")
    assert round_half_up(Decimal("12.5"), 0) == Decimal("13")
    assert round_half_up(3.3049999999999997, 2) == Decimal("3.30")  # as written, digit for digit


def test_scores_shed_arithmetic_noise_before_rounding() -> None:
    sdai = float(indices.sdai(0, 0, 4, 29, 0.05))  # 0 + 0 + 0.4 + 2.9 + 0.005 = 3.305
    assert sdai == 3.3049999999999997
    assert float(round_half_up_array(sdai, 2)) == 3.31
    assert indices.sdai_category(np.array([sdai]))[0] == "low"  # 3.31 > 3.3, as a clinical calculator shows it
    assert Formatter().number(sdai, 2) == "3.30"  # a printed value keeps its written digits
    assert list(round_half_up_array(np.array([np.nan, 2.675, -2.675, 4.4 - 3.2]), 2)[1:]) == [2.68, -2.68, 1.2]


# --- found by mutation testing, sixth pass (rounding.py, first mutated then) ------------------------------


def test_a_decimal_is_rounded_as_written_not_through_a_float() -> None:
    """A Decimal (a number as a user typed it) keeps every digit: through a float, 0.1249999999999999999 would
    become 0.125 and round up (x_round_half_up 2)."""
    assert round_half_up(Decimal("0.1249999999999999999"), 2) == Decimal("0.12")
    assert round_half_up(Decimal("0.125"), 2) == Decimal("0.13")
