"""Loading: what is read, and everything refused before parsing (not a workbook, encrypted, bombs)."""

from __future__ import annotations

import hashlib
import struct
import zipfile
from pathlib import Path

import pytest
from workbooks import PATIENT_COLUMNS, ExcelError, Formula, RawSheet, cell_rows, valid_rows, write_valid_workbook, write_workbook

from reportgen import workbook
from reportgen.errors import WorkbookUnreadable
from reportgen.workbook import load_workbook


def _refused(path: Path) -> str:
    with pytest.raises(WorkbookUnreadable) as caught:
        load_workbook(path)
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def _copy_with(source: Path, target: Path, changes: dict[str, bytes | None]) -> Path:
    """A copy of an .xlsx with some parts replaced (bytes), added, or removed (None)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.filename not in changes:
                new.writestr(info, old.read(info))
        for name, data in changes.items():
            if data is not None:
                new.writestr(name, data)
    return target


@pytest.fixture
def valid_path(tmp_path: Path) -> Path:
    return write_valid_workbook(tmp_path / "cohort.xlsx", study={"title": "T"})


# --- what is read -------------------------------------------------------------------------------


def test_reads_the_contract_sheets_as_cells(valid_path: Path) -> None:
    raw = load_workbook(valid_path)
    assert set(raw.sheets) == {"patients", "visits", "study"}
    patients = raw.sheets["patients"]
    assert patients.header == PATIENT_COLUMNS
    assert cell_rows(patients)[0][:3] == ("001", "F", 43.0)  # the id keeps its leading zeros
    assert cell_rows(patients)[0][5] == "yes" and cell_rows(patients)[4][5] == ""  # a blank cell is ''
    assert len(cell_rows(raw.sheets["visits"])) == 37
    assert raw.file_name == "cohort.xlsx"
    assert raw.sha256 == hashlib.sha256(valid_path.read_bytes()).hexdigest()


def test_other_sheets_are_not_read_and_names_match_in_any_case(tmp_path: Path) -> None:
    rows = valid_rows()
    path = write_workbook(
        tmp_path / "x.xlsx", extra_sheets={" Patients ": rows.patients, "visits": rows.visits, "notes": RawSheet(("a",), [[1]])}
    )
    raw = load_workbook(path)
    assert set(raw.sheets) == {"patients", "visits"}
    assert raw.sheets["patients"].name == " Patients "


def test_trailing_empty_rows_are_dropped(tmp_path: Path) -> None:
    rows = valid_rows()
    path = write_workbook(tmp_path / "x.xlsx", patients=RawSheet(PATIENT_COLUMNS, [list(rows.patients[0].values()), [None] * 10, [None]]))
    assert len(cell_rows(load_workbook(path).sheets["patients"])) == 1


def test_formulas_with_and_without_a_saved_value_and_error_cells_are_found(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    patients[1]["age_years"] = Formula("=40+6")
    patients[2]["age_years"] = Formula("=40+9", cached=49)
    patients[3]["disease_duration_years"] = ExcelError("#DIV/0!")
    patients[4]["withdrawal_reason"] = Formula('=A6&"<x>"', cached="006<x>")
    raw = load_workbook(write_workbook(tmp_path / "x.xlsx", patients=patients, visits=visits))
    sheet = raw.sheets["patients"]
    assert sheet.formulas == ((3, "age_years", "=40+6"), (4, "age_years", "=40+9"), (6, "withdrawal_reason", '=A6&"<x>"'))
    assert sheet.error_cells == ((5, "disease_duration_years", "#DIV/0!"),)
    assert cell_rows(sheet)[1][2] == "" and cell_rows(sheet)[2][2] == 49.0  # formulas are never evaluated
    assert raw.sheets["visits"].formulas == ()


def test_a_formula_in_an_unnamed_column_is_named_by_its_letter(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "x.xlsx", patients=RawSheet(("patient_id", ""), [("001", Formula("=A2"))]))
    assert load_workbook(path).sheets["patients"].formulas == ((2, "column B", "=A2"),)


# --- refused before parsing ------------------------------------------------------------------------


def test_a_missing_file(tmp_path: Path) -> None:
    assert _refused(tmp_path / "nowhere.xlsx").endswith("does not exist")


def test_a_folder(tmp_path: Path) -> None:
    assert "is a folder" in _refused(tmp_path)


def test_a_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    path.write_bytes(b"")
    assert _refused(path) == "empty.xlsx is empty (0 bytes), so it is not a workbook"


@pytest.mark.parametrize("content", [b"patient_id,sex\n001,F\n", "patient_id;âge\n".encode("utf-8"), "a\tb\n".encode("utf-16")])
def test_text_renamed_xlsx(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "cohort.xlsx"
    path.write_bytes(content)
    message = _refused(path)
    assert "a text or CSV file" in message and "save it as .xlsx" in message


def test_an_old_xls(tmp_path: Path) -> None:
    path = tmp_path / "cohort.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096))
    assert "old-format Excel (.xls)" in _refused(path)


def test_a_password_protected_workbook(tmp_path: Path) -> None:
    # Office saves an encrypted .xlsx as an OLE2 container holding an EncryptionInfo stream.
    path = tmp_path / "locked.xlsx"
    directory_entry = "EncryptionInfo".encode("utf-16-le").ljust(64, b"\0")
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(5_000_000) + directory_entry)
    assert "password-protected" in _refused(path)


def test_a_truncated_workbook(valid_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "cut.xlsx"
    path.write_bytes(valid_path.read_bytes()[:3000])
    assert "damaged or incomplete" in _refused(path)


def test_a_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "cohort.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    assert "a zip archive but not an Excel workbook" in _refused(path)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("content.xml", "<office/>")
    assert "OpenDocument" in _refused(path)


def test_a_zip_bomb_is_refused_by_its_ratio(valid_path: Path, tmp_path: Path) -> None:
    bomb = _copy_with(valid_path, tmp_path / "bomb.xlsx", {"xl/media/filler.xml": bytes(64 * 2**20)})
    assert "only a zip bomb does" in _refused(bomb)


def test_a_zip_bomb_is_refused_by_its_declared_size(valid_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workbook, "MAX_UNCOMPRESSED_BYTES", 10_000)
    assert "would expand to" in _refused(valid_path)


def test_too_many_parts(valid_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workbook, "MAX_MEMBERS", 3)
    assert "parts, far more than any workbook" in _refused(valid_path)


def test_a_part_lying_about_its_size_fails_before_the_reader(valid_path: Path, tmp_path: Path) -> None:
    big = b"<sst>" + b"<si><t>x</t></si>" * 200_000 + b"</sst>"
    path = _copy_with(valid_path, tmp_path / "liar.xlsx", {"xl/sharedStrings.xml": big})
    _declare_size(path, "xl/sharedStrings.xml", 100)
    assert "damaged or incomplete" in _refused(path)


def _declare_size(path: Path, member: str, size: int) -> None:
    """Overwrite the uncompressed size of ``member`` in both its local and central zip headers."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    for signature, size_offset, name_offset in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            if data[start + name_offset : start + name_offset + len(name)] == name:
                struct.pack_into("<I", data, start + size_offset, size)
            start += 4
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("part", ["xl/sharedStrings.xml", "xl/worksheets/sheet1.xml", "xl/styles.xml"])
def test_an_xml_entity_bomb_is_refused(valid_path: Path, tmp_path: Path, part: str) -> None:
    with zipfile.ZipFile(valid_path) as archive:
        original = archive.read(part)
    declaration = b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
    hostile = original.replace(b"?>", b"?>" + declaration, 1)
    path = _copy_with(valid_path, tmp_path / "entities.xlsx", {part: hostile})
    assert "declares an XML document type" in _refused(path)


