"""The example cohort (``input/cohort.xlsx``) and larger synthetic cohorts for tests and benchmarks.

    python -m reportgen.example [PATH]        # writes input/cohort.xlsx unless PATH is given

Every patient here is synthetic. The example has 34 patients with visits at months 0, 3, 6, 9 and 12,
calibrated so that the analysis reproduces the source abstract (``shared/seed/abstract.txt``):
trough-level quartiles of 8, 7, 8 and 10 patients (one patient never has a level: 34 included,
33 analysed), the EULAR response table none 4/1/1/0, moderate 3/0/4/1, good 1/6/3/9, and follow-up
means per quartile that print, rounded half up, exactly as the abstract prints them, with SDs within
0.05 of the printed SDs (DAS28-ESR, CDAI, swollen and tender joints, ESR, CRP in mg/L; SDAI falls
where it must, since the abstract prints it below CDAI).

How the values are obtained (deterministically, from ``DEFAULT_SEED``, in about two seconds):

1. Per quartile, the printed mean fixes the exact total of each integer component at follow-up
   (SJC Q3: 45/8 = 5.625 prints 5.63), and the CDAI mean fixes the total of the two global
   assessments (patient + evaluator VAS, mm).
2. Joint counts, ESR and CRP are drawn from log-normal distributions with the printed mean and SD,
   rounded to whole units (CRP to 0.1 mg/L), and then units are moved between patients (the total
   never changes) until the SD is within 0.03 of the printed SD. Values are handed to patients by a
   latent severity order with some jitter, so one patient's components go together.
3. The patient global (PtGA) total is the smallest that puts the DAS28-ESR mean inside its printing
   window; PtGA is then moved between patients until the DAS28-ESR SD is on target and the patients
   who must be good responders have a follow-up DAS28 of at most 3.19. The evaluator global (EGA)
   gets the rest of the VAS total, moved between patients until the CDAI SD is on target. Both
   globals are then polished towards plausible values (about 2.5 mm per joint around the group
   mean) by moves that keep every target met; of several such draws per quartile the most
   plausible is kept. The printed numbers leave little room: in Q2 and Q3 the DAS28 and CDAI means
   together imply an evaluator global of only a few mm on average.
4. The EULAR response is given by follow-up DAS28 (highest: none, then moderate, then good); each
   patient's baseline is drawn around 5.3 and solved (ESR from the DAS28 formula) so that
   ``reportgen.indices.eular_response`` gives exactly that response.
5. Five patients stop before month 12 (inefficacy or adverse event), so their follow-up comes from
   their last visit (LOCF); months 3, 6 and 9 trend from baseline to follow-up with noise. Trough
   levels are drawn inside each quartile's interval of the cut points; some visits have no level,
   three patients have none at month 12 (their month-9 level stratifies them), one has none at all.
6. Every target is then checked again from the finished rows with ``reportgen.indices``; a failed
   check (none is expected) moves on to the next attempt of the same seeded stream.

One compromise: CDAI Q2 (n = 7) prints 7.72, but with whole-mm VAS a mean of 7 CDAI values is a
multiple of 1/70 (7.714 or 7.729), so one evaluator global in Q2 is recorded to half a millimetre.

Randomness for the example comes only from ``random.Random.random()``, whose stream Python guarantees
across versions, so the workbook does not change with numpy or Python upgrades. The synthetic
cohorts (``generate_synthetic_cohort``) use numpy and are fast: 100,000 patients in about a second; their
workbooks are written by a small streaming SpreadsheetML writer (``engine="stream"``).
"""

from __future__ import annotations

import math
import random
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

import numpy as np

from reportgen.indices import cdai, das28_esr, eular_response, round_half_up

if TYPE_CHECKING:
    import pandas as pd

PATIENT_COLUMNS = (
    "patient_id",
    "sex",
    "age_years",
    "disease_duration_years",
    "rf_positive",
    "acpa_positive",
    "prior_biologics",
    "concomitant_mtx",
    "withdrawal_month",
    "withdrawal_reason",
)
VISIT_COLUMNS = (
    "patient_id",
    "month",
    "tjc28",
    "sjc28",
    "esr_mm_h",
    "crp_mg_l",
    "patient_global_mm",
    "evaluator_global_mm",
    "tcz_trough_ug_ml",
)
STUDY_COLUMNS = ("key", "value")
VISIT_MONTHS = (0, 3, 6, 9, 12)
FOLLOW_UP_MONTH = 12
DEFAULT_SEED = 20140611
DEFAULT_PATH = Path("input") / "cohort.xlsx"
# Fixed so that the file's bytes, not only its cells, are the same on every run.
WORKBOOK_CREATED = datetime(2014, 6, 11, 0, 0, 0)

