"""Invariants, property-tested with hypothesis (issue 6).

- Indices stay within their ranges and never fall when one component rises.
- Every analysed patient lands in exactly one quartile; the sizes sum to n_analysed.
- EULAR response equals an oracle written from the table in ../shared/clinical/README.md with
  decimal.Decimal, on values drawn at, and 0.01 / 0.005 either side of, every boundary.
- Numbers written with a decimal comma read back as the value rounded half up.

``derandomize=True`` makes every run draw the same examples, so CI is deterministic.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from cohorts import make_cohort, visit
from written_numbers import parse
from hypothesis import given, settings
from hypothesis import strategies as st

from reportgen import indices, stats
from reportgen.analysis import analyse
from reportgen.derive import derive
from reportgen.errors import AnalysisError
from reportgen.formatting import MINUS, Formatter
from reportgen.model import StudyOptions

FAST = settings(max_examples=300, deadline=None, derandomize=True)
SLOW = settings(max_examples=15, deadline=None, derandomize=True)

joints = st.integers(0, 28)
esr = st.floats(1, 200, allow_nan=False)
crp = st.floats(0, 500, allow_nan=False)
vas = st.floats(0, 100, allow_nan=False)


def _das28_esr_max() -> float:
    return 0.56 * math.sqrt(28) + 0.28 * math.sqrt(28) + 0.70 * math.log(200) + 0.014 * 100


# --- indices: ranges ------------------------------------------------------------------------------


@FAST
@given(joints, joints, esr, vas)
def test_das28_esr_stays_in_range(tjc: int, sjc: int, esr_mm_h: float, ptga: float) -> None:
    value = float(indices.das28_esr(tjc, sjc, esr_mm_h, ptga))
    assert 0.70 * math.log(1) <= value <= _das28_esr_max() + 1e-12


@FAST
@given(joints, joints, crp, vas)
def test_das28_crp_is_at_least_0_96(tjc: int, sjc: int, crp_mg_l: float, ptga: float) -> None:
    value = float(indices.das28_crp(tjc, sjc, crp_mg_l, ptga))
    top = 0.56 * math.sqrt(28) + 0.28 * math.sqrt(28) + 0.36 * math.log(501) + 1.4 + 0.96
    assert 0.96 - 1e-12 <= value <= top + 1e-12


@FAST
@given(joints, joints, vas, vas, st.floats(0, 100, allow_nan=False))
def test_cdai_0_to_76_and_sdai_0_to_86(tjc: int, sjc: int, ptga: float, ega: float, crp_mg_l: float) -> None:
    cdai = float(indices.cdai(tjc, sjc, ptga, ega))
    sdai = float(indices.sdai(tjc, sjc, ptga, ega, crp_mg_l))
    assert 0 <= cdai <= 76 + 1e-12
    assert cdai <= sdai <= 86 + 1e-12  # for CRP up to 100 mg/L (10 mg/dL)


# --- indices: each grows with each component -----------------------------------------------------

COMPONENTS = {
    "das28_esr": (indices.das28_esr, (joints, joints, esr, vas)),
    "das28_crp": (indices.das28_crp, (joints, joints, crp, vas)),
    "cdai": (indices.cdai, (joints, joints, vas, vas)),
    "sdai": (indices.sdai, (joints, joints, vas, vas, crp)),
}


@st.composite
def _index_and_two_inputs(draw: st.DrawFn) -> tuple[str, list[float], list[float]]:
    name = draw(st.sampled_from(sorted(COMPONENTS)))
    _, strategies = COMPONENTS[name]
    low = [draw(strategy) for strategy in strategies]
    which = draw(st.integers(0, len(strategies) - 1))
    other = draw(strategies[which])
    high = list(low)
    low[which], high[which] = min(low[which], other), max(low[which], other)
    return name, low, high


@FAST
@given(_index_and_two_inputs())
def test_every_index_is_non_decreasing_in_each_component(case: tuple[str, list[float], list[float]]) -> None:
    name, low, high = case
    function = COMPONENTS[name][0]
    assert float(function(*high)) >= float(function(*low))


@FAST
@given(st.lists(st.floats(0, 10, allow_nan=False), min_size=2, max_size=2))
def test_das28_categories_never_fall_as_the_score_rises(scores: list[float]) -> None:
    order = {category: rank for rank, category in enumerate(indices.ACTIVITY_CATEGORIES)}
    low, high = sorted(scores)
    for categorise in (indices.das28_category, indices.cdai_category, indices.sdai_category):
        assert order[categorise([low])[0]] <= order[categorise([high])[0]]


# --- quartiles ------------------------------------------------------------------------------------

levels = st.lists(st.one_of(st.floats(0, 80, allow_nan=False), st.just(math.nan), st.sampled_from([0.0, 1.0, 18.5])), min_size=4, max_size=60)


@FAST
@given(levels, st.one_of(st.none(), st.lists(st.floats(0, 80, allow_nan=False), min_size=3, max_size=3, unique=True)))
def test_every_analysed_patient_lands_in_exactly_one_quartile(values: list[float], cutpoints: list[float] | None) -> None:
    level = np.asarray(values, dtype=float)
    analysed = ~np.isnan(level)
    if analysed.sum() == 0:
        return
    edges = tuple(sorted(cutpoints)) if cutpoints is not None else stats.percentile_edges(level[analysed])
    quartile = stats.group_index(level, edges)
    assert set(quartile[~analysed]) <= {-1}
    assert set(quartile[analysed]) <= {0, 1, 2, 3}
    lowers, uppers = (-math.inf, *edges), (*edges, math.inf)
    for value, k in zip(level[analysed], quartile[analysed]):
        # exactly one interval (lower, upper] holds the value, and it is the one assigned
        holding = [j for j in range(4) if lowers[j] < value <= uppers[j] or (j == 0 and value <= uppers[0])]
        assert holding == [k]
    sizes = [int(np.sum(quartile == k)) for k in range(4)]
    assert sum(sizes) == int(analysed.sum())


@SLOW
@given(st.lists(st.one_of(st.floats(0.5, 60, allow_nan=False), st.just(math.nan)), min_size=4, max_size=24))
def test_strata_of_an_analysed_cohort_sum_to_n_analysed(troughs: list[float]) -> None:
    rows = []
    for number, trough in enumerate(troughs):
        patient_id = f"P{number:02d}"
        rows.append(visit(patient_id, 0, tjc28=10, sjc28=6, esr_mm_h=40.0))
        rows.append(visit(patient_id, 12, tjc28=number % 10, sjc28=2, esr_mm_h=20.0, trough_level=trough))
    derived = derive(make_cohort(rows, study=StudyOptions()))
    try:
        results = analyse(derived, StudyOptions())
    except AnalysisError as error:  # coinciding edges or no level at all: refused, never mis-counted
        if all(math.isnan(trough) for trough in troughs):
            assert "no patient has a trough level" in str(error)
        else:
            assert "quartiles" in str(error)
        return
    n_analysed = sum(not math.isnan(trough) for trough in troughs)
    assert results.cohort.n_analysed == n_analysed
    assert sum(stratum.n for stratum in results.strata) == n_analysed
    assert math.isclose(sum(stratum.percent for stratum in results.strata), 100.0)


# --- EULAR response against a table-driven oracle -------------------------------------------------

CENT = Decimal("0.01")


def _two_decimals(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# The table of ../shared/clinical/README.md: rows by current DAS28, columns by improvement.
#                  Δ > 1.2      0.6 < Δ ≤ 1.2   Δ ≤ 0.6
EULAR_TABLE = {
    "≤ 3.2": ("good", "moderate", "none"),
    "> 3.2 and ≤ 5.1": ("moderate", "moderate", "none"),
    "> 5.1": ("moderate", "none", "none"),
}


def eular_oracle(baseline: Decimal, current: Decimal) -> str:
    """Both scores and their difference compared at 2 decimals, as clinical calculators show them."""
    baseline, current = _two_decimals(baseline), _two_decimals(current)
    delta = baseline - current  # exact: both have two decimals
    row = "≤ 3.2" if current <= Decimal("3.2") else "> 3.2 and ≤ 5.1" if current <= Decimal("5.1") else "> 5.1"
    column = 0 if delta > Decimal("1.2") else 1 if delta > Decimal("0.6") else 2
    return EULAR_TABLE[row][column]


NUDGES = [Decimal(nudge) for nudge in ("-0.01", "-0.005", "0", "0.005", "0.01")]


@st.composite
def _near_boundaries(draw: st.DrawFn) -> tuple[Decimal, Decimal]:
    current = draw(st.one_of(st.sampled_from([Decimal("3.2"), Decimal("5.1")]), st.integers(50, 940).map(lambda n: Decimal(n) / 100)))
    delta = draw(st.one_of(st.sampled_from([Decimal("0.6"), Decimal("1.2")]), st.integers(-300, 500).map(lambda n: Decimal(n) / 100)))
    current += draw(st.sampled_from(NUDGES))
    delta += draw(st.sampled_from(NUDGES))
    return current + delta, current


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(_near_boundaries())
def test_eular_response_equals_the_table(scores: tuple[Decimal, Decimal]) -> None:
    baseline, current = scores
    product = indices.eular_response(np.array([float(baseline)]), np.array([float(current)]))[0]
    assert product == eular_oracle(baseline, current), (str(baseline), str(current))


def test_the_oracle_agrees_with_the_published_cases_and_traps() -> None:
    published = [
        ("5.21", "1.8", "good"), ("4.2", "3.2", "moderate"), ("3.1", "2.9", "none"), ("4.3", "3.3", "moderate"),
        ("4.0", "3.3", "moderate"), ("4.4", "4.2", "none"), ("7.46", "6.19", "moderate"), ("7.43", "6.81", "none"),
        ("7.19", "6.70", "none"), ("4.4", "3.2", "moderate"), ("5.2", "4.6", "none"), ("6.9", "5.7", "none"),
    ]  # fmt: skip
    for baseline, current, response in published:
        assert eular_oracle(Decimal(baseline), Decimal(current)) == response
        assert indices.eular_response(np.array([float(baseline)]), np.array([float(current)]))[0] == response


# --- formatting with a decimal comma --------------------------------------------------------------

finite = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.integers(-10**6, 10**6),
    st.decimals(-1000, 1000, places=4, allow_nan=False, allow_infinity=False).map(float),  # halves at every place
)


@FAST
@given(finite, st.integers(0, 4))
def test_a_decimal_comma_round_trips(value: float, decimals: int) -> None:
    formatter = Formatter(",")
    text = formatter.number(value, decimals)
    assert "." not in text and "-" not in text
    if decimals:
        assert text.count(",") == 1 and len(text.split(",")[1]) == decimals
    else:
        assert "," not in text
    expected = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    assert parse(formatter, text) == expected
    assert text.startswith(MINUS) == (expected < 0)  # never "−0,00"
    assert Formatter(".").number(value, decimals) == text.replace(",", ".")
