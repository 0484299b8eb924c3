"""Derive stage: indices per visit, LOCF follow-up, ΔDAS28, EULAR response, trough level."""

from __future__ import annotations

import dataclasses

import math

import numpy as np
import pandas as pd
import pytest

from reportgen import indices
from reportgen.derive import CATEGORIES, MEASURES, _categories, derive
from reportgen.errors import AnalysisError
from reportgen.model import Cohort, Problem, StudyOptions
from tests.cohorts import make_cohort, random_cohort, visit


def one(derived_patients: pd.DataFrame, patient_id: str) -> pd.Series:
    return derived_patients.set_index("patient_id").loc[patient_id]


def test_indices_per_visit_are_the_formulas() -> None:
    cohort = make_cohort([visit("A", 0, tjc28=4, sjc28=5, esr_mm_h=7.0, crp_mg_l=7.0, patient_global_mm=50.0, evaluator_global_mm=60.0)])
    row = derive(cohort).visits.iloc[0]
    # By hand: 0.56 √4 + 0.28 √5 + 0.70 ln 7 + 0.014 × 50 = 1.12 + 0.626099 + 1.362137 + 0.7
    assert row["das28_esr"] == pytest.approx(3.808236, abs=1e-6)
    # 0.56 √4 + 0.28 √5 + 0.36 ln(7 + 1) + 0.014 × 50 + 0.96 = 1.12 + 0.626099 + 0.748599 + 0.7 + 0.96
    assert row["das28_crp"] == pytest.approx(4.154698, abs=1e-6)
    assert row["cdai"] == pytest.approx(4 + 5 + 5 + 6)
    assert row["sdai"] == pytest.approx(4 + 5 + 5 + 6 + 0.7)
    assert (row["das28_esr_category"], row["cdai_category"], row["sdai_category"]) == ("moderate", "moderate", "moderate")


# (tjc28, sjc28, esr, crp mg/L, PtGA, EGA) -> DAS28-ESR, CDAI and SDAI categories, worked out by hand; the CDAI
# and SDAI rows sit on the thresholds (remission <= 2.8 / 3.3, low <= 10 / 11, moderate <= 22 / 26).
CATEGORY_CASES = [
    # DAS28 0; CDAI 0; SDAI 0
    ((0, 0, 1.0, 0.0, 0.0, 0.0), ("remission", "remission", "remission")),
    # DAS28 0.56 + 0.28 + 0.70 ln 10 + 0.056 = 2.508; CDAI 1 + 1 + 0.4 + 0.4 = 2.8; SDAI 2.8 + 0.5 = 3.3
    ((1, 1, 10.0, 5.0, 4.0, 4.0), ("remission", "remission", "remission")),
    # DAS28 1.12 + 0.56 + 0.14 = 1.82; CDAI 4 + 4 + 1 + 1 = 10; SDAI 10 + 1 = 11
    ((4, 4, 1.0, 10.0, 10.0, 10.0), ("remission", "low", "low")),
    # DAS28 0.84 √10 + 0.14 = 2.796; CDAI 10 + 10 + 1 + 1 = 22; SDAI 22 + 4 = 26
    ((10, 10, 1.0, 40.0, 10.0, 10.0), ("low", "moderate", "moderate")),
    # DAS28 2.796 + 0.014 = 2.810; CDAI 22.1; SDAI 22.1 + 4.1 = 26.2
    ((10, 10, 1.0, 41.0, 11.0, 10.0), ("low", "high", "high")),
    # DAS28 0.84 √28 + 0.70 ln 100 + 1.4 = 9.068; CDAI 76; SDAI 76.5
    ((28, 28, 100.0, 5.0, 100.0, 100.0), ("high", "high", "high")),
]


@pytest.mark.parametrize("components, expected", CATEGORY_CASES)
def test_activity_categories_per_visit_by_hand(components: tuple[float, ...], expected: tuple[str, str, str]) -> None:
    tjc, sjc, esr, crp, ptga, ega = components
    cohort = make_cohort([visit("A", 0, tjc28=tjc, sjc28=sjc, esr_mm_h=esr, crp_mg_l=crp, patient_global_mm=ptga, evaluator_global_mm=ega)])
    row = derive(cohort).visits.iloc[0]
    assert (row["das28_esr_category"], row["cdai_category"], row["sdai_category"]) == expected


