"""A small cohort built in code, shaped like the source abstract, for the report-side tests.

34 included patients, 33 with a trough level, quartiles of 8/7/8/10 patients with cut points
(4.2, 11.3, 18.5] µg/mL, follow-up DAS28-ESR per quartile with the abstract's means and SDs, and the
abstract's EULAR table (none 4/1/1/0, moderate 3/0/4/1, good 1/6/3/9). Statistics are computed here
with numpy/scipy so that Results and Derived agree with each other, as the real analysis stage makes them.

``make_patients`` is the fixture's own table: the columns the report reads, in the fixture's encoding
(yes/no as text), plus the planned ``quartile`` of each patient. ``make_derived`` turns it into a real
``Derived`` (every column the derive stage makes, its dtypes, no ``quartile``), checked against the stage
contract ``reportgen.frames``; ``make_results`` carries the quartiles as ``Results.strata_membership``,
as the analysis stage does.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import numpy as np
import pandas as pd
from scipy import stats

from reportgen import estimates, indices
from reportgen.analysis import holm_adjusted, sensitivity_analyses
from reportgen.frames import check_derived
from reportgen.model import (
    BuildInfo,
    CarriedForward,
    CategoricalComparison,
    CohortCounts,
    ContinuousComparison,
    Correlation,
    Derived,
    Design,
    Figure,
    Problem,
    PublishedCheck,
    PublishedRow,
    Results,
    Shift,
    Stratum,
    StudyOptions,
    Summary,
    TestResult,
)
from reportgen.stats import describe, dunn_holm

CUTPOINTS = (4.2, 11.3, 18.5)
QUARTILE_SIZES = (8, 7, 8, 10)
LABELS = ("Q1", "Q2", "Q3", "Q4")
EULAR_COUNTS = {"none": (4, 1, 1, 0), "moderate": (3, 0, 4, 1), "good": (1, 6, 3, 9)}

# (variable, label, unit, per-quartile (mean, sd) at follow-up) from the abstract; CDAI/SDAI kept possible.
OUTCOMES = (
    ("das28_esr", "DAS28-ESR", "", ((4.46, 1.5), (2.58, 0.87), (3.6, 0.79), (2.17, 0.74))),
    ("cdai", "CDAI", "", ((23.0, 13.9), (7.72, 4.44), (13.38, 4.35), (6.33, 4.62))),
    ("sdai", "SDAI", "", ((24.02, 14.8), (7.95, 4.5), (13.44, 4.36), (6.37, 4.7))),
    ("sjc28", "Swollen joints (SJC28)", "", ((7.5, 6.6), (2.29, 2.06), (5.63, 4.3), (1.1, 1.6))),
    ("tjc28", "Tender joints (TJC28)", "", ((5.5, 5.7), (1.71, 2.06), (3.13, 2.8), (0.8, 0.9))),
    ("esr_mm_h", "ESR", "mm/h", ((22.6, 14.8), (5.6, 1.6), (9.4, 3.5), (6.4, 3.5))),
    ("crp_mg_l", "CRP", "mg/L", ((10.2, 17.4), (2.3, 3.4), (0.56, 0.4), (0.42, 0.66))),
)
BASELINE_CONTINUOUS = (
    ("age_years", "Age", "years", (55.0, 12.0)),
    ("disease_duration_years", "Disease duration", "years", (12.0, 7.0)),
    ("prior_biologics", "Prior biologics", "n", (1.0, 1.0)),
    ("das28_esr_baseline", "DAS28-ESR", "", (5.3, 1.2)),
    ("cdai_baseline", "CDAI", "", (28.0, 11.0)),
    ("esr_mm_h_baseline", "ESR", "mm/h", (32.0, 18.0)),
    ("crp_mg_l_baseline", "CRP", "mg/L", (14.0, 12.0)),
)
BASELINE_BINARY = (
    ("sex", "Sex", ("F", "M"), 0.85),
    ("rf_positive", "Rheumatoid factor positive", ("yes", "no"), 0.8),
    ("acpa_positive", "ACPA positive", ("yes", "no"), 0.75),
    ("concomitant_mtx", "Concomitant methotrexate", ("yes", "no"), 0.55),
)

HOSTILE = (
    "<script>alert(1)</script>",
    "</table>",
    "{{ 7*7 }}",
    "{% raw %}",
    '=HYPERLINK("http://evil.example/x","click")',
    "url(http://evil.example/bg.png)",
    "<img src=http://evil.example/pixel.png>",
    "<link rel=attachment href=file:///etc/passwd>",
)
HOSTILE_TEXT = " ".join(HOSTILE)

BUILD_TIME = datetime(2024, 5, 17, 9, 30, tzinfo=timezone.utc)


def _with_mean_sd(rng: np.random.Generator, n: int, mean: float, sd: float, low: float = 0.0) -> np.ndarray:
    """n values with exactly this mean and SD (clipping at ``low`` moves them a little, as in real data)."""
    draw = rng.standard_normal(n)
    draw = (draw - draw.mean()) / draw.std(ddof=1)
    return np.maximum(mean + sd * draw, low)


def make_patients(seed: int = 7) -> pd.DataFrame:
    """One row per included patient with the Derived.patients columns the report reads."""
    rng = np.random.default_rng(seed)
    quartile = np.repeat(LABELS, QUARTILE_SIZES)
    edges = (0.4, *CUTPOINTS, 31.0)
    trough = np.concatenate(
        [np.sort(rng.uniform(edges[i] + 0.05, edges[i + 1], size)) for i, size in enumerate(QUARTILE_SIZES)]
    )
    frame = pd.DataFrame(
        {
            "patient_id": [f"P{i + 1:03d}" for i in range(len(quartile))],
            "quartile": quartile,
            "trough_level": trough,
        }
    )
    for variable, _label, _unit, moments in OUTCOMES:
        frame[variable] = np.concatenate(
            [_with_mean_sd(rng, size, *moments[i]) for i, size in enumerate(QUARTILE_SIZES)]
        )
    eular = []
    for q in range(4):
        eular += [response for response, counts in EULAR_COUNTS.items() for _ in range(counts[q])]
    frame["eular_response"] = eular
    for variable, _label, _unit, (mean, sd) in BASELINE_CONTINUOUS:
        frame[variable] = _with_mean_sd(rng, len(frame), mean, sd)
    for variable, _label, (positive, negative), share in BASELINE_BINARY:
        frame[variable] = np.where(rng.uniform(size=len(frame)) < share, positive, negative)
    frame["delta_das28"] = frame["das28_esr_baseline"] - frame["das28_esr"]
    frame["follow_up_visit_month"] = 12
    frame["carried_forward"] = False
    # One patient never had a level: included, not analysed.
    no_level = frame.iloc[[0]].copy()
    no_level["patient_id"] = "P034"
    no_level["quartile"] = None
    no_level["trough_level"] = np.nan
    frame = pd.concat([frame, no_level], ignore_index=True)
    frame.loc[[2, 11, 30], "carried_forward"] = True
    frame.loc[[2, 11, 30], "follow_up_visit_month"] = [6, 9, 3]
    return frame


def _continuous(frame: pd.DataFrame, variable: str, label: str, unit: str, with_trend: bool) -> ContinuousComparison:
    analysed = frame[frame["quartile"].notna()]
    groups = [analysed.loc[analysed["quartile"] == q, variable].to_numpy(float) for q in LABELS]
    h, p = stats.kruskal(*groups)
    n = sum(len(g) for g in groups)
    test = TestResult(
        test="kruskal-wallis",
        statistic=float(h),
        p_value=float(p),
        df=3.0,
        effect_size_name="epsilon-squared",
        effect_size=float(h / (n - 1)),
        decision="Kruskal-Wallis test: distributions compared without assuming normality; quartiles hold 7 to 10 patients.",
    )
    trend = spearman = difference = None
    if with_trend:
        rho, p_rho = stats.spearmanr(analysed["trough_level"], analysed[variable])
        # A standardised Jonckheere-Terpstra statistic carries the direction of the trend in its sign.
        trend = TestResult(
            test="jonckheere-terpstra",
            statistic=float(rho * np.sqrt(n - 1)),
            p_value=float(p_rho) * 0.9,
            decision="Jonckheere-Terpstra test for a monotonic trend across the ordered quartiles.",
        )
        spearman = Correlation(test="spearman", rho=float(rho), p_value=float(p_rho), n=n, ci=estimates.spearman_ci(float(rho), n))
        test = replace(test, effect_size_ci=estimates.bootstrap_epsilon_squared(groups))
        estimate, interval = estimates.hodges_lehmann(groups[-1], groups[0])
        difference = Shift(high=LABELS[-1], low=LABELS[0], estimate=estimate, ci=interval)
    # Dunn's pairs after a significant outcome test, as the analysis stage runs them.
    posthoc = dunn_holm(groups, LABELS) if with_trend and p < 0.05 else ()
    return ContinuousComparison(
        variable=variable,
        label=label,
        unit=unit,
        groups=tuple(_with_intervals(g) for g in groups),
        overall=_with_intervals(frame[variable].to_numpy(float)),
        test=test,
        trend=trend,
        spearman=spearman,
        posthoc=posthoc,
        difference=difference if with_trend else None,
    )


def _with_intervals(values: np.ndarray) -> Summary:
    return replace(describe(values), mean_ci=estimates.mean_ci(values), median_ci=estimates.median_ci(values))


def _categorical(
    frame: pd.DataFrame, variable: str, label: str, categories: tuple[str, ...]
) -> CategoricalComparison:
    analysed = frame[frame["quartile"].notna()]
    counts = tuple(
        tuple(int(((analysed["quartile"] == q) & (analysed[variable] == c)).sum()) for q in LABELS) for c in categories
    )
    table = np.array(counts)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    chi2, p, dof, expected = stats.chi2_contingency(table, correction=False)
    n = table.sum()
    v = float(np.sqrt(chi2 / (n * (min(table.shape) - 1))))
    overall = tuple(int((frame[variable] == c).sum()) for c in categories)
    totals = [sum(column) for column in zip(*counts)]
    return CategoricalComparison(
        variable=variable,
        label=label,
        categories=categories,
        counts=counts,
        overall=overall,
        proportion_cis=tuple(tuple(estimates.wilson_ci(c, t) for c, t in zip(row, totals)) for row in counts),
        overall_proportion_cis=tuple(estimates.wilson_ci(c, sum(overall)) for c in overall),
        test=TestResult(
            test="chi-square",
            statistic=float(chi2),
            p_value=float(p),
            df=float(dof),
            effect_size_name="cramers-v",
            effect_size=v,
            effect_size_ci=estimates.bootstrap_cramers_v(counts),
            decision=(
                "Pearson chi-square test without continuity correction; "
                f"{int((expected < 5).sum())} of {expected.size} expected counts are below 5, "
                "so the Fisher-Freeman-Halton exact test is a sensible check."
            ),
        ),
    )


def make_results(frame: pd.DataFrame | None = None, study: StudyOptions | None = None) -> Results:
    frame = make_patients() if frame is None else frame
    study = study or make_study()
    analysed = frame[frame["quartile"].notna()]
    n_analysed = len(analysed)
    bounds = (None, *CUTPOINTS, None)
    sizes = [int((analysed["quartile"] == q).sum()) for q in LABELS]
    strata = tuple(
        Stratum(label=q, lower=bounds[i], upper=bounds[i + 1], n=size, percent=100.0 * size / n_analysed)
        for i, (q, size) in enumerate(zip(LABELS, sizes))
    )
    baseline: list[ContinuousComparison | CategoricalComparison] = []
    for variable, label, unit, _moments in BASELINE_CONTINUOUS[:3]:
        baseline.append(_continuous(frame, variable, label, unit, with_trend=False))
    for variable, label, categories, _share in BASELINE_BINARY:
        baseline.append(_categorical(frame, variable, label, categories))
    for variable, label, unit, _moments in BASELINE_CONTINUOUS[3:]:
        baseline.append(_continuous(frame, variable, label, unit, with_trend=False))
    outcomes = holm_adjusted(tuple(_continuous(frame, v, label, unit, with_trend=True) for v, label, unit, _m in OUTCOMES))
    carried = frame[frame["carried_forward"]]
    results = Results(
        cohort=CohortCounts(
            n_included=len(frame),
            n_analysed=n_analysed,
            n_locf=len(carried),
            n_no_level=int(frame["trough_level"].isna().sum()),
            follow_up_month=12,
        ),
        cutpoints=CUTPOINTS,
        cutpoints_given=True,
        strata=strata,
        strata_membership=membership(frame),
        baseline=tuple(baseline),
        outcomes=outcomes,
        activity_categories=(),
        eular_response=_categorical(frame, "eular_response", "EULAR response", ("none", "moderate", "good")),
        carried_forward=tuple(
            CarriedForward(patient_id=row.patient_id, from_month=int(row.follow_up_visit_month), withdrawal_reason=reason)
            for row, reason in zip(carried.itertuples(), ("inefficacy", "adverse event", None))
        ),
        study=study,
        # The fixture's cut points are given (quartile_cutpoints, contract version 1): groups the study chose.
        design=Design(
            grouping="cut-points",
            cut_points_key="quartile_cutpoints",
            sample_quantiles=tuple(float(q) for q in np.percentile(analysed["trough_level"], [25, 50, 75])),
        ),
    )
    # The sensitivity analyses as the analysis stage runs them, on the fixture's own Derived.
    return replace(results, sensitivity=sensitivity_analyses(make_derived(frame).patients, membership(frame), results, study))


def make_study(**changes: object) -> StudyOptions:
    base = StudyOptions(
        title="Tocilizumab trough levels and disease activity after one year in rheumatoid arthritis",
        authors="C. Tornero, C. Plasencia, A. Balsa",
        institution="Hospital Universitario La Paz, Madrid",
        quartile_cutpoints=CUTPOINTS,
    )
    return base.replace(**changes)


def membership(frame: pd.DataFrame) -> np.ndarray:
    """The fixture's planned quartiles as the analysis stage carries them: 0..3 per patient, -1 if not analysed."""
    codes = {label: k for k, label in enumerate(LABELS)}
    return np.array([codes.get(q, -1) for q in frame["quartile"]], dtype=np.int64)


