"""Trough levels below the assay's lower limit of quantification: '<0.3', '< 0.3', '<LLOQ' with the study's lloq.

Workbooks are built in code from tests/workbooks.py's small valid cohort. Expected substitutions and counts
are computed here by hand (the cells the test typed, the arithmetic of each mode), not by reportgen.lloq.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from workbooks import DESIGN, valid_rows, write_workbook

from reportgen import formatting, lloq
from reportgen.analysis import analyse
from reportgen.derive import derive
from reportgen.errors import AnalysisError, WorkbookInvalid
from reportgen.formatting import Formatter
from reportgen.model import StudyOptions
from reportgen.narrative import write_methods
from reportgen.pipeline import validate_only
from reportgen.results_json import results_to_document

LLOQ = 0.3
# (patient, month) -> the text typed in trough_level; month 12 is each of these patients' analysed level.
BELOW = {("001", 12): "<0.3", ("002", 12): "<LLOQ", ("004", 12): "< 0.3", ("005", 3): "<lloq"}


def _visits(typed: dict[tuple[str, int], object]) -> list[dict[str, object]]:
    visits = valid_rows().visits
    for row in visits:
        key = (row["patient_id"], row["month"])
        if key in typed:
            row["trough_level"] = typed[key]
    return visits


def _excel_row(visits: list[dict[str, object]], patient: str, month: int) -> int:
    return next(i for i, row in enumerate(visits) if (row["patient_id"], row["month"]) == (patient, month)) + 2


def _workbook(tmp_path: Path, typed: dict[tuple[str, int], object], **study: object) -> tuple[Path, list[dict[str, object]]]:
    visits = _visits(typed)
    path = write_workbook(tmp_path / "lloq.xlsx", patients=valid_rows().patients, visits=visits, study={**DESIGN, **study})
    return path, visits


def _errors(path: Path) -> list:
    with pytest.raises(WorkbookInvalid) as caught:
        validate_only(path)
    return list(caught.value.problems)


@pytest.mark.parametrize("mode, expected", [("half-lloq", LLOQ / 2), ("zero", 0.0), ("lloq", LLOQ), (None, LLOQ / 2)])
def test_each_mode_analyses_the_below_lloq_levels_as_its_substitution(tmp_path: Path, mode: str | None, expected: float) -> None:
    study = {"lloq": LLOQ} | ({"below_lloq": mode} if mode else {})
    path, visits = _workbook(tmp_path, BELOW, **study)
    cohort = validate_only(path)
    frame = cohort.visits.set_index(["patient_id", "month"])
    for key in BELOW:
        assert frame.loc[key, "trough_level"] == expected and bool(frame.loc[key, "level_below_lloq"]), key
    assert int(frame["level_below_lloq"].sum()) == len(BELOW)
    # Every other level is the number typed.
    for row in visits:
        key = (row["patient_id"], row["month"])
        if key not in BELOW and row["month"] > 0 and row["trough_level"] is not None:
            assert frame.loc[key, "trough_level"] == row["trough_level"]
    patients = derive(cohort).patients.set_index("patient_id")
    assert patients.loc[["001", "002", "004"], "trough_level"].tolist() == [expected] * 3
    assert patients["trough_below_lloq"].tolist() == [pid in ("001", "002", "004") for pid in patients.index]


def test_below_lloq_patients_are_counted_in_the_lowest_group_and_the_methods_say_the_substitution(tmp_path: Path) -> None:
    path, _ = _workbook(tmp_path, BELOW, lloq=LLOQ, below_lloq="zero", grouping="tertiles")
    cohort = validate_only(path)
    results = analyse(derive(cohort), cohort.study)
    document = results_to_document(results)
    assert document["schema_version"] == 2
    assert document["cohort"]["n_below_lloq"] == 3  # 001, 002, 004: their month-12 level ('005' is below only at month 3)
    assert [stratum["n_below_lloq"] for stratum in document["strata"]] == [3, 0, 0]
    assert document["strata"][0]["n"] >= 3
    assert document["design"]["lloq"] == LLOQ and document["design"]["below_lloq"] == "zero"
    methods = " ".join(" ".join(section.paragraphs) for section in write_methods(results, Formatter(".")))
    assert "below the lower limit of quantification (LLOQ, 0.30 µg/mL; 3 analysed patients) were analysed as zero" in methods
    assert "T1 " in methods and "(3 below the LLOQ)" in methods


def test_without_an_lloq_the_methods_say_nothing_of_it_and_results_count_zero(tmp_path: Path) -> None:
    path, _ = _workbook(tmp_path, {})
    cohort = validate_only(path)
    results = analyse(derive(cohort), cohort.study)
    document = results_to_document(results)
    assert document["cohort"]["n_below_lloq"] == 0 and document["design"]["lloq"] is None
    assert document["design"]["below_lloq"] == "half-lloq"
    methods = " ".join(" ".join(section.paragraphs) for section in write_methods(results, Formatter(".")))
    assert "LLOQ" not in methods


@pytest.mark.parametrize("text", ["<0.3", "< 0.3", "<LLOQ", "<lloq", "<0,3"])
def test_a_below_lloq_level_without_lloq_is_refused_naming_the_cell(tmp_path: Path, text: str) -> None:
    path, visits = _workbook(tmp_path, {("003", 3): text})
    problems = [p for p in _errors(path) if p.column == "trough_level"]
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.sheet, problem.row, problem.value) == ("visits", _excel_row(visits, "003", 3), repr(text))
    assert "below the limit of quantification" in problem.rule and "set lloq" in problem.rule


def test_a_limit_other_than_the_lloq_is_refused_saying_why(tmp_path: Path) -> None:
    path, visits = _workbook(tmp_path, {("003", 3): "<0.5", ("004", 3): "<0.30"}, lloq=LLOQ)
    problems = [p for p in _errors(path) if p.column == "trough_level"]
    assert len(problems) == 1  # '<0.30' is the same limit
    problem = problems[0]
    assert (problem.sheet, problem.row, problem.value) == ("visits", _excel_row(visits, "003", 3), "'<0.5'")
    assert "below 0.5, but the study sheet's lloq is 0.3" in problem.rule and "different assay" in problem.rule


@pytest.mark.parametrize("text", ["<", "< abc", "<-0.3", "<=0.3", "0.3<", "<0.3 ug/ml", "LLOQ", "below LLOQ"])
def test_other_text_in_the_level_column_stays_an_error(tmp_path: Path, text: str) -> None:
    path, visits = _workbook(tmp_path, {("003", 3): text}, lloq=LLOQ)
    problems = [p for p in _errors(path) if p.column == "trough_level"]
    assert [(p.row, p.value) for p in problems] == [(_excel_row(visits, "003", 3), repr(text))]
    assert problems[0].rule.startswith("trough_level must be a number of 0 or more")


@pytest.mark.parametrize(
    "value, valid",
    [(0.3, True), ("0,3", True), (1000, True), (0.0001, True), (0, False), (-0.3, False), (1000.5, False), ("abc", False)],
)
def test_the_lloq_setting(tmp_path: Path, value: object, valid: bool) -> None:
    path, _ = _workbook(tmp_path, {}, lloq=value)
    if valid:
        assert math.isclose(validate_only(path).study.lloq, float(str(value).replace(",", ".")))
        return
    problems = _errors(path)
    assert len(problems) == 1
    assert (problems[0].sheet, problems[0].column) == ("study", "value")
    assert problems[0].row == 2 + list(DESIGN).__len__()  # the study sheet's rows: DESIGN's keys, then lloq
    assert problems[0].rule.startswith("lloq must be a number above 0")


@pytest.mark.parametrize("value, valid", [("half-lloq", True), ("ZERO", True), ("lloq", True), ("half", False), ("0", False)])
def test_the_below_lloq_setting(tmp_path: Path, value: str, valid: bool) -> None:
    path, _ = _workbook(tmp_path, {}, lloq=LLOQ, below_lloq=value)
    if valid:
        assert validate_only(path).study.below_lloq == value.lower()
        return
    problems = _errors(path)
    assert [(p.sheet, p.row, p.column, p.value) for p in problems] == [("study", 2 + len(DESIGN) + 1, "value", repr(value))]
    assert problems[0].rule.startswith("below_lloq must be half-lloq, zero or lloq")


@pytest.mark.parametrize("cuts, valid", [("0.3; 5", True), ("0.29; 5", False), ("5; 8", True)])
def test_no_cut_point_below_the_lloq(tmp_path: Path, cuts: str, valid: bool) -> None:
    path, _ = _workbook(tmp_path, BELOW, lloq=LLOQ, cut_points=cuts)
    if valid:
        cohort = validate_only(path)
        results = analyse(derive(cohort), cohort.study)
        assert results.strata[0].n_below_lloq == 3  # at the LLOQ or below it: the lowest group, whatever the mode
        return
    problems = _errors(path)
    assert [(p.sheet, p.row, p.column) for p in problems] == [("study", 2 + len(DESIGN) + 1, "value")]
    assert "cut point below the lloq (0.3, row 5)" in problems[0].rule


def test_many_levels_below_the_lloq_make_quantiles_coincide_and_the_message_suggests_cut_points(tmp_path: Path) -> None:
    typed = {(f"00{n}", month): "<LLOQ" for n in range(1, 7) for month in (3, 6, 9, 12)}
    path, _ = _workbook(tmp_path, typed, lloq=LLOQ)
    cohort = validate_only(path)
    with pytest.raises(AnalysisError) as caught:
        analyse(derive(cohort), cohort.study)
    message = str(caught.value)
    assert "do not increase strictly" in message and "below the limit of quantification" in message
    assert "grouping = cut-points" in message and "cut_points" in message


def test_a_below_lloq_cell_at_month_0_is_ignored_as_every_baseline_level(tmp_path: Path) -> None:
    path, _ = _workbook(tmp_path, {("001", 0): "<0.3"}, lloq=LLOQ)
    visits = validate_only(path).visits.set_index(["patient_id", "month"])
    assert math.isnan(visits.loc[("001", 0), "trough_level"]) and not visits.loc[("001", 0), "level_below_lloq"]


# --- found by mutation testing (docs/mutation-testing.md, lloq.py): the rules and words on their own, by hand ---


@pytest.mark.parametrize(
    "text, limit",
    [("<0.3", "0.3"), ("< 0,3", "0.3"), ("  <  0.30  ", "0.30"), ("<.5", ".5"), ("<,5", ".5"), ("<3.", "3."), ("<12", "12"),
     ("<LLOQ", "LLOQ"), ("<lloq", "LLOQ"), ("< LlOq ", "LLOQ"),
     ("0.3", None), ("<=0.3", None), ("<0.3 ug/ml", None), ("<", None), ("<-0.3", None), ("x<0.3", None), ("<0.3.1", None),
     ("<lloq2", None), ("LLOQ", None), ("", None)],
)
def test_below_reads_the_limit_a_cell_names(text: str, limit: str | None) -> None:
    assert lloq.below(text) == limit


def test_substituted_values_of_each_mode() -> None:
    assert lloq.substituted(0.3, "half-lloq") == 0.15
    assert lloq.substituted(0.3, "zero") == 0.0
    value = lloq.substituted(2, "lloq")
    assert value == 2.0 and type(value) is float
    with pytest.raises(ValueError) as caught:
        lloq.substituted(0.3, "half")
    assert str(caught.value) == "below_lloq must be one of half-lloq, zero, lloq, not 'half'"


def test_the_methods_sentence_word_for_word() -> None:
    formatter = Formatter(".")
    assert lloq.methods_sentence(StudyOptions(), 3, formatter) == ""
    tail = "; these patients stay in the analysis, in the lowest group."
    assert lloq.methods_sentence(StudyOptions(lloq=0.3), 4, formatter) == (
        "Trough levels below the lower limit of quantification (LLOQ, 0.30 µg/mL; 4 analysed patients) were analysed as "
        "half the LLOQ (0.15 µg/mL)" + tail
    )
    assert lloq.methods_sentence(StudyOptions(lloq=0.5, below_lloq="zero", level_unit="mg/L"), 1, formatter) == (
        "Trough levels below the lower limit of quantification (LLOQ, 0.50 mg/L; 1 analysed patient) were analysed as zero" + tail
    )
    assert lloq.methods_sentence(StudyOptions(lloq=0.25, below_lloq="lloq"), 0, formatter) == (
        "Trough levels below the lower limit of quantification (LLOQ, 0.25 µg/mL; no analysed patient) were analysed as "
        "the LLOQ (0.25 µg/mL)" + tail
    )
    assert lloq.methods_sentence(StudyOptions(lloq=0.3), 2, Formatter(",")) == (
        "Trough levels below the lower limit of quantification (LLOQ, 0,30 µg/mL; 2 analysed patients) were analysed as "
        "half the LLOQ (0,15 µg/mL)" + tail
    )


def test_the_methods_sentence_writes_levels_at_the_trough_levels_precision(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(formatting.DECIMALS, "trough_level", 3)
    assert lloq.methods_sentence(StudyOptions(lloq=0.3), 2, Formatter(".")).startswith(
        "Trough levels below the lower limit of quantification (LLOQ, 0.300 µg/mL; 2 analysed patients) were analysed as "
        "half the LLOQ (0.150 µg/mL);"
    )
