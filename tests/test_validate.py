"""Every rule of the cohort workbook contract, each on a small workbook built in code."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from workbooks import DESIGN_UNSET, PATIENT_COLUMNS, VISIT_COLUMNS, ExcelError, Formula, RawSheet, valid_rows, write_workbook

from reportgen.contract import load_contract
from reportgen.errors import WorkbookInvalid
from reportgen.model import Cohort, Problem, RawWorkbook, SheetData, StudyOptions
from reportgen.validate import validate_workbook
from reportgen.workbook import load_workbook

_DEFAULT = object()


def _workbook(tmp_path: Path, patients: Any = _DEFAULT, visits: Any = _DEFAULT, **sheets: Any) -> Path:
    rows = valid_rows()
    return write_workbook(
        tmp_path / "cohort.xlsx",
        patients=rows.patients if patients is _DEFAULT else patients,
        visits=rows.visits if visits is _DEFAULT else visits,
        **sheets,
    )


def valid(tmp_path: Path, **sheets: Any) -> Cohort:
    return validate_workbook(load_workbook(_workbook(tmp_path, **sheets)))


def problems(tmp_path: Path, **sheets: Any) -> tuple[Problem, ...]:
    with pytest.raises(WorkbookInvalid) as caught:
        validate_workbook(load_workbook(_workbook(tmp_path, **sheets)))
    return caught.value.problems


def only(found: tuple[Problem, ...]) -> Problem:
    assert len(found) == 1, "\n".join(problem.sentence() for problem in found)
    return found[0]


def at(found: tuple[Problem, ...], sheet: str, row: int | None, column: str | None) -> Problem:
    matches = [problem for problem in found if (problem.sheet, problem.row, problem.column) == (sheet, row, column)]
    assert matches, f"nothing at {sheet} row {row} {column}:\n" + "\n".join(problem.sentence() for problem in found)
    return matches[0]


# --- a valid cohort -----------------------------------------------------------------------------


def test_valid_cohort_has_the_documented_columns_and_types(tmp_path: Path) -> None:
    cohort = valid(tmp_path)
    assert list(cohort.patients.columns) == [*PATIENT_COLUMNS, "excel_row"]
    assert list(cohort.visits.columns) == [*VISIT_COLUMNS, "excel_row", "level_below_lloq"]
    assert {name: str(dtype) for name, dtype in cohort.patients.dtypes.items()} == {
        "patient_id": "str", "sex": "str", "age_years": "float64", "disease_duration_years": "float64",
        "rf_positive": "boolean", "acpa_positive": "boolean", "prior_biologics": "int64",
        "concomitant_mtx": "bool", "withdrawal_month": "float64", "withdrawal_reason": "object", "excel_row": "int64",
    }  # fmt: skip
    assert {name: str(dtype) for name, dtype in cohort.visits.dtypes.items()} == {
        "patient_id": "str", "month": "int64", "tjc28": "int64", "sjc28": "int64", "esr_mm_h": "float64",
        "crp_mg_l": "float64", "patient_global_mm": "float64", "evaluator_global_mm": "float64",
        "trough_level": "float64", "excel_row": "int64", "level_below_lloq": "bool",
    }  # fmt: skip
    assert len(cohort.patients) == 8 and len(cohort.visits) == 37
    assert cohort.patients["patient_id"].tolist()[:2] == ["001", "002"]
    assert cohort.patients["excel_row"].tolist() == list(range(2, 10))
    assert cohort.patients.loc[4, "acpa_positive"] is pd.NA
    assert cohort.patients["withdrawal_reason"].tolist()[:3] == [None, None, "adverse event"]
    assert cohort.study == StudyOptions()
    assert [(warning.sheet, warning.row, warning.column) for warning in cohort.warnings] == list(DESIGN_UNSET)
    assert cohort.source_name == "cohort.xlsx" and len(cohort.source_sha256) == 64


def test_visits_are_sorted_by_patient_order_then_month(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    cohort = valid(tmp_path, patients=patients, visits=list(reversed(visits)))
    assert cohort.visits["patient_id"].tolist()[:5] == ["001"] * 5
    assert cohort.visits["month"].tolist()[:5] == [0, 3, 6, 9, 12]
    assert cohort.visits["excel_row"].tolist()[0] == 38  # reversed: the first visit was written last


def test_trough_level_at_baseline_is_ignored(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    visits[0]["trough_level"] = 7.5
    cohort = valid(tmp_path, patients=patients, visits=visits)
    assert math.isnan(cohort.visits.loc[0, "trough_level"])
    assert cohort.visits.loc[1, "trough_level"] == 3.0


def test_crp_in_mg_dl_is_converted_once_to_mg_l(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    for visit in visits:
        visit["crp_mg_dl"] = visit.pop("crp_mg_l") / 10
    cohort = valid(tmp_path, patients=patients, visits=visits)
    assert "crp_mg_dl" not in cohort.visits.columns
    assert cohort.visits.loc[0, "crp_mg_l"] == pytest.approx(valid_rows().visits[0]["crp_mg_l"])


# --- the broken copies of issue 2 ----------------------------------------------------------------


def test_text_in_a_joint_count_names_the_cell(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    visits[5]["tjc28"] = "abc"
    problem = only(problems(tmp_path, patients=patients, visits=visits))
    assert (problem.sheet, problem.row, problem.column, problem.value) == ("visits", 7, "tjc28", "'abc'")
    assert problem.rule == "tjc28 must be a whole number from 0 to 28"


def test_a_duplicate_patient_is_named_once_at_the_repeat_with_the_first_row(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    patients[2]["patient_id"] = "002"
    found = problems(tmp_path, patients=patients, visits=visits)
    duplicates = [problem for problem in found if "already used" in problem.rule]
    assert [(problem.row, problem.column, problem.value) for problem in duplicates] == [(4, "patient_id", "'002'")]
    assert duplicates[0].rule.startswith("this patient_id is already used on row 3;")


def test_a_visit_for_an_unknown_patient_names_the_cell(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    visits.append(dict(visits[0], patient_id="099"))
    problem = only(problems(tmp_path, patients=patients, visits=visits))
    assert (problem.sheet, problem.row, problem.column, problem.value) == ("visits", 39, "patient_id", "'099'")
    assert "not in the patients sheet" in problem.rule


def test_a_missing_sheet_is_one_sentence(tmp_path: Path) -> None:
    problem = only(problems(tmp_path, visits=None))
    assert (problem.sheet, problem.row, problem.column) == ("visits", None, None)
    assert problem.rule.startswith("the workbook has no sheet named visits")


def test_a_visit_after_withdrawal_names_the_cell(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    visits.insert(13, dict(visits[12], month=9))  # patient 003 withdrew at month 6
    problem = only(problems(tmp_path, patients=patients, visits=visits))
    assert (problem.sheet, problem.row, problem.column, problem.value) == ("visits", 15, "month", "9")
    assert problem.rule.startswith("this visit at month 9 of patient 003 comes after their withdrawal at month 6; ")



def test_a_visit_after_withdrawal_names_the_patient_and_both_months(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    for row in (*patients, *visits):
        if row["patient_id"] == "002":
            row["patient_id"] = "HX23-0002"
    patients[1]["withdrawal_month"] = 3  # visits at months 6, 9 and 12 follow (rows 9 to 11)
    found = problems(tmp_path, patients=patients, visits=visits)
    assert [(problem.sheet, problem.row, problem.column, problem.value) for problem in found] == [
        ("visits", 9, "month", "6"), ("visits", 10, "month", "9"), ("visits", 11, "month", "12")
    ]
    assert found[1].rule == (
        "this visit at month 9 of patient HX23-0002 comes after their withdrawal at month 3; "
        "remove the visit or correct withdrawal_month in the patients sheet"
    )


def test_control_characters_are_refused_in_every_text_cell_but_tab_line_breaks_and_bidi_are_kept(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    patients[2]["withdrawal_reason"] = "lack of\tefficacy\r\nsee \u202enotes"
    cohort = validate_workbook(load_workbook(_workbook(tmp_path, patients=patients, visits=visits)))
    assert cohort.patients["withdrawal_reason"][2] == "lack of\tefficacy\r\nsee \u202enotes"  # the data are kept exactly

    patients[2]["withdrawal_reason"] = "lack of\x1b[2Jefficacy"
    problem = only(problems(tmp_path, patients=patients, visits=visits))
    assert (problem.sheet, problem.row, problem.column, problem.value) == ("patients", 4, "withdrawal_reason", "'lack of\\x1b[2Jefficacy'")
    assert problem.rule.startswith("this text holds a control character")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    patients[0]["sex"] = "female"
    patients[1]["age_years"] = 12
    visits[3]["esr_mm_h"] = "high"
    visits[4]["sjc28"] = 30
    found = problems(tmp_path, patients=patients, visits=visits, study={"follow_up_month": "twelve"})
    assert [(problem.sheet, problem.row, problem.column) for problem in found] == [
        ("patients", 2, "sex"), ("patients", 3, "age_years"), ("visits", 5, "esr_mm_h"), ("visits", 6, "sjc28"), ("study", 2, "value"),
    ]  # fmt: skip


# --- cell types -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown", "sentence_start"),
    [
        ("12", "'12'", "this number is stored as text"),
        ("1,5", "'1,5'", "this number is stored as text"),
        (" 7 ", "' 7 '", "this number is stored as text"),
        (date(2020, 1, 2), "2020-01-02", "this cell holds a date or time"),
        (True, "TRUE", "this cell holds TRUE/FALSE"),
        ("n/a", "'n/a'", "esr_mm_h must be a number from 1 to 200"),
        (ExcelError("#N/A"), "#N/A", "this cell holds an Excel error"),
    ],
)
def test_a_numeric_cell_must_really_hold_a_number(tmp_path: Path, value: Any, shown: str, sentence_start: str) -> None:
    patients, visits = valid_rows()
    visits[2]["esr_mm_h"] = value
    problem = only(problems(tmp_path, patients=patients, visits=visits))
    assert (problem.row, problem.column, problem.value) == (4, "esr_mm_h", shown)
    assert problem.rule.startswith(sentence_start)
    assert "esr_mm_h must be a number from 1 to 200" in problem.rule


FORMULA_RULE = "this cell holds a formula; reportgen never evaluates formulas — paste the values instead (Paste Special → Values)"


@pytest.mark.parametrize("cached", [None, 66, 500, "#DIV/0!"], ids=["never-calculated", "saved-value", "saved-out-of-range", "saved-error"])
def test_any_formula_is_named_once_with_or_without_a_saved_value(tmp_path: Path, cached: Any) -> None:
    # A saved value may be stale (a program wrote the file, or Excel calculates manually): never trusted.
    patients, visits = valid_rows()
    visits[2]["esr_mm_h"] = Formula("=E3*2", cached=cached)
    problem = only(problems(tmp_path, patients=patients, visits=visits))
    assert (problem.sheet, problem.row, problem.column, problem.value) == ("visits", 4, "esr_mm_h", "=E3*2")
    assert problem.rule == FORMULA_RULE


def test_a_formula_in_the_study_sheet_is_named(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    found = problems(tmp_path, patients=patients, visits=visits, study={"title": Formula('="T"&"2"', cached="T2")})
    assert [(p.sheet, p.row, p.column, p.value) for p in found] == [("study", 2, "value", '="T"&"2"')]
    assert "never evaluates formulas" in found[0].rule


# (column, value, fails): at and just past each bound. Each case gets its own cell of one workbook.
VISIT_BOUNDS = [
    ("tjc28", 28, False), ("tjc28", 29, True), ("tjc28", -1, True), ("tjc28", 2.5, True),
    ("esr_mm_h", 1, False), ("esr_mm_h", 0.9, True), ("esr_mm_h", 200, False), ("esr_mm_h", 200.5, True),
    ("crp_mg_l", 0, False), ("crp_mg_l", 500.1, True), ("patient_global_mm", 100, False),
    ("evaluator_global_mm", 100.5, True), ("trough_level", 0, False), ("trough_level", -0.1, True),
]  # fmt: skip
PATIENT_BOUNDS = [
    ("age_years", 18, False), ("age_years", 17.9, True), ("age_years", 100, False), ("age_years", 100.5, True),
    ("disease_duration_years", 0, False), ("disease_duration_years", 80.1, True),
    ("prior_biologics", 10, False), ("prior_biologics", 11, True), ("prior_biologics", 1.5, True),
    ("withdrawal_month", 120, False), ("withdrawal_month", 121, True),
]  # fmt: skip


def _place(rows: list[dict[str, Any]], cases: list[tuple[str, Any, bool]]) -> set[tuple[int, str]]:
    """Put each case in the next free row of its column; return the (excel row, column) expected to fail."""
    used: dict[str, int] = {}
    failing = set()
    for column, value, fails in cases:
        index = used.get(column, 0)
        used[column] = index + 1
        rows[index][column] = value
        if fails:
            failing.add((index + 2, column))
    return failing


def test_visit_bounds_at_and_past_each_limit(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    failing = _place(visits, VISIT_BOUNDS)
    visits[4]["month"], visits[9]["month"] = 120, 121  # last visits of 001 and 002, so still unique
    found = problems(tmp_path, patients=patients, visits=visits)
    assert {(problem.row, problem.column) for problem in found} == failing | {(11, "month")}
    assert all(problem.rule.startswith(f"{problem.column} must be") for problem in found)


def test_patient_bounds_at_and_past_each_limit(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    failing = _place(patients, PATIENT_BOUNDS)
    found = problems(tmp_path, patients=patients, visits=visits)
    assert {(problem.row, problem.column) for problem in found} == failing
    assert all(problem.rule.startswith(f"{problem.column} must be") for problem in found)


YES_NO_SPELLINGS = ["yes", "No", "Y", "n", "TRUE", "false", "1", "0", 1, 0, True, False, " Yes "]


def test_yes_no_columns_accept_every_spelling(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    cells = [(index, "concomitant_mtx") for index in range(8)] + [(index, "rf_positive") for index in range(5)]
    for (index, column), answer in zip(cells, YES_NO_SPELLINGS):
        patients[index][column] = answer
    cohort = valid(tmp_path, patients=patients, visits=visits)
    for (index, column), answer in zip(cells, YES_NO_SPELLINGS):
        expected = answer if isinstance(answer, bool) else str(answer).strip().lower() in ("yes", "y", "true", "1")
        assert cohort.patients.loc[index, column] == expected, answer


@pytest.mark.parametrize("answer", ["maybe", 2, "oui", date(2020, 1, 1)])
def test_yes_no_columns_refuse_other_answers(tmp_path: Path, answer: Any) -> None:
    patients, visits = valid_rows()
    patients[0]["rf_positive"] = answer
    problem = only(problems(tmp_path, patients=patients, visits=visits))
    assert (problem.row, problem.column) == (2, "rf_positive")
    assert problem.rule.startswith("rf_positive must be yes or no")


def test_required_yes_no_and_optional_yes_no(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    patients[0]["rf_positive"] = None
    patients[1]["concomitant_mtx"] = None
    problem = only(problems(tmp_path, patients=patients, visits=visits))
    assert (problem.row, problem.column) == (3, "concomitant_mtx")
    assert problem.rule.startswith("this cell is empty")


def test_sex_is_f_or_m_in_any_case(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    patients[0]["sex"] = "f"
    patients[1]["sex"] = " M"
    assert valid(tmp_path, patients=patients, visits=visits).patients["sex"].tolist()[:2] == ["F", "M"]
    patients[2]["sex"] = "W"
    assert only(problems(tmp_path, patients=patients, visits=visits)).rule == "sex must be F or M"


def test_a_cell_of_spaces_is_blank(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    visits[0]["esr_mm_h"] = "   "
    problem = only(problems(tmp_path, patients=patients, visits=visits))
    assert problem.rule == "this cell is empty; esr_mm_h must be a number from 1 to 200"


def test_text_longer_than_allowed(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    patients[0]["withdrawal_reason"] = "x" * 10_000
    problem = only(problems(tmp_path, patients=patients, visits=visits))
    assert problem.rule == "withdrawal_reason may hold at most 500 characters"
    assert problem.value is not None and len(problem.value) <= 60


# --- patient ids --------------------------------------------------------------------------------


@pytest.mark.parametrize("patient_id", ["0007", "AB 12", "Pätiént-ß", "مريض-٣", "病人 1", "  lead"])
def test_patient_ids_survive_exactly(tmp_path: Path, patient_id: str) -> None:
    patients, visits = valid_rows()
    patients[0]["patient_id"] = patient_id
    for visit in visits[:5]:
        visit["patient_id"] = patient_id
    cohort = valid(tmp_path, patients=patients, visits=visits)
    assert cohort.patients.loc[0, "patient_id"] == patient_id
    assert cohort.visits.loc[0, "patient_id"] == patient_id


def test_a_numeric_patient_id_reads_as_shown(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    patients[0]["patient_id"] = 123
    for visit in visits[:5]:
        visit["patient_id"] = "123"
    assert valid(tmp_path, patients=patients, visits=visits).patients.loc[0, "patient_id"] == "123"


def test_a_blank_patient_id(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    patients[7]["patient_id"] = None
    found = problems(tmp_path, patients=patients, visits=visits)
    assert at(found, "patients", 9, "patient_id").rule.startswith("this cell is empty; patient_id")


def test_an_id_differing_only_by_spaces_is_told_apart(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    visits[1]["patient_id"] = "001 "
    problem = only(problems(tmp_path, patients=patients, visits=visits))
    assert (problem.row, problem.value) == (3, "'001 '")
    assert "only if spaces are ignored" in problem.rule


# --- across sheets --------------------------------------------------------------------------------


def test_month_is_unique_per_patient(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    visits[1]["month"] = 0
    found = problems(tmp_path, patients=patients, visits=visits)
    assert [(problem.row, problem.column) for problem in found] == [(2, "month"), (3, "month")]
    assert "only once per patient" in found[0].rule


def test_every_patient_has_a_baseline_visit(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    del visits[5]  # patient 002, month 0
    problem = only(problems(tmp_path, patients=patients, visits=visits))
    assert (problem.sheet, problem.row, problem.column, problem.value) == ("patients", 3, "patient_id", "'002'")
    assert problem.rule == (
        "this patient has no baseline visit (month 0) in the visits sheet; their earliest visit is month 3, "
        "so add a row with month 0 or correct that month"
    )


def test_a_patient_without_any_visit_is_told_to_add_the_baseline(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    visits = [visit for visit in visits if visit["patient_id"] != "002"]
    problem = only(problems(tmp_path, patients=patients, visits=visits))
    assert problem.rule == "this patient has no baseline visit (month 0) in the visits sheet; add a row for this patient with month 0"


def test_a_visit_in_the_withdrawal_month_is_allowed(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    patients[0]["withdrawal_month"] = 12
    valid(tmp_path, patients=patients, visits=visits)
    patients[0]["withdrawal_month"] = 11.5
    assert only(problems(tmp_path, patients=patients, visits=visits)).row == 6


# --- structure ---------------------------------------------------------------------------------------


def test_a_missing_column_is_one_sentence(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    for visit in visits:
        del visit["sjc28"]
    problem = only(problems(tmp_path, patients=patients, visits=visits))
    assert (problem.sheet, problem.row, problem.column) == ("visits", 1, "sjc28")
    assert problem.rule == "the column sjc28 is missing from row 1 of the visits sheet"


def test_a_misspelt_column_gets_a_hint(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    for patient in patients:
        patient["Patient_ID"] = patient.pop("patient_id")
    problem = only(problems(tmp_path, patients=patients, visits=visits))
    assert "row 1 has 'Patient_ID'" in problem.rule


def test_crp_needs_exactly_one_unit(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    for visit in visits:
        visit["crp_mg_dl"] = visit["crp_mg_l"] / 10
    assert "not both" in only(problems(tmp_path, patients=patients, visits=visits)).rule
    for visit in visits:
        del visit["crp_mg_l"], visit["crp_mg_dl"]
    assert "or give crp_mg_dl instead" in only(problems(tmp_path, patients=patients, visits=visits)).rule


def test_a_header_only_sheet(tmp_path: Path) -> None:
    problem = only(problems(tmp_path, visits=RawSheet(VISIT_COLUMNS)))
    assert problem.rule == "the visits sheet has no visit rows yet; add one row per visit below the header"


def test_an_empty_sheet(tmp_path: Path) -> None:
    problem = only(problems(tmp_path, patients=RawSheet(())))
    assert problem.rule == "the patients sheet is empty; row 1 must hold the column names"


def test_a_duplicated_column_name(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    sheet = RawSheet((*PATIENT_COLUMNS, "sex"), [[*row.values(), "F"] for row in patients])
    problem = only(problems(tmp_path, patients=sheet, visits=visits))
    assert (problem.row, problem.column) == (1, "sex") and "more than once" in problem.rule


def test_extra_columns_warn_and_are_dropped_and_other_sheets_ignored(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    for patient in patients:
        patient["notes"] = "x"
    unnamed = RawSheet((*VISIT_COLUMNS, ""), [[*row.values(), "junk"] for row in visits])
    cohort = valid(tmp_path, patients=patients, visits=unnamed, extra_sheets={"notes": RawSheet(("anything",), [["at all"]])})
    assert "notes" not in cohort.patients.columns
    assert [(warning.sheet, warning.column) for warning in cohort.warnings] == [
        ("patients", "notes"), ("visits", "column J"), *((sheet, column) for sheet, _, column in DESIGN_UNSET)
    ]
    assert all(warning.severity == "warning" for warning in cohort.warnings)


def test_blank_rows_are_skipped_and_rows_keep_their_excel_number(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    blank = dict.fromkeys(PATIENT_COLUMNS)
    cohort = valid(tmp_path, patients=[*patients[:2], blank, *patients[2:]], visits=visits)
    assert cohort.patients["excel_row"].tolist() == [2, 3, *range(5, 11)]


def test_sheet_names_match_in_any_case_and_problems_use_the_workbook_spelling(tmp_path: Path) -> None:
    rows = valid_rows()
    rows.visits[0]["tjc28"] = "x"
    path = write_workbook(tmp_path / "case.xlsx", extra_sheets={"Patients": rows.patients, "VISITS": rows.visits})
    with pytest.raises(WorkbookInvalid) as caught:
        validate_workbook(load_workbook(path))
    assert only(caught.value.problems).sheet == "VISITS"


def test_merged_cells_leave_the_other_cells_blank(tmp_path: Path) -> None:
    import xlsxwriter

    rows = valid_rows()
    rows.patients[1]["age_years"] = None  # Excel keeps only the top-left value of a merged range
    path = tmp_path / "merged.xlsx"
    book = xlsxwriter.Workbook(str(path))
    for name, table in (("patients", rows.patients), ("visits", rows.visits)):
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, list(table[0]))
        for index, row in enumerate(table, start=1):
            for column, value in enumerate(row.values()):
                if value is not None:
                    sheet.write(index, column, value)
    book.worksheets()[0].merge_range("C2:C3", 43)  # age_years of patients 001 and 002
    book.close()
    with pytest.raises(WorkbookInvalid) as caught:
        validate_workbook(load_workbook(path))
    problem = only(caught.value.problems)
    assert (problem.sheet, problem.row, problem.column) == ("patients", 3, "age_years")


# --- warnings -----------------------------------------------------------------------------------


def test_unusual_values_warn_but_do_not_block(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    patients[0]["age_years"] = 95
    visits[0]["esr_mm_h"] = 121
    visits[1]["crp_mg_l"] = 250
    visits[2]["trough_level"] = 151
    cohort = valid(tmp_path, patients=patients, visits=visits)
    assert [(warning.sheet, warning.row, warning.column) for warning in cohort.warnings] == [
        ("patients", 2, "age_years"), ("visits", 2, "esr_mm_h"), ("visits", 3, "crp_mg_l"), ("visits", 4, "trough_level"),
        *DESIGN_UNSET,
    ]  # fmt: skip
    assert cohort.warnings[1].rule == "esr_mm_h is above 120 mm/h; please check it is right"


def test_warnings_travel_with_errors(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    visits[0]["esr_mm_h"] = 150
    visits[1]["tjc28"] = 40
    with pytest.raises(WorkbookInvalid) as caught:
        validate_workbook(load_workbook(_workbook(tmp_path, patients=patients, visits=visits)))
    assert len(caught.value.problems) == 1 and len(caught.value.warnings) == 1 + len(DESIGN_UNSET)


# --- the study sheet ----------------------------------------------------------------------------------


def test_every_study_setting(tmp_path: Path) -> None:
    study = {
        "title": "Trough levels", "authors": "A. Rossi", "institution": "City Hospital",
        "quartile_cutpoints": "2,5; 8; 15.5", "follow_up_month": 6, "continuous_test": "ANOVA",
        "categorical_test": "fisher-exact", "decimal_separator": ",", "abstract_character_limit": "2500",
        "published": "published.yaml", "primary_outcome": "CDAI",
    }  # fmt: skip
    assert valid(tmp_path, study=study).study == StudyOptions(
        title="Trough levels", authors="A. Rossi", institution="City Hospital", quartile_cutpoints=(2.5, 8.0, 15.5),
        follow_up_month=6, continuous_test="anova", categorical_test="fisher-exact", decimal_separator=",",
        abstract_character_limit=2500, published="published.yaml", primary_outcome="cdai",
    )  # fmt: skip


def test_blank_study_values_keep_the_defaults(tmp_path: Path) -> None:
    assert valid(tmp_path, study={"title": None, "follow_up_month": None}).study == StudyOptions()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("quartile_cutpoints", "8; 2; 15"), ("quartile_cutpoints", "2, 8, 15"), ("quartile_cutpoints", "2; 8"),
        ("quartile_cutpoints", "-1; 2; 3"), ("quartile_cutpoints", 5), ("follow_up_month", 0),
        ("follow_up_month", 121), ("follow_up_month", 2.5), ("continuous_test", "t-test"),
        ("categorical_test", "fisher"), ("decimal_separator", ";"), ("abstract_character_limit", 0),
        ("published", "../secret.yaml"), ("published", "C:\\abstract.yaml"), ("title", "x" * 301), ("title", True),
        ("primary_outcome", "eular_response"), ("primary_outcome", 1),
    ],
)  # fmt: skip
def test_invalid_study_values_name_the_row(tmp_path: Path, key: str, value: Any) -> None:
    problem = only(problems(tmp_path, study={"title": "ok", key: value} if key != "title" else {key: value}))
    assert (problem.sheet, problem.column) == ("study", "value")
    assert problem.row == (3 if key != "title" else 2)
    assert problem.rule.startswith(f"{key} must be")


def test_an_unknown_study_key_suggests_the_right_one(tmp_path: Path) -> None:
    problem = only(problems(tmp_path, study={"folow_up_month": 6}))
    assert (problem.row, problem.column, problem.value) == (2, "key", "'folow_up_month'")
    assert "did you mean follow_up_month?" in problem.rule


def test_adjust_for_lists_covariates_as_the_contract_names_them(tmp_path: Path) -> None:
    study = valid(tmp_path, study={"adjust_for": " LN(ESR_mm_h) ; concomitant_mtx, sex,age_years;"}).study
    assert study.adjust_for == ("ln(esr_mm_h)", "concomitant_mtx", "sex", "age_years")


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("esr_mmh; concomitant_mtx", "'esr_mmh' is not a baseline covariate; did you mean esr_mm_h?"),
        ("esr_mm_h; ESR_MM_H", "esr_mm_h is listed twice"),
        ("ln(sex)", "ln(sex) is not possible; only a measure can be logged"),
        ("log(esr_mm_h)", "ln(name) for the natural logarithm of a measure"),
        ("trough_level", "is not a baseline covariate"),
        (3, "adjust_for must be baseline covariates"),
    ],
)
def test_a_wrong_adjust_for_names_the_item(tmp_path: Path, value: Any, words: str) -> None:
    problem = only(problems(tmp_path, study={"adjust_for": value}))
    assert (problem.sheet, problem.row, problem.column) == ("study", 2, "value")
    assert problem.rule.startswith("adjust_for") and words in problem.rule


def test_a_mistyped_primary_outcome_suggests_the_right_one(tmp_path: Path) -> None:
    problem = only(problems(tmp_path, study={"primary_outcome": "DAS28-ESR"}))
    assert (problem.row, problem.column, problem.value) == (2, "value", "'DAS28-ESR'")
    assert problem.rule.startswith("primary_outcome must be one of das28_esr, das28_crp,")
    assert problem.rule.endswith("; did you mean das28_esr?")
    far = only(problems(tmp_path, study={"primary_outcome": "remission"}))
    assert "did you mean" not in far.rule


def test_a_study_key_given_twice(tmp_path: Path) -> None:
    problem = only(problems(tmp_path, study=RawSheet(("key", "value"), [("title", "a"), ("Title", "b")])))
    assert problem.row == 3 and "already set in row 2" in problem.rule


def test_a_study_value_without_a_key(tmp_path: Path) -> None:
    problem = only(problems(tmp_path, study=RawSheet(("key", "value"), [(None, "orphan")])))
    assert (problem.row, problem.column) == (2, "key")


def test_a_study_sheet_without_its_columns(tmp_path: Path) -> None:
    problem = only(problems(tmp_path, study=RawSheet(("setting", "value"), [("title", "x")])))
    assert (problem.sheet, problem.row, problem.column) == ("study", 1, "key")


def test_settings_below_a_blank_first_row_are_not_ignored(tmp_path: Path) -> None:
    found = problems(tmp_path, study=RawSheet((None, None), [("follow_up_month", 6)]))
    assert [(problem.row, problem.column) for problem in found] == [(1, "key"), (1, "value")]


def test_an_empty_study_sheet_keeps_every_default(tmp_path: Path) -> None:
    assert valid(tmp_path, study=RawSheet(())).study == StudyOptions()


# --- validation cannot be switched off ---------------------------------------------------------------


def test_pandera_switched_off_globally_still_validates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pandera import config

    patients, visits = valid_rows()
    visits[0]["tjc28"] = 99
    raw = load_workbook(_workbook(tmp_path, patients=patients, visits=visits))
    disabled = config.PanderaConfig(validation_enabled=False, validation_depth=config.ValidationDepth.SCHEMA_ONLY)
    monkeypatch.setattr(config, "CONFIG", disabled)
    config.reset_config_context(disabled)
    try:
        with pytest.raises(WorkbookInvalid):
            validate_workbook(raw)
    finally:
        config.reset_config_context(config.PanderaConfig())


# --- speed ----------------------------------------------------------------------------------------------


def _large_raw(n_patients: int) -> RawWorkbook:
    patient_rows = []
    visit_rows = []
    for number in range(n_patients):
        patient_id = f"P{number:06d}"
        patient_rows.append((patient_id, "F", 50.0, 5.0, "yes", "", 1.0, "no", "", ""))
        for month in (0.0, 3.0, 6.0, 9.0, 12.0):
            visit_rows.append((patient_id, month, 5.0, 3.0, 30.0, 10.5, 50.0, 40.0, "" if month == 0 else 9.5))
    sheets = {
        "patients": SheetData("patients", PATIENT_COLUMNS, tuple(patient_rows)),
        "visits": SheetData("visits", VISIT_COLUMNS, tuple(visit_rows)),
    }
    return RawWorkbook(path="large.xlsx", file_name="large.xlsx", sha256="0" * 64, sheets=sheets)


def test_validation_handles_100000_visits() -> None:
    # Speed is measured by `make bench`; this only proves the large path works.
    raw = _large_raw(20_000)  # 100,000 visits
    cohort = validate_workbook(raw)
    assert len(cohort.visits) == 100_000


@pytest.mark.slow
def test_validation_of_100000_patients_and_500000_visits() -> None:
    raw = _large_raw(100_000)
    assert len(validate_workbook(raw).visits) == 500_000


# --- the grouping keys (issue #12) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("study", "expected"),
    [
        ({"grouping": "Tertiles"}, StudyOptions(grouping="tertiles")),
        ({"grouping": "halves"}, StudyOptions(grouping="halves")),
        ({"grouping": "quintiles", "group_labels": "a; b; c; d; e"}, StudyOptions(grouping="quintiles", group_labels=("a", "b", "c", "d", "e"))),
        ({"grouping": "cut-points", "cut_points": "5; 8"}, StudyOptions(grouping="cut-points", cut_points=(5.0, 8.0))),
        ({"cut_points": 5}, StudyOptions(cut_points=(5.0,))),  # one cut point typed as a number
        ({"cut_points": "0; 1,5; 3; 4; 1000"}, StudyOptions(cut_points=(0.0, 1.5, 3.0, 4.0, 1000.0))),  # five, 0 allowed
        ({"cut_points": "5; 8", "group_labels": " subtherapeutic ; therapeutic; supratherapeutic"},
         StudyOptions(cut_points=(5.0, 8.0), group_labels=("subtherapeutic", "therapeutic", "supratherapeutic"))),
        ({"quartile_cutpoints": "2.9; 9.1; 18.5", "grouping": "cut-points", "group_labels": "a;b;c;d"},
         StudyOptions(grouping="cut-points", quartile_cutpoints=(2.9, 9.1, 18.5), group_labels=("a", "b", "c", "d"))),
        ({"grouping": "halves", "group_labels": "low; " + "x" * 40}, StudyOptions(grouping="halves", group_labels=("low", "x" * 40))),
    ],
)  # fmt: skip
def test_grouping_settings(tmp_path: Path, study: dict[str, Any], expected: StudyOptions) -> None:
    assert valid(tmp_path, study=study).study == expected


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("grouping", "deciles"), ("grouping", 4), ("cut_points", "8; 5"), ("cut_points", "5; 5"), ("cut_points", "-1; 5"),
        ("cut_points", "1; 2; 3; 4; 5; 6"), ("cut_points", "5, 8"), ("cut_points", "5;"), ("cut_points", "five"),
        ("group_labels", "alone"), ("group_labels", "a; b; c; d; e; f; g"), ("group_labels", "a; ; c"),
        ("group_labels", "a; A"), ("group_labels", "a; " + "x" * 41), ("group_labels", 3),
    ],
)  # fmt: skip
def test_invalid_grouping_values_name_the_row(tmp_path: Path, key: str, value: Any) -> None:
    problem = only(problems(tmp_path, study={"title": "ok", key: value}))
    assert (problem.sheet, problem.row, problem.column) == ("study", 3, "value")
    assert problem.rule.startswith(f"{key} must be")


def test_a_grouping_typo_suggests_the_value(tmp_path: Path) -> None:
    problem = only(problems(tmp_path, study={"grouping": "tertile"}))
    assert (problem.row, problem.column, problem.value) == (2, "value", "'tertile'")
    assert problem.rule == "grouping must be quartiles, tertiles, quintiles, halves or cut-points; did you mean tertiles?"
    problem = only(problems(tmp_path, study={"grouping": "cutpoints"}))
    assert problem.rule.endswith("did you mean cut-points?")


def test_a_grouping_key_typo_suggests_the_key(tmp_path: Path) -> None:
    problem = only(problems(tmp_path, study={"cutpoints": "5; 8"}))
    assert (problem.row, problem.column) == (2, "key") and "did you mean cut_points?" in problem.rule
    problem = only(problems(tmp_path, study={"group_label": "a; b"}))
    assert "did you mean group_labels?" in problem.rule


@pytest.mark.parametrize(
    ("study", "row", "rule"),
    [
        ({"grouping": "tertiles", "group_labels": "low; high"}, 3,
         "group_labels gives 2 labels but grouping tertiles makes 3 groups; give one label per group, lowest level first, separated by ';'"),
        ({"group_labels": "a; b; c"}, 2, "group_labels gives 3 labels but grouping quartiles makes 4 groups; "),
        ({"cut_points": "5; 8", "group_labels": "a; b"}, 3, "group_labels gives 2 labels but the 2 cut points of cut_points (row 2) make 3 groups; "),
        ({"quartile_cutpoints": "1; 2; 3", "group_labels": "a; b; c"}, 3,
         "group_labels gives 3 labels but the 3 cut points of quartile_cutpoints (row 2) make 4 groups; "),
        ({"grouping": "cut-points"}, 2, "grouping = cut-points needs cut_points: add a row cut_points with 1 to 5 increasing values"),
        ({"grouping": "quartiles", "cut_points": "5; 8"}, 2,
         "grouping is quartiles but cut_points (row 3) gives cut points; write grouping = cut-points to use them, "
         "or clear cut_points to group by the cohort's own quartiles"),
        ({"quartile_cutpoints": "1; 2; 3", "cut_points": "5; 8"}, 3,
         "cut_points and quartile_cutpoints (row 2) both give cut points; keep one (quartile_cutpoints is the contract "
         "version 1 spelling of cut_points)"),
    ],
)  # fmt: skip
def test_grouping_settings_that_do_not_fit_together_name_the_cell(tmp_path: Path, study: dict[str, Any], row: int, rule: str) -> None:
    problem = only(problems(tmp_path, study=study))
    assert (problem.sheet, problem.row, problem.column) == ("study", row, "value")
    assert problem.rule.startswith(rule)


def test_an_invalid_cut_points_value_is_reported_once(tmp_path: Path) -> None:
    problem = only(problems(tmp_path, study={"grouping": "cut-points", "cut_points": "8; 5", "group_labels": "a; b"}))
    assert (problem.row, problem.rule) == (3, load_contract().study.key("cut_points").rule)


def test_the_contract_allows_the_groupings_reportgen_knows() -> None:
    from reportgen import grouping

    study = load_contract().study
    assert study.key("grouping").allowed == tuple(grouping.GROUPINGS)
    assert study.key("cut_points").max == grouping.MAX_CUT_POINTS
    assert study.key("group_labels").max == grouping.MAX_CUT_POINTS + 1