def make_derived(frame: pd.DataFrame | None = None) -> Derived:
    """A real Derived from the fixture's table: every column the derive stage makes, in its dtypes,
    checked against the stage contract (``reportgen.frames``). Columns the report never reads get
    plausible values from their own seeded stream, so the fixture's other values do not move."""
    frame = make_patients() if frame is None else frame
    n = len(frame)
    rng = np.random.default_rng(11)
    yes = {"yes": True, "no": False, "F": "F", "M": "M"}
    patients = pd.DataFrame(
        {
            "patient_id": frame["patient_id"].astype("str"),
            "sex": frame["sex"].astype("str"),
            "age_years": frame["age_years"].astype(float),
            "disease_duration_years": frame["disease_duration_years"].astype(float),
            "rf_positive": pd.array(frame["rf_positive"].map(yes), dtype="boolean"),
            "acpa_positive": pd.array(frame["acpa_positive"].map(yes), dtype="boolean"),
            "prior_biologics": np.rint(frame["prior_biologics"].to_numpy(float)).astype(np.int64),
            "concomitant_mtx": frame["concomitant_mtx"].map(yes).astype(bool),
            "withdrawal_month": np.where(frame["carried_forward"], frame["follow_up_visit_month"] + 1.0, np.nan),
            "withdrawal_reason": pd.Series([None] * n, dtype=object),
            "excel_row": np.arange(2, n + 2, dtype=np.int64),
        }
    )
    measures = {}
    for measure in ("das28_esr", "das28_crp", "cdai", "sdai", "tjc28", "sjc28", "esr_mm_h", "crp_mg_l",
                    "patient_global_mm", "evaluator_global_mm"):
        follow_up = frame[measure] if measure in frame else pd.Series(rng.uniform(1.0, 40.0, n))
        baseline = frame[f"{measure}_baseline"] if f"{measure}_baseline" in frame else pd.Series(rng.uniform(1.0, 60.0, n))
        measures[f"{measure}_baseline"] = baseline.to_numpy(float)
        measures[measure] = follow_up.to_numpy(float)
    categories = {}
    for index, categorise in (("das28_esr", indices.das28_category), ("das28_crp", indices.das28_category),
                              ("cdai", indices.cdai_category), ("sdai", indices.sdai_category)):
        for suffix in ("_baseline", ""):
            labels = categorise(measures[f"{index}{suffix}"])
            categories[f"{index}_category{suffix}"] = pd.Categorical(
                np.where(labels == "", None, labels), categories=indices.ACTIVITY_CATEGORIES, ordered=True
            )
    level = frame["trough_level"].to_numpy(float)
    derived_patients = pd.concat(
        [
            patients,
            pd.DataFrame(
                {
                    **measures,
                    **categories,
                    "follow_up_visit_month": frame["follow_up_visit_month"].to_numpy(np.int64),
                    "carried_forward": frame["carried_forward"].to_numpy(bool),
                    "delta_das28": frame["delta_das28"].to_numpy(float),
                    "eular_response": pd.Categorical(frame["eular_response"], categories=indices.EULAR_RESPONSES, ordered=True),
                    "trough_level": level,
                    "trough_month": np.where(np.isnan(level), np.nan, 12.0),
                    "trough_below_lloq": np.zeros(len(level), dtype=bool),
                }
            ),
        ],
        axis=1,
    )
    return check_derived(Derived(visits=empty_derived_visits(), patients=derived_patients, follow_up_month=12))


