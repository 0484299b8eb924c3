"""Analyse stage: trough-level groups, Table 1, outcomes at follow-up, activity categories, EULAR response.

``analyse(derived, study) -> Results`` is a pure function: no I/O, no number formatting. The
statistics themselves live in ``reportgen.stats``; this module decides what is compared with what.

Who is counted where:

- *included*: every patient of the cohort (one row of ``Derived.patients``); the "overall" column of
  every table and every ``overall`` summary is over included patients (with a known value).
- *analysed*: included patients with a trough level; only they are placed in groups, compared across
  groups, and correlated with the level.
- *withdrawn* (``Results.flow``): carried forward, with a ``withdrawal_month`` at or before the follow-up month;
  the flow diagram and the withdrawals table count them per stratum and reason (``patient_flow``).
- *missing* (``Results.missing``): per Table 1 variable, the included patients without a value; Table 1
  summarises the others (complete cases).

Groups (``reportgen.grouping``: quartiles by default, tertiles, quintiles, halves, or the study's cut
points): edges from the study's cut points when given, otherwise the sample quantiles of the analysed
patients' levels for that many groups (the 25th, 50th and 75th percentiles for quartiles; linear
interpolation, R type 7); intervals closed on the right, G1 <= e1 < G2 <= e2 < ... < Gk. Computed edges
that coincide stop the analysis (``AnalysisError``); given cut points outside the data leave groups empty.
The data's own sample quantiles are kept beside given cut points (``Results.design``).
Each patient is assigned once (``stats.group_index``) and the assignment travels in
``Results.strata_membership``: the figures draw the same groups the tables count, never their own.

Categorical variables list their categories in a fixed order; for the yes/no variables of Table 1 the
first category ("female", "positive", "yes") is the one reported as a percentage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from reportgen import estimates, grouping, lloq, regression, stats
from reportgen.contract import ADA_COLUMN
from reportgen.estimates import CI_LEVEL
from reportgen.indices import ACTIVITY_CATEGORIES, EULAR_RESPONSES
from reportgen.errors import AnalysisError
from reportgen.prose import mid_sentence
from reportgen.model import (
    ALPHA,
    CarriedForward,
    CategoricalComparison,
    AdjustedEstimate,
    CohortCounts,
    ConfidenceInterval,
    ContinuousComparison,
    IntervalMethod,
    Derived,
    Design,
    Flow,
    FlowGroup,
    PairwiseComparison,
    Results,
    Sensitivity,
    SensitivityName,
    Shift,
    StudyOptions,
    Stratum,
    Summary,
    TestName,
    TestResult,
    WithdrawalReason,
)

@dataclass(frozen=True)
class Continuous:
    """A continuous variable: its key in results, its column in ``Derived.patients``, label and unit."""

    variable: str
    column: str
    label: str
    unit: str


@dataclass(frozen=True)
class Categorical:
    """A categorical variable: categories in display order and how to read them from the patients."""

    variable: str
    label: str
    categories: tuple[str, ...]
    values: Callable[[pd.DataFrame], np.ndarray]  # one category (or None when unknown) per patient


def _yes_no(column: str, yes: str, no: str) -> Callable[[pd.DataFrame], np.ndarray]:
    def read(patients: pd.DataFrame) -> np.ndarray:
        flags = patients[column].astype("boolean")
        return np.where(flags.isna().to_numpy(), None, np.where(flags.fillna(False).to_numpy(dtype=bool), yes, no)).astype(object)

    return read


def _sex(patients: pd.DataFrame) -> np.ndarray:
    sex = patients["sex"].astype(object).to_numpy()
    return np.select([sex == "F", sex == "M"], ["female", "male"], default=None).astype(object)


def _category_column(column: str) -> Callable[[pd.DataFrame], np.ndarray]:
    def read(patients: pd.DataFrame) -> np.ndarray:
        return patients[column].astype(object).to_numpy()

    return read


# The disease-activity measures' labels and units, the same at baseline (Table 1) and at follow-up (Table 2).
MEASURE_LABELS: dict[str, tuple[str, str]] = {
    "das28_esr": ("DAS28-ESR", ""),
    "das28_crp": ("DAS28-CRP", ""),
    "cdai": ("CDAI", ""),
    "sdai": ("SDAI", ""),
    "sjc28": ("Swollen joint count (28)", ""),
    "tjc28": ("Tender joint count (28)", ""),
    "esr_mm_h": ("ESR", "mm/h"),
    "crp_mg_l": ("CRP", "mg/L"),
    "delta_das28": ("ΔDAS28-ESR (baseline − follow-up)", ""),
}


def _measure(variable: str, column: str) -> Continuous:
    label, unit = MEASURE_LABELS[variable]
    return Continuous(variable, column, label, unit)


TABLE_1: tuple[Continuous | Categorical, ...] = (
    Continuous("age_years", "age_years", "Age", "years"),
    Categorical("sex", "Female", ("female", "male"), _sex),
    Continuous("disease_duration_years", "disease_duration_years", "Disease duration", "years"),
    Categorical("rf_positive", "RF positive", ("positive", "negative"), _yes_no("rf_positive", "positive", "negative")),
    Categorical("acpa_positive", "ACPA positive", ("positive", "negative"), _yes_no("acpa_positive", "positive", "negative")),
    Continuous("prior_biologics", "prior_biologics", "Prior biologics", ""),
    Categorical("concomitant_mtx", "Concomitant methotrexate", ("yes", "no"), _yes_no("concomitant_mtx", "yes", "no")),
    *(_measure(variable, f"{variable}_baseline") for variable in ("das28_esr", "cdai", "sdai", "tjc28", "sjc28", "esr_mm_h", "crp_mg_l")),
)

OUTCOMES: tuple[Continuous, ...] = tuple(
    _measure(variable, variable)
    for variable in ("das28_esr", "das28_crp", "cdai", "sdai", "sjc28", "tjc28", "esr_mm_h", "crp_mg_l", "delta_das28")
)

ACTIVITY: tuple[Categorical, ...] = (
    Categorical("das28_esr_category", "DAS28-ESR disease activity", ACTIVITY_CATEGORIES, _category_column("das28_esr_category")),
    Categorical("cdai_category", "CDAI disease activity", ACTIVITY_CATEGORIES, _category_column("cdai_category")),
    Categorical("sdai_category", "SDAI disease activity", ACTIVITY_CATEGORIES, _category_column("sdai_category")),
)

# Anti-drug antibodies at the visit of the analysed level (derive.py): a Table 1 row when the workbook has them.
ANTIBODIES = Categorical(
    ADA_COLUMN, "Anti-drug antibodies positive at the level's visit", ("positive", "negative"), _category_column(ADA_COLUMN)
)

EULAR_COLUMN = "eular_response"
EULAR = Categorical("eular_response", "EULAR response", EULAR_RESPONSES, _category_column(EULAR_COLUMN))


def group_edges(levels: np.ndarray, study: StudyOptions) -> tuple[grouping.Plan, tuple[float, ...], tuple[float, ...]]:
    """The grouping in effect, its edges (the study's cut points, or the data's own sample quantiles) and the
    data's sample quantiles for the same number of groups; raises when computed edges coincide."""
    try:
        plan = grouping.plan(study)
    except grouping.GroupingError as error:
        raise AnalysisError(f"cannot form the groups: {error}") from None
    quantiles = stats.percentile_edges(levels, plan.groups)
    if plan.cut_points is not None:
        return plan, plan.cut_points, quantiles
    if any(b <= a for a, b in zip(quantiles, quantiles[1:])):
        percents = grouping.quantile_words(len(quantiles))
        shown = ", ".join(repr(edge) for edge in quantiles)
        raise AnalysisError(
            f"cannot form {plan.groups} {plan.grouping}: the {percents} of the trough level do not increase strictly "
            f"({shown}); this happens when many patients share one level (e.g. undetectable, or below the limit of "
            f"quantification). Give increasing "
            f"cut points in the study sheet instead, e.g. grouping = {grouping.CUT_POINTS} and "
            f"{grouping.CUT_POINTS_KEY} = '1; 6; 18.5'."
        )
    return plan, quantiles, quantiles


