"""Ordinary least squares on plain arrays, and the adjusted association of an outcome with the trough level.

Written with numpy and scipy.special rather than taken from statsmodels, whose import costs about a second
of the build; tests/test_regression.py checks every number against statsmodels' ``OLS`` (β, standard
error, confidence interval and p to 1e-10). The QR decomposition and the triangular solves are written out
here too, every inner product a correctly rounded sum (``reportgen.sums``): LAPACK's last bits depend on the
processor, and results.json must not.

Conventions (those of statsmodels' ``OLS(...).fit()`` with its default, non-robust covariance):

- The design has an intercept; β = argmin |y − Xβ|², solved through a QR decomposition of [X | y].
- σ² = RSS / (n − p), p the number of coefficients with the intercept; Cov(β) = σ² (XᵀX)⁻¹.
- t = β / SE; two-sided p and the confidence interval from Student's t with n − p df
  (``scipy.special.stdtr`` and ``stdtrit``).

``adjusted_association`` is the model of the report's adjusted estimate: the follow-up value of an
outcome regressed on log2(trough level), adjusted for the outcome at baseline (ANCOVA) and any covariates
of the study's ``adjust_for``; its β is the change in the outcome per doubling of the level. A patient
without a level, without the outcome or without a covariate is left out, and so is a level of 0 or below
(it cannot be logged), and a covariate taken as a logarithm that is 0 or below; the counts are kept.
Degenerate data (too few patients, a covariate without variation or a combination of the others) give a
reason, never an exception.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from reportgen.sums import inner

# A residual sum of squares below this share of the total sum of squares is an exact fit: the standard
# errors are zero up to rounding and t is meaningless.
EXACT_FIT_SHARE = 1e-20


class NotEstimable(Exception):
    """The model cannot be estimated; the message says why, in words a reader understands."""


@dataclass(frozen=True)
class OLSFit:
    """Coefficients in the order of the design's columns (the intercept first), with their inference."""

    names: tuple[str, ...]
    coefficients: np.ndarray
    standard_errors: np.ndarray
    t: np.ndarray
    p_values: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    df_residual: int
    n: int
    level: float


def _rank(r: np.ndarray, n: int) -> int:
    """The rank of X from the R of its QR decomposition (same singular values), with numpy's ``matrix_rank``
    tolerance for X itself: the largest singular value times max(n, p) times the machine epsilon."""
    singular = np.linalg.svd(r, compute_uv=False)
    if singular.size == 0 or singular[0] == 0.0:
        return 0
    return int(np.sum(singular > singular[0] * max(n, r.shape[1]) * np.finfo(float).eps))


def _qr_r(matrix: np.ndarray) -> np.ndarray:
    """The R of the QR decomposition of ``matrix`` (n x m, n > m), m x m, by Householder reflections.

    Every inner product goes through ``reportgen.sums`` rather than LAPACK, so R has the same bits on every
    processor (see sums.py). Q is never formed. A diagonal element may be negative, as LAPACK's may.
    """
    a = np.array(matrix, dtype=float, order="F")  # a copy, updated column by column
    m = a.shape[1]
    for k in range(m):
        x = a[k:, k]
        norm = math.sqrt(inner(x, x))
        if norm == 0.0:
            continue
        alpha = -math.copysign(norm, x[0])
        v = x.copy()
        v[0] -= alpha  # |v[0]| = |x[0]| + norm > 0
        scale = 2.0 / inner(v, v)
        for j in range(k + 1, m):
            column = a[k:, j]
            column -= v * (scale * inner(v, column))
        a[k, k] = alpha  # what the reflection makes of x: alpha, then zeros, which triu writes
    return np.triu(a[:m, :])