QUARTILE_CUTPOINTS = (2.9, 9.1, 18.5)
QUARTILE_LABELS = ("Q1", "Q2", "Q3", "Q4")
QUARTILE_SIZES = (8, 7, 8, 10)
EULAR_COUNTS = {"none": (4, 1, 1, 0), "moderate": (3, 0, 4, 1), "good": (1, 6, 3, 9)}
# The abstract's follow-up (month 12, LOCF) mean and SD per quartile, as printed (decimal point).
PRINTED_FOLLOW_UP: dict[str, tuple[tuple[str, str], ...]] = {
    "das28_esr": (("4.46", "1.5"), ("2.58", "0.87"), ("3.6", "0.79"), ("2.17", "0.74")),
    "cdai": (("23", "13.9"), ("7.72", "4.44"), ("13.38", "4.35"), ("6.33", "4.62")),
    "sjc28": (("7.5", "6.6"), ("2.29", "2.06"), ("5.63", "4.3"), ("1.1", "1.6")),
    "tjc28": (("5.5", "5.7"), ("1.71", "2.06"), ("3.13", "2.8"), ("0.8", "0.9")),
    "esr_mm_h": (("22.6", "14.8"), ("5.6", "1.6"), ("9.4", "3.5"), ("6.4", "3.5")),
    "crp_mg_l": (("10.2", "17.4"), ("2.3", "3.4"), ("0.56", "0.4"), ("0.42", "0.66")),
}
STUDY = (
    ("title", "Serum tocilizumab trough levels and disease activity after one year in rheumatoid "
              "arthritis (synthetic example cohort)"),
    ("authors", "M. Alvar Reyes, L. Castell Moreno, J. Iturbe Sanz, P. Olmedo Vidal, R. Quintana Gil"),
    ("institution", "Rheumatology Department, Hospital Universitario de Valdemora (fictional)"),
    ("quartile_cutpoints", "; ".join(format(edge, ".15g") for edge in QUARTILE_CUTPOINTS)),
    ("follow_up_month", FOLLOW_UP_MONTH),
    ("continuous_test", "kruskal-wallis"),
    ("categorical_test", "chi-square"),
    ("decimal_separator", "."),
    ("abstract_character_limit", 3600),
    ("published", "published.yaml"),
)

SD_TOLERANCE = 0.03  # aimed for; the acceptance tolerance is 0.05
GOOD_DAS28_MAX = 3.19  # a good responder needs a follow-up DAS28 <= 3.2 (rounded)
MAX_ATTEMPTS = 2000
CANDIDATES_PER_QUARTILE = 4  # calibrated draws per quartile; the one whose VAS best follow the joints is kept
VAS_MM_PER_JOINT = 2.5


# --- randomness ----------------------------------------------------------------------------------