def test_categories_are_ordered_with_the_four_levels() -> None:
    visits = derive(random_cohort(5, 30)).visits
    for column in CATEGORIES:
        assert visits[column].cat.ordered and list(visits[column].cat.categories) == ["remission", "low", "moderate", "high"]


def test_follow_up_visit_at_month_12_is_used() -> None:
    cohort = make_cohort([visit("A", 0, tjc28=10), visit("A", 6, tjc28=5), visit("A", 12, tjc28=2)])
    patient = one(derive(cohort).patients, "A")
    assert patient["follow_up_visit_month"] == 12 and not patient["carried_forward"]
    assert patient["tjc28"] == 2 and patient["tjc28_baseline"] == 10


def test_withdrawal_at_month_5_carries_month_3_forward_with_all_its_components() -> None:
    cohort = make_cohort(
        [visit("A", 0, tjc28=12, esr_mm_h=40.0), visit("A", 3, tjc28=6, sjc28=2, esr_mm_h=15.0, crp_mg_l=3.0, patient_global_mm=30.0)],
        patients=[{"patient_id": "A", "withdrawal_month": 5.0, "withdrawal_reason": "adverse event"}],
    )
    patient = one(derive(cohort).patients, "A")
    assert patient["follow_up_visit_month"] == 3 and patient["carried_forward"]
    assert (patient["tjc28"], patient["sjc28"], patient["esr_mm_h"], patient["crp_mg_l"]) == (6, 2, 15.0, 3.0)
    # 0.56 √6 + 0.28 √2 + 0.70 ln 15 + 0.014 × 30 = 1.371714 + 0.395980 + 1.895635 + 0.42
    assert patient["das28_esr"] == pytest.approx(4.083329, abs=1e-6)
    assert patient["delta_das28"] == patient["das28_esr_baseline"] - patient["das28_esr"]


def test_no_post_baseline_visit_carries_baseline_forward() -> None:
    cohort = make_cohort([visit("A", 0, tjc28=12, sjc28=10, esr_mm_h=50.0, patient_global_mm=80.0)])
    patient = one(derive(cohort).patients, "A")
    assert patient["follow_up_visit_month"] == 0 and patient["carried_forward"]
    assert patient["delta_das28"] == 0.0 and patient["eular_response"] == "none"
    assert math.isnan(patient["trough_level"]) and math.isnan(patient["trough_month"])


def test_visits_after_the_follow_up_month_are_ignored() -> None:
    cohort = make_cohort([visit("A", 0), visit("A", 9, tjc28=3, trough_level=4.0), visit("A", 15, tjc28=0, trough_level=30.0)])
    patient = one(derive(cohort).patients, "A")
    assert patient["follow_up_visit_month"] == 9 and patient["tjc28"] == 3 and patient["carried_forward"]
    assert patient["trough_level"] == 4.0 and patient["trough_month"] == 9


def test_follow_up_month_from_the_study() -> None:
    cohort = make_cohort([visit("A", 0), visit("A", 6, tjc28=1), visit("A", 12, tjc28=7)], study=StudyOptions(follow_up_month=6))
    derived = derive(cohort)
    assert derived.follow_up_month == 6
    patient = one(derived.patients, "A")
    assert patient["follow_up_visit_month"] == 6 and patient["tjc28"] == 1 and not patient["carried_forward"]


def test_trough_level_at_follow_up_else_last_measured_before() -> None:
    cohort = make_cohort(
        [
            visit("A", 0, trough_level=99.0),  # month 0 is never a trough level
            visit("A", 3, trough_level=2.0),
            visit("A", 6, trough_level=5.0),
            visit("A", 12, trough_level=8.0),
            visit("B", 0),
            visit("B", 3, trough_level=2.0),
            visit("B", 6, trough_level=0.0),
            visit("B", 12),
            visit("C", 0),
            visit("C", 12),
        ]
    )
    patients = derive(cohort).patients
    assert (one(patients, "A")["trough_level"], one(patients, "A")["trough_month"]) == (8.0, 12.0)
    assert (one(patients, "B")["trough_level"], one(patients, "B")["trough_month"]) == (0.0, 6.0)  # undetectable is a level
    assert math.isnan(one(patients, "C")["trough_level"])


