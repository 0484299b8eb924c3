"""Statistical primitives against scipy called directly, brute-force enumeration, and hand computation."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
import scikit_posthocs
from scipy import stats as sps

from reportgen import stats
from reportgen.model import Risk, RiskKind, TestName

ABSTRACT_EULAR = np.array([[4, 1, 1, 0], [3, 0, 4, 1], [1, 6, 3, 9]])  # none / moderate / good by Q1..Q4
LABELS = ("Q1", "Q2", "Q3", "Q4")
REL = 1e-9


def close(a: float | None, b: float) -> bool:
    return a is not None and math.isclose(a, b, rel_tol=REL, abs_tol=1e-300)


# --- descriptives and quartiles -------------------------------------------------------------------


def test_describe_matches_numpy_and_drops_missing() -> None:
    values = np.array([3.0, 1.0, np.nan, 4.0, 1.0, 5.0, 9.0, 2.0])
    clean = values[~np.isnan(values)]
    summary = stats.describe(values)
    assert summary.n == 7
    assert close(summary.mean, 25.0 / 7)
    assert close(summary.sd, float(np.sqrt(np.sum((clean - 25.0 / 7) ** 2) / 6)))
    # Linear quartiles by hand: sorted 1 1 2 3 4 5 9, positions 1.5, 3, 4.5.
    assert (summary.q1, summary.median, summary.q3) == (1.5, 3.0, 4.5)
    assert (summary.min, summary.max) == (1.0, 9.0)


def test_describe_undefined_parts_are_none() -> None:
    assert stats.describe([]) == stats.Summary(n=0)
    single = stats.describe([2.5])
    assert single.n == 1 and single.mean == 2.5 and single.sd is None and single.q1 == 2.5


def test_quartile_index_is_closed_on_the_right() -> None:
    edges = (1.0, 6.0, 18.5)
    values = [0.0, 1.0, 1.0000001, 6.0, 6.5, 18.5, 18.6, np.nan]
    assert stats.group_index(values, edges).tolist() == [0, 0, 1, 1, 2, 2, 3, -1]


def test_percentile_edges_are_numpy_linear() -> None:
    values = [0.0, 0.0, 1.2, 3.4, 5.0, 7.5, 12.0, 30.0, np.nan]
    assert stats.percentile_edges(values) == tuple(np.percentile(values[:-1], [25, 50, 75]))


# --- continuous tests ------------------------------------------------------------------------------


@pytest.fixture
def groups() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    return [np.round(rng.normal(loc, 1.0, size), 1) for loc, size in ((5, 8), (4, 7), (3.5, 8), (3, 10))]


def test_kruskal_wallis_matches_scipy_and_tomczak_epsilon(groups: list[np.ndarray]) -> None:
    result = stats.kruskal_wallis(groups, LABELS)
    reference = sps.kruskal(*groups)
    n = sum(g.size for g in groups)
    assert close(result.statistic, reference.statistic) and close(result.p_value, reference.pvalue)
    assert close(result.effect_size, reference.statistic / (n - 1))
    assert result.effect_size_name == "epsilon-squared" and result.df == 3


def test_kruskal_wallis_by_hand_without_ties() -> None:
    # Ranks 1..6: group a = 1, 2; b = 3, 4; c = 5, 6. H = 12/(6*7) * sum(R²/n) - 3*7.
    h = 12.0 / 42.0 * (3.0**2 / 2 + 7.0**2 / 2 + 11.0**2 / 2) - 21.0
    result = stats.kruskal_wallis([np.array([1.0, 2]), np.array([3.0, 4]), np.array([5.0, 6])], ("a", "b", "c"))
    assert close(result.statistic, h)
    assert close(result.p_value, math.exp(-h / 2))  # chi-square with 2 df


def test_anova_matches_scipy_and_eta_squared_by_hand(groups: list[np.ndarray]) -> None:
    result = stats.one_way_anova(groups, LABELS)
    reference = sps.f_oneway(*groups)
    pooled = np.concatenate(groups)
    ss_within = sum(float(np.sum((g - g.mean()) ** 2)) for g in groups)
    ss_total = float(np.sum((pooled - pooled.mean()) ** 2))
    assert close(result.statistic, reference.statistic) and close(result.p_value, reference.pvalue)
    assert close(result.effect_size, 1.0 - ss_within / ss_total)


def test_continuous_tests_leave_out_empty_groups_and_say_so(groups: list[np.ndarray]) -> None:
    with_empty = [groups[0], np.array([]), groups[2], groups[3]]
    result = stats.kruskal_wallis(with_empty, LABELS)
    assert close(result.statistic, sps.kruskal(groups[0], groups[2], groups[3]).statistic)
    assert "Q2" in result.decision and result.df == 2


def test_degenerate_continuous_tests_are_not_computed() -> None:
    same = [np.array([1.0, 1.0]), np.array([1.0, 1.0, 1.0])]
    for result in (stats.kruskal_wallis(same, LABELS), stats.one_way_anova(same, LABELS), stats.jonckheere_terpstra(same, LABELS)):
        assert result.statistic is None and result.p_value is None and "not computed" in result.decision
    alone = stats.kruskal_wallis([np.array([1.0, 2.0]), np.array([])], LABELS)
    assert alone.p_value is None


def test_small_groups_are_flagged(groups: list[np.ndarray]) -> None:
    result = stats.kruskal_wallis([groups[0], groups[1][:3], groups[2], groups[3]], LABELS)
    assert "Q2 (n = 3)" in result.decision


# --- Jonckheere-Terpstra -----------------------------------------------------------------------------


def _j_by_pairs(groups: list[np.ndarray]) -> float:
    return sum(
        float(np.sum(later[None, :] > earlier[:, None]) + 0.5 * np.sum(later[None, :] == earlier[:, None]))
        for i, earlier in enumerate(groups)
        for later in groups[i + 1 :]
    )


def _exact_permutation_moments(groups: list[np.ndarray]) -> tuple[float, float]:
    """Mean and variance of J over every equally likely split of the pooled values into groups of these sizes."""
    pooled = np.concatenate(groups)
    sizes = [g.size for g in groups]
    values = []

    def splits(free: tuple[int, ...], remaining_sizes: list[int]) -> list[list[tuple[int, ...]]]:
        if len(remaining_sizes) == 1:
            return [[free]]
        out = []
        for chosen in itertools.combinations(free, remaining_sizes[0]):
            rest = tuple(i for i in free if i not in chosen)
            out.extend([[chosen, *tail] for tail in splits(rest, remaining_sizes[1:])])
        return out

    for split in splits(tuple(range(pooled.size)), sizes):
        values.append(_j_by_pairs([pooled[list(part)] for part in split]))
    return float(np.mean(values)), float(np.var(values))


def test_jonckheere_statistic_equals_sum_of_mann_whitney_u(groups: list[np.ndarray]) -> None:
    result = stats.jonckheere_terpstra(groups, LABELS)
    j_mann_whitney = sum(
        sps.mannwhitneyu(groups[b], groups[a]).statistic for a, b in itertools.combinations(range(4), 2)
    )
    assert close(float(result.decision.split("J = ")[1].split(";")[0]), _j_by_pairs(groups))
    assert math.isclose(_j_by_pairs(groups), j_mann_whitney)


def test_jonckheere_tie_corrected_variance_is_the_exact_permutation_variance() -> None:
    # Small enough to enumerate all 8! orderings; heavy ties in values and unequal group sizes.
    groups = [np.array([1.0, 2.0, 2.0]), np.array([2.0, 3.0]), np.array([3.0, 3.0, 5.0])]
    mean, variance = _exact_permutation_moments(groups)
    j = _j_by_pairs(groups)
    z = (j - mean) / math.sqrt(variance)
    result = stats.jonckheere_terpstra(groups, ("a", "b", "c"))
    assert close(result.statistic, z)
    assert close(result.p_value, 2 * sps.norm.sf(abs(z)))


def test_jonckheere_without_ties_by_hand() -> None:
    # Perfectly increasing: J = 2*2 + 2*2 + 2*2 = 12, E = (36 - 12)/4 = 6,
    # Var = (6*5*17 - 3*(2*1*9))/72 = 456/72.
    groups = [np.array([1.0, 2.0]), np.array([3.0, 4.0]), np.array([5.0, 6.0])]
    result = stats.jonckheere_terpstra(groups, ("a", "b", "c"))
    assert close(result.statistic, 6.0 / math.sqrt(456.0 / 72.0))
    decreasing = stats.jonckheere_terpstra(groups[::-1], ("c", "b", "a"))
    assert close(decreasing.statistic, -6.0 / math.sqrt(456.0 / 72.0))


def test_jonckheere_with_two_values_is_computed_not_nan() -> None:
    # Regression: with n = 2 the triple-tie term was 0/0, so z and p came out NaN (reported as blank)
    # under a decision text claiming a computed test. Two values in two groups: J = 1, E = 1/2,
    # Var = (2*1*9)/72 = 1/4, z = 1.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = stats.jonckheere_terpstra([np.array([1.0]), np.array([2.0])], ("a", "b"))
    assert close(result.statistic, 1.0)
    assert close(result.p_value, 2 * sps.norm.sf(1.0))


# --- Spearman and Dunn -----------------------------------------------------------------------------


def test_spearman_matches_scipy_and_drops_incomplete_pairs() -> None:
    rng = np.random.default_rng(3)
    x = np.round(rng.lognormal(2, 1, 40), 1)
    y = np.round(10 - x / 3 + rng.normal(0, 2, 40), 0)
    x[[3, 9]] = np.nan
    y[5] = np.nan
    keep = ~(np.isnan(x) | np.isnan(y))
    reference = sps.spearmanr(x[keep], y[keep])
    result = stats.spearman(x, y)
    assert result.n == 37 and close(result.rho, reference.statistic) and close(result.p_value, reference.pvalue)
    assert stats.spearman([1.0, 2.0, 3.0], [4.0, 4.0, 4.0]).rho is None


def test_dunn_holm_matches_scikit_posthocs_and_hand_z(groups: list[np.ndarray]) -> None:
    import pandas as pd

    frame = pd.DataFrame({"v": np.concatenate(groups), "g": np.repeat(LABELS, [g.size for g in groups])})
    raw = scikit_posthocs.posthoc_dunn(frame, val_col="v", group_col="g")
    holm = scikit_posthocs.posthoc_dunn(frame, val_col="v", group_col="g", p_adjust="holm")
    pairs = stats.dunn_holm(groups, LABELS)
    assert [(p.group_a, p.group_b) for p in pairs] == list(itertools.combinations(LABELS, 2))
    ranks = sps.rankdata(frame["v"])
    n = len(frame)
    _, t = np.unique(frame["v"], return_counts=True)
    for pair in pairs:
        assert close(pair.p_value, raw.loc[pair.group_a, pair.group_b])
        assert close(pair.p_adjusted, holm.loc[pair.group_a, pair.group_b])
        a, b = (frame["g"] == pair.group_a).to_numpy(), (frame["g"] == pair.group_b).to_numpy()
        se = math.sqrt((n * (n + 1) / 12 - np.sum(t**3 - t) / (12 * (n - 1))) * (1 / a.sum() + 1 / b.sum()))
        assert close(pair.statistic, (ranks[b].mean() - ranks[a].mean()) / se)
        assert close(pair.p_value, 2 * sps.norm.sf(abs(pair.statistic)))


# --- contingency tables ------------------------------------------------------------------------------


def test_abstract_eular_table_chi_square() -> None:
    result = stats.compare_categorical(ABSTRACT_EULAR, ("none", "moderate", "good"), LABELS, "chi-square")
    reference = sps.chi2_contingency(ABSTRACT_EULAR, correction=False)
    assert close(result.statistic, reference.statistic) and close(result.p_value, reference.pvalue)
    assert result.p_value == pytest.approx(0.00636, abs=5e-6)  # printed as 0.006 in the abstract
    assert close(result.effect_size, math.sqrt(reference.statistic / (33 * 2)))
    assert result.df == 6
    assert "expected counts below 5" in result.decision and "fisher-exact" in result.decision


def test_abstract_eular_table_fisher_freeman_halton() -> None:
    assert stats.fisher_freeman_halton(ABSTRACT_EULAR) == pytest.approx(0.00239, abs=5e-6)  # R's fisher.test
    assert close(stats.fisher_freeman_halton(ABSTRACT_EULAR), _ffh_by_enumeration(ABSTRACT_EULAR))
    result = stats.compare_categorical(ABSTRACT_EULAR, ("none", "moderate", "good"), LABELS, "fisher-exact")
    assert result.test == "fisher-exact" and result.statistic is None and close(result.p_value, _ffh_by_enumeration(ABSTRACT_EULAR))
    assert "below 5" not in result.decision


def _tables_with_margins(rows: list[int], cols: list[int]) -> list[np.ndarray]:
    """Every table with these margins, by brute force: fill row by row with compositions."""
    if len(rows) == 1:
        return [np.array([cols])]
    tables = []
    for first in itertools.product(*(range(min(rows[0], c) + 1) for c in cols)):
        if sum(first) != rows[0]:
            continue
        rest = [c - f for c, f in zip(cols, first)]
        tables.extend(np.vstack([first, below]) for below in _tables_with_margins(rows[1:], rest))
    return tables


def _ffh_by_enumeration(table: np.ndarray) -> float:
    rows, cols = table.sum(axis=1).tolist(), table.sum(axis=0).tolist()
    n = sum(rows)

    def probability(t: np.ndarray) -> float:
        log_p = sum(math.lgamma(r + 1) for r in rows) + sum(math.lgamma(c + 1) for c in cols) - math.lgamma(n + 1)
        return math.exp(log_p - sum(math.lgamma(x + 1) for x in t.ravel()))

    observed = probability(table)
    return sum(p for p in map(probability, _tables_with_margins(rows, cols)) if p <= observed * (1 + 1e-7))


@pytest.mark.parametrize("seed", range(8))
def test_fisher_freeman_halton_equals_brute_force_enumeration(seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape = [(2, 3), (3, 3), (3, 4), (2, 4), (4, 3), (3, 2), (2, 2), (3, 4)][seed]
    table = rng.multinomial(int(rng.integers(8, 20)), np.ones(shape[0] * shape[1]) / (shape[0] * shape[1])).reshape(shape)
    table, _, _ = stats.drop_empty_margins(table)
    assert close(stats.fisher_freeman_halton(table), _ffh_by_enumeration(table))


@pytest.mark.parametrize("table", [[[3, 1], [1, 3]], [[8, 2], [1, 5]], [[10, 0], [0, 10]], [[6, 2], [1, 4]], [[0, 5], [5, 0]]])
def test_fisher_freeman_halton_2x2_equals_scipy(table: list[list[int]]) -> None:
    assert close(stats.fisher_freeman_halton(table), sps.fisher_exact(table).pvalue)


def test_fisher_freeman_halton_handles_a_few_hundred_patients() -> None:
    table = np.array([[21, 25, 16, 24], [14, 15, 19, 14], [16, 10, 16, 21]])  # n = 211
    p = stats.fisher_freeman_halton(table)
    assert 0 < p <= 1


def test_empty_rows_and_columns_are_dropped_before_testing() -> None:
    table = np.array([[0, 0, 0, 0], [3, 0, 4, 1], [1, 0, 3, 9]])
    reduced, rows, cols = stats.drop_empty_margins(table)
    assert reduced.tolist() == [[3, 4, 1], [1, 3, 9]] and rows.tolist() == [False, True, True] and cols.tolist() == [True, False, True, True]
    result = stats.compare_categorical(table, ("remission", "low", "moderate"), LABELS, "chi-square")
    reference = sps.chi2_contingency(reduced, correction=False)
    assert close(result.statistic, reference.statistic) and result.df == 2
    assert "remission" in result.decision and "Q2" in result.decision
    assert close(result.effect_size, math.sqrt(reference.statistic / 21))


def test_single_category_table_is_not_tested() -> None:
    result = stats.compare_categorical([[3, 2, 4, 1], [0, 0, 0, 0]], ("yes", "no"), LABELS, "fisher-exact")
    assert result.p_value is None and "not computed" in result.decision


def test_holm_equals_statsmodels() -> None:
    from statsmodels.stats.multitest import multipletests

    p = np.array([0.01, 0.04, 0.03, 0.005, 0.2, 0.04, 0.9])
    assert np.allclose(stats.holm(p), multipletests(p, method="holm")[1], rtol=REL, atol=0)


# --- one ranking per variable (issue 7) ---------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_dunn_in_numpy_equals_scikit_posthocs_on_random_data_with_ties(seed: int) -> None:
    import pandas as pd

    rng = np.random.default_rng(100 + seed)
    sizes = rng.integers(2, 40, 4)
    # Few distinct values: heavy ties within and across groups.
    groups = [rng.integers(0, 6 + seed, size).astype(float) + 0.5 * (i % 2) * (seed % 3 == 0) for i, size in enumerate(sizes)]
    frame = pd.DataFrame({"v": np.concatenate(groups), "g": np.repeat(LABELS, sizes)})
    raw = scikit_posthocs.posthoc_dunn(frame, val_col="v", group_col="g", p_adjust=None)
    holm = scikit_posthocs.posthoc_dunn(frame, val_col="v", group_col="g", p_adjust="holm")
    for pair in stats.dunn_holm(groups, LABELS):
        assert close(pair.p_value, raw.loc[pair.group_a, pair.group_b])
        assert close(pair.p_adjusted, holm.loc[pair.group_a, pair.group_b])


def test_dunn_leaves_out_empty_groups(groups: list[np.ndarray]) -> None:
    import pandas as pd

    with_empty = [groups[0], np.array([]), groups[2], groups[3]]
    present = ("Q1", "Q3", "Q4")
    kept = [groups[0], groups[2], groups[3]]
    frame = pd.DataFrame({"v": np.concatenate(kept), "g": np.repeat(present, [g.size for g in kept])})
    raw = scikit_posthocs.posthoc_dunn(frame, val_col="v", group_col="g")
    pairs = stats.dunn_holm(with_empty, LABELS)
    assert [(p.group_a, p.group_b) for p in pairs] == list(itertools.combinations(present, 2))
    for pair in pairs:
        assert close(pair.p_value, raw.loc[pair.group_a, pair.group_b])


@pytest.mark.parametrize("seed", range(4))
def test_one_ranking_serves_every_rank_test_as_scipy_does(seed: int) -> None:
    rng = np.random.default_rng(200 + seed)
    values = np.round(rng.normal(0, 1, 300), 1)
    values[rng.integers(0, 300, 20)] = np.nan
    group = rng.integers(0, 4, 300)
    level = np.round(rng.lognormal(1, 1, 300), 2)
    ranking = stats.rank_values(values, group, LABELS)
    keep = ~np.isnan(values)
    assert np.array_equal(ranking.ranks, sps.rankdata(values[keep]))
    groups = [values[group == k] for k in range(4)]
    clean = [g[~np.isnan(g)] for g in groups]
    shared = stats.kruskal_wallis(groups, LABELS, ranking)
    reference = sps.kruskal(*clean)
    assert close(shared.statistic, reference.statistic) and close(shared.p_value, reference.pvalue)
    assert stats.jonckheere_terpstra(groups, LABELS, ranking) == stats.jonckheere_terpstra(groups, LABELS)
    assert stats.dunn_holm(groups, LABELS, ranking) == stats.dunn_holm(groups, LABELS)
    rho = stats.spearman(level, values, y_ranks=ranking.ranks)
    reference_rho = sps.spearmanr(level[keep], values[keep])
    assert close(rho.rho, reference_rho.statistic) and close(rho.p_value, reference_rho.pvalue)
    assert rho == stats.spearman(level, values)


def test_analysis_imports_neither_statsmodels_nor_pyplot_nor_scikit_posthocs() -> None:
    import subprocess
    import sys

    code = (
        "import sys, numpy as np, reportgen.analysis, reportgen.stats as s;"
        "s.dunn_holm([np.arange(6.0), np.arange(5.0) + 3], ('a', 'b'));"
        "print(sorted(m for m in ('statsmodels', 'matplotlib.pyplot', 'scikit_posthocs') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_exact_test_stops_at_its_work_budget_and_falls_back_to_seeded_monte_carlo() -> None:
    rng = np.random.default_rng(5)
    table = rng.multinomial(400, np.ones(16) / 16).reshape(4, 4)  # exact enumeration: tens of seconds
    with pytest.raises(stats.ExactTestTooLarge):
        stats.fisher_freeman_halton(table, work_budget=stats.EXACT_WORK_BUDGET)
    result = stats.compare_categorical(table, ("a", "b", "c", "d"), LABELS, "fisher-exact")
    again = stats.compare_categorical(table, ("a", "b", "c", "d"), LABELS, "fisher-exact")
    assert result == again  # deterministic: fixed seed
    assert result.test == "fisher-monte-carlo" and "Monte Carlo" in result.decision and "not exact" in result.decision
    assert "100,000" in result.decision and str(stats.MONTE_CARLO_SEED) in result.decision
    assert result.p_value == stats.fisher_freeman_halton_monte_carlo(table)
    # Agrees with the chi-square p on a table this large (expected counts about 25), within Monte Carlo error.
    chi_p = sps.chi2_contingency(table, correction=False).pvalue
    assert abs(result.p_value - chi_p) < 0.05


def test_monte_carlo_fisher_is_close_to_the_exact_p() -> None:
    table = np.array([[21, 25, 16, 24], [14, 15, 19, 14], [16, 10, 16, 21]])  # n = 211
    exact = stats.fisher_freeman_halton(table)
    estimate = stats.fisher_freeman_halton_monte_carlo(table)
    se = math.sqrt(exact * (1 - exact) / stats.MONTE_CARLO_RESAMPLES)
    assert abs(estimate - exact) < 5 * se
    # Within the budget the exact answer is kept.
    result = stats.compare_categorical(table, ("a", "b", "c"), LABELS, "fisher-exact")
    assert close(result.p_value, exact) and "Monte Carlo" not in result.decision


def test_large_three_by_four_table_goes_straight_to_monte_carlo() -> None:
    table = np.array([[120, 80, 60, 40], [90, 100, 110, 95], [40, 70, 90, 130]])  # n = 1,025
    result = stats.compare_categorical(table, ("none", "moderate", "good"), LABELS, "fisher-exact")
    assert result.test == "fisher-monte-carlo"
    assert "Monte Carlo" in result.decision and "smallest estimate possible" in result.decision
    assert result.p_value == 1 / (stats.MONTE_CARLO_RESAMPLES + 1)


def test_anova_of_constant_groups_with_different_values_is_infinite_f_as_scipy() -> None:
    groups = [np.array([1.0, 1.0, 1.0]), np.array([2.0, 2.0]), np.array([3.0, 3.0, 3.0])]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = sps.f_oneway(*groups)
    result = stats.one_way_anova(groups, ("a", "b", "c"))
    assert math.isinf(reference.statistic) and result.statistic is None  # no finite F to report
    assert result.p_value == reference.pvalue == 0.0


@pytest.mark.parametrize("seed", range(20))
def test_pearson_chi_square_matches_scipy_on_random_tables(seed: int) -> None:
    rng = np.random.default_rng(seed)
    table = rng.integers(1, 40, size=(int(rng.integers(1, 5)), int(rng.integers(2, 5))))
    chi_square, p, dof, expected = stats.pearson_chi_square(table)
    reference = sps.chi2_contingency(table, correction=False)
    assert close(chi_square, reference.statistic) and close(p, reference.pvalue) and dof == reference.dof
    np.testing.assert_allclose(expected, reference.expected_freq, rtol=1e-12)


def test_the_analysis_does_not_import_scipy_stats() -> None:
    """scipy.stats costs about half a second to import; the analysis needs only scipy.special."""
    import subprocess
    import sys

    code = "import sys, reportgen.analysis, reportgen.derive; sys.exit('scipy.stats' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --- decision thresholds, each tested on both sides of its boundary ------------------------------------


def _kinds(result) -> set[RiskKind]:
    return {risk.kind for risk in result.risks}


def test_a_group_of_small_group_patients_is_not_small_and_one_fewer_is() -> None:
    size = stats.SMALL_GROUP
    values = [np.arange(size, dtype=float) + shift for shift in (0.0, 0.25, 0.5, 0.75)]
    for test in (stats.kruskal_wallis, stats.one_way_anova, stats.jonckheere_terpstra):
        assert RiskKind.SMALL_GROUPS not in _kinds(test(values, LABELS))
        smaller = test([values[0], values[1][:-1], values[2], values[3]], LABELS)
        assert RiskKind.SMALL_GROUPS in _kinds(smaller)
        assert f"groups with fewer than {size} patients: Q2 (n = {size - 1})" in smaller.decision


def test_expected_counts_of_small_expected_are_not_small_and_below_are() -> None:
    at = np.array([[5, 5], [5, 5]])  # every expected count is exactly 10 x 10 / 20 = 5
    below = np.array([[4, 5], [6, 5]])  # rows 9 and 11: expected 4.5, 4.5, 5.5, 5.5
    assert stats.SMALL_EXPECTED == 5.0
    for test in ("chi-square", "fisher-exact"):
        assert not _kinds(stats.compare_categorical(at, ("a", "b"), LABELS[:2], test))
    result = stats.compare_categorical(below, ("a", "b"), LABELS[:2], "chi-square")
    assert RiskKind.SMALL_EXPECTED in _kinds(result) and "2 of 4 cells have expected counts below 5." in result.decision
    # The exact test does not rely on expected counts: the risk is dropped by its kind.
    assert not _kinds(stats.compare_categorical(below, ("a", "b"), LABELS[:2], "fisher-exact"))


@pytest.mark.parametrize(
    ("table", "chosen", "why"),
    [
        ([[10, 10, 10, 10, 4], [10, 10, 10, 10, 4]], "chi-square", "is met here (2 of 10 expected counts below 5, 0 below 1)"),
        ([[10, 10, 10, 4, 4], [10, 10, 10, 4, 4]], "fisher-exact", "is not met here (4 of 10 expected counts below 5, 0 below 1)"),
        ([[30, 30, 30, 30, 1], [30, 30, 30, 30, 0]], "fisher-exact", "is not met here (2 of 10 expected counts below 5, 2 below 1)"),
    ],
)  # fmt: skip
def test_auto_follows_cochrans_rule_at_its_edges(table: list[list[int]], chosen: str, why: str) -> None:
    # At most 20 % of expected counts below 5 (here exactly 20 %) and none below 1: chi-square; else the exact test.
    result = stats.compare_categorical(table, ("a", "b"), LABELS + ("Q5",), "auto")
    assert result.test == chosen and f"chosen with categorical_test = auto (" in result.decision and why in result.decision
    fixed = stats.compare_categorical(table, ("a", "b"), LABELS + ("Q5",), chosen)
    assert (result.statistic, result.p_value) == (fixed.statistic, fixed.p_value)


def test_the_decision_record_prints_the_thresholds_in_effect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stats, "SMALL_EXPECTED", 4.6)
    monkeypatch.setattr(stats, "SMALL_GROUP", 6)
    monkeypatch.setattr(stats, "COCHRAN_SMALL_SHARE", 0.1)
    result = stats.compare_categorical(np.array([[4, 5], [6, 5]]), ("a", "b"), LABELS[:2], "chi-square")
    assert "2 of 4 cells have expected counts below 4.6" in result.decision
    assert "at most 10% of expected counts below 4.6, none below 1" in result.decision
    groups = [np.arange(5, dtype=float) + shift for shift in (0.0, 0.5)]
    assert "groups with fewer than 6 patients: Q1 (n = 5), Q2 (n = 5)" in stats.kruskal_wallis(groups, LABELS[:2]).decision


def test_an_expected_count_of_tiny_expected_is_not_below_it() -> None:
    at = np.array([[1, 1], [9, 9]])  # rows 2 and 18: expected 1, 1, 9, 9
    below = np.array([[1, 0], [9, 10]])  # rows 1 and 19: expected 0.5, 0.5, 9.5, 9.5
    assert stats.TINY_EXPECTED == 1.0
    result = stats.compare_categorical(at, ("a", "b"), LABELS[:2], "chi-square")
    assert result.decision.count("below 1") == 1  # in "none below 1" of Cochran's rule only, not as a count
    assert "2 of 4 cells have expected counts below 5." in result.decision
    assert "2 of 4 cells have expected counts below 5, 2 below 1" in stats.compare_categorical(below, ("a", "b"), LABELS[:2], "chi-square").decision


def test_cochran_share_of_small_expected_counts_is_allowed_and_more_is_not() -> None:
    # Rows 50 and 50 of 100: a column of 8 patients has two expected counts of 4, one of 10 two of exactly 5.
    share_at = np.array([[4, 5, 11, 15, 15], [4, 5, 11, 15, 15]])  # 2 of 10 cells below 5: 20%
    share_above = np.array([[4, 4, 14, 14, 14], [4, 4, 14, 14, 14]])  # 4 of 10 cells: 40%
    assert stats.COCHRAN_SMALL_SHARE == 0.2
    labels = ("a", "b", "c", "d", "e")
    met = stats.compare_categorical(share_at, ("x", "y"), labels, "chi-square")
    assert stats.cochran_met(stats.pearson_chi_square(share_at)[3]) and "Cochran" not in met.decision
    not_met = stats.compare_categorical(share_above, ("x", "y"), labels, "chi-square")
    assert "Cochran's rule (at most 20% of expected counts below 5, none below 1) is not met" in not_met.decision
    tiny = np.array([[1, 0, 30, 30], [0, 1, 30, 30]])  # a 1 x 2 corner: expected 0.5 in four cells
    assert not stats.cochran_met(stats.pearson_chi_square(tiny)[3])
    one = np.array([[1, 10, 9], [10, 90, 90], [9, 90, 91]])  # margins 20, 190, 190 of 400: one expected count of 1
    assert stats.pearson_chi_square(one)[3].min() == 1.0 and stats.cochran_met(stats.pearson_chi_square(one)[3])


def test_an_sd_ratio_of_sd_ratio_is_tolerated_and_more_is_not() -> None:
    assert stats.SD_RATIO == 2
    narrow = np.array([0.0, 2.0, 0.0, 2.0, 1.0])
    twice = stats.one_way_anova([narrow, 2 * narrow, narrow + 1], LABELS[:3])  # SD exactly twice the smallest
    assert RiskKind.UNEQUAL_VARIANCES not in _kinds(twice)
    more = stats.one_way_anova([narrow, 2.01 * narrow, narrow + 1], LABELS[:3])
    assert RiskKind.UNEQUAL_VARIANCES in _kinds(more)
    assert "unequal variances: the largest group SD is more than twice the smallest" in more.decision


def test_three_row_tables_of_hopeless_n_are_tried_exactly_and_larger_ones_are_not() -> None:
    n = 500  # as the module says: at least 3 x 3 with more than 500 patients is never tried
    assert stats.EXACT_HOPELESS_ABOVE_N == n
    at = np.diag([n - 2, 1, 1])  # few tables with these margins: the exact enumeration is quick
    assert stats.fisher_freeman_halton(at, work_budget=stats.EXACT_WORK_BUDGET) == pytest.approx(stats.fisher_freeman_halton(at))
    with pytest.raises(stats.ExactTestTooLarge):
        stats.fisher_freeman_halton(np.diag([n - 1, 1, 1]), work_budget=stats.EXACT_WORK_BUDGET)


@pytest.mark.parametrize(("as_extreme", "said"), [(0, True), (1, False)])
def test_no_table_as_extreme_is_said_only_for_the_smallest_estimate(
    monkeypatch: pytest.MonkeyPatch, as_extreme: int, said: bool
) -> None:
    def too_large(*args, **kwargs):
        raise stats.ExactTestTooLarge

    monkeypatch.setattr(stats, "fisher_freeman_halton", too_large)
    monkeypatch.setattr(stats, "fisher_freeman_halton_monte_carlo", lambda table: (1 + as_extreme) / (stats.MONTE_CARLO_RESAMPLES + 1))
    result = stats.compare_categorical(ABSTRACT_EULAR, ("none", "moderate", "good"), LABELS, "fisher-exact")
    assert result.test == TestName.FISHER_MONTE_CARLO and RiskKind.MONTE_CARLO in _kinds(result)
    assert ("No random table was as extreme" in result.decision) is said


def test_ties_are_noted_but_are_not_an_assumption_at_risk() -> None:
    """H and the variance of J correct for ties: the record says so and lists no risk for them."""
    groups = [np.array([1.0, 1.0, 2.0, 3.0, 3.0, 4.0]) + shift for shift in (0.0, 1.0, 2.0, 3.0)]
    for test, corrects in ((stats.kruskal_wallis, "which H corrects for"), (stats.jonckheere_terpstra, "which the variance of J corrects for")):
        result = test(groups, LABELS)
        assert result.p_value is not None and not result.risks
        assert "No assumption at risk identified." in result.decision and "At risk" not in result.decision
        assert "Ties: 17 of 24 values repeat an earlier one, " + corrects in result.decision

# --- found by mutation testing (docs/mutation-testing.md) ---------------------------------------------


def test_describe_gives_an_sd_from_two_values() -> None:
    assert stats.describe([1.0, 3.0]).sd == pytest.approx(math.sqrt(2.0))
    assert stats.describe([1.0]).sd is None


def test_quartile_index_takes_any_numeric_sequence_with_missing_values() -> None:
    assert stats.group_index([1, None, 7, 20], [1, 6, 18.5]).tolist() == [0, -1, 2, 3]


def test_rank_groups_of_no_groups_is_empty() -> None:
    assert stats.rank_groups([], []).n == 0


def test_anova_with_small_within_group_spread_is_finite_as_scipy() -> None:
    groups = [np.array([1.0, 1.1]), np.array([5.0, 5.1]), np.array([3.0, 3.2])]
    result = stats.one_way_anova(groups, ["a", "b", "c"])
    reference = sps.f_oneway(*groups)
    assert result.statistic == pytest.approx(reference.statistic) and result.p_value == pytest.approx(reference.pvalue)


def test_describe_takes_any_numeric_sequence_and_drops_missing_values() -> None:
    summary = stats.describe([1, None, 3])
    assert (summary.n, summary.mean) == (2, 2.0)


def test_a_test_not_computed_still_names_itself() -> None:
    assert stats.one_way_anova([np.array([1.0, 2.0])], ["a"]).test == "anova"


def test_rank_values_drops_missing_values_and_counts_empty_trailing_groups() -> None:
    ranking = stats.rank_values([1, None, 3], [0, 0, 0], ["a", "b"])
    assert ranking.n == 2 and ranking.sizes.tolist() == [2, 0]


# --- linear-by-linear association ---------------------------------------------------------------------


def _expanded(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One (category score, group score) pair per patient of counts[category][group]."""
    rows, cols = np.indices(table.shape)
    return np.repeat(rows.ravel(), table.ravel()).astype(float), np.repeat(cols.ravel(), table.ravel()).astype(float)