class _Stream:
    """Seeded randomness built only on ``random.Random.random()`` (stable across Python versions)."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)

    def uniform(self, low: float = 0.0, high: float = 1.0) -> float:
        return low + (high - low) * self._random.random()

    def integer(self, n: int) -> int:
        """0 <= k < n."""
        return min(n - 1, int(self._random.random() * n))

    def normal(self) -> float:
        # Box-Muller; 1 - u keeps the logarithm away from zero.
        u, v = 1.0 - self._random.random(), self._random.random()
        return math.sqrt(-2.0 * math.log(u)) * math.cos(2.0 * math.pi * v)

    def lognormal_with(self, mean: float, sd: float) -> float:
        sigma2 = math.log(1.0 + (sd / mean) ** 2)
        return math.exp(math.log(mean) - sigma2 / 2.0 + math.sqrt(sigma2) * self.normal())

    def shuffled(self, items: Sequence[Any]) -> list[Any]:
        items = list(items)
        for i in range(len(items) - 1, 0, -1):
            j = self.integer(i + 1)
            items[i], items[j] = items[j], items[i]
        return items


# --- calibration of the follow-up visit ----------------------------------------------------------


def _decimals(printed: str) -> int:
    return len(printed.split(".")[1]) if "." in printed else 0


def _prints_as(value: float, printed: str) -> bool:
    return float(round_half_up(value, _decimals(printed))) == float(printed)


def _total_in_units(printed: str, n: int, unit: float) -> int:
    """The whole number of ``unit`` whose mean over n prints as ``printed``, nearest the printed mean."""
    centre = round(float(printed) * n / unit)
    for offset in sorted(range(-3 * n, 3 * n + 1), key=abs):
        units = centre + offset
        if units >= 0 and _prints_as(units * unit / n, printed):
            return units
    raise ValueError(f"no total of {unit}-steps over {n} values prints as {printed}")


def _sd(values: Sequence[float]) -> float:
    n = len(values)
    mean = sum(values) / n
    return math.sqrt(sum((value - mean) ** 2 for value in values) / (n - 1))


def _move_units(stream: _Stream, values: list[int], low: int, high: int, penalty, max_step: int,
                iterations: int = 4000) -> list[int] | None:
    """Move units between entries (their total never changes) while the penalty does not grow; None unless it reaches 0."""
    values = list(values)
    current = penalty(values)
    n = len(values)
    for _ in range(iterations):
        if current <= 0.0:
            return values
        i = stream.integer(n)
        j = stream.integer(n - 1)
        j += j >= i
        step = 1 + stream.integer(max_step)
        if values[i] - step < low or values[j] + step > high:
            continue
        values[i] -= step
        values[j] += step
        candidate = penalty(values)
        if candidate <= current:
            current = candidate
        else:
            values[i] += step
            values[j] -= step
    return values if current <= 0.0 else None


def _polish(stream: _Stream, blocks: list[list[int]], low: int, high: int, feasible, strangeness, max_step: int,
            iterations: int = 1500) -> float:
    """Move units within each block (block totals never change) while ``feasible`` holds and ``strangeness`` does not grow.

    Works in place; returns the final strangeness.
    """
    current = strangeness(blocks)
    n = len(blocks[0])
    for _ in range(iterations):
        block = blocks[stream.integer(len(blocks))]
        i = stream.integer(n)
        j = stream.integer(n - 1)
        j += j >= i
        step = 1 + stream.integer(max_step)
        if block[i] - step < low or block[j] + step > high:
            continue
        block[i] -= step
        block[j] += step
        candidate = strangeness(blocks)
        if candidate <= current and feasible(blocks):
            current = candidate
        else:
            block[i] += step
            block[j] -= step
    return current


def _repair_total(stream: _Stream, values: list[int], total: int, low: int, high: int) -> list[int]:
    if not low * len(values) <= total <= high * len(values):
        raise ValueError("total out of reach")
    while (difference := total - sum(values)) != 0:
        i = stream.integer(len(values))
        step = 1 if difference > 0 else -1
        if low <= values[i] + step <= high:
            values[i] += step
    return values


def _sample_with_sd(stream: _Stream, n: int, total: int, sd: float, low: int, high: int,
                    tolerance: float) -> list[int] | None:
    """n whole numbers in [low, high] summing to ``total`` with sample SD within ``tolerance`` of ``sd``; sorted descending."""
    mean = total / n
    values = [min(high, max(low, round(stream.lognormal_with(mean, sd)))) for _ in range(n)]
    values = _repair_total(stream, values, total, low, high)
    values = _move_units(stream, values, low, high, lambda v: max(0.0, abs(_sd(v) - sd) - tolerance),
                         max_step=max(1, round(sd / 3)))
    return None if values is None else sorted(values, reverse=True)


def _by_severity(stream: _Stream, descending: Sequence[Any], jitter: float = 0.8) -> list[Any]:
    """Hand the largest value to the most severe patient (index 0), with some jitter in the order."""
    n = len(descending)
    order = sorted(range(n), key=lambda i: i + jitter * stream.normal())
    out: list[Any] = [None] * n
    for value, patient in zip(descending, order):
        out[patient] = value
    return out


@dataclass(frozen=True)
class _QuartileTarget:
    label: str
    n: int
    none: int
    moderate: int
    good: int
    printed: dict[str, tuple[str, str]]  # outcome -> (mean, sd) as printed


def _quartile_targets() -> list[_QuartileTarget]:
    return [
        _QuartileTarget(
            label=label,
            n=QUARTILE_SIZES[q],
            none=EULAR_COUNTS["none"][q],
            moderate=EULAR_COUNTS["moderate"][q],
            good=EULAR_COUNTS["good"][q],
            printed={outcome: values[q] for outcome, values in PRINTED_FOLLOW_UP.items()},
        )
        for q, label in enumerate(QUARTILE_LABELS)
    ]


def _calibrate_follow_up(stream: _Stream, target: _QuartileTarget) -> tuple[list[dict[str, float]], float] | None:
    """One attempt at a quartile's follow-up rows and how far their VAS stray from the joint counts (lower is
    more plausible); None when this draw cannot meet the targets."""
    n, printed = target.n, target.printed

    def sample(outcome: str, unit: float, low: int, high: int) -> list[int] | None:
        mean, sd = printed[outcome]
        total = _total_in_units(mean, n, unit)
        return _sample_with_sd(stream, n, total, float(sd) / unit, low, high, SD_TOLERANCE / unit)

    drawn = [sample("tjc28", 1, 0, 28), sample("sjc28", 1, 0, 28), sample("esr_mm_h", 1, 1, 200),
             sample("crp_mg_l", 0.1, 1, 5000)]
    if any(values is None for values in drawn):
        return None
    tjc, sjc, esr, crp_tenths = (_by_severity(stream, values) for values in drawn)

    # PtGA: its total fixes the DAS28-ESR mean (the other terms are fixed); its spread fixes the SD.
    das_mean, das_sd = printed["das28_esr"][0], float(printed["das28_esr"][1])
    half_unit = 0.5 * 10.0 ** -_decimals(das_mean)
    margin = 0.2 * half_unit
    base = [float(das28_esr(tjc[i], sjc[i], esr[i], 0.0)) for i in range(n)]
    ptga_total = math.ceil(((float(das_mean) - half_unit + margin) * n - sum(base)) / 0.014)
    if not 0 <= ptga_total <= 100 * n or (sum(base) + 0.014 * ptga_total) / n > float(das_mean) + half_unit - margin:
        return None
    joint_sum = [tjc[i] + sjc[i] for i in range(n)]
    mean_joints = sum(joint_sum) / n

    # Evaluator global: the rest of the VAS total (half-mm steps only where whole mm cannot print right).
    cdai_mean, cdai_sd = printed["cdai"][0], float(printed["cdai"][1])
    vas_half_mm = _half_mm_total(cdai_mean, n, sum(joint_sum))
    ega_total, half = divmod(vas_half_mm - 2 * ptga_total, 2)
    if ega_total < 0:
        return None
    half_at = n // 2 if half else -1

    # Realism: a patient's globals follow their joint counts (about 2.5 mm per joint) around the group
    # mean; the evaluator rates mostly the swollen joints.
    ptga_expected = [ptga_total / n + VAS_MM_PER_JOINT * (joint_sum[i] - mean_joints) for i in range(n)]
    swollen_mean = sum(sjc) / n
    ega_expected = [max(0.0, ega_total / n + VAS_MM_PER_JOINT * (sjc[i] - swollen_mean)) for i in range(n)]
    scale = ega_total / sum(ega_expected) if sum(ega_expected) > 0 else 0.0
    ega_expected = [e * scale for e in ega_expected]

    def cdai_sd_off(ptga_values: Sequence[float], ega_values: Sequence[float]) -> float:
        scores = [joint_sum[i] + (ptga_values[i] + ega_values[i] + (0.5 if i == half_at else 0.0)) / 10.0
                  for i in range(n)]
        return max(0.0, abs(_sd(scores) - cdai_sd) - SD_TOLERANCE)

    # Feasibility first: PtGA for the DAS28 SD and the good responders, then EGA for the CDAI SD.
    slope = 4.0 * stream.uniform(0.5, 1.5)
    ptga = [min(100, max(0, round(ptga_total / n + slope * ((n - 1) / 2 - i)))) for i in range(n)]
    ptga = _repair_total(stream, ptga, ptga_total, 0, 100)

    def das28_off(values: Sequence[int]) -> float:
        das = [base[i] + 0.014 * values[i] for i in range(n)]
        lowest = sorted(das)[: target.good]
        return max(0.0, abs(_sd(das) - das_sd) - SD_TOLERANCE) + sum(max(0.0, d - GOOD_DAS28_MAX) for d in lowest)

    ptga = _move_units(stream, ptga, 0, 100, das28_off, max_step=6)
    if ptga is None:
        return None
    ega = _repair_total(stream, [min(99, round(e)) for e in ega_expected], ega_total, 0, 99)
    ega = _move_units(stream, ega, 0, 99, lambda values: cdai_sd_off(ptga, values), max_step=8)
    if ega is None:
        return None

    # Then plausibility: move VAS units while every target still holds.
    def strangeness(blocks: list[list[int]]) -> float:
        p, e = blocks
        return sum((p[i] - ptga_expected[i]) ** 2 + (e[i] - ega_expected[i]) ** 2 for i in range(n)) / n

    def feasible(blocks: list[list[int]]) -> bool:
        return das28_off(blocks[0]) <= 0.0 and cdai_sd_off(blocks[0], blocks[1]) <= 0.0

    strange = _polish(stream, [ptga, ega], 0, 99, feasible, strangeness, max_step=4)

    rows = [
        {
            "tjc28": tjc[i],
            "sjc28": sjc[i],
            "esr_mm_h": esr[i],
            "crp_mg_l": round(crp_tenths[i] / 10.0, 1),
            "patient_global_mm": ptga[i],
            "evaluator_global_mm": ega[i] + 0.5 if i == half_at else ega[i],
        }
        for i in range(n)
    ]
    if not _follow_up_meets_targets(rows, target):
        return None
    return rows, strange


def _half_mm_total(printed_cdai: str, n: int, joints: int) -> int:
    """Total PtGA + EGA in half millimetres so that the CDAI mean prints right; whole mm when possible."""
    centre = round((float(printed_cdai) * n - joints) * 20)
    candidates = [centre + offset for offset in sorted(range(-40, 41), key=abs)]
    fits = [h for h in candidates if h >= 0 and _prints_as((joints + h / 20.0) / n, printed_cdai)]
    if not fits:
        raise ValueError(f"no VAS total gives a CDAI mean of {printed_cdai}")
    even = [h for h in fits if h % 2 == 0]
    return even[0] if even else fits[0]


def _follow_up_meets_targets(rows: list[dict[str, float]], target: _QuartileTarget) -> bool:
    """Check a quartile's follow-up rows with the project's formulas, as the analysis will see them."""
    columns = {key: np.array([row[key] for row in rows], dtype=float) for key in rows[0]}
    outcomes = {
        "das28_esr": das28_esr(columns["tjc28"], columns["sjc28"], columns["esr_mm_h"], columns["patient_global_mm"]),
        "cdai": cdai(columns["tjc28"], columns["sjc28"], columns["patient_global_mm"], columns["evaluator_global_mm"]),
        "sjc28": columns["sjc28"],
        "tjc28": columns["tjc28"],
        "esr_mm_h": columns["esr_mm_h"],
        "crp_mg_l": columns["crp_mg_l"],
    }
    for outcome, (mean, sd) in target.printed.items():
        values = outcomes[outcome]
        if not _prints_as(float(values.mean()), mean) or abs(float(values.std(ddof=1)) - float(sd)) > 0.04:
            return False
    das = round_half_up(outcomes["das28_esr"], 2)
    return int((das <= 3.2).sum()) >= target.good


# --- the rest of each patient: response, baseline, visits, levels ---------------------------------


def _eular_of(baseline: float, follow_up: float) -> str:
    return str(eular_response(np.array([baseline]), np.array([follow_up]))[0])


def _baseline_window(follow_up: float, response: str) -> tuple[float, float]:
    """Baseline DAS28 range (with a margin from every rounding edge) that gives ``response``."""
    if response == "good":
        return follow_up + 1.23, 8.2
    if response == "moderate":
        if follow_up <= 3.2:
            return follow_up + 0.63, follow_up + 1.17
        if follow_up <= 5.1:
            return follow_up + 0.63, 8.2
        return follow_up + 1.23, 8.4
    if follow_up <= 5.1:
        return follow_up + 0.05, follow_up + 0.57
    return follow_up + 0.05, follow_up + 1.17


def _baseline_visit(stream: _Stream, follow_up: dict[str, float], response: str) -> dict[str, float]:
    """Baseline components, typical of patients starting tocilizumab, giving exactly ``response``."""
    fu_das = float(das28_esr(follow_up["tjc28"], follow_up["sjc28"], follow_up["esr_mm_h"], follow_up["patient_global_mm"]))
    low, high = _baseline_window(fu_das, response)
    wanted = min(high, max(low, 5.3 + 1.0 * stream.normal()))
    best: dict[str, float] | None = None
    for _ in range(500):
        severity = min(1.0, max(0.0, (wanted - 2.5) / 4.5))
        tjc = min(28, max(max(1, int(follow_up["tjc28"])), round(stream.lognormal_with(2 + 13 * severity, 3 + 3 * severity))))
        sjc = min(28, max(int(follow_up["sjc28"]), round(stream.lognormal_with(1 + 9 * severity, 2 + 3 * severity))))
        esr = min(110, max(int(follow_up["esr_mm_h"]), 6, round(stream.lognormal_with(18 + 20 * severity, 14))))
        ptga = round((wanted - 0.56 * math.sqrt(tjc) - 0.28 * math.sqrt(sjc) - 0.70 * math.log(esr)) / 0.014)
        if not 25 <= ptga <= 100:
            continue
        das = float(das28_esr(tjc, sjc, esr, ptga))
        if not low <= das <= high or _eular_of(das, fu_das) != response:
            continue
        ega = min(100, max(5, round(0.8 * ptga + 10 * stream.normal())))
        crp = round(min(150.0, max(1.0, 0.45 * esr * math.exp(0.5 * stream.normal()))), 1)
        candidate = {"tjc28": tjc, "sjc28": sjc, "esr_mm_h": esr, "crp_mg_l": crp,
                     "patient_global_mm": ptga, "evaluator_global_mm": ega}
        if abs(das - wanted) < 0.15:
            return candidate
        best = best or candidate
    if best is None:
        raise RuntimeError(f"no baseline found for follow-up DAS28 {fu_das:.2f} and response {response}")
    return best


def _between(stream: _Stream, baseline: dict[str, float], follow_up: dict[str, float], fraction: float) -> dict[str, float]:
    """A visit on the way from baseline to follow-up (tocilizumab acts early: fraction is front-loaded)."""

    def mix(key: str) -> float:
        return baseline[key] + (follow_up[key] - baseline[key]) * fraction

    def whole(key: str, noise: float, low: int, high: int) -> int:
        return min(high, max(low, round(mix(key) + noise * stream.normal())))

    spread_esr = 1.0 + 0.1 * abs(baseline["esr_mm_h"] - follow_up["esr_mm_h"])
    spread_crp = 0.3 + 0.1 * abs(baseline["crp_mg_l"] - follow_up["crp_mg_l"])
    return {
        "tjc28": whole("tjc28", 1.0, 0, 28),
        "sjc28": whole("sjc28", 1.0, 0, 28),
        "esr_mm_h": whole("esr_mm_h", spread_esr, 1, 200),
        "crp_mg_l": round(min(500.0, max(0.1, mix("crp_mg_l") + spread_crp * stream.normal())), 1),
        "patient_global_mm": whole("patient_global_mm", 6.0, 0, 100),
        "evaluator_global_mm": whole("evaluator_global_mm", 5.0, 0, 100),
    }


def _trough_level(stream: _Stream, quartile: int) -> float:
    """A level (µg/mL, 1 decimal) inside the quartile's interval of the cut points."""
    e1, e2, e3 = QUARTILE_CUTPOINTS
    low, high = [(0.2, e1), (e1 + 0.2, e2 - 0.1), (e2 + 0.3, e3 - 0.1), (e3 + 0.5, 58.0)][quartile]
    u = stream.uniform()
    if quartile == 3:
        u = u**1.6  # the top quartile is skewed: most just above 18.5, a few up to ~58
    return round(low + (high - low) * u, 1)