def _strata(
    group: np.ndarray, edges: tuple[float, ...], labels: tuple[str, ...], n_analysed: int, below_lloq: np.ndarray
) -> tuple[Stratum, ...]:
    lowers = (None, *edges)
    uppers = (*edges, None)
    sizes = np.bincount(group[group >= 0], minlength=len(labels))
    below = np.bincount(group[(group >= 0) & below_lloq], minlength=len(labels))
    return tuple(
        Stratum(label=label, lower=lower, upper=upper, n=int(size), percent=100.0 * int(size) / n_analysed, n_below_lloq=int(low))
        for label, lower, upper, size, low in zip(labels, lowers, uppers, sizes, below)
    )


def _by_group(values: np.ndarray, group: np.ndarray, k: int) -> list[np.ndarray]:
    return [values[group == i] for i in range(k)]


def describe(values: np.ndarray) -> Summary:
    """``stats.describe`` with the 95% intervals of the mean (t) and the median (order statistics)."""
    return replace(stats.describe(values), mean_ci=estimates.mean_ci(values), median_ci=estimates.median_ci(values))


def compare_continuous(
    spec: Continuous,
    patients: pd.DataFrame,
    group: np.ndarray,
    level: np.ndarray,
    study: StudyOptions,
    beyond_omnibus: bool,
    labels: tuple[str, ...],
) -> ContinuousComparison:
    """Descriptives per group (``labels``, lowest level first) and overall, the study's test, and (for outcomes)
    trend, Spearman and Dunn. ``group`` is each patient's group index, -1 when not analysed."""
    values = patients[spec.column].to_numpy(dtype=float, na_value=np.nan)
    groups = _by_group(values, group, len(labels))
    # One ranking of the analysed patients' values (in patient order) serves Kruskal-Wallis,
    # Jonckheere-Terpstra, Dunn and Spearman.
    analysed = group >= 0
    ranking = stats.rank_values(values[analysed], group[analysed], labels)
    test = stats.compare_continuous(groups, labels, study.continuous_test, ranking)
    trend = spearman = difference = None
    posthoc: tuple[PairwiseComparison, ...] = ()
    if beyond_omnibus:
        trend = stats.jonckheere_terpstra(groups, labels, ranking)
        # Analysed patients all have a level, so the complete pairs are those with a value: ranking.values.
        spearman = stats.spearman(level[analysed], values[analysed], y_ranks=ranking.ranks)
        spearman = replace(spearman, ci=estimates.spearman_ci(spearman.rho, spearman.n))
        if test.p_value is not None and test.p_value < ALPHA:
            posthoc = stats.dunn_holm(groups, labels, ranking)
        # The highest group relative to the lowest: Hodges-Lehmann shift with its Mann-Whitney interval.
        estimate, interval = estimates.hodges_lehmann(groups[-1], groups[0])
        difference = Shift(high=labels[-1], low=labels[0], estimate=estimate, ci=interval)
        if test.effect_size_name in ("epsilon-squared", "eta-squared") and test.effect_size is not None:
            test = replace(test, effect_size_ci=estimates.bootstrap_ci(test.effect_size_name, groups))
    return ContinuousComparison(
        variable=spec.variable,
        label=spec.label,
        unit=spec.unit,
        groups=tuple(describe(group) for group in groups),
        overall=describe(values),
        test=test,
        trend=trend,
        spearman=spearman,
        posthoc=posthoc,
        difference=difference,
    )


