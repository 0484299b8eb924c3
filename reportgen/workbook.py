"""Load stage: open a cohort workbook (.xlsx) safely and read its sheets as plain cell values.

The order of the steps is the point of this module:

1. Look at the file itself: missing, empty, an old .xls, a password-protected (encrypted) workbook,
   text or CSV renamed .xlsx, anything that is not a zip archive. Each is refused in one sentence.
2. Look at the zip's central directory before inflating anything: too many parts, too much declared
   content, or a compression ratio only a zip bomb has, are refused.
3. Stream every XML part the reader will parse through Python's ``zipfile``, which stops at the
   declared sizes and checks each CRC, so an archive that lies about its sizes fails here instead of
   inflating inside the reader. On the way: refuse any ``<!DOCTYPE`` (Excel never writes one; it is
   how XML entity bombs start), and find every formula cell (validation refuses them: a saved value
   may be stale, and one never calculated reads as blank) and every Excel error cell (``#DIV/0!``),
   which calamine silently returns as blank.
4. Only then read the values: a clean data sheet column by column with fastexcel (see "The fast
   path" below), every other sheet cell by cell with python-calamine. Both use calamine's parser;
   formulas are never evaluated. openpyxl is never used here.

Cells come back as calamine gives them: str, float (int for some producers), bool, date, datetime,
time or timedelta; an empty cell is ``''``. Only the sheets the contract knows are read (matched
ignoring case and surrounding spaces, as Excel itself does); ``RawWorkbook.sheets`` is keyed by the
contract's sheet name while ``SheetData.name`` keeps the name as the workbook spells it. Row 1 is the
header; ``SheetData.rows[i]`` is Excel row ``i + 2``; empty rows after the last value are dropped.
"""

from __future__ import annotations

import hashlib
import html
import posixpath
import re
import zipfile
import zlib
from pathlib import Path
from typing import IO, Any, Iterator, NamedTuple

from reportgen.contract import column_letter, load_contract
from reportgen.errors import WorkbookUnreadable
from reportgen.model import RawWorkbook, SheetData

# Limits far above any real cohort workbook (500,000 visits make about 150 MB of sheet XML) and far
# below what a bomb needs to hurt.
MAX_UNCOMPRESSED_BYTES = 500 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
# Small parts legitimately compress extremely well (an almost empty sheet); only big ones can hurt.
RATIO_CHECKED_FROM_BYTES = 1024 * 1024
MAX_MEMBERS = 5_000

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
# Office writes a password-protected .xlsx as an OLE2 container holding these streams.
_ENCRYPTION_STREAMS = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))
_CHUNK = 4 * 1024 * 1024
_HEAD = 64 * 1024

_WORKBOOK_PART = "xl/workbook.xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"