def _fixed_counts(stream: _Stream, counts: Sequence[tuple[Any, int]]) -> list[Any]:
    values = [value for value, count in counts for _ in range(count)]
    return stream.shuffled(values)


def generate_example_cohort(seed: int = DEFAULT_SEED) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[tuple[str, Any]]]:
    """The calibrated 34-patient example: (patients rows, visits rows, study key/value rows).

    Rows are dicts keyed by the workbook contract's column names; None means a blank cell.
    """
    stream = _Stream(seed)
    targets = _quartile_targets()

    # 1. Follow-up visits, quartile by quartile.
    records: list[dict[str, Any]] = []
    for q, target in enumerate(targets):
        solutions = []
        for _ in range(MAX_ATTEMPTS):
            solution = _calibrate_follow_up(stream, target)
            if solution is not None:
                solutions.append(solution)
                if len(solutions) == CANDIDATES_PER_QUARTILE:
                    break
        if not solutions:
            raise RuntimeError(f"could not calibrate {target.label} in {MAX_ATTEMPTS} attempts")
        rows = min(solutions, key=lambda solution: solution[1])[0]
        das = [float(das28_esr(r["tjc28"], r["sjc28"], r["esr_mm_h"], r["patient_global_mm"])) for r in rows]
        by_activity = sorted(range(target.n), key=lambda i: -das[i])
        responses = ["none"] * target.none + ["moderate"] * target.moderate + ["good"] * target.good
        for rank, i in enumerate(by_activity):
            records.append({"quartile": q, "follow_up": rows[i], "response": responses[rank], "rank": rank})

    # The included patient who is never measured: a middling course, no level at any visit.
    records.append({
        "quartile": None,
        "follow_up": {"tjc28": 3, "sjc28": 2, "esr_mm_h": 11, "crp_mg_l": 1.4,
                      "patient_global_mm": 38, "evaluator_global_mm": 22},
        "response": "moderate",
        "rank": 0,
    })

    # 2. Who stops early (their follow-up visit is their last one: LOCF).
    def pick(q: int, response: str, nth: int = 0) -> dict[str, Any]:
        chosen = [r for r in records if r["quartile"] == q and r["response"] == response]
        return chosen[min(nth, len(chosen) - 1)]

    withdrawals = [
        (pick(0, "none", 0), 6, "inefficacy"),
        (pick(0, "none", 1), 9, "inefficacy"),
        (pick(2, "none", 0), 9, "inefficacy"),
        (pick(1, "good", 3), 6, "adverse event"),
        (pick(3, "good", 4), 9, "adverse event"),
    ]
    for record in records:
        record["withdrawal_month"], record["withdrawal_reason"] = None, None
    for record, month, reason in withdrawals:
        record["withdrawal_month"], record["withdrawal_reason"] = month, reason

    # 3. Baseline, intermediate visits and trough levels.
    for record in records:
        record["baseline"] = _baseline_visit(stream, record["follow_up"], record["response"])
        record["level"] = None if record["quartile"] is None else _trough_level(stream, record["quartile"])
    q3 = [r for r in records if r["quartile"] == 2]
    q3[-1]["level"] = QUARTILE_CUTPOINTS[2]  # one level exactly on the top edge: intervals are closed on the right
    completers = [r for r in records if r["quartile"] is not None and r["withdrawal_month"] is None]
    order = stream.shuffled(range(len(completers)))
    for k, i in enumerate(order[:8]):
        # three: no level at month 12 (the month-9 level stratifies); five: one earlier visit without a level
        completers[i]["missing_level_month"] = FOLLOW_UP_MONTH if k < 3 else (3 if k % 2 else 6)

    # 4. Patients' characteristics (typical of tocilizumab cohorts), identifiers in a shuffled order.
    n = len(records)
    characteristics = {
        "sex": _fixed_counts(stream, [("F", 29), ("M", 5)]),
        "rf_positive": _fixed_counts(stream, [("yes", 27), ("no", 7)]),
        "acpa_positive": _fixed_counts(stream, [("yes", 25), ("no", 7), (None, 2)]),
        "prior_biologics": _fixed_counts(stream, [(0, 17), (1, 9), (2, 5), (3, 2), (4, 1)]),
        "concomitant_mtx": _fixed_counts(stream, [("yes", 19), ("no", 15)]),
    }
    patients: list[dict[str, Any]] = []
    visits: list[dict[str, Any]] = []
    for number, k in enumerate(stream.shuffled(range(n)), start=1):
        record = records[k]
        patient_id = f"TCZ-{number:03d}"
        age = min(84, max(24, round(55 + 12 * stream.normal())))
        duration = round(min(age - 18.0, max(0.5, stream.lognormal_with(12.0, 7.0))), 1)
        patients.append({
            "patient_id": patient_id,
            "sex": characteristics["sex"][k],
            "age_years": age,
            "disease_duration_years": duration,
            "rf_positive": characteristics["rf_positive"][k],
            "acpa_positive": characteristics["acpa_positive"][k],
            "prior_biologics": characteristics["prior_biologics"][k],
            "concomitant_mtx": characteristics["concomitant_mtx"][k],
            "withdrawal_month": record["withdrawal_month"],
            "withdrawal_reason": record["withdrawal_reason"],
        })
        last_month = record["withdrawal_month"] or FOLLOW_UP_MONTH
        for month in VISIT_MONTHS:
            if month > last_month:
                break
            if month == 0:
                components = record["baseline"]
            elif month == last_month:
                components = record["follow_up"]
            else:
                fraction = 1.0 - (1.0 - month / last_month) ** 2.5
                components = _between(stream, record["baseline"], record["follow_up"], fraction)
            visits.append({"patient_id": patient_id, "month": month, **components,
                           "tcz_trough_ug_ml": _level_at(stream, record, month, last_month)})
    patients.sort(key=lambda row: row["patient_id"])
    return patients, visits, list(STUDY)


