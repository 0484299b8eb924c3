"""Analyse stage: trough-level quartiles, Table 1, outcomes at follow-up, activity categories, EULAR response.

``analyse(derived, study) -> Results`` is a pure function: no I/O, no number formatting. The
statistics themselves live in ``reportgen.stats``; this module decides what is compared with what.

Who is counted where:

- *included*: every patient of the cohort (one row of ``Derived.patients``); the "overall" column of
  every table and every ``overall`` summary is over included patients (with a known value).
- *analysed*: included patients with a trough level; only they are placed in quartiles, compared across
  quartiles, and correlated with the level.
- *withdrawn* (``Results.flow``): carried forward, with a ``withdrawal_month`` at or before the follow-up month;
  the flow diagram and the withdrawals table count them per stratum and reason (``patient_flow``).
- *missing* (``Results.missing``): per Table 1 variable, the included patients without a value; Table 1
  summarises the others (complete cases).

Quartiles: edges from the study's ``quartile_cutpoints`` when given, otherwise the 25th, 50th and 75th
percentiles of the analysed patients' levels (linear interpolation, R type 7); intervals closed on the
right, Q1 <= e1 < Q2 <= e2 < Q3 <= e3 < Q4. Edges that coincide stop the analysis (``AnalysisError``).
Each patient is assigned once (``stats.quartile_index``) and the assignment travels in
``Results.strata_membership``: the figures draw the same groups the tables count, never their own.

Categorical variables list their categories in a fixed order; for the yes/no variables of Table 1 the
first category ("female", "positive", "yes") is the one reported as a percentage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from reportgen import estimates, regression, stats
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
    Flow,
    FlowGroup,
    PairwiseComparison,
    Results,
    Shift,
    StudyOptions,
    Stratum,
    Summary,
    WithdrawalReason,
)

QUARTILE_LABELS = ("Q1", "Q2", "Q3", "Q4")


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


TABLE_1: tuple[Continuous | Categorical, ...] = (
    Continuous("age_years", "age_years", "Age", "years"),
    Categorical("sex", "Female", ("female", "male"), _sex),
    Continuous("disease_duration_years", "disease_duration_years", "Disease duration", "years"),
    Categorical("rf_positive", "RF positive", ("positive", "negative"), _yes_no("rf_positive", "positive", "negative")),
    Categorical("acpa_positive", "ACPA positive", ("positive", "negative"), _yes_no("acpa_positive", "positive", "negative")),
    Continuous("prior_biologics", "prior_biologics", "Prior biologics", ""),
    Categorical("concomitant_mtx", "Concomitant methotrexate", ("yes", "no"), _yes_no("concomitant_mtx", "yes", "no")),
    Continuous("das28_esr", "das28_esr_baseline", "DAS28-ESR", ""),
    Continuous("cdai", "cdai_baseline", "CDAI", ""),
    Continuous("sdai", "sdai_baseline", "SDAI", ""),
    Continuous("tjc28", "tjc28_baseline", "Tender joint count (28)", ""),
    Continuous("sjc28", "sjc28_baseline", "Swollen joint count (28)", ""),
    Continuous("esr_mm_h", "esr_mm_h_baseline", "ESR", "mm/h"),
    Continuous("crp_mg_l", "crp_mg_l_baseline", "CRP", "mg/L"),
)

OUTCOMES: tuple[Continuous, ...] = (
    Continuous("das28_esr", "das28_esr", "DAS28-ESR", ""),
    Continuous("das28_crp", "das28_crp", "DAS28-CRP", ""),
    Continuous("cdai", "cdai", "CDAI", ""),
    Continuous("sdai", "sdai", "SDAI", ""),
    Continuous("sjc28", "sjc28", "Swollen joint count (28)", ""),
    Continuous("tjc28", "tjc28", "Tender joint count (28)", ""),
    Continuous("esr_mm_h", "esr_mm_h", "ESR", "mm/h"),
    Continuous("crp_mg_l", "crp_mg_l", "CRP", "mg/L"),
    Continuous("delta_das28", "delta_das28", "ΔDAS28-ESR (baseline − follow-up)", ""),
)

ACTIVITY: tuple[Categorical, ...] = (
    Categorical("das28_esr_category", "DAS28-ESR disease activity", ACTIVITY_CATEGORIES, _category_column("das28_esr_category")),
    Categorical("cdai_category", "CDAI disease activity", ACTIVITY_CATEGORIES, _category_column("cdai_category")),
    Categorical("sdai_category", "SDAI disease activity", ACTIVITY_CATEGORIES, _category_column("sdai_category")),
)

EULAR = Categorical("eular_response", "EULAR response", EULAR_RESPONSES, _category_column("eular_response"))


def quartile_cutpoints(levels: np.ndarray, study: StudyOptions) -> tuple[tuple[float, float, float], bool]:
    """The three quartile edges and whether the study sheet gave them; raises when edges coincide."""
    given = study.quartile_cutpoints is not None
    if given:
        edges = tuple(float(edge) for edge in study.quartile_cutpoints)  # type: ignore[union-attr]
    else:
        edges = stats.percentile_edges(levels)
    e1, e2, e3 = edges
    if not (e1 < e2 < e3):
        where = "the quartile_cutpoints of the study sheet" if given else "the 25th, 50th and 75th percentiles of the trough level"
        raise AnalysisError(
            f"cannot form four quartiles: {where} do not increase strictly ({e1!r}, {e2!r}, {e3!r}); "
            "this happens when many patients share one level (e.g. undetectable). Give three increasing "
            "cut points in the study sheet, e.g. 'quartile_cutpoints' = '1; 6; 18.5'."
        )
    return (e1, e2, e3), given


def _strata(quartile: np.ndarray, edges: tuple[float, float, float], n_analysed: int) -> tuple[Stratum, ...]:
    lowers = (None, *edges)
    uppers = (*edges, None)
    sizes = [int(np.sum(quartile == k)) for k in range(4)]
    return tuple(
        Stratum(label=label, lower=lower, upper=upper, n=size, percent=100.0 * size / n_analysed)
        for label, lower, upper, size in zip(QUARTILE_LABELS, lowers, uppers, sizes)
    )


def _by_quartile(values: np.ndarray, quartile: np.ndarray) -> list[np.ndarray]:
    return [values[quartile == k] for k in range(4)]


def describe(values: np.ndarray) -> Summary:
    """``stats.describe`` with the 95% intervals of the mean (t) and the median (order statistics)."""
    return replace(stats.describe(values), mean_ci=estimates.mean_ci(values), median_ci=estimates.median_ci(values))


def compare_continuous(
    spec: Continuous,
    patients: pd.DataFrame,
    quartile: np.ndarray,
    level: np.ndarray,
    study: StudyOptions,
    beyond_omnibus: bool,
) -> ContinuousComparison:
    """Descriptives per quartile and overall, the study's test, and (for outcomes) trend, Spearman and Dunn."""
    values = patients[spec.column].to_numpy(dtype=float, na_value=np.nan)
    groups = _by_quartile(values, quartile)
    # One ranking of the analysed patients' values (in patient order) serves Kruskal-Wallis,
    # Jonckheere-Terpstra, Dunn and Spearman.
    analysed = quartile >= 0
    ranking = stats.rank_values(values[analysed], quartile[analysed], QUARTILE_LABELS)
    test = stats.compare_continuous(groups, QUARTILE_LABELS, study.continuous_test, ranking)
    trend = spearman = difference = None
    posthoc: tuple[PairwiseComparison, ...] = ()
    if beyond_omnibus:
        trend = stats.jonckheere_terpstra(groups, QUARTILE_LABELS, ranking)
        # Analysed patients all have a level, so the complete pairs are those with a value: ranking.values.
        spearman = stats.spearman(level[analysed], values[analysed], y_ranks=ranking.ranks)
        spearman = replace(spearman, ci=estimates.spearman_ci(spearman.rho, spearman.n))
        if test.p_value is not None and test.p_value < ALPHA:
            posthoc = stats.dunn_holm(groups, QUARTILE_LABELS, ranking)
        # The highest group relative to the lowest: Hodges-Lehmann shift with its Mann-Whitney interval.
        estimate, interval = estimates.hodges_lehmann(groups[-1], groups[0])
        difference = Shift(high=QUARTILE_LABELS[-1], low=QUARTILE_LABELS[0], estimate=estimate, ci=interval)
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


