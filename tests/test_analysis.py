"""Analyse stage: quartiles, Table 1, outcomes, categories and EULAR response, each checked against
scipy (or pandas) called directly on arrays built independently from ``Derived.patients``."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import scikit_posthocs
from scipy import stats as sps

from reportgen.analysis import OUTCOMES, TABLE_1, Categorical, Continuous, analyse, compare_categorical
from reportgen.derive import derive
from reportgen.errors import AnalysisError
from reportgen.model import CategoricalComparison, ContinuousComparison, Derived, StudyOptions
from tests.cohorts import make_cohort, random_cohort, visit

REL = 1e-9
LABELS = ["Q1", "Q2", "Q3", "Q4"]


def close(a: float | None, b: float) -> bool:
    return a is not None and math.isclose(a, b, rel_tol=REL, abs_tol=1e-300)


def quartiles_by_pandas(levels: pd.Series, edges: tuple[float, float, float]) -> pd.Series:
    """An independent quartile assignment: pandas' right-closed bins."""
    return pd.cut(levels, [-np.inf, *edges, np.inf], right=True, labels=LABELS)


def abstract_derived() -> Derived:
    """34 patients whose levels and EULAR responses give the abstract's table, one without a level."""
    derived = derive(random_cohort(4, 34, no_level=0.0, missing_level=0.0, dropout=0.0))
    sizes = (8, 7, 8, 10)
    table = {"none": (4, 1, 1, 0), "moderate": (3, 0, 4, 1), "good": (1, 6, 3, 9)}
    levels, responses = [], []
    for q, size in enumerate(sizes):
        levels += list(np.linspace((0.5, 3.0, 7.0, 19.0)[q], (2.0, 6.0, 18.5, 50.0)[q], size))
        for response, counts in table.items():
            responses += [response] * counts[q]
    patients = derived.patients.copy()
    patients["trough_level"] = levels + [np.nan]
    patients["eular_response"] = pd.Categorical(responses + ["good"], categories=["none", "moderate", "good"], ordered=True)
    return replace(derived, patients=patients)


# --- quartiles ---------------------------------------------------------------------------------------


def test_quartiles_from_given_cut_points_are_closed_on_the_right() -> None:
    # Levels sitting exactly on each edge stay in the lower quartile.
    levels = [0.0, 1.0, 1.5, 6.0, 6.1, 18.5, 18.6, 40.0]
    rows = []
    for i, level in enumerate(levels):
        rows += [visit(f"P{i}", 0), visit(f"P{i}", 12, tcz_trough_ug_ml=level)]
    rows += [visit("none", 0), visit("none", 12)]
    cohort = make_cohort(rows, study=StudyOptions(quartile_cutpoints=(1.0, 6.0, 18.5)))
    results = analyse(derive(cohort), cohort.study)
    assert [(s.label, s.lower, s.upper, s.n) for s in results.strata] == [
        ("Q1", None, 1.0, 2), ("Q2", 1.0, 6.0, 2), ("Q3", 6.0, 18.5, 2), ("Q4", 18.5, None, 2)
    ]
    assert [s.percent for s in results.strata] == [25.0] * 4
    assert results.cutpoints == (1.0, 6.0, 18.5) and results.cutpoints_given
    assert (results.cohort.n_included, results.cohort.n_analysed, results.cohort.n_no_level) == (9, 8, 1)


def test_computed_cut_points_are_numpy_percentiles() -> None:
    derived = derive(random_cohort(21, 90))
    results = analyse(derived, StudyOptions())
    levels = derived.patients["trough_level"].dropna().to_numpy()
    assert results.cutpoints == tuple(np.percentile(levels, [25, 50, 75]))
    assert not results.cutpoints_given
    counts = quartiles_by_pandas(derived.patients["trough_level"], results.cutpoints).value_counts().reindex(LABELS)
    assert [s.n for s in results.strata] == counts.tolist()
    assert sum(s.n for s in results.strata) == results.cohort.n_analysed