# What may come before the root element: white space, the XML declaration and other processing
# instructions, comments. Anything else there (a <!DOCTYPE, an <!ENTITY) is refused.
_PROLOG = re.compile(rb"(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.DOTALL)
_ROOT_START = re.compile(rb"<[A-Za-z_]")
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
# Plain substring tests say whether a piece of sheet XML may hold a formula (its element may carry a
# namespace prefix) or an error cell; a regex with these alternatives is a hundred times slower. The
# markers find a superset of such cells (the regexes below then decide), and the cheapest test runs
# first: a single byte is a memchr, ten times faster than a longer needle, and cell XML written by
# Excel or by libraries rarely holds an "f" (only in text) or a single quote at all. On 199 MB of
# sheet XML: 1.4 s with the eight exact markers, 0.2 s this way.
_FORMULA_GATE = b"f"
_FORMULA_MARKERS = (b"<f", b":f")
_ERROR_DOUBLE = b't="e'
_ERROR_SINGLE_GATE = b"'"
_ERROR_SINGLE = b"t='e"
# A cell holding a formula, with or without a saved value: group 1 its attributes, group 2 the
# formula text (None for a shared formula's <f .../>, which repeats another cell's formula).
_FORMULA_CELL = re.compile(rb"<(?:\w+:)?c\s([^>]*)>\s*<(?:\w+:)?f\b[^>]*?(?:/>|>([^<]*)</(?:\w+:)?f>)")
_FORMULA_SHOWN = 60
_ERROR_CELL = re.compile(rb"""<(?:\w+:)?c\s([^>]*\bt=["']e["'][^>]*)>(.*?)</(?:\w+:)?c>""", re.DOTALL)
_CELL_REF = re.compile(rb"""\br=["']([A-Z]{1,3})([0-9]{1,7})["']""")
_VALUE = re.compile(rb"<(?:\w+:)?v(?:\s[^>]*)?>([^<]*)</")
_SHEET_DATA = re.compile(rb"<(\w+:)?sheetData[\s>/]")


def load_workbook(path: Path) -> RawWorkbook:
    """Read the contract's sheets from ``path``; refuse anything unsafe or unreadable in one sentence."""
    path = Path(path)
    name = path.name
    _check_file(path)
    try:
        with zipfile.ZipFile(path) as archive:
            _check_archive(archive, name)
            wanted = _wanted_sheets(archive, name)
            findings = _scan_parts(archive, name, wanted)
    except (zipfile.BadZipFile, zlib.error, EOFError):
        raise WorkbookUnreadable(
            f"{name} is damaged or incomplete (perhaps cut off while copying); copy it again or re-save it in Excel"
        ) from None
    sheets = _read_values(path, wanted, findings)
    return RawWorkbook(path=str(path), file_name=name, sha256=_sha256(path), sheets=sheets)


# --- 1. the file itself -------------------------------------------------------------------------


def _check_file(path: Path) -> None:
    name = path.name
    encrypted = False
    if not path.exists():
        raise WorkbookUnreadable(f"{path} does not exist")
    if path.is_dir():
        raise WorkbookUnreadable(f"{path} is a folder, not a workbook file")
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD)
            if head.startswith(_OLE2_MAGIC):
                handle.seek(0)
                encrypted = _contains_any(handle, _ENCRYPTION_STREAMS)
    except OSError as error:
        raise WorkbookUnreadable(f"{path} cannot be opened ({error.strerror or error})") from None
    if not head:
        raise WorkbookUnreadable(f"{name} is empty (0 bytes), so it is not a workbook")
    if head.startswith(_OLE2_MAGIC):
        if encrypted:
            raise WorkbookUnreadable(
                f"{name} is password-protected; open it in Excel, remove the password (File > Info > "
                "Protect Workbook > Encrypt with Password) and save it again as .xlsx"
            )
        raise WorkbookUnreadable(
            f"{name} is an old-format Excel (.xls) or other Office file; open it in Excel and save it as .xlsx (Excel Workbook)"
        )
    if not head.startswith(_ZIP_MAGICS):
        kind = "a text or CSV file" if _looks_like_text(head) else "not an Excel workbook"
        raise WorkbookUnreadable(f"{name} is {kind}, not an .xlsx workbook; open it in Excel and save it as .xlsx (Excel Workbook)")


def _contains_any(handle: IO[bytes], needles: tuple[bytes, ...]) -> bool:
    """Search a whole file in chunks; chunks overlap so a needle across a boundary is still found."""
    overlap = max(len(needle) for needle in needles) - 1
    tail = b""
    while chunk := handle.read(_CHUNK):
        window = tail + chunk
        if any(needle in window for needle in needles):
            return True
        tail = window[-overlap:]
    return False


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head[:4096]:
        return head.startswith((b"\xff\xfe", b"\xfe\xff"))  # UTF-16 text has NULs but a byte-order mark
    try:
        head[:4096].decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the 4096th byte is still text.
        return error.start >= 4090
    return True


# --- 2. the zip directory -----------------------------------------------------------------------