def compare_categorical(
    spec: Categorical, patients: pd.DataFrame, group: np.ndarray, study: StudyOptions, labels: tuple[str, ...]
) -> CategoricalComparison:
    """Counts[category][group] of analysed patients, overall counts of included patients, the study's test."""
    values = spec.values(patients)
    unknown = [value for value in pd.unique(values[pd.notna(values)]) if value not in spec.categories]
    if unknown:
        raise AnalysisError(f"{spec.variable} has values outside {spec.categories}: {unknown[:5]}")
    # One pass: category code (-1 unknown) and group (-1 not analysed) of each patient, counted together.
    codes = pd.Categorical(values, categories=list(spec.categories)).codes.astype(np.int64)
    known = codes >= 0
    n_categories = len(spec.categories)
    width = len(labels) + 1  # column 0: not analysed
    cells = np.bincount(codes[known] * width + (group[known] + 1), minlength=n_categories * width).reshape(n_categories, width)
    counts = tuple(tuple(int(cells[c, k + 1]) for k in range(len(labels))) for c in range(n_categories))
    overall = tuple(int(cells[c].sum()) for c in range(n_categories))
    test = stats.compare_categorical(counts, spec.categories, labels, study.categorical_test)
    if test.effect_size_name == "cramers-v" and test.effect_size is not None:
        test = replace(test, effect_size_ci=estimates.bootstrap_cramers_v(counts))
    totals = cells[:, 1:].sum(axis=0)
    return CategoricalComparison(
        variable=spec.variable,
        label=spec.label,
        categories=spec.categories,
        counts=counts,
        overall=overall,
        test=test,
        proportion_cis=tuple(
            tuple(estimates.wilson_ci(count, int(total)) for count, total in zip(row, totals)) for row in counts
        ),
        overall_proportion_cis=tuple(estimates.wilson_ci(count, sum(overall)) for count in overall),
    )


