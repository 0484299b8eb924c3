"""The example cohort (``input/cohort.xlsx``) and larger synthetic cohorts for tests and benchmarks.

    make example                          # = python -m tools.example input/cohort.xlsx
    python -m tools.example [PATH]        # writes input/cohort.xlsx unless PATH is given

A developer tool, not part of the ``reportgen`` package (the wheel does not carry it, and nothing in
``reportgen/`` imports it); run it from the checkout's root. Its users: ``make example``, the tests
(``tests/test_example.py``) and the benchmarks (``bench/cohorts.py``).

Every patient here is synthetic. The example has 34 patients with visits at months 0, 3, 6, 9 and 12,
calibrated so that the analysis reproduces the source abstract (``shared/seed/abstract.txt``):
trough-level quartiles of 8, 7, 8 and 10 patients (one patient never has a level: 34 included,
33 analysed), the EULAR response table none 4/1/1/0, moderate 3/0/4/1, good 1/6/3/9 (chi-square
p = 0.006), and, for DAS28-ESR, CDAI, swollen and tender joints, ESR and CRP (mg/L), follow-up means
and SDs per quartile that print, rounded half up to the abstract's decimals, exactly as the abstract
prints them, with Kruskal-Wallis p across quartiles that print as its p (0.001, 0.003, 0.013, 0.014,
0.005, and CRP "NS", p >= 0.05). SDAI falls where it must, since the abstract prints it below CDAI
(impossible on the same patients); its p is not aimed at.

How the values are obtained (deterministically, from ``DEFAULT_SEED``, in a few seconds):

1. Per quartile, the printed mean fixes the exact total of each whole-number component at follow-up
   (SJC Q3: 45/8 = 5.625 prints 5.63); CRP is in 0.1 mg/L.
2. For each of TJC, SJC, ESR and CRP, the four quartiles' values are drawn log-normal with the
   printed mean and SD, rounded, and then units are moved between two patients of a quartile (its
   total never changes) while a penalty does not grow, until every quartile's SD prints as the
   abstract's and the Kruskal-Wallis p across quartiles (tie-corrected, as scipy) prints as its p,
   kept a tenth of the rounding window clear of either edge. The p depends only on which values fall
   in which quartile, not on who within a quartile has them. Values are then handed to patients by a
   latent severity order with some jitter, so one patient's components go together.
3. The patient global (PtGA) total is the smallest that puts the DAS28-ESR mean inside its printing
   window; the CDAI mean fixes the total of the two globals, and the evaluator global (EGA) gets the
   rest. Random moves (VAS units between two patients of a quartile, or two patients of a quartile
   swapping a joint count or ESR, which leaves every mean, SD and component p unchanged) then bring
   each quartile, annealed, to its DAS28 and CDAI SDs and to follow-up DAS28 <= 3.19 for the patients
   who must be good responders; then all quartiles together to the DAS28 and CDAI p. Last, moves that
   keep every target make the cohort more plausible: globals near about 2.5 mm per joint around the
   group mean, joint counts and ESR in step with each other. The printed numbers leave little room:
   in Q2 and Q3 the DAS28 and CDAI means together imply an evaluator global of only a few mm on
   average, and in Q3 a small DAS28 SD beside a large SJC SD makes the globals lean against the joints.
   CRP is handed out last, in the order of follow-up DAS28 with some jitter.
4. The EULAR response is given by follow-up DAS28 (highest: none, then moderate, then good); each
   patient's baseline is drawn around 5.3 and solved (ESR from the DAS28 formula) so that
   ``reportgen.indices.eular_response`` gives exactly that response.
5. Five patients stop before month 12 (inefficacy or adverse event), so their follow-up comes from
   their last visit (LOCF); months 3, 6 and 9 trend from baseline to follow-up with noise. Trough
   levels are drawn inside each quartile's interval of the cut points; some visits have no level,
   three patients have none at month 12 (their month-9 level stratifies them), one has none at all.
6. Every follow-up target is then checked again from the finished rows with ``reportgen.indices``
   and ``scipy.stats.kruskal``; a draw that fails any step moves on to the next attempt of the same
   seeded stream (a few attempts are usual).

One compromise: CDAI Q2 (n = 7) prints 7.72, but with whole-mm VAS a mean of 7 CDAI values is a
multiple of 1/70 (7.714 or 7.729), so one evaluator global in Q2 is recorded to half a millimetre.

Randomness for the example comes only from ``random.Random.random()``, whose stream Python guarantees
across versions; the rest is IEEE arithmetic (``math`` and, for ln ESR, numpy's ``log`` so that the
search sees the analysis's exact doubles), so the workbook stays the same across numpy and Python
upgrades unless a platform's ``log``/``exp``/``erfc`` changes in the last bit (the regeneration test
would show it). The synthetic cohorts (``generate_synthetic_cohort``) use numpy and are fast: 100,000
patients in about a second; their workbooks are written by a small streaming SpreadsheetML writer (``engine="stream"``).
"""

