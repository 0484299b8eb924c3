"""Confidence intervals against independent computations: scipy, statsmodels, brute-force enumeration,
and published values."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from reportgen import estimates
from reportgen.model import ConfidenceInterval, IntervalMethod

REL = 1e-9


def close(a: float | None, b: float, rel: float = REL) -> bool:
    return a is not None and math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


# --- mean and median --------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 3, 8, 33, 200])
def test_mean_ci_is_scipys_t_interval(n: int) -> None:
    x = np.random.default_rng(n).normal(3.0, 1.5, n)
    ci = estimates.mean_ci(np.append(x, np.nan))
    lower, upper = sps.t.interval(0.95, n - 1, loc=x.mean(), scale=sps.sem(x))
    assert ci.method == IntervalMethod.STUDENT_T and ci.level == 0.95
    assert close(ci.lower, lower) and close(ci.upper, upper)
    ci90 = estimates.mean_ci(x, level=0.9)
    assert close(ci90.upper, sps.t.interval(0.9, n - 1, loc=x.mean(), scale=sps.sem(x))[1])


def test_mean_ci_needs_two_values() -> None:
    assert estimates.mean_ci([4.0]) == ConfidenceInterval(0.95, "student-t", None, None)
    assert estimates.mean_ci([]) == ConfidenceInterval(0.95, "student-t", None, None)


@pytest.mark.parametrize("n", [6, 7, 8, 10, 17, 34, 101])
def test_median_ci_is_scipys_order_statistic_interval(n: int) -> None:
    x = np.random.default_rng(n).gamma(2.0, 1.0, n)
    ci = estimates.median_ci(x)
    reference = sps.quantile_test(x, q=float(np.median(x)), p=0.5).confidence_interval(0.95)
    assert ci.method == IntervalMethod.ORDER_STATISTIC
    assert (ci.lower, ci.upper) == (reference.low, reference.high)


def test_median_ci_order_statistics_by_hand() -> None:
    # n = 6: P(B <= 0) = 1/64, coverage 1 - 2/64 = 0.969 >= 0.95, P(B <= 1) = 7/64: k = 1, [x(1), x(6)].
    assert estimates.median_order_statistic(6) == 1
    # n = 5: coverage of [x(1), x(5)] is 1 - 2/32 = 0.9375 < 0.95: no interval.
    assert estimates.median_order_statistic(5) is None
    assert estimates.median_ci([1.0, 2.0, 3.0, 4.0, 5.0]).lower is None
    # n = 10: P(B <= 1) = 11/1024 = 0.0107 <= 0.025, P(B <= 2) = 56/1024 = 0.0547: k = 2, [x(2), x(9)].
    assert estimates.median_order_statistic(10) == 2
    ci = estimates.median_ci([10.0, 1.0, 9.0, 2.0, 8.0, 3.0, 7.0, 4.0, 6.0, 5.0])
    assert (ci.lower, ci.upper) == (2.0, 9.0)


@pytest.mark.parametrize("level", [0.95, 0.9, 0.99])
def test_median_order_statistic_is_the_last_k_of_every_binomial_tail(level: float) -> None:
    # The definition evaluated for every j, against the search that evaluates few.
    for n in [*range(0, 400), 1_000, 4_999, 25_000, 100_001]:
        tail = sps.binom.cdf(np.arange(0, (n + 1) // 2), n, 0.5)
        ok = np.flatnonzero(tail <= (1.0 - level) / 2.0 * (1.0 + 1e-12))
        assert estimates.median_order_statistic(n, level) == (int(ok[-1]) + 1 if ok.size else None), n


def test_median_order_statistic_asks_few_binomial_tails(monkeypatch: pytest.MonkeyPatch) -> None:
    # A median of 100,000 values must not evaluate 50,000 binomial tails (analyse takes 110 medians).
    asked = []
    bdtr = estimates.special.bdtr
    monkeypatch.setattr(estimates.special, "bdtr", lambda k, n, p: asked.append(np.size(k)) or bdtr(k, n, p))
    assert estimates.median_order_statistic(100_000) == 49_690
    assert sum(asked) <= 40


# --- proportions -------------------------------------------------------------------------------------


@pytest.mark.parametrize("x, n", [(0, 5), (1, 8), (9, 10), (10, 10), (19, 34), (250, 1000)])
def test_wilson_ci_is_scipys_and_statsmodels(x: int, n: int) -> None:
    ci = estimates.wilson_ci(x, n)
    scipy_ci = sps.binomtest(x, n).proportion_ci(confidence_level=0.95, method="wilson")
    sm_lower, sm_upper = proportion_confint(x, n, alpha=0.05, method="wilson")
    assert ci.method == IntervalMethod.WILSON
    assert close(ci.lower, scipy_ci.low) or (ci.lower == 0.0 and scipy_ci.low < 1e-15)
    assert close(ci.upper, scipy_ci.high) or (ci.upper == 1.0 and scipy_ci.high > 1 - 1e-15)
    assert math.isclose(ci.lower, sm_lower, abs_tol=1e-12) and math.isclose(ci.upper, sm_upper, abs_tol=1e-12)


def test_wilson_ci_of_the_example_good_response_in_the_first_group() -> None:
    # The reading of the example: 1/8 good responders, Wilson-type interval roughly 2 to 47 %.
    ci = estimates.wilson_ci(1, 8)
    assert (round(100 * ci.lower), round(100 * ci.upper)) == (2, 47)


def test_wilson_ci_without_patients_and_bad_counts() -> None:
    assert estimates.wilson_ci(0, 0).lower is None
    with pytest.raises(ValueError):
        estimates.wilson_ci(3, 2)


@pytest.mark.parametrize("x1, n1, x2, n2", [(56, 70, 48, 80), (1, 8, 9, 10), (9, 10, 1, 8), (0, 10, 0, 20), (10, 10, 3, 12)])
def test_newcombe_difference_is_statsmodels(x1: int, n1: int, x2: int, n2: int) -> None:
    estimate, ci = estimates.newcombe_difference(x1, n1, x2, n2)
    lower, upper = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff", alpha=0.05)
    assert ci.method == IntervalMethod.NEWCOMBE
    assert math.isclose(estimate, x1 / n1 - x2 / n2, abs_tol=1e-15)
    assert math.isclose(ci.lower, lower, abs_tol=1e-12) and math.isclose(ci.upper, upper, abs_tol=1e-12)


def test_newcombe_difference_published_example() -> None:
    # Newcombe, Stat Med 1998;17:873-890, Table II, example (a): 56/70 - 48/80, method 10: 0.0524 to 0.3339.
    _, ci = estimates.newcombe_difference(56, 70, 48, 80)
    assert (round(ci.lower, 4), round(ci.upper, 4)) == (0.0524, 0.3339)


# --- Spearman ---------------------------------------------------------------------------------------------


def test_spearman_ci_reproduces_the_published_example() -> None:
    # Example cohort, DAS28-ESR at follow-up vs trough level: rho -0.555 (n = 33); the issue prints -0.75 to -0.26.
    ci = estimates.spearman_ci(-0.55548128342246, 33)
    assert ci.method == IntervalMethod.FISHER_Z
    assert (round(ci.lower, 2), round(ci.upper, 2)) == (-0.75, -0.26)


@pytest.mark.parametrize("n", [4, 10, 33, 500])
def test_spearman_ci_is_fisher_z_as_scipys_pearson_interval_on_the_ranks(n: int) -> None:
    rng = np.random.default_rng(n)
    x = rng.normal(size=n)
    y = x + rng.normal(size=n)
    rx, ry = sps.rankdata(x), sps.rankdata(y)
    pearson = sps.pearsonr(rx, ry)  # Pearson on ranks = Spearman; its interval is Fisher z, SE 1/sqrt(n - 3)
    reference = pearson.confidence_interval(0.95)
    ci = estimates.spearman_ci(float(sps.spearmanr(x, y).statistic), n)
    assert close(ci.lower, reference.low, 1e-7) and close(ci.upper, reference.high, 1e-7)


def test_spearman_ci_undefined_cases() -> None:
    assert estimates.spearman_ci(None, 30).lower is None
    assert estimates.spearman_ci(0.5, 3).upper is None
    assert estimates.spearman_ci(-1.0, 10) == ConfidenceInterval(0.95, "fisher-z", -1.0, -1.0)


# --- Hodges-Lehmann -----------------------------------------------------------------------------------------


def brute_force_counts(m: int, n: int) -> list[int]:
    """Mann-Whitney U over every choice of m ranks out of m + n."""
    counts = [0] * (m * n + 1)
    for chosen in itertools.combinations(range(1, m + n + 1), m):
        counts[sum(chosen) - m * (m + 1) // 2] += 1
    return counts


@pytest.mark.parametrize("m, n", [(1, 1), (2, 3), (4, 4), (5, 7), (8, 6)])
def test_mann_whitney_counts_match_enumeration(m: int, n: int) -> None:
    assert estimates.mann_whitney_counts(m, n) == brute_force_counts(m, n)


def r_wilcox_interval(x: np.ndarray, y: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """R's wilcox.test(x, y, conf.int = TRUE) in the exact case, step for step, with the null distribution
    from scipy's exact Mann-Whitney test (P(U <= u) as the p of alternative="less" on data giving U = u)."""
    m, n = x.size, y.size
    alpha = 1 - level
    ys = np.arange(n, dtype=float)

    def pwilcox(u: int) -> float:
        # x values above exactly u pairs' worth of the y's in all (U = #{x_i > y_j} = u), no ties.
        data_x, remaining = [], u
        for i in range(m):
            above = min(n, remaining)
            data_x.append(ys[above - 1] + 0.5 + i * 1e-3 if above else -100.0 - i)
            remaining -= above
        return float(sps.mannwhitneyu(data_x, ys, alternative="less", method="exact").pvalue)

    qu = next(u for u in range(m * n + 1) if pwilcox(u) >= alpha / 2 - 10 * np.finfo(float).eps)
    qu = max(qu, 1)
    diffs = np.sort(np.subtract.outer(x, y).ravel())
    return float(np.median(diffs)), float(diffs[qu - 1]), float(diffs[m * n - qu])