def recorded_reason(value: object) -> str | None:
    """A withdrawal reason as recorded, surrounding spaces removed; None when blank."""
    return None if pd.isna(value) or str(value).strip() == "" else str(value).strip()


def _carried_forward(patients: pd.DataFrame) -> tuple[CarriedForward, ...]:
    rows = patients[patients["carried_forward"].to_numpy(dtype=bool)]
    reasons = rows["withdrawal_reason"].astype(object).to_numpy()
    return tuple(
        CarriedForward(
            patient_id=str(patient_id),
            from_month=int(month),
            withdrawal_reason=recorded_reason(reason),
        )
        for patient_id, month, reason in zip(rows["patient_id"], rows["follow_up_visit_month"], reasons)
    )


def withdrawn_before_follow_up(patients: pd.DataFrame, follow_up_month: int) -> np.ndarray:
    """Per patient: carried forward because of a withdrawal recorded at or before the follow-up month."""
    withdrawal = patients["withdrawal_month"].to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        return patients["carried_forward"].to_numpy(dtype=bool) & (withdrawal <= follow_up_month)


def placed_by_window(patients: pd.DataFrame, follow_up_month: int) -> np.ndarray:
    """Per patient: the follow-up visit is not at the follow-up month but within the visit window (not carried
    forward)."""
    carried = patients["carried_forward"].to_numpy(dtype=bool)
    return ~carried & (patients["follow_up_visit_month"].to_numpy(dtype=np.int64) != follow_up_month)


def patient_flow(patients: pd.DataFrame, membership: np.ndarray, labels: tuple[str, ...], follow_up_month: int) -> Flow:
    """The flow diagram's numbers, per stratum of ``membership`` (the analysis stage's one assignment)."""
    carried = patients["carried_forward"].to_numpy(dtype=bool)
    placed = placed_by_window(patients, follow_up_month)
    withdrawn = withdrawn_before_follow_up(patients, follow_up_month)
    n_groups = len(labels)

    def per_group(flags: np.ndarray) -> np.ndarray:
        chosen = membership[flags & (membership >= 0)]
        return np.bincount(chosen, minlength=n_groups)

    analysed = per_group(np.ones(len(patients), dtype=bool))
    carried_by_group = per_group(carried)
    withdrawn_by_group = per_group(withdrawn)
    placed_by_group = per_group(placed)
    groups = tuple(
        FlowGroup(
            label=label,
            analysed=int(analysed[k]),
            reached_follow_up=int(analysed[k] - carried_by_group[k] - placed_by_group[k]),
            carried_forward=int(carried_by_group[k]),
            withdrawn=int(withdrawn_by_group[k]),
            placed_by_window=int(placed_by_group[k]),
        )
        for k, label in enumerate(labels)
    )
    reasons = patients["withdrawal_reason"].astype(object).to_numpy()[withdrawn]
    texts = [recorded_reason(reason) for reason in reasons]
    groups_of_withdrawn = membership[withdrawn]
    by_reason: dict[str | None, list[int]] = {}
    for text, group in zip(texts, groups_of_withdrawn.tolist()):
        tally = by_reason.setdefault(text, [0] * (n_groups + 1))  # last slot: all included
        tally[n_groups] += 1
        if group >= 0:
            tally[group] += 1
    order = sorted(by_reason, key=lambda reason: (reason is None, -by_reason[reason][n_groups], reason or ""))
    withdrawals = tuple(
        WithdrawalReason(reason=reason, counts=tuple(by_reason[reason][:n_groups]), overall=by_reason[reason][n_groups])
        for reason in order
    )
    n_analysed = int(analysed.sum())
    return Flow(
        included=len(patients),
        no_level=len(patients) - n_analysed,
        analysed=n_analysed,
        follow_up_month=follow_up_month,
        groups=groups,
        withdrawals=withdrawals,
    )


