"""Rounding half up: the report's two rules, both here.

Printed numbers (``Formatter``) and the published-numbers check round a value on its shortest decimal
representation (``repr``), half away from zero: 2.675, stored as 2.67499999..., rounds to 2.68 as the
2.675 a user typed; 0.125 rounds to 0.13 (Python's ``round`` and ``format`` round half to even on the binary
value and give 2.67 and 0.12). That is ``round_half_up``, one number to a ``Decimal``.

Computed clinical scores are compared with category and EULAR thresholds after ``round_half_up_array``,
vectorised (a 100,000-patient cohort has millions of values), which first rounds to 9 decimal places to
shed the noise of arithmetic: an SDAI of 3.305 computed as 3.3049999999999997 is 3.31, as a clinical
calculator shows it, where its shortest representation would round to 3.30. The two rules differ only for
values within about 1e-9 of a half; the example workbook's generator relies on the second one for means.
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
    """``values`` rounded half away from zero at ``decimals``, after rounding to 9 decimal places (4.4 - 3.2 -> 1.2)."""
    import numpy as np

    values = np.asarray(values, dtype=float)
    scale = 10.0**decimals
    shifted = np.round(values * scale, 9 - decimals if decimals < 9 else 0)
    return np.sign(shifted) * np.floor(np.abs(shifted) + 0.5) / scale