@pytest.mark.parametrize("m, n, seed", [(8, 10, 1), (10, 8, 2), (7, 7, 3), (12, 9, 4)])
def test_hodges_lehmann_exact_is_r_wilcox_test(m: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    high, low = rng.normal(1.0, 1.0, m), rng.normal(0.0, 1.0, n)
    estimate, ci = estimates.hodges_lehmann(high, low)
    r_estimate, r_lower, r_upper = r_wilcox_interval(high, low)
    assert ci.method == IntervalMethod.MANN_WHITNEY_EXACT
    assert close(estimate, r_estimate) and ci.lower == r_lower and ci.upper == r_upper


def test_hodges_lehmann_exact_critical_value_from_the_tables() -> None:
    # Two-sided 5 % critical value of U for m = n = 10 in the standard tables: 23 (reject when U <= 23), so
    # qwilcox(0.025, 10, 10) = 24 and the interval runs from the 24th to the 77th of the 100 differences.
    assert estimates._qwilcox_exact(0.025, 10, 10) == 24
    high = np.arange(10) * 10.0 + 0.5
    low = np.arange(10) * 10.0 + 0.25 + np.arange(10) * 1e-3
    diffs = np.sort(np.subtract.outer(high, low).ravel())
    _, ci = estimates.hodges_lehmann(high, low)
    assert (ci.lower, ci.upper) == (diffs[23], diffs[76])


def test_hodges_lehmann_normal_with_ties_and_large_groups() -> None:
    rng = np.random.default_rng(5)
    high, low = rng.integers(0, 10, 40).astype(float), rng.integers(0, 8, 30).astype(float)
    estimate, ci = estimates.hodges_lehmann(high, low)
    diffs = np.sort(np.subtract.outer(high, low).ravel())
    assert ci.method == IntervalMethod.MANN_WHITNEY_NORMAL  # ties
    assert estimate == float(np.median(diffs))
    # qu by hand from the normal approximation with tie-corrected variance.
    pooled = np.concatenate([high, low])
    t = np.unique(pooled, return_counts=True)[1].astype(float)
    m, n, total = 40, 30, 70
    sigma = math.sqrt(m * n / 12 * ((total + 1) - np.sum(t**3 - t) / (total * (total - 1))))
    qu = math.ceil(m * n / 2 - 0.5 - sps.norm.ppf(0.975) * sigma)
    assert (ci.lower, ci.upper) == (diffs[qu - 1], diffs[m * n - qu])


def test_hodges_lehmann_normal_approximation_is_close_to_the_exact_rule_without_ties() -> None:
    # Groups of 50 or more leave the exact distribution (as R); the order statistic chosen by the normal
    # approximation is then within one of the exact one.
    m = n = 60
    exact = estimates._qwilcox_exact(0.025, m, n)
    normal = estimates._qwilcox_normal(0.025, m, n, 0.0)
    assert abs(exact - normal) <= 1
    high = np.random.default_rng(6).normal(size=m)
    assert estimates.hodges_lehmann(high, high[::-1] - 0.3 + 1e-9)[1].method == IntervalMethod.MANN_WHITNEY_NORMAL


@pytest.mark.parametrize("decimals", [1, 12])  # many ties in low, or none
def test_hodges_lehmann_large_groups_select_without_forming_every_difference(monkeypatch: pytest.MonkeyPatch, decimals: int) -> None:
    rng = np.random.default_rng(7)
    high, low = rng.normal(0.5, 1.0, 700), np.round(rng.normal(0.0, 1.0, 500), decimals)
    reference = estimates.hodges_lehmann(high, low)
    monkeypatch.setattr(estimates, "MATERIALISED_DIFFERENCES", 1000)
    selected = estimates.hodges_lehmann(high, low)
    assert selected == reference
    diffs = np.sort(np.subtract.outer(high, low).ravel())
    assert reference[0] == float(np.median(diffs))


@pytest.mark.parametrize("kind", ["continuous", "two decimals", "counts"])
def test_order_statistics_of_large_groups_by_bisection_match_sorting(monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    rng = np.random.default_rng(11)
    draw = {
        "continuous": lambda size: rng.normal(0.0, 1.0, size),
        "two decimals": lambda size: np.round(rng.normal(0.0, 1.0, size), 2),  # ties, and differences off by rounding
        "counts": lambda size: rng.integers(0, 29, size).astype(float),
    }[kind]
    high, low = draw(300) + 0.5, draw(250)
    ks = [1, 2, 100, 37_500, 37_501, 74_999, 75_000]
    expected = np.sort(np.subtract.outer(high, low).ravel())[np.array(ks) - 1]
    monkeypatch.setattr(estimates, "MATERIALISED_DIFFERENCES", 1000)
    got = estimates.pairwise_difference_order_statistics(high, low, ks)
    assert np.allclose(got, expected, rtol=1e-12, atol=0)
    if kind != "two decimals":
        assert got == expected.tolist()


def test_epsilon_squared_bootstrap_has_a_work_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    groups = [np.arange(5.0), np.arange(5.0) + 2]
    assert estimates.bootstrap_epsilon_squared(groups).lower is not None
    monkeypatch.setattr(estimates, "BOOTSTRAP_MAX_VALUES", 9)
    assert estimates.bootstrap_epsilon_squared(groups) == ConfidenceInterval(0.95, "bootstrap-percentile", None, None)


def test_hodges_lehmann_empty_group() -> None:
    estimate, ci = estimates.hodges_lehmann([], [1.0, 2.0])
    assert estimate is None and ci.lower is None and ci.upper is None


# --- bootstrap --------------------------------------------------------------------------------------------


def test_cramers_v_of_tables_is_scipys_chi_square_on_each_table() -> None:
    rng = np.random.default_rng(9)
    tables = rng.multinomial(34, np.full(12, 1 / 12), size=30).reshape(30, 3, 4)
    tables[0] = [[4, 1, 1, 0], [3, 0, 4, 1], [0, 0, 0, 0]]  # an empty row, left out
    got = estimates.cramers_v_of_tables(tables)
    for table, value in zip(tables, got):
        reduced = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
        chi2 = sps.chi2_contingency(reduced, correction=False).statistic
        assert close(value, math.sqrt(chi2 / (reduced.sum() * (min(reduced.shape) - 1))))


def test_bootstrap_intervals_are_seeded_and_contain_the_estimate() -> None:
    table = [[4, 1, 1, 0], [3, 0, 4, 1], [1, 6, 3, 9]]
    first, second = estimates.bootstrap_ci("cramers-v", table), estimates.bootstrap_ci("cramers-v", table)
    assert first == second and first.method == IntervalMethod.BOOTSTRAP_PERCENTILE
    v = sps.contingency.association(np.array(table), method="cramer", correction=False)
    assert first.lower < v < first.upper
    rng = np.random.default_rng(10)
    groups = [rng.normal(i, 1.0, 9) for i in range(4)]
    ci = estimates.bootstrap_ci("epsilon-squared", groups)
    assert ci == estimates.bootstrap_epsilon_squared(groups)
    h = sps.kruskal(*groups).statistic
    assert ci.lower < h / 35 < ci.upper


def test_epsilon_squared_bootstrap_is_the_percentiles_of_scipys_kruskal_over_the_resamples() -> None:
    # The same draws as the bootstrap (each group's values drawn in turn, all resamples at once), each
    # resample's H from scipy.
    rng = np.random.default_rng(12)
    groups = [np.round(rng.normal(i, 1.0, size), 1) for i, size in enumerate([8, 7, 8, 10])]
    draws = np.random.default_rng(estimates.BOOTSTRAP_SEED)
    picks = [draws.integers(0, g.size, size=(estimates.BOOTSTRAP_RESAMPLES, g.size)) for g in groups]
    n = sum(g.size for g in groups)
    epsilon = np.array([sps.kruskal(*(g[p[r]] for g, p in zip(groups, picks))).statistic / (n - 1) for r in range(estimates.BOOTSTRAP_RESAMPLES)])
    lower, upper = np.quantile(epsilon[np.isfinite(epsilon)], [0.025, 0.975])
    ci = estimates.bootstrap_epsilon_squared(groups)
    assert close(ci.lower, lower) and close(ci.upper, upper)


def test_eta_squared_bootstrap_is_the_percentiles_of_scipys_anova_over_the_resamples() -> None:
    rng = np.random.default_rng(13)
    groups = [rng.normal(i, 1.0 + i, size) for i, size in enumerate([8, 7, 8, 10])]
    draws = np.random.default_rng(estimates.BOOTSTRAP_SEED)
    picks = [draws.integers(0, g.size, size=(estimates.BOOTSTRAP_RESAMPLES, g.size)) for g in groups]
    n, k = sum(g.size for g in groups), len(groups)
    eta = []
    for r in range(estimates.BOOTSTRAP_RESAMPLES):
        f = sps.f_oneway(*(g[p[r]] for g, p in zip(groups, picks))).statistic
        eta.append(f * (k - 1) / (f * (k - 1) + (n - k)))  # eta² from F: SS_b / (SS_b + SS_w)
    lower, upper = np.quantile(eta, [0.025, 0.975])
    ci = estimates.bootstrap_ci("eta-squared", groups)
    assert ci.method == IntervalMethod.BOOTSTRAP_PERCENTILE and close(ci.lower, lower, 1e-8) and close(ci.upper, upper, 1e-8)


def test_bootstrap_percentiles_of_the_resampled_statistics() -> None:
    # The interval is the 2.5th and 97.5th percentiles of the statistic over the seeded resamples.
    table = np.array([[5, 2], [1, 6]])
    rng = np.random.default_rng(estimates.BOOTSTRAP_SEED)
    tables = rng.multinomial(14, table.ravel() / 14, size=estimates.BOOTSTRAP_RESAMPLES).reshape(-1, 2, 2)
    v = estimates.cramers_v_of_tables(tables)
    expected = np.quantile(v[np.isfinite(v)], [0.025, 0.975])
    ci = estimates.bootstrap_cramers_v(table)
    assert (ci.lower, ci.upper) == tuple(expected)


def test_bootstrap_undefined_cases() -> None:
    assert estimates.bootstrap_epsilon_squared([[1.0, 2.0], []]).lower is None
    assert estimates.bootstrap_epsilon_squared([[1.0, 1.0], [1.0]]).upper is None
    assert estimates.bootstrap_cramers_v([[3, 4], [0, 0]]).lower is None
    assert estimates.bootstrap_ci("eta-squared", [[2.0, 2.0], [2.0]]).lower is None
    with pytest.raises(ValueError):
        estimates.bootstrap_ci("omega-squared", [])


# --- found by mutation testing (docs/mutation-testing.md, estimates.py), each value by hand ------------------


def test_median_order_statistic_at_a_level_equal_to_a_coverage_and_at_low_levels() -> None:
    # n = 6: [x(1), x(6)] covers 1 - 2/64 = 0.96875 (exact in binary): a level equal to the coverage is met.
    assert estimates.median_order_statistic(6, 0.96875) == 1
    # n = 10: P(B <= 1) = 11/1024, coverage of [x(2), x(9)] = 1 - 22/1024 = 0.978515625 (exact): k = 2.
    assert estimates.median_order_statistic(10, 0.978515625) == 2
    # n = 2: [x(1), x(2)] covers 1 - 2/4 = 0.5: k = 1 at a level of 0.5 or below, none above.
    assert estimates.median_order_statistic(2, 0.5) == 1
    assert estimates.median_order_statistic(2, 0.3) == 1
    assert estimates.median_order_statistic(2, 0.51) is None
    # The tail may exceed alpha/2 by a relative 1e-12 (rounding): at this level (1 - level) / 2 * (1 + 1e-12) is
    # exactly 0.25 = P(B <= 0) in floating point, and a tail equal to the limit passes.
    assert estimates.median_order_statistic(2, 0.5000000000005) == 1
    # n = 1: P(B <= 0) = 1/2, within that tolerance of (1 - level) / 2 only at a level below 1e-12.
    assert estimates.median_order_statistic(1, 1e-13) == 1
    assert estimates.median_order_statistic(1, 1e-11) is None


def test_median_ci_at_another_level_and_its_record() -> None:
    # n = 10 at 80 %: P(B <= 2) = 56/1024 = 0.055 <= 0.1, P(B <= 3) = 176/1024 = 0.17: k = 3, [x(3), x(8)].
    values = [10.0, 1.0, 9.0, 2.0, 8.0, 3.0, 7.0, 4.0, 6.0, 5.0]
    assert estimates.median_ci(values, 0.8) == ConfidenceInterval(0.8, "order-statistic", 3.0, 8.0)
    assert estimates.median_ci([1.0, 2.0, 3.0]) == ConfidenceInterval(0.95, "order-statistic", None, None)
    assert estimates.median_ci([1.0, 2.0], 0.7) == ConfidenceInterval(0.7, "order-statistic", None, None)  # 2/4 > 0.3


def test_wilson_bounds_are_exactly_0_and_1_at_0_and_n_successes() -> None:
    # The formula's centre - half and centre + half are 0 and 1 only up to rounding (at n = 3 and n = 10 they are not).
    for n in range(1, 61):
        assert estimates.wilson_ci(0, n).lower == 0.0, n
        assert estimates.wilson_ci(n, n).upper == 1.0, n


def test_counts_outside_0_to_n_are_refused_naming_them() -> None:
    for successes, n in [(4, 3), (-1, 3), (0, -1), (-2, -1)]:
        with pytest.raises(ValueError) as caught:
            estimates.wilson_ci(successes, n)
        assert str(caught.value) == f"need 0 <= successes <= n, got {successes} of {n}"
    with pytest.raises(ValueError):
        estimates.newcombe_difference(1, 2, 3, 2)
    with pytest.raises(ValueError):
        estimates.newcombe_difference(-1, 2, 1, 2)


def test_undefined_intervals_still_name_their_level_and_method() -> None:
    assert estimates.wilson_ci(0, 0, 0.9) == ConfidenceInterval(0.9, "wilson", None, None)
    assert estimates.newcombe_difference(0, 0, 1, 2, 0.9) == (None, ConfidenceInterval(0.9, "newcombe-hybrid-score", None, None))
    assert estimates.newcombe_difference(1, 2, 0, 0) == (None, ConfidenceInterval(0.95, "newcombe-hybrid-score", None, None))
    assert estimates.spearman_ci(0.5, 3, 0.9) == ConfidenceInterval(0.9, "fisher-z", None, None)
    assert estimates.spearman_ci(None, 30) == ConfidenceInterval(0.95, "fisher-z", None, None)


def test_newcombe_difference_at_another_level_names_it() -> None:
    # 1/2 - 1/2 = 0: the interval is symmetric about 0 and names its level.
    difference, ci = estimates.newcombe_difference(1, 2, 1, 2, 0.9)
    assert difference == 0.0 and (ci.level, ci.method) == (0.9, "newcombe-hybrid-score")
    assert ci.lower is not None and math.isclose(ci.lower, -ci.upper, abs_tol=1e-15) and ci.upper > 0


def test_values_of_another_float_type_are_computed_in_double_precision() -> None:
    # float32 values: the interval is scipy's t interval of the same numbers as float64 (float32 sums would
    # differ from it in the 8th digit).
    x32 = np.random.default_rng(7).normal(3.0, 1.5, 50).astype(np.float32)
    x = x32.astype(float)
    ci = estimates.mean_ci(x32)
    lower, upper = sps.t.interval(0.95, x.size - 1, loc=x.mean(), scale=sps.sem(x))
    assert close(ci.lower, lower, 1e-12) and close(ci.upper, upper, 1e-12)


def test_an_infinite_value_leaves_the_mean_interval_undefined() -> None:
    # mean inf, SD NaN (inf - inf): no finite bound exists.
    with np.errstate(invalid="ignore"):
        assert estimates.mean_ci([1.0, 2.0, np.inf]) == ConfidenceInterval(0.95, "student-t", None, None)


@pytest.mark.parametrize("level", [0.0, 1.0, 1.5, -0.1])
def test_a_level_outside_0_to_1_is_refused_naming_it(level: float) -> None:
    with pytest.raises(ValueError) as caught:
        estimates.mean_ci([1.0, 2.0, 3.0], level)
    assert str(caught.value) == f"confidence level must lie between 0 and 1, not {level!r}"


def test_mann_whitney_counts_stay_exact_beyond_float_precision() -> None:
    # m = n = 40: C(80, 40) = 107507208733336176461620 arrangements, the largest counts near 4e20, far beyond
    # 2**53 (floats would round them); counts of U <= 10 are the partition numbers p(u) (at most 40 parts of at
    # most 40), and the distribution is symmetric.
    counts = estimates.mann_whitney_counts(40, 40)
    assert len(counts) == 1601 and all(type(c) is int for c in counts)
    assert sum(counts) == 107507208733336176461620 == math.comb(80, 40)
    assert counts[:11] == [1, 1, 2, 3, 5, 7, 11, 15, 22, 30, 42]
    assert counts == counts[::-1]


def test_hodges_lehmann_interval_at_other_levels_by_hand() -> None:
    # m = n = 3 untied: the 20 arrangements give U = 0..9 with counts 1, 1, 2, 3, 3, 3, 3, 2, 1, 1.
    # Differences high - low sorted: -1, 2, 3, 4, 4, 6, 7, 8, 9; median 4.
    high, low = [4.0, 7.0, 9.0], [0.0, 1.0, 5.0]
    # 80 %: alpha/2 = 0.1 = P(U <= 1) (up to R's fuzz): qu = 1, [d(1), d(9)].
    assert estimates.hodges_lehmann(high, low, 0.8) == (4.0, ConfidenceInterval(0.8, "mann-whitney-exact", -1.0, 9.0))
    # 75 %: alpha/2 = 0.125, P(U <= 1) = 0.1 < 0.125 <= P(U <= 2) = 0.2: qu = 2, [d(2), d(8)].
    assert estimates.hodges_lehmann(high, low, 0.75) == (4.0, ConfidenceInterval(0.75, "mann-whitney-exact", 2.0, 8.0))


def test_qwilcox_fuzz_is_ten_machine_epsilons_as_r() -> None:
    # R's qwilcox accepts P(U <= u) >= p - 10 eps. P(U <= 1) = 2/20 = 0.1 for m = n = 3.
    eps = np.finfo(float).eps
    assert estimates._qwilcox_exact(0.1 + 10 * eps, 3, 3) == 1  # exactly at the fuzz
    assert estimates._qwilcox_exact(0.1 + 9.5 * eps, 3, 3) == 1
    assert estimates._qwilcox_exact(0.1 + 10.5 * eps, 3, 3) == 2


def test_qwilcox_normal_tie_corrected_variance_by_hand() -> None:
    # m = n = 5, one tie of four values: sum(t^3 - t) = 60. sigma^2 = 25/12 (11 - 60/90) = 775/36, sigma = 4.63981.
    # At z = -1.935: 25/2 - 1/2 + z sigma = 12 - 8.97803 = 3.022, so u = 4 (a variance with 60/110 or +60/90 gives
    # 2.97 or 2.46, u = 3).
    alpha_half = float(sps.norm.cdf(-1.935))
    assert estimates._qwilcox_normal(alpha_half, 5, 5, 60.0) == 4
    # Without ties: sigma^2 = 25/12 * 11, sigma = 4.78714; 12 - 1.935 sigma = 2.737: u = 3.
    assert estimates._qwilcox_normal(alpha_half, 5, 5, 0.0) == 3
    # m = 1, n = 4 with four tied values (60): sigma^2 = 4/12 (6 - 60/20) = 1 exactly; at z = -0.4, 2 - 1/2 - 0.4 = 1.1:
    # u = 2 (a variance of 1 is used like any other).
    assert estimates._qwilcox_normal(float(sps.norm.cdf(-0.4)), 1, 4, 60.0) == 2
    # At z = -0.5 the same gives 2 - 1/2 - 0.5 = 1 up to rounding: u = 1, not 2.
    assert estimates._qwilcox_normal(float(sps.norm.cdf(-0.5)), 1, 4, 60.0) == 1


# --- found by mutation testing, third batch of estimates.py (the bootstraps' helpers), each value by hand ---


def test_bootstrap_percentiles_of_one_finite_value_are_that_value() -> None:
    # NaN and infinite resamples are left out; one finite value left gives the interval (value, value).
    assert estimates._percentile(np.array([np.nan, 0.25, np.inf]), 0.95) == (0.25, 0.25)
    assert estimates._percentile(np.array([np.nan, -np.inf]), 0.95) == (None, None)


def test_cramers_v_of_tables_counts_rows_and_columns_of_one_patient() -> None:
    # A diagonal table is perfectly associated: V = 1 (chi² = n (k - 1)), a row or column of one patient included.
    tables = np.array([np.eye(2), [[1, 0], [0, 3]], [[2, 0], [0, 2]]])
    assert list(estimates.cramers_v_of_tables(tables)) == [1.0, 1.0, 1.0]
    assert estimates.cramers_v_of_tables(np.eye(3)[None])[0] == pytest.approx(1.0, rel=1e-15)
    # More non-empty rows than columns, and an empty column: min(r, c) - 1 = 1 of the reduced [[2, 0], [0, 2], [1, 1]]
    # (n = 6, every expected count 1): chi² = 4, V = sqrt(4 / 6).
    assert estimates.cramers_v_of_tables(np.array([[[2, 0, 0], [0, 2, 0], [1, 1, 0]]]))[0] == pytest.approx(math.sqrt(2 / 3), rel=1e-12)


def test_cramers_v_of_tables_of_empty_rows_and_tables_warns_nothing() -> None:
    # Empty rows and columns (expected counts 0) are left out without a NumPy warning. (Not an all-zero table:
    # bootstrap resamples always hold n > 0 patients, and the expected counts of n = 0 do warn.)
    tables = np.array([[[4, 1, 0], [0, 0, 0], [3, 0, 0]], [[0, 2, 0], [0, 0, 0], [0, 1, 0]], [[5, 0, 0], [0, 0, 0], [0, 0, 0]]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = estimates.cramers_v_of_tables(tables)
    # The first reduced to [[4, 1], [3, 0]]: margins 5, 3 and 7, 1 of n = 8, expected [[35/8, 5/8], [21/8, 3/8]],
    # every deviation 3/8 in size: chi² = (3/8)² (8/35 + 8/5 + 8/21 + 8/3) = 24/35; V = sqrt(chi² / 8) = sqrt(3/35).
    chi2 = (3 / 8) ** 2 * (8 / 35 + 8 / 5 + 8 / 21 + 8 / 3)
    assert chi2 == pytest.approx(24 / 35, rel=1e-15)
    assert got[0] == pytest.approx(math.sqrt(3 / 35), rel=1e-12)
    assert np.isnan(got[1]) and np.isnan(got[2])


def test_groups_to_resample_keeps_groups_of_one_value_and_two_distinct_values() -> None:
    present = estimates._groups_to_resample([[1.0], [2.0, np.nan], [], [np.nan]])
    assert [list(g) for g in present] == [[1.0], [2.0]]
    # Every resample of [1] and [2] is the data itself: ranks 1 and 2, N = 2, H = 12 / 6 (1 + 4) - 9 = 1, epsilon² = 1 / 1.
    ci = estimates.bootstrap_epsilon_squared([[1.0], [2.0]])
    assert (ci.lower, ci.upper) == (pytest.approx(1.0, rel=1e-12), pytest.approx(1.0, rel=1e-12))
    # At most BOOTSTRAP_MAX_VALUES values (missing ones not counted) are resampled, one more are not.
    limit = estimates.BOOTSTRAP_MAX_VALUES
    at_limit = [np.arange(limit // 2, dtype=float), np.append(np.arange(limit - limit // 2, dtype=float), np.nan)]
    assert [g.size for g in estimates._groups_to_resample(at_limit)] == [limit // 2, limit - limit // 2]
    assert estimates._groups_to_resample([at_limit[0], np.arange(limit - limit // 2 + 1, dtype=float)]) is None


def test_hodges_lehmann_without_values_names_its_level_and_method() -> None:
    assert estimates.hodges_lehmann([], [1.0, 2.0], 0.9) == (None, ConfidenceInterval(0.9, IntervalMethod.MANN_WHITNEY_NORMAL, None, None))


def test_hodges_lehmann_groups_of_50_leave_the_exact_distribution() -> None:
    # As R's wilcox.test: exact only when both groups have fewer than 50 values (here untied).
    values = np.arange(60, dtype=float) + 0.5
    assert estimates.hodges_lehmann(values[:50], values[50:] + 0.25)[1].method == IntervalMethod.MANN_WHITNEY_NORMAL
    assert estimates.hodges_lehmann(values[:10], values[10:] + 0.25)[1].method == IntervalMethod.MANN_WHITNEY_NORMAL
    assert estimates.hodges_lehmann(values[:49], values[49:59] + 0.25)[1].method == IntervalMethod.MANN_WHITNEY_EXACT


def test_hodges_lehmann_tie_term_is_the_sum_of_t_cubed_minus_t() -> None:
    # m = n = 5, four values tied at 3, the others distinct: sum(t³ - t) = 60, sigma² = 25/12 (11 - 60/90),
    # sigma = 4.63981. qu = ceil(25/2 - 1/2 - z sigma): z = 1.95051 gives 12 - 9.05 = 2.95, qu = 3; z = 1.92896
    # gives 12 - 8.95 = 3.05, qu = 4. (A tie term of 80, 20 or 252 gives sigma 4.5897, 4.7386 or 4.1332: qu 4, 3, 5.)
    # The upper bounds, the 23rd and 22nd of the 25 differences, are 12.4 + 2.9 = 15.3 and 10.1 + 4.6 = 14.7.
    high, low = np.array([3.0, 3.0, 10.1, 11.7, 12.4]), np.array([3.0, 3.0, -1.3, -2.9, -4.6])
    diffs = np.sort(np.subtract.outer(high, low).ravel())
    assert diffs[22] == pytest.approx(15.3) and diffs[21] == pytest.approx(14.7)
    for z, qu in [(1.95051, 3), (1.92896, 4)]:
        level = 1.0 - 2.0 * float(sps.norm.cdf(-z))
        _, ci = estimates.hodges_lehmann(high, low, level)
        assert ci.method == IntervalMethod.MANN_WHITNEY_NORMAL
        assert (ci.lower, ci.upper) == (diffs[qu - 1], diffs[25 - qu])


def test_bootstrap_ci_passes_its_level_on_and_names_an_unknown_effect_size() -> None:
    groups = [[1.0, 2.0, 4.0], [3.0, 5.0, 6.0, 8.0]]
    for name, data in [("epsilon-squared", groups), ("eta-squared", groups), ("cramers-v", [[5, 2], [1, 6]])]:
        ci = estimates.bootstrap_ci(name, data, 0.9)
        assert ci.level == 0.9 and ci.method == IntervalMethod.BOOTSTRAP_PERCENTILE and ci.lower is not None
    with pytest.raises(ValueError, match="^no bootstrap interval for effect size 'omega-squared'$"):
        estimates.bootstrap_ci("omega-squared", groups)


def test_bootstrap_cramers_v_of_rows_of_one_patient_and_of_a_table_without_two_dimensions() -> None:
    # Two patients in different rows and columns: a resample puts both in one cell (V undefined) or one in each
    # (the diagonal table, V = 1); the undefined ones are left out, so the interval is (1, 1).
    ci = estimates.bootstrap_cramers_v([[1, 0], [0, 1]])
    assert (ci.lower, ci.upper) == (1.0, 1.0)
    assert estimates.bootstrap_cramers_v([3, 4]) == ConfidenceInterval(estimates.CI_LEVEL, IntervalMethod.BOOTSTRAP_PERCENTILE, None, None)


# --- found by mutation testing, sixth pass: the epsilon- and eta-squared bootstraps, the Hodges-Lehmann selection --


@pytest.mark.parametrize("kind", ["continuous", "one decimal", "counts", "large values", "constant"])
def test_every_order_statistic_by_bisection_is_the_sorted_difference(monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    # Every k from 1 to m n, in a shuffled order and some twice, selected with few candidates at a time (at most
    # MATERIALISED_DIFFERENCES // 4 = 5 pairs of distinct values), equal to the sorted differences. (A bug found by this
    # pass: the bisection's upper bound is a difference, which high − hi could round past, so the pairs formed at the
    # end could miss the k-th: a neighbour or an IndexError; and groups of one value each had no pair between bounds
    # rounded onto their one difference.)
    rng = np.random.default_rng(31)
    draw = {
        "continuous": lambda size: rng.normal(0.0, 1.0, size),
        "one decimal": lambda size: np.round(rng.normal(0.0, 1.0, size), 1),
        "counts": lambda size: rng.integers(0, 6, size).astype(float),
        "large values": lambda size: 1e6 + np.round(rng.normal(0.0, 1.0, size), 3),
        "constant": lambda size: np.full(size, 2.7),
    }[kind]
    high, low = draw(13) + 0.4, draw(11)
    expected = np.sort(np.subtract.outer(high, low).ravel())
    ks = [int(k) for k in rng.permutation(np.arange(1, expected.size + 1))] + [1, expected.size, 70]
    monkeypatch.setattr(estimates, "MATERIALISED_DIFFERENCES", 20)
    got = estimates.pairwise_difference_order_statistics(high, low, ks)
    assert np.allclose(got, expected[np.array(ks) - 1], rtol=1e-12, atol=1e-15)


def test_hodges_lehmann_of_two_large_groups_of_one_value_each(monkeypatch: pytest.MonkeyPatch) -> None:
    # Beyond MATERIALISED_DIFFERENCES differences, every difference 3 - 1 = 2: estimate and bounds 2 (an IndexError
    # before this pass's fix).
    monkeypatch.setattr(estimates, "MATERIALISED_DIFFERENCES", 1000)
    estimate, ci = estimates.hodges_lehmann(np.full(40, 3.0), np.full(30, 1.0))
    assert (estimate, ci.lower, ci.upper) == (2.0, 2.0, 2.0)


@pytest.mark.parametrize("high, low", [
    ([-1e6, 0.5, 1.0], [0.1, 0.2, 0.3]),  # the largest value, in size, is the smallest high: the lower bound
    ([0.5, 1.0, 1e6], [0.1, 0.2, 0.3]),  # ... the largest high: the upper bound
    ([0.1, 0.2, 0.3], [-1e6, 0.5, 1.0]),  # ... the smallest low: the upper bound
    ([0.1, 0.2, 0.3], [0.5, 1.0, 1e6]),  # ... the largest low: the lower bound
    ([-1e6, 0.1, 1.0], [0.05, 0.2, 0.1]),  # as the first, where -1e6 - 0.2 rounds up (the pair then counted below lo)
    ([0.5, 1.0, 1e6], [0.2, 0.2, 0.15]),  # as the second, where 1e6 - (1e6 - 0.15) rounds above 0.15 (not counted)
])
def test_order_statistics_by_bisection_bound_the_differences_beyond_the_rounding_of_the_largest_value(
    monkeypatch: pytest.MonkeyPatch, high: list[float], low: list[float]
) -> None:
    # The differences near 1e6 are rounded to 1.2e-10 (ulp(1e6) / 2 = 5.8e-11); bounds outside them by 1e-12 of the
    # other values' size could round onto them, and count the extreme pair on the wrong side.
    monkeypatch.setattr(estimates, "MATERIALISED_DIFFERENCES", 4)
    expected = sorted((np.array(high)[:, None] - np.array(low)).ravel().tolist())
    assert estimates.pairwise_difference_order_statistics(np.array(high), np.array(low), list(range(1, 10))) == expected


def test_order_statistics_materialise_up_to_the_limit_and_select_beyond_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # At most MATERIALISED_DIFFERENCES differences are formed and sorted; one more, and each order statistic is
    # selected by bisection (`_kth_difference_by_value`), with the same values.
    selected: list[int] = []
    bisect = estimates._kth_difference_by_value
    monkeypatch.setattr(estimates, "_kth_difference_by_value", lambda *args: selected.append(args[-1]) or bisect(*args))
    monkeypatch.setattr(estimates, "MATERIALISED_DIFFERENCES", 20)
    low = np.array([0.0, 1.0, 2.0, 4.0])
    for high, expect_selection in [(np.array([7.0, 3.0, 5.5, 10.0, 2.5]), False), (np.array([7.0, 3.0, 5.5, 10.0, 2.5, 8.0]), True)]:
        ks = list(range(1, high.size * low.size + 1))
        assert estimates.pairwise_difference_order_statistics(high, low, ks) == sorted((high[:, None] - low).ravel().tolist())
        assert bool(selected) == expect_selection


def _resamples_drawn_in_chunks(groups: list[list[float]], n_resamples: int, chunk: int) -> list[list[np.ndarray]]:
    # The bootstraps' draws written out: chunks of `chunk` resamples (the last one shorter), in each chunk every
    # group in turn drawn (chunk x its size) from the seeded generator.
    rng = np.random.default_rng(estimates.BOOTSTRAP_SEED)
    resamples, done = [], 0
    while done < n_resamples:
        size = min(chunk, n_resamples - done)
        picks = [rng.integers(0, len(g), size=(size, len(g))) for g in groups]
        resamples += [[np.asarray(g)[p[r]] for g, p in zip(groups, picks)] for r in range(size)]
        done += size
    return resamples


def _eta_squared(drawn: list[np.ndarray]) -> float:
    pooled = np.concatenate(drawn)
    total = float(np.sum((pooled - pooled.mean()) ** 2))
    return sum(d.size * (d.mean() - pooled.mean()) ** 2 for d in drawn) / total if total > 0 else math.nan


@pytest.mark.parametrize("chunk_cells, chunk", [(1, 1), (14, 2)])  # 7 values: chunks of 1 and of 2 resamples
def test_bootstraps_in_chunks_draw_each_chunk_group_by_group(monkeypatch: pytest.MonkeyPatch, chunk_cells: int, chunk: int) -> None:
    # More resamples than a chunk holds (here 5, in chunks of 1, or of 2, 2 and 1): the same draws as written out above.
    groups = [[1.0, 2.0, 4.0], [3.0, 5.0, 6.0, 3.0]]
    monkeypatch.setattr(estimates, "BOOTSTRAP_CHUNK_CELLS", chunk_cells)
    resamples = _resamples_drawn_in_chunks(groups, 5, chunk)
    eta = np.array([_eta_squared(drawn) for drawn in resamples])
    epsilon = np.array([sps.kruskal(*drawn).statistic / 6 for drawn in resamples])
    for got, statistics in [(estimates.bootstrap_eta_squared(groups, 0.8, 5), eta), (estimates.bootstrap_epsilon_squared(groups, 0.8, 5), epsilon)]:
        lower, upper = np.quantile(statistics[np.isfinite(statistics)], [0.1, 0.9])
        assert got.level == 0.8 and close(got.lower, lower, 1e-12) and close(got.upper, upper, 1e-12)


def test_bootstraps_without_an_interval_name_their_level_and_method() -> None:
    undefined = ConfidenceInterval(0.9, IntervalMethod.BOOTSTRAP_PERCENTILE, None, None)
    assert estimates.bootstrap_eta_squared([[2.0, 2.0], [2.0]], 0.9) == undefined
    assert estimates.bootstrap_epsilon_squared([[2.0, 2.0], [2.0]], 0.9) == undefined


def test_bootstraps_of_resamples_without_spread_warn_nothing() -> None:
    # Eta-squared: group 1 is 0.1 three times, group 2 draws (0.1, 0.1), (5, 5) or one of each. (0.1, 0.1): no spread,
    # but the pooled mean of five 0.1 is 0.1 exactly (total 0) while group 1's mean is 0.10000000000000002
    # (between 2e-34 > 0): x / 0, left out. (5, 5): between = total, eta² = 1. One of each: mean 1.08, between =
    # 3 (0.98)² + 2 (1.47)² = 7.203, total = 4 (0.98)² + 3.92² = 19.208, eta² = 0.375 (half the resamples).
    # Epsilon-squared: 25 values, 24 of them 1; a resample of only 1s has H = 1.4e-14 by rounding, ties 0 (x / 0);
    # and 0 / 0 for four values all 1.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        eta = estimates.bootstrap_eta_squared([[0.1, 0.1, 0.1], [0.1, 5.0]])
        eta_flat = estimates.bootstrap_eta_squared([[1.0, 1.0], [1.0, 2.0]])
        epsilon = estimates.bootstrap_epsilon_squared([[1.0] * 13, [1.0] * 11 + [2.0]])
        epsilon_flat = estimates.bootstrap_epsilon_squared([[1.0, 1.0], [1.0, 2.0]])
    assert (eta.lower, eta.upper) == (pytest.approx(0.375, rel=1e-12), 1.0)
    assert eta_flat.lower is not None and epsilon.lower is not None and epsilon_flat.lower is not None


def test_eta_squared_bootstrap_is_unit_free() -> None:
    # Values of a thousandth (every total sum of squares below 1) give the same interval as the values themselves.
    groups = [[1.0, 2.0, 4.0], [3.0, 5.0, 6.0, 8.0]]
    ci = estimates.bootstrap_eta_squared(groups)
    small = estimates.bootstrap_eta_squared([[value / 1000 for value in group] for group in groups])
    assert close(small.lower, ci.lower, 1e-9) and close(small.upper, ci.upper, 1e-9)


@pytest.mark.parametrize("shift", [1.0, 0.0])
def test_order_statistics_by_bisection_of_many_equal_differences(monkeypatch: pytest.MonkeyPatch, shift: float) -> None:
    # 0..7 + shift minus 0..7: eight pairs of distinct values share the difference `shift` (exactly; 0 itself when
    # shift is 0, where no relative resolution separates lo from hi), more than the 5 candidates allowed: bisection
    # narrows (lo, hi] onto that one value, which then stands for all eight. Every order statistic as sorted.
    high, low = np.arange(8.0) + shift, np.arange(8.0)
    monkeypatch.setattr(estimates, "MATERIALISED_DIFFERENCES", 20)
    expected = sorted((high[:, None] - low).ravel().tolist())
    assert estimates.pairwise_difference_order_statistics(high, low, list(range(1, 65))) == expected


def test_order_statistics_by_bisection_of_all_zero_values(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every value 0: the bounds are -1e-300 and 1e-300 (nothing to scale the margin by).
    monkeypatch.setattr(estimates, "MATERIALISED_DIFFERENCES", 20)
    assert estimates.pairwise_difference_order_statistics(np.zeros(5), np.zeros(6), [1, 15, 30]) == [0.0, 0.0, 0.0]


def test_order_statistics_by_bisection_of_small_close_differences(monkeypatch: pytest.MonkeyPatch) -> None:
    # Differences near 1e-3, 1e-11 apart: far more than the 1e-12 relative resolution (1e-15 here), so each is found
    # exactly, not stood for by the largest of them.
    high, low = 1e-3 + np.arange(8.0) * 1e-11, np.array([0.0, 5.0])
    monkeypatch.setattr(estimates, "MATERIALISED_DIFFERENCES", 8)
    expected = sorted((high[:, None] - low).ravel().tolist())
    assert estimates.pairwise_difference_order_statistics(high, low, list(range(1, 17))) == expected


def test_bisection_forms_at_most_the_limit_of_candidates_and_bisects_no_further(monkeypatch: pytest.MonkeyPatch) -> None:
    # MATERIALISED_DIFFERENCES // 4 = 5 pairs of distinct values at most are formed. Exactly five (1..5 minus 0) are
    # formed as they are; of 100 (1.1 i - j), at most five, with the k-th among them.
    monkeypatch.setattr(estimates, "MATERIALISED_DIFFERENCES", 20)
    below, values, cumulative = estimates._kth_difference_by_value(np.arange(1.0, 6.0), np.ones(5, dtype=np.int64), np.array([0.0]), np.array([1, 0]), 3)
    assert (below, values.tolist(), cumulative.tolist()) == (0, [1.0, 2.0, 3.0, 4.0, 5.0], [1, 2, 3, 4, 5])
    high, low = np.arange(10.0) * 1.1, np.arange(10.0)
    for k in (1, 37, 50, 100):
        below, values, cumulative = estimates._kth_difference_by_value(high, np.ones(10, dtype=np.int64), low, np.arange(10, -1, -1), k)
        assert values.size <= 5 and below < k <= below + int(cumulative[-1])


def test_selection_stops_at_a_bracket_halving_cannot_split(monkeypatch) -> None:
    """Values in units of the smallest subnormal u: the bisection narrows to (−u, 0], where the midpoint rounds
    back onto lo and the relative resolution underflows to 0; it must stop there and give the tie at exactly 0
    (8 pairs, more than the 5 candidates allowed). Under x__kth_difference_by_value 91 and 102 it loops without
    end (checked by hand with a time limit)."""
    monkeypatch.setattr(estimates, "MATERIALISED_DIFFERENCES", 20)
    u = 5e-324
    values = np.arange(1, 9) * u
    differences = np.sort(np.subtract.outer(values, values).ravel())
    assert differences[28] == 0.0 and differences[27] < 0.0
    assert estimates.pairwise_difference_order_statistics(values, values, [29, 36, 28]) == [0.0, 0.0, -u]