@pytest.mark.parametrize("seed", range(6))
def test_linear_by_linear_equals_pearson_r_on_the_expanded_data(seed: int) -> None:
    """M² = (n − 1) r² with r from scipy's pearsonr on one row per patient, p from chi-square with 1 df."""
    rng = np.random.default_rng(seed)
    table = rng.integers(0, 9, size=(3, int(rng.integers(2, 7))))
    table[:, 0] += 1
    table[0, :] += 1
    categories, groups = _expanded(table)
    r = sps.pearsonr(categories, groups).statistic
    n = table.sum()
    result = stats.linear_by_linear(table, ["none", "moderate", "good"], [f"G{i}" for i in range(table.shape[1])])
    assert result.test is TestName.LINEAR_BY_LINEAR
    assert result.statistic == pytest.approx((n - 1) * r**2, rel=1e-10)
    assert result.p_value == pytest.approx(sps.chi2.sf((n - 1) * r**2, 1), rel=1e-9)
    assert result.effect_size == pytest.approx(r, rel=1e-10)
    assert result.df == 1.0


def test_linear_by_linear_on_the_abstract_eular_table() -> None:
    """The abstract's EULAR table: good responses rise from Q1 to Q4, so r > 0 and the trend is strong."""
    table = np.array([[4, 1, 1, 0], [3, 0, 4, 1], [1, 6, 3, 9]])
    result = stats.linear_by_linear(table, ["none", "moderate", "good"], ["Q1", "Q2", "Q3", "Q4"])
    categories, groups = _expanded(table)
    r = sps.pearsonr(categories, groups).statistic
    assert result.effect_size == pytest.approx(r, rel=1e-10) and r > 0
    assert result.p_value == pytest.approx(sps.chi2.sf(32 * r**2, 1), rel=1e-9)
    assert "Q1 < Q2 < Q3 < Q4" in result.decision and "none < moderate < good" in result.decision