@pytest.mark.parametrize("part", ["xl/sharedStrings.xml", "xl/worksheets/sheet1.xml", "xl/workbook.xml", "[Content_Types].xml"])
@pytest.mark.parametrize(
    "before",
    [b"<!-- <x -->", b"<?pi <x ?>", b"\n  <!-- a --> <!-- <b> -->\n"],
    ids=["comment-with-a-tag", "instruction-with-a-tag", "comments"],
)
def test_a_doctype_after_a_comment_that_looks_like_the_root_is_refused(valid_path: Path, tmp_path: Path, part: str, before: bytes) -> None:
    # Regression: the prolog ended at the first '<x' anywhere, even inside a comment, so a DOCTYPE
    # after such a comment passed (and in workbook.xml defusedxml then raised a traceback).
    with zipfile.ZipFile(valid_path) as archive:
        original = archive.read(part)
    declaration = b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
    hostile = original.replace(b"?>", b"?>" + before + declaration, 1)
    path = _copy_with(valid_path, tmp_path / "entities.xlsx", {part: hostile})
    assert "declares an XML document type" in _refused(path)


def test_a_utf16_part_with_a_doctype_is_refused(valid_path: Path, tmp_path: Path) -> None:
    hostile = '\ufeff<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "a">]><sst/>'.encode("utf-16-le")
    path = _copy_with(valid_path, tmp_path / "entities.xlsx", {"xl/sharedStrings.xml": hostile})
    assert "declares an XML document type" in _refused(path)