from __future__ import annotations

import math
import random
import sys
from dataclasses import dataclass
from functools import cache
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from reportgen.indices import cdai, das28_esr, eular_response, round_half_up

if TYPE_CHECKING:
    import pandas as pd

@cache
def contract_columns(sheet: str) -> tuple[str, ...]:
    """A sheet's headers, from the workbook contract itself so the example cannot drift from it; read on
    first use, not when this module is imported."""
    from reportgen.contract import load_contract

    return tuple(column.name for column in load_contract().sheet(sheet).default_columns)


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
    ("grouping", "cut-points"),
    ("cut_points", "; ".join(format(edge, ".15g") for edge in QUARTILE_CUTPOINTS)),
    ("group_labels", "; ".join(QUARTILE_LABELS)),
    ("follow_up_month", FOLLOW_UP_MONTH),
    ("continuous_test", "kruskal-wallis"),
    ("categorical_test", "chi-square"),
    ("decimal_separator", "."),
    ("abstract_character_limit", 3600),
    ("published", "published.yaml"),
    ("drug", "tocilizumab"),
    ("administration", "infusion"),
    ("background", "Monitoring serum drug levels is used increasingly to guide biologic therapy in rheumatoid "
                   "arthritis (RA), mostly on evidence from TNF inhibitors. Whether trough levels of tocilizumab, "
                   "which blocks the interleukin-6 receptor, relate to its clinical effect is less well studied."),
    ("objective", "To relate tocilizumab serum trough levels to disease activity and EULAR response after one "
                  "year of treatment in a cohort of patients with RA."),
)

# The abstract's Kruskal-Wallis p across quartiles of the follow-up values, as printed ("NS": p >= 0.05).
# SDAI is left out: its printed numbers cannot hold on the same patients (see the module docstring).
PRINTED_P = {"das28_esr": "0.001", "cdai": "0.003", "sjc28": "0.013", "tjc28": "0.014", "esr_mm_h": "0.005",
             "crp_mg_l": "NS"}
NS_P_MIN = 0.06  # an "NS" p is aimed at least this high (not significant means p >= 0.05)
P_MARGIN = 0.1  # share of a printed p's rounding window kept clear at each of its edges
VALUE_MARGIN = 1e-6  # a mean or SD is kept this far inside the window of values that print as the abstract's
GOOD_DAS28_MAX = 3.19  # a good responder needs a follow-up DAS28 <= 3.2 (rounded)
# (outcome, unit, lowest, highest): components drawn as whole numbers of their unit (CRP in 0.1 mg/L).
COUNT_OUTCOMES = (("tjc28", 1.0, 0, 28), ("sjc28", 1.0, 0, 28), ("esr_mm_h", 1.0, 1, 200),
                  ("crp_mg_l", 0.1, 1, 5000))