def test_linear_by_linear_keeps_an_empty_group_in_its_place() -> None:
    """Group scores follow the order of the groups, an empty one included (its score is unused, the later
    groups keep theirs), and the decision record names it."""
    table = np.array([[3, 0, 1, 0], [1, 0, 2, 1], [0, 0, 2, 5]])
    result = stats.linear_by_linear(table, ["none", "moderate", "good"], ["Q1", "Q2", "Q3", "Q4"])
    categories, groups = _expanded(table)
    assert result.effect_size == pytest.approx(sps.pearsonr(categories, groups).statistic, rel=1e-10)
    assert [risk.kind for risk in result.risks] == [RiskKind.EMPTY_GROUPS]
    assert "Q2" in result.decision


def test_linear_by_linear_sums_without_blas(monkeypatch) -> None:
    """Its inner products are correctly rounded sums (reportgen.sums), not BLAS's, whose last bits depend on
    the processor: with them counted, every sum of the test is one of theirs, and r is the exact r to 1 ulp."""
    from fractions import Fraction

    from reportgen import sums

    calls: list[str] = []
    monkeypatch.setattr(stats, "inner", lambda a, b: calls.append("inner") or sums.inner(a, b))
    monkeypatch.setattr(stats, "exact_sum", lambda values: calls.append("sum") or sums.exact_sum(values))
    table = np.array([[4, 1, 1, 0], [3, 0, 4, 1], [1, 6, 3, 9]])
    result = stats.linear_by_linear(table, ["none", "moderate", "good"], ["Q1", "Q2", "Q3", "Q4"])
    assert calls == ["inner", "inner", "sum", "inner", "inner"]
    categories, groups = _expanded(table)
    u, v = [Fraction(int(c)) for c in categories], [Fraction(int(g)) for g in groups]
    n = len(u)
    u_mean, v_mean = sum(u) / n, sum(v) / n
    covariance = sum((a - u_mean) * (b - v_mean) for a, b in zip(u, v))
    squares = sum((a - u_mean) ** 2 for a in u) * sum((b - v_mean) ** 2 for b in v)
    assert result.effect_size == pytest.approx(float(covariance) / math.sqrt(float(squares)), rel=2.3e-16)


