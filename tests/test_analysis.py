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

from reportgen import estimates
from reportgen.analysis import OUTCOMES, TABLE_1, Categorical, Continuous, analyse, compare_categorical
from reportgen.derive import derive
from reportgen.indices import EULAR_RESPONSES
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
        rows += [visit(f"P{i}", 0), visit(f"P{i}", 12, trough_level=level)]
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
        rows += [visit(f"P{i}", 0), visit(f"P{i}", 12, trough_level=0.0 if i < 8 else 5.0 + i)]
    cohort = make_cohort(rows)
    with pytest.raises(AnalysisError, match="cut_points"):
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
        [visit("A", 0), visit("A", 12, trough_level=3.0),
         visit("B", 0), visit("B", 3, trough_level=1.0),
         visit("C", 0), visit("C", 12, trough_level=9.0),
         visit("D", 0), visit("D", 12, trough_level=20.0),
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
    "this happens when many patients share one level (e.g. undetectable, or below the limit of quantification). Give increasing cut points in the "
    "study sheet instead, e.g. grouping = cut-points and cut_points = '1; 6; 18.5'."
)


def _levels_cohort(levels: list[float], study: StudyOptions | None = None):
    rows = []
    for i, level in enumerate(levels):
        rows += [visit(f"P{i}", 0), visit(f"P{i}", 12, trough_level=level)]
    return make_cohort(rows, study=study)


def test_given_cut_points_must_increase_strictly_and_the_message_says_whose_they_are() -> None:
    cohort = _levels_cohort([1.0, 2.0, 7.0, 20.0], StudyOptions(quartile_cutpoints=(1.0, 6.0, 6.0)))
    with pytest.raises(AnalysisError) as raised:
        analyse(derive(cohort), cohort.study)
    assert str(raised.value) == (
        "cannot form the groups: the quartile_cutpoints of the study sheet do not increase strictly (1.0, 6.0, 6.0)"
    )


def test_computed_cut_points_that_coincide_name_the_percentiles() -> None:
    cohort = _levels_cohort([0.0] * 8 + [5.0, 6.0, 7.0, 8.0])
    with pytest.raises(AnalysisError) as raised:
        analyse(derive(cohort), cohort.study)
    assert str(raised.value) == (
        "cannot form 4 quartiles: the 25th, 50th and 75th percentiles of the trough level do not increase "
        f"strictly (0.0, 0.0, 5.25); {ADVICE}"
    )


def test_no_level_message() -> None:
    cohort = make_cohort([visit("A", 0), visit("A", 12)])
    with pytest.raises(AnalysisError) as raised:
        analyse(derive(cohort), cohort.study)
    assert str(raised.value) == (
        "no patient has a trough level at or before the follow-up month, so there are no groups to compare"
    )


def test_results_carry_the_study_and_its_follow_up_month_and_four_groups() -> None:
    study = StudyOptions(follow_up_month=9, quartile_cutpoints=(2.0, 5.0, 10.0))
    rows = []
    for i, level in enumerate([1.0, 3.0, 7.0, 20.0, 1.5, 4.0]):
        rows += [visit(f"P{i}", 0), visit(f"P{i}", 9, trough_level=level)]
    results = analyse(derive(make_cohort(rows, study=study)), study)
    assert results.study == study and results.cohort.follow_up_month == 9
    for comparison in (*results.outcomes, *results.baseline):
        assert len(comparison.groups if isinstance(comparison, ContinuousComparison) else comparison.counts[0]) == 4


def test_a_categorical_value_outside_the_categories_is_an_analysis_error() -> None:
    patients = pd.DataFrame({"x": list("abcdefg")})
    spec = Categorical("x", "X", ("a",), lambda frame: frame["x"].to_numpy(dtype=object))
    with pytest.raises(AnalysisError) as raised:
        compare_categorical(spec, patients, np.zeros(7, dtype=np.int64), StudyOptions(), LABELS)
    assert str(raised.value) == "x has values outside ('a',): ['b', 'c', 'd', 'e', 'f']"


def test_a_categorical_comparison_keeps_its_label() -> None:
    patients = pd.DataFrame({"x": ["a", "b", "a", "b"]})
    spec = Categorical("x", "The X", ("a", "b"), lambda frame: frame["x"].to_numpy(dtype=object))
    comparison = compare_categorical(spec, patients, np.array([0, 1, 2, 3]), StudyOptions(), LABELS)
    assert (comparison.variable, comparison.label, comparison.overall) == ("x", "The X", (2, 2))


def test_an_empty_withdrawal_reason_is_no_reason() -> None:
    cohort = make_cohort(
        [visit("A", 0), visit("A", 3, trough_level=1.0), visit("B", 0), visit("B", 12, trough_level=9.0),
         visit("C", 0), visit("C", 12, trough_level=20.0), visit("D", 0), visit("D", 12, trough_level=4.0)],
        patients=[{"patient_id": "A", "withdrawal_month": 5.0, "withdrawal_reason": ""}],
        study=StudyOptions(quartile_cutpoints=(2.0, 5.0, 10.0)),
    )
    results = analyse(derive(cohort), cohort.study)
    assert [(c.patient_id, c.withdrawal_reason) for c in results.carried_forward] == [("A", None)]


# --- k groups (issue #12: the study design becomes data) ------------------------------------------------


@pytest.mark.parametrize(
    "study, labels, percents",
    [
        (StudyOptions(grouping="halves"), ["H1", "H2"], [50]),
        (StudyOptions(grouping="tertiles"), ["T1", "T2", "T3"], [100 / 3, 200 / 3]),
        (StudyOptions(grouping="quartiles"), LABELS, [25, 50, 75]),
        (StudyOptions(grouping="quintiles"), ["Q1", "Q2", "Q3", "Q4", "Q5"], [20, 40, 60, 80]),
    ],
)
def test_quantile_groupings_use_the_data_quantiles_for_as_many_groups(study: StudyOptions, labels: list[str], percents: list[float]) -> None:
    derived = derive(random_cohort(7, 80))
    results = analyse(derived, study)
    level = derived.patients["trough_level"]
    edges = tuple(np.percentile(level.dropna(), percents))
    assert results.cutpoints == edges and not results.cutpoints_given
    assert results.design.sample_quantiles == edges and results.design.grouping == study.grouping
    assert [s.label for s in results.strata] == labels
    by_pandas = pd.cut(level, [-np.inf, *edges, np.inf], right=True, labels=labels).value_counts().reindex(labels)
    assert [s.n for s in results.strata] == by_pandas.tolist()
    for comparison in (*results.outcomes, *results.baseline, results.eular_response):
        assert len(comparison.groups if isinstance(comparison, ContinuousComparison) else comparison.counts[0]) == len(labels)
    das28 = results.outcomes[0]
    groups = [derived.patients.loc[(level > lo) & (level <= hi), "das28_esr"].dropna() for lo, hi in
              zip([-np.inf, *edges], [*edges, np.inf])]
    assert close(das28.test.p_value, sps.kruskal(*groups).pvalue)


@pytest.mark.parametrize("cuts", [(5.0,), (2.0, 8.0), (1.0, 4.0, 9.0, 15.0), (1.0, 3.0, 6.0, 10.0, 20.0)])
def test_cut_points_make_one_more_group_than_cut_points_labelled_g(cuts: tuple[float, ...]) -> None:
    derived = derive(random_cohort(8, 90))
    results = analyse(derived, StudyOptions(cut_points=cuts, categorical_test="chi-square"))
    k = len(cuts) + 1
    assert results.cutpoints == cuts and results.cutpoints_given and results.design.grouping == "cut-points"
    assert results.design.cut_points_key == "cut_points"
    assert [s.label for s in results.strata] == [f"G{i}" for i in range(1, k + 1)]
    assert [(s.lower, s.upper) for s in results.strata] == list(zip([None, *cuts], [*cuts, None]))
    level = derived.patients["trough_level"].dropna()
    assert results.design.sample_quantiles == tuple(np.percentile(level, [100 * i / k for i in range(1, k)]))
    assert sum(s.n for s in results.strata) == results.cohort.n_analysed
    assert results.eular_response.test.df == (3 - 1) * (k - 1)


