"""A corpus of bad workbooks, built in code, each with the problems it must produce (issue 6).

    from bad_workbooks import CORPUS, AT_BOUND_CONTROLS      # tests/ is on sys.path

Every :class:`BadWorkbook` writes one file into a folder and says what reportgen must answer:

- ``problems``: a workbook that opens but breaks the contract. Each :class:`Expect` is one line of the
  problems table (sheet, Excel row, column, the value as shown, a fragment of the rule); the list is
  complete, so a test can also check that nothing else was reported.
- ``refusal``: a file refused before it is read (not an .xlsx, encrypted, damaged): a fragment of the
  one sentence reportgen prints.

Rows: ``valid_rows()`` puts patients[i] on patients row i + 2 and visits[i] on visits row i + 2.
Its 37 visits by index: 001 -> 0-4, 002 -> 5-9, 003 (withdrew at 6) -> 10-12, 004 -> 13-17,
005 -> 18-22, 006 (withdrew at 9) -> 23-26, 007 -> 27-31, 008 -> 32-36; each patient's first visit
is month 0, then 3, 6, 9, 12.

``AT_BOUND_CONTROLS`` are the valid twins of the out-of-range cases: every bound of every numeric
column, exactly at the bound, must pass.

100 columns of junk alone are only warnings (the workbook stays valid, exit 0): extra columns are
kept out of the analysis by contract (issue 2). The corpus case combines them with one error, and
tests/test_bad_input.py checks the junk-only workbook separately.
"""

from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable

import xlsxwriter
from workbooks import PATIENT_COLUMNS, VISIT_COLUMNS, ExcelError, Formula, RawSheet, valid_rows, write_workbook

Rows = tuple[list[dict[str, Any]], list[dict[str, Any]]]


@dataclass(frozen=True)
class Expect:
    """One ERROR line of the problems table; None leaves a part unchecked (or empty, for sheet-level problems)."""

    sheet: str | None
    row: int | None
    column: str | None
    value: str | None
    rule: str


@dataclass(frozen=True)
class BadWorkbook:
    name: str
    build: Callable[[Path], Path]
    problems: tuple[Expect, ...] = ()
    refusal: str | None = None
    file_name: str = "cohort.xlsx"

    def __post_init__(self) -> None:
        assert bool(self.problems) != (self.refusal is not None), self.name


# --- builders -------------------------------------------------------------------------------------


def edited(change: Callable[[list[dict[str, Any]], list[dict[str, Any]]], Any], **sheets: Any) -> Callable[[Path], Path]:
    """A builder: the valid cohort with ``change(patients, visits)`` applied; extra keyword sheets as given."""

    def build(path: Path) -> Path:
        patients, visits = valid_rows()
        change(patients, visits)
        return write_workbook(path, patients=patients, visits=visits, **sheets)

    return build


def set_cells(*edits: tuple[str, int, str, Any]) -> Callable[[list[dict[str, Any]], list[dict[str, Any]]], None]:
    """A change setting ('patients' | 'visits', index, column, value) cells."""

    def change(patients: list[dict[str, Any]], visits: list[dict[str, Any]]) -> None:
        for sheet, index, column, value in edits:
            (patients if sheet == "patients" else visits)[index][column] = value

    return change


def cells(*edits: tuple[str, int, str, Any]) -> Callable[[Path], Path]:
    return edited(set_cells(*edits))


def raw_sheets(patients: Any = None, visits: Any = None, **extra: Any) -> Callable[[Path], Path]:
    """A builder writing the valid cohort with some sheets replaced (``...`` keeps the valid one)."""

    def build(path: Path) -> Path:
        valid_patients, valid_visits = valid_rows()
        return write_workbook(
            path,
            patients=valid_patients if patients is ... else patients,
            visits=valid_visits if visits is ... else visits,
            extra_sheets=extra or None,
        )

    return build


def renamed_column(sheet: str, old: str, new: str, convert: Callable[[Any], Any] = lambda value: value, then: Any = None) -> Callable[[Path], Path]:
    def change(patients: list[dict[str, Any]], visits: list[dict[str, Any]]) -> None:
        rows = patients if sheet == "patients" else visits
        for row in rows:
            row[new] = convert(row.pop(old))
        if then is not None:
            then(patients, visits)

    return edited(change)