def _check_archive(archive: zipfile.ZipFile, name: str) -> None:
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise WorkbookUnreadable(f"{name} was refused: it holds {len(members):,} parts, far more than any workbook")
    total = sum(member.file_size for member in members)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise WorkbookUnreadable(
            f"{name} was refused: its contents would expand to {total // 2**20:,} MB, more than the "
            f"{MAX_UNCOMPRESSED_BYTES // 2**20} MB a cohort workbook can need (a possible zip bomb)"
        )
    for member in members:
        if member.file_size >= RATIO_CHECKED_FROM_BYTES:
            ratio = member.file_size / max(member.compress_size, 1)
            if ratio > MAX_COMPRESSION_RATIO:
                raise WorkbookUnreadable(
                    f"{name} was refused: its part {member.filename} is compressed {ratio:,.0f}-fold, "
                    "which only a zip bomb does"
                )
    names = set(archive.namelist())
    if _WORKBOOK_PART not in names:
        if "content.xml" in names:
            kind = "an OpenDocument spreadsheet (.ods)"
        elif "xl/workbook.bin" in names:
            kind = "a binary Excel workbook (.xlsb)"
        else:
            kind = "a zip archive but not an Excel workbook"
        raise WorkbookUnreadable(f"{name} is {kind}; open it in Excel and save it as .xlsx (Excel Workbook)")


# --- 3. the XML parts ---------------------------------------------------------------------------


def _wanted_sheets(archive: zipfile.ZipFile, name: str) -> dict[str, tuple[str, str]]:
    """Contract sheet name -> (sheet name as in the workbook, zip member of its XML)."""
    from defusedxml import ElementTree

    workbook_xml = _read_small_part(archive, _WORKBOOK_PART, name)
    rels_xml = _read_small_part(archive, _WORKBOOK_RELS, name)
    targets: dict[str, str] = {}
    for element in ElementTree.fromstring(rels_xml).iter():
        if _local(element.tag) == "Relationship" and element.get("Id") and element.get("Target"):
            targets[element.get("Id")] = element.get("Target")
    found: list[tuple[str, str]] = []
    for element in ElementTree.fromstring(workbook_xml).iter():
        if _local(element.tag) != "sheet":
            continue
        relation = next((value for key, value in element.attrib.items() if _local(key) == "id"), None)
        if relation in targets and element.get("name") is not None:
            found.append((element.get("name"), _part_path(targets[relation])))

    wanted: dict[str, tuple[str, str]] = {}
    for contract_name in load_contract().sheet_names:
        # Excel treats sheet names case-insensitively; prefer an exact match when both exist.
        exact = [item for item in found if item[0] == contract_name]
        loose = [item for item in found if item[0].strip().casefold() == contract_name.casefold()]
        match = (exact or loose or [None])[0]
        if match is not None:
            wanted[contract_name] = match
    return wanted


def _read_small_part(archive: zipfile.ZipFile, member: str, name: str) -> bytes:
    try:
        data = archive.read(member)
    except KeyError:
        raise WorkbookUnreadable(f"{name} is not a complete Excel workbook (the part {member} is missing)") from None
    _refuse_doctype(data[:_HEAD], member, name)
    return data


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _part_path(target: str) -> str:
    # Relationship targets are relative to xl/ unless they start with '/'.
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join("xl", target))


def _refuse_doctype(head: bytes, member: str, name: str) -> None:
    if head.startswith(_BOMS[1:]):
        head = head.decode("utf-16", "replace").encode("utf-8")
    elif head.startswith(_BOMS[0]):
        head = head[len(_BOMS[0]) :]
    # The prolog is skipped item by item: a comment holding '<x' must not pass for the root element.
    # An empty part is harmless; a prolog longer than the head is no Excel part: refuse, not read on.
    rest = head[_PROLOG.match(head).end() :]
    if _ROOT_START.match(rest) or (not rest and len(head) < _HEAD):
        return
    if rest and not rest.startswith(b"<!"):
        raise WorkbookUnreadable(f"{name} is damaged: its part {member} is not well-formed XML; re-save the workbook in Excel")
    raise WorkbookUnreadable(
        f"{name} was refused: its part {member} declares an XML document type, which Excel never "
        "writes and which can hide an entity bomb"
    )


class _Findings(NamedTuple):
    """What the scan of one sheet's XML found."""

    formulas: list[tuple[int, int, str]]  # (excel_row, column_index, formula text) of every formula cell
    errors: list[tuple[int, int, str]]  # (excel_row, column_index, error text) of every Excel error cell
    starts_at_a1: bool  # the first cell is a filled A1, so the sheet's range starts there
    values: int  # cells that may hold a value (at least every one that does), header included