COUNT_ITERATIONS = 3000  # moves per draw of one component's four quartiles
COUNT_DRAWS = 60  # draws per component before the attempt is given up
LOCAL_ITERATIONS = 8000  # moves per quartile towards its own targets (SDs, good responders)
LOCAL_TEMPERATURE = 0.3  # annealing: a move that adds this much penalty is kept with probability 1/e at first
LOCAL_STARTS = 8  # fresh starts of a quartile that gets stuck
GLOBALS_ITERATIONS = 30_000  # moves with the Kruskal-Wallis p of DAS28 and CDAI, per attempt
POLISH_ITERATIONS = 10_000  # moves towards plausibility that keep every target
POLISH_REPAIRS = 30  # moves back to the quartile's targets after each of those
MAX_ATTEMPTS = 50
VAS_MM_PER_JOINT = 2.5
DISCORDANCE_WEIGHT = 150.0  # mm^2 of VAS strangeness worth a quartile whose components are all out of order


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



def _window(printed: str, margin: float = 0.0) -> tuple[float, float]:
    """The values that print as ``printed`` (rounded half up), less ``margin`` at each edge."""
    half = 0.5 * 10.0 ** -_decimals(printed)
    return float(printed) - half + margin, float(printed) + half - margin


def _p_window(printed: str) -> tuple[float, float]:
    """Where a reproduced p is aimed: inside the printed p's rounding window, clear of its edges."""
    if printed == "NS":
        return NS_P_MIN, 1.0
    low, high = _window(printed)
    margin = P_MARGIN * (high - low)
    return low + margin, high - margin


def _p_scale(printed: str) -> float:
    """How far off a p counts as one unit of penalty: the printed precision (0.01 for "NS")."""
    return 0.01 if printed == "NS" else 10.0 ** -_decimals(printed)


def _outside(value: float, window: tuple[float, float]) -> float:
    return max(0.0, window[0] - value, value - window[1])


def _kruskal_p(groups: Sequence[Sequence[float]]) -> float:
    """Kruskal-Wallis p (tie-corrected H, chi-square with 3 df) for four groups, in plain Python.

    The same statistic as ``scipy.stats.kruskal``, fast on 33 values; the finished cohort is checked
    with scipy itself (``_follow_up_meets_targets``).
    """
    if len(groups) != 4:
        raise ValueError("the closed-form chi-square tail here is for 3 degrees of freedom (four groups)")
    pooled = sorted((value, g) for g, values in enumerate(groups) for value in values)
    n = len(pooled)
    rank_sums = [0.0] * len(groups)
    ties = 0
    i = 0
    while i < n:
        j = i
        while j + 1 < n and pooled[j + 1][0] == pooled[i][0]:
            j += 1
        rank = (i + j) / 2.0 + 1.0
        if j > i:
            ties += (j - i + 1) ** 3 - (j - i + 1)
        for k in range(i, j + 1):
            rank_sums[pooled[k][1]] += rank
        i = j + 1
    if ties == n**3 - n:
        return 1.0
    h = 12.0 / (n * (n + 1)) * sum(s * s / len(g) for s, g in zip(rank_sums, groups)) - 3.0 * (n + 1)
    h = max(0.0, h / (1.0 - ties / (n**3 - n)))
    # Survival function of chi-square with 3 df.
    return math.erfc(math.sqrt(h / 2.0)) + math.sqrt(2.0 * h / math.pi) * math.exp(-h / 2.0)


def _repair_total(stream: _Stream, values: list[int], total: int, low: int, high: int) -> list[int]:
    if not low * len(values) <= total <= high * len(values):
        raise ValueError("total out of reach")
    while (difference := total - sum(values)) != 0:
        i = stream.integer(len(values))
        step = 1 if difference > 0 else -1
        if low <= values[i] + step <= high:
            values[i] += step
    return values


def _two(stream: _Stream, n: int) -> tuple[int, int]:
    i = stream.integer(n)
    j = stream.integer(n - 1)
    return i, j + (j >= i)


