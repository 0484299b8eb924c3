"""Derive stage: clinical indices per visit, the follow-up visit per patient (LOCF), response, trough level.

``derive(cohort) -> Derived`` is a pure function of the validated cohort; vectorised throughout
(one sort of the visits, no per-patient Python loop).

``Derived.visits``: the validated visits, same rows and order, plus

- ``das28_esr``, ``das28_crp`` (4 variables), ``cdai``, ``sdai`` (CRP in mg/dL): float64, full precision;
- ``das28_esr_category``, ``das28_crp_category`` (both on the DAS28 thresholds), ``cdai_category``,
  ``sdai_category``: ordered pandas Categorical remission < low < moderate < high (values rounded half
  up to 2 decimals before comparing), missing (NaN) where the index is missing.

``Derived.patients``: one row per included patient (every patient of the cohort), in the cohort's
order, RangeIndex. Columns:

- the patient columns of the contract unchanged: patient_id, sex, age_years, disease_duration_years,
  rf_positive, acpa_positive, prior_biologics, concomitant_mtx, withdrawal_month, withdrawal_reason,
  excel_row;
- for each measure in ``MEASURES`` (das28_esr, das28_crp, cdai, sdai, tjc28, sjc28, esr_mm_h, crp_mg_l,
  patient_global_mm, evaluator_global_mm): ``<measure>_baseline`` (month 0) and ``<measure>`` (the
  follow-up visit), float64;
- for each category in ``CATEGORIES``: ``<index>_category_baseline`` and ``<index>_category``
  (ordered Categorical, as in the visits);
- ``follow_up_visit_month`` (int64): month of the visit used at follow-up;
- ``carried_forward`` (bool): no visit at the follow-up month or within its visit window (LOCF); a patient
  whose follow-up visit is at another month within the window is "placed by the window"
  (``analysis.placed_by_window``), not carried forward;
- ``delta_das28`` (float64): das28_esr_baseline - das28_esr, full precision;
- ``eular_response``: ordered Categorical none < moderate < good (DAS28-ESR values and their
  difference rounded half up to 2 decimals), missing where a DAS28-ESR is missing;
- ``trough_level`` (float64, µg/mL): NaN when the rule below finds no level;
- ``trough_month`` (float64): month of that level, NaN with it.

The executable form of this description is ``reportgen.frames.DerivedVisits`` and ``DerivedPatients``,
checked by ``pipeline.py`` on what this stage returns.

Groups by level are not assigned here: they depend on the analysed set and the study's grouping, so the
analysis stage forms them (``reportgen.stats.group_index``) and carries them in
``Results.strata_membership``.

Rules (issue 3): the follow-up visit is the visit at ``follow_up_month`` if present, otherwise the last
post-baseline visit before it, otherwise baseline; visits after the follow-up month are never used;
all components come from that one visit and the indices are those of that visit. The trough level
is the one measured at the follow-up visit, otherwise the last one measured at an earlier
post-baseline visit. Since the follow-up visit is itself the last visit at or before the follow-up
month, both rules reduce to "the last qualifying visit at or before the follow-up month".

Visit windows and the level month (issue 12; study keys ``visit_window_months`` w and ``level_month`` L):
with w > 0 the follow-up visit is the post-baseline visit closest to the follow-up month F within
[F − w, F + w], the earlier of two equally close, even after F; only without one is the last visit before
F − w carried forward. The level is the one measured at the follow-up visit, else the last one measured
at an earlier post-baseline visit. With L, the level is the one measured at the visit closest to L within
[L − w, L + w] among the visits with a level (the earlier on a tie); without one the patient has no level:
no other month's level stands in, since L names the month of the exposure. Validation keeps both windows
clear of baseline and of each other (``validate.window_limit``). With w = 0 and no L these rules are
exactly the ones above. ``Derived.warnings`` names each follow-up visit a window placed and, once per
patient, the visits after F + w, which are not used.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from reportgen import indices
from reportgen.errors import AnalysisError
from reportgen.model import Cohort, Derived, Problem
from reportgen.prose import join_words

VISITS_SHEET = "visits"  # the contract's name of the sheet the follow-up warnings point into
WINDOW_KEY = "visit_window_months"  # the study-sheet key of the visit window

INDICES = ("das28_esr", "das28_crp", "cdai", "sdai")
MEASURES = (
    *INDICES,
    "tjc28",
    "sjc28",
    "esr_mm_h",
    "crp_mg_l",
    "patient_global_mm",
    "evaluator_global_mm",
)
CATEGORIES = ("das28_esr_category", "das28_crp_category", "cdai_category", "sdai_category")


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    return frame[name].to_numpy(dtype=float, na_value=np.nan)


def _categorical(labels: np.ndarray, codes: np.ndarray, categories: tuple[str, ...]) -> pd.Categorical:
    """An ordered pandas Categorical from per-code labels ('' = missing, as indices.py marks it)."""
    lookup = {category: i for i, category in enumerate(categories)}
    label_codes = np.array([lookup.get(label, -1) for label in labels.tolist()] + [-1], dtype=np.int64)
    # codes of -1 pick the appended -1: missing stays missing.
    return pd.Categorical.from_codes(label_codes[codes], categories=list(categories), ordered=True)


def _categories(values: np.ndarray, categorise: Callable[[np.ndarray], np.ndarray]) -> pd.Categorical:
    """``categorise(values)`` computed once per distinct 2-decimal value, then spread back.

    The category depends only on the value rounded half up to 2 decimals (rounding twice changes
    nothing), and an index has at most a few thousand such values, so this is exact and much faster
    than categorising every visit.
    """
    codes, distinct = pd.factorize(indices.round_half_up(values, indices.CATEGORY_DECIMALS), use_na_sentinel=True)
    return _categorical(categorise(np.asarray(distinct, dtype=float)), codes, indices.ACTIVITY_CATEGORIES)


def add_indices(visits: pd.DataFrame) -> pd.DataFrame:
    """The visits with the four indices at full precision and their activity categories."""
    tjc = _column(visits, "tjc28")
    sjc = _column(visits, "sjc28")
    esr = _column(visits, "esr_mm_h")
    crp = _column(visits, "crp_mg_l")
    ptga = _column(visits, "patient_global_mm")
    ega = _column(visits, "evaluator_global_mm")
    das28_esr = indices.das28_esr(tjc, sjc, esr, ptga)
    das28_crp = indices.das28_crp(tjc, sjc, crp, ptga)
    cdai = indices.cdai(tjc, sjc, ptga, ega)
    sdai = indices.sdai(tjc, sjc, ptga, ega, crp)
    return visits.assign(
        das28_esr=das28_esr,
        das28_crp=das28_crp,
        cdai=cdai,
        sdai=sdai,
        das28_esr_category=_categories(das28_esr, indices.das28_category),
        das28_crp_category=_categories(das28_crp, indices.das28_category),
        cdai_category=_categories(cdai, indices.cdai_category),
        sdai_category=_categories(sdai, indices.sdai_category),
    )


def _last_per_patient(ordered: np.ndarray, patient: np.ndarray, eligible: np.ndarray, n_patients: int) -> np.ndarray:
    """Row position of the last eligible visit per patient code (-1 if none), given the rows sorted by
    patient then month (``ordered``)."""
    rows = ordered[eligible[ordered]]
    codes = patient[rows]
    is_last = np.ones(codes.size, dtype=bool)
    is_last[:-1] = codes[1:] != codes[:-1]
    last = np.full(n_patients, -1, dtype=np.int64)
    last[codes[is_last]] = rows[is_last]
    return last


def derive(cohort: Cohort) -> Derived:
    """Indices per visit and, per patient, baseline, follow-up (LOCF), ΔDAS28, EULAR response, trough level."""
    follow_up_month = int(cohort.study.follow_up_month)
    visits = add_indices(cohort.visits)
    patients = cohort.patients.reset_index(drop=True)
    n_patients = len(patients)

    # Integer codes in the patients' order: the whole selection is done on integer arrays.
    patient = pd.Index(patients["patient_id"]).get_indexer(visits["patient_id"]).astype(np.int64)
    if np.any(patient < 0):
        raise AnalysisError("a visit belongs to a patient missing from the patients sheet")
    month = visits["month"].to_numpy(dtype=np.int64)
    ordered = np.lexsort((month, patient))  # by patient, then month: one sort serves every selection

    baseline = _last_per_patient(ordered, patient, month == 0, n_patients)
    if np.any(baseline < 0):
        missing = patients["patient_id"].to_numpy()[baseline < 0]
        raise AnalysisError(f"no baseline (month 0) visit for patient(s): {', '.join(map(str, missing[:10]))}")
    window = int(cohort.study.visit_window_months)
    # The visit in the window around the follow-up month, closest first, the earlier on a tie; without one, the
    # last visit before the window (every patient has month 0, so baseline is the fallback without a special case).
    in_window = _closest_per_patient(patient, month, (month > 0) & (np.abs(month - follow_up_month) <= window), follow_up_month, n_patients)
    carried = _last_per_patient(ordered, patient, (month < follow_up_month - window) | (month == 0), n_patients)
    follow_up = np.where(in_window >= 0, in_window, carried)
    level = _column(visits, "tcz_trough_ug_ml")
    measured = (month > 0) & ~np.isnan(level)
    if cohort.study.level_month is None:
        # The level at the follow-up visit, else the last one measured at an earlier post-baseline visit.
        trough = _last_per_patient(ordered, patient, measured & (month <= month[follow_up][patient]), n_patients)
    else:
        level_month = int(cohort.study.level_month)
        # The level measured at the level month's visit, or the closest measured within the window; no fall-back.
        trough = _closest_per_patient(patient, month, measured & (np.abs(month - level_month) <= window), level_month, n_patients)

    columns: dict[str, np.ndarray | pd.Categorical] = {}
    for measure in MEASURES:
        values = _column(visits, measure)
        columns[f"{measure}_baseline"] = values[baseline]
        columns[measure] = values[follow_up]
    for category in CATEGORIES:
        values = visits[category].array
        columns[f"{category}_baseline"] = values.take(baseline)
        columns[category] = values.take(follow_up)
    follow_up_visit_month = month[follow_up]
    has_level = trough >= 0
    columns["follow_up_visit_month"] = follow_up_visit_month
    columns["carried_forward"] = in_window < 0
    columns["delta_das28"] = columns["das28_esr_baseline"] - columns["das28_esr"]
    response = indices.eular_response(columns["das28_esr_baseline"], columns["das28_esr"])
    columns["eular_response"] = _categorical(response, np.arange(n_patients), indices.EULAR_RESPONSES)
    columns["trough_level"] = np.where(has_level, level[trough], np.nan)
    columns["trough_month"] = np.where(has_level, month[trough].astype(float), np.nan)

    derived_patients = pd.concat([patients, pd.DataFrame(columns, index=patients.index)], axis=1)
    warnings = _follow_up_warnings(visits, patients["patient_id"].to_numpy(), patient, month, in_window, follow_up_month, window)
    return Derived(visits=visits, patients=derived_patients, follow_up_month=follow_up_month, warnings=warnings)


def _closest_per_patient(patient: np.ndarray, month: np.ndarray, eligible: np.ndarray, target: int, n_patients: int) -> np.ndarray:
    """Row position of the eligible visit closest to month ``target`` per patient code (-1 if none), the earlier of
    two equally close visits."""
    rows = np.flatnonzero(eligible)
    distance = np.abs(month[rows] - target) * 2 + (month[rows] > target)  # a tie goes to the earlier visit
    rows = rows[np.lexsort((distance, patient[rows]))]
    codes = patient[rows]
    is_first = np.ones(codes.size, dtype=bool)
    is_first[1:] = codes[1:] != codes[:-1]
    closest = np.full(n_patients, -1, dtype=np.int64)
    closest[codes[is_first]] = rows[is_first]
    return closest


def _follow_up_warnings(
    visits: pd.DataFrame, patient_ids: np.ndarray, patient: np.ndarray, month: np.ndarray, in_window: np.ndarray,
    follow_up_month: int, window: int,
) -> tuple[Problem, ...]:
    """A warning for each follow-up visit a window placed (not at the follow-up month), and one per patient for
    the visits after the follow-up (beyond the window) that were therefore not used, naming each visit's row;
    in the visits sheet's row order (of the first row named)."""
    excel_row = visits["excel_row"].to_numpy(dtype=np.int64)
    placed = in_window[in_window >= 0]
    placed = placed[month[placed] != follow_up_month]
    found: list[tuple[int, str]] = [
        (row, f"the visit at month {month[row]} of patient {patient_ids[patient[row]]} was used as the month-{follow_up_month} "
              f"follow-up visit, within the ±{window}-month window ({WINDOW_KEY})")
        for row in placed.tolist()
    ]  # fmt: skip
    beyond = f"after the month-{follow_up_month} follow-up" + (f" and its ±{window}-month window ({WINDOW_KEY})" if window else "")
    unused = np.flatnonzero(month > follow_up_month + window)
    unused = unused[np.lexsort((excel_row[unused], patient[unused]))]  # by patient, then row
    starts = np.flatnonzero(np.r_[True, patient[unused][1:] != patient[unused][:-1]]) if unused.size else unused
    for own in np.split(unused, starts[1:]) if unused.size else ():
        first = int(own[0])
        who = f"patient {patient_ids[patient[first]]}"
        if own.size == 1:
            found.append((first, f"the visit at month {month[first]} of {who} is {beyond}, so it was not used"))
        else:
            months = join_words([str(m) for m in month[own].tolist()])
            rows = join_words([str(r) for r in excel_row[own].tolist()])
            found.append((first, f"the {own.size} visits at months {months} of {who} (rows {rows}) are {beyond}, so they were not used"))
    found.sort(key=lambda item: int(excel_row[item[0]]))
    return tuple(Problem(VISITS_SHEET, int(excel_row[row]), "month", str(month[row]), sentence, "warning") for row, sentence in found)