def empty_derived_visits() -> pd.DataFrame:
    """No visits, in the derive stage's columns and dtypes (the report side never reads visits)."""
    activity = pd.CategoricalDtype(list(indices.ACTIVITY_CATEGORIES), ordered=True)
    dtypes = {
        "patient_id": "str", "month": "int64", "tjc28": "int64", "sjc28": "int64", "esr_mm_h": "float64",
        "crp_mg_l": "float64", "patient_global_mm": "float64", "evaluator_global_mm": "float64",
        "trough_level": "float64", "level_below_lloq": "bool", "excel_row": "int64", "das28_esr": "float64", "das28_crp": "float64",
        "cdai": "float64", "sdai": "float64", "das28_esr_category": activity, "das28_crp_category": activity,
        "cdai_category": activity, "sdai_category": activity,
    }  # fmt: skip
    return pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in dtypes.items()})


def make_info() -> BuildInfo:
    return BuildInfo(
        build_time=BUILD_TIME,
        version="0.1.0",
        source_name="cohort.xlsx",
        source_sha256="3f7a1c2b9d8e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a",
        command_line=("reportgen", "build", "cohort.xlsx"),
        library_versions=(("python", "3.11.2"), ("matplotlib", "3.11.2"), ("weasyprint", "70.0")),
    )