def _scan_parts(archive: zipfile.ZipFile, name: str, wanted: dict[str, tuple[str, str]]) -> dict[str, _Findings]:
    """Stream every XML part the reader will parse; return per wanted sheet what the scan found."""
    wanted_parts = {part: sheet for sheet, (_, part) in wanted.items()}
    all_sheet_parts = _all_worksheet_parts(archive)
    findings: dict[str, _Findings] = {}
    for member in archive.infolist():
        if not member.filename.endswith((".xml", ".rels")) or member.filename in {_WORKBOOK_PART, _WORKBOOK_RELS}:
            continue
        if member.filename in all_sheet_parts and member.filename not in wanted_parts:
            continue  # other sheets are ignored and never parsed
        with archive.open(member) as stream:
            if member.filename in wanted_parts:
                findings[wanted_parts[member.filename]] = _scan_sheet(stream, member.filename, name)
            else:
                _drain(stream, member.filename, name)
    return findings


def _all_worksheet_parts(archive: zipfile.ZipFile) -> set[str]:
    return {item for item in archive.namelist() if item.startswith("xl/worksheets/") and item.endswith(".xml")}


def _drain(stream: IO[bytes], member: str, name: str) -> None:
    _refuse_doctype(stream.read(_HEAD), member, name)
    while stream.read(_CHUNK):
        pass


def _scan_sheet(stream: IO[bytes], member: str, name: str) -> _Findings:
    formulas: list[tuple[int, int, str]] = []
    errors: list[tuple[int, int, str]] = []
    buffer = stream.read(_CHUNK)
    _refuse_doctype(buffer[:_HEAD], member, name)
    prefix = _SHEET_DATA.search(buffer)
    namespace = (prefix.group(1) or b"") if prefix else b""
    cell_open = b"<" + namespace + b"c "
    cell_close = b"</" + namespace + b"c>"
    starts_at_a1 = _filled_a1_first(buffer, prefix.end() if prefix else 0, cell_open, cell_close)
    # A cell with a value (<v> or an inline string) has content, so it ends with </c>; an empty cell is
    # usually <c .../>. Counting </c> can only overcount values (an empty <c ...></c>), and an
    # overcount sends the sheet to the cell-by-cell reader, so one pass over the XML is enough.
    values = 0
    for complete in _complete_cells(stream, buffer, cell_open):
        values += complete.count(cell_close)
        # Almost every sheet has neither formulas nor errors: substring tests skip the piece.
        if _FORMULA_GATE in complete and (_FORMULA_MARKERS[0] in complete or _FORMULA_MARKERS[1] in complete):
            formulas.extend(_formula_cells(complete))
        if _ERROR_DOUBLE in complete or (_ERROR_SINGLE_GATE in complete and _ERROR_SINGLE in complete):
            errors.extend(_error_cells(complete))
    return _Findings(formulas, errors, starts_at_a1, values)


def _filled_a1_first(xml: bytes, start: int, cell_open: bytes, cell_close: bytes) -> bool:
    """Whether the sheet's first cell is A1 and holds a value, so its data range starts at A1."""
    first = xml.find(cell_open, start)
    tag_end = xml.find(b">", first)
    if first < 0 or tag_end < 0 or xml[tag_end - 1 : tag_end] == b"/":  # none, cut off, or an empty <c .../>
        return False
    reference = _CELL_REF.search(xml, first, tag_end)
    if reference is None or reference.group(1) != b"A" or reference.group(2) != b"1":
        return False
    end = xml.find(cell_close, tag_end)
    content = xml[tag_end:end] if end > 0 else b""
    return _VALUE.search(content) is not None or b"<is>" in content or b":is>" in content


def _complete_cells(stream: IO[bytes], buffer: bytes, cell_open: bytes) -> Iterator[bytes]:
    """Yield pieces of the sheet XML that hold only whole cells (cut just before a cell starts)."""
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            yield buffer
            return
        buffer += chunk
        cut = buffer.rfind(cell_open)
        if cut > 0:
            yield buffer[:cut]
            buffer = buffer[cut:]