def test_coinciding_edges_stop_with_advice() -> None:
    rows = []
    for i in range(12):
        rows += [visit(f"P{i}", 0), visit(f"P{i}", 12, tcz_trough_ug_ml=0.0 if i < 8 else 5.0 + i)]
    cohort = make_cohort(rows)
    with pytest.raises(AnalysisError, match="quartile_cutpoints"):
        analyse(derive(cohort), cohort.study)


def test_no_level_at_all_is_an_analysis_error() -> None:
    cohort = make_cohort([visit("A", 0), visit("A", 12)])
    with pytest.raises(AnalysisError, match="trough level"):
        analyse(derive(cohort), cohort.study)


# --- the abstract's EULAR table ----------------------------------------------------------------------


def test_abstract_eular_counts_and_chi_square() -> None:
    derived = abstract_derived()
    results = analyse(derived, StudyOptions(quartile_cutpoints=(2.0, 6.0, 18.5), categorical_test="chi-square"))
    assert [s.n for s in results.strata] == [8, 7, 8, 10]
    assert [round(s.percent, 1) for s in results.strata] == [24.2, 21.2, 24.2, 30.3]
    eular = results.eular_response
    assert eular.categories == ("none", "moderate", "good")
    assert eular.counts == ((4, 1, 1, 0), (3, 0, 4, 1), (1, 6, 3, 9))
    assert eular.overall == (6, 8, 20)  # all 34 included patients
    assert eular.test.test == "chi-square" and eular.test.p_value == pytest.approx(0.00636, abs=5e-6)
    reference = sps.chi2_contingency(np.array(eular.counts), correction=False)
    assert close(eular.test.p_value, reference.pvalue)


def test_auto_chooses_the_exact_test_for_the_abstracts_eular_table_and_says_why() -> None:
    # 11 of the 12 expected counts are below 5: Cochran's rule is not met (the default categorical_test is auto).
    eular = analyse(abstract_derived(), StudyOptions(quartile_cutpoints=(2.0, 6.0, 18.5))).eular_response
    assert eular.test.test == "fisher-exact" and eular.test.p_value == pytest.approx(0.00239, abs=5e-6)
    assert "categorical_test = auto" in eular.test.decision
    assert "Cochran's rule is not met here (11 of 12 expected counts below 5, 0 below 1)" in eular.test.decision


def test_eular_response_has_a_linear_by_linear_trend_and_other_tables_none() -> None:
    """The EULAR table's ordinal trend: r of the response order (none < moderate < good) and the quartile
    order over the analysed patients, one row each (scipy's pearsonr on the expanded table)."""
    results = analyse(abstract_derived(), StudyOptions(quartile_cutpoints=(2.0, 6.0, 18.5)))
    trend = results.eular_response.trend
    table = np.array(results.eular_response.counts)
    rows, cols = np.indices(table.shape)
    r = sps.pearsonr(np.repeat(rows.ravel(), table.ravel()), np.repeat(cols.ravel(), table.ravel())).statistic
    assert trend is not None and trend.test == "linear-by-linear"
    assert close(trend.effect_size, r) and close(trend.statistic, 32 * r * r)
    assert close(trend.p_value, sps.chi2.sf(32 * r * r, 1))
    assert "Q1 < Q2 < Q3 < Q4" in trend.decision
    assert all(c.trend is None for c in (*results.activity_categories, *results.baseline) if isinstance(c, CategoricalComparison))


def test_abstract_eular_fisher_freeman_halton() -> None:
    results = analyse(abstract_derived(), StudyOptions(quartile_cutpoints=(2.0, 6.0, 18.5), categorical_test="fisher-exact"))
    assert results.eular_response.test.test == "fisher-exact"
    assert results.eular_response.test.p_value == pytest.approx(0.00239, abs=5e-6)


# --- every statistic against scipy on random cohorts -------------------------------------------------