def test_halves_have_one_dunn_pair_and_a_trend_test() -> None:
    rows = []
    for i in range(30):
        level = 1.0 + i
        rows += [visit(f"P{i}", 0), visit(f"P{i}", 12, trough_level=level, tjc28=max(0, 20 - i), sjc28=max(0, 15 - i // 2))]
    derived = derive(make_cohort(rows))
    results = analyse(derived, StudyOptions(grouping="halves"))
    das28 = results.outcomes[0]
    assert das28.test.p_value is not None and das28.test.p_value < 0.05
    assert [(pair.group_a, pair.group_b) for pair in das28.posthoc] == [("H1", "H2")]
    pair = das28.posthoc[0]
    assert close(pair.p_adjusted, pair.p_value)  # Holm with one pair leaves p as it is
    assert das28.trend is not None and das28.trend.p_value is not None and das28.trend.statistic < 0


def test_group_labels_name_the_groups() -> None:
    derived = derive(random_cohort(9, 40))
    labels = ("subtherapeutic", "therapeutic", "supratherapeutic")
    results = analyse(derived, StudyOptions(cut_points=(1.0, 8.0), group_labels=labels))
    assert tuple(s.label for s in results.strata) == labels
    assert results.outcomes[0].test.p_value is not None


def test_cut_points_outside_the_data_leave_empty_groups_without_a_crash() -> None:
    derived = derive(random_cohort(10, 40))
    top = float(derived.patients["trough_level"].max())
    results = analyse(derived, StudyOptions(cut_points=(5.0, 8.0, top + 1000.0)))
    assert results.strata[-1].n == 0 and results.strata[-1].percent == 0.0
    assert all(len(c.counts[0]) == 4 for c in results.activity_categories)
    das28 = results.outcomes[0]
    assert das28.groups[-1].n == 0 and das28.test.p_value is not None  # the three groups with patients are compared
    assert das28.test.df == 2.0


def test_quartile_cutpoints_mean_cut_points_labelled_q() -> None:
    derived = derive(random_cohort(11, 40))
    v1 = analyse(derived, StudyOptions(quartile_cutpoints=(2.0, 6.0, 18.5)))
    v2 = analyse(derived, StudyOptions(grouping="cut-points", cut_points=(2.0, 6.0, 18.5), group_labels=tuple(LABELS)))
    assert v1.design.cut_points_key == "quartile_cutpoints" and v2.design.cut_points_key == "cut_points"
    assert [s.label for s in v1.strata] == LABELS and v1.design.grouping == "cut-points"
    assert (v1.strata, v1.outcomes, v1.baseline, v1.eular_response) == (v2.strata, v2.outcomes, v2.baseline, v2.eular_response)


@pytest.mark.parametrize(
    "study, message",
    [
        (StudyOptions(quartile_cutpoints=(1.0, 2.0, 3.0), cut_points=(1.0,)), "give the cut points once"),
        (StudyOptions(grouping="tertiles", cut_points=(1.0, 2.0)), "cut_points is given, so grouping must be cut-points, not tertiles"),
        (StudyOptions(grouping="cut-points"), "grouping = cut-points needs cut_points"),
        (StudyOptions(grouping="tertiles", group_labels=("a", "b")), "group_labels gives 2 labels for 3 groups"),
        (StudyOptions(cut_points=(1.0, 2.0, 3.0, 4.0, 5.0, 6.0)), "are 6 values; give 1 to 5"),
    ],
)
def test_settings_that_contradict_each_other_stop_the_analysis(study: StudyOptions, message: str) -> None:
    with pytest.raises(AnalysisError, match=message):
        analyse(derive(random_cohort(12, 20)), study)


def test_coinciding_tertiles_name_their_percentiles_and_suggest_cut_points() -> None:
    cohort = _levels_cohort([0.0] * 10 + [5.0, 6.0], StudyOptions(grouping="tertiles"))
    with pytest.raises(AnalysisError) as raised:
        analyse(derive(cohort), cohort.study)
    assert str(raised.value).startswith("cannot form 3 tertiles: the 33.3rd and 66.7th percentiles of the trough level do not increase strictly")
    assert "cut_points = '1; 6; 18.5'" in str(raised.value)


# --- primary outcome, Holm, sensitivity analyses (issue #13 items 2 and 3) --------------------------


@pytest.fixture(scope="module")
def example_derived() -> Derived:
    from pathlib import Path

    from reportgen.pipeline import validate_only

    return derive(validate_only(Path(__file__).resolve().parent.parent / "input" / "cohort.xlsx"))


def _sensitivity(results, analysis: str, outcome: str):  # type: ignore[no-untyped-def]
    (row,) = [s for s in results.sensitivity if s.analysis == analysis and s.outcome == outcome]
    return row


def test_holm_over_the_nine_outcome_tests_reproduces_the_reviewer(example_derived: Derived) -> None:
    """'Holm over the 9 overall tests leaves DAS28-ESR, CDAI, SDAI and ESR significant, not DAS28-CRP, SJC,
    TJC or ΔDAS28'."""
    results = analyse(example_derived, StudyOptions(quartile_cutpoints=(2.9, 9.1, 18.5), categorical_test="chi-square"))
    holm = {o.variable: o.p_holm for o in results.outcomes}
    assert len(holm) == 9 and all(p is not None for p in holm.values())
    assert {v for v, p in holm.items() if p < 0.05} == {"das28_esr", "cdai", "sdai", "esr_mm_h"}
    # Independently: Holm by hand over the nine unadjusted p-values.
    ps = sorted((o.test.p_value, o.variable) for o in results.outcomes)
    running = 0.0
    for i, (p, variable) in enumerate(ps):
        running = max(running, min(1.0, (9 - i) * p))
        assert close(holm[variable], running)
    assert all(c.p_holm is None for c in results.baseline if isinstance(c, ContinuousComparison))
    das28 = results.outcomes[0]
    q1_q4 = [pair for pair in das28.posthoc if (pair.group_a, pair.group_b) == ("Q1", "Q4")][0]
    assert round(q1_q4.p_adjusted, 4) == 0.0016


def test_sensitivity_analyses_reproduce_the_reviewer(example_derived: Derived) -> None:
    """'Completers only (n = 28): DAS28 p = 0.009, EULAR p = 0.026; withdrawals as non-responders: EULAR
    p = 0.034'; 'with the data's own quartiles EULAR p is 0.164, CDAI 0.049, ESR 0.102'."""
    study = StudyOptions(quartile_cutpoints=(2.9, 9.1, 18.5), categorical_test="chi-square")
    results = analyse(example_derived, study)
    assert [(s.analysis, s.outcome) for s in results.sensitivity] == [
        (name, outcome) for name in ("locf", "completers", "nri", "sample-quantiles") for outcome in ("das28_esr", "eular_response")
    ]
    locf = _sensitivity(results, "locf", "das28_esr")
    assert locf.test == results.outcomes[0].test and locf.n == 33
    assert _sensitivity(results, "locf", "eular_response").test == results.eular_response.test
    completers = _sensitivity(results, "completers", "das28_esr")
    assert completers.n == 28 and round(completers.test.p_value, 3) == 0.009
    assert round(_sensitivity(results, "completers", "eular_response").test.p_value, 3) == 0.026
    assert round(_sensitivity(results, "nri", "eular_response").test.p_value, 3) == 0.034
    quantiles = _sensitivity(results, "sample-quantiles", "eular_response")
    assert round(quantiles.test.p_value, 3) == 0.164 and quantiles.conclusion_changes
    assert [s.conclusion_changes for s in results.sensitivity].count(True) == 1
    for primary, printed in (("cdai", 0.049), ("esr_mm_h", 0.102)):
        other = analyse(example_derived, replace(study, primary_outcome=primary))
        assert round(_sensitivity(other, "sample-quantiles", primary).test.p_value, 3) == printed
    assert round(_sensitivity(analyse(example_derived, replace(study, primary_outcome="esr_mm_h")), "locf", "esr_mm_h").test.p_value, 3) == 0.005


@pytest.mark.parametrize("seed", [3, 11])
def test_sensitivity_analyses_equal_scipy_on_independently_built_groups(seed: int) -> None:
    study = StudyOptions(quartile_cutpoints=(2.0, 6.0, 18.5), categorical_test="chi-square")
    derived = derive(random_cohort(seed, 90, dropout=0.35, study=study))
    results = analyse(derived, study)
    patients = derived.patients
    quartile = quartiles_by_pandas(patients["trough_level"], results.cutpoints)
    stopped = patients["carried_forward"] & (patients["withdrawal_month"] <= 12)
    assert stopped.sum() > 5
    completer = ~patients["carried_forward"]
    das28_nri = patients["das28_esr"].where(~stopped, patients["das28_esr_baseline"])
    eular_nri = patients["eular_response"].astype(object).where(~stopped, "none")
    own = quartiles_by_pandas(patients["trough_level"], tuple(np.percentile(patients["trough_level"].dropna(), [25, 50, 75])))
    cases = {
        "completers": (patients["das28_esr"], patients["eular_response"].astype(object), quartile.where(completer)),
        "nri": (das28_nri, eular_nri, quartile),
        "sample-quantiles": (patients["das28_esr"], patients["eular_response"].astype(object), own),
    }
    for name, (das28, eular, groups) in cases.items():
        values = [das28[(groups == q) & das28.notna()].to_numpy() for q in LABELS]
        row = _sensitivity(results, name, "das28_esr")
        assert close(row.test.p_value, sps.kruskal(*[v for v in values if v.size]).pvalue), name
        assert row.n == sum(v.size for v in values)
        row = _sensitivity(results, name, "das28_esr")
        assert close(row.estimate, float(np.median(np.subtract.outer(values[-1], values[0])))), name
        assert row.ci == estimates.hodges_lehmann(values[-1], values[0])[1]
        table = pd.crosstab(eular, groups)
        row = _sensitivity(results, name, "eular_response")
        counts = table.to_numpy()
        assert close(row.test.p_value, sps.chi2_contingency(counts[counts.sum(axis=1) > 0], correction=False)[1]), name
        assert row.n == int(counts.sum())
        table = table.reindex(index=["none", "moderate", "good"], columns=LABELS, fill_value=0)
        good, total = table.loc["good"], table.sum()
        assert close(row.estimate, good["Q4"] / total["Q4"] - good["Q1"] / total["Q1"]), name
        assert row.ci == estimates.newcombe_difference(int(good["Q4"]), int(total["Q4"]), int(good["Q1"]), int(total["Q1"]))[1]


def test_withdrawn_means_stopped_before_the_follow_up_visit() -> None:
    cohort = make_cohort(
        [visit("A", 0), visit("A", 12, trough_level=3.0),  # withdrew at 12, after the month-12 visit
         visit("B", 0), visit("B", 3, trough_level=1.0),  # withdrew at 5
         visit("C", 0), visit("C", 6, trough_level=9.0),  # missed month 12, still treated
         visit("D", 0), visit("D", 6, trough_level=20.0),  # withdrew at 18, after follow-up
         visit("E", 0), visit("E", 9, trough_level=4.0)],  # withdrew at 12, before the month-12 visit
        patients=[{"patient_id": "A", "withdrawal_month": 12.0}, {"patient_id": "B", "withdrawal_month": 5.0},
                  {"patient_id": "D", "withdrawal_month": 18.0}, {"patient_id": "E", "withdrawal_month": 12.0}],
    )  # fmt: skip
    from reportgen.analysis import withdrawn_before_follow_up

    assert withdrawn_before_follow_up(derive(cohort).patients, 12).tolist() == [False, True, False, False, True]
    study = StudyOptions(quartile_cutpoints=(2.0, 5.0, 10.0))
    results = analyse(derive(cohort), study)
    assert results.flow.withdrawn == 2
    # Non-responder imputation: B and E (no good response, whatever their data) are 'none'.
    eular = _sensitivity(results, "nri", "eular_response")
    assert eular.n == 5


def test_the_primary_outcome_and_its_baseline_carried_forward_for_withdrawals() -> None:
    study = StudyOptions(quartile_cutpoints=(2.0, 6.0, 18.5), primary_outcome="delta_das28")
    derived = derive(random_cohort(5, 80, dropout=0.4, study=study))
    results = analyse(derived, study)
    assert [s.outcome for s in results.sensitivity[::2]] == ["delta_das28"] * 4
    patients = derived.patients
    stopped = patients["carried_forward"] & (patients["withdrawal_month"] <= 12)
    delta = patients["delta_das28"].where(~stopped, 0.0)
    groups = quartiles_by_pandas(patients["trough_level"], results.cutpoints)
    values = [delta[(groups == q) & delta.notna()].to_numpy() for q in LABELS]
    assert close(_sensitivity(results, "nri", "delta_das28").test.p_value, sps.kruskal(*values).pvalue)


def test_no_sample_quantile_analysis_without_given_cut_points_and_none_when_they_coincide() -> None:
    derived = derive(random_cohort(8, 60))
    assert {s.analysis for s in analyse(derived, StudyOptions()).sensitivity} == {"locf", "completers", "nri"}
    patients = derived.patients.copy()
    patients["trough_level"] = patients["trough_level"].where(patients["trough_level"].isna() | (patients.index % 5 == 0), 0.0)
    results = analyse(replace(derived, patients=patients), StudyOptions(quartile_cutpoints=(0.0, 1.0, 2.0)))
    quantiles = [s for s in results.sensitivity if s.analysis == "sample-quantiles"]
    assert [s.outcome for s in quantiles] == ["das28_esr", "eular_response"]
    for row in quantiles:
        assert row.test.p_value is None and "own quantiles coincide" in row.test.not_tested
        assert not row.conclusion_changes


def test_an_unknown_primary_outcome_is_an_analysis_error() -> None:
    with pytest.raises(AnalysisError, match="primary_outcome 'eular' is not an outcome; the outcomes are: das28_esr, "):
        analyse(derive(random_cohort(8, 30)), StudyOptions(primary_outcome="eular"))


def test_sensitivity_analyses_follow_the_number_of_groups_of_the_primary_analysis() -> None:
    """Written over ``results.strata``: with three groups, the data's own tertiles and the third group as the highest."""
    from reportgen.analysis import sensitivity_analyses

    study = StudyOptions(quartile_cutpoints=(2.0, 6.0, 18.5))
    derived = derive(random_cohort(9, 90, study=study))
    results = analyse(derived, study)
    three = np.minimum(results.strata_membership, 2)  # as if the cut points had been two: Q3 and Q4 together
    results = replace(results, strata=results.strata[:3], strata_membership=three)
    rows = sensitivity_analyses(derived.patients, three, results, study)
    patients = derived.patients
    level = patients["trough_level"]
    tertile = pd.cut(level, [-np.inf, *np.percentile(level.dropna(), [100 / 3, 200 / 3]), np.inf], labels=False)
    das28 = patients["das28_esr"]
    values = [das28[(tertile == k) & das28.notna()].to_numpy() for k in range(3)]
    (own,) = [row for row in rows if (row.analysis, row.outcome) == ("sample-quantiles", "das28_esr")]
    assert close(own.test.p_value, sps.kruskal(*values).pvalue) and own.n == sum(v.size for v in values)
    assert close(own.estimate, float(np.median(np.subtract.outer(values[2], values[0]))))
    (locf,) = [row for row in rows if (row.analysis, row.outcome) == ("locf", "das28_esr")]
    highest = das28[(three == 2) & das28.notna().to_numpy()].to_numpy()
    lowest = das28[(three == 0) & das28.notna().to_numpy()].to_numpy()
    assert close(locf.estimate, float(np.median(np.subtract.outer(highest, lowest))))


def test_the_locf_sensitivity_row_takes_the_primary_analysis_shift_when_the_groups_are_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """The LOCF row is the primary analysis: its Hodges-Lehmann shift is Table 2's, not computed again (other
    groups, as in the test above, still get their own)."""
    from reportgen.analysis import sensitivity_analyses

    study = StudyOptions(quartile_cutpoints=(2.0, 6.0, 18.5))
    derived = derive(random_cohort(9, 90, study=study))
    results = analyse(derived, study)
    calls = []
    hodges_lehmann = estimates.hodges_lehmann
    monkeypatch.setattr(estimates, "hodges_lehmann", lambda *args, **kwargs: calls.append(1) or hodges_lehmann(*args, **kwargs))
    rows = sensitivity_analyses(derived.patients, results.strata_membership, results, study)
    assert rows == results.sensitivity
    (locf,) = [row for row in rows if (row.analysis, row.outcome) == ("locf", "das28_esr")]
    primary = next(outcome for outcome in results.outcomes if outcome.variable == "das28_esr")
    assert (locf.estimate, locf.ci) == (primary.difference.estimate, primary.difference.ci)
    assert len(calls) == len({row.analysis for row in rows}) - 1  # completers, NRI, sample quantiles


# --- found by mutation testing, sixth pass (analysis, part 2): compare_continuous, patient_flow,
# compare_categorical, _strata, _carried_forward, group_edges, withdrawn_before_follow_up, placed_by_window,
# _measure, describe, recorded_reason, missing_counts, _by_group (docs/mutation-testing.md) --------------------

THREE = ("A", "B", "C")


def _continuous_frame() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Three groups of four patients (values rising with the group, so Kruskal-Wallis p < 0.05), one analysed
    patient without a value and one patient without a level (not analysed, value 100)."""
    values = [1.0, 3.0, 2.0, 4.0, 6.0, 5.0, 8.0, 7.0, 12.0, 10.0, 11.0, 9.0, np.nan, 100.0]
    group = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 1, -1], dtype=np.int64)
    level = np.array([1.0, 2.0, 1.5, 0.5, 5.0, 4.0, 6.0, 3.0, 9.0, 10.0, 7.0, 8.0, 4.5, np.nan])
    return pd.DataFrame({"x": values}), group, level


def _expected_continuous(groups: list[np.ndarray], everyone: np.ndarray, level: np.ndarray, values: np.ndarray,
                         test_name: str) -> ContinuousComparison:  # fmt: skip
    """The comparison built from the groups' values with stats and estimates called directly (each test ranks
    for itself)."""
    from reportgen import stats
    from reportgen.analysis import describe
    from reportgen.model import Shift

    test = stats.compare_continuous(groups, THREE, test_name)
    test = replace(test, effect_size_ci=estimates.bootstrap_ci(test.effect_size_name, groups))
    spearman = stats.spearman(level, values)
    estimate, interval = estimates.hodges_lehmann(groups[2], groups[0])
    return ContinuousComparison(
        variable="x",
        label="The X",
        unit="mg",
        groups=tuple(describe(g) for g in groups),
        overall=describe(everyone),
        test=test,
        trend=stats.jonckheere_terpstra(groups, THREE),
        spearman=replace(spearman, ci=estimates.spearman_ci(spearman.rho, spearman.n)),
        posthoc=stats.dunn_holm(groups, THREE) if test.p_value < 0.05 else (),
        difference=Shift(high="C", low="A", estimate=estimate, ci=interval),
    )


@pytest.mark.parametrize("test_name", ["kruskal-wallis", "anova"])
def test_compare_continuous_of_three_groups_equals_stats_and_estimates_called_directly(test_name: str) -> None:
    from reportgen.analysis import compare_continuous

    frame, group, level = _continuous_frame()
    values = frame["x"].to_numpy()
    groups = [values[group == k] for k in range(3)]
    groups[1] = groups[1][~np.isnan(groups[1])]
    complete = (group >= 0) & ~np.isnan(values)
    expected = _expected_continuous(groups, values, level[complete], values[complete], test_name)
    assert expected.test.p_value < 0.05 and len(expected.posthoc) == 3
    assert expected.test.effect_size_ci is not None and expected.test.effect_size_ci.lower is not None
    spec = Continuous("x", "x", "The X", "mg")
    comparison = compare_continuous(spec, frame, group, level, StudyOptions(continuous_test=test_name), True, THREE)
    assert comparison == expected
    assert comparison.overall.n == 13 and comparison.overall.max == 100.0  # the patient without a level too
    assert comparison.difference.estimate == 8.0  # C − A: every difference is 5 to 11, their median 8


def test_compare_continuous_without_the_extras_has_none_of_them() -> None:
    from reportgen.analysis import compare_continuous

    frame, group, level = _continuous_frame()
    comparison = compare_continuous(Continuous("x", "x", "X", ""), frame, group, level, StudyOptions(), False, THREE)
    assert (comparison.trend, comparison.spearman, comparison.difference, comparison.posthoc) == (None, None, None, ())
    assert comparison.test.effect_size_ci is None and comparison.test.p_value < 0.05


def test_dunn_runs_only_below_alpha_not_at_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Significant means p < ALPHA (model.ALPHA): at exactly 0.05 there are no pairwise comparisons."""
    from reportgen import analysis, stats
    from reportgen.model import ALPHA

    frame, group, level = _continuous_frame()
    real = stats.compare_continuous
    for p, pairs in ((ALPHA, 0), (np.nextafter(ALPHA, 0.0), 3), (0.5, 0)):
        monkeypatch.setattr(stats, "compare_continuous", lambda *args, p=p: replace(real(*args), p_value=p))
        comparison = analysis.compare_continuous(Continuous("x", "x", "X", ""), frame, group, level, StudyOptions(), True, THREE)
        assert comparison.test.p_value == p and len(comparison.posthoc) == pairs, p


def test_compare_continuous_with_one_group_of_data_has_no_test_and_no_effect_size_interval() -> None:
    from reportgen.analysis import compare_continuous

    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
    group = np.array([0, 0, 0, 0])
    level = np.array([1.0, 2.0, 3.0, 4.0])
    for test_name in ("kruskal-wallis", "anova"):
        comparison = compare_continuous(Continuous("x", "x", "X", ""), frame, group, level, StudyOptions(continuous_test=test_name), True, THREE)
        assert comparison.test.p_value is None and comparison.test.effect_size_ci is None and comparison.posthoc == ()
        assert comparison.difference.estimate is None and [g.n for g in comparison.groups] == [4, 0, 0]


def _categorical_frame() -> tuple[Categorical, pd.DataFrame, np.ndarray]:
    """Categories a, b, c over groups A, B, C; one value unknown, two patients without a level."""
    values = ["a", "a", "b", "c", "b", "b", "c", "a", "c", "c", None, "a", "b"]
    group = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, -1, -1], dtype=np.int64)
    spec = Categorical("x", "The X", ("a", "b", "c"), lambda frame: frame["x"].to_numpy(dtype=object))
    return spec, pd.DataFrame({"x": values}), group