def test_linear_by_linear_not_computed_without_two_groups() -> None:
    result = stats.linear_by_linear([[3, 0], [2, 0], [4, 0]], ["none", "moderate", "good"], ["Q1", "Q2"])
    assert result.p_value is None and result.statistic is None and result.not_tested


# --- found by mutation testing, stats.py run of 2026-12-02 (docs/mutation-testing.md) -------------------


def test_rank_tests_of_two_distinct_values_are_computed() -> None:
    # Only two distinct values (two blocks of ties): still a test, as scipy and the permutation moments say.
    groups = [np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 1.0]), np.array([1.0, 1.0])]
    kruskal = stats.kruskal_wallis(groups, ("a", "b", "c"))
    reference = sps.kruskal(*groups)
    assert close(kruskal.statistic, reference.statistic) and close(kruskal.p_value, reference.pvalue)
    mean, variance = _exact_permutation_moments(groups)
    trend = stats.jonckheere_terpstra(groups, ("a", "b", "c"))
    assert close(trend.statistic, (_j_by_pairs(groups) - mean) / math.sqrt(variance))


def test_anova_needs_a_degree_of_freedom_within_groups() -> None:
    one_each = stats.one_way_anova([np.array([1.0]), np.array([2.0]), np.array([4.0])], ("a", "b", "c"))
    assert one_each.p_value is None and one_each.not_tested == "no within-group degrees of freedom"
    groups = [np.array([1.0, 1.5]), np.array([2.0]), np.array([4.0])]
    one_more = stats.one_way_anova(groups, ("a", "b", "c"))
    reference = sps.f_oneway(*groups)
    assert close(one_more.statistic, reference.statistic) and close(one_more.p_value, reference.pvalue)
    assert one_more.df == 2.0