def make_published() -> PublishedCheck:
    return PublishedCheck(
        rows=(
            PublishedRow(item="Q1, n (%)", printed="8 (24,2%)", reproduced="8 (24,2%)", match=True),
            PublishedRow(item="DAS28-ESR, Q1, mean", printed="4,46", reproduced="4,46", match=True),
            PublishedRow(item="SDAI, Q1, mean", printed="19,46", reproduced="24,02", match=False, note="below CDAI"),
        ),
        consistency=(
            "SDAI is printed below CDAI in Q1 (19.46 < 23) and Q4 (4.55 < 6.33): impossible on the same patients.",
            "EULAR percentages add up to 100 along rows (responses), not along columns (quartiles).",
        ),
        source_name="published.yaml",
    )


def make_warnings() -> tuple[Problem, ...]:
    return (
        Problem(sheet="visits", row=14, column="esr_mm_h", value="135", rule="ESR above 120 mm/h is unusual", severity="warning"),
    )


def fake_figures() -> tuple[Figure, ...]:
    """Tiny stand-ins so render tests need not draw real figures."""
    svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" width="10pt" height="10pt"><rect width="10" height="10"/></svg>'
    return tuple(
        Figure(name=f"figure{i}", number=i, title=f"Figure title {i}", caption=f"Caption {i}.", svg=svg) for i in (1, 2, 3)
    )


def hostile_inputs() -> tuple[Results, Derived, BuildInfo, tuple[Problem, ...]]:
    """The same cohort with attacker-controlled text in every field that comes from the workbook."""
    frame = make_patients()
    frame["patient_id"] = [f"{HOSTILE[i % len(HOSTILE)]}#{i}" for i in range(len(frame))]
    study = make_study(title=HOSTILE_TEXT, authors=HOSTILE_TEXT, institution=HOSTILE_TEXT)
    results = make_results(frame, study)
    results = replace(
        results,
        carried_forward=tuple(replace(c, withdrawal_reason=HOSTILE_TEXT) for c in results.carried_forward),
    )
    info = replace(make_info(), source_name=HOSTILE[0] + ".xlsx")
    warnings = (Problem(sheet="patients", row=3, column="patient_id", value=HOSTILE_TEXT, rule=HOSTILE[7], severity="warning"),)
    return results, make_derived(frame), info, warnings