@pytest.mark.parametrize("test_name", ["chi-square", "fisher-exact"])
def test_compare_categorical_counts_tests_and_intervals(test_name: str) -> None:
    from reportgen import stats

    spec, frame, group = _categorical_frame()
    comparison = compare_categorical(spec, frame, group, StudyOptions(categorical_test=test_name), THREE)
    counts = ((2, 0, 1), (1, 2, 0), (1, 1, 2))
    overall = (4, 4, 4)  # the two patients without a level too; the unknown value in none
    test = stats.compare_categorical(counts, ("a", "b", "c"), THREE, test_name)
    assert test.effect_size_name == "cramers-v" and test.effect_size is not None
    assert comparison == CategoricalComparison(
        variable="x",
        label="The X",
        categories=("a", "b", "c"),
        counts=counts,
        overall=overall,
        test=replace(test, effect_size_ci=estimates.bootstrap_cramers_v(counts)),
        proportion_cis=tuple(tuple(estimates.wilson_ci(count, total) for count, total in zip(row, (4, 3, 3))) for row in counts),
        overall_proportion_cis=tuple(estimates.wilson_ci(count, 12) for count in overall),
    )


def test_compare_categorical_of_one_category_has_no_effect_size_interval() -> None:
    spec = Categorical("x", "X", ("a", "b"), lambda frame: frame["x"].to_numpy(dtype=object))
    comparison = compare_categorical(spec, pd.DataFrame({"x": ["a"] * 4}), np.array([0, 1, 2, 2]), StudyOptions(), THREE)
    assert comparison.counts == ((1, 1, 2), (0, 0, 0)) and comparison.overall == (4, 0)
    assert comparison.test.p_value is None and comparison.test.effect_size_ci is None