def test_anova_flags_a_group_without_spread_not_unequal_variances() -> None:
    groups = [np.array([2.0, 2.0, 2.0]), np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 6.0])]
    result = stats.one_way_anova(groups, ("a", "b", "c"))
    assert _kinds(result) == {RiskKind.NO_SPREAD, RiskKind.SMALL_GROUPS}
    assert "a group has no spread at all" in result.decision
    assert close(result.statistic, sps.f_oneway(*groups).statistic)


def test_anova_sd_ratio_leaves_out_a_group_of_one_value() -> None:
    # A single value has no SD; the other two differ threefold.
    groups = [np.array([5.0]), np.array([0.0, 1.0, 2.0]), np.array([0.0, 3.0, 6.0])]
    assert RiskKind.UNEQUAL_VARIANCES in _kinds(stats.one_way_anova(groups, ("a", "b", "c")))


def test_spearman_of_three_pairs_by_hand() -> None:
    # Ranks 1 2 3 against 1 3 2: rho = 1 - 6 * 2 / (3 * 8) = 1/2; t = rho sqrt(1 / (1 - rho²)) = 1/sqrt(3)
    # with 1 df (Cauchy): p = 1 - (2/pi) atan(1/sqrt(3)) = 2/3.
    result = stats.spearman([1.0, 2.0, 3.0], [1.0, 3.0, 2.0])
    assert result.n == 3 and close(result.rho, 0.5) and close(result.p_value, 2.0 / 3.0)
    assert stats.spearman([1.0, 2.0], [2.0, 1.0]).rho is None
    assert stats.spearman([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]).rho is None


def test_dunn_of_two_groups_matches_scikit_posthocs() -> None:
    import pandas as pd

    groups = [np.array([1.0, 2.0, 2.0, 5.0]), np.array([3.0, 4.0, 6.0, 6.0, 7.0])]
    frame = pd.DataFrame({"v": np.concatenate(groups), "g": np.repeat(["a", "b"], [4, 5])})
    raw = scikit_posthocs.posthoc_dunn(frame, val_col="v", group_col="g")
    (pair,) = stats.dunn_holm(groups, ("a", "b"))
    assert (pair.group_a, pair.group_b) == ("a", "b") and pair.statistic > 0
    assert close(pair.p_value, raw.loc["a", "b"]) and close(pair.p_adjusted, raw.loc["a", "b"])


def test_fisher_freeman_halton_p_is_at_most_one() -> None:
    # Every table is as probable or less: the p-value sums all of them, 1 up to rounding (which runs over).
    for table in ([[3, 3], [3, 3]], [[2, 2, 2], [2, 2, 2], [2, 2, 2]]):
        assert stats.fisher_freeman_halton(table) == 1.0
    assert sps.fisher_exact([[3, 3], [3, 3]]).pvalue == 1.0


def test_tables_without_two_rows_and_two_columns_have_p_one() -> None:
    for table in ([[3, 2, 4]], [[3], [2]], [[0, 3, 0], [0, 2, 0]]):
        assert stats.fisher_freeman_halton(table) == 1.0
        assert stats.fisher_freeman_halton_monte_carlo(table) == 1.0


def test_cramers_v_by_hand_and_undefined_without_patients_or_a_second_line() -> None:
    assert close(stats.cramers_v(8.0, 10, (3, 2)), math.sqrt(8.0 / 10.0))
    assert close(stats.cramers_v(8.0, 10, (3, 4)), math.sqrt(8.0 / 20.0))
    assert stats.cramers_v(0.0, 0, (2, 2)) is None
    assert stats.cramers_v(0.0, 10, (1, 3)) is None


def test_the_exact_test_reports_cramers_v_of_the_pearson_chi_square() -> None:
    result = stats.compare_categorical(ABSTRACT_EULAR, ("none", "moderate", "good"), LABELS, "fisher-exact")
    chi_square = sps.chi2_contingency(ABSTRACT_EULAR, correction=False).statistic
    assert close(result.effect_size, math.sqrt(chi_square / (33 * 2))) and result.effect_size_name == "cramers-v"
    assert result.df is None


def test_unknown_tests_and_tables_that_are_not_two_dimensional_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown continuous test 'median'"):
        stats.compare_continuous([np.array([1.0, 2.0]), np.array([3.0, 4.0])], ("a", "b"), "median")
    with pytest.raises(ValueError, match="unknown categorical test 'g-test'"):
        stats.compare_categorical(ABSTRACT_EULAR, ("none", "moderate", "good"), LABELS, "g-test")
    with pytest.raises(ValueError, match="^a contingency table must be two-dimensional$"):
        stats.drop_empty_margins([3, 4, 5])


def test_anova_of_two_groups_in_full() -> None:
    a = np.array([0.0, 2.0, 0.0, 2.0, 1.0])  # SD exactly 1
    groups = [a, a + 1.5]  # SD 1 as well: no spread problem, no unequal variances
    result = stats.one_way_anova(groups, ("low", "high"))
    reference = sps.f_oneway(*groups)
    assert result.test == TestName.ANOVA and result.df == 1.0 and result.effect_size_name == "eta-squared"
    assert close(result.statistic, reference.statistic) and close(result.p_value, reference.pvalue)
    assert result.risks == () and result.not_tested == ""
    assert result.decision == (
        "One-way ANOVA across 2 groups, the study's continuous test: compares means, assuming normally "
        "distributed residuals with equal variances; F with (1, 8) df; effect size eta-squared = "
        "SS_between / SS_total. No assumption at risk identified."
    )


def test_tests_not_computed_say_why_in_full() -> None:
    one = [np.array([1.0, 2.0]), np.array([])]
    same = [np.array([3.0, 3.0]), np.array([3.0])]
    for test, name in ((stats.kruskal_wallis, "kruskal-wallis"), (stats.one_way_anova, "anova"), (stats.jonckheere_terpstra, "jonckheere-terpstra")):
        for groups, reason in ((one, "fewer than two groups with data"), (same, "all values are equal")):
            result = test(groups, ("a", "b"))
            assert (result.test, result.not_tested, result.statistic, result.p_value) == (name, reason, None, None)
            assert result.decision == f"{name} not computed: {reason}."
    single = stats.one_way_anova([np.array([1.0]), np.array([2.0])], ("a", "b"))
    assert single.decision == "anova not computed: no within-group degrees of freedom."