def test_eular_response_by_hand() -> None:
    # With ESR 1 (ln 1 = 0) and perfect squares, DAS28-ESR = 0.56 √TJC + 0.28 √SJC + 0.014 PtGA exactly enough:
    # baseline 0.56 × 5 + 0.28 × 5 + 1.4 = 5.6 for everyone.
    start = {"tjc28": 25, "sjc28": 25, "esr_mm_h": 1.0, "patient_global_mm": 100.0}
    cohort = make_cohort(
        [
            visit("good", 0, **start), visit("good", 12, tjc28=9, sjc28=4, esr_mm_h=1.0, patient_global_mm=0.0),  # 2.24, Δ 3.36
            visit("moderate", 0, **start), visit("moderate", 12, **{**start, "patient_global_mm": 40.0}),  # 4.76, Δ 0.84
            visit("none", 0, **start), visit("none", 12, **{**start, "patient_global_mm": 80.0}),  # 5.32, Δ 0.28
        ]
    )
    patients = derive(cohort).patients
    assert patients["eular_response"].astype(object).tolist() == ["good", "moderate", "none"]
    assert patients["delta_das28"].tolist() == pytest.approx([3.36, 0.84, 0.28], abs=1e-9)
    assert list(patients["eular_response"].cat.categories) == ["none", "moderate", "good"]
    assert patients["eular_response"].cat.ordered


def test_patient_columns_are_documented_and_kept_in_order() -> None:
    cohort = random_cohort(3, 50)
    patients = derive(cohort).patients
    assert patients["patient_id"].tolist() == cohort.patients["patient_id"].tolist()
    expected = {
        *cohort.patients.columns,
        *(f"{m}_baseline" for m in (*MEASURES, *CATEGORIES)),
        *MEASURES,
        *CATEGORIES,
        "follow_up_visit_month", "carried_forward", "delta_das28", "eular_response", "trough_level", "trough_month",
        "trough_below_lloq",
    }
    assert set(patients.columns) == expected
    assert patients["follow_up_visit_month"].dtype == np.int64 and patients["carried_forward"].dtype == bool


def _reference_follow_up(cohort_visits: pd.DataFrame, follow_up_month: int) -> dict[str, tuple[int, float, float]]:
    """Per-patient loop, written straight from the issue's words: (follow-up month, tjc28, trough level)."""
    answer = {}
    for patient_id, visits in cohort_visits.groupby("patient_id"):
        visits = visits.sort_values("month")
        at = visits[visits["month"] == follow_up_month]
        before = visits[(visits["month"] > 0) & (visits["month"] < follow_up_month)]
        chosen = at.iloc[0] if len(at) else before.iloc[-1] if len(before) else visits[visits["month"] == 0].iloc[0]
        level = float("nan")
        if not math.isnan(chosen["trough_level"]) and chosen["month"] > 0:
            level = chosen["trough_level"]
        else:
            measured = visits[(visits["month"] > 0) & (visits["month"] <= follow_up_month) & visits["trough_level"].notna()]
            if len(measured):
                level = measured.iloc[-1]["trough_level"]
        answer[str(patient_id)] = (int(chosen["month"]), float(chosen["tjc28"]), float(level))
    return answer


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_vectorised_selection_equals_a_per_patient_reference(seed: int) -> None:
    follow_up_month = (12, 9, 12)[seed - 1]
    cohort = random_cohort(seed, 150, study=StudyOptions(follow_up_month=follow_up_month), dropout=0.4, late_visit=0.3)
    reference = _reference_follow_up(cohort.visits, follow_up_month)
    patients = derive(cohort).patients
    for _, row in patients.iterrows():
        month, tjc, level = reference[row["patient_id"]]
        assert row["follow_up_visit_month"] == month and row["tjc28"] == tjc
        assert (math.isnan(level) and math.isnan(row["trough_level"])) or row["trough_level"] == level
        assert row["carried_forward"] == (month != follow_up_month)


def test_visit_order_in_the_sheet_does_not_matter() -> None:
    cohort = random_cohort(8, 80)
    shuffled = cohort.visits.sample(frac=1.0, random_state=1).reset_index(drop=True)
    a = derive(cohort).patients
    b = derive(type(cohort)(cohort.patients, shuffled, cohort.study, (), "x", "0")).patients
    pd.testing.assert_frame_equal(a, b)


def test_missing_baseline_is_an_analysis_error() -> None:
    cohort = make_cohort([visit("A", 0), visit("B", 3)])
    with pytest.raises(AnalysisError, match="B"):
        derive(cohort)


