"""Anti-drug antibodies: the optional visits column, read at the visit whose level is analysed, compared across
the groups with Table 1's categorical machinery, and written to results.json (null without the column).

Expected counts are a hand count of the cells this test types; p-values come from scipy called directly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import chi2_contingency, fisher_exact
from workbooks import DESIGN, valid_rows, write_workbook

from reportgen.analysis import analyse
from reportgen.derive import derive
from reportgen.errors import WorkbookInvalid
from reportgen.formatting import Formatter
from reportgen.pipeline import validate_only
from reportgen.document import baseline_table
from reportgen.results_json import results_to_document

COLUMN = "anti_drug_antibodies"
# At each patient's analysed level (the last visit with a level at or before month 12): 004 not tested.
AT_LEVEL = {"001": "positive", "002": "negative", "003": "POSITIVE", "004": None, "005": " negative ", "006": "negative",
            "007": "positive", "008": "negative"}
# Never counted: not the visit of the analysed level.
ELSEWHERE = {("002", 3): "positive", ("008", 0): "positive"}


def _exposure_visits(visits: list[dict]) -> dict[str, tuple[int, float]]:
    """Per patient, (month, level) of the last visit with a level at or before month 12: computed here."""
    found: dict[str, tuple[int, float]] = {}
    for row in sorted(visits, key=lambda r: (r["patient_id"], r["month"])):
        if 0 < row["month"] <= 12 and row["trough_level"] is not None:
            found[row["patient_id"]] = (row["month"], row["trough_level"])
    return found


def _workbook(tmp_path: Path, with_column: bool = True, **study: object) -> tuple[Path, list[dict]]:
    visits = valid_rows().visits
    exposure = _exposure_visits(visits)
    if with_column:
        for row in visits:
            pid, month = row["patient_id"], row["month"]
            row[COLUMN] = AT_LEVEL[pid] if exposure[pid][0] == month else ELSEWHERE.get((pid, month))
    path = write_workbook(tmp_path / "ada.xlsx", patients=valid_rows().patients, visits=visits, study={**DESIGN, **study})
    return path, visits


def _hand_count(visits: list[dict]) -> tuple[list[int], list[int]]:
    """(positive, tested) per half: lower half of the levels, then upper (the median splits 8 levels 4/4)."""
    exposure = _exposure_visits(visits)
    median = float(np.median([level for _, level in exposure.values()]))
    positive, tested = [0, 0], [0, 0]
    for pid, (_, level) in exposure.items():
        half = 0 if level <= median else 1
        answer = AT_LEVEL[pid]
        if answer is not None:
            tested[half] += 1
            positive[half] += answer.strip().lower() == "positive"
    return positive, tested


def _results(path: Path):
    from reportgen.frames import check_derived

    cohort = validate_only(path)
    return analyse(check_derived(derive(cohort)), cohort.study)  # the frames' contract holds with the column


@pytest.mark.parametrize("test, scipy_p", [
    ("fisher-exact", lambda table: fisher_exact(table).pvalue),
    ("chi-square", lambda table: chi2_contingency(table, correction=False).pvalue),
])
def test_positive_of_tested_at_the_levels_visit_by_group_with_the_studys_test(tmp_path: Path, test: str, scipy_p) -> None:
    path, visits = _workbook(tmp_path, grouping="halves", categorical_test=test)
    results = _results(path)
    positive, tested = _hand_count(visits)
    assert (positive, tested) == ([2, 1], [3, 4])  # the hand count of AT_LEVEL, as a check on the helper
    ada = results.anti_drug_antibodies
    assert ada is not None and ada.categories == ("positive", "negative")
    assert [list(row) for row in ada.counts] == [positive, [t - p for p, t in zip(positive, tested)]]
    table = [positive, [t - p for p, t in zip(positive, tested)]]
    assert ada.test.test == test and ada.test.p_value == pytest.approx(scipy_p(np.array(table)), rel=1e-9)
    document = results_to_document(results)
    assert document[COLUMN]["counts"] == {"positive": positive, "negative": [t - p for p, t in zip(positive, tested)]}
    assert document[COLUMN]["test"] == test


def test_auto_chooses_by_cochrans_rule_as_table_1_does(tmp_path: Path) -> None:
    path, _ = _workbook(tmp_path, grouping="halves")
    ada = _results(path).anti_drug_antibodies
    assert ada is not None and ada.test.test == "fisher-exact"  # 7 patients: every expected count is below 5
    assert "Cochran" in ada.test.decision or "expected" in ada.test.decision


def test_table_1_shows_the_row_and_the_results_text_says_it(tmp_path: Path) -> None:
    from reportgen.document import _results_intro

    path, _ = _workbook(tmp_path, grouping="halves", categorical_test="fisher-exact")
    results = _results(path)
    formatter = Formatter(".")
    table = baseline_table(results, formatter)
    stubs = [row.cells[0].text for group in table.groups for row in group.rows]
    assert stubs[-1].startswith("Anti-drug antibodies positive")
    last = table.groups[-1].rows[-1]
    assert [cell.text for cell in last.cells[2:4]] == [formatter.n_percent(2, 3), formatter.n_percent(1, 4)]
    text = _results_intro(results, formatter)
    assert "Anti-drug antibodies were tested in 7 of the 8 analysed patients" in text
    assert "H1 2/3; H2 1/4" in text and "Fisher" in text


@pytest.mark.parametrize("how", ["absent", "blank"])
def test_without_the_column_or_with_it_blank_antibodies_are_null_and_not_in_table_1(tmp_path: Path, how: str) -> None:
    if how == "absent":
        path, _ = _workbook(tmp_path, with_column=False)
    else:
        visits = valid_rows().visits
        for row in visits:
            row[COLUMN] = None
        path = write_workbook(tmp_path / "blank.xlsx", patients=valid_rows().patients, visits=visits, study=DESIGN)
    cohort = validate_only(path)
    assert COLUMN not in cohort.visits
    results = analyse(derive(cohort), cohort.study)
    assert results.anti_drug_antibodies is None and results_to_document(results)[COLUMN] is None
    stubs = [row.cells[0].text for group in baseline_table(results, Formatter(".")).groups for row in group.rows]
    assert not any("Anti-drug" in stub for stub in stubs)
    assert cohort.warnings == ()  # an optional column left out is no warning


@pytest.mark.parametrize("value", ["maybe", "pos", "yes", 1, "+"])
def test_an_answer_other_than_positive_or_negative_is_refused_naming_the_cell(tmp_path: Path, value: object) -> None:
    visits = valid_rows().visits
    for row in visits:
        row[COLUMN] = None
    visits[5][COLUMN] = value
    path = write_workbook(tmp_path / "bad.xlsx", patients=valid_rows().patients, visits=visits, study=DESIGN)
    with pytest.raises(WorkbookInvalid) as caught:
        validate_only(path)
    problems = caught.value.problems
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.sheet, problem.row, problem.column) == ("visits", 7, COLUMN)
    assert problem.value == (repr(value) if isinstance(value, str) else str(value))
    assert problem.rule.startswith("anti_drug_antibodies must be positive or negative")