def _check_continuous(comparison: ContinuousComparison, values: pd.Series, quartile: pd.Series, level: pd.Series, study: StudyOptions) -> None:
    groups = [values[(quartile == label) & values.notna()].to_numpy() for label in LABELS]
    present = [g for g in groups if g.size]
    for summary, group in zip(comparison.groups, groups):
        assert summary.n == group.size
        if group.size:
            assert close(summary.mean, group.mean()) and close(summary.median, float(np.median(group)))
            assert close(summary.q1, float(np.quantile(group, 0.25))) and close(summary.q3, float(np.quantile(group, 0.75)))
        if group.size > 1:
            assert close(summary.sd, float(pd.Series(group).std()))
    everyone = values.dropna()
    assert comparison.overall.n == everyone.size and close(comparison.overall.mean, everyone.mean())
    if study.continuous_test == "kruskal-wallis":
        reference = sps.kruskal(*present)
        n = sum(g.size for g in present)
        assert close(comparison.test.statistic, reference.statistic) and close(comparison.test.p_value, reference.pvalue)
        assert close(comparison.test.effect_size, reference.statistic / (n - 1))
    else:
        reference = sps.f_oneway(*present)
        assert close(comparison.test.statistic, reference.statistic) and close(comparison.test.p_value, reference.pvalue)


def _check_beyond_omnibus(comparison: ContinuousComparison, values: pd.Series, quartile: pd.Series, level: pd.Series) -> None:
    analysed = quartile.notna() & values.notna()
    reference = sps.spearmanr(level[analysed], values[analysed])
    assert close(comparison.spearman.rho, reference.statistic) and close(comparison.spearman.p_value, reference.pvalue)
    assert comparison.trend is not None and comparison.trend.test == "jonckheere-terpstra"
    if comparison.test.p_value < 0.05:
        frame = pd.DataFrame({"v": values[analysed].to_numpy(), "g": quartile[analysed].astype(str).to_numpy()})
        holm = scikit_posthocs.posthoc_dunn(frame, val_col="v", group_col="g", p_adjust="holm")
        assert len(comparison.posthoc) == 6
        for pair in comparison.posthoc:
            assert close(pair.p_adjusted, holm.loc[pair.group_a, pair.group_b])
    else:
        assert comparison.posthoc == ()


def _check_categorical(comparison: CategoricalComparison, values: pd.Series, quartile: pd.Series, study: StudyOptions) -> None:
    table = pd.crosstab(pd.Categorical(values, categories=comparison.categories), quartile, dropna=False)
    table = table.reindex(index=list(comparison.categories), columns=LABELS, fill_value=0)
    assert comparison.counts == tuple(tuple(int(x) for x in row) for row in table.to_numpy())
    assert comparison.overall == tuple(int((values == c).sum()) for c in comparison.categories)
    reduced = table.loc[table.sum(axis=1) > 0, table.sum(axis=0) > 0].to_numpy()
    if min(reduced.shape) >= 2 and study.categorical_test == "chi-square":
        reference = sps.chi2_contingency(reduced, correction=False)
        assert close(comparison.test.statistic, reference.statistic) and close(comparison.test.p_value, reference.pvalue)
        assert close(comparison.test.effect_size, math.sqrt(reference.statistic / (reduced.sum() * (min(reduced.shape) - 1))))


TABLE_1_VALUES = {
    "sex": lambda p: p["sex"].map({"F": "female", "M": "male"}),
    "rf_positive": lambda p: p["rf_positive"].map({True: "positive", False: "negative"}),
    "acpa_positive": lambda p: p["acpa_positive"].map({True: "positive", False: "negative"}),
    "concomitant_mtx": lambda p: p["concomitant_mtx"].map({True: "yes", False: "no"}),
}