def merged_patient_id(path: Path) -> Path:
    """The visits sheet with patient_id merged over rows 7 and 8 (patient 002, months 0 and 3)."""
    patients, visits = valid_rows()
    book = xlsxwriter.Workbook(str(path))
    for name, rows, columns in (("patients", patients, PATIENT_COLUMNS), ("visits", visits, VISIT_COLUMNS)):
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, columns)
        for index, row in enumerate(rows, start=1):
            for column, key in enumerate(columns):
                if name == "visits" and key == "patient_id" and index in (6, 7):
                    continue
                value = row[key]
                if value is not None:
                    sheet.write(index, column, value)
        if name == "visits":
            sheet.merge_range(6, 0, 7, 0, "002")
    book.close()
    return path


def junk_columns(count: int) -> Callable[[list[dict[str, Any]], list[dict[str, Any]]], None]:
    def change(patients: list[dict[str, Any]], visits: list[dict[str, Any]]) -> None:
        for number, visit in enumerate(visits):
            for column in range(count):
                visit[f"junk_{column:03d}"] = f"noise {number}-{column}" if column % 2 else number * column
        visits[5]["tjc28"] = "abc"

    return change


def bytes_file(content: bytes | Callable[[], bytes]) -> Callable[[Path], Path]:
    def build(path: Path) -> Path:
        path.write_bytes(content() if callable(content) else content)
        return path

    return build


def ole2(stream_names: tuple[str, ...]) -> bytes:
    """A minimal, well-formed OLE2 (Compound File) container whose directory names ``stream_names``.

    This is the shape of an old .xls ("Workbook") and of a password-protected .xlsx, which Office
    writes as an OLE2 file holding "EncryptionInfo" and "EncryptedPackage" streams. The streams are
    empty: the loader must decide from the container alone, before any reader sees it.
    """
    sector = 512
    end_of_chain, fat_sector, free = 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16)
    header += struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + bytes(6)
    # directory sectors (0 in v3), FAT sectors, first directory sector, transaction, mini cutoff,
    # first mini-FAT sector, mini-FAT sectors, first DIFAT sector, DIFAT sectors
    header += struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end_of_chain, 0, end_of_chain, 0)
    header += struct.pack("<I", 0) + struct.pack("<I", free) * 108  # DIFAT: the FAT is sector 0
    assert len(header) == sector
    fat = struct.pack("<II", fat_sector, end_of_chain) + struct.pack("<I", free) * 126

    def entry(name: str, kind: int, child: int = free, right: int = free) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return (
            encoded.ljust(64, b"\0")
            + struct.pack("<HBB", len(encoded), kind, 1)  # name length, type, colour (black)
            + struct.pack("<III", free, right, child)  # left sibling, right sibling, child
            + bytes(16 + 4 + 16)  # CLSID, state bits, creation and modification times
            + struct.pack("<IQ", end_of_chain, 0)  # first sector, size
        )

    entries = [entry("Root Entry", 5, child=1 if stream_names else free)]
    for index, name in enumerate(stream_names, start=1):
        entries.append(entry(name, 2, right=index + 1 if index < len(stream_names) else free))
    directory = b"".join(entries).ljust(sector, b"\0")
    assert len(directory) == sector, "four directory entries per sector"
    return header + fat + directory


PATIENTS_PART = "xl/worksheets/sheet1.xml"  # write_workbook writes patients, visits, study in this order
VISITS_PART = "xl/worksheets/sheet2.xml"


def rewritten(build: Callable[[Path], Path], part: str, change: Callable[[bytes], bytes], rename: str | None = None) -> Callable[[Path], Path]:
    """A builder: ``build``'s workbook with the XML of ``part`` changed by ``change``, as a hand-edited
    or hostile file has it; with ``rename`` the part moves there (relationships and content types follow)."""

    def rebuilt(path: Path) -> Path:
        build(path)
        with zipfile.ZipFile(path) as source:
            parts = [(info.filename, source.read(info)) for info in source.infolist()]
        old, new = part.removeprefix("xl/").encode(), (rename or part).removeprefix("xl/").encode()
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
            for name, data in parts:
                if name == part:
                    name, data = rename or part, change(data)
                elif name in ("xl/_rels/workbook.xml.rels", "[Content_Types].xml"):
                    data = data.replace(old, new)
                target.writestr(name, data)
        return path

    return rebuilt