def test_strata_count_patients_and_those_below_the_lloq_per_group() -> None:
    from reportgen.analysis import _strata
    from reportgen.model import Stratum

    group = np.array([0, 0, 1, -1, 3, 3, 3, 0, -1, 1])
    below = np.array([True, False, False, True, True, False, True, True, False, False])
    strata = _strata(group, (1.0, 2.5, 4.0), ("Q1", "Q2", "Q3", "Q4"), 8, below & (group >= 0))
    assert strata == (
        Stratum("Q1", None, 1.0, 3, 37.5, 2),
        Stratum("Q2", 1.0, 2.5, 2, 25.0, 0),
        Stratum("Q3", 2.5, 4.0, 0, 0.0, 0),
        Stratum("Q4", 4.0, None, 3, 37.5, 2),
    )
    # Empty last groups, none below the LLOQ: still one stratum per label.
    strata = _strata(np.array([0, 0, -1]), (1.0, 2.0), ("T1", "T2", "T3"), 2, np.zeros(3, dtype=bool))
    assert strata == (Stratum("T1", None, 1.0, 2, 100.0, 0), Stratum("T2", 1.0, 2.0, 0, 0.0, 0), Stratum("T3", 2.0, None, 0, 0.0, 0))


def _flow_patients() -> tuple[pd.DataFrame, np.ndarray]:
    """Twelve patients over groups A, B, C and an empty D (follow-up month 12); two without a level."""
    rows = [
        # (group, carried forward, follow-up visit month, withdrawal month, reason)
        (2, True, 3, 12.0, "inefficacy"),  # withdrawn at the follow-up month
        (0, False, 12, np.nan, None),  # reached follow-up
        (1, True, 6, 7.0, "moved"),
        (0, True, 6, 5.0, "adverse event"),
        (2, True, 3, 4.0, np.nan),  # withdrawn, no reason recorded
        (0, True, 6, 3.0, " adverse event "),
        (1, False, 11, np.nan, None),  # placed by the visit window
        (1, True, 9, np.nan, None),  # carried forward, never withdrew
        (1, True, 9, 14.0, "late"),  # withdrew after the follow-up month: not withdrawn
        (-1, True, 0, 2.0, "inefficacy"),  # no level: counted in overall only
        (2, True, 6, 7.0, "lost"),
        (-1, False, 12, np.nan, ""),
    ]
    frame = pd.DataFrame(rows, columns=["group", "carried_forward", "follow_up_visit_month", "withdrawal_month", "withdrawal_reason"])
    frame["withdrawal_reason"] = frame["withdrawal_reason"].astype(object)
    return frame.drop(columns="group"), frame["group"].to_numpy(dtype=np.int64)


def test_withdrawn_and_placed_by_window_per_patient() -> None:
    from reportgen.analysis import placed_by_window, withdrawn_before_follow_up

    patients, _ = _flow_patients()
    withdrawn = [True, False, True, True, True, True, False, False, False, True, True, False]
    assert withdrawn_before_follow_up(patients, 12).tolist() == withdrawn
    assert withdrawn_before_follow_up(patients, 11).tolist() == [False, *withdrawn[1:]]
    assert placed_by_window(patients, 12).tolist() == [False] * 6 + [True] + [False] * 5
    assert placed_by_window(patients, 11).tolist() == [False, True] + [False] * 4 + [False] * 5 + [True]


def test_patient_flow_counts_per_group_and_orders_the_reasons() -> None:
    """Per group: analysed = reached + carried forward + placed; reasons by count, then alphabetically (not
    in the order met), 'not recorded' last; a patient without a level counts in overall only."""
    from reportgen.analysis import patient_flow
    from reportgen.model import Flow, FlowGroup, WithdrawalReason

    patients, membership = _flow_patients()
    flow = patient_flow(patients, membership, ("A", "B", "C", "D"), 12)
    assert flow == Flow(
        included=12,
        no_level=2,
        analysed=10,
        follow_up_month=12,
        groups=(
            FlowGroup("A", analysed=3, reached_follow_up=1, carried_forward=2, withdrawn=2, placed_by_window=0),
            FlowGroup("B", analysed=4, reached_follow_up=0, carried_forward=3, withdrawn=1, placed_by_window=1),
            FlowGroup("C", analysed=3, reached_follow_up=0, carried_forward=3, withdrawn=3, placed_by_window=0),
            FlowGroup("D", analysed=0, reached_follow_up=0, carried_forward=0, withdrawn=0, placed_by_window=0),
        ),
        withdrawals=(
            WithdrawalReason("adverse event", (2, 0, 0, 0), 2),
            WithdrawalReason("inefficacy", (0, 0, 1, 0), 2),
            WithdrawalReason("lost", (0, 0, 1, 0), 1),
            WithdrawalReason("moved", (0, 1, 0, 0), 1),
            WithdrawalReason(None, (0, 0, 1, 0), 1),
        ),
    )


