"""The fast (column-by-column, Arrow) reader must give exactly what the cell-by-cell reader gives.

``reportgen.workbook`` reads a clean data sheet with fastexcel and every other sheet with python-calamine
cell by cell. Every workbook of the bad-input corpus, the at-bound controls and the example is read both
ways here: the cells, and everything validation then says and returns, must be the same.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bad_workbooks import AT_BOUND_CONTROLS, CORPUS
from workbooks import PATIENT_COLUMNS, RawSheet, cell_rows, valid_rows, write_workbook

from reportgen import workbook
from reportgen.errors import ReportgenError
from reportgen.model import RawWorkbook
from reportgen.validate import validate_workbook

ROOT = Path(__file__).resolve().parents[1]
CASES = [(case.name, case.build, case.file_name) for case in CORPUS if case.refusal is None] + [
    (control.name, control.build, "cohort.xlsx") for control in AT_BOUND_CONTROLS
]


def both_ways(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[RawWorkbook, RawWorkbook]:
    fast = workbook.load_workbook(path)
    with monkeypatch.context() as patch:
        patch.setattr(workbook, "_read_columns", lambda *args: {})
        slow = workbook.load_workbook(path)
    return fast, slow


def outcome(raw: RawWorkbook) -> object:
    """What validation makes of a workbook: its problems, or the validated cohort's tables and options."""
    try:
        cohort = validate_workbook(raw)
    except ReportgenError as error:
        return ("refused", str(error), getattr(error, "problems", None))
    return ("valid", cohort.patients, cohort.visits, cohort.study, cohort.warnings)


def assert_same(fast: object, slow: object) -> None:
    assert type(fast) is type(slow)
    if isinstance(fast, pd.DataFrame):
        pd.testing.assert_frame_equal(fast, slow)
    elif isinstance(fast, tuple):
        assert len(fast) == len(slow)
        for one, other in zip(fast, slow):
            assert_same(one, other)
    else:
        assert fast == slow


@pytest.mark.parametrize(("build", "file_name"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_both_readers_give_the_same_cells_and_the_same_validation(
    build: object, file_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = build(tmp_path / file_name)  # type: ignore[operator]
    fast, slow = both_ways(path, monkeypatch)
    assert all(sheet.columns is None for sheet in slow.sheets.values())
    for name in slow.sheets:
        assert fast.sheets[name].header == slow.sheets[name].header
        assert cell_rows(fast.sheets[name]) == cell_rows(slow.sheets[name]), name
    assert_same(outcome(fast), outcome(slow))


def test_the_example_is_read_column_by_column_and_validates_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow = both_ways(ROOT / "input" / "cohort.xlsx", monkeypatch)
    assert fast.sheets["patients"].columns is not None and fast.sheets["visits"].columns is not None
    assert fast.sheets["study"].columns is None  # the study sheet is always read cell by cell
    assert cell_rows(fast.sheets["visits"]) == cell_rows(slow.sheets["visits"])
    assert_same(outcome(fast), outcome(slow))


def test_a_clean_sheet_gives_typed_columns(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    path = write_workbook(tmp_path / "x.xlsx", patients=patients, visits=visits)
    visits = workbook.load_workbook(path).sheets["visits"]
    assert visits.rows == ()
    month = visits.columns[visits.header.index("month")]
    ids = visits.columns[visits.header.index("patient_id")]
    assert month.dtype == np.float64 and ids.dtype == object and isinstance(ids[0], str)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda patients, visits: patients[2].update(age_years="fifty"), id="text-in-a-number-column"),
        pytest.param(lambda patients, visits: patients[2].update(age_years=True), id="true-in-a-number-column"),
    ],
)
def test_a_column_mixing_kinds_of_cell_is_read_cell_by_cell(change: object, tmp_path: Path) -> None:
    patients, visits = valid_rows()
    change(patients, visits)  # type: ignore[operator]
    raw = workbook.load_workbook(write_workbook(tmp_path / "x.xlsx", patients=patients, visits=visits))
    assert raw.sheets["patients"].columns is None
    assert raw.sheets["visits"].columns is not None


def test_a_sheet_not_starting_at_a1_is_read_cell_by_cell(tmp_path: Path) -> None:
    rows = valid_rows()
    header_on_row_2 = RawSheet(("",) * len(PATIENT_COLUMNS), [PATIENT_COLUMNS, *(list(row.values()) for row in rows.patients)])
    raw = workbook.load_workbook(write_workbook(tmp_path / "x.xlsx", patients=header_on_row_2, visits=rows.visits))
    assert raw.sheets["patients"].columns is None


# fastexcel reads these texts as blank (and 'nan' as a NaN number); in a number column each must still
# be reported as the text it is, so the sheet goes to the cell-by-cell reader.
@pytest.mark.parametrize("text", ["n/a", "N/A", "NA", "#N/A", "null", "NULL", "None", "<NA>", "#NA", "nan", "NaN", ""])
def test_texts_fastexcel_reads_as_blank_are_kept(text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    patients, visits = valid_rows()
    visits[2]["esr_mm_h"] = text
    path = write_workbook(tmp_path / "x.xlsx", patients=patients, visits=visits)
    fast, slow = both_ways(path, monkeypatch)
    assert cell_rows(fast.sheets["visits"]) == cell_rows(slow.sheets["visits"])
    assert cell_rows(fast.sheets["visits"])[2][4] == text
    assert_same(outcome(fast), outcome(slow))
