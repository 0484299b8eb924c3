"""Rounding half up: the one rule every number of the report is rounded by.

A value is rounded on its shortest decimal representation (``repr``), half away from zero: 2.675, stored
as 2.67499999..., rounds to 2.68 as the 2.675 a user typed; 0.125 rounds to 0.13 (Python's ``round`` and
``format`` round half to even on the binary value and give 2.67 and 0.12). The same rule serves the
printed numbers (``Formatter``), the published-numbers check and the clinical categories (``indices``,
which compare values rounded to 2 decimals, as clinical calculators display them), so a DAS28 printed
2.60 is never put in the category of 2.59.

``round_half_up`` rounds one number to a ``Decimal``; ``round_half_up_array`` rounds an array to floats
with the same result per element, vectorised (a 100,000-patient cohort has millions of values).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

def round_half_up(value: float | Decimal, decimals: int) -> Decimal:
    """``value`` rounded half up at ``decimals`` places, judged on its shortest decimal representation."""
    exact = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    return exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def round_half_up_array(values, decimals: int = 2) -> np.ndarray:
    """``round_half_up`` of every element, as floats (NaN and infinities stay as they are)."""
    import numpy as np

    values = np.asarray(values, dtype=float)
    scale = 10.0**decimals
    magnitude = np.abs(values)
    # k units of 10**-decimals lie below |value| (or one fewer or more, when |value| * scale is a hair from
    # a whole number); the half between k and k + 1 units, divided out in floating point, is the double
    # nearest that decimal half: a value rounds up exactly when it is at least that double, whatever its
    # decimal representation (a value equal to it is written as that half, which rounds up).
    units = np.floor(magnitude * scale)
    units += magnitude >= (units + 0.5) / scale
    return np.copysign(units / scale, values)