@pytest.mark.parametrize(
    ("seed", "study"),
    [
        (31, StudyOptions()),
        (32, StudyOptions(continuous_test="anova")),
        (33, StudyOptions(quartile_cutpoints=(1.0, 6.0, 18.5))),
        (34, StudyOptions(follow_up_month=9, categorical_test="fisher-exact")),
    ],
)
def test_every_statistic_equals_scipy_on_random_cohorts(seed: int, study: StudyOptions) -> None:
    derived = derive(random_cohort(seed, 70, study=study))
    results = analyse(derived, study)
    patients = derived.patients
    level = patients["trough_level"]
    quartile = quartiles_by_pandas(level, results.cutpoints)
    by_variable = {c.variable: c for c in results.baseline}
    for spec in TABLE_1:
        comparison = by_variable[spec.variable]
        if isinstance(spec, Continuous):
            _check_continuous(comparison, patients[spec.column].astype(float), quartile, level, study)
            assert comparison.trend is None and comparison.spearman is None
        else:
            _check_categorical(comparison, TABLE_1_VALUES[spec.variable](patients).astype(object), quartile, study)
    assert [c.variable for c in results.outcomes] == [spec.variable for spec in OUTCOMES]
    for comparison in results.outcomes:
        values = patients[comparison.variable].astype(float)
        _check_continuous(comparison, values, quartile, level, study)
        _check_beyond_omnibus(comparison, values, quartile, level)
    for comparison in (*results.activity_categories, results.eular_response):
        _check_categorical(comparison, patients[comparison.variable].astype(object), quartile, study)


def test_outcome_labels_and_units() -> None:
    results = analyse(derive(random_cohort(40, 60)), StudyOptions())
    outcomes = {c.variable: (c.label, c.unit) for c in results.outcomes}
    assert outcomes["das28_esr"] == ("DAS28-ESR", "")
    assert outcomes["esr_mm_h"] == ("ESR", "mm/h") and outcomes["crp_mg_l"] == ("CRP", "mg/L")
    assert [c.variable for c in results.baseline] == [
        "age_years", "sex", "disease_duration_years", "rf_positive", "acpa_positive", "prior_biologics",
        "concomitant_mtx", "das28_esr", "cdai", "sdai", "tjc28", "sjc28", "esr_mm_h", "crp_mg_l",
    ]
    assert [c.variable for c in results.activity_categories] == ["das28_esr_category", "cdai_category", "sdai_category"]


def test_carried_forward_list() -> None:
    cohort = make_cohort(
        [visit("A", 0), visit("A", 12, tcz_trough_ug_ml=3.0),
         visit("B", 0), visit("B", 3, tcz_trough_ug_ml=1.0),
         visit("C", 0), visit("C", 12, tcz_trough_ug_ml=9.0),
         visit("D", 0), visit("D", 12, tcz_trough_ug_ml=20.0),
         visit("E", 0)],
        patients=[{"patient_id": "B", "withdrawal_month": 5.0, "withdrawal_reason": "inefficacy"}],
        study=StudyOptions(quartile_cutpoints=(2.0, 5.0, 10.0)),
    )
    results = analyse(derive(cohort), cohort.study)
    assert [(c.patient_id, c.from_month, c.withdrawal_reason) for c in results.carried_forward] == [("B", 3, "inefficacy"), ("E", 0, None)]
    assert results.cohort.n_locf == 2 and results.cohort.n_included == 5 and results.cohort.n_analysed == 4


def test_empty_quartile_with_given_cut_points_is_left_out_of_tests() -> None:
    derived = derive(random_cohort(50, 60))
    results = analyse(derived, StudyOptions(quartile_cutpoints=(1000.0, 2000.0, 3000.0)))
    assert [s.n for s in results.strata][1:] == [0, 0, 0]
    das28 = results.outcomes[0]
    assert das28.test.p_value is None and das28.groups[1].n == 0 and das28.groups[1].mean is None


# --- found by mutation testing (docs/mutation-testing.md) ---------------------------------------------

ADVICE = (
    "this happens when many patients share one level (e.g. undetectable). Give three increasing "
    "cut points in the study sheet, e.g. 'quartile_cutpoints' = '1; 6; 18.5'."
)


def _levels_cohort(levels: list[float], study: StudyOptions | None = None):
    rows = []
    for i, level in enumerate(levels):
        rows += [visit(f"P{i}", 0), visit(f"P{i}", 12, tcz_trough_ug_ml=level)]
    return make_cohort(rows, study=study)