def missing_counts(baseline: tuple[ContinuousComparison | CategoricalComparison, ...], n_included: int) -> tuple[tuple[str, int], ...]:
    """Table 1 variable -> included patients without a value (the complement of the overall column's n)."""
    return tuple(
        (
            comparison.variable,
            n_included - (comparison.overall.n if isinstance(comparison, ContinuousComparison) else sum(comparison.overall)),
        )
        for comparison in baseline
    )


# --- primary outcome, multiplicity, sensitivity analyses ----------------------------------------


def primary_outcome(study: StudyOptions) -> Continuous:
    """The outcome the study is judged on (``study.primary_outcome``); the others are secondary."""
    for spec in OUTCOMES:
        if spec.variable == study.primary_outcome:
            return spec
    names = ", ".join(spec.variable for spec in OUTCOMES)
    raise AnalysisError(f"primary_outcome {study.primary_outcome!r} is not an outcome; the outcomes are: {names}")


def holm_adjusted(outcomes: tuple[ContinuousComparison, ...]) -> tuple[ContinuousComparison, ...]:
    """The outcomes with ``p_holm``: Holm's adjustment over the overall tests of all outcomes (the family is
    the outcomes table, primary outcome included); a test without a p-value is not in the family."""
    tested = [i for i, outcome in enumerate(outcomes) if outcome.test.p_value is not None]
    adjusted = dict(zip(tested, stats.holm([outcomes[i].test.p_value for i in tested]).tolist())) if tested else {}
    return tuple(replace(outcome, p_holm=adjusted.get(i)) for i, outcome in enumerate(outcomes))


# Outcomes that are a change from baseline, and their value when the baseline is carried forward (no change);
# every other outcome carries its ``<column>_baseline`` forward.
NO_CHANGE = {"delta_das28": 0.0}
# The EULAR response given to withdrawn patients by the non-responder imputation, and the one whose proportion
# the sensitivity analyses compare between the highest and the lowest group.
NON_RESPONSE, _, GOOD_RESPONSE = EULAR_RESPONSES


def _non_responders(patients: pd.DataFrame, spec: Continuous, stopped: np.ndarray) -> pd.DataFrame:
    """The primary outcome and EULAR response with withdrawn patients imputed as non-responders."""
    values = patients[spec.column].to_numpy(dtype=float, na_value=np.nan).copy()
    if spec.variable in NO_CHANGE:
        values[stopped] = NO_CHANGE[spec.variable]
    else:
        values[stopped] = patients[f"{spec.column}_baseline"].to_numpy(dtype=float, na_value=np.nan)[stopped]
    response = patients[EULAR_COLUMN].astype(object).to_numpy().copy()
    response[stopped] = NON_RESPONSE
    return pd.DataFrame({spec.column: values, EULAR_COLUMN: response})


def _sample_quantile_groups(level: np.ndarray, n_groups: int) -> np.ndarray | None:
    """Group index of each patient by the analysed patients' own quantiles (-1 without a level), or None
    when those quantiles coincide."""
    edges = stats.percentile_edges(level[~np.isnan(level)], n_groups)
    if not np.all(np.diff(edges) > 0):
        return None
    return stats.group_index(level, edges)


def _not_formed(test: str, reason: str) -> TestResult:
    return TestResult(test=TestName(test), statistic=None, p_value=None, decision=f"{test} not computed: {reason}.", not_tested=reason)


def _shift(spec: Continuous, frame: pd.DataFrame, groups: np.ndarray, n_groups: int) -> tuple[float | None, ConfidenceInterval]:
    """Hodges-Lehmann shift of the highest group's values relative to the lowest group's, with its interval."""
    values = frame[spec.column].to_numpy(dtype=float, na_value=np.nan)
    return estimates.hodges_lehmann(values[groups == n_groups - 1], values[groups == 0])


