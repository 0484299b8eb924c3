"""Clinical disease-activity indices and their categories, vectorised over numpy arrays or pandas Series.

Formulas: DAS28 (das-score.nl), CDAI/SDAI (Aletaha & Smolen, Clin Exp Rheumatol 2005).
Inputs: joint counts out of 28, ESR in mm/h, CRP in mg/L, global assessments as 0-100 mm VAS.
Results are at full precision; categories compare values rounded half up to 2 decimals, as
clinical calculators display them and as the report prints them (``reportgen.rounding``).
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np

# Arrays of scores, rounded by the report's one rule (see reportgen.rounding).
from reportgen.rounding import round_half_up_array as round_half_up

ArrayLike = TypeVar("ArrayLike")

DAS28_THRESHOLDS = (2.6, 3.2, 5.1)  # remission < 2.6 <= low <= 3.2 < moderate <= 5.1 < high
CDAI_THRESHOLDS = (2.8, 10.0, 22.0)  # remission <= 2.8 < low <= 10 < moderate <= 22 < high
SDAI_THRESHOLDS = (3.3, 11.0, 26.0)  # remission <= 3.3 < low <= 11 < moderate <= 26 < high
ACTIVITY_CATEGORIES = ("remission", "low", "moderate", "high")
EULAR_RESPONSES = ("none", "moderate", "good")


def das28_esr(tjc28, sjc28, esr_mm_h, patient_global_mm):
    """DAS28-ESR, 4 variables."""
    return (
        0.56 * np.sqrt(tjc28)
        + 0.28 * np.sqrt(sjc28)
        + 0.70 * np.log(esr_mm_h)
        + 0.014 * patient_global_mm
    )


def das28_crp(tjc28, sjc28, crp_mg_l, patient_global_mm):
    """DAS28-CRP, 4 variables; CRP in mg/L."""
    return (
        0.56 * np.sqrt(tjc28)
        + 0.28 * np.sqrt(sjc28)
        + 0.36 * np.log(np.asarray(crp_mg_l, dtype=float) + 1.0)
        + 0.014 * patient_global_mm
        + 0.96
    )


def das28_esr_3(tjc28, sjc28, esr_mm_h):
    """DAS28-ESR, 3 variables (no patient global)."""
    return (0.56 * np.sqrt(tjc28) + 0.28 * np.sqrt(sjc28) + 0.70 * np.log(esr_mm_h)) * 1.08 + 0.16


def das28_crp_3(tjc28, sjc28, crp_mg_l):
    """DAS28-CRP, 3 variables (no patient global); CRP in mg/L."""
    return (
        0.56 * np.sqrt(tjc28) + 0.28 * np.sqrt(sjc28) + 0.36 * np.log(np.asarray(crp_mg_l, dtype=float) + 1.0)
    ) * 1.10 + 1.15


def cdai(tjc28, sjc28, patient_global_mm, evaluator_global_mm):
    """CDAI; the global assessments enter in cm (0-10), so mm are divided by 10."""
    return tjc28 + sjc28 + patient_global_mm / 10.0 + evaluator_global_mm / 10.0


def sdai(tjc28, sjc28, patient_global_mm, evaluator_global_mm, crp_mg_l):
    """SDAI = CDAI + CRP in mg/dL (CRP given in mg/L, divided by 10)."""
    return cdai(tjc28, sjc28, patient_global_mm, evaluator_global_mm) + crp_mg_l / 10.0


def _categorise(values, thresholds: tuple[float, float, float], remission_inclusive: bool) -> np.ndarray:
    rounded = round_half_up(values, 2)
    remission, low, moderate = thresholds
    in_remission = rounded <= remission if remission_inclusive else rounded < remission
    result = np.select(
        [np.isnan(rounded), in_remission, rounded <= low, rounded <= moderate],
        ["", "remission", "low", "moderate"],
        default="high",
    )
    return result.astype(object)


def das28_category(values) -> np.ndarray:
    """remission < 2.6; low 2.6-3.2; moderate > 3.2-5.1; high > 5.1 (values rounded to 2 decimals)."""
    return _categorise(values, DAS28_THRESHOLDS, remission_inclusive=False)


def cdai_category(values) -> np.ndarray:
    """remission <= 2.8; low <= 10; moderate <= 22; high > 22."""
    return _categorise(values, CDAI_THRESHOLDS, remission_inclusive=True)


def sdai_category(values) -> np.ndarray:
    """remission <= 3.3; low <= 11; moderate <= 26; high > 26."""
    return _categorise(values, SDAI_THRESHOLDS, remission_inclusive=True)


def eular_response(baseline_das28, current_das28) -> np.ndarray:
    """EULAR response ('none' | 'moderate' | 'good') from baseline and current DAS28.

    Both scores and their difference are rounded to 2 decimals before comparing, so that
    4.4 -> 3.2 (a difference of 1.2000000000000002 in binary) is 'moderate', not 'good'.
    """
    baseline = round_half_up(baseline_das28, 2)
    current = round_half_up(current_das28, 2)
    delta = round_half_up(baseline - current, 2)
    large = delta > 1.2
    medium = (delta > 0.6) & ~large
    result = np.select(
        [
            np.isnan(delta),
            (current <= 3.2) & large,
            (current <= 5.1) & (large | medium),
            (current > 5.1) & large,
        ],
        ["", "good", "moderate", "moderate"],
        default="none",
    )
    return result.astype(object)