def _formula_cells(xml: bytes) -> Iterator[tuple[int, int, str]]:
    """(Excel row, column index, '=formula') of every formula cell, saved value or not."""
    for cell in _FORMULA_CELL.finditer(xml):
        position = _position(cell.group(1))
        if position is not None:
            yield (*position, _formula_text(cell.group(2)))


def _formula_text(raw: bytes | None) -> str:
    if not raw:
        return "a formula"  # a shared formula: the text is written once, in another cell
    text = "=" + html.unescape(raw.decode("utf-8", "replace"))
    return text if len(text) <= _FORMULA_SHOWN else text[: _FORMULA_SHOWN - 1] + "…"


def _error_cells(xml: bytes) -> Iterator[tuple[int, int, str]]:
    for cell in _ERROR_CELL.finditer(xml):
        position = _position(cell.group(1))
        value = _VALUE.search(cell.group(2))
        if position is not None and value is not None and value.group(1):
            yield (*position, value.group(1).decode("utf-8", "replace"))


def _position(attributes: bytes) -> tuple[int, int] | None:
    """(Excel row, column index) of a cell; None without a reference (calamine then places it by order)."""
    reference = _CELL_REF.search(attributes)
    if reference is None:
        return None
    return int(reference.group(2)), _column_index(reference.group(1).decode())


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + (ord(letter) - ord("A") + 1)
    return index - 1


# --- 4. the values ------------------------------------------------------------------------------


def _read_values(path: Path, wanted: dict[str, tuple[str, str]], findings: dict[str, _Findings]) -> dict[str, SheetData]:
    from python_calamine import CalamineError, CalamineWorkbook

    sheets = _read_columns(path, wanted, findings)
    rest = {name: where for name, where in wanted.items() if name not in sheets}
    # Calamine opens the workbook (and reads its shared strings again) only if a sheet is left for it.
    if rest:
        try:
            with CalamineWorkbook.from_path(str(path)) as book:
                for contract_name, (sheet_name, _) in rest.items():
                    cells = book.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
                    found = findings.get(contract_name)
                    formulas, errors = (found.formulas, found.errors) if found else ([], [])
                    sheets[contract_name] = _sheet_data(sheet_name, cells, formulas, errors)
        except CalamineError as error:
            raise WorkbookUnreadable(f"{path.name} could not be read as an Excel workbook ({error})") from None
    return {name: sheets[name] for name in wanted}


# The fast path. A large sheet read cell by cell becomes millions of Python objects (8 s for 500,000
# visits); read column by column into Arrow arrays by fastexcel (the same calamine parser, in Rust) it
# takes a third of that. It is used only where it gives exactly what the cell-by-cell reading gives,
# and every other sheet is read cell by cell:
# - a data sheet (the study sheet is small) without formulas or error cells, whose first cell is a
#   filled A1, so row 1 is the header and item i of a column is Excel row i + 2;
# - whose row 1 names only contract columns, each once (fastexcel renames repeated and blank names);
# - where every column holds one kind of cell: all numbers, all text, or nothing ("strict" coercion
#   over every row, so one text cell in a number column sends the sheet to the cell-by-cell reader,
#   which keeps that cell as text for validation to report).
_FAST_FORMATS = {"g": "number", "l": "number", "u": "text", "n": "blank"}  # Arrow formats accepted


def _read_columns(path: Path, wanted: dict[str, tuple[str, str]], findings: dict[str, _Findings]) -> dict[str, SheetData]:
    """The sheets fastexcel can read exactly (see above), column by column; the others are left out."""
    contract = load_contract()
    eligible = {
        rule.name: frozenset(column.name for column in rule.columns)
        for rule in contract.sheets
        if rule.name in wanted and _clean(findings.get(rule.name))
    }
    if not eligible:
        return {}
    import fastexcel
    import nanoarrow

    sheets: dict[str, SheetData] = {}
    try:
        reader = fastexcel.read_excel(str(path))
    except fastexcel.FastExcelError:
        return sheets
    for contract_name, known in eligible.items():
        sheet_name = wanted[contract_name][0]
        try:
            loaded = reader.load_sheet(sheet_name, header_row=0, dtype_coercion="strict", schema_sample_rows=None)
        except fastexcel.FastExcelError:
            continue  # e.g. a column mixing numbers and text: this sheet is read cell by cell
        data = _columns_sheet(sheet_name, nanoarrow.c_array(loaded), known, findings[contract_name].values)
        if data is not None:
            sheets[contract_name] = data
    return sheets