def test_derive_handles_100000_patients() -> None:
    # Speed is measured by `make bench`; this only proves the vectorised path works at scale.
    cohort = random_cohort(2, 100_000, late_visit=0.0)
    derived = derive(cohort)
    assert len(derived.patients) == 100_000


def test_measures_and_indices_are_float64_and_categories_ordered() -> None:
    # Joint counts arrive as integers; the documented columns are float64 all the same.
    derived = derive(make_cohort([visit("A", 0, tjc28=12, sjc28=10), visit("A", 12, tjc28=3, sjc28=2)]))
    for measure in MEASURES:
        assert derived.patients[measure].dtype == np.float64, measure
        assert derived.patients[f"{measure}_baseline"].dtype == np.float64, measure
    for category in CATEGORIES:
        assert derived.visits[category].cat.ordered, category
        assert derived.patients[category].cat.ordered and derived.patients[f"{category}_baseline"].cat.ordered
    assert derived.patients["eular_response"].cat.ordered


def test_patient_categories_are_those_of_the_baseline_and_follow_up_visits() -> None:
    cohort = make_cohort([visit("A", 0, tjc28=12, sjc28=10, esr_mm_h=50.0, patient_global_mm=80.0), visit("A", 12, tjc28=0, sjc28=0, esr_mm_h=5.0, patient_global_mm=5.0)])
    patient = one(derive(cohort).patients, "A")
    assert (patient["das28_esr_category_baseline"], patient["das28_esr_category"]) == ("high", "remission")
    assert (patient["cdai_category_baseline"], patient["cdai_category"]) == ("high", "low")
    assert patient["eular_response"] == "good"


def test_a_missing_index_gives_a_missing_category_and_response() -> None:
    # The workbook contract never lets a measure be missing; derive still copes when called on such a table.
    cohort = make_cohort([visit("A", 0), visit("A", 12), visit("B", 0), visit("B", 12)])
    visits = cohort.visits.copy()
    visits.loc[(visits["patient_id"] == "A") & (visits["month"] == 12), "esr_mm_h"] = float("nan")
    derived = derive(dataclasses.replace(cohort, visits=visits))
    follow_up = derived.visits[(derived.visits["patient_id"] == "A") & (derived.visits["month"] == 12)].iloc[0]
    assert math.isnan(follow_up["das28_esr"]) and pd.isna(follow_up["das28_esr_category"])
    assert follow_up["cdai_category"] == "moderate"  # the other indices do not need ESR
    a, b = one(derived.patients, "A"), one(derived.patients, "B")
    assert pd.isna(a["das28_esr_category"]) and pd.isna(a["eular_response"])
    assert b["eular_response"] == "none"
    assert list(derived.patients["eular_response"].cat.categories) == ["none", "moderate", "good"]


def test_a_visit_of_a_patient_missing_from_the_patients_sheet_is_an_analysis_error() -> None:
    cohort = make_cohort([visit("A", 0), visit("B", 0)])
    without_b = type(cohort)(cohort.patients.iloc[:1], cohort.visits, cohort.study, (), "x", "0")
    with pytest.raises(AnalysisError, match="^a visit belongs to a patient missing from the patients sheet$"):
        derive(without_b)


def test_missing_baseline_names_exactly_those_patients_and_at_most_ten() -> None:
    # A's baseline is the sheet's first visit (row position 0): it must not be listed.
    with pytest.raises(AnalysisError, match=r"^no baseline \(month 0\) visit for patient\(s\): B, C$"):
        derive(make_cohort([visit("A", 0), visit("B", 3), visit("C", 6)]))
    many = [visit("A", 0), *(visit(f"M{i:02d}", 3) for i in range(12))]
    with pytest.raises(AnalysisError, match=r"^no baseline \(month 0\) visit for patient\(s\): M00, M01, M02, M03, M04, M05, M06, M07, M08, M09$"):
        derive(make_cohort(many))


def test_trough_level_counts_from_month_1_never_month_0() -> None:
    cohort = make_cohort([visit("A", 0), visit("A", 12), visit("B", 0), visit("B", 1, trough_level=3.0), visit("B", 12)])
    # validate already drops levels at month 0; derive does not count one either if it gets one.
    cohort.visits.loc[cohort.visits["month"] == 0, "trough_level"] = 7.0
    patients = derive(cohort).patients
    assert math.isnan(one(patients, "A")["trough_level"]) and math.isnan(one(patients, "A")["trough_month"])
    assert (one(patients, "B")["trough_level"], one(patients, "B")["trough_month"]) == (3.0, 1.0)