def test_a_part_that_is_not_xml_is_damaged(valid_path: Path, tmp_path: Path) -> None:
    path = _copy_with(valid_path, tmp_path / "junk.xlsx", {"xl/styles.xml": b"\x00\x01 not xml"})
    assert _refused(path) == "junk.xlsx is damaged: its part xl/styles.xml is not well-formed XML; re-save the workbook in Excel"


def test_a_slow_reader_is_never_reached_for_a_bomb(valid_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object) -> None:
        raise AssertionError("calamine must not open a refused file")

    monkeypatch.setattr(workbook, "_read_values", fail)
    bomb = _copy_with(valid_path, tmp_path / "bomb.xlsx", {"xl/media/filler.xml": bytes(8 * 2**20)})
    assert "zip bomb" in _refused(bomb)


@pytest.mark.parametrize(
    ("cell", "formula"),
    [
        (b'<c r="B7"><f>A7*2</f></c>', "=A7*2"),
        (b'<c r="B7" s="1"><f>A7*2</f><v></v></c>', "=A7*2"),
        (b'<c r="B7"><f t="shared" si="0"/><v/></c>', "a formula"),
        (b'<x:c r="B7"><x:f>A7*2</x:f></x:c>', "=A7*2"),
        (b'<c r="B7"><f>A7*2</f><v>14</v></c>', "=A7*2"),  # a saved value is no excuse: it may be stale
        (b'<c r="B7" t="str"><f>""</f><v></v></c>', '=""'),
        (b'<c r="B7" t="str"><f>A7&amp;"&lt;b&gt;"</f><v>7&lt;b&gt;</v></c>', '=A7&"<b>"'),
        (b'<c r="B7"><v>14</v></c>', None),
        (b'<c r="B7" t="e"><v>#N/A</v></c>', None),
    ],
)
def test_every_formula_cell_is_found(cell: bytes, formula: str | None) -> None:
    xml = b'<row r="7"><c r="A7"><v>7</v></c>' + cell + b"</row>"
    assert list(workbook._formula_cells(xml)) == ([(7, 1, formula)] if formula else [])


def test_a_long_formula_is_shortened_for_showing() -> None:
    xml = b'<c r="C2"><f>' + b"+".join([b"A1"] * 100) + b"</f><v>1</v></c>"
    [(row, column, text)] = workbook._formula_cells(xml)
    assert (row, column, len(text)) == (2, 2, 60) and text.startswith("=A1+A1") and text.endswith("…")


def test_error_cells_keep_their_text() -> None:
    xml = b'<c r="C3" t="e"><f>1/0</f><v>#DIV/0!</v></c><c r="D3" t="e"><v>#N/A</v></c><c r="E3"><v>1</v></c>'
    assert list(workbook._error_cells(xml)) == [(3, 2, "#DIV/0!"), (3, 3, "#N/A")]


@pytest.mark.parametrize(
    "cell",
    [
        b'<c r="B7"><f>A7*2</f></c>',
        b'<c r="B7"><f t="shared" si="0"/><v/></c>',
        b"<c r='B7'><f t='shared' ref='B7:B9' si='0'>A7*2</f><v>14</v></c>",
        b'<x:c r="B7"><x:f>A7*2</x:f></x:c>',
    ],
)
def test_the_scan_finds_every_formula_cell_through_its_quick_gates(cell: bytes) -> None:
    import io

    prefix = b"x:" if cell.startswith(b"<x:") else b""
    rows = b"".join(b'<%srow r="%d"><%sc r="A%d"><%sv>%d</%sv></%sc></%srow>' % (prefix, i, prefix, i, prefix, i, prefix, prefix, prefix) for i in range(2, 7))
    xml = b'<?xml version="1.0"?><%sworksheet><%ssheetData>%s<%srow r="7">%s</%srow></%ssheetData></%sworksheet>' % (
        prefix, prefix, rows, prefix, cell, prefix, prefix, prefix
    )
    found = workbook._scan_sheet(io.BytesIO(xml), "xl/worksheets/sheet1.xml", "x.xlsx")
    formulas, errors = found.formulas, found.errors
    assert [(row, column) for row, column, _ in formulas] == [(7, 1)] and errors == []