def _calibrate_counts(stream: _Stream, outcome: str, unit: float, low: int, high: int,
                      sizes: Sequence[int]) -> list[list[int]] | None:
    """One draw of a component's follow-up values, per quartile, in whole ``unit``s, sorted descending.

    Each quartile's total is fixed by its printed mean; values start log-normal with the printed mean
    and SD, then units move between two patients of a quartile (its total never changes) while the
    penalty does not grow, until every quartile's SD prints as the abstract's and so does the
    Kruskal-Wallis p across quartiles. None when this draw does not get there.
    """
    printed = PRINTED_FOLLOW_UP[outcome]
    groups: list[list[int]] = []
    sd_windows: list[tuple[float, float]] = []
    max_steps: list[int] = []
    for (mean, sd), n in zip(printed, sizes):
        total = _total_in_units(mean, n, unit)
        values = [min(high, max(low, round(stream.lognormal_with(total / n, float(sd) / unit)))) for _ in range(n)]
        groups.append(_repair_total(stream, values, total, low, high))
        sd_low, sd_high = _window(sd, VALUE_MARGIN * unit)
        sd_windows.append((sd_low / unit, sd_high / unit))
        max_steps.append(max(1, round(float(sd) / unit / 3)))
    p_window, p_scale = _p_window(PRINTED_P[outcome]), _p_scale(PRINTED_P[outcome])

    def penalty() -> float:
        off = sum(_outside(_sd(values), window) / (window[1] - window[0]) for values, window in zip(groups, sd_windows))
        return off + _outside(_kruskal_p(groups), p_window) / p_scale

    current = penalty()
    for _ in range(COUNT_ITERATIONS):
        if current <= 0.0:
            return [sorted(values, reverse=True) for values in groups]
        q = stream.integer(len(groups))
        values = groups[q]
        i, j = _two(stream, len(values))
        step = 1 + stream.integer(max_steps[q])
        if values[i] - step < low or values[j] + step > high:
            continue
        values[i] -= step
        values[j] += step
        candidate = penalty()
        if candidate <= current:
            current = candidate
        else:
            values[i] += step
            values[j] -= step
    return [sorted(values, reverse=True) for values in groups] if current <= 0.0 else None


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


# ln of whole ESR values, taken from numpy once: the same doubles the analysis (numpy) will use, so that
# DAS28 computed here in plain Python is bit for bit the analysis's (ties between patients included).
_LN_ESR = [0.0, *(float(x) for x in np.log(np.arange(1, 201, dtype=float)))]


def _das28_weights() -> tuple[float, float, float, float]:
    """The DAS28-ESR weights of sqrt TJC, sqrt SJC, ln ESR and PtGA, read from ``reportgen.indices.das28_esr``
    itself, one term at a time (sqrt 1 = ln e = 1, every other term 0, and adding 0 is exact)."""
    return (
        float(das28_esr(1.0, 0.0, 1.0, 0.0)),
        float(das28_esr(0.0, 1.0, 1.0, 0.0)),
        float(das28_esr(0.0, 0.0, math.e, 0.0)),
        float(das28_esr(0.0, 0.0, 1.0, 1.0)),
    )


W_TJC, W_SJC, W_ESR, W_PTGA = _das28_weights()


def _das28(tjc: int, sjc: int, esr: int, ptga: float) -> float:
    # reportgen.indices.das28_esr in plain Python (the search calls it millions of times), with its weights
    # and its order of operations, so the doubles are the same (tests/test_example.py checks it).
    return W_TJC * math.sqrt(tjc) + W_SJC * math.sqrt(sjc) + W_ESR * _LN_ESR[esr] + W_PTGA * ptga


