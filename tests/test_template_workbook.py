"""``reportgen template``: headers, comments and data validation from the contract; filled in, it validates."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from workbooks import valid_rows

from reportgen.contract import load_contract
from reportgen.errors import WorkbookInvalid
from reportgen.template_workbook import write_template
from reportgen.validate import validate_workbook
from reportgen.workbook import load_workbook


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "cohort.xlsx"
    write_template(path)
    return path


def _part(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read(name).decode("utf-8")


def test_sheets_and_headers_come_from_the_contract(template: Path) -> None:
    raw = load_workbook(template)
    contract = load_contract()
    for sheet in contract.sheets:
        assert raw.sheets[sheet.name].header == tuple(column.name for column in sheet.canonical_columns)
        assert raw.sheets[sheet.name].rows == ()
    study = raw.sheets["study"]
    assert study.header == ("key", "value")
    assert [row[0] for row in study.rows] == [key.key for key in contract.study.keys if not key.legacy]


def test_the_template_is_contract_version_2_and_drug_neutral(template: Path) -> None:
    """Version 2 names only: trough_level, no quartile_cutpoints, no offer of tcz_trough_ug_ml; the drug is
    to be filled in, not defaulted to tocilizumab."""
    from reportgen.contract import LEVEL_COLUMN, V1_LEVEL_COLUMN, workbook_version

    raw = load_workbook(template)
    assert workbook_version(raw.sheets["visits"].header) == 2 and LEVEL_COLUMN in raw.sheets["visits"].header
    assert "quartile_cutpoints" not in [row[0] for row in raw.sheets["study"].rows]
    comments = "".join(_part(template, name) for name in zipfile.ZipFile(template).namelist() if "comments" in name)
    assert V1_LEVEL_COLUMN not in comments and "quartile_cutpoints" not in comments
    assert "Default: tocilizumab" not in comments and "Fill in the drug" in comments


def test_every_column_has_data_validation_and_a_comment_with_its_unit(template: Path) -> None:
    for index, sheet in enumerate(load_contract().sheets, start=1):
        xml = _part(template, f"xl/worksheets/sheet{index}.xml")
        validated = re.findall(r'<dataValidation [^>]*sqref="([A-Z]+)2:\1(\d+)"', xml)
        assert len(validated) == len(sheet.canonical_columns)
        assert all(last == "1048576" for _, last in validated)
        comments = _part(template, f"xl/comments{index}.xml")
        for column in sheet.canonical_columns:
            if column.unit:
                assert column.unit in comments
    patients = _part(template, "xl/worksheets/sheet1.xml")
    assert '<formula1>"F,M"</formula1>' in patients
    assert '<formula1>"yes,no"</formula1>' in patients
    assert 'type="whole"' in patients and 'type="decimal"' in patients


def test_the_study_key_column_offers_every_setting_as_a_list(template: Path) -> None:
    """The keys' drop-down refers to the keys written in the sheet: typed out, the list of every setting
    passes Excel's 255-character limit and the writer would drop the validation with only a warning."""
    import openpyxl

    keys = [key.key for key in load_contract().study.keys if not key.legacy]
    assert len(",".join(keys)) > 255  # why a range is needed
    sheet = openpyxl.load_workbook(template)["study"]
    lists = [v for v in sheet.data_validations.dataValidation if v.type == "list" and str(v.sqref).startswith("A2:")]
    assert len(lists) == 1 and lists[0].formula1 == f"$A$2:$A${len(keys) + 1}"
    assert [sheet.cell(row, 1).value for row in range(2, len(keys) + 2)] == keys


def test_the_empty_template_is_well_formed_but_has_no_patients_yet(template: Path) -> None:
    # Decision: an empty workbook is not a valid cohort; the only problems are the two empty sheets.
    with pytest.raises(WorkbookInvalid) as caught:
        validate_workbook(load_workbook(template))
    assert [problem.rule for problem in caught.value.problems] == [
        "the patients sheet has no patient rows yet; add one row per patient below the header",
        "the visits sheet has no visit rows yet; add one row per visit below the header",
    ]
    # The study settings only the authors can give are blank in the template: warned about, at their rows.
    assert [(w.sheet, w.column, w.rule.split(" is not set")[0]) for w in caught.value.warnings] == [
        ("study", "value", "drug"), ("study", "value", "background"), ("study", "value", "objective")
    ]


def test_the_template_filled_in_validates(template: Path, tmp_path: Path) -> None:
    import openpyxl  # only to fill the template in as a user would; reportgen never reads with it

    book = openpyxl.load_workbook(template)
    patients, visits = valid_rows()
    for name, rows in (("patients", patients), ("visits", visits)):
        for row in rows:
            book[name].append(list(row.values()))
    book["study"]["B2"] = "Filled-in template"
    filled = tmp_path / "filled.xlsx"
    book.save(filled)
    cohort = validate_workbook(load_workbook(filled))
    assert (len(cohort.patients), len(cohort.visits), cohort.study.title) == (8, 37, "Filled-in template")


def test_written_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import xlsxwriter

    def broken_close(self: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(xlsxwriter.Workbook, "close", broken_close)
    with pytest.raises(OSError):
        write_template(tmp_path / "cohort.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_no_temporary_file_is_left_behind(tmp_path: Path) -> None:
    write_template(tmp_path / "cohort.xlsx")
    assert [path.name for path in tmp_path.iterdir()] == ["cohort.xlsx"]


def test_the_level_column_lets_a_below_lloq_text_be_typed(template: Path) -> None:
    """'<0.3' is text: a decimal validation on trough_level would refuse it while typing."""
    import openpyxl

    from reportgen.contract import LEVEL_COLUMN, column_letter

    header = [column.name for column in load_contract().sheet("visits").canonical_columns]
    letter = column_letter(header.index(LEVEL_COLUMN))
    sheet = openpyxl.load_workbook(template)["visits"]
    rules = [v for v in sheet.data_validations.dataValidation if str(v.sqref).startswith(f"{letter}2:")]
    assert len(rules) == 1 and rules[0].type in (None, "any") and rules[0].prompt