@pytest.mark.parametrize("cell", [b'<c r="C3" t="e"><v>#N/A</v></c>', b"<c r='C3' t='e'><v>#N/A</v></c>", b'<c r="C3" s="2" t="e"><f>1/0</f><v>#DIV/0!</v></c>'])
def test_the_scan_finds_error_cells_quoted_either_way(cell: bytes) -> None:
    import io

    xml = b'<?xml version="1.0"?><worksheet><sheetData><row r="3"><c r="A3"><v>1</v></c>' + cell + b"</row></sheetData></worksheet>"
    errors = workbook._scan_sheet(io.BytesIO(xml), "xl/worksheets/sheet1.xml", "x.xlsx").errors
    assert [(row, column) for row, column, _ in errors] == [(3, 2)]


# --- issue 15: what the quick and the exact scan must both see -------------------------------------

# size=None runs the quick scan (falling back to the exact one when it must); a small size the exact one.
SCANS = pytest.mark.parametrize("size", [None, 1_000], ids=["quick", "exact"])


def _sheet(rows: bytes) -> bytes:
    header = b'<row r="1">' + b"".join(b'<c r="%s1" t="inlineStr"><is><t>h</t></is></c>' % letter for letter in (b"A", b"B", b"C")) + b"</row>"
    body = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c><c r="B%d"><v>1</v></c></row>' % (i, i, i, i) for i in range(2, 40))
    return b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>' + header + body + rows + b"</sheetData></worksheet>"


def _scan(xml: bytes, size: int | None) -> workbook._Findings:
    import io

    return workbook._scan_sheet(io.BytesIO(xml), "xl/worksheets/sheet1.dat", "x.xlsx", "visits", size)


@SCANS
@pytest.mark.parametrize(
    "cell",
    [
        b"<c><f>A40*2</f><v>2</v></c>",  # no reference: placed after the previous cell (C40)
        b'<c r = "C40"><f>A40*2</f><v>2</v></c>',
        b'<c r="C40"><!-- note --><f>A40*2</f><v>2</v></c>',
        b'<c r="C40"><f><![CDATA[A40*2]]></f><v>2</v></c>',
        b'<c r="C40"><v>2</v><f>A40*2</f></c>',
        b'<x:c xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" r="C40"><x:f>A40*2</x:f></x:c>',
        b"<c r='c40'><f>A40*2</f></c>",
    ],
    ids=["no-reference", "spaces", "comment", "cdata", "after-value", "prefixed", "lower-case"],
)
def test_a_formula_is_found_however_it_is_written(cell: bytes, size: int | None) -> None:
    xml = _sheet(b'<row r="40"><c r="A40"><v>40</v></c><c r="B40"><v>1</v></c>' + cell + b"</row>")
    assert _scan(xml, size).formulas == [(40, 2, "=A40*2")]


@SCANS
@pytest.mark.parametrize(
    "cell",
    [b'<c t="e"><v>#N/A</v></c>', b'<c r="C40" t = "e"><v>#N/A</v></c>', b'<c r="C40" t="&#101;"><v>#N/A</v></c>', b'<c r="C40" t="e"><v><![CDATA[#N/A]]></v></c>'],
    ids=["no-reference", "spaces", "character-reference", "cdata"],
)
def test_an_error_cell_is_found_however_it_is_written(cell: bytes, size: int | None) -> None:
    xml = _sheet(b'<row r="40"><c r="A40"><v>40</v></c><c r="B40"><v>1</v></c>' + cell + b"</row>")
    assert _scan(xml, size).errors == [(40, 2, "#N/A")]


@SCANS
@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        (b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>', "spans 1,048,576 rows × 16,384 columns for 80 filled cells"),
        (b'<row r="999999"><c r="C999999"><v>1</v></c></row>', "a filled cell at C999999"),
        (b'<row r="9"><c r="ZZ9"><v>1</v></c></row>', None),  # 9 rows × 702 columns: within the floor
        (b'<row r="3000"><c r="A3000"><v>1</v></c><c><v>1</v></c><c r="AAA3000"><v>1</v></c></row>', "a filled cell at AAA3000"),
        (b'<row r="99999999"><c r="ZZZZ99999999"><v>1</v></c></row>', "has a cell at ZZZZ99999999, outside Excel's grid"),
        (b'<row r="5"><c r="XFE5"><v>1</v></c></row>', "outside Excel's grid"),
        (b'<row r="1048577"><c><v>1</v></c></row>', "has a cell at A1048577, outside Excel's grid"),
    ],
    ids=["last-cell-of-excel", "far-row", "near", "far-column", "beyond-excel", "column-beyond-excel", "row-beyond-excel"],
)
def test_a_cell_far_beyond_the_data_is_refused_before_any_reader(row: bytes, fragment: str | None, size: int | None) -> None:
    xml = _sheet(row)
    if fragment is None:
        assert _scan(xml, size).values == 3 + 38 * 2 + 1
        return
    with pytest.raises(WorkbookUnreadable) as caught:
        _scan(xml, size)
    assert fragment in str(caught.value) and "visits sheet" in str(caught.value)