def test_trough_level_on_the_sheets_first_visit_row() -> None:
    # The level's visit is row position 0 of the visits: still a level.
    cohort = make_cohort([visit("A", 12, trough_level=5.0), visit("A", 0)])
    patient = one(derive(cohort).patients, "A")
    assert (patient["trough_level"], patient["trough_month"]) == (5.0, 12.0)


# --- found by mutation testing, sixth pass: derive, _follow_up_warnings, _closest_per_patient ----------------


def _windowed(visits: list[dict], **study: object) -> Cohort:
    return make_cohort(visits, study=StudyOptions(**{"follow_up_month": 6, **study}))


def test_the_window_takes_the_closest_visit_for_every_patient_the_earlier_on_a_tie() -> None:
    visits = [
        visit("A", 0), visit("A", 4, tjc28=1), visit("A", 7, tjc28=2),  # 7 is closer than 4
        visit("B", 0), visit("B", 5, tjc28=1), visit("B", 8, tjc28=2),  # 5 is closer than 8 (not the first patient)
        visit("C", 0), visit("C", 7, tjc28=2), visit("C", 5, tjc28=1),  # a tie: the earlier, whatever the row order
        visit("D", 0), visit("D", 8, tjc28=2), visit("D", 4, tjc28=1), visit("D", 6, tjc28=3),  # the month itself
    ]  # fmt: skip
    patients = derive(_windowed(visits, visit_window_months=2)).patients
    chosen = {pid: (one(patients, pid)["follow_up_visit_month"], one(patients, pid)["tjc28"]) for pid in "ABCD"}
    assert chosen == {"A": (7, 2), "B": (5, 1), "C": (5, 1), "D": (6, 3)}
    assert not patients["carried_forward"].any()


def test_a_follow_up_visit_on_the_sheets_first_row_placed_by_the_window() -> None:
    # Row position 0 is A's month-7 visit: placed by the window, with its level, and warned about.
    derived = derive(_windowed([visit("A", 7, tjc28=2, trough_level=9.0), visit("A", 0)], visit_window_months=1))
    patient = one(derived.patients, "A")
    assert (patient["follow_up_visit_month"], patient["tjc28"], patient["carried_forward"]) == (7, 2, False)
    assert (patient["trough_level"], patient["trough_month"]) == (9.0, 7.0)
    assert [(w.row, w.value) for w in derived.warnings] == [(2, "7")]


def test_a_follow_up_month_of_1() -> None:
    # The visit at month 1 is the follow-up visit, and its level the trough level.
    patient = one(derive(make_cohort([visit("A", 0), visit("A", 1, tjc28=2, trough_level=5.0)], study=StudyOptions(follow_up_month=1))).patients, "A")
    assert (patient["follow_up_visit_month"], patient["tjc28"], patient["carried_forward"]) == (1, 2, False)
    assert (patient["trough_level"], patient["trough_month"]) == (5.0, 1.0)


def test_follow_up_warnings_word_for_word_in_row_order() -> None:
    visits = [
        visit("B", 0),  # row 2
        visit("A", 8),  # row 3: after 6 + 1
        visit("A", 0),  # row 4
        visit("A", 7),  # row 5: placed by the window
        visit("B", 9),  # row 6
        visit("B", 12),  # row 7
        visit("A", 10),  # row 8
        visit("C", 0),  # row 9
        visit("C", 9),  # row 10
        visit("D", 0),  # row 11
        visit("D", 6),  # row 12: at the month itself, no warning
    ]
    derived = derive(_windowed(visits, visit_window_months=1))
    beyond = "after the month-6 follow-up and its \u00b11-month window (visit_window_months)"
    assert derived.warnings == (
        Problem("visits", 3, "month", "8", f"the 2 visits at months 8 and 10 of patient A (rows 3 and 8) are {beyond}, so they were not used", "warning"),
        Problem("visits", 5, "month", "7", "the visit at month 7 of patient A was used as the month-6 follow-up visit, within the \u00b11-month window (visit_window_months)", "warning"),
        Problem("visits", 6, "month", "9", f"the 2 visits at months 9 and 12 of patient B (rows 6 and 7) are {beyond}, so they were not used", "warning"),
        Problem("visits", 10, "month", "9", f"the visit at month 9 of patient C is {beyond}, so it was not used", "warning"),
    )
    assert [one(derived.patients, pid)["follow_up_visit_month"] for pid in "ABCD"] == [7, 0, 0, 6]