class _Quartile:
    """One quartile's follow-up components while the global assessments are calibrated (mutable)."""

    KEYS = ("ptga", "ega", "tjc28", "sjc28", "esr_mm_h")

    def __init__(self, stream: _Stream, target: _QuartileTarget, counts: dict[str, list[int]]) -> None:
        n, printed = target.n, target.printed
        self.target = target
        self.values: dict[str, list[int]] = {key: list(values) for key, values in counts.items()}
        tjc, sjc, esr = self.values["tjc28"], self.values["sjc28"], self.values["esr_mm_h"]

        # PtGA: its total is the smallest that puts the DAS28-ESR mean inside its printing window
        # (sums of the other terms do not depend on who has which value).
        das_mean = printed["das28_esr"][0]
        half_unit = 0.5 * 10.0 ** -_decimals(das_mean)
        margin = 0.2 * half_unit
        base = sum(_das28(tjc[i], sjc[i], esr[i], 0) for i in range(n))
        self.ptga_total = math.ceil(((float(das_mean) - half_unit + margin) * n - base) / W_PTGA)
        self.feasible_totals = (0 <= self.ptga_total <= 100 * n
                                and (base + W_PTGA * self.ptga_total) / n <= float(das_mean) + half_unit - margin)
        # Evaluator global: the rest of the VAS total (half-mm steps only where whole mm cannot print right).
        vas_half_mm = _half_mm_total(printed["cdai"][0], n, sum(tjc) + sum(sjc))
        self.ega_total, half = divmod(vas_half_mm - 2 * self.ptga_total, 2)
        self.feasible_totals = self.feasible_totals and 0 <= self.ega_total <= 99 * n
        self.half_at = n // 2 if half else -1
        if not self.feasible_totals:
            return
        slope = 4.0 * stream.uniform(0.5, 1.5)
        ptga = [min(100, max(0, round(self.ptga_total / n + slope * ((n - 1) / 2 - i)))) for i in range(n)]
        self.values["ptga"] = _repair_total(stream, ptga, self.ptga_total, 0, 100)
        ega = [min(99, round(e)) for e in self._expected()[1]]
        self.values["ega"] = _repair_total(stream, ega, self.ega_total, 0, 99)
        self.das_window = _window(printed["das28_esr"][1], VALUE_MARGIN)
        self.cdai_window = _window(printed["cdai"][1], VALUE_MARGIN)
        self.refresh()

    def _expected(self) -> tuple[list[float], list[float]]:
        """Plausible globals: about 2.5 mm per joint around the group mean; the evaluator rates mostly swollen joints."""
        n = self.target.n
        tjc, sjc = self.values["tjc28"], self.values["sjc28"]
        joints = [tjc[i] + sjc[i] for i in range(n)]
        mean_joints, mean_swollen = sum(joints) / n, sum(sjc) / n
        ptga = [self.ptga_total / n + VAS_MM_PER_JOINT * (joints[i] - mean_joints) for i in range(n)]
        ega = [max(0.0, self.ega_total / n + VAS_MM_PER_JOINT * (sjc[i] - mean_swollen)) for i in range(n)]
        scale = self.ega_total / sum(ega) if sum(ega) > 0 else 0.0
        return ptga, [e * scale for e in ega]

    def refresh(self) -> None:
        v, n = self.values, self.target.n
        self.das = [_das28(v["tjc28"][i], v["sjc28"][i], v["esr_mm_h"][i], v["ptga"][i]) for i in range(n)]
        self.cdai = [cdai(v["tjc28"][i], v["sjc28"][i], v["ptga"][i], v["ega"][i] + (0.5 if i == self.half_at else 0.0))
                     for i in range(n)]
        lowest = sorted(self.das)[: self.target.good]
        self.penalty = (
            _outside(_sd(self.das), self.das_window) / (self.das_window[1] - self.das_window[0])
            + _outside(_sd(self.cdai), self.cdai_window) / (self.cdai_window[1] - self.cdai_window[0])
            + sum(max(0.0, d - GOOD_DAS28_MAX) for d in lowest)
        )

    def move(self, stream: _Stream) -> Callable[[], None] | None:
        """A random move (VAS units between two patients, or two patients swapping a component); returns its undo."""
        key = self.KEYS[stream.integer(len(self.KEYS))]
        values = self.values[key]
        i, j = _two(stream, self.target.n)
        if key in ("ptga", "ega"):
            step = 1 + stream.integer(6)
            if values[i] - step < 0 or values[j] + step > (100 if key == "ptga" else 99):
                return None
            values[i] -= step
            values[j] += step

            def undo() -> None:
                values[i] += step
                values[j] -= step
                self.refresh()
        else:
            if values[i] == values[j]:
                return None
            values[i], values[j] = values[j], values[i]

            def undo() -> None:
                values[i], values[j] = values[j], values[i]
                self.refresh()
        self.refresh()
        return undo

    def snapshot(self) -> dict[str, list[int]]:
        return {key: list(self.values[key]) for key in self.KEYS}

    def restore(self, snapshot: dict[str, list[int]]) -> None:
        for key, values in snapshot.items():
            self.values[key][:] = values
        self.refresh()

    def strangeness(self) -> float:
        """How implausible the quartile looks: globals far from what the joints suggest, components out of step."""
        n, v = self.target.n, self.values
        ptga_expected, ega_expected = self._expected()
        vas = sum((v["ptga"][i] - ptga_expected[i]) ** 2 + (v["ega"][i] - ega_expected[i]) ** 2 for i in range(n)) / n
        joints = [v["tjc28"][i] + v["sjc28"][i] for i in range(n)]
        discordant = sum(
            ((v["tjc28"][i] - v["tjc28"][j]) * (v["sjc28"][i] - v["sjc28"][j]) < 0)
            + ((joints[i] - joints[j]) * (v["esr_mm_h"][i] - v["esr_mm_h"][j]) < 0)
            for i in range(n) for j in range(i)
        )
        return vas + DISCORDANCE_WEIGHT * discordant / (n * (n - 1))

    def rows(self) -> list[dict[str, float]]:
        v = self.values
        return [
            {
                "tjc28": v["tjc28"][i],
                "sjc28": v["sjc28"][i],
                "esr_mm_h": v["esr_mm_h"][i],
                "crp_mg_l": round(v["crp_mg_l"][i] / 10.0, 1),
                "patient_global_mm": v["ptga"][i],
                "evaluator_global_mm": v["ega"][i] + 0.5 if i == self.half_at else v["ega"][i],
            }
            for i in range(self.target.n)
        ]