def _back_substitute(r: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x with r x = b, r upper triangular with a non-zero diagonal."""
    x = np.zeros(r.shape[0])
    for i in reversed(range(r.shape[0])):
        x[i] = (b[i] - inner(r[i, i + 1 :], x[i + 1 :])) / r[i, i]
    return x


def ols(y: np.ndarray, design: np.ndarray, names: Sequence[str], level: float) -> OLSFit:
    """OLS of ``y`` on ``design`` (n x p, the intercept column included by the caller).

    One QR decomposition of [X | y], R only (``_qr_r``): its leading p x p block is the R of X, its last
    column above the diagonal is Qᵀy, and its last diagonal element squared is the residual sum of squares.
    The leading j x j block of R is the R of the first j columns, so a column that adds nothing to the span of
    those before it is found without another pass. Cov(β) = σ² R⁻¹R⁻ᵀ, of which only the diagonal is needed.

    Raises ``NotEstimable`` with a reason when there are no residual degrees of freedom, a column is
    constant or a combination of the others, the outcome does not vary, or the model fits exactly.
    """
    y = np.asarray(y, dtype=float)
    design = np.asarray(design, dtype=float)
    n, p = design.shape
    if n <= p:
        raise NotEstimable(f"{n} patients with complete data, and the model needs more than {p}")
    augmented = _qr_r(np.column_stack([design, y]))
    r = augmented[:p, :p]
    if _rank(r, n) < p:
        culprit = next(j for j in range(p) if _rank(r[: j + 1, : j + 1], n) <= j)
        raise NotEstimable(f"{names[culprit]} does not vary among the patients with complete data, or is a combination of the other terms")
    total = float(np.sum((y - y.mean()) ** 2))
    if total == 0.0:
        raise NotEstimable("every patient with complete data has the same value")
    coefficients = _back_substitute(r, augmented[:p, p])
    rss = float(augmented[p, p] ** 2)
    if rss <= EXACT_FIT_SHARE * total:
        raise NotEstimable("the model fits every patient exactly, so there is no residual variation to test against")
    df = n - p
    # Row i of R⁻¹ is column i of R⁻ᵀ; the diagonal of R⁻¹R⁻ᵀ is the squared length of each row of R⁻¹.
    r_inverse = np.column_stack([_back_substitute(r, unit) for unit in np.eye(p)])
    standard_errors = np.sqrt((rss / df) * np.array([inner(row, row) for row in r_inverse]))
    t = coefficients / standard_errors
    p_values = 2.0 * special.stdtr(df, -np.abs(t))
    quantile = float(special.stdtrit(df, 0.5 + level / 2.0))
    return OLSFit(
        names=tuple(names),
        coefficients=coefficients,
        standard_errors=standard_errors,
        t=t,
        p_values=p_values,
        lower=coefficients - quantile * standard_errors,
        upper=coefficients + quantile * standard_errors,
        df_residual=df,
        n=n,
        level=level,
    )


# --- the adjusted association with the trough level ------------------------------------------------------

EXPOSURE = "log2(trough level)"


@dataclass(frozen=True)
class Term:
    """A covariate of the model: its name (as results.json gives it), values per patient, and whether its
    natural logarithm enters the model (values of 0 or below cannot be logged and leave the patient out)."""

    name: str
    values: np.ndarray
    logged: bool = False


@dataclass(frozen=True)
class Association:
    """The coefficient of log2(level) in the model, or the reason it could not be estimated."""

    beta: float | None
    standard_error: float | None
    lower: float | None
    upper: float | None
    p_value: float | None
    df: int | None
    n: int  # patients in the model
    level_not_positive: int  # patients with a level of 0 or below, left out
    covariate_not_positive: int  # patients with a positive level whose logged covariate is 0 or below
    incomplete: int  # patients with a positive level but no outcome or covariate (blank)
    not_estimated: str = ""  # why there is no estimate; "" when there is one


def _finite(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def adjusted_association(outcome: np.ndarray, level: np.ndarray, terms: Sequence[Term], ci_level: float) -> Association:
    """β of log2(level) in the OLS of ``outcome`` on log2(level) and ``terms``, per doubling of the level.

    Patients without a level (NaN) are not counted anywhere here: the cohort counts them.
    """
    outcome = np.asarray(outcome, dtype=float)
    level = np.asarray(level, dtype=float)
    with_level = ~np.isnan(level)
    positive = with_level & (level > 0)
    complete = positive & ~np.isnan(outcome)
    logged_ok = np.ones_like(positive)
    for term in terms:
        values = np.asarray(term.values, dtype=float)
        complete &= ~np.isnan(values)
        if term.logged:
            with np.errstate(invalid="ignore"):
                logged_ok &= np.isnan(values) | (values > 0)
    not_logged = complete & ~logged_ok
    used = complete & logged_ok
    counts = {
        "level_not_positive": int(np.sum(with_level & ~positive)),
        "covariate_not_positive": int(np.sum(not_logged)),
        "incomplete": int(np.sum(positive & ~complete)),
    }
    n = int(np.sum(used))
    design = np.empty((n, 2 + len(terms)), order="F")
    design[:, 0] = 1.0
    np.log2(level[used], out=design[:, 1])
    for j, term in enumerate(terms, start=2):
        values = np.asarray(term.values, dtype=float)[used]
        if term.logged:
            np.log(values, out=design[:, j])
        else:
            design[:, j] = values
    names = ("intercept", EXPOSURE, *(term.name for term in terms))
    try:
        fit = ols(outcome[used], design, names, ci_level)
    except NotEstimable as reason:
        return Association(None, None, None, None, None, None, n=n, not_estimated=str(reason), **counts)
    return Association(
        beta=_finite(fit.coefficients[1]),
        standard_error=_finite(fit.standard_errors[1]),
        lower=_finite(fit.lower[1]),
        upper=_finite(fit.upper[1]),
        p_value=_finite(fit.p_values[1]),
        df=fit.df_residual,
        n=n,
        **counts,
    )
