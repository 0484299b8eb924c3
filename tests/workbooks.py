"""Build cohort workbooks in code, for every test of the project.

    from workbooks import valid_rows, write_workbook, write_valid_workbook   # tests/ is on sys.path

    path = write_valid_workbook(tmp_path / "cohort.xlsx")            # 8 patients, a valid cohort

    patients, visits = valid_rows()                                 # plain dicts, change them freely
    visits[3]["tjc28"] = "abc"                                      # text in a joint count
    write_workbook(tmp_path / "broken.xlsx", patients=patients, visits=visits)

A sheet is given as a list of dicts (the header is every key, in the order keys first appear), as a
:class:`RawSheet` (header and rows given exactly: header-only sheets, duplicate or unnamed columns),
or None to leave the sheet out. ``study`` may also be a dict of key -> value. Cell values are written
with the Python type they have, so a test can put text in a numeric cell: None is a blank cell, str
is text (even "12"), bool is TRUE/FALSE, int/float a number, date/datetime a date, and
``Formula``/``ExcelError`` write what their names say. The dict row of ``valid_rows()`` at index i
sits on Excel row i + 2.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Mapping, NamedTuple, Sequence, Union

import xlsxwriter

from reportgen.model import SheetData

PATIENT_COLUMNS = (
    "patient_id", "sex", "age_years", "disease_duration_years", "rf_positive", "acpa_positive",
    "prior_biologics", "concomitant_mtx", "withdrawal_month", "withdrawal_reason",
)  # fmt: skip
VISIT_COLUMNS = (
    "patient_id", "month", "tjc28", "sjc28", "esr_mm_h", "crp_mg_l", "patient_global_mm",
    "evaluator_global_mm", "trough_level",
)  # fmt: skip
VISIT_MONTHS = (0, 3, 6, 9, 12)
# The warnings (sheet, row, column) of a workbook whose study sheet, if any, sets none of drug, background and
# objective (every workbook of the tests unless it says otherwise): the report then describes tocilizumab and
# shows placeholders for the abstract's Background and Objectives. Listed last, in this order.
DESIGN_UNSET = (("study", None, "background"), ("study", None, "drug"), ("study", None, "objective"))
# Study settings that describe the design, so that a workbook gets no warning for them.
DESIGN = {
    "drug": "tocilizumab",
    "background": "Trough levels of biologic drugs may relate to their effect.",
    "objective": "To relate trough levels to disease activity.",
}


@dataclass(frozen=True)
class RawSheet:
    """A sheet written exactly as given: ``header`` in row 1, then ``rows`` (sequences of cells)."""

    header: Sequence[Any]
    rows: Sequence[Sequence[Any]] = ()


@dataclass(frozen=True)
class Formula:
    """A formula cell. ``cached`` None writes no saved value, as a file never opened in Excel has."""

    formula: str
    cached: float | str | None = None


@dataclass(frozen=True)
class ExcelError:
    """A cell holding an Excel error such as ``#N/A`` typed as a constant (no formula): Excel keeps
    it as an error cell, which the reader returns as blank. A formula whose result is an error is
    ``Formula("=1/0", cached=...)``-like and reported as a formula."""

    text: str = "#DIV/0!"


SheetSpec = Union[Sequence[Mapping[str, Any]], RawSheet, None]


class CohortRows(NamedTuple):
    patients: list[dict[str, Any]]
    visits: list[dict[str, Any]]


def valid_rows() -> CohortRows:
    """A small valid cohort: 8 patients ('001'..'008'), visits at months 0, 3, 6, 9 and 12.

    Patient '003' withdrew at month 6 and '006' at month 9, so they have no later visits. Trough levels
    are blank at month 0 and at one later visit ('002', month 6). Fresh lists on every call.
    """
    withdrawals = {"003": (6, "adverse event"), "006": (9, "lack of efficacy")}
    patients: list[dict[str, Any]] = []
    visits: list[dict[str, Any]] = []
    for number in range(1, 9):
        patient_id = f"{number:03d}"
        withdrawal_month, reason = withdrawals.get(patient_id, (None, None))
        patients.append(
            {
                "patient_id": patient_id,
                "sex": "F" if number % 3 else "M",
                "age_years": 40 + 3 * number,
                "disease_duration_years": 2.5 + number,
                "rf_positive": "yes" if number % 2 else "no",
                "acpa_positive": None if number == 5 else ("yes" if number % 4 else "no"),
                "prior_biologics": number % 3,
                "concomitant_mtx": "yes" if number % 2 == 0 else "no",
                "withdrawal_month": withdrawal_month,
                "withdrawal_reason": reason,
            }
        )
        for step, month in enumerate(VISIT_MONTHS):
            if withdrawal_month is not None and month > withdrawal_month:
                break
            visits.append(
                {
                    "patient_id": patient_id,
                    "month": month,
                    "tjc28": max(0, 12 - 2 * step - number % 3),
                    "sjc28": max(0, 8 - step - number % 2),
                    "esr_mm_h": 45 - 5 * step + number,
                    "crp_mg_l": round(22.5 - 4 * step + number / 2, 1),
                    "patient_global_mm": 70 - 10 * step,
                    "evaluator_global_mm": 60 - 9 * step,
                    "trough_level": None if month == 0 or (patient_id, month) == ("002", 6) else round(2.0 * number + step, 2),
                }
            )
    return CohortRows(patients, visits)


def write_workbook(
    path: Path,
    patients: SheetSpec = None,
    visits: SheetSpec = None,
    study: SheetSpec | Mapping[str, Any] = None,
    extra_sheets: Mapping[str, SheetSpec] | None = None,
) -> Path:
    """Write an .xlsx with the sheets given (in the order patients, visits, study, extras); returns path."""
    path = Path(path)
    book = xlsxwriter.Workbook(str(path))
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    rewrite = False
    sheets: dict[str, SheetSpec] = {"patients": patients, "visits": visits, "study": _study_sheet(study)}
    sheets.update(extra_sheets or {})
    for name, spec in sheets.items():
        if spec is None:
            continue
        raw = _as_raw(spec)
        sheet = book.add_worksheet(name)
        for row_index, row in enumerate((raw.header, *raw.rows)):
            for column_index, value in enumerate(row):
                rewrite |= _write_cell(sheet, row_index, column_index, value, date_format)
    book.close()
    if rewrite:
        _drop_placeholders(path)
    return path


def write_valid_workbook(path: Path, study: Mapping[str, Any] | None = None) -> Path:
    """The cohort of :func:`valid_rows` as a workbook, with an optional study sheet."""
    patients, visits = valid_rows()
    return write_workbook(path, patients=patients, visits=visits, study=study)


def _study_sheet(study: SheetSpec | Mapping[str, Any]) -> SheetSpec:
    if isinstance(study, Mapping):
        return RawSheet(("key", "value"), [(key, value) for key, value in study.items()])
    return study


def _as_raw(spec: Sequence[Mapping[str, Any]] | RawSheet) -> RawSheet:
    if isinstance(spec, RawSheet):
        return spec
    header: list[str] = []
    for row in spec:
        header.extend(key for key in row if key not in header)
    return RawSheet(header, [[row.get(key) for key in header] for row in spec])


# xlsxwriter always saves a value for a formula; a placeholder marks the ones that must have none.
_PLACEHOLDER = "__reportgen_no_saved_value__"
# ... and writes an error only as a formula's result; this formula marks errors typed as constants.
_ERROR_CONSTANT = "__reportgen_error_constant__"


def _write_cell(sheet: Any, row: int, column: int, value: Any, date_format: Any) -> bool:
    """Write one cell; True when it left a placeholder to remove afterwards."""
    if value is None:
        return False
    if isinstance(value, Formula):
        sheet.write_formula(row, column, value.formula, None, _PLACEHOLDER if value.cached is None else value.cached)
        return value.cached is None
    if isinstance(value, ExcelError):
        sheet.write_formula(row, column, f"={_ERROR_CONSTANT}", None, value.text)
        return True
    elif isinstance(value, bool):
        sheet.write_boolean(row, column, value)
    elif isinstance(value, (int, float)):
        sheet.write_number(row, column, value)
    elif isinstance(value, (datetime, date)):
        sheet.write_datetime(row, column, value, date_format)
    else:
        sheet.write_string(row, column, str(value))
    return False


def _drop_placeholders(path: Path) -> None:
    placeholder = re.compile(rb' t="str"(><f>[^<]*</f>)<v>' + _PLACEHOLDER.encode() + rb"</v>")
    error_formula = re.compile(rb"<f>" + _ERROR_CONSTANT.encode() + rb"</f>")
    with zipfile.ZipFile(path) as source:
        parts = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in parts:
            if info.filename.startswith("xl/worksheets/"):
                data = error_formula.sub(b"", placeholder.sub(rb"\1", data))
            target.writestr(info, data)


def cell_rows(sheet: SheetData) -> tuple[tuple[Any, ...], ...]:
    """A sheet's cells row by row however the reader read them (rows, or columns), a blank cell as ''."""
    if sheet.columns is None:
        return sheet.rows
    # NaN is the one value not equal to itself: a blank number cell.
    return tuple(
        tuple("" if value is None or value != value else value for value in row)
        for row in zip(*(column.tolist() for column in sheet.columns))
    )