def _primary_shift(
    primary: ContinuousComparison, labels: tuple[str, ...], frame: pd.DataFrame, spec: Continuous, groups: np.ndarray
) -> tuple[float | None, ConfidenceInterval] | None:
    """The primary analysis's own shift (Table 2), when it compares the same two groups as ``_shift`` would:
    same labels and number of groups, and the same numbers of values in the highest and lowest group. Else
    None (a caller passing other groups gets them computed). Saves one Hodges-Lehmann estimate (0.1 s at
    100,000 patients)."""
    difference = primary.difference
    if difference is None or len(primary.groups) != len(labels) or (difference.high, difference.low) != (labels[-1], labels[0]):
        return None
    known = ~np.isnan(frame[spec.column].to_numpy(dtype=float, na_value=np.nan))
    if (int(np.sum(known & (groups == len(labels) - 1))), int(np.sum(known & (groups == 0)))) != (primary.groups[-1].n, primary.groups[0].n):
        return None
    return difference.estimate, difference.ci


def _good_response_difference(frame: pd.DataFrame, groups: np.ndarray, n_groups: int) -> tuple[float | None, ConfidenceInterval]:
    """Proportion of good responders in the highest group minus that in the lowest, Newcombe's interval."""
    response = EULAR.values(frame)
    known = pd.notna(response)
    good = known & (response == GOOD_RESPONSE)
    high, low = groups == n_groups - 1, groups == 0
    return estimates.newcombe_difference(
        int(np.sum(good & high)), int(np.sum(known & high)), int(np.sum(good & low)), int(np.sum(known & low))
    )


def sensitivity_analyses(
    patients: pd.DataFrame,
    groups: np.ndarray,
    results: Results,
    study: StudyOptions,
) -> tuple[Sensitivity, ...]:
    """The primary outcome and EULAR response under each sensitivity analysis (``SensitivityName``).

    ``groups``: the primary analysis's group of each patient (``Results.strata_membership``); ``results``: the
    primary analysis, whose comparisons are the LOCF rows. Completers: patients with a visit at the follow-up
    month. Non-responder imputation: ``withdrawn`` patients get EULAR response none and their baseline value of
    the primary outcome. Sample quantiles (only when the study gave cut points): the analysed patients' own
    quantiles, as many groups as the primary analysis has. Each row's estimate compares the highest group with
    the lowest (``_shift``, ``_good_response_difference``); its ``conclusion_changes`` says whether its test
    falls on the other side of ``ALPHA`` than the LOCF row of the same outcome.
    """
    spec = primary_outcome(study)
    primary = next(outcome for outcome in results.outcomes if outcome.variable == spec.variable)
    n_groups = len(results.strata)
    labels = tuple(stratum.label for stratum in results.strata)
    level = patients["trough_level"].to_numpy(dtype=float, na_value=np.nan)
    completers = np.where(patients["carried_forward"].to_numpy(dtype=bool), -1, groups)
    variants: list[tuple[SensitivityName, pd.DataFrame, np.ndarray | None]] = [
        (SensitivityName.LOCF, patients, groups),
        (SensitivityName.COMPLETERS, patients, completers),
        (SensitivityName.NRI, _non_responders(patients, spec, withdrawn_before_follow_up(patients, results.cohort.follow_up_month)), groups),
    ]
    if results.cutpoints_given:
        variants.append((SensitivityName.SAMPLE_QUANTILES, patients, _sample_quantile_groups(level, n_groups)))
    rows: list[Sensitivity] = []
    for name, frame, membership in variants:
        if membership is None:
            reason = "the analysed patients' own quantiles coincide (many patients share one level)"
            # Named as the primary analysis's tests (the study's categorical test may be "auto").
            rows.append(Sensitivity(name, primary.variable, primary.label, 0, _not_formed(primary.test.test, reason)))
            rows.append(Sensitivity(name, EULAR.variable, EULAR.label, 0, _not_formed(results.eular_response.test.test, reason)))
            continue
        if name is SensitivityName.LOCF:  # the primary analysis itself: its tests are already done
            continuous, categorical = primary, results.eular_response
        else:
            continuous = compare_continuous(spec, frame, membership, level, study, beyond_omnibus=False, labels=labels)
            categorical = compare_categorical(EULAR, frame, membership, study, labels)
        locf = rows[:2] if rows else [None, None]
        shift = _primary_shift(primary, labels, frame, spec, membership) if name is SensitivityName.LOCF else None
        rows.append(_sensitivity_row(name, continuous, locf[0], shift if shift is not None else _shift(spec, frame, membership, n_groups)))
        rows.append(_sensitivity_row(name, categorical, locf[1], _good_response_difference(frame, membership, n_groups)))
    return tuple(rows)