def test_patient_flow_without_withdrawals_and_at_another_month() -> None:
    from reportgen.analysis import patient_flow
    from reportgen.model import WithdrawalReason

    patients, membership = _flow_patients()
    flow = patient_flow(patients, membership, ("A", "B", "C", "D"), 2)
    assert [(g.withdrawn, g.placed_by_window, g.reached_follow_up) for g in flow.groups] == [(0, 1, 0), (0, 1, 0), (0, 0, 0), (0, 0, 0)]
    assert flow.withdrawals == (WithdrawalReason("inefficacy", (0, 0, 0, 0), 1),)
    assert flow.follow_up_month == 2


def test_carried_forward_patients_with_their_month_and_reason() -> None:
    from reportgen.analysis import _carried_forward
    from reportgen.model import CarriedForward

    patients, _ = _flow_patients()
    patients["patient_id"] = [f"P{i}" for i in range(len(patients))]
    assert _carried_forward(patients) == (
        CarriedForward("P0", 3, "inefficacy"),
        CarriedForward("P2", 6, "moved"),
        CarriedForward("P3", 6, "adverse event"),
        CarriedForward("P4", 3, None),
        CarriedForward("P5", 6, "adverse event"),
        CarriedForward("P7", 9, None),
        CarriedForward("P8", 9, "late"),
        CarriedForward("P9", 0, "inefficacy"),
        CarriedForward("P10", 6, "lost"),
    )
    assert _carried_forward(patients[~patients["carried_forward"]]) == ()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("inefficacy", "inefficacy"), ("  moved away ", "moved away"), ("", None), ("   ", None), (None, None), (np.nan, None), (3, "3")],
)
def test_recorded_reason(value: object, expected: str | None) -> None:
    from reportgen.analysis import recorded_reason

    assert recorded_reason(value) == expected


def test_describe_adds_the_mean_and_median_intervals() -> None:
    from reportgen import stats
    from reportgen.analysis import describe

    values = np.array([4.0, np.nan, 1.0, 7.0, 2.0, 9.0, 5.0])
    summary = describe(values)
    assert summary == replace(stats.describe(values), mean_ci=estimates.mean_ci(values), median_ci=estimates.median_ci(values))
    assert summary.n == 6 and summary.mean_ci.lower is not None and summary.median_ci.lower == 1.0


def test_missing_counts_are_the_included_patients_without_a_value() -> None:
    from reportgen.analysis import compare_continuous, missing_counts

    frame, group, level = _continuous_frame()
    continuous = compare_continuous(Continuous("x", "x", "X", ""), frame, group, level, StudyOptions(), False, THREE)
    spec, categorical_frame, categorical_group = _categorical_frame()
    categorical = compare_categorical(spec, categorical_frame, categorical_group, StudyOptions(), THREE)
    assert missing_counts((continuous, categorical), 20) == (("x", 7), ("x", 8))
    assert missing_counts((), 20) == ()


def test_measures_have_their_labels_units_and_columns() -> None:
    """``_measure`` builds TABLE_1 and OUTCOMES when the module is imported."""
    by_variable = {spec.variable: spec for spec in OUTCOMES}
    assert by_variable["esr_mm_h"] == Continuous("esr_mm_h", "esr_mm_h", "ESR", "mm/h")
    assert by_variable["delta_das28"] == Continuous("delta_das28", "delta_das28", "ΔDAS28-ESR (baseline − follow-up)", "")
    baseline = {spec.variable: spec for spec in TABLE_1}
    assert baseline["crp_mg_l"] == Continuous("crp_mg_l", "crp_mg_l_baseline", "CRP", "mg/L")


def test_group_edges_of_given_cut_points_and_of_the_data() -> None:
    from reportgen.analysis import group_edges

    levels = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    plan, edges, quantiles = group_edges(levels, StudyOptions(cut_points=(2.5, 10.0)))
    assert (plan.groups, edges, quantiles) == (3, (2.5, 10.0), tuple(np.percentile(levels, [100 / 3, 200 / 3])))
    plan, edges, quantiles = group_edges(levels, StudyOptions(grouping="halves"))
    assert (plan.groups, edges, quantiles) == (2, (3.0,), (3.0,))
    with pytest.raises(AnalysisError, match=r"^cannot form the groups: "):
        group_edges(levels, StudyOptions(grouping="sextiles"))
    with pytest.raises(AnalysisError, match=r"^cannot form 5 quintiles: the 20th, 40th, 60th and 80th percentiles .* \(1\.0, 1\.0, 1\.0, 1\.0\); "):
        group_edges(np.array([1.0] * 9 + [5.0]), StudyOptions(grouping="quintiles"))


def test_an_undefined_effect_size_gets_no_bootstrap_interval() -> None:
    """ANOVA of values near 1e200: the sums of squares overflow, eta-squared is undefined (None), and no interval
    is bootstrapped for it (None, not an interval without bounds)."""
    from reportgen.analysis import compare_continuous

    frame = pd.DataFrame({"x": [1e200, 2e200, 3e200, 5e200, 6e200, 7e200]})
    with np.errstate(all="ignore"):
        comparison = compare_continuous(
            Continuous("x", "x", "X", ""), frame, np.array([0, 0, 0, 1, 1, 1]), np.arange(6.0), StudyOptions(continuous_test="anova"), True, ("A", "B")
        )
    assert comparison.test.effect_size_name == "eta-squared" and comparison.test.effect_size is None
    assert comparison.test.effect_size_ci is None

# --- found by mutation testing, sixth pass (analysis, part 1): analyse, the primary outcome, Holm, the sensitivity
# analyses and their helpers, the adjusted estimate and its covariate terms (docs/mutation-testing.md) -----------


from reportgen import analysis, regression, stats  # noqa: E402
from reportgen.model import (  # noqa: E402
    ConfidenceInterval,
    Sensitivity,
    SensitivityName,
    Shift,
    Summary,
)
from reportgen.model import TestName as _TestName  # noqa: E402  (not "Test...": pytest would collect it)
from reportgen.model import TestResult as _TestResult  # noqa: E402


def _tested(p_value: float | None, test: str = "kruskal-wallis") -> _TestResult:
    return _TestResult(test=_TestName(test), statistic=None if p_value is None else 1.0, p_value=p_value)


def _continuous(p_value: float | None, variable: str = "das28_esr", sizes: tuple[int, ...] = (3, 2), difference: Shift | None = None):  # type: ignore[no-untyped-def]
    return ContinuousComparison(
        variable=variable, label=f"label of {variable}", unit="", groups=tuple(Summary(n=n) for n in sizes),
        overall=Summary(n=sum(sizes)), test=_tested(p_value), difference=difference,
    )  # fmt: skip


def test_primary_outcome_is_the_named_outcome_and_an_unknown_one_lists_them_all() -> None:
    assert analysis.primary_outcome(StudyOptions(primary_outcome="cdai")) == analysis.Continuous("cdai", "cdai", "CDAI", "")
    assert analysis.primary_outcome(StudyOptions()).variable == "das28_esr"
    with pytest.raises(AnalysisError) as raised:
        analysis.primary_outcome(StudyOptions(primary_outcome="eular"))
    assert str(raised.value) == (
        "primary_outcome 'eular' is not an outcome; the outcomes are: das28_esr, das28_crp, cdai, sdai, sjc28, tjc28, "
        "esr_mm_h, crp_mg_l, delta_das28"
    )


def test_holm_adjusted_leaves_out_tests_without_a_p_value() -> None:
    # Holm over 0.01, 0.04, 0.03 (by hand): 3 x 0.01 = 0.03, 2 x 0.03 = 0.06, max(0.06, 1 x 0.04) = 0.06.
    outcomes = tuple(_continuous(p, variable=f"v{i}") for i, p in enumerate([0.01, None, 0.04, 0.03]))
    adjusted = analysis.holm_adjusted(outcomes)
    assert [o.variable for o in adjusted] == ["v0", "v1", "v2", "v3"]
    assert [o.p_holm for o in adjusted] == [pytest.approx(0.03), None, pytest.approx(0.06), pytest.approx(0.06)]
    assert [replace(o, p_holm=None) for o in adjusted] == list(outcomes)
    assert [o.p_holm for o in analysis.holm_adjusted((_continuous(None), _continuous(None)))] == [None, None]
    assert analysis.holm_adjusted(()) == ()


EULAR_CATEGORIES = list(EULAR_RESPONSES)  # reportgen.indices, the categories' one home


def _response_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "das28_esr": [3.0, np.nan, 4.0, 5.0, 2.5],
            "das28_esr_baseline": [5.5, 6.0, np.nan, 6.5, 4.0],
            "delta_das28": [2.5, np.nan, np.nan, 1.5, 1.5],
            "eular_response": pd.Categorical(["good", "moderate", None, "good", "none"], categories=EULAR_CATEGORIES, ordered=True),
        }
    )