def _level_at(stream: _Stream, record: dict[str, Any], month: int, last_month: int) -> float | None:
    level = record["level"]
    missing = record.get("missing_level_month")
    if month == 0 or level is None or month == missing:
        return None
    stratifying_month = last_month if missing != last_month else last_month - 3
    if month == stratifying_month:
        return level
    # Other visits vary around the patient's level (lower at month 3, before steady state).
    factor = (0.75 if month == 3 else 1.0) * math.exp(0.2 * stream.normal())
    return round(min(60.0, max(0.1, level * factor)), 1)


# --- large synthetic cohorts (tests, benchmarks) -----------------------------------------------------


def generate_synthetic_cohort(n_patients: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A realistic random cohort of any size, vectorised: (patients, visits) DataFrames with the contract's columns.

    Visits at months 0, 3, 6, 9, 12; about 8% stop early (no visit after ``withdrawal_month``);
    trough levels (2 decimals, log-normal, median ~8 µg/mL) are missing at one visit for ~20% of
    patients and at every visit for ~1%; better response with higher levels. Blanks are NaN/None.
    Not calibrated to anything; deterministic for a given seed and numpy version.
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    n = int(n_patients)
    width = max(5, len(str(n)))
    patient_id = np.char.add("S", np.char.zfill(np.arange(1, n + 1).astype(str), width)).astype(object)

    def yes_no(p_yes: float, p_blank: float) -> np.ndarray:
        u = rng.random(n)
        out = np.where(u < p_yes, "yes", "no").astype(object)
        out[rng.random(n) < p_blank] = None
        return out

    age = np.clip(np.rint(rng.normal(55, 12, n)), 18, 95)
    withdrawn = rng.random(n) < 0.08
    withdrawal_month = np.where(withdrawn, rng.choice(np.array([3, 6, 9]), n), np.nan)
    reason = np.where(rng.random(n) < 0.5, "inefficacy", "adverse event").astype(object)
    reason[~withdrawn] = None
    patients = pd.DataFrame({
        "patient_id": patient_id,
        "sex": np.where(rng.random(n) < 0.85, "F", "M").astype(object),
        "age_years": age.astype(int),
        "disease_duration_years": np.round(np.clip(rng.lognormal(np.log(9.0), 0.7, n), 0.1, np.maximum(age - 16, 0.1)), 1),
        "rf_positive": yes_no(0.80, 0.02),
        "acpa_positive": yes_no(0.75, 0.04),
        "prior_biologics": np.minimum(rng.poisson(0.7, n), 10),
        "concomitant_mtx": np.where(rng.random(n) < 0.55, "yes", "no").astype(object),
        "withdrawal_month": pd.array(withdrawal_month, dtype="Int64"),
        "withdrawal_reason": reason,
    })

    level = np.round(np.clip(rng.lognormal(np.log(8.0), 1.1, n), 0.0, 80.0), 2)
    improvement = np.clip(0.30 + 0.10 * np.log(level + 0.5) + rng.normal(0, 0.2, n), 0.0, 0.95)
    baseline = {
        "tjc28": np.clip(rng.gamma(2.5, 4.0, n), 0, 28),
        "sjc28": np.clip(rng.gamma(2.0, 3.5, n), 0, 28),
        "esr_mm_h": np.clip(rng.lognormal(np.log(30.0), 0.6, n), 2, 150),
        "crp_mg_l": np.clip(rng.lognormal(np.log(12.0), 1.0, n), 0.2, 300),
        "patient_global_mm": np.clip(rng.normal(62, 18, n), 0, 100),
        "evaluator_global_mm": np.clip(rng.normal(55, 18, n), 0, 100),
    }

    months_grid = np.array(VISIT_MONTHS)
    who = np.repeat(np.arange(n), len(months_grid))
    month = np.tile(months_grid, n)
    keep = ~withdrawn[who] | (month <= np.nan_to_num(withdrawal_month, nan=np.inf)[who])
    who, month = who[keep], month[keep]
    m = len(who)
    fraction = (1.0 - (1.0 - month / FOLLOW_UP_MONTH) ** 2.5) * improvement[who]
    later = month > 0

    def course(key: str, noise: float, low: float, high: float, decimals: int = 0) -> np.ndarray:
        start = baseline[key][who]
        value = start * (1.0 - fraction) + np.where(later, rng.normal(0.0, noise, m), 0.0)
        return np.round(np.clip(value, low, high), decimals)

    trough = level[who] * np.exp(rng.normal(0.0, 0.2, m)) * np.where(month == 3, 0.75, 1.0)
    trough = np.round(trough, 2)
    trough[month == 0] = np.nan
    one_missing = rng.random(n) < 0.20
    missing_month = rng.choice(months_grid[1:], n)
    trough[one_missing[who] & (month == missing_month[who])] = np.nan
    trough[(rng.random(n) < 0.01)[who]] = np.nan

    visits = pd.DataFrame({
        "patient_id": patient_id[who],
        "month": month.astype(int),
        "tjc28": course("tjc28", 1.0, 0, 28).astype(int),
        "sjc28": course("sjc28", 1.0, 0, 28).astype(int),
        "esr_mm_h": course("esr_mm_h", 3.0, 1, 200).astype(int),
        "crp_mg_l": course("crp_mg_l", 1.0, 0.1, 500, 1),
        "patient_global_mm": course("patient_global_mm", 8.0, 0, 100).astype(int),
        "evaluator_global_mm": course("evaluator_global_mm", 6.0, 0, 100).astype(int),
        "tcz_trough_ug_ml": trough,
    })
    return patients, visits


# --- writing the workbook ------------------------------------------------------------------------


def _study_rows(study: Any) -> list[tuple[str, Any]]:
    """Study key/value rows from a StudyOptions, a mapping or (key, value) pairs; None values are left out."""
    if study is None:
        return []
    if hasattr(study, "__dataclass_fields__"):
        pairs = [(name, getattr(study, name)) for name in study.__dataclass_fields__]
    elif isinstance(study, Mapping):
        pairs = list(study.items())
    else:
        pairs = [tuple(pair) for pair in study]
    rows = []
    for key, value in pairs:
        if value is None or value == "":
            continue
        if isinstance(value, (tuple, list)):
            value = "; ".join(format(float(x), ".15g") for x in value)
        rows.append((key, value))
    return rows


def _columns_of(rows: Any, columns: Sequence[str]) -> list[list[Any]]:
    """Column-wise Python values (None for blank) from a DataFrame or a list of dicts."""
    if hasattr(rows, "columns"):
        out = []
        for name in columns:
            series = rows[name]
            values = series.astype(object).where(series.notna(), None).tolist()
            out.append(values)
        return out
    return [[row.get(name) for row in rows] for name in columns]


def write_cohort_workbook(path: str | Path, patients: Any, visits: Any, study: Any = None, *,
                          engine: str | None = None) -> Path:
    """Write sheets ``patients``, ``visits`` and ``study`` with the contract's exact headers; blank cells for None/NaN.

    ``patients``/``visits``: lists of dicts or DataFrames. ``study``: (key, value) pairs, a mapping, a
    ``StudyOptions`` or None. ``engine``: ``"xlsxwriter"`` (the default up to 50,000 visits) or
    ``"stream"`` (the default above: a minimal SpreadsheetML writer, chunked, about ten times faster
    than xlsxwriter and flat in memory, for benchmark-size cohorts). Both fix every date and property
    they write, so the same rows give the same bytes.
    """
    path = Path(path)
    patient_columns = _columns_of(patients, PATIENT_COLUMNS)
    visit_columns = _columns_of(visits, VISIT_COLUMNS)
    study_rows = _study_rows(study)
    sheets = (
        ("patients", PATIENT_COLUMNS, patient_columns),
        ("visits", VISIT_COLUMNS, visit_columns),
        ("study", STUDY_COLUMNS, [[key for key, _ in study_rows], [value for _, value in study_rows]]),
    )
    if engine is None:
        engine = "stream" if len(visit_columns[0]) > 50_000 else "xlsxwriter"
    if engine == "xlsxwriter":
        _write_with_xlsxwriter(path, sheets)
    elif engine == "stream":
        _write_streaming(path, sheets)
    else:
        raise ValueError(f"unknown engine {engine!r}: use 'xlsxwriter' or 'stream'")
    return path


def _write_with_xlsxwriter(path: Path, sheets: Sequence[tuple[str, Sequence[str], list[list[Any]]]]) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": False, "strings_to_numbers": False,
                                               "strings_to_formulas": False, "strings_to_urls": False})
    workbook.set_properties({
        "title": "reportgen cohort workbook",
        "author": "reportgen",
        "comments": "Synthetic data generated by reportgen.example",
        "created": WORKBOOK_CREATED,
    })
    header = workbook.add_format({"bold": True})
    for name, names, columns in sheets:
        sheet = workbook.add_worksheet(name)
        for c, column_name in enumerate(names):
            sheet.write_string(0, c, column_name, header)
        write_number, write_string, write_boolean = sheet.write_number, sheet.write_string, sheet.write_boolean
        for r, row in enumerate(zip(*columns), start=1):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, str):
                    write_string(r, c, value)
                elif isinstance(value, (bool, np.bool_)):
                    write_boolean(r, c, bool(value))
                elif value == value:  # NaN stays blank
                    write_number(r, c, value)
    workbook.close()