def _sensitivity_row(
    name: SensitivityName,
    comparison: ContinuousComparison | CategoricalComparison,
    locf: Sensitivity | None,
    estimate: tuple[float | None, ConfidenceInterval],
) -> Sensitivity:
    if isinstance(comparison, ContinuousComparison):
        n = sum(group.n for group in comparison.groups)
    else:
        n = sum(sum(row) for row in comparison.counts)
    changes = (
        locf is not None
        and comparison.test.p_value is not None
        and locf.test.p_value is not None
        and (comparison.test.p_value < ALPHA) != (locf.test.p_value < ALPHA)
    )
    return Sensitivity(
        name, comparison.variable, comparison.label, n, comparison.test, conclusion_changes=changes, estimate=estimate[0], ci=estimate[1]
    )


def analyse(derived: Derived, study: StudyOptions) -> Results:
    """Every number of the report, at full precision."""
    patients = derived.patients
    level = patients["trough_level"].to_numpy(dtype=float, na_value=np.nan)
    analysed = ~np.isnan(level)
    n_analysed = int(analysed.sum())
    if n_analysed == 0:
        raise AnalysisError("no patient has a trough level at or before the follow-up month, so there are no groups to compare")
    plan, edges, quantiles = group_edges(level[analysed], study)
    labels = plan.labels
    group = stats.group_index(level, edges)  # -1 for patients without a level
    group.setflags(write=False)  # carried in the results, shared by every table and figure

    baseline = tuple(
        compare_continuous(spec, patients, group, level, study, beyond_omnibus=False, labels=labels)
        if isinstance(spec, Continuous)
        else compare_categorical(spec, patients, group, study, labels)
        for spec in TABLE_1
    )
    primary_outcome(study)  # an unknown primary outcome stops here, before any work
    below_lloq = patients[lloq.PATIENT_FLAG].to_numpy(dtype=bool) if lloq.PATIENT_FLAG in patients else np.zeros(len(patients), bool)
    strata = _strata(group, edges, labels, n_analysed, below_lloq & analysed)
    eular = compare_categorical(EULAR, patients, group, study, labels)
    antibodies = compare_categorical(ANTIBODIES, patients, group, study, labels) if ADA_COLUMN in patients else None
    # EULAR responses are ordered (none < moderate < good), as the groups are: a trend test beside the omnibus one.
    eular = replace(eular, trend=stats.linear_by_linear(eular.counts, eular.categories, labels))
    results = Results(
        cohort=CohortCounts(
            n_included=len(patients),
            n_analysed=n_analysed,
            n_locf=int(patients["carried_forward"].to_numpy(dtype=bool).sum()),
            n_no_level=len(patients) - n_analysed,
            follow_up_month=derived.follow_up_month,
            n_placed_by_window=int(placed_by_window(patients, derived.follow_up_month).sum()),
            n_below_lloq=int((below_lloq & analysed).sum()),
        ),
        cutpoints=edges,
        cutpoints_given=plan.cut_points is not None,
        strata=strata,
        strata_membership=group,
        baseline=baseline,
        outcomes=holm_adjusted(
            tuple(
                replace(
                    compare_continuous(spec, patients, group, level, study, beyond_omnibus=True, labels=labels),
                    adjusted=adjusted_estimate(spec, patients, level, study),
                )
                for spec in OUTCOMES
            )
        ),
        activity_categories=tuple(compare_categorical(spec, patients, group, study, labels) for spec in ACTIVITY),
        eular_response=eular,
        carried_forward=_carried_forward(patients),
        study=study,
        flow=patient_flow(patients, group, tuple(s.label for s in strata), derived.follow_up_month),
        missing=missing_counts(baseline if antibodies is None else (*baseline, antibodies), len(patients)),
        anti_drug_antibodies=antibodies,
        design=Design(grouping=plan.grouping, cut_points_key=plan.cut_points_key, sample_quantiles=quantiles),
    )
    return replace(results, sensitivity=sensitivity_analyses(patients, group, results, study))