def test_anova_leaves_out_empty_groups_and_says_so() -> None:
    groups = [np.array([1.0, 2.0, 4.0, 3.0, 5.0]), np.array([]), np.array([4.0, 6.0, 5.0, 8.0, 7.0])]
    result = stats.one_way_anova(groups, ("a", "b", "c"))
    reference = sps.f_oneway(groups[0], groups[2])
    assert close(result.statistic, reference.statistic) and close(result.p_value, reference.pvalue) and result.df == 1.0
    assert [(risk.kind, risk.detail) for risk in result.risks] == [(RiskKind.EMPTY_GROUPS, ("b",))]
    assert "At risk: groups without data left out: b." in result.decision


def test_the_sd_ratio_uses_sample_sds_and_groups_of_two() -> None:
    pair = np.array([0.0, 2.0])  # sample SD sqrt(2); population SD 1
    ten = np.tile([-2.5, 2.5], 5)  # sample SD 2.5 sqrt(10/9) = 2.64: 1.86 times the pair's (population SDs: 2.5 times)
    assert RiskKind.UNEQUAL_VARIANCES not in _kinds(stats.one_way_anova([pair, ten], ("a", "b")))
    wider = np.arange(10.0)  # sample SD 3.03: 2.14 times the pair's
    assert RiskKind.UNEQUAL_VARIANCES in _kinds(stats.one_way_anova([pair, wider], ("a", "b")))


@pytest.mark.parametrize("scale", [0.25, 4.0])  # powers of two: the SDs scale exactly
def test_the_sd_ratio_does_not_depend_on_the_unit(scale: float) -> None:
    narrow = scale * np.array([0.0, 2.0, 0.0, 2.0, 1.0])
    assert not _kinds(stats.one_way_anova([narrow, 2 * narrow, narrow + 1], LABELS[:3]))
    assert _kinds(stats.one_way_anova([narrow, 2.01 * narrow, narrow + 1], LABELS[:3])) == {RiskKind.UNEQUAL_VARIANCES}


def test_kruskal_wallis_of_two_groups_in_full() -> None:
    groups = [np.array([1.0, 2.0, 3.0, 4.0, 5.0]), np.array([2.0, 4.0, 6.0, 8.0, 10.0])]
    result = stats.kruskal_wallis(groups, ("low", "high"))
    reference = sps.kruskal(*groups)
    assert result.test == TestName.KRUSKAL_WALLIS and result.df == 1.0 and result.effect_size_name == "epsilon-squared"
    assert close(result.statistic, reference.statistic) and close(result.p_value, reference.pvalue)
    assert close(result.effect_size, reference.statistic / 9) and result.risks == ()
    assert result.decision == (
        "Kruskal-Wallis H test across 2 groups, the study's continuous test: compares distributions by ranks "
        "without assuming normality; chi-square approximation with 1 df; effect size epsilon-squared = H / (n - 1). "
        "Ties: 2 of 10 values repeat an earlier one, which H corrects for. No assumption at risk identified."
    )


def test_jonckheere_terpstra_in_full() -> None:
    groups = [np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 5.0, 6.0, 7.0]), np.array([])]
    result = stats.jonckheere_terpstra(groups, ("a", "b", "c"))
    mean, variance = _exact_permutation_moments(groups[:2])
    assert _j_by_pairs(groups[:2]) == 13.5
    assert result.test == TestName.JONCKHEERE_TERPSTRA and close(result.statistic, (13.5 - mean) / math.sqrt(variance))
    assert close(result.p_value, 2 * sps.norm.sf(abs(result.statistic)))
    assert [(risk.kind, risk.detail) for risk in result.risks] == [
        (RiskKind.SMALL_GROUPS, ("a (n = 3)",)),
        (RiskKind.EMPTY_GROUPS, ("c",)),
    ]
    assert result.decision == (
        "Jonckheere-Terpstra trend test across the ordered groups a < b: J = 13.5; normal approximation with "
        "tie-corrected variance; statistic is z (positive when values rise along the order), p two-sided. "
        "Ties: 1 of 8 values repeat an earlier one, which the variance of J corrects for. At risk: groups with "
        "fewer than 5 patients: a (n = 3); groups without data left out: c."
    )
    whole = stats.jonckheere_terpstra([np.array([1.0, 2.0]), np.array([3.0, 4.0]), np.array([5.0, 6.0])], ("a", "b", "c"))
    assert "across the ordered groups a < b < c: J = 12; normal" in whole.decision  # a whole J, written whole
    assert "p two-sided. At risk: groups with fewer than 5" in whole.decision  # no ties, no note on them


EMPTY_MARGINS = np.array([[0, 0, 0, 0], [3, 0, 4, 1], [1, 0, 3, 9]])  # reduced: [[3, 4, 1], [1, 3, 9]], n = 21
# Expected counts: rows 8 and 13, columns 4, 7 and 10 of 21: 1.52 2.67 3.81 / 2.48 4.33 6.19 (5 of 6 below 5).


def test_chi_square_in_full() -> None:
    result = stats.compare_categorical(EMPTY_MARGINS, ("remission", "low", "moderate"), LABELS, "chi-square")
    reference = sps.chi2_contingency([[3, 4, 1], [1, 3, 9]], correction=False)
    assert result.test == TestName.CHI_SQUARE and result.df == 2.0 and result.effect_size_name == "cramers-v"
    assert close(result.statistic, reference.statistic) and close(result.p_value, reference.pvalue)
    assert [(risk.kind, risk.detail) for risk in result.risks] == [
        (RiskKind.SMALL_EXPECTED, (5, 6, 0)),
        (RiskKind.EMPTY_CATEGORIES, ("remission",)),
        (RiskKind.EMPTY_GROUPS, ("Q2",)),
    ]
    assert result.decision == (
        "Pearson chi-square test without continuity correction on the 2 x 3 table, the study's categorical test; "
        "chi-square approximation with 2 df; effect size Cramér's V. Cochran's rule (at most 20% of expected counts "
        "below 5, none below 1) is not met; the exact test (categorical_test = fisher-exact in the study sheet) does "
        "not rely on it. At risk: 5 of 6 cells have expected counts below 5; empty categories left out: remission; "
        "empty groups left out: Q2."
    )


def test_fisher_exact_in_full() -> None:
    result = stats.compare_categorical(EMPTY_MARGINS, ("remission", "low", "moderate"), LABELS, "fisher-exact")
    chi_square = sps.chi2_contingency([[3, 4, 1], [1, 3, 9]], correction=False).statistic
    assert result.test == TestName.FISHER_EXACT and result.statistic is None and result.df is None
    assert close(result.p_value, _ffh_by_enumeration(np.array([[3, 4, 1], [1, 3, 9]])))
    assert close(result.effect_size, math.sqrt(chi_square / 21)) and result.effect_size_name == "cramers-v"
    assert [risk.kind for risk in result.risks] == [RiskKind.EMPTY_CATEGORIES, RiskKind.EMPTY_GROUPS]
    assert result.decision == (
        "Fisher-Freeman-Halton exact test on the 2 x 3 table, the study's categorical test: exact p-value given "
        "the margins, valid whatever the expected counts; effect size Cramér's V from the Pearson chi-square. "
        "At risk: empty categories left out: remission; empty groups left out: Q2."
    )


def test_fisher_monte_carlo_in_full(monkeypatch: pytest.MonkeyPatch) -> None:
    def too_large(*args, **kwargs):
        raise stats.ExactTestTooLarge

    monkeypatch.setattr(stats, "fisher_freeman_halton", too_large)
    monkeypatch.setattr(stats, "fisher_freeman_halton_monte_carlo", lambda table: 0.5)
    table = np.array([[20, 30], [25, 25]])  # expected counts 22.5 and 27.5: Cochran's rule met
    result = stats.compare_categorical(table, ("yes", "no"), ("a", "b"), "fisher-exact")
    chi_square = sps.chi2_contingency(table, correction=False)
    assert round(chi_square.pvalue, 3) == 0.315
    assert result.test == TestName.FISHER_MONTE_CARLO and result.p_value == 0.5 and result.df is None
    assert close(result.effect_size, math.sqrt(chi_square.statistic / 100)) and result.effect_size_name == "cramers-v"
    # Standard error sqrt(0.5 * 0.5 / 100,000) = 0.00158.
    assert [(risk.kind, risk.detail) for risk in result.risks] == [(RiskKind.MONTE_CARLO, ("0.002",))]
    assert result.decision == (
        "Fisher-Freeman-Halton test on the 2 x 2 table (n = 100), the study's categorical test: the table is too "
        "large to enumerate exactly within the work budget, so the p-value is a Monte Carlo estimate from 100,000 "
        "random tables with the observed margins (fixed seed 20240607, the same result on every run; standard "
        "error about 0.002), as R's fisher.test(simulate.p.value = TRUE); not exact. Cochran's rule is met, so the "
        "Pearson chi-square (p = 0.315, categorical_test = chi-square in the study sheet) is a valid alternative. "
        "Effect size Cramér's V from the Pearson chi-square. At risk: p is a Monte Carlo estimate (standard error "
        "about 0.002), not the exact p."
    )


