"""reportgen.regression: OLS against statsmodels, the adjusted association, degenerate data."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reportgen.regression import NotEstimable, Term, adjusted_association, ols

sm = pytest.importorskip("statsmodels.api")

LEVEL = 0.95


def _close(ours, theirs, tolerance=1e-10):
    np.testing.assert_allclose(np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float), rtol=tolerance, atol=1e-14)


def _random_design(seed: int, n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    covariates = rng.normal(size=(n, k)) * rng.uniform(0.5, 20, size=k) + rng.uniform(-5, 50, size=k)
    y = covariates @ rng.normal(size=k) + rng.normal(scale=2.0, size=n) + 3.0
    return y, np.column_stack([np.ones(n), covariates])


@pytest.mark.parametrize(("seed", "n", "k"), [(1, 12, 1), (2, 33, 3), (3, 200, 5), (4, 8, 6)])
def test_ols_equals_statsmodels(seed, n, k):
    y, design = _random_design(seed, n, k)
    names = ["intercept", *(f"x{i}" for i in range(k))]
    fit = ols(y, design, names, LEVEL)
    reference = sm.OLS(y, design).fit()
    _close(fit.coefficients, reference.params)
    _close(fit.standard_errors, reference.bse)
    _close(fit.p_values, reference.pvalues)
    interval = reference.conf_int(alpha=1 - LEVEL)
    _close(fit.lower, interval[:, 0])
    _close(fit.upper, interval[:, 1])
    assert fit.df_residual == reference.df_resid == n - k - 1


def test_adjusted_association_is_the_log2_coefficient_of_statsmodels():
    """β per doubling, its SE, CI and p: the log2(level) coefficient of statsmodels on the same patients;
    a patient without outcome, without covariate, or with a level of 0 is left out and counted."""
    rng = np.random.default_rng(7)
    n = 40
    level = rng.lognormal(2.0, 1.0, size=n)
    level[[0, 1]] = [0.0, np.nan]
    baseline = rng.normal(5, 1, size=n)
    esr = rng.lognormal(3, 0.5, size=n)
    mtx = (rng.uniform(size=n) < 0.6).astype(float)
    outcome = 1.0 + 0.6 * baseline - 0.4 * np.log2(np.where(level > 0, level, 1.0)) + rng.normal(0, 0.7, size=n)
    outcome[2] = np.nan
    esr[3] = np.nan
    esr[4] = 0.0  # cannot be logged
    result = adjusted_association(
        outcome, level, [Term("baseline", baseline), Term("ln(esr)", esr, logged=True), Term("mtx", mtx)], LEVEL
    )
    keep = np.ones(n, dtype=bool)
    keep[[0, 1, 2, 3, 4]] = False
    design = sm.add_constant(np.column_stack([np.log2(level[keep]), baseline[keep], np.log(esr[keep]), mtx[keep]]))
    reference = sm.OLS(outcome[keep], design).fit()
    assert result.n == int(reference.nobs) == n - 5
    assert (result.level_not_positive, result.covariate_not_positive, result.incomplete) == (1, 1, 2)
    _close(result.beta, reference.params[1])
    _close(result.standard_error, reference.bse[1])
    _close(result.p_value, reference.pvalues[1])
    _close([result.lower, result.upper], reference.conf_int()[1])
    assert result.df == n - 5 - 5
    # per doubling = per unit of ln(level) times ln 2
    per_ln = sm.OLS(outcome[keep], sm.add_constant(np.column_stack([np.log(level[keep]), baseline[keep], np.log(esr[keep]), mtx[keep]]))).fit()
    assert result.beta == pytest.approx(per_ln.params[1] * math.log(2), rel=1e-10)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("constant covariate", "mtx does not vary"),
        ("collinear covariate", "twice does not vary among the patients with complete data, or is a combination"),
        ("too few", "3 patients with complete data, and the model needs more than 4"),
        ("constant outcome", "the same value"),
        ("exact fit", "fits every patient exactly"),
        ("one level", "log2(trough level) does not vary"),
    ],
)
def test_degenerate_data_give_a_reason_not_an_exception(case, reason):
    rng = np.random.default_rng(3)
    n = 10
    level = rng.lognormal(2, 1, size=n)
    baseline = rng.normal(5, 1, size=n)
    outcome = rng.normal(4, 1, size=n)
    terms = [Term("baseline", baseline), Term("mtx", (rng.uniform(size=n) < 0.5).astype(float))]
    if case == "constant covariate":
        terms[1] = Term("mtx", np.ones(n))
    elif case == "collinear covariate":
        terms[1] = Term("twice", 2 * baseline)
    elif case == "too few":
        level[3:] = np.nan
    elif case == "constant outcome":
        outcome[:] = 2.0
    elif case == "exact fit":
        outcome = 1 + 2 * baseline - np.log2(level) + 0.5 * terms[1].values
    elif case == "one level":
        level[:] = 4.0
    result = adjusted_association(outcome, level, terms, LEVEL)
    assert result.beta is None and result.p_value is None and result.lower is None
    assert reason in result.not_estimated


def test_ols_refuses_a_singular_design_by_name():
    design = np.column_stack([np.ones(5), np.arange(5.0), np.arange(5.0) * 3 + 1])
    with pytest.raises(NotEstimable, match="^c does not vary"):
        ols(np.array([1.0, 3, 2, 5, 4]), design, ["intercept", "b", "c"], LEVEL)


# --- found by mutation testing (docs/mutation-testing.md) --------------------------------------------------


def test_ols_of_orthonormal_columns_is_estimable():
    # Singular values exactly 1 (a design of unit columns): full rank. By hand, beta = (y1, y2) = (1, 2),
    # RSS = 3² = 9 on 1 df, so each SE is sqrt(9 x 1) = 3.
    fit = ols(np.array([1.0, 2.0, 3.0]), np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]), ("a", "b"), LEVEL)
    _close(fit.coefficients, [1.0, 2.0])
    _close(fit.standard_errors, [3.0, 3.0])
    assert fit.df_residual == 1


def test_ols_names_a_column_of_zeros_first():
    with pytest.raises(NotEstimable, match="^a does not vary"):
        ols(np.array([1.0, 2.0, 3.0, 4.0]), np.array([[0.0, 1.0], [0.0, 2.0], [0.0, 3.0], [0.0, 5.0]]), ("a", "b"), LEVEL)


def test_ols_rank_tolerance_is_numpys():
    # A singular value equal to numpy's matrix_rank tolerance (largest x max(n, p) x eps) counts as zero.
    design = np.array([[1.0, 0.0], [0.0, 4 * np.finfo(float).eps], [0.0, 0.0], [0.0, 0.0]])
    assert np.linalg.matrix_rank(design) == 1
    with pytest.raises(NotEstimable, match="^b does not vary"):
        ols(np.array([1.0, 2.0, 3.0, 4.0]), design, ("a", "b"), LEVEL)


def test_ols_of_as_many_patients_as_terms_gives_the_reason():
    # n = p leaves no residual degree of freedom: a reason, not an IndexError.
    with pytest.raises(NotEstimable, match="^2 patients with complete data, and the model needs more than 2$"):
        ols(np.array([1.0, 3.0]), np.array([[1.0, 0.0], [1.0, 1.0]]), ("intercept", "b"), LEVEL)


def test_ols_of_an_outcome_symmetric_about_its_mean_is_estimable():
    # y = 1, 2, 3, 4 varies (its deviations cancel in odd powers, not in squares). By hand: Sxy = 4, Sxx = 5,
    # slope 0.8, intercept 2.5 - 0.8 x 2.5 = 0.5.
    fit = ols(np.array([1.0, 2.0, 3.0, 4.0]), np.column_stack([np.ones(4), [1.0, 3.0, 2.0, 4.0]]), ("intercept", "x"), LEVEL)
    _close(fit.coefficients, [0.5, 0.8])


def test_ols_reasons_in_full():
    # The reasons are printed as they are (the adjusted-estimates table says why there is no estimate).
    design = np.column_stack([np.ones(4), [1.0, 3.0, 2.0, 4.0]])
    with pytest.raises(NotEstimable) as constant:
        ols(np.full(4, 2.0), design, ("intercept", "x"), LEVEL)
    assert str(constant.value) == "every patient with complete data has the same value"
    with pytest.raises(NotEstimable) as exact:
        ols(1.0 + 2.0 * design[:, 1], design, ("intercept", "x"), LEVEL)
    assert str(exact.value) == "the model fits every patient exactly, so there is no residual variation to test against"


def test_ols_recognises_an_exact_fit_at_any_scale():
    # y = 100 + 700 x on six patients: rounding leaves an RSS of about 1e-24, a share of about 1e-31 of the
    # total sum of squares (about 1.1e7): an exact fit, not a test against rounding noise.
    x = np.array([1.0, 3.0, 2.0, 4.0, 7.0, 5.0])
    with pytest.raises(NotEstimable, match="fits every patient exactly"):
        ols(100.0 + 700.0 * x, np.column_stack([np.ones(6), x]), ("intercept", "x"), LEVEL)


def test_ols_fit_names_its_coefficients_in_order():
    y, design = _random_design(5, 20, 2)
    fit = ols(y, design, ["intercept", "age", "crp"], LEVEL)
    assert fit.names == ("intercept", "age", "crp") and fit.n == 20 and fit.level == LEVEL
    _close(fit.t, sm.OLS(y, design).fit().tvalues)


def test_values_that_are_not_finite_are_reported_as_none():
    # results.json has no NaN or infinity: such a value is "none", a finite one is kept.
    from reportgen.regression import _finite

    assert _finite(float("nan")) is None and _finite(math.inf) is None and _finite(-2.5) == -2.5


def test_every_logged_covariate_leaves_out_its_values_of_zero_or_below():
    # Two logged covariates: patient 0 has -1 in the first, patient 1 has 0.5 in the second (a positive
    # value below 1, whose log is fine). Only patient 0 is left out.
    rng = np.random.default_rng(8)
    n = 12
    first = rng.uniform(1, 5, size=n)
    first[0] = -1.0
    second = rng.uniform(1, 5, size=n)
    second[1] = 0.5
    result = adjusted_association(rng.normal(size=n), rng.lognormal(2, 1, size=n), [Term("a", first, logged=True), Term("b", second, logged=True)], LEVEL)
    assert (result.covariate_not_positive, result.n) == (1, n - 1)


# --- found by mutation testing, fourth pass of 2026-12-02 (docs/mutation-testing.md) ----------------------


def test_a_model_not_estimated_still_counts_its_patients():
    # 10 patients, 7 without a level: n = 3 (by hand) is reported with the reason, as are the counts of
    # patients left out (none here: the missing levels are the cohort's to count).
    rng = np.random.default_rng(3)
    level = np.r_[2.0, 4.0, 8.0, np.full(7, np.nan)]
    terms = [Term("baseline", rng.normal(5, 1, size=10)), Term("mtx", np.r_[0.0, 1.0].repeat(5))]
    result = adjusted_association(rng.normal(4, 1, size=10), level, terms, LEVEL)
    assert result.beta is None and result.not_estimated == "3 patients with complete data, and the model needs more than 4"
    assert (result.n, result.level_not_positive, result.covariate_not_positive, result.incomplete) == (3, 0, 0, 0)


# --- the same bits on every processor ----------------------------------------------------------------


@pytest.mark.parametrize(("seed", "n", "k"), [(21, 9, 1), (22, 50, 4), (23, 1000, 6)])
def test_the_qr_r_is_lapacks_up_to_the_sign_of_each_row(seed, n, k):
    from reportgen.regression import _qr_r

    y, design = _random_design(seed, n, k)
    matrix = np.column_stack([design, y])
    ours, lapack = _qr_r(matrix), np.linalg.qr(matrix, mode="r")
    signs = np.sign(np.diag(ours)) * np.sign(np.diag(lapack))
    np.testing.assert_allclose(ours, signs[:, None] * lapack, rtol=1e-11, atol=1e-11 * np.abs(lapack).max())
    assert np.all(np.tril(ours, -1) == 0.0)


def test_a_column_of_zeros_leaves_its_reflection_out():
    from reportgen.regression import _qr_r

    matrix = np.array([[0.0, 1.0], [0.0, 2.0], [0.0, 2.0]])
    np.testing.assert_allclose(np.abs(_qr_r(matrix)), [[0.0, 1.0], [0.0, 2.0 * math.sqrt(2.0)]], atol=1e-15)


def test_the_fit_needs_no_lapack_routine_but_the_rank(monkeypatch):
    """OpenBLAS and LAPACK pick their kernels by processor, so their last bits differ between machines (see
    reportgen/sums.py): the fit itself uses neither, which this checks by making QR and solve unavailable."""
    y, design = _random_design(5, 40, 3)
    expected = ols(y, design, ["intercept", "a", "b", "c"], LEVEL)

    def unavailable(*args, **kwargs):
        raise AssertionError("LAPACK called")

    monkeypatch.setattr(np.linalg, "qr", unavailable)
    monkeypatch.setattr(np.linalg, "solve", unavailable)
    monkeypatch.setattr(np.linalg, "lstsq", unavailable)
    monkeypatch.setattr(np.linalg, "inv", unavailable)
    fit = ols(y, design, ["intercept", "a", "b", "c"], LEVEL)
    for field in ("coefficients", "standard_errors", "p_values", "lower", "upper"):
        assert np.array_equal(getattr(fit, field), getattr(expected, field))