# --- the adjusted estimate -------------------------------------------------------------------------

# An outcome's baseline value in the adjusted estimate, where it is not the column "<column>_baseline".
ADJUSTED_BASELINE = {"delta_das28": "das28_esr_baseline"}
BASELINE_SUFFIX = "_baseline"
# Labels of covariates that no table of the report names.
COVARIATE_LABELS = {"patient_global_mm": "Patient global assessment", "evaluator_global_mm": "Evaluator global assessment"}
# How a two-valued covariate enters the model: the value coded 1 (the other is 0), said in its label.
SEX_CODED_ONE = ("F", "female")  # (value in the patients sheet, word)
YES_CODED_ONE = "yes"


def _covariate_label(variable: str) -> str:
    for spec in (*TABLE_1, *OUTCOMES):
        if spec.variable == variable and isinstance(spec, Continuous):
            return spec.label
    if variable in COVARIATE_LABELS:
        return COVARIATE_LABELS[variable]
    for spec in TABLE_1:
        if spec.variable == variable:
            return spec.label
    return variable


def _covariate_term(name: str, patients: pd.DataFrame) -> tuple[regression.Term, str]:
    """The model term of one ``adjust_for`` item (as validated: a patients-sheet column, a baseline measure,
    or ln(measure)) and its label for people."""
    logged = name.startswith("ln(") and name.endswith(")")
    variable = name[3:-1] if logged else name
    if variable == "sex":
        value, word = SEX_CODED_ONE
        sex = patients["sex"].astype(object)
        values = np.where(sex.isna().to_numpy(), np.nan, (sex == value).to_numpy(dtype=float))
        return regression.Term(variable, values), f"sex ({word} = 1)"
    if variable in patients.columns and f"{variable}{BASELINE_SUFFIX}" not in patients.columns:
        column = patients[variable]
        if column.dtype == "boolean" or column.dtype == bool:
            values = column.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
            return regression.Term(variable, values), f"{mid_sentence(_covariate_label(variable))} ({YES_CODED_ONE} = 1)"
        values = column.to_numpy(dtype=float, na_value=np.nan)
        label = mid_sentence(_covariate_label(variable))
    else:
        column_name = f"{variable}{BASELINE_SUFFIX}"
        values = patients[column_name].to_numpy(dtype=float, na_value=np.nan)
        variable = column_name
        label = f"baseline {mid_sentence(_covariate_label(name[3:-1] if logged else name))}"
    if logged:
        return regression.Term(f"ln({variable})", values, logged=True), f"ln {label}"
    return regression.Term(variable, values), label


def adjusted_estimate(spec: Continuous, patients: pd.DataFrame, level: np.ndarray, study: StudyOptions) -> AdjustedEstimate:
    """The outcome at follow-up on log2(level), its baseline value and the study's ``adjust_for`` (OLS)."""
    baseline = ADJUSTED_BASELINE.get(spec.column, f"{spec.column}{BASELINE_SUFFIX}")
    baseline_variable = baseline[: -len(BASELINE_SUFFIX)]
    terms = [regression.Term(baseline, patients[baseline].to_numpy(dtype=float, na_value=np.nan))]
    labels = [f"baseline {mid_sentence(_covariate_label(baseline_variable))}"]
    for name in study.adjust_for:
        term, label = _covariate_term(name, patients)
        if term.name not in {t.name for t in terms}:  # the outcome's own baseline is in the model already
            terms.append(term)
            labels.append(label)
    outcome = patients[spec.column].to_numpy(dtype=float, na_value=np.nan)
    fit = regression.adjusted_association(outcome, level, terms, CI_LEVEL)
    return AdjustedEstimate(
        beta=fit.beta,
        ci=ConfidenceInterval(level=CI_LEVEL, method=IntervalMethod.OLS_T, lower=fit.lower, upper=fit.upper),
        p_value=fit.p_value,
        covariates=tuple(term.name for term in terms),
        covariate_labels=tuple(labels),
        n=fit.n,
        df=fit.df,
        standard_error=fit.standard_error,
        level_not_positive=fit.level_not_positive,
        covariate_not_positive=fit.covariate_not_positive,
        incomplete=fit.incomplete,
        not_estimated=fit.not_estimated,
    )