def _settle(stream: _Stream, quartile: _Quartile) -> bool:
    """Random moves, annealed (a worse state is accepted now and then, less and less often), until the
    quartile meets its own targets; whether it did."""
    for k in range(LOCAL_ITERATIONS):
        if quartile.penalty <= 0.0:
            return True
        before = quartile.penalty
        undo = quartile.move(stream)
        temperature = LOCAL_TEMPERATURE * (1.0 - k / LOCAL_ITERATIONS)
        if undo is not None and quartile.penalty > before and \
                stream.uniform() >= math.exp(-(quartile.penalty - before) / temperature):
            undo()
    return quartile.penalty <= 0.0


def _calibrate_follow_ups(stream: _Stream, targets: Sequence[_QuartileTarget]) -> list[list[dict[str, float]]] | None:
    """One attempt at every analysed patient's follow-up visit, per quartile; None when it misses a target."""
    sizes = [target.n for target in targets]
    counts: dict[str, list[list[int]]] = {}
    for outcome, unit, low, high in COUNT_OUTCOMES:
        for _ in range(COUNT_DRAWS):
            groups = _calibrate_counts(stream, outcome, unit, low, high, sizes)
            if groups is not None:
                counts[outcome] = groups
                break
        else:
            return None
    # The global assessments (and who has which joint count or ESR within a quartile) until the DAS28
    # and CDAI SDs, the good responders' DAS28 and both Kruskal-Wallis p print right: first each
    # quartile on its own (cheap, no Kruskal-Wallis; a fresh start when one gets stuck), then together.
    quartiles: list[_Quartile] = []
    for q, target in enumerate(targets):
        for _ in range(LOCAL_STARTS):
            quartile = _Quartile(stream, target, {outcome: _by_severity(stream, counts[outcome][q]) for outcome in counts})
            if not quartile.feasible_totals:
                return None
            if _settle(stream, quartile):
                quartiles.append(quartile)
                break
        else:
            return None
    windows = {outcome: (_p_window(PRINTED_P[outcome]), _p_scale(PRINTED_P[outcome])) for outcome in ("das28_esr", "cdai")}

    def kruskal_off() -> float:
        (das_window, das_scale), (cdai_window, cdai_scale) = windows["das28_esr"], windows["cdai"]
        return (_outside(_kruskal_p([q.das for q in quartiles]), das_window) / das_scale
                + _outside(_kruskal_p([q.cdai for q in quartiles]), cdai_window) / cdai_scale)

    def penalty() -> float:
        return sum(quartile.penalty for quartile in quartiles) + kruskal_off()

    current = penalty()
    for _ in range(GLOBALS_ITERATIONS):
        if current <= 0.0:
            break
        undo = quartiles[stream.integer(len(quartiles))].move(stream)
        if undo is None:
            continue
        candidate = penalty()
        if candidate <= current:
            current = candidate
        else:
            undo()
    if current > 0.0:
        return None

    # Then plausibility: a random move, then a few moves back towards the quartile's own targets; kept
    # when every target still holds and the quartile looks no stranger.
    strangeness = [quartile.strangeness() for quartile in quartiles]
    for _ in range(POLISH_ITERATIONS):
        q = stream.integer(len(quartiles))
        quartile = quartiles[q]
        saved = quartile.snapshot()
        quartile.move(stream)
        for _ in range(POLISH_REPAIRS):
            if quartile.penalty <= 0.0:
                break
            before = quartile.penalty
            undo = quartile.move(stream)
            if undo is not None and quartile.penalty > before:
                undo()
        candidate = quartile.strangeness() if quartile.penalty <= 0.0 else math.inf
        if candidate <= strangeness[q] and kruskal_off() <= 0.0:
            strangeness[q] = candidate
        else:
            quartile.restore(saved)

    # CRP goes with the rest of each patient's activity (it is not part of DAS28-ESR or CDAI).
    for quartile in quartiles:
        v, n = quartile.values, quartile.target.n
        severity = sorted(range(n), key=lambda i: -(quartile.das[i] + 0.3 * stream.normal()))
        crp = sorted(v["crp_mg_l"], reverse=True)
        for value, i in zip(crp, severity):
            v["crp_mg_l"][i] = value
    rows = [quartile.rows() for quartile in quartiles]
    return rows if _follow_up_meets_targets(rows, targets) else None