def test_compare_continuous_runs_the_study_test_with_or_without_a_shared_ranking(groups: list[np.ndarray]) -> None:
    reference = sps.kruskal(*groups)
    for ranking in (None, stats.rank_groups(groups, LABELS)):
        result = stats.compare_continuous(groups, LABELS, "kruskal-wallis", ranking)
        assert result.test == TestName.KRUSKAL_WALLIS and close(result.statistic, reference.statistic)
    anova = stats.compare_continuous(groups, LABELS, "anova")
    assert anova.test == TestName.ANOVA and close(anova.statistic, sps.f_oneway(*groups).statistic)


def test_dunn_of_two_single_values_by_hand() -> None:
    # Mean ranks 1 and 2; SE² = (2 * 3 / 12) (1/1 + 1/1) = 1, the smallest an SE can be: z = 1.
    (pair,) = stats.dunn_holm([np.array([1.0]), np.array([2.0])], ("a", "b"))
    assert close(pair.statistic, 1.0) and close(pair.p_value, math.erfc(1 / math.sqrt(2))) and pair.p_adjusted == pair.p_value


def test_spearman_of_a_constant_variable_is_none_without_a_numpy_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for x, y in (([1.0, 2.0, 3.0], [4.0, 4.0, 4.0]), ([4.0, 4.0, 4.0], [1.0, 2.0, 3.0])):
            assert stats.spearman(x, y) == stats.Correlation(test=TestName.SPEARMAN, rho=None, p_value=None, n=3)
    too_few = stats.spearman([1.0, 2.0], [2.0, 1.0])
    assert too_few.test == TestName.SPEARMAN and too_few.n == 2


def test_spearman_takes_lists_with_missing_values_and_ranks_of_other_pairs() -> None:
    x, y = [1, None, 3, 4, 6], [2, 1, None, 5, 4]  # complete pairs: (1, 2), (4, 5), (6, 4)
    reference = sps.spearmanr([1, 4, 6], [2, 5, 4])
    result = stats.spearman(x, y)
    assert result.n == 3 and close(result.rho, reference.statistic) and close(result.p_value, reference.pvalue)
    # Ranks of y's own non-missing values (four, not the three complete pairs) are not the ones to use.
    assert stats.spearman(x, y, y_ranks=sps.rankdata([2, 1, 5, 4])) == result


def test_spearman_warns_of_nothing_even_for_a_perfect_correlation() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        perfect = stats.spearman([1.0, 2.0, 3.0, 4.0], [10.0, 20.0, 30.0, 40.0])
        ordinary = stats.spearman([1.0, 2.0, 3.0], [1.0, 3.0, 2.0])
    reference = sps.spearmanr([1.0, 2.0, 3.0, 4.0], [10.0, 20.0, 30.0, 40.0])
    assert perfect == stats.Correlation(test=TestName.SPEARMAN, rho=1.0, p_value=reference.pvalue, n=4) and reference.pvalue == 0.0
    assert ordinary.test == TestName.SPEARMAN and close(ordinary.rho, 0.5)


def test_fisher_freeman_halton_of_a_four_by_four_table_equals_brute_force() -> None:
    # Four rows (the other tests have at most three after transposing) and a first column larger than the
    # two largest rows together: the filling of a column must leave room for all the rows still to fill.
    table = np.array([[3, 0, 0, 0], [2, 1, 0, 0], [2, 0, 1, 0], [2, 0, 0, 1]])
    assert close(stats.fisher_freeman_halton(table), _ffh_by_enumeration(table))


def test_dunn_of_values_that_all_tie_has_no_z_and_no_numpy_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (pair,) = stats.dunn_holm([np.array([2.0, 2.0]), np.array([2.0, 2.0, 2.0])], ("a", "b"))
    assert (pair.statistic, pair.p_value, pair.p_adjusted) == (None, None, None)


def test_a_row_or_column_of_one_patient_is_kept() -> None:
    reduced, rows, cols = stats.drop_empty_margins([[1, 0, 4], [0, 0, 0], [0, 0, 6], [0, 0, 1]])
    assert reduced.tolist() == [[1, 4], [0, 6], [0, 1]]
    assert rows.tolist() == [True, False, True, True] and cols.tolist() == [True, False, True]


def test_one_expected_count_below_tiny_expected_breaks_cochrans_rule_alone() -> None:
    # Rows 20 and 380 of 400, columns 10, 90, 100, 100, 100: expected 0.5, 4.5, 5, 5, 5 in the first row, so
    # only 2 of 10 cells (20%, allowed) are below 5, but one is below 1.
    table = np.array([[0, 5, 5, 5, 5], [10, 85, 95, 95, 95]])
    expected = stats.pearson_chi_square(table)[3]
    assert np.sum(expected < 5) == 2 and np.sum(expected < 1) == 1 and not stats.cochran_met(expected)
    result = stats.compare_categorical(table, ("x", "y"), ("a", "b", "c", "d", "e"), "chi-square")
    assert "Cochran's rule (at most 20% of expected counts below 5, none below 1) is not met" in result.decision


def test_a_table_test_not_computed_says_why_in_full() -> None:
    for test in ("chi-square", "fisher-exact"):
        result = stats.compare_categorical([[3, 2, 4, 1], [0, 0, 0, 0]], ("yes", "no"), LABELS, test)
        assert (result.test, result.not_tested) == (test, "fewer than two categories or groups with any patient")
        assert result.decision == f"{test} not computed: fewer than two categories or groups with any patient."


def test_chi_square_with_cochrans_rule_met_in_full() -> None:
    result = stats.compare_categorical(np.array([[20, 30], [25, 25]]), ("yes", "no"), ("a", "b"), "chi-square")
    assert result.decision == (
        "Pearson chi-square test without continuity correction on the 2 x 2 table, the study's categorical test; "
        "chi-square approximation with 1 df; effect size Cramér's V. No assumption at risk identified."
    )


def test_quantile_edges_cut_into_equal_shares_for_any_number_of_groups() -> None:
    values = np.array([0.0, 1.5, np.nan, 2.0, 7.25, 3.0, 11.0, 0.0])
    assert stats.percentile_edges(values, 4) == stats.percentile_edges(values)
    clean = values[~np.isnan(values)]
    assert stats.percentile_edges(values, 3) == tuple(np.percentile(clean, [100 / 3, 200 / 3]))
    assert stats.percentile_edges(values, 2) == (float(np.median(clean)),)


# --- found by mutation testing, third stats.py pass of 2026-12-02 (docs/mutation-testing.md) --------------


def test_a_three_by_two_table_of_more_than_hopeless_n_patients_is_still_exact() -> None:
    """The hopeless rule needs three rows and three columns: a 3 x 2 (or 2 x 3) table of 502 patients is
    computed exactly within the budget. Margins 500, 1, 1 by 500, 2: the column of 2 is (2,0,0) with
    probability C(500,2)/C(502,2), (1,1,0) or (1,0,1) each 500/C(502,2), the observed (0,1,1) 1/C(502,2),
    the least probable, so p = 1/C(502,2) (hand-computed)."""
    table = np.array([[500, 0], [0, 1], [0, 1]])
    assert table.sum() > stats.EXACT_HOPELESS_ABOVE_N
    for each in (table, table.T):
        assert stats.fisher_freeman_halton(each, work_budget=stats.EXACT_WORK_BUDGET) == pytest.approx(1 / math.comb(502, 2), rel=1e-9)


def test_group_index_gives_integer_codes_that_index_the_labels() -> None:
    # The codes index arrays (a label, a colour per group): integers, not floats that look like them.
    codes = stats.group_index([0.5, 2.0, np.nan, 9.0], [1.0, 4.0])
    assert codes.dtype == np.int64 and codes.tolist() == [0, 1, -1, 2]
    assert np.array(["G1", "G2", "G3"])[codes[codes >= 0]].tolist() == ["G1", "G2", "G3"]


def test_the_work_budget_counts_the_work_of_every_node_together() -> None:
    # Each node costs at least 1000 units of work; the abstract's 3 x 4 table passes many small nodes, so a
    # budget of ten nodes is used up by their sum although no single node comes near it.
    with pytest.raises(stats.ExactTestTooLarge):
        stats.fisher_freeman_halton(ABSTRACT_EULAR, work_budget=10_000)
    assert stats.fisher_freeman_halton(ABSTRACT_EULAR, work_budget=stats.EXACT_WORK_BUDGET) == stats.fisher_freeman_halton(ABSTRACT_EULAR)


def test_the_work_budget_counts_every_filling_of_a_column() -> None:
    # Rows of 54 and a first column of 60: C(62, 2) - 3 C(7, 2) = 1828 ways to fill that column (hand count,
    # inclusion-exclusion over the row caps), so its node costs 1000 + 1828 units of work, more than 2000.
    table = np.array([[20, 17, 17], [20, 17, 17], [20, 17, 17]])
    assert stats._column_fillings((54, 54, 54), 60).shape[0] == math.comb(62, 2) - 3 * math.comb(7, 2)
    with pytest.raises(stats.ExactTestTooLarge):
        stats.fisher_freeman_halton(table, work_budget=2000)


def test_linear_by_linear_refuses_a_one_dimensional_table() -> None:
    with pytest.raises(ValueError, match="^a contingency table must be two-dimensional$"):
        stats.linear_by_linear([3, 4, 5], ["none", "moderate", "good"], ["Q1"])