def _clean(found: _Findings | None) -> bool:
    return found is not None and found.starts_at_a1 and not found.formulas and not found.errors


def _columns_sheet(sheet_name: str, array: Any, known: frozenset[str], values: int) -> SheetData | None:
    """``array`` (nanoarrow, one child per column) as SheetData, or None unless it is every cell exactly.

    ``values`` counts the sheet's cells with content in its XML. fastexcel reads some texts as blank
    ('', 'n/a', 'NA', 'null', '#N/A' and others) and 'nan' as a NaN number: a clinician's 'n/a' in a
    number column must be reported, not dropped, so any difference between the cells with a value in
    the XML and those in the columns (or any NaN among the numbers) sends the sheet to the other reader.
    """
    import numpy as np

    children = list(array.schema.children)
    header = tuple(child.name for child in children)
    if not header or len(set(header)) != len(header) or not set(header) <= known:
        return None
    if any(child.format not in _FAST_FORMATS for child in children) or array.offset:
        return None
    views = [array.child(index).view() for index in range(len(children))]
    kinds = [_FAST_FORMATS[child.format] for child in children]
    filled = sum(view.length - view.null_count for view, kind in zip(views, kinds) if kind != "blank")
    if filled + len(header) != values:
        return None
    columns = tuple(_numpy_column(view, child.format, array.length) for view, child in zip(views, children))
    for view, kind, column in zip(views, kinds, columns):
        if kind == "number" and np.count_nonzero(np.isnan(column)) != view.null_count:
            return None
    return SheetData(name=sheet_name, header=header, rows=(), columns=columns)


def _numpy_column(child: Any, arrow_format: str, rows: int) -> Any:
    """One Arrow column (a nanoarrow array view) as numpy: float64 with NaN for blank, or str objects
    with None for blank."""
    import numpy as np

    kind = _FAST_FORMATS[arrow_format]
    if kind == "blank":
        return np.full(rows, None, dtype=object)
    start = child.offset
    valid = np.ones(rows, dtype=bool)
    if child.null_count:
        bits = np.unpackbits(np.frombuffer(child.buffer(0), dtype=np.uint8), bitorder="little")
        valid = bits[start : start + rows].astype(bool)
    if kind == "number":
        values = np.frombuffer(child.buffer(1), dtype=np.int64 if arrow_format == "l" else np.float64)
        column = values[start : start + rows].astype(np.float64)
        column[~valid] = np.nan
        return column
    # Text: one decode of the whole character buffer, then slices (a Python object per cell is the cost).
    offsets = np.frombuffer(child.buffer(1), dtype=np.int32)[start : start + rows + 1].tolist()
    data = bytes(child.buffer(2))
    if data.isascii():
        text = data.decode("ascii")
        strings = [text[begin:end] for begin, end in zip(offsets[:-1], offsets[1:])]
    else:
        strings = [data[begin:end].decode("utf-8") for begin, end in zip(offsets[:-1], offsets[1:])]
    column = np.array(strings, dtype=object)
    column[~valid] = None
    return column


def _sheet_data(
    name: str, cells: list[list[Any]], formulas: list[tuple[int, int, str]], errors: list[tuple[int, int, str]]
) -> SheetData:
    while cells and all(value == "" for value in cells[-1]):
        cells.pop()
    if not cells:
        return SheetData(name=name, header=(), rows=())
    header = tuple(_header_text(value) for value in cells[0])

    def column_name(index: int) -> str:
        named = header[index] if index < len(header) else ""
        return named or f"column {column_letter(index)}"

    return SheetData(
        name=name,
        header=header,
        rows=tuple(map(tuple, cells[1:])),
        formulas=tuple((row, column_name(column), text) for row, column, text in formulas if row >= 2),
        error_cells=tuple((row, column_name(column), text) for row, column, text in errors if row >= 2),
    )


def _header_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