def test_non_responders_carry_the_baseline_or_no_change_and_get_no_response() -> None:
    patients = _response_frame()
    stopped = np.array([True, True, True, False, False])
    das28 = analysis._non_responders(patients, analysis.OUTCOMES[0], stopped)
    assert list(das28.columns) == ["das28_esr", "eular_response"]
    np.testing.assert_array_equal(das28["das28_esr"].to_numpy(), [5.5, 6.0, np.nan, 5.0, 2.5])
    assert das28["das28_esr"].dtype == np.float64
    assert das28["eular_response"].tolist() == ["none", "none", "none", "good", "none"]
    delta = analysis._non_responders(patients, analysis.OUTCOMES[-1], stopped)
    np.testing.assert_array_equal(delta["delta_das28"].to_numpy(), [0.0, 0.0, 0.0, 1.5, 1.5])
    assert delta["eular_response"].tolist() == ["none", "none", "none", "good", "none"]
    # A response left as it is keeps being unknown.
    kept = analysis._non_responders(patients, analysis.OUTCOMES[0], np.zeros(5, dtype=bool))
    assert kept["eular_response"].tolist()[:2] == ["good", "moderate"] and pd.isna(kept["eular_response"][2])
    np.testing.assert_array_equal(patients["das28_esr"].to_numpy(), [3.0, np.nan, 4.0, 5.0, 2.5])  # not written into