def test_follow_up_warnings_without_a_window_name_no_window() -> None:
    derived = derive(_windowed([visit("A", 0), visit("A", 6), visit("A", 7), visit("A", 8), visit("A", 9)]))
    assert derived.warnings == (
        Problem("visits", 4, "month", "7", "the 3 visits at months 7, 8 and 9 of patient A (rows 4, 5 and 6) are after the month-6 follow-up, so they were not used", "warning"),
    )


def test_the_level_month_with_a_window_and_a_cohort_of_one_visit() -> None:
    visits = [visit("A", 0), visit("A", 4, trough_level=6.0), visit("A", 6, trough_level=9.0), visit("B", 0), visit("B", 3), visit("B", 6, trough_level=9.0)]
    patients = derive(_windowed(visits, level_month=3, visit_window_months=1)).patients
    assert (one(patients, "A")["trough_level"], one(patients, "A")["trough_month"]) == (6.0, 4.0)  # at the window's edge
    b = one(patients, "B")
    assert math.isnan(b["trough_level"]) and math.isnan(b["trough_month"])  # the month-3 visit has no level
    # One visit in all: no level, without reaching for another row.
    patient = one(derive(_windowed([visit("A", 0)], level_month=3)).patients, "A")
    assert math.isnan(patient["trough_level"]) and math.isnan(patient["trough_month"]) and not patient["trough_below_lloq"]


def test_anti_drug_antibodies_of_the_level_visit_and_none_without_a_level() -> None:
    visits = [
        visit("A", 0), visit("A", 3, trough_level=4.0), visit("A", 6),
        visit("C", 0), visit("C", 6, trough_level=2.0),
        visit("B", 0), visit("B", 6),  # no level
    ]  # fmt: skip
    cohort = _windowed(visits)
    tested = pd.Series([None, "positive", "negative", None, None, "negative", "positive"], dtype=object)
    patients = derive(dataclasses.replace(cohort, visits=cohort.visits.assign(anti_drug_antibodies=tested))).patients
    assert patients["anti_drug_antibodies"].dtype == object
    assert patients["anti_drug_antibodies"].tolist() == ["positive", None, None]


def test_categories_are_spread_from_values_rounded_at_category_decimals(monkeypatch: pytest.MonkeyPatch) -> None:
    # Only another CATEGORY_DECIMALS than the rounding function's default (2) tells whether the distinct values
    # are taken at the constant: at 3 decimals 2.597 is 'remission', at 2 (2.60) it would be 'low'.
    monkeypatch.setattr(indices, "CATEGORY_DECIMALS", 3)
    categories = _categories(np.array([2.597, np.nan, 2.5996, 2.597]), indices.das28_category)
    assert categories.tolist()[0] == categories.tolist()[3] == "remission" and categories.tolist()[2] == "low"
    assert pd.isna(categories.tolist()[1])


def test_follow_up_warnings_follow_the_sheets_rows_whatever_the_order_of_the_visits() -> None:
    cohort = _windowed([visit("A", 0), visit("A", 9), visit("B", 0), visit("B", 7)], visit_window_months=1)
    reversed_visits = cohort.visits.iloc[::-1].reset_index(drop=True)  # each visit keeps its excel_row
    warnings = derive(dataclasses.replace(cohort, visits=reversed_visits)).warnings
    assert [(w.row, w.value) for w in warnings] == [(3, "9"), (5, "7")]


def test_the_below_lloq_flag_is_that_of_the_levels_visit() -> None:
    cohort = make_cohort([
        visit("A", 0), visit("A", 12, trough_level=0.5),  # typed below the LLOQ
        visit("B", 0), visit("B", 6, trough_level=0.5), visit("B", 12, trough_level=4.0),  # an earlier level was below
        visit("C", 0), visit("C", 12),  # no level
    ])  # fmt: skip
    visits = cohort.visits.copy()
    visits["level_below_lloq"] = [False, True, False, True, False, False, False]
    patients = derive(dataclasses.replace(cohort, visits=visits)).patients
    assert patients["trough_below_lloq"].dtype == bool
    assert patients["trough_below_lloq"].tolist() == [True, False, False]