def _half_mm_total(printed_cdai: str, n: int, joints: int) -> int:
    """Total PtGA + EGA in half millimetres so that the CDAI mean prints right; whole mm when possible."""
    centre = round((float(printed_cdai) * n - joints) * 20)
    candidates = [centre + offset for offset in sorted(range(-40, 41), key=abs)]
    fits = [h for h in candidates if h >= 0 and _prints_as((joints + h / 20.0) / n, printed_cdai)]
    if not fits:
        raise ValueError(f"no VAS total gives a CDAI mean of {printed_cdai}")
    even = [h for h in fits if h % 2 == 0]
    return even[0] if even else fits[0]


def _follow_up_outcomes(rows: list[dict[str, float]]) -> dict[str, np.ndarray]:
    columns = {key: np.array([row[key] for row in rows], dtype=float) for key in rows[0]}
    return {
        "das28_esr": das28_esr(columns["tjc28"], columns["sjc28"], columns["esr_mm_h"], columns["patient_global_mm"]),
        "cdai": cdai(columns["tjc28"], columns["sjc28"], columns["patient_global_mm"], columns["evaluator_global_mm"]),
        "sjc28": columns["sjc28"],
        "tjc28": columns["tjc28"],
        "esr_mm_h": columns["esr_mm_h"],
        "crp_mg_l": columns["crp_mg_l"],
    }


def _p_prints_as(p: float, printed: str) -> bool:
    return p >= 0.05 if printed == "NS" else _prints_as(p, printed)