def test_sample_quantile_groups_are_the_analysed_levels_own_and_none_when_they_coincide() -> None:
    level = np.array([0.1, np.nan, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
    # Quartiles of the eight levels (by hand, type 7): 0.275, 0.45, 0.625.
    groups = analysis._sample_quantile_groups(level, 4)
    assert groups is not None and groups.tolist() == [0, -1, 0, 1, 1, 2, 2, 3, 3]
    assert analysis._sample_quantile_groups(level, 2).tolist() == [0, -1, 0, 0, 0, 1, 1, 1, 1]
    assert analysis._sample_quantile_groups(np.array([1.0, 1.0, 1.0, 1.0, 2.0, np.nan]), 4) is None  # 1, 1, 1: coincide
    assert analysis._sample_quantile_groups(np.array([1.0, 1.0, 2.0, np.nan]), 2).tolist() == [0, 0, 1, -1]  # one edge


def test_a_sensitivity_test_not_formed_says_why() -> None:
    result = analysis._not_formed("chi-square", "no groups")
    assert result == _TestResult(
        test=_TestName.CHI_SQUARE, statistic=None, p_value=None, decision="chi-square not computed: no groups.", not_tested="no groups"
    )
    assert type(result.test) is _TestName


def test_shift_compares_the_highest_group_with_the_lowest() -> None:
    frame = pd.DataFrame({"das28_esr": [1.0, 2.0, 10.0, 20.0, 100.0, 200.0, np.nan, 7.0]})
    groups = np.array([0, 0, 1, 1, 2, 2, 2, -1])
    estimate, ci = analysis._shift(analysis.OUTCOMES[0], frame, groups, 3)
    # Differences of {100, 200} and {1, 2}: 98, 99, 198, 199; their median is 148.5.
    assert estimate == 148.5
    assert (estimate, ci) == estimates.hodges_lehmann([100.0, 200.0], [1.0, 2.0])


def test_primary_shift_is_taken_only_for_the_primary_analysis_own_groups() -> None:
    interval = ConfidenceInterval(level=0.95, method="exact", lower=1.0, upper=2.0)
    labels = ("G1", "G2", "G3")
    frame = pd.DataFrame({"das28_esr": [1.0, 2.0, np.nan, 3.0, 4.0, 5.0, 6.0, np.nan]})
    groups = np.array([0, 0, 0, 1, 2, 2, 2, -1])  # known values: G1 2 (one unknown), G2 1, G3 3
    spec = analysis.OUTCOMES[0]
    primary = _continuous(0.01, sizes=(2, 1, 3), difference=Shift(high="G3", low="G1", estimate=1.5, ci=interval))
    assert analysis._primary_shift(primary, labels, frame, spec, groups) == (1.5, interval)
    # Anything else: other sizes of the highest or the lowest group, other labels, another number of groups, no shift.
    assert analysis._primary_shift(replace(primary, groups=(Summary(n=2), Summary(n=1), Summary(n=4))), labels, frame, spec, groups) is None
    assert analysis._primary_shift(replace(primary, groups=(Summary(n=3), Summary(n=1), Summary(n=3))), labels, frame, spec, groups) is None
    assert analysis._primary_shift(primary, ("G1", "G2", "G4"), frame, spec, groups) is None
    assert analysis._primary_shift(primary, ("G0", "G2", "G3"), frame, spec, groups) is None
    assert analysis._primary_shift(primary, ("G1", "G3"), frame, spec, np.minimum(groups, 1)) is None
    assert analysis._primary_shift(replace(primary, difference=None), labels, frame, spec, groups) is None
    # The same groups but the middle one's size, which the shift does not use: still the primary's.
    assert analysis._primary_shift(replace(primary, groups=(Summary(n=2), Summary(n=9), Summary(n=3))), labels, frame, spec, groups) == (1.5, interval)
    # Two groups whose labels are those of the shift's: the sizes decide (G1 and G2 here: 2 and 1).
    two = _continuous(0.01, sizes=(2, 1), difference=Shift(high="G2", low="G1", estimate=0.5, ci=interval))
    assert analysis._primary_shift(two, ("G1", "G2"), frame, spec, np.minimum(groups, 1)) is None  # G2 has 4 known
    assert analysis._primary_shift(replace(two, groups=(Summary(n=2), Summary(n=4))), ("G1", "G2"), frame, spec, np.minimum(groups, 1)) == (0.5, interval)


def test_good_response_difference_is_the_highest_group_minus_the_lowest() -> None:
    frame = pd.DataFrame(
        {
            "eular_response": pd.Categorical(
                ["good", "none", None, "good", "good", "good", "moderate", None, "good", "good"], categories=EULAR_CATEGORIES, ordered=True
            )
        }
    )
    groups = np.array([0, 0, 0, 0, 1, 2, 2, 2, 2, -1])
    # Highest group (2): 2 good of 3 known; lowest (0): 2 good of 3 known.
    assert analysis._good_response_difference(frame, groups, 3) == estimates.newcombe_difference(2, 3, 2, 3)
    # Two groups: the highest is group 1, one good of one.
    assert analysis._good_response_difference(frame, groups, 2) == estimates.newcombe_difference(1, 1, 2, 3)
    frame.loc[0, "eular_response"] = "moderate"
    assert analysis._good_response_difference(frame, groups, 3) == estimates.newcombe_difference(2, 3, 1, 3)
    estimate, _ = analysis._good_response_difference(frame, groups, 3)
    assert estimate == pytest.approx(1 / 3)


def test_sensitivity_row_counts_its_patients_and_says_when_the_conclusion_changes() -> None:
    interval = ConfidenceInterval(level=0.95, method="newcombe", lower=-0.1, upper=0.5)
    continuous = _continuous(0.05, sizes=(3, 0, 4))
    row = analysis._sensitivity_row(SensitivityName.COMPLETERS, continuous, None, (0.2, interval))
    assert row == Sensitivity(
        SensitivityName.COMPLETERS, "das28_esr", "label of das28_esr", 7, continuous.test, conclusion_changes=False, estimate=0.2, ci=interval
    )
    categorical = CategoricalComparison(
        variable="eular_response", label="EULAR response", categories=("none", "good"), counts=((1, 2), (3, 4)), overall=(3, 7), test=_tested(0.01, "chi-square")
    )  # fmt: skip
    row = analysis._sensitivity_row(SensitivityName.NRI, categorical, None, (None, interval))
    assert (row.analysis, row.outcome, row.label, row.n, row.test, row.estimate, row.ci) == (
        SensitivityName.NRI, "eular_response", "EULAR response", 10, categorical.test, None, interval
    )  # fmt: skip

    def changes(p: float | None, locf_p: float | None) -> bool:
        locf = Sensitivity(SensitivityName.LOCF, "das28_esr", "", 7, _tested(locf_p))
        return analysis._sensitivity_row(SensitivityName.NRI, _continuous(p), locf, (None, interval)).conclusion_changes

    # p = 0.05 exactly is not significant (p < ALPHA), on either side.
    assert changes(0.05, 0.04) and changes(0.04, 0.05) and changes(0.2, 0.01) and changes(0.01, 0.2)
    assert not changes(0.05, 0.06) and not changes(0.06, 0.05) and not changes(0.01, 0.02) and not changes(0.3, 0.5)
    assert not changes(None, 0.01) and not changes(0.01, None) and not changes(None, None)
    assert analysis._sensitivity_row(SensitivityName.LOCF, _continuous(0.01), None, (None, interval)).conclusion_changes is False


def test_covariate_labels() -> None:
    assert analysis._covariate_label("age_years") == "Age"
    assert analysis._covariate_label("das28_esr") == "DAS28-ESR"  # a baseline measure of Table 1
    assert analysis._covariate_label("das28_crp") == "DAS28-CRP"  # an outcome only
    assert analysis._covariate_label("patient_global_mm") == "Patient global assessment"
    assert analysis._covariate_label("rf_positive") == "RF positive"  # categorical: Table 1's label
    assert analysis._covariate_label("sex") == "Female"
    assert analysis._covariate_label("unknown_column") == "unknown_column"


def _covariate_patients() -> pd.DataFrame:
    """Patients with the contract's types: str sex, nullable boolean RF, bool MTX, int64 counts, float64 measures."""
    return pd.DataFrame(
        {
            "sex": pd.Series(["F", "M", "F", None, "M", "F", "M", "F", "M", "F"], dtype="str"),
            "age_years": [50.0, 61.0, 45.0, 70.0, 38.0, 55.0, 66.0, 59.0, 48.0, np.nan],
            "rf_positive": pd.array([True, False, None, True, True, False, False, True, True, False], dtype="boolean"),
            "concomitant_mtx": np.array([True, True, False, True, False, False, True, True, False, True]),
            "prior_biologics": np.array([0, 1, 2, 0, 3, 1, 0, 2, 1, 1], dtype=np.int64),
            "esr_mm_h_baseline": [30.0, 12.0, 45.0, 8.0, 0.0, 22.0, 51.0, 17.0, 26.0, 33.0],
            "esr_mm_h": [20.0, 10.0, 30.0, 9.0, 5.0, 18.0, 40.0, 11.0, 21.0, 25.0],
            "patient_global_mm_baseline": [60.0, 40.0, 70.0, 30.0, 55.0, 45.0, 80.0, 50.0, 65.0, 35.0],
            "patient_global_mm": [40.0, 30.0, 50.0, 35.0, 20.0, 30.0, 60.0, 25.0, 45.0, 30.0],
            "das28_esr_baseline": [5.1, 4.2, 6.0, 3.9, 4.8, 5.5, 6.3, 4.4, 5.0, 5.9],
            "das28_esr": [3.2, 3.0, 4.9, 3.5, 2.4, 3.8, 5.1, 2.9, 3.1, 4.0],
            "delta_das28": [1.9, 1.2, 1.1, 0.4, 2.4, 1.7, 1.2, 1.5, 1.9, 1.9],
        }
    )


def _term(name: str, values, logged: bool = False) -> tuple[str, list[float], bool]:  # type: ignore[no-untyped-def]
    return name, list(np.asarray(values, dtype=float)), logged


def _as_tuple(term: regression.Term) -> tuple[str, list[float], bool]:
    assert isinstance(term.values, np.ndarray), term
    return term.name, list(term.values), term.logged


@pytest.mark.parametrize(
    "name, expected, label",
    [
        ("sex", _term("sex", [1, 0, 1, np.nan, 0, 1, 0, 1, 0, 1]), "sex (female = 1)"),
        ("rf_positive", _term("rf_positive", [1, 0, np.nan, 1, 1, 0, 0, 1, 1, 0]), "RF positive (yes = 1)"),
        ("concomitant_mtx", _term("concomitant_mtx", [1, 1, 0, 1, 0, 0, 1, 1, 0, 1]), "concomitant methotrexate (yes = 1)"),
        ("age_years", _term("age_years", [50, 61, 45, 70, 38, 55, 66, 59, 48, np.nan]), "age"),
        ("prior_biologics", _term("prior_biologics", [0, 1, 2, 0, 3, 1, 0, 2, 1, 1]), "prior biologics"),
        ("ln(age_years)", _term("ln(age_years)", [50, 61, 45, 70, 38, 55, 66, 59, 48, np.nan], logged=True), "ln age"),
        ("esr_mm_h", _term("esr_mm_h_baseline", [30, 12, 45, 8, 0, 22, 51, 17, 26, 33]), "baseline ESR"),
        ("ln(esr_mm_h)", _term("ln(esr_mm_h_baseline)", [30, 12, 45, 8, 0, 22, 51, 17, 26, 33], logged=True), "ln baseline ESR"),
        ("patient_global_mm", _term("patient_global_mm_baseline", [60, 40, 70, 30, 55, 45, 80, 50, 65, 35]), "baseline patient global assessment"),
        ("ln(patient_global_mm)", _term("ln(patient_global_mm_baseline)", [60, 40, 70, 30, 55, 45, 80, 50, 65, 35], logged=True),
         "ln baseline patient global assessment"),
        ("das28_esr", _term("das28_esr_baseline", [5.1, 4.2, 6.0, 3.9, 4.8, 5.5, 6.3, 4.4, 5.0, 5.9]), "baseline DAS28-ESR"),
    ],
)  # fmt: skip
def test_covariate_terms_are_coded_and_labelled_as_documented(name: str, expected, label: str) -> None:  # type: ignore[no-untyped-def]
    patients = _covariate_patients()
    term, words = analysis._covariate_term(name, patients)
    got = _as_tuple(term)
    assert (got[0], got[2], words) == (expected[0], expected[2], label)
    np.testing.assert_array_equal(got[1], expected[1])


ADJUSTED_LEVEL = np.array([2.0, 4.0, 8.0, 3.5, 3.0, 6.0, 12.0, np.nan, 0.0, 1.5])


def test_adjusted_estimate_fits_the_outcome_on_its_baseline_and_the_study_covariates() -> None:
    patients = _covariate_patients()
    study = StudyOptions(adjust_for=("ln(esr_mm_h)", "sex", "das28_esr"))
    estimate = analysis.adjusted_estimate(analysis.OUTCOMES[0], patients, ADJUSTED_LEVEL, study)
    # das28_esr is the outcome's own baseline: in the model once.
    assert estimate.covariates == ("das28_esr_baseline", "ln(esr_mm_h_baseline)", "sex")
    assert estimate.covariate_labels == ("baseline DAS28-ESR", "ln baseline ESR", "sex (female = 1)")
    # Left out: patient 8 (level 0), 4 (ESR 0 cannot be logged), 3 (sex unknown), 7 (no level: not counted).
    assert (estimate.level_not_positive, estimate.covariate_not_positive, estimate.incomplete) == (1, 1, 1)
    used = [0, 1, 2, 5, 6, 9]
    assert (estimate.n, estimate.df, estimate.not_estimated) == (6, 1, "")
    design = np.column_stack(
        [np.ones(6), np.log2(ADJUSTED_LEVEL[used]), patients["das28_esr_baseline"][used], np.log(patients["esr_mm_h_baseline"][used]),
         [1.0, 0.0, 1.0, 1.0, 0.0, 1.0]]
    )  # fmt: skip
    y = patients["das28_esr"].to_numpy()[used]
    beta, rss, *_ = np.linalg.lstsq(design, y, rcond=None)
    se = math.sqrt(rss[0] / 1 * np.linalg.inv(design.T @ design)[1, 1])
    t = sps.t.ppf(0.975, 1)
    assert estimate.beta == pytest.approx(beta[1], rel=1e-9) and estimate.standard_error == pytest.approx(se, rel=1e-9)
    assert estimate.p_value == pytest.approx(2 * sps.t.sf(abs(beta[1] / se), 1), rel=1e-9)
    assert (estimate.ci.level, estimate.ci.method) == (0.95, "ols-t")
    assert (estimate.ci.lower, estimate.ci.upper) == (pytest.approx(beta[1] - t * se, rel=1e-9), pytest.approx(beta[1] + t * se, rel=1e-9))


def test_adjusted_estimate_of_the_change_uses_the_das28_baseline_and_of_esr_its_own() -> None:
    patients = _covariate_patients()
    delta = analysis.adjusted_estimate(analysis.OUTCOMES[-1], patients, ADJUSTED_LEVEL, StudyOptions())
    assert (delta.covariates, delta.covariate_labels) == (("das28_esr_baseline",), ("baseline DAS28-ESR",))
    assert (delta.n, delta.df, delta.level_not_positive, delta.incomplete) == (8, 5, 1, 0)
    used = ~np.isnan(ADJUSTED_LEVEL) & (ADJUSTED_LEVEL > 0)
    design = np.column_stack([np.ones(8), np.log2(ADJUSTED_LEVEL[used]), patients["das28_esr_baseline"][used]])
    beta = np.linalg.lstsq(design, patients["delta_das28"][used], rcond=None)[0]
    assert delta.beta == pytest.approx(beta[1], rel=1e-9)
    esr = analysis.adjusted_estimate(analysis.OUTCOMES[6], patients, ADJUSTED_LEVEL, StudyOptions(adjust_for=("ln(esr_mm_h)", "esr_mm_h")))
    assert esr.covariates == ("esr_mm_h_baseline", "ln(esr_mm_h_baseline)")
    assert esr.covariate_labels == ("baseline ESR", "ln baseline ESR")


def test_adjusted_estimate_not_estimated_keeps_its_reason_and_counts() -> None:
    patients = _covariate_patients()
    level = np.where(np.arange(10) < 3, ADJUSTED_LEVEL, np.nan)
    level[2] = -1.0
    estimate = analysis.adjusted_estimate(analysis.OUTCOMES[0], patients, level, StudyOptions(adjust_for=("age_years",)))
    fit = regression.adjusted_association(
        patients["das28_esr"].to_numpy(), level,
        [regression.Term("das28_esr_baseline", patients["das28_esr_baseline"].to_numpy()), regression.Term("age_years", patients["age_years"].to_numpy())],
        0.95,
    )  # fmt: skip
    assert fit.not_estimated != "" and fit.beta is None
    assert (estimate.beta, estimate.p_value, estimate.ci.lower, estimate.ci.upper) == (None, None, None, None)
    assert (estimate.n, estimate.level_not_positive, estimate.not_estimated) == (2, 1, fit.not_estimated)


def _small_derived() -> Derived:
    """12 patients with a level, three per quartile (quartiles 2.75, 6, 12.75), the first of every three seen at
    month 9 (within a 3-month window), P1 withdrawn at month 5 (carried forward from month 3), N without a level;
    levels below the LLOQ for P0, P1, P4 and N, anti-drug antibodies for all but P2 and N."""
    study = StudyOptions(visit_window_months=3)
    rows = []
    for i, level in enumerate([0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 7.0, 9.0, 12.0, 15.0, 20.0, 30.0]):
        month = 3 if i == 1 else 9 if i % 3 == 0 else 12
        rows += [visit(f"P{i}", 0), visit(f"P{i}", month, trough_level=level, tjc28=(5 * i) % 7, sjc28=(3 * i) % 5, esr_mm_h=10.0 + 3 * i)]
    rows += [visit("N", 0), visit("N", 12)]
    derived = derive(make_cohort(rows, patients=[{"patient_id": "P1", "withdrawal_month": 5.0, "withdrawal_reason": "adverse event"}], study=study))
    patients = derived.patients.copy()
    ids = patients["patient_id"].tolist()
    assert ids == [f"P{i}" for i in range(12)] + ["N"]
    patients["trough_below_lloq"] = patients["patient_id"].isin(["P0", "P1", "P4", "N"]).to_numpy()
    patients["anti_drug_antibodies"] = pd.Series(
        ["positive", "negative", None, "positive", "negative", "negative", "positive", "negative", "negative", "negative", "positive", "negative", None],
        dtype=object,
    )  # fmt: skip
    return replace(derived, patients=patients)


def test_analyse_counts_the_window_the_lloq_and_the_antibodies_and_shares_a_read_only_grouping() -> None:
    from reportgen.model import CohortCounts, Design

    derived = _small_derived()
    study = StudyOptions(visit_window_months=3)
    results = analysis.analyse(derived, study)
    membership = results.strata_membership
    assert membership.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, -1]
    assert not membership.flags.writeable
    assert results.cohort == CohortCounts(
        n_included=13, n_analysed=12, n_locf=1, n_no_level=1, follow_up_month=12, n_placed_by_window=4, n_below_lloq=3
    )
    assert [(s.n, s.n_below_lloq) for s in results.strata] == [(3, 2), (3, 1), (3, 0), (3, 0)]
    assert results.design == Design(grouping="quartiles", cut_points_key=None, sample_quantiles=(2.75, 6.0, 12.75))
    assert results.cutpoints == (2.75, 6.0, 12.75) and not results.cutpoints_given and results.study == study
    labels = ("Q1", "Q2", "Q3", "Q4")
    eular = results.eular_response
    assert eular.trend is not None and eular.trend == stats.linear_by_linear(eular.counts, eular.categories, labels)
    patients = derived.patients
    assert results.activity_categories == tuple(analysis.compare_categorical(spec, patients, membership, study, labels) for spec in analysis.ACTIVITY)
    assert [(c.patient_id, c.from_month, c.withdrawal_reason) for c in results.carried_forward] == [("P1", 3, "adverse event")]
    level = patients["trough_level"].to_numpy()
    assert [o.adjusted for o in results.outcomes] == [analysis.adjusted_estimate(spec, patients, level, study) for spec in analysis.OUTCOMES]
    assert results.outcomes[0].adjusted.covariates == ("das28_esr_baseline",)
    antibodies = results.anti_drug_antibodies
    assert antibodies is not None and antibodies.variable == "anti_drug_antibodies"
    assert (antibodies.counts, antibodies.overall) == (((1, 1, 1, 1), (1, 2, 2, 2)), (4, 7))
    assert antibodies == analysis.compare_categorical(analysis.ANTIBODIES, derived.patients, membership, study, ("Q1", "Q2", "Q3", "Q4"))
    assert results.missing == analysis.missing_counts((*results.baseline, antibodies), 13)
    assert results.missing[-1] == ("anti_drug_antibodies", 2) and results.missing[0] == ("age_years", 0)
    assert results.flow == analysis.patient_flow(derived.patients, membership, ("Q1", "Q2", "Q3", "Q4"), 12)
    assert (results.flow.withdrawn, results.flow.groups[0].placed_by_window, results.flow.groups[0].carried_forward) == (1, 1, 1)
    assert [(w.reason, w.counts, w.overall) for w in results.flow.withdrawals] == [("adverse event", (1, 0, 0, 0), 1)]

    # Without the LLOQ flag and the antibodies (a workbook without them): none below, no antibodies row.
    plain = replace(derived, patients=derived.patients.drop(columns=["trough_below_lloq", "anti_drug_antibodies"]))
    without = analysis.analyse(plain, study)
    assert without.cohort == replace(results.cohort, n_below_lloq=0)
    assert [(s.n, s.n_below_lloq) for s in without.strata] == [(3, 0)] * 4
    assert without.anti_drug_antibodies is None and without.missing == results.missing[:-1]
    assert (without.outcomes, without.baseline, without.flow) == (results.outcomes, results.baseline, results.flow)


def test_sensitivity_rows_of_a_small_cohort() -> None:
    """Completers leave out P1 (carried forward, Q1); the non-responder imputation gives P1 its baseline DAS28 and
    EULAR response none; the rows' tests are the omnibus tests only (no effect-size interval: not bootstrapped)."""
    derived = _small_derived()
    study = StudyOptions(visit_window_months=3)
    results = analysis.analyse(derived, study)
    patients = derived.patients
    assert [(row.analysis, row.outcome) for row in results.sensitivity] == [
        (name, outcome) for name in ("locf", "completers", "nri") for outcome in ("das28_esr", "eular_response")
    ]
    rows = {(row.analysis, row.outcome): row for row in results.sensitivity}
    labels = ("Q1", "Q2", "Q3", "Q4")
    level = patients["trough_level"].to_numpy()
    membership = results.strata_membership
    completers = np.where(patients["carried_forward"].to_numpy(), -1, membership)
    assert completers.tolist() == [0, -1, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, -1]
    spec = analysis.OUTCOMES[0]
    expected = analysis.compare_continuous(spec, patients, completers, level, study, beyond_omnibus=False, labels=labels)
    row = rows[("completers", "das28_esr")]
    assert row.test == expected.test and row.test.effect_size_ci is None and row.n == 11
    assert rows[("locf", "das28_esr")].test.effect_size_ci is not None  # the primary analysis's own test
    das28 = patients["das28_esr"].to_numpy()
    assert (row.estimate, row.ci) == estimates.hodges_lehmann(das28[9:12], das28[[0, 2]])
    nri = das28.copy()
    nri[1] = patients["das28_esr_baseline"][1]
    assert nri[1] != das28[1]
    row = rows[("nri", "das28_esr")]
    assert (row.estimate, row.ci) == estimates.hodges_lehmann(nri[9:12], nri[0:3]) != estimates.hodges_lehmann(das28[9:12], das28[0:3])
    assert row.test.effect_size_ci is None and row.n == 12
    response = patients["eular_response"].astype(object).to_numpy().copy()
    response[1] = "none"
    frame = pd.DataFrame({"eular_response": response})
    eular = rows[("nri", "eular_response")]
    assert eular.n == 12 and eular.test == analysis.compare_categorical(analysis.EULAR, frame, membership, study, labels).test
    good = response == "good"
    assert (eular.estimate, eular.ci) == estimates.newcombe_difference(int(good[9:12].sum()), 3, int(good[0:3].sum()), 3)
    locf = patients["eular_response"].astype(object).to_numpy() == "good"
    assert (rows[("locf", "eular_response")].estimate, rows[("locf", "eular_response")].ci) == estimates.newcombe_difference(
        int(locf[9:12].sum()), 3, int(locf[0:3].sum()), 3
    )
    assert eular.estimate is not None and rows[("locf", "eular_response")].estimate is not None


def test_sensitivity_rows_not_formed_when_the_own_quantiles_coincide() -> None:
    study = StudyOptions(cut_points=(1.0, 5.5, 6.5))
    cohort = _levels_cohort([0.0] * 8 + [5.0, 6.0, 7.0, 8.0], study)
    results = analysis.analyse(derive(cohort), study)
    assert (results.design.grouping, results.design.cut_points_key, results.cutpoints_given) == ("cut-points", "cut_points", True)
    reason = "the analysed patients' own quantiles coincide (many patients share one level)"
    quantiles = [row for row in results.sensitivity if row.analysis == "sample-quantiles"]
    assert quantiles == [
        Sensitivity(SensitivityName.SAMPLE_QUANTILES, "das28_esr", "DAS28-ESR", 0, analysis._not_formed("kruskal-wallis", reason)),
        Sensitivity(
            SensitivityName.SAMPLE_QUANTILES, "eular_response", "EULAR response", 0, analysis._not_formed(results.eular_response.test.test, reason)
        ),
    ]
    assert quantiles[1].test.decision == f"{results.eular_response.test.test} not computed: {reason}."


def test_each_sensitivity_row_is_compared_with_the_locf_row_of_its_own_outcome() -> None:
    derived = _small_derived()
    study = StudyOptions(visit_window_months=3)
    results = analysis.analyse(derived, study)
    primary, eular = results.outcomes[0], results.eular_response
    # LOCF p-values set by hand, one significant and one not, both ways round: each later row is compared with
    # the LOCF row of its own outcome.
    for das28_p, eular_p in ((0.01, 0.9), (0.9, 0.01)):
        changed = replace(
            results,
            outcomes=(replace(primary, test=replace(primary.test, p_value=das28_p)), *results.outcomes[1:]),
            eular_response=replace(eular, test=replace(eular.test, p_value=eular_p)),
        )
        rows = analysis.sensitivity_analyses(derived.patients, changed.strata_membership, changed, study)
        assert [row.test.p_value for row in rows[:2]] == [das28_p, eular_p]
        for row in rows[2:]:
            assert row.test.p_value is not None
            significant = row.test.p_value < 0.05
            assert row.conclusion_changes == (significant != ((das28_p if row.outcome == "das28_esr" else eular_p) < 0.05)), row
