"""Cohorts built in code for the derive and analysis tests: a small factory and a seeded generator.

The frames follow the validated contract: patients with nullable boolean RF/ACPA, int64 counts, float64
measures, NaN trough levels where not measured (always at month 0); every cohort made here is checked
against the stage contract (``reportgen.frames.CohortPatients`` and ``CohortVisits``), as the pipeline
checks the validate stage's output.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from reportgen.frames import check_cohort
from reportgen.model import Cohort, StudyOptions

PATIENT_DEFAULTS: dict[str, Any] = {
    "sex": "F",
    "age_years": 55.0,
    "disease_duration_years": 10.0,
    "rf_positive": True,
    "acpa_positive": True,
    "prior_biologics": 1,
    "concomitant_mtx": True,
    "withdrawal_month": np.nan,
    "withdrawal_reason": None,
}
VISIT_DEFAULTS: dict[str, Any] = {
    "tjc28": 4,
    "sjc28": 3,
    "esr_mm_h": 20.0,
    "crp_mg_l": 5.0,
    "patient_global_mm": 50.0,
    "evaluator_global_mm": 40.0,
    "trough_level": np.nan,
}


def visit(patient_id: str, month: int, **values: Any) -> dict[str, Any]:
    """One visit row with default measures, overridden by ``values``."""
    return {"patient_id": patient_id, "month": month, **VISIT_DEFAULTS, **values}


def _typed_patients(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["patient_id"] = frame["patient_id"].astype(str)
    for column in ("rf_positive", "acpa_positive"):
        frame[column] = frame[column].astype("boolean")
    frame["prior_biologics"] = frame["prior_biologics"].astype("int64")
    frame["concomitant_mtx"] = frame["concomitant_mtx"].astype(bool)
    for column in ("age_years", "disease_duration_years", "withdrawal_month"):
        frame[column] = frame[column].astype("float64")
    frame["withdrawal_reason"] = frame["withdrawal_reason"].astype(object)
    frame["excel_row"] = np.arange(2, len(frame) + 2)
    return frame.reset_index(drop=True)


def _typed_visits(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["patient_id"] = frame["patient_id"].astype(str)
    for column in ("month", "tjc28", "sjc28"):
        frame[column] = frame[column].astype("int64")
    for column in ("esr_mm_h", "crp_mg_l", "patient_global_mm", "evaluator_global_mm", "trough_level"):
        frame[column] = frame[column].astype("float64")
    # The validator ignores levels at month 0.
    frame.loc[frame["month"] == 0, "trough_level"] = np.nan
    frame["level_below_lloq"] = False  # no level typed '<LLOQ' (tests of it build workbooks)
    frame["excel_row"] = np.arange(2, len(frame) + 2)
    return frame.reset_index(drop=True)


def make_cohort(
    visits: Iterable[Mapping[str, Any]],
    patients: Iterable[Mapping[str, Any]] = (),
    study: StudyOptions | None = None,
) -> Cohort:
    """A cohort from visit rows (see ``visit``); patients default to ``PATIENT_DEFAULTS``.

    ``patients`` rows override the defaults by patient_id; every patient seen in the visits is
    created, in order of first appearance.
    """
    visit_frame = pd.DataFrame(list(visits))
    overrides = {str(row["patient_id"]): dict(row) for row in patients}
    ids = list(dict.fromkeys([*map(str, visit_frame["patient_id"]), *overrides]))
    patient_frame = pd.DataFrame([{**PATIENT_DEFAULTS, **overrides.get(pid, {}), "patient_id": pid} for pid in ids])
    return check_cohort(Cohort(
        patients=_typed_patients(patient_frame),
        visits=_typed_visits(visit_frame),
        study=study or StudyOptions(),
        warnings=(),
        source_name="test.xlsx",
        source_sha256="0" * 64,
    ))


def random_cohort(
    seed: int,
    n_patients: int = 40,
    months: tuple[int, ...] = (0, 3, 6, 9, 12),
    study: StudyOptions | None = None,
    dropout: float = 0.2,
    no_level: float = 0.05,
    missing_level: float = 0.2,
    late_visit: float = 0.1,
) -> Cohort:
    """A realistic, seeded cohort, vectorised so it scales to 100,000 patients.

    ``dropout``: share withdrawing at a random post-baseline visit (no later visits);
    ``no_level``: share with no trough level at all; ``missing_level``: share of other post-baseline
    levels not measured; ``late_visit``: share with an extra visit at month 15 (after follow-up).
    Levels include ties (undetectable = 0) and activity falls with the level, so tests have signal.
    """
    rng = np.random.default_rng(seed)
    ids = np.array([f"P{i:06d}" for i in range(n_patients)], dtype=object)
    exposure = rng.lognormal(mean=2.0, sigma=1.0, size=n_patients)
    exposure[rng.random(n_patients) < 0.15] = 0.0
    post = np.array([m for m in months if m > 0])
    last_index = np.full(n_patients, len(post) - 1)
    drops = rng.random(n_patients) < dropout
    last_index[drops] = rng.integers(-1, len(post) - 1, size=int(drops.sum()))  # -1: no post-baseline visit
    withdrawal = np.where(drops, np.where(last_index >= 0, post[np.maximum(last_index, 0)] + 1.0, 1.0), np.nan)

    all_months = np.array([0, *post, 15])
    n_visits = len(all_months)
    grid_patient = np.repeat(np.arange(n_patients), n_visits)
    grid_month = np.tile(all_months, n_patients)
    position = np.tile(np.arange(n_visits), n_patients) - 1  # -1 baseline, 0.. post-baseline, last = month 15
    keep = (position < 0) | (position <= last_index[grid_patient])
    keep &= (grid_month != 15) | ((rng.random(grid_month.size) < late_visit) & ~drops[grid_patient])
    grid_patient, grid_month = grid_patient[keep], grid_month[keep]
    size = grid_patient.size

    activity = np.clip(6.0 - 0.08 * exposure[grid_patient] * (grid_month > 0) + rng.normal(0, 1.0, size), 1.0, 9.0)
    level = np.round(exposure[grid_patient] * rng.lognormal(0, 0.2, size), 1)
    level[(rng.random(size) < missing_level) | (grid_month == 0)] = np.nan
    no_level_patient = rng.random(n_patients) < no_level
    level[no_level_patient[grid_patient]] = np.nan
    visits = pd.DataFrame(
        {
            "patient_id": ids[grid_patient],
            "month": grid_month,
            "tjc28": np.clip(np.round(activity * 2 + rng.normal(0, 2, size)), 0, 28).astype(np.int64),
            "sjc28": np.clip(np.round(activity * 1.5 + rng.normal(0, 2, size)), 0, 28).astype(np.int64),
            "esr_mm_h": np.clip(np.round(activity * 5 + rng.normal(0, 6, size)), 1, 120).astype(float),
            "crp_mg_l": np.clip(np.round(activity * 2 + rng.normal(0, 4, size), 1), 0, 200),
            "patient_global_mm": np.clip(np.round(activity * 10 + rng.normal(0, 10, size)), 0, 100).astype(float),
            "evaluator_global_mm": np.clip(np.round(activity * 9 + rng.normal(0, 10, size)), 0, 100).astype(float),
            "trough_level": level,
        }
    )
    patients = pd.DataFrame(
        {
            "patient_id": ids,
            "sex": np.where(rng.random(n_patients) < 0.85, "F", "M"),
            "age_years": np.round(rng.normal(55, 12, n_patients).clip(18, 90), 1),
            "disease_duration_years": np.round(rng.gamma(3.0, 4.0, n_patients).clip(0, 60), 1),
            "rf_positive": pd.array(np.where(rng.random(n_patients) < 0.1, None, rng.random(n_patients) < 0.8), dtype="boolean"),
            "acpa_positive": pd.array(np.where(rng.random(n_patients) < 0.1, None, rng.random(n_patients) < 0.75), dtype="boolean"),
            "prior_biologics": rng.integers(0, 4, n_patients),
            "concomitant_mtx": rng.random(n_patients) < 0.55,
            "withdrawal_month": withdrawal,
            "withdrawal_reason": np.where(drops, np.where(rng.random(n_patients) < 0.5, "inefficacy", "adverse event"), None),
        }
    )
    return check_cohort(Cohort(
        patients=_typed_patients(patients),
        visits=_typed_visits(visits),
        study=study or StudyOptions(),
        warnings=(),
        source_name=f"random-{seed}.xlsx",
        source_sha256="0" * 64,
    ))