def compare_categorical(spec: Categorical, patients: pd.DataFrame, quartile: np.ndarray, study: StudyOptions) -> CategoricalComparison:
    """Counts[category][quartile] of analysed patients, overall counts of included patients, the study's test."""
    values = spec.values(patients)
    unknown = [value for value in pd.unique(values[pd.notna(values)]) if value not in spec.categories]
    if unknown:
        raise AnalysisError(f"{spec.variable} has values outside {spec.categories}: {unknown[:5]}")
    # One pass: category code (-1 unknown) and quartile (-1 not analysed) of each patient, counted together.
    codes = pd.Categorical(values, categories=list(spec.categories)).codes.astype(np.int64)
    known = codes >= 0
    n_categories = len(spec.categories)
    cells = np.bincount(codes[known] * 5 + (quartile[known] + 1), minlength=n_categories * 5).reshape(n_categories, 5)
    counts = tuple(tuple(int(cells[c, k + 1]) for k in range(4)) for c in range(n_categories))
    overall = tuple(int(cells[c].sum()) for c in range(n_categories))
    test = stats.compare_categorical(counts, spec.categories, QUARTILE_LABELS, study.categorical_test)
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


def patient_flow(patients: pd.DataFrame, membership: np.ndarray, labels: tuple[str, ...], follow_up_month: int) -> Flow:
    """The flow diagram's numbers, per stratum of ``membership`` (the analysis stage's one assignment)."""
    carried = patients["carried_forward"].to_numpy(dtype=bool)
    withdrawn = withdrawn_before_follow_up(patients, follow_up_month)
    n_groups = len(labels)

    def per_group(flags: np.ndarray) -> np.ndarray:
        chosen = membership[flags & (membership >= 0)]
        return np.bincount(chosen, minlength=n_groups)

    analysed = per_group(np.ones(len(patients), dtype=bool))
    carried_by_group = per_group(carried)
    withdrawn_by_group = per_group(withdrawn)
    groups = tuple(
        FlowGroup(
            label=label,
            analysed=int(analysed[k]),
            reached_follow_up=int(analysed[k] - carried_by_group[k]),
            carried_forward=int(carried_by_group[k]),
            withdrawn=int(withdrawn_by_group[k]),
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


def analyse(derived: Derived, study: StudyOptions) -> Results:
    """Every number of the report, at full precision."""
    patients = derived.patients
    level = patients["trough_level"].to_numpy(dtype=float, na_value=np.nan)
    analysed = ~np.isnan(level)
    n_analysed = int(analysed.sum())
    if n_analysed == 0:
        raise AnalysisError("no patient has a trough level at or before the follow-up month, so there are no quartiles to compare")
    edges, given = quartile_cutpoints(level[analysed], study)
    quartile = stats.quartile_index(level, edges)  # -1 for patients without a level
    quartile.setflags(write=False)  # carried in the results, shared by every table and figure

    strata = _strata(quartile, edges, n_analysed)
    eular = compare_categorical(EULAR, patients, quartile, study)
    # EULAR responses are ordered (none < moderate < good), as the groups are: a trend test beside the omnibus one.
    eular = replace(eular, trend=stats.linear_by_linear(eular.counts, eular.categories, [s.label for s in strata]))
    baseline = tuple(
        compare_continuous(spec, patients, quartile, level, study, beyond_omnibus=False)
        if isinstance(spec, Continuous)
        else compare_categorical(spec, patients, quartile, study)
        for spec in TABLE_1
    )
    strata = _strata(quartile, edges, n_analysed)
    return Results(
        cohort=CohortCounts(
            n_included=len(patients),
            n_analysed=n_analysed,
            n_locf=int(patients["carried_forward"].to_numpy(dtype=bool).sum()),
            n_no_level=len(patients) - n_analysed,
            follow_up_month=derived.follow_up_month,
        ),
        cutpoints=edges,
        cutpoints_given=given,
        strata=strata,
        strata_membership=quartile,
        baseline=baseline,
        outcomes=tuple(
            replace(
                compare_continuous(spec, patients, quartile, level, study, beyond_omnibus=True),
                adjusted=adjusted_estimate(spec, patients, level, study),
            )
            for spec in OUTCOMES
        ),
        activity_categories=tuple(compare_categorical(spec, patients, quartile, study) for spec in ACTIVITY),
        eular_response=eular,
        carried_forward=_carried_forward(patients),
        study=study,
        flow=patient_flow(patients, quartile, tuple(s.label for s in strata), derived.follow_up_month),
        missing=missing_counts(baseline, len(patients)),
    )


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
