"""Sums and inner products with the same last bit on every processor.

numpy hands ``@``, ``np.dot`` and ``np.linalg`` to OpenBLAS and LAPACK, which choose their kernels by processor
(or by ``OPENBLAS_CORETYPE``), so the same arrays give results that differ in the last bits from one machine to
another: an OLS slope of 0.2975515862584427 on one, 0.29755158625844275 on the next. results.json is written at
full precision and ``reportgen verify`` compares it byte for byte with a rebuild, so a report archived on one
computer would not verify on another. The statistics whose inner products would go to BLAS (the
linear-by-linear test, the regression) use these instead: each product is one correctly rounded
multiplication, and ``math.fsum`` returns the correctly rounded sum of them all, whatever the order or the
processor. The cost is that of ``math.fsum`` over Python floats: a contingency table's sums take microseconds;
a regression at 100,000 patients takes about 0.1 s instead of LAPACK's 6 ms (the 100,000-patient benchmark did
not change beyond its noise).
"""

from __future__ import annotations

import math

import numpy as np


def exact_sum(values: np.ndarray) -> float:
    """The sum of ``values`` (any shape), correctly rounded."""
    return math.fsum(np.ravel(np.asarray(values, dtype=float)).tolist())


def inner(a: np.ndarray, b: np.ndarray) -> float:
    """Σ aᵢbᵢ over arrays of one shape, each product and the sum correctly rounded."""
    return exact_sum(np.multiply(a, b))
