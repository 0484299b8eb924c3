"""Visit windows and the month of the level (issue 12): study keys visit_window_months and level_month.

Derive's choice of the follow-up visit and of the level, the flow's and results.json's placed-by-window
count against an independent count, the warnings, the Methods' sentences and the validation of both keys.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_derive import _reference_follow_up
from test_validate import only, problems, valid
from workbooks import DESIGN_UNSET, valid_rows, write_workbook

from reportgen.analysis import analyse
from reportgen.cli import main
from reportgen.derive import derive
from reportgen.formatting import Formatter
from reportgen.model import StudyOptions
from reportgen.narrative import write_abstract, write_methods
from reportgen.document import WARNINGS_CSV
from reportgen.results_json import results_to_document
from tests.cohorts import make_cohort, random_cohort, visit


def one(patients: pd.DataFrame, patient_id: str) -> pd.Series:
    return patients.set_index("patient_id").loc[patient_id]


def study(**changes: Any) -> StudyOptions:
    return StudyOptions(**{"follow_up_month": 6, **changes})


# --- the follow-up visit -------------------------------------------------------------------------


def test_the_closest_visit_in_the_window_wins() -> None:
    visits = [visit("A", 0), visit("A", 4, tjc28=1), visit("A", 7, tjc28=2), visit("B", 0), visit("B", 5, tjc28=1), visit("B", 6, tjc28=3)]
    derived = derive(make_cohort(visits, study=study(visit_window_months=2)))
    patient = one(derived.patients, "A")
    assert (patient["follow_up_visit_month"], patient["tjc28"], patient["carried_forward"]) == (7, 2, False)
    assert one(derived.patients, "B")["follow_up_visit_month"] == 6  # the visit at the month itself beats the window
    assert [warning.row for warning in derived.warnings] == [4]  # only A's follow-up was placed by the window


def test_a_tie_goes_to_the_earlier_visit() -> None:
    cohort = make_cohort([visit("A", 0), visit("A", 7, tjc28=2), visit("A", 5, tjc28=1)], study=study(visit_window_months=1))
    patient = one(derive(cohort).patients, "A")
    assert (patient["follow_up_visit_month"], patient["tjc28"], patient["carried_forward"]) == (5, 1, False)


def test_a_visit_after_the_month_inside_the_window_is_used_with_a_warning() -> None:
    cohort = make_cohort(
        [visit("A", 0), visit("A", 3, tjc28=1, trough_level=4.0), visit("A", 7, tjc28=2, trough_level=9.0)],
        study=study(visit_window_months=1),
    )
    derived = derive(cohort)
    patient = one(derived.patients, "A")
    assert (patient["follow_up_visit_month"], patient["tjc28"], patient["carried_forward"]) == (7, 2, False)
    assert (patient["trough_level"], patient["trough_month"]) == (9.0, 7.0)  # the level of the follow-up visit
    warning = only(derived.warnings)
    assert (warning.sheet, warning.row, warning.column, warning.value, warning.severity) == ("visits", 4, "month", "7", "warning")
    assert "month 7 of patient A was used as the month-6 follow-up visit" in warning.rule


def test_outside_the_window_the_last_visit_is_carried_forward_and_the_later_visit_named() -> None:
    cohort = make_cohort(
        [visit("A", 0), visit("A", 3, tjc28=1, trough_level=4.0), visit("A", 8, tjc28=2, trough_level=9.0)],
        study=study(visit_window_months=1),
    )
    derived = derive(cohort)
    patient = one(derived.patients, "A")
    assert (patient["follow_up_visit_month"], patient["tjc28"], patient["carried_forward"]) == (3, 1, True)
    assert (patient["trough_level"], patient["trough_month"]) == (4.0, 3.0)
    warning = only(derived.warnings)
    assert (warning.sheet, warning.row, warning.value) == ("visits", 4, "8")
    assert "month 8 of patient A is after the month-6 follow-up and its ±1-month window" in warning.rule
    assert "not used" in warning.rule


def test_carried_forward_from_before_the_window_only() -> None:
    # Month 4 lies inside [6 - 2, 6 + 2]; the LOCF rule is "the last visit before the window", never a visit in it.
    cohort = make_cohort([visit("A", 0), visit("A", 3, tjc28=1), visit("A", 4, tjc28=2)], study=study(visit_window_months=2))
    patient = one(derive(cohort).patients, "A")
    assert (patient["follow_up_visit_month"], patient["carried_forward"]) == (4, False)
    cohort = make_cohort([visit("A", 0), visit("A", 3, tjc28=1)], study=study(visit_window_months=2))
    patient = one(derive(cohort).patients, "A")
    assert (patient["follow_up_visit_month"], patient["carried_forward"]) == (3, True)


def test_a_window_of_zero_is_the_rule_without_windows() -> None:
    cohort = random_cohort(4, 150, months=(0, 3, 6, 9, 11, 12), study=StudyOptions(follow_up_month=9, visit_window_months=0), dropout=0.4)
    derived = derive(cohort)
    reference = _reference_follow_up(cohort.visits, 9)
    for _, row in derived.patients.iterrows():
        month, tjc, level = reference[row["patient_id"]]
        assert (row["follow_up_visit_month"], row["tjc28"], row["carried_forward"]) == (month, tjc, month != 9)
        assert (math.isnan(level) and math.isnan(row["trough_level"])) or row["trough_level"] == level
    # The visits after month 9 (months 11 and 12 here): one warning per patient at the first, naming every row.
    after = cohort.visits[cohort.visits["month"] > 9]
    firsts = after.groupby("patient_id", sort=False)["excel_row"].min().sort_values()
    assert [w.row for w in derived.warnings] == firsts.tolist()
    for warning in derived.warnings:
        own = after[after["excel_row"].isin([warning.row])]["patient_id"].iloc[0]
        rows = after[after["patient_id"] == own]["excel_row"].tolist()
        if len(rows) == 1:
            assert warning.rule.endswith(f"of patient {own} is after the month-9 follow-up, so it was not used")
        else:
            assert f"of patient {own} (rows {rows[0]} and {rows[1]}) are after the month-9 follow-up, so they were not used" in warning.rule
    assert any(" and " in w.rule for w in derived.warnings) and any(" and " not in w.rule for w in derived.warnings)


# --- the level month -----------------------------------------------------------------------------


def test_the_level_of_the_level_month() -> None:
    visits = [
        visit("A", 0), visit("A", 3, trough_level=5.0), visit("A", 6, trough_level=9.0),
        visit("B", 0), visit("B", 3), visit("B", 6, trough_level=9.0),  # no level at month 3
        visit("C", 0), visit("C", 6, trough_level=9.0),  # no month-3 visit
    ]  # fmt: skip
    patients = derive(make_cohort(visits, study=study(level_month=3))).patients
    assert (one(patients, "A")["trough_level"], one(patients, "A")["trough_month"]) == (5.0, 3.0)
    for patient_id in ("B", "C"):  # no fall-back to the follow-up visit's level
        assert math.isnan(one(patients, patient_id)["trough_level"]) and math.isnan(one(patients, patient_id)["trough_month"])
    assert one(patients, "B")["follow_up_visit_month"] == 6  # the outcome is unchanged


def test_the_level_month_with_a_window_takes_the_closest_measured_level() -> None:
    visits = [
        visit("A", 0), visit("A", 2, trough_level=4.0), visit("A", 4, trough_level=6.0), visit("A", 6),
        visit("B", 0), visit("B", 3), visit("B", 4, trough_level=6.0), visit("B", 6),  # month 3 without a level
        visit("C", 0), visit("C", 5, trough_level=6.0), visit("C", 6),  # month 5 is outside 3 ± 1
    ]  # fmt: skip
    patients = derive(make_cohort(visits, study=study(level_month=3, visit_window_months=1))).patients
    assert (one(patients, "A")["trough_level"], one(patients, "A")["trough_month"]) == (4.0, 2.0)  # tie: the earlier
    assert (one(patients, "B")["trough_level"], one(patients, "B")["trough_month"]) == (6.0, 4.0)
    assert math.isnan(one(patients, "C")["trough_level"])


def test_patients_without_a_level_at_the_level_month_are_not_analysed() -> None:
    cohort = random_cohort(5, 120, study=study(level_month=3))
    visits = cohort.visits
    at_three = visits[(visits["month"] == 3) & visits["trough_level"].notna()]["patient_id"]
    results = analyse(derive(cohort), cohort.study)
    assert results.cohort.n_analysed == at_three.nunique()
    assert results.flow is not None and results.flow.no_level == 120 - at_three.nunique()


# --- counts, results.json, Methods ------------------------------------------------------------------


def _independent_placed(visits: pd.DataFrame, follow_up_month: int, window: int) -> dict[str, bool]:
    """Per patient: no visit at the follow-up month, but one within the window (a loop over patients)."""
    placed = {}
    for patient_id, own in visits.groupby("patient_id"):
        months = set(own["month"].tolist())
        placed[patient_id] = follow_up_month not in months and any(
            0 < m and abs(m - follow_up_month) <= window for m in months
        )
    return placed


def test_placed_by_window_in_results_json_is_an_independent_count() -> None:
    cohort = random_cohort(6, 200, months=(0, 3, 6, 9, 11, 12, 13), study=StudyOptions(visit_window_months=1), dropout=0.5, missing_level=0.3)
    # Drop a share of the month-12 visits, so that months 11 and 13 stand in for them.
    visits = cohort.visits
    drop = (visits["month"] == 12) & (np.arange(len(visits)) % 3 == 0)
    cohort = make_cohort(visits[~drop].drop(columns="excel_row").to_dict("records"), cohort.patients.drop(columns="excel_row").to_dict("records"), study=cohort.study)
    derived = derive(cohort)
    results = analyse(derived, cohort.study)
    document = results_to_document(results)
    placed = _independent_placed(cohort.visits, 12, 1)
    assert sum(placed.values()) > 5
    assert document["cohort"]["n_placed_by_window"] == sum(placed.values())
    analysed = set(derived.patients.loc[derived.patients["trough_level"].notna(), "patient_id"])
    assert sum(g["placed_by_window"] for g in document["flow"]["groups"]) == sum(placed[p] for p in analysed)
    assert all(g["analysed"] == g["reached_follow_up"] + g["carried_forward"] + g["placed_by_window"] for g in document["flow"]["groups"])
    assert not any(row["patient_id"] in placed and placed[row["patient_id"]] for row in document["carried_forward"])
    assert (document["design"]["level_month"], document["design"]["visit_window_months"]) == (None, 1)
    placed_warnings = [w for w in derived.warnings if "was used as the month-12 follow-up visit" in w.rule]
    assert len(placed_warnings) == sum(placed.values())


def test_the_methods_state_the_window_and_the_level_month() -> None:
    cohort = make_cohort(
        [visit("A", 0), visit("A", 3, trough_level=5.0), visit("A", 7), visit("B", 0), visit("B", 3, trough_level=8.0), visit("B", 6)],
        study=study(level_month=3, visit_window_months=1),
    )
    results = analyse(derive(cohort), cohort.study)
    text = " ".join(" ".join(section.paragraphs) for section in write_methods(results, Formatter.for_study(cohort.study)))
    assert "A visit within ±1 month of month 6 (months 5 to 7) counted as the month-6 visit" in text
    assert "The window placed the follow-up visit of 1 patient at another month than month 6." in text
    assert "Visits after month 7 were not used." in text
    assert (
        "Each patient's level was the one measured at the month-3 visit, or else at the closest visit with a level within "
        "±1 month of month 3 (the earlier of two equally close)"
    ) in text
    assert "no other month's level was used" in text
    abstract = " ".join(" ".join(section.paragraphs) for section in write_abstract(results, Formatter.for_study(cohort.study)).sections)
    assert "a visit within ±1 month counted as the month-6 visit (1 patient with another month's visit)" in abstract
    assert "The trough level was the one measured at month 3 (±1 month)." in abstract


# --- validation ------------------------------------------------------------------------------------


def test_both_keys_are_read(tmp_path: Path) -> None:
    options = valid(tmp_path, study={"follow_up_month": 6, "level_month": 3, "visit_window_months": 1}).study
    assert (options.level_month, options.visit_window_months) == (3, 1)


@pytest.mark.parametrize(
    "settings",
    [
        {"level_month": 12},  # equal to the follow-up month (default 12)
        {"level_month": 1},
        {"visit_window_months": 11},  # the widest around month 12
        {"follow_up_month": 6, "level_month": 3, "visit_window_months": 1},  # 2 × 1 < 6 - 3
        {"follow_up_month": 6, "level_month": 6, "visit_window_months": 5},  # one shared window
        {"visit_window_months": "2"},
    ],
)
def test_valid_boundaries(tmp_path: Path, settings: dict[str, Any]) -> None:
    options = valid(tmp_path, study=settings).study
    for key, value in settings.items():
        assert getattr(options, key) == int(value)


@pytest.mark.parametrize(
    "key, value",
    [("level_month", 0), ("level_month", 121), ("level_month", 2.5), ("level_month", "three"),
     ("visit_window_months", -1), ("visit_window_months", 1.5), ("visit_window_months", 120), ("visit_window_months", "one")],
)  # fmt: skip
def test_invalid_values_name_the_row(tmp_path: Path, key: str, value: Any) -> None:
    problem = only(problems(tmp_path, study={"title": "ok", key: value}))
    assert (problem.sheet, problem.row, problem.column) == ("study", 3, "value")
    assert problem.rule.startswith(f"{key} must be")


def test_a_level_month_after_the_follow_up_month(tmp_path: Path) -> None:
    problem = only(problems(tmp_path, study={"follow_up_month": 6, "level_month": 7}))
    assert (problem.sheet, problem.row, problem.column, problem.value) == ("study", 3, "value", "7")
    assert problem.rule.startswith("level_month is 7 but follow_up_month is 6 (row 2)")
    problem = only(problems(tmp_path, study={"level_month": 13}))
    assert "follow_up_month is 12 (the default)" in problem.rule


@pytest.mark.parametrize(
    "settings, row, widest, reason",
    [
        ({"visit_window_months": 12}, 2, 11, "around month 12 (follow_up_month) would reach the baseline visit"),
        ({"follow_up_month": 6, "level_month": 3, "visit_window_months": 2}, 4, 1, "share a month"),
        ({"follow_up_month": 6, "level_month": 2, "visit_window_months": 2}, 4, 1, "around month 2 (level_month) would reach the baseline"),
        ({"follow_up_month": 12, "level_month": 6, "visit_window_months": 3}, 4, 2, "share a month"),
    ],
)
def test_a_window_too_wide(tmp_path: Path, settings: dict[str, Any], row: int, widest: int, reason: str) -> None:
    problem = only(problems(tmp_path, study=settings))
    assert (problem.sheet, problem.row, problem.column) == ("study", row, "value")
    assert f"can be at most {widest} here" in problem.rule and reason in problem.rule


@pytest.mark.parametrize("typo, key", [("level_moth", "level_month"), ("visit_window_month", "visit_window_months")])
def test_a_misspelt_key_suggests_the_right_one(tmp_path: Path, typo: str, key: str) -> None:
    problem = only(problems(tmp_path, study={typo: 1}))
    assert f"did you mean {key}?" in problem.rule


# --- a build ---------------------------------------------------------------------------------------


def test_a_build_with_a_window_counts_warns_and_records_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = valid_rows()
    moved = next(i for i, row in enumerate(rows.visits) if (row["patient_id"], row["month"]) == ("001", 6))
    rows.visits[moved]["month"] = 7  # patient 001 has no month-6 visit, but one at month 7
    later = [row for row in rows.visits if row["month"] > 7]
    workbook = write_workbook(
        tmp_path / "cohort.xlsx", patients=rows.patients, visits=rows.visits,
        study={"title": "Windows", "follow_up_month": 6, "visit_window_months": 1},
    )  # fmt: skip
    out = tmp_path / "out"
    assert main(["build", str(workbook), "--out", str(out), "--quiet", "--no-pdf", "--formats", "html"]) == 0
    err = capsys.readouterr().err
    folder = out / "latest"
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert results["cohort"]["n_placed_by_window"] == 1 and results["cohort"]["n_locf"] == 0
    assert sum(group["placed_by_window"] for group in results["flow"]["groups"]) == 1
    assert (results["design"]["level_month"], results["design"]["visit_window_months"]) == (None, 1)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["study"]["visit_window_months"], manifest["design"]["visit_window_months"]) == (1, 1)
    assert manifest["study"]["level_month"] is None and manifest["grouping"]["grouping"] == "quartiles"
    assert manifest["grouping"]["labels"] == [stratum["label"] for stratum in results["strata"]]
    # One warning for the placed visit (row of the moved visit) and one per visit after month 7, in row order.
    placed = [w for w in manifest["warnings"] if "was used as the month-6 follow-up visit" in w["rule"]]
    assert [(w["sheet"], w["row"], w["value"]) for w in placed] == [("visits", moved + 2, "7")]
    assert "patient 001" in placed[0]["rule"]
    unused = [w for w in manifest["warnings"] if "were not used" in w["rule"] or "was not used" in w["rule"]]
    later_patients = {row["patient_id"] for row in later}
    assert len(unused) == len(later_patients) and len(manifest["warnings"]) == len(later_patients) + 1 + len(DESIGN_UNSET)
    assert any("the 2 visits at months 9 and 12 of patient 002" in w["rule"] for w in unused)
    with (folder / WARNINGS_CSV).open(encoding="utf-8", newline="") as handle:
        assert sum(1 for row in csv.reader(handle) if row and "was used as the month-6 follow-up visit" in row[4]) == 1
    assert err.startswith(f"reportgen: {len(manifest['warnings'])} warnings about the workbook")
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "Placed by a visit window" in html
    assert "with a visit placed by the visit window (1 patient in all)" in html
    assert "A visit within ±1 month of month 6 (months 5 to 7) counted as the month-6 visit" in html
    assert "Every patient had a month-6 visit (1 of them within the visit window); nothing was carried forward." in html
