"""Clinical disease-activity indices and their categories, vectorised over numpy arrays or pandas Series.

Formulas: DAS28 (das-score.nl), CDAI/SDAI (Aletaha & Smolen, Clin Exp Rheumatol 2005).
Inputs: joint counts out of 28, ESR in mm/h, CRP in mg/L, global assessments as 0-100 mm VAS.
Results are at full precision; categories compare values rounded half up to 2 decimals, as
clinical calculators display them and as the report prints them (``reportgen.rounding``).
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np

from reportgen import drugs

# Arrays of scores, rounded by the report's one rule (see reportgen.rounding).
from reportgen.rounding import round_half_up_array as round_half_up

ArrayLike = TypeVar("ArrayLike")

# DAS28 coefficients (das-score.nl): of √TJC28, √SJC28, ln(ESR) or ln(CRP + 1), and the patient global in mm;
# DAS28-CRP adds a constant. The Methods section prints them from here.
DAS28_TJC = 0.56
DAS28_SJC = 0.28
DAS28_LN_ESR = 0.70
DAS28_LN_CRP = 0.36
DAS28_PTGA = 0.014
DAS28_CRP_CONSTANT = 0.96
# Scores are put in categories, and compared for the EULAR response, rounded to this many decimals.
CATEGORY_DECIMALS = 2
# EULAR response: an improvement in DAS28 above EULAR_LARGE_IMPROVEMENT is large, above
# EULAR_MODERATE_IMPROVEMENT moderate; the current DAS28 is judged by DAS28_THRESHOLDS (low <= 3.2, high > 5.1).
EULAR_LARGE_IMPROVEMENT = 1.2
EULAR_MODERATE_IMPROVEMENT = 0.6
DAS28_THRESHOLDS = (2.6, 3.2, 5.1)  # remission < 2.6 <= low <= 3.2 < moderate <= 5.1 < high
CDAI_THRESHOLDS = (2.8, 10.0, 22.0)  # remission <= 2.8 < low <= 10 < moderate <= 22 < high
SDAI_THRESHOLDS = (3.3, 11.0, 26.0)  # remission <= 3.3 < low <= 11 < moderate <= 26 < high
ACTIVITY_CATEGORIES = ("remission", "low", "moderate", "high")
EULAR_RESPONSES = ("none", "moderate", "good")
# The indices that contain an acute-phase reactant (ESR or CRP), and the one that contains neither: under a
# drug that lowers ESR and CRP directly (``lowers_acute_phase_reactants``) the latter is the reference index.
ACUTE_PHASE_INDICES = ("das28_esr", "das28_crp", "sdai")
REFERENCE_INDEX = "cdai"
# Whether the study's drug lowers ESR and CRP directly (interleukin-6 receptor antagonists): decided by the drug
# table's class, in reportgen.drugs; named here too, beside the indices it concerns.
lowers_acute_phase_reactants = drugs.lowers_acute_phase_reactants


def das28_esr(tjc28, sjc28, esr_mm_h, patient_global_mm):
    """DAS28-ESR, 4 variables."""
    return (
        DAS28_TJC * np.sqrt(tjc28)
        + DAS28_SJC * np.sqrt(sjc28)
        + DAS28_LN_ESR * np.log(esr_mm_h)
        + DAS28_PTGA * patient_global_mm
    )


def das28_crp(tjc28, sjc28, crp_mg_l, patient_global_mm):
    """DAS28-CRP, 4 variables; CRP in mg/L."""
    return (
        DAS28_TJC * np.sqrt(tjc28)
        + DAS28_SJC * np.sqrt(sjc28)
        + DAS28_LN_CRP * np.log(np.asarray(crp_mg_l, dtype=float) + 1.0)
        + DAS28_PTGA * patient_global_mm
        + DAS28_CRP_CONSTANT
    )


def cdai(tjc28, sjc28, patient_global_mm, evaluator_global_mm):
    """CDAI; the global assessments enter in cm (0-10), so mm are divided by 10."""
    return tjc28 + sjc28 + patient_global_mm / 10.0 + evaluator_global_mm / 10.0


def sdai(tjc28, sjc28, patient_global_mm, evaluator_global_mm, crp_mg_l):
    """SDAI = CDAI + CRP in mg/dL (CRP given in mg/L, divided by 10)."""
    return cdai(tjc28, sjc28, patient_global_mm, evaluator_global_mm) + crp_mg_l / 10.0


def _categorise(values, thresholds: tuple[float, float, float], remission_inclusive: bool) -> np.ndarray:
    rounded = round_half_up(values, CATEGORY_DECIMALS)
    remission, low, moderate = thresholds
    in_remission = rounded <= remission if remission_inclusive else rounded < remission
    result = np.select(
        [np.isnan(rounded), in_remission, rounded <= low, rounded <= moderate],
        ["", *ACTIVITY_CATEGORIES[:3]],
        default=ACTIVITY_CATEGORIES[3],
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
    baseline = round_half_up(baseline_das28, CATEGORY_DECIMALS)
    current = round_half_up(current_das28, CATEGORY_DECIMALS)
    delta = round_half_up(baseline - current, CATEGORY_DECIMALS)
    _, low_activity, high_activity = DAS28_THRESHOLDS
    none, moderate, good = EULAR_RESPONSES
    large = delta > EULAR_LARGE_IMPROVEMENT
    medium = (delta > EULAR_MODERATE_IMPROVEMENT) & ~large
    result = np.select(
        [
            np.isnan(delta),
            (current <= low_activity) & large,
            (current <= high_activity) & (large | medium),
            (current > high_activity) & large,
        ],
        ["", good, moderate, moderate],
        default=none,
    )
    return result.astype(object)