_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_STYLES = (
    f'{_XML_DECLARATION}<styleSheet xmlns="{_MAIN_NS}">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _cells_xml(letter: str, values: Sequence[Any], first_row: int) -> list[str]:
    from xml.sax.saxutils import escape

    out = []
    for r, value in enumerate(values, start=first_row):
        if value is None or (isinstance(value, float) and value != value):
            out.append("")
        elif isinstance(value, str):
            out.append(f'<c r="{letter}{r}" t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t></is></c>')
        elif isinstance(value, (bool, np.bool_)):
            out.append(f'<c r="{letter}{r}" t="b"><v>{int(value)}</v></c>')
        else:
            out.append(f'<c r="{letter}{r}"><v>{value}</v></c>')
    return out


def _write_streaming(path: Path, sheets: Sequence[tuple[str, Sequence[str], list[list[Any]]]], chunk: int = 20_000) -> None:
    """A minimal, valid SpreadsheetML package (inline strings, bold header), written row chunk by row chunk."""
    import zipfile

    def part(archive: zipfile.ZipFile, name: str):
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info._compresslevel = 1  # speed over size: these are throw-away benchmark inputs
        return archive.open(info, "w", force_zip64=True)

    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    content_types = (
        f'{_XML_DECLARATION}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        f'{overrides}<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>'
    )
    package_rels = (
        f'{_XML_DECLARATION}<Relationships xmlns="{_PACKAGE_REL_NS}"><Relationship Id="rId1" '
        f'Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    workbook = (
        f'{_XML_DECLARATION}<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}"><sheets>'
        + "".join(f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>' for i, (name, _, _) in enumerate(sheets, 1))
        + "</sheets></workbook>"
    )
    workbook_rels = (
        f'{_XML_DECLARATION}<Relationships xmlns="{_PACKAGE_REL_NS}">'
        + "".join(f'<Relationship Id="rId{i}" Type="{_REL_NS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                  for i in range(1, len(sheets) + 1))
        + f'<Relationship Id="rId{len(sheets) + 1}" Type="{_REL_NS}/styles" Target="styles.xml"/></Relationships>'
    )
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in (("[Content_Types].xml", content_types), ("_rels/.rels", package_rels),
                           ("xl/workbook.xml", workbook), ("xl/_rels/workbook.xml.rels", workbook_rels),
                           ("xl/styles.xml", _STYLES)):
            with part(archive, name) as stream:
                stream.write(text.encode("utf-8"))
        for i, (_, names, columns) in enumerate(sheets, 1):
            letters = [_column_letter(c) for c in range(len(names))]
            with part(archive, f"xl/worksheets/sheet{i}.xml") as stream:
                header = "".join(f'<c r="{letter}1" s="1" t="inlineStr"><is><t>{name}</t></is></c>'
                                 for letter, name in zip(letters, names))
                stream.write(f'{_XML_DECLARATION}<worksheet xmlns="{_MAIN_NS}"><sheetData><row r="1">{header}</row>'
                             .encode("utf-8"))
                n_rows = len(columns[0]) if columns else 0
                for start in range(0, n_rows, chunk):
                    cells = [_cells_xml(letter, column[start:start + chunk], start + 2)
                             for letter, column in zip(letters, columns)]
                    rows = "".join(f'<row r="{r}">{"".join(row)}</row>'
                                   for r, row in enumerate(zip(*cells), start=start + 2))
                    stream.write(rows.encode("utf-8"))
                stream.write(b"</sheetData></worksheet>")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) > 1 or (args and args[0] in ("-h", "--help")):
        print("usage: python -m reportgen.example [PATH]   (default: input/cohort.xlsx)")
        return 0 if args and args[0] in ("-h", "--help") else 2
    path = Path(args[0]) if args else DEFAULT_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    patients, visits, study = generate_example_cohort()
    write_cohort_workbook(path, patients, visits, study, engine="xlsxwriter")
    print(f"wrote {path}: {len(patients)} patients, {len(visits)} visits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