def test_linear_by_linear_of_a_two_by_two_table_is_computed() -> None:
    # Two categories and two groups are enough: r is the phi coefficient, as scipy's pearsonr on one row per
    # patient gives it.
    table = np.array([[6, 2], [3, 7]])
    result = stats.linear_by_linear(table, ["no", "yes"], ["G1", "G2"])
    categories, groups = _expanded(table)
    r = sps.pearsonr(categories, groups).statistic
    assert result.effect_size == pytest.approx(r, rel=1e-10)
    assert result.p_value == pytest.approx(sps.chi2.sf(17 * r**2, 1), rel=1e-9)


def test_linear_by_linear_not_computed_says_why_in_full() -> None:
    result = stats.linear_by_linear([[3, 0], [2, 0], [4, 0]], ["none", "moderate", "good"], ["Q1", "Q2"])
    assert result.not_tested == "fewer than two categories or groups with any patient"


def test_linear_by_linear_names_only_the_empty_groups_as_a_risk() -> None:
    full = stats.linear_by_linear(ABSTRACT_EULAR, ["none", "moderate", "good"], LABELS)
    assert full.risks == () and full.decision.endswith("No assumption at risk identified.")
    table = np.array([[3, 0, 1, 0], [1, 0, 2, 1], [0, 0, 2, 5]])
    result = stats.linear_by_linear(table, ["none", "moderate", "good"], LABELS)
    assert [(risk.kind, risk.detail) for risk in result.risks] == [(RiskKind.EMPTY_GROUPS, ("Q2",))]


def test_linear_by_linear_in_full() -> None:
    result = stats.linear_by_linear(ABSTRACT_EULAR, ["none", "moderate", "good"], LABELS)
    assert (result.test, result.df, result.effect_size_name) == (TestName.LINEAR_BY_LINEAR, 1.0, "pearson-r")
    assert result.decision == (
        "Linear-by-linear association test (M² = (n − 1) r², n = 33) with scores in the order of the groups "
        "Q1 < Q2 < Q3 < Q4 and of the categories none < moderate < good; chi-square approximation with 1 df; "
        "effect size r, the correlation of the scores (positive when later categories are more common in later "
        "groups). No assumption at risk identified."
    )


def test_monte_carlo_fisher_of_small_tables() -> None:
    # 2 x 2: close to the exact p (scipy's fisher_exact) within a few Monte Carlo standard errors.
    table = np.array([[8, 2], [1, 5]])
    exact = sps.fisher_exact(table).pvalue
    assert abs(stats.fisher_freeman_halton_monte_carlo(table, n_resamples=20_000) - exact) < 0.01
    # Margins 2, 2 by 2, 2: the observed table (probability 4/6) is the most probable, so every drawn table
    # is at most as probable and p = 1 (hand-computed); equal probabilities count.
    assert stats.fisher_freeman_halton_monte_carlo([[1, 1], [1, 1]], n_resamples=2_000) == 1.0


# --- found by mutation testing, fourth stats.py pass of 2026-12-02 (docs/mutation-testing.md) -------------


def test_auto_on_a_table_without_two_categories_is_named_as_the_chi_square() -> None:
    # One category left after dropping the empty row: nothing to test, and the auto test is named as the
    # chi-square it defaults to (not "auto", which is not a test).
    result = stats.compare_categorical([[3, 2, 4, 1], [0, 0, 0, 0]], ("yes", "no"), LABELS, "auto")
    assert result.test is TestName.CHI_SQUARE and result.p_value is None
    assert result.decision == "chi-square not computed: fewer than two categories or groups with any patient."


def test_auto_counts_expected_counts_strictly_below_5_and_1() -> None:
    # Every expected count is exactly 5 (margins 10, 10 of 20), then exactly 1 (margins 2, 2 of 4), by hand:
    # "below" is strict in the words as in the rule.
    at_five = stats.compare_categorical([[5, 5], [5, 5]], ("a", "b"), LABELS[:2], "auto")
    assert "Cochran's rule is met here (0 of 4 expected counts below 5, 0 below 1)" in at_five.decision
    at_one = stats.compare_categorical([[1, 1], [1, 1]], ("a", "b"), LABELS[:2], "auto")
    assert "Cochran's rule is not met here (4 of 4 expected counts below 5, 0 below 1)" in at_one.decision


def test_monte_carlo_fisher_in_several_chunks_draws_exactly_n_resamples() -> None:
    # 30 x 30 ones (900 cells): the draws come in chunks of 4,000,000 // 900 = 4444 tables, so 5000 resamples
    # take two chunks of 4444 and 556. The all-ones table is the only one with these margins whose cells are
    # all 0 or 1, so it is the most probable and every drawn table counts: p = (1 + 5000) / 5001 = 1 by hand.
    assert stats.fisher_freeman_halton_monte_carlo(np.ones((30, 30), dtype=np.int64), n_resamples=5000) == 1.0


def test_the_work_budget_counts_the_open_paths() -> None:
    # Rows 4, 5 and columns 3, 3, 3 (n = 9). The first row's fillings of the first column, x = 0..3, and the
    # probability-weights prod 1/x! of their completions, by hand (observed: 1/72):
    #   x = 0: 1/72, 1/24, 1/72     x = 1: 1/72, 1/8, 1/8, 1/72 -> both mixed: no bound can decide them, open
    #   x = 2: 1/24, 1/8, 1/24      -> none counted, decided by the lower bound
    #   x = 3: 1/72, 1/72           -> all counted, but the Lagrangian upper bound of its node (1, 5) is
    #                                  6 ln 6 - 5 ln 5 - 6 ln 3 + 2 (2 ln 2.5 - ln 2) = ln 0.2, times its filling's 1/6:
    #                                  1/30 > 1/72, so open too.
    # Work: 4 nodes ((4, 5), (2, 4), (3, 3), (1, 5)) x 1000 + fillings 4 + 3 + 4 + 2 + 3 open paths x 10 = 4043.
    table = [[3, 1, 0], [0, 2, 3]]
    # p = 6 x 1/72 over the sum of all 12 weights, 9! / (4! 5! 3! 3! 3!) = 7/12: p = 1/7 by hand.
    assert stats.fisher_freeman_halton(table, work_budget=4043) == pytest.approx(1 / 7, rel=1e-12)
    with pytest.raises(stats.ExactTestTooLarge):
        stats.fisher_freeman_halton(table, work_budget=4042)


def test_monte_carlo_fisher_offers_the_chi_square_only_when_cochran_is_met() -> None:
    # 502 patients in 3 rows: beyond the exact test (EXACT_HOPELESS_ABOVE_N), so Monte Carlo. The first
    # category has 2 patients: its expected counts are 2 x column / 502 < 1 (by hand), Cochran's rule is not
    # met, and the decision must not offer the chi-square as a valid alternative.
    table = [[1, 0, 0, 1], [200, 100, 50, 30], [50, 30, 20, 20]]
    result = stats.compare_categorical(table, ("a", "b", "c"), LABELS, "fisher-exact")
    assert result.test is TestName.FISHER_MONTE_CARLO
    assert "as R's fisher.test(simulate.p.value = TRUE); not exact. Effect size Cramér's V" in result.decision
    assert "valid alternative" not in result.decision


def test_monte_carlo_decision_at_its_smallest_estimate_word_for_word() -> None:
    table = np.array([[120, 80, 60, 40], [90, 100, 110, 95], [40, 70, 90, 130]])  # n = 1,025: no draw as extreme
    result = stats.compare_categorical(table, ("none", "moderate", "good"), LABELS, "fisher-exact")
    # The smallest estimate is 1 / (100,000 + 1) (by hand); the sentence follows the whole record, not instead of it.
    assert result.decision.startswith(
        "Fisher-Freeman-Halton test on the 3 x 4 table (n = 1025), the study's categorical test: the table is too "
        "large to enumerate exactly within the work budget"
    )
    assert (
        "Effect size Cramér's V from the Pearson chi-square. No random table was as extreme as the observed one: "
        "1/100,001 is the smallest estimate possible, and the exact p is very likely smaller. At risk: "
    ) in result.decision


def test_risk_words_list_several_empty_groups_and_categories() -> None:
    two_groups = Risk(RiskKind.EMPTY_GROUPS, ("Q2", "Q3"))
    assert stats.risk_words(two_groups, TestName.CHI_SQUARE) == "empty groups left out: Q2, Q3"
    assert stats.risk_words(two_groups, TestName.KRUSKAL_WALLIS) == "groups without data left out: Q2, Q3"
    two_categories = Risk(RiskKind.EMPTY_CATEGORIES, ("moderate", "good"))
    assert stats.risk_words(two_categories, TestName.FISHER_EXACT) == "empty categories left out: moderate, good"
    # A group without spread, as one-way ANOVA's decision record says it.
    flat = stats.one_way_anova([np.array([3.0, 3.0, 3.0]), np.array([1.0, 2.0, 4.0])], ("a", "b"))
    assert flat.decision.endswith("At risk: groups with fewer than 5 patients: a (n = 3), b (n = 3); a group has no spread at all.")
    # A kind it has no words for is refused by name (every RiskKind has words; this is a made-up one).
    with pytest.raises(ValueError, match="^no words for risk 'made-up'$"):
        stats.risk_words(Risk("made-up"), TestName.CHI_SQUARE)


# --- found by mutation testing, sixth pass: cochran_rule_words (new since the second stats.py run) ------------


def test_cochran_rule_in_words() -> None:
    """The rule as the decision records and the Methods print it, word for word (x_cochran_rule_words 1, 2)."""
    assert stats.cochran_rule_words() == (
        "the Pearson chi-square when no expected count is below 1 and at most 20% are below 5 (Cochran's rule), "
        "else the Fisher-Freeman-Halton exact test"
    )