def replaced(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    def change(xml: bytes) -> bytes:
        assert old in xml, old
        return xml.replace(old, new, 1)

    return change


def truncated(path: Path) -> Path:
    valid = write_workbook(path.with_name("whole.xlsx"), *valid_rows())
    path.write_bytes(valid.read_bytes()[:3000])
    valid.unlink()
    return path


def csv_text() -> bytes:
    patients, _ = valid_rows()
    lines = [",".join(PATIENT_COLUMNS)] + [",".join("" if row[c] is None else str(row[c]) for c in PATIENT_COLUMNS) for row in patients]
    return ("\n".join(lines) + "\n").encode("utf-8")


# --- the corpus -----------------------------------------------------------------------------------

LONG_TEXT = "x" * 10_000
NOT_LISTED = "this patient_id is not in the patients sheet"


def _out_of_range(sheet: str, column: str, rows: tuple[tuple[int, Any, str], ...], rule: str) -> BadWorkbook:
    """One case per column: (index, value, shown) just past the lower and the upper bound."""
    excel_row = 2
    return BadWorkbook(
        f"out-of-range-{column}",
        cells(*((sheet, index, column, value) for index, value, _ in rows)),
        tuple(Expect(sheet, index + excel_row, column, shown, rule) for index, _, shown in rows),
    )


OUT_OF_RANGE = [
    _out_of_range("patients", "age_years", ((0, 17.9, "17.9"), (1, 100.1, "100.1")), "age_years must be a number from 18 to 100"),
    _out_of_range("patients", "disease_duration_years", ((0, -0.1, "-0.1"), (1, 80.1, "80.1")), "disease_duration_years must be a number from 0 to 80"),
    _out_of_range("patients", "prior_biologics", ((0, -1, "-1"), (1, 11, "11")), "prior_biologics must be a whole number from 0 to 10"),
    # 003 withdrew at 6 and 006 at 9: below 0 and above 120 their visits are not also "after withdrawal"
    _out_of_range("patients", "withdrawal_month", ((2, -0.1, "-0.1"), (5, 120.1, "120.1")), "withdrawal_month must be a number from 0 to 120"),
    _out_of_range("visits", "month", ((1, -1, "-1"), (4, 121, "121")), "month must be a whole number from 0 to 120"),
    _out_of_range("visits", "tjc28", ((0, -1, "-1"), (1, 29, "29")), "tjc28 must be a whole number from 0 to 28"),
    _out_of_range("visits", "sjc28", ((0, -1, "-1"), (1, 29, "29")), "sjc28 must be a whole number from 0 to 28"),
    _out_of_range("visits", "esr_mm_h", ((0, 0.9, "0.9"), (1, 200.1, "200.1")), "esr_mm_h must be a number from 1 to 200"),
    _out_of_range("visits", "crp_mg_l", ((0, -0.1, "-0.1"), (1, 500.1, "500.1")), "crp_mg_l must be a number from 0 to 500 (mg/L)"),
    _out_of_range("visits", "patient_global_mm", ((0, -0.1, "-0.1"), (1, 100.1, "100.1")), "patient_global_mm must be a number from 0 to 100"),
    _out_of_range("visits", "evaluator_global_mm", ((0, -0.1, "-0.1"), (1, 100.1, "100.1")), "evaluator_global_mm must be a number from 0 to 100"),
    _out_of_range("visits", "tcz_trough_ug_ml", ((1, -0.1, "-0.1"),), "tcz_trough_ug_ml must be a number of 0 or more"),
    BadWorkbook(
        "out-of-range-crp_mg_dl",
        renamed_column("visits", "crp_mg_l", "crp_mg_dl", lambda crp: crp / 10, then=set_cells(("visits", 0, "crp_mg_dl", -0.1), ("visits", 1, "crp_mg_dl", 50.1))),
        (
            Expect("visits", 2, "crp_mg_dl", "-0.1", "crp_mg_dl must be a number from 0 to 50 (mg/dL)"),
            Expect("visits", 3, "crp_mg_dl", "50.1", "crp_mg_dl must be a number from 0 to 50 (mg/dL); did you enter mg/L?"),
        ),
    ),
]

WRONG_TYPES = [
    BadWorkbook("text-in-whole-number", cells(("visits", 5, "tjc28", "abc")), (Expect("visits", 7, "tjc28", "'abc'", "tjc28 must be a whole number from 0 to 28"),)),
    BadWorkbook("decimal-in-whole-number", cells(("patients", 0, "prior_biologics", 2.5)), (Expect("patients", 2, "prior_biologics", "2.5", "prior_biologics must be a whole number"),)),
    BadWorkbook("text-in-number", cells(("patients", 0, "age_years", "fifty")), (Expect("patients", 2, "age_years", "'fifty'", "age_years must be a number from 18 to 100"),)),
    BadWorkbook("true-false-in-number", cells(("visits", 2, "esr_mm_h", True)), (Expect("visits", 4, "esr_mm_h", "TRUE", "this cell holds TRUE/FALSE; esr_mm_h must be"),)),
    BadWorkbook("text-in-yes-no", cells(("patients", 1, "concomitant_mtx", "maybe")), (Expect("patients", 3, "concomitant_mtx", "'maybe'", "concomitant_mtx must be yes or no"),)),
    BadWorkbook("number-in-yes-no", cells(("patients", 2, "rf_positive", 2)), (Expect("patients", 4, "rf_positive", "2", "rf_positive must be yes or no"),)),
    BadWorkbook("word-in-sex", cells(("patients", 3, "sex", "female")), (Expect("patients", 5, "sex", "'female'", "sex must be F or M"),)),
    BadWorkbook("number-in-sex", cells(("patients", 3, "sex", 1)), (Expect("patients", 5, "sex", "1", "sex must be F or M"),)),
    BadWorkbook("blank-required-yes-no", cells(("patients", 4, "concomitant_mtx", None)), (Expect("patients", 6, "concomitant_mtx", None, "this cell is empty; concomitant_mtx must be yes or no"),)),
    BadWorkbook("date-in-number", cells(("patients", 0, "age_years", date(1970, 5, 1))), (Expect("patients", 2, "age_years", "1970-05-01", "this cell holds a date or time; age_years must be"),)),
    BadWorkbook("date-time-in-joint-count", cells(("visits", 6, "sjc28", datetime(2024, 3, 1, 10, 30))), (Expect("visits", 8, "sjc28", "2024-03-01", "this cell holds a date or time; sjc28 must be"),)),
    BadWorkbook("number-stored-as-text", cells(("visits", 3, "tjc28", "12")), (Expect("visits", 5, "tjc28", "'12'", "this number is stored as text; type it again as a number (tjc28 must be"),)),
    BadWorkbook("decimal-comma-stored-as-text", cells(("visits", 3, "crp_mg_l", "1,5")), (Expect("visits", 5, "crp_mg_l", "'1,5'", "this number is stored as text; type it again as a number (crp_mg_l must be"),)),
    BadWorkbook("excel-error-value", cells(("visits", 8, "crp_mg_l", ExcelError("#N/A"))), (Expect("visits", 10, "crp_mg_l", "#N/A", "this cell holds an Excel error instead of a value"),)),
    BadWorkbook("ten-thousand-characters-in-a-number", cells(("visits", 3, "tjc28", LONG_TEXT)), (Expect("visits", 5, "tjc28", "'xxxxxxxx", "tjc28 must be a whole number"),)),
    BadWorkbook("ten-thousand-character-reason", cells(("patients", 2, "withdrawal_reason", LONG_TEXT)), (Expect("patients", 4, "withdrawal_reason", "'xxxxxxxx", "withdrawal_reason may hold at most 500 characters"),)),
]

FORMULA = "reportgen never evaluates formulas \u2014 paste the values instead (Paste Special \u2192 Values)"
FORMULAS = [
    BadWorkbook("formula-without-saved-value", cells(("visits", 2, "esr_mm_h", Formula("=E3*2"))), (Expect("visits", 4, "esr_mm_h", "=E3*2", FORMULA),)),
    BadWorkbook("formula-with-saved-value", cells(("patients", 1, "age_years", Formula("=40+6", cached=46))), (Expect("patients", 3, "age_years", "=40+6", FORMULA),)),
    BadWorkbook("formula-with-saved-text", cells(("patients", 1, "withdrawal_reason", Formula('="lack of "&"efficacy"', cached="lack of efficacy"))), (Expect("patients", 3, "withdrawal_reason", '="lack of "&"efficacy"', FORMULA),)),
    BadWorkbook("formula-with-saved-error", cells(("visits", 2, "esr_mm_h", Formula("=1/0", cached="#DIV/0!"))), (Expect("visits", 4, "esr_mm_h", "=1/0", FORMULA),)),
    BadWorkbook(
        "formula-in-the-study-sheet",
        edited(lambda patients, visits: None, study={"title": Formula('="TCZ "&"cohort"', cached="TCZ cohort")}),
        (Expect("study", 2, "value", '="TCZ "&"cohort"', "reportgen never evaluates formulas"),),
    ),
]

# Formulas and error cells written in ways Excel does not write but readers accept: each must still be
# found (issue 15, finding 4). The valid workbook's formula is at patients C3 (age_years of '002').
_AGE_FORMULA = cells(("patients", 1, "age_years", Formula("=40+6", cached=46)))
_AGE_EXPECT = (Expect("patients", 3, "age_years", "=40+6", FORMULA),)
_ERROR_CELL = cells(("visits", 8, "crp_mg_l", ExcelError("#N/A")))
_ERROR_EXPECT = (Expect("visits", 10, "crp_mg_l", "#N/A", "this cell holds an Excel error instead of a value"),)
HIDDEN_FORMULAS = [
    BadWorkbook("formula-in-a-cell-without-reference", rewritten(_AGE_FORMULA, PATIENTS_PART, replaced(b'<c r="C3">', b"<c>")), _AGE_EXPECT),
    BadWorkbook("formula-with-spaces-around-the-reference", rewritten(_AGE_FORMULA, PATIENTS_PART, replaced(b'<c r="C3">', b'<c r = "C3">')), _AGE_EXPECT),
    BadWorkbook("formula-after-a-comment", rewritten(_AGE_FORMULA, PATIENTS_PART, replaced(b"<f>", b"<!-- kept --><f>")), _AGE_EXPECT),
    BadWorkbook("formula-in-cdata", rewritten(_AGE_FORMULA, PATIENTS_PART, replaced(b"<f>40+6</f>", b"<f><![CDATA[40+6]]></f>")), _AGE_EXPECT),
    BadWorkbook("formula-in-a-sheet-part-named-XML", rewritten(_AGE_FORMULA, PATIENTS_PART, lambda xml: xml, rename="xl/worksheets/sheet1.XML"), _AGE_EXPECT),
    BadWorkbook("formula-in-a-sheet-part-named-dat", rewritten(_AGE_FORMULA, PATIENTS_PART, lambda xml: xml, rename="xl/worksheets/sheet1.dat"), _AGE_EXPECT),
    BadWorkbook("error-cell-without-reference", rewritten(_ERROR_CELL, VISITS_PART, replaced(b'<c r="F10" t="e">', b'<c t="e">')), _ERROR_EXPECT),
    BadWorkbook("error-cell-with-spaces-around-its-type", rewritten(_ERROR_CELL, VISITS_PART, replaced(b'<c r="F10" t="e">', b'<c r="F10" t = "e">')), _ERROR_EXPECT),
    BadWorkbook("error-cell-in-a-sheet-part-named-dat", rewritten(_ERROR_CELL, VISITS_PART, lambda xml: xml, rename="xl/worksheets/sheet2.dat"), _ERROR_EXPECT),
]

IDS = [
    BadWorkbook("blank-patient-id-in-visits", cells(("visits", 7, "patient_id", None)), (Expect("visits", 9, "patient_id", None, "this cell is empty; patient_id must be filled in"),)),
    BadWorkbook(
        "spaces-only-patient-id",
        cells(("patients", 2, "patient_id", "   ")),
        (
            Expect("patients", 4, "patient_id", None, "this cell is empty; patient_id must be filled in"),
            *(Expect("visits", row, "patient_id", "'003'", NOT_LISTED) for row in (12, 13, 14)),
        ),
    ),
    BadWorkbook(
        "duplicate-patient-copied-row",
        edited(lambda patients, visits: patients.append(dict(patients[1]))),
        (Expect("patients", 10, "patient_id", "'002'", "this patient_id is already used on row 3"),),
    ),
    BadWorkbook(
        "duplicate-visit-month",
        cells(("visits", 1, "month", 0)),
        (
            Expect("visits", 2, "month", "0", "this patient already has a visit at this month"),
            Expect("visits", 3, "month", "0", "this patient already has a visit at this month"),
        ),
    ),
    BadWorkbook("visit-for-unknown-patient", edited(lambda patients, visits: visits.append(dict(visits[0], patient_id="099"))), (Expect("visits", 39, "patient_id", "'099'", NOT_LISTED),)),
    BadWorkbook("patient-id-differs-by-a-space", cells(("visits", 6, "patient_id", "002 ")), (Expect("visits", 8, "patient_id", "'002 '", "matches one in the patients sheet only if spaces are ignored"),)),
    BadWorkbook("patient-id-longer-than-64", edited(set_cells(*(("visits", i, "patient_id", "P" * 65) for i in (10, 11, 12)), ("patients", 2, "patient_id", "P" * 65))), (
        Expect("patients", 4, "patient_id", "'PPPP", "patient_id may hold at most 64 characters"),
        *(Expect("visits", row, "patient_id", "'PPPP", "patient_id may hold at most 64 characters") for row in (12, 13, 14)),
    )),
    BadWorkbook(
        "formula-in-patient-id",
        cells(("patients", 2, "patient_id", Formula('="00"&"3"', cached="003"))),
        (
            Expect("patients", 4, "patient_id", '="00"&"3"', FORMULA),
            *(Expect("visits", row, "patient_id", "'003'", NOT_LISTED) for row in (12, 13, 14)),
        ),
    ),
    BadWorkbook("merged-patient-id", merged_patient_id, (Expect("visits", 8, "patient_id", None, "this cell is empty; patient_id must be filled in"),)),
]

STRUCTURE = [
    BadWorkbook("missing-visits-sheet", raw_sheets(patients=...), (Expect("visits", None, None, None, "the workbook has no sheet named visits"),)),
    BadWorkbook(
        "missing-both-data-sheets",
        raw_sheets(notes=RawSheet(("a",), [[1]])),
        (Expect("patients", None, None, None, "no sheet named patients"), Expect("visits", None, None, None, "no sheet named visits")),
    ),
    BadWorkbook("missing-column", edited(lambda patients, visits: [row.pop("esr_mm_h") for row in visits]), (Expect("visits", 1, "esr_mm_h", None, "the column esr_mm_h is missing from row 1 of the visits sheet"),)),
    BadWorkbook("misspelt-column", renamed_column("visits", "tjc28", "TJC28"), (Expect("visits", 1, "tjc28", None, "row 1 has 'TJC28', but column names must be written exactly as tjc28"),)),
    BadWorkbook(
        "both-crp-columns",
        edited(lambda patients, visits: [row.__setitem__("crp_mg_dl", row["crp_mg_l"] / 10) for row in visits]),
        (Expect("visits", 1, "crp_mg_dl", None, "give crp_mg_l or crp_mg_dl, not both"),),
    ),
    BadWorkbook("header-only-patients-sheet", raw_sheets(patients=RawSheet(PATIENT_COLUMNS), visits=...), (Expect("patients", None, None, None, "the patients sheet has no patient rows yet"),)),
    BadWorkbook("empty-visits-sheet", raw_sheets(patients=..., visits=RawSheet(())), (Expect("visits", None, None, None, "the visits sheet is empty; row 1 must hold the column names"),)),
    BadWorkbook(
        "column-name-twice",
        raw_sheets(patients=..., visits=RawSheet((*VISIT_COLUMNS, "tjc28"), [[*(row[c] for c in VISIT_COLUMNS), 1] for row in valid_rows().visits])),
        (Expect("visits", 1, "tjc28", None, "the column name tjc28 appears more than once in row 1"),),
    ),
    BadWorkbook(
        "hundred-junk-columns-and-one-error",
        edited(junk_columns(100)),
        (Expect("visits", 7, "tjc28", "'abc'", "tjc28 must be a whole number from 0 to 28"),),
    ),
]

# A cell far beyond the data makes the readers lay out a grid of billions of cells (an 8 KB file
# aborted the process); extra columns beyond reason fill the report (issue 15, findings 5 and 14b).
_VALID = edited(lambda patients, visits: None)
_LAST_ROW = b"</sheetData>"
SIZE = [
    BadWorkbook(
        "text-in-the-last-cell-of-excel",
        rewritten(_VALID, VISITS_PART, replaced(_LAST_ROW, b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>' + _LAST_ROW)),
        refusal="the visits sheet has a filled cell at XFD1048576, so it spans 1,048,576 rows \u00d7 16,384 columns",
    ),
    BadWorkbook(
        "cell-reference-outside-excel",
        rewritten(_VALID, VISITS_PART, replaced(_LAST_ROW, b'<row r="99999999"><c r="ZZZZ99999999" t="inlineStr"><is><t>x</t></is></c></row>' + _LAST_ROW)),
        refusal="the visits sheet has a cell at ZZZZ99999999, outside Excel's grid (which ends at XFD1048576)",
    ),
    BadWorkbook(
        "column-name-of-ten-thousand-characters",
        edited(lambda patients, visits: [visit.__setitem__(LONG_TEXT, 1) for visit in visits]),
        refusal="cell J1 of the visits sheet holds a column name of 10,000 characters; a column name may have at most 200",
    ),
    BadWorkbook(
        "two-hundred-and-one-extra-columns",
        edited(lambda patients, visits: [visit.update({f"extra_{index:03d}": index for index in range(201)}) for visit in visits]),
        refusal="row 1 of the visits sheet names 201 columns that are not part of the workbook contract (up to cell HB1); at most 200",
    ),
]

ACROSS_SHEETS = [
    BadWorkbook(
        "missing-baseline-visit",
        edited(lambda patients, visits: visits.pop(5)),
        (Expect("patients", 3, "patient_id", "'002'", "this patient has no baseline visit (month 0) in the visits sheet; their earliest visit is month 3"),),
    ),
    BadWorkbook(
        "visit-after-withdrawal",
        cells(("patients", 0, "withdrawal_month", 9)),
        (Expect("visits", 6, "month", "12", "this visit at month 12 of patient 001 comes after their withdrawal at month 9; remove the visit"),),
    ),
]

# Control characters (issue 15): refused in every text cell, shown escaped; tab and line breaks are allowed.
CONTROL = "this text holds a control character (shown as \\x.. in the value)"
CONTROLS = [
    BadWorkbook(
        "terminal-escape-in-study-title",
        edited(lambda p, v: None, study={"title": "TCZ\x1b[2J\x1b]0;pwned\x07 cohort", "authors": "A. Rossi\x0b B. Chen"}),
        (Expect("study", 2, "value", "'TCZ\\x1b[2J\\x1b]0;pwned\\x07 cohort'", CONTROL), Expect("study", 3, "value", "'A. Rossi\\x0b B. Chen'", CONTROL)),
    ),
    BadWorkbook("nul-in-withdrawal-reason", cells(("patients", 2, "withdrawal_reason", "moved\x00away")), (Expect("patients", 4, "withdrawal_reason", "'moved\\x00away'", CONTROL),)),
    BadWorkbook(
        "control-character-far-into-a-long-reason",
        cells(("patients", 2, "withdrawal_reason", "x" * 300 + "\x01" + "y" * 100)),
        (Expect("patients", 4, "withdrawal_reason", "'…" + "x" * 20 + "\\x01y", CONTROL),),  # shown from just before it
    ),
    BadWorkbook(
        "c1-control-in-patient-id",
        cells(("patients", 2, "patient_id", "003\x9b2J")),
        (
            Expect("patients", 4, "patient_id", "'003\\x9b2J'", CONTROL),
            *(Expect("visits", row, "patient_id", "'003'", NOT_LISTED) for row in (12, 13, 14)),
        ),
    ),
]

STUDY = [
    BadWorkbook("study-key-typo", edited(lambda p, v: None, study={"folow_up_month": 6}), (Expect("study", 2, "key", "'folow_up_month'", "did you mean follow_up_month?"),)),
    BadWorkbook("study-value-invalid", edited(lambda p, v: None, study={"follow_up_month": "twelve"}), (Expect("study", 2, "value", "'twelve'", "follow_up_month must be a whole number from 1 to 120"),)),
    BadWorkbook("study-grouping-typo", edited(lambda p, v: None, study={"grouping": "tertile"}), (Expect("study", 2, "value", "'tertile'", "did you mean tertiles?"),)),
    BadWorkbook("study-group-labels-count", edited(lambda p, v: None, study={"cut_points": "5; 8", "group_labels": "low; high"}), (Expect("study", 3, "value", "'low; high'", "group_labels gives 2 labels but the 2 cut points of cut_points (row 2) make 3 groups"),)),
    BadWorkbook("study-adjust-for-typo", edited(lambda p, v: None, study={"adjust_for": "esr_mmh; concomitant_mtx"}), (Expect("study", 2, "value", "'esr_mmh; concomitant_mtx'", "'esr_mmh' is not a baseline covariate; did you mean esr_mm_h?"),)),
    BadWorkbook("study-primary-outcome-typo", edited(lambda p, v: None, study={"primary_outcome": "das28 crp"}), (Expect("study", 2, "value", "'das28 crp'", "did you mean das28_crp?"),)),
    BadWorkbook("study-level-month-after-follow-up", edited(lambda p, v: None, study={"follow_up_month": 6, "level_month": 9}), (Expect("study", 3, "value", "9", "level_month is 9 but follow_up_month is 6 (row 2)"),)),
    BadWorkbook("study-visit-windows-overlap", edited(lambda p, v: None, study={"follow_up_month": 6, "level_month": 3, "visit_window_months": 2}), (Expect("study", 4, "value", "2", "visit_window_months is 2 but can be at most 1 here"),)),
    BadWorkbook("study-same-key-twice", edited(lambda p, v: None, study=RawSheet(("key", "value"), [("title", "A"), ("Title", "B")])), (Expect("study", 3, "key", "'Title'", "title is already set in row 2"),)),
]

FILES = [
    BadWorkbook("old-xls", bytes_file(lambda: ole2(("Workbook",))), refusal="cohort.xls is an old-format Excel (.xls) or other Office file; open it in Excel and save it as .xlsx", file_name="cohort.xls"),
    BadWorkbook("xls-renamed-xlsx", bytes_file(lambda: ole2(("Workbook", "SummaryInformation"))), refusal="is an old-format Excel (.xls)"),
    BadWorkbook("password-protected", bytes_file(lambda: ole2(("EncryptionInfo", "EncryptedPackage"))), refusal="cohort.xlsx is password-protected; open it in Excel, remove the password"),
    BadWorkbook("csv", bytes_file(csv_text), refusal="cohort.csv is a text or CSV file, not an .xlsx workbook", file_name="cohort.csv"),
    BadWorkbook("text-renamed-xlsx", bytes_file(b"patient notes\nsee the binder\n"), refusal="cohort.xlsx is a text or CSV file, not an .xlsx workbook"),
    BadWorkbook("zero-bytes", bytes_file(b""), refusal="cohort.xlsx is empty (0 bytes), so it is not a workbook"),
    BadWorkbook("truncated-zip", truncated, refusal="cohort.xlsx is damaged or incomplete"),
    BadWorkbook("binary-junk", bytes_file(bytes(range(256)) * 8), refusal="cohort.xlsx is not an Excel workbook, not an .xlsx workbook"),
]

CORPUS: list[BadWorkbook] = [*WRONG_TYPES, *OUT_OF_RANGE, *FORMULAS, *HIDDEN_FORMULAS, *IDS, *STRUCTURE, *SIZE, *ACROSS_SHEETS, *CONTROLS, *STUDY, *FILES]
assert len({case.name for case in CORPUS}) == len(CORPUS), "case names are ids"


# --- the valid twins: every bound, exactly at the bound -------------------------------------------


@dataclass(frozen=True)
class Control:
    name: str
    build: Callable[[Path], Path]
    checks: tuple[tuple[str, int, str, float], ...] = field(default=())  # (frame, position, column, value) in the Cohort


def _at_bounds(sheet: str, column: str, low: tuple[int, float] | None, high: tuple[int, float] | None) -> Control:
    edits = tuple((sheet, bound[0], column, bound[1]) for bound in (low, high) if bound is not None)
    return Control(f"at-bounds-{column}", cells(*edits), tuple((sheet, index, column, value) for _, index, _, value in edits))


def _withdrawn_at(month: int, patient: int) -> Callable[[Path], Path]:
    """Patient index ``patient`` withdrew at ``month``; their later visits are removed."""

    def change(patients: list[dict[str, Any]], visits: list[dict[str, Any]]) -> None:
        patient_id = patients[patient]["patient_id"]
        patients[patient]["withdrawal_month"] = month
        visits[:] = [visit for visit in visits if visit["patient_id"] != patient_id or visit["month"] <= month]

    return edited(change)


AT_BOUND_CONTROLS = [
    _at_bounds("patients", "age_years", (0, 18), (1, 100)),
    _at_bounds("patients", "disease_duration_years", (0, 0), (1, 80)),
    _at_bounds("patients", "prior_biologics", (0, 0), (1, 10)),
    Control("at-bounds-withdrawal_month-0", _withdrawn_at(0, 3), (("patients", 3, "withdrawal_month", 0),)),
    Control("at-bounds-withdrawal_month-120", _withdrawn_at(120, 3), (("patients", 3, "withdrawal_month", 120),)),
    _at_bounds("visits", "month", None, (4, 120)),
    _at_bounds("visits", "tjc28", (0, 0), (1, 28)),
    _at_bounds("visits", "sjc28", (0, 0), (1, 28)),
    _at_bounds("visits", "esr_mm_h", (0, 1), (1, 200)),
    _at_bounds("visits", "crp_mg_l", (0, 0), (1, 500)),
    _at_bounds("visits", "patient_global_mm", (0, 0), (1, 100)),
    _at_bounds("visits", "evaluator_global_mm", (0, 0), (1, 100)),
    _at_bounds("visits", "tcz_trough_ug_ml", (1, 0), None),
    Control(
        "at-bounds-crp_mg_dl",
        renamed_column("visits", "crp_mg_l", "crp_mg_dl", lambda crp: crp / 10, then=set_cells(("visits", 0, "crp_mg_dl", 0), ("visits", 1, "crp_mg_dl", 50))),
        (("visits", 0, "crp_mg_l", 0), ("visits", 1, "crp_mg_l", 500)),
    ),
]