def test_given_cut_points_must_increase_strictly_and_the_message_says_whose_they_are() -> None:
    cohort = _levels_cohort([1.0, 2.0, 7.0, 20.0], StudyOptions(quartile_cutpoints=(1.0, 6.0, 6.0)))
    with pytest.raises(AnalysisError) as raised:
        analyse(derive(cohort), cohort.study)
    assert str(raised.value) == (
        "cannot form four quartiles: the quartile_cutpoints of the study sheet do not increase strictly "
        f"(1.0, 6.0, 6.0); {ADVICE}"
    )


def test_computed_cut_points_that_coincide_name_the_percentiles() -> None:
    cohort = _levels_cohort([0.0] * 8 + [5.0, 6.0, 7.0, 8.0])
    with pytest.raises(AnalysisError) as raised:
        analyse(derive(cohort), cohort.study)
    assert str(raised.value) == (
        "cannot form four quartiles: the 25th, 50th and 75th percentiles of the trough level do not increase "
        f"strictly (0.0, 0.0, 5.25); {ADVICE}"
    )


def test_no_level_message() -> None:
    cohort = make_cohort([visit("A", 0), visit("A", 12)])
    with pytest.raises(AnalysisError) as raised:
        analyse(derive(cohort), cohort.study)
    assert str(raised.value) == (
        "no patient has a trough level at or before the follow-up month, so there are no quartiles to compare"
    )


def test_results_carry_the_study_and_its_follow_up_month_and_four_groups() -> None:
    study = StudyOptions(follow_up_month=9, quartile_cutpoints=(2.0, 5.0, 10.0))
    rows = []
    for i, level in enumerate([1.0, 3.0, 7.0, 20.0, 1.5, 4.0]):
        rows += [visit(f"P{i}", 0), visit(f"P{i}", 9, tcz_trough_ug_ml=level)]
    results = analyse(derive(make_cohort(rows, study=study)), study)
    assert results.study == study and results.cohort.follow_up_month == 9
    for comparison in (*results.outcomes, *results.baseline):
        assert len(comparison.groups if isinstance(comparison, ContinuousComparison) else comparison.counts[0]) == 4


def test_a_categorical_value_outside_the_categories_is_an_analysis_error() -> None:
    patients = pd.DataFrame({"x": list("abcdefg")})
    spec = Categorical("x", "X", ("a",), lambda frame: frame["x"].to_numpy(dtype=object))
    with pytest.raises(AnalysisError) as raised:
        compare_categorical(spec, patients, np.zeros(7, dtype=np.int64), StudyOptions())
    assert str(raised.value) == "x has values outside ('a',): ['b', 'c', 'd', 'e', 'f']"


def test_a_categorical_comparison_keeps_its_label() -> None:
    patients = pd.DataFrame({"x": ["a", "b", "a", "b"]})
    spec = Categorical("x", "The X", ("a", "b"), lambda frame: frame["x"].to_numpy(dtype=object))
    comparison = compare_categorical(spec, patients, np.array([0, 1, 2, 3]), StudyOptions())
    assert (comparison.variable, comparison.label, comparison.overall) == ("x", "The X", (2, 2))


def test_an_empty_withdrawal_reason_is_no_reason() -> None:
    cohort = make_cohort(
        [visit("A", 0), visit("A", 3, tcz_trough_ug_ml=1.0), visit("B", 0), visit("B", 12, tcz_trough_ug_ml=9.0),
         visit("C", 0), visit("C", 12, tcz_trough_ug_ml=20.0), visit("D", 0), visit("D", 12, tcz_trough_ug_ml=4.0)],
        patients=[{"patient_id": "A", "withdrawal_month": 5.0, "withdrawal_reason": ""}],
        study=StudyOptions(quartile_cutpoints=(2.0, 5.0, 10.0)),
    )
    results = analyse(derive(cohort), cohort.study)
    assert [(c.patient_id, c.withdrawal_reason) for c in results.carried_forward] == [("A", None)]