def _follow_up_meets_targets(quartile_rows: list[list[dict[str, float]]], targets: Sequence[_QuartileTarget]) -> bool:
    """Check every follow-up target with the project's formulas and scipy, as the analysis will see them."""
    from scipy.stats import kruskal

    outcomes = [_follow_up_outcomes(rows) for rows in quartile_rows]
    for target, values in zip(targets, outcomes):
        for outcome, (mean, sd) in target.printed.items():
            if not (_prints_as(float(values[outcome].mean()), mean) and _prints_as(float(values[outcome].std(ddof=1)), sd)):
                return False
        das = round_half_up(values["das28_esr"], 2)
        if int((das <= 3.2).sum()) < target.good:
            return False
    return all(_p_prints_as(float(kruskal(*(values[outcome] for values in outcomes)).pvalue), printed)
               for outcome, printed in PRINTED_P.items())


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
        ptga = round((wanted - W_TJC * math.sqrt(tjc) - W_SJC * math.sqrt(sjc) - W_ESR * math.log(esr)) / W_PTGA)
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
    from reportgen.contract import LEVEL_COLUMN  # on first use: importing this module reads no contract

    stream = _Stream(seed)
    targets = _quartile_targets()

    # 1. Follow-up visits of the analysed patients, all quartiles together (Kruskal-Wallis couples them).
    for _ in range(MAX_ATTEMPTS):
        calibrated = _calibrate_follow_ups(stream, targets)
        if calibrated is not None:
            break
    else:
        raise RuntimeError(f"could not calibrate the follow-up visits in {MAX_ATTEMPTS} attempts")
    records: list[dict[str, Any]] = []
    for q, (target, rows) in enumerate(zip(targets, calibrated)):
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
                           LEVEL_COLUMN: _level_at(stream, record, month, last_month)})
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

    from reportgen.contract import LEVEL_COLUMN

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
        LEVEL_COLUMN: trough,
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
                          engine: str | None = None, headers: Mapping[str, str] | None = None,
                          optional_columns: Sequence[str] = ()) -> Path:
    """Write sheets ``patients``, ``visits`` and ``study`` with the contract's exact headers; blank cells for None/NaN.

    ``patients``/``visits``: lists of dicts or DataFrames. ``study``: (key, value) pairs, a mapping, a
    ``StudyOptions`` or None. ``engine``: ``"xlsxwriter"`` (the default up to 50,000 visits) or
    ``"stream"`` (the default above: a minimal SpreadsheetML writer, chunked, about ten times faster
    than xlsxwriter and flat in memory, for benchmark-size cohorts). Both fix every date and property
    they write, so the same rows give the same bytes. ``headers`` writes some columns under another name
    (values still taken by the contract's name), e.g. ``{"trough_level": "tcz_trough_ug_ml"}`` for a
    contract version 1 workbook. ``optional_columns``: optional visits columns to write too, after the others
    (e.g. ``("anti_drug_antibodies",)``).
    """
    path = Path(path)
    patient_headers, visit_headers = contract_columns("patients"), (*contract_columns("visits"), *optional_columns)
    patient_columns = _columns_of(patients, patient_headers)
    visit_columns = _columns_of(visits, visit_headers)
    if headers:
        patient_headers = tuple(headers.get(name, name) for name in patient_headers)
        visit_headers = tuple(headers.get(name, name) for name in visit_headers)
    study_rows = _study_rows(study)
    sheets = (
        ("patients", patient_headers, patient_columns),
        ("visits", visit_headers, visit_columns),
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
        # The module's old name, kept: it is written into input/cohort.xlsx, whose bytes stay the same.
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
        print("usage: python -m tools.example [PATH]   (default: input/cohort.xlsx)")
        return 0 if args and args[0] in ("-h", "--help") else 2
    path = Path(args[0]) if args else DEFAULT_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    patients, visits, study = generate_example_cohort()
    write_cohort_workbook(path, patients, visits, study, engine="xlsxwriter")
    print(f"wrote {path}: {len(patients)} patients, {len(visits)} visits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