def test_the_quick_scan_keeps_a_sheet_written_as_excel_writes_it_quick() -> None:
    import io

    found = workbook._scan_quickly(io.BytesIO(_sheet(b"")), "xl/worksheets/sheet1.xml", "x.xlsx", "visits")
    assert found is not None and found.values == 3 + 38 * 2 and found.starts_at_a1


def test_a_part_larger_than_a_cohort_can_need_is_refused(valid_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with zipfile.ZipFile(valid_path) as archive:
        sizes = {info.filename: info.file_size for info in archive.infolist()}
    monkeypatch.setattr(workbook, "MAX_PART_BYTES", 100)
    assert "its part xl/_rels/workbook.xml.rels would expand to" in _refused(valid_path)
    monkeypatch.setattr(workbook, "MAX_PART_BYTES", 10**6)
    monkeypatch.setattr(workbook, "MAX_SHARED_STRINGS_BYTES", sizes["xl/sharedStrings.xml"] - 1)
    assert "its part xl/sharedStrings.xml would expand to" in _refused(valid_path)
    monkeypatch.setattr(workbook, "MAX_SHARED_STRINGS_BYTES", 10**6)
    monkeypatch.setattr(workbook, "MAX_SHEET_PART_BYTES", sizes["xl/worksheets/sheet2.xml"] - 1)
    assert "its part xl/worksheets/sheet2.xml would expand to" in _refused(valid_path)


def test_fastexcel_says_nothing_about_empty_columns(valid_path: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # Unhandled, each record went to stderr: 'Could not determine dtype for column N, falling back to string'.
    import logging

    with zipfile.ZipFile(valid_path) as archive:
        visits = archive.read("xl/worksheets/sheet2.xml")
    wide = visits.replace(b"</row>", b'<c r="P1" t="inlineStr"><is><t>note</t></is></c></row>', 1)  # J1..O1 empty
    path = _copy_with(valid_path, tmp_path / "wide.xlsx", {"xl/worksheets/sheet2.xml": wide})
    with caplog.at_level(logging.DEBUG):
        assert load_workbook(path).sheets["visits"].header[-1] == "note"
    assert not [record for record in caplog.records if record.name.startswith("fastexcel")]


def test_a_large_sheet_the_quick_scan_cannot_vouch_for_is_refused_with_what_it_met() -> None:
    xml = _sheet(b'<row r="40"><c r="A40"><v>40</v></c><c r="B40"><f>A40*2</f><v>80</v></c></row>')
    with pytest.raises(WorkbookUnreadable) as caught:
        _scan(xml, workbook.EXACT_FALLBACK_BYTES + 1)
    assert "the visits sheet holds formulas, and at 32 MB it is too large to be searched cell by cell" in str(caught.value)
    assert _scan(xml, workbook.EXACT_FALLBACK_BYTES).formulas == [(40, 1, "=A40*2")]
    far = _sheet(b'<row r="999999"><c r="C999999"><v>1</v></c></row>')
    with pytest.raises(WorkbookUnreadable) as caught:
        _scan(far, workbook.EXACT_FALLBACK_BYTES + 1)
    assert "the visits sheet holds cells far beyond the data, and at 32 MB" in str(caught.value)
    near = _sheet(b'<row r="40"><c r="ZZ40"><v>1</v></c></row>')  # beyond the first pass's limits, not the grid's
    assert _scan(near, workbook.EXACT_FALLBACK_BYTES + 1).values == 3 + 38 * 2 + 1


def test_a_sheet_holding_megabytes_without_a_cell_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workbook, "_CHUNK", 1024)
    with pytest.raises(WorkbookUnreadable) as caught:
        _scan(_sheet(b"<x/>" * 5000), None)
    assert "holds more than 0 MB without a cell, which no spreadsheet program writes" in str(caught.value)
