"""Load stage: open a cohort workbook (.xlsx) safely and read its sheets as plain cell values.

The order of the steps is the point of this module:

1. Look at the file itself: missing, empty, an old .xls, a password-protected (encrypted) workbook,
   text or CSV renamed .xlsx, anything that is not a zip archive. Each is refused in one sentence.
2. Look at the zip's central directory before inflating anything: too many parts, too much declared
   content, or a compression ratio only a zip bomb has, are refused.
3. Stream every XML part a reader may parse through Python's ``zipfile``, which stops at the
   declared sizes and checks each CRC, so an archive that lies about its sizes fails here instead of
   inflating inside the reader. Which part is a worksheet is what the workbook's relationships say,
   whatever its file name. Each part is bounded by what a cohort can need, so an element bomb
   within the compression ratio is refused unread. On the way: refuse any ``<!DOCTYPE`` (Excel
   never writes one; it is how XML entity bombs start), find every formula cell (validation refuses
   them: a saved value may be stale, and one never calculated reads as blank) and every Excel error
   cell (``#DIV/0!``), which calamine silently returns as blank, however they are written; and
   refuse a cell outside Excel's grid or far beyond the data, for which both readers would lay out a
   dense grid of billions of cells (see ``_check_grid``).
4. Only then read the values: a clean data sheet column by column with fastexcel (see "The fast
   path" below), every other sheet cell by cell with python-calamine. Both use calamine's parser;
   formulas are never evaluated. openpyxl is never used here. Row 1 may not hold a column name
   longer than MAX_HEADER_CHARS, nor more than MAX_EXTRA_COLUMNS names the contract does not know.

Cells come back as calamine gives them: str, float (int for some producers), bool, date, datetime,
time or timedelta; an empty cell is ``''``. Only the sheets the contract knows are read (matched
ignoring case and surrounding spaces, as Excel itself does); ``RawWorkbook.sheets`` is keyed by the
contract's sheet name while ``SheetData.name`` keeps the name as the workbook spells it. Row 1 is the
header; ``SheetData.rows[i]`` is Excel row ``i + 2``; empty rows after the last value are dropped.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import posixpath
import pyexpat
import re
import threading
import zipfile
import zlib
from pathlib import Path
from queue import Full, Queue
from typing import IO, Any, Callable, Iterator, NamedTuple

from reportgen.contract import column_letter, load_contract
from reportgen.errors import WorkbookUnreadable
from reportgen.model import RawWorkbook, SheetData
from reportgen.prose import clipped

# Limits far above any real cohort workbook (500,000 visits make about 150 MB of sheet XML) and far
# below what a bomb needs to hurt.
MAX_UNCOMPRESSED_BYTES = 500 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
# Small parts legitimately compress extremely well (an almost empty sheet); only big ones can hurt.
RATIO_CHECKED_FROM_BYTES = 1024 * 1024
MAX_MEMBERS = 5_000
# Each part the readers parse is bounded by what the largest cohort needs (100,000 patients × 5 visits
# make a 152 MB visits sheet; shared strings hold each distinct text once; workbook.xml, styles and the
# like are kilobytes), so an element bomb within the compression ratio (472 MB of '<x/>' in 2.8 MB)
# is refused before anything parses it.
MAX_SHEET_PART_BYTES = 256 * 1024 * 1024
MAX_SHARED_STRINGS_BYTES = 32 * 1024 * 1024
MAX_PART_BYTES = 4 * 1024 * 1024
# Excel's grid, and how far beyond its data a sheet's cells may reach (see _check_grid).
EXCEL_ROWS = 1_048_576
EXCEL_COLUMNS = 16_384
GRID_FLOOR = 1_000_000
GRID_PER_VALUE = 4
# Sheets up to this size are scanned exactly by an XML parser; larger ones quickly (see _scan_sheet).
EXACT_SCAN_BYTES = 8 * 1024 * 1024
# A larger sheet the quick scan cannot vouch for is read by the parser up to this size (about 2 s);
# beyond it, it is refused with what the quick scan met.
EXACT_FALLBACK_BYTES = 32 * 1024 * 1024
# Row 1: the longest column name, and how many columns beyond the contract's, a sheet may have.
MAX_HEADER_CHARS = 200
MAX_EXTRA_COLUMNS = 200

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
# Office writes a password-protected .xlsx as an OLE2 container holding these streams.
_ENCRYPTION_STREAMS = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))
_CHUNK = 4 * 1024 * 1024
_HEAD = 64 * 1024

_WORKBOOK_PART = "xl/workbook.xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
_SHARED_STRINGS = "xl/sharedStrings.xml"

# What may come before the root element: white space, the XML declaration and other processing
# instructions, comments. Anything else there (a <!DOCTYPE, an <!ENTITY) is refused.
_PROLOG = re.compile(rb"(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.DOTALL)
_ROOT_START = re.compile(rb"<[A-Za-z_]")
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")

def load_workbook(path: Path) -> RawWorkbook:
    """Read the contract's sheets from ``path``; refuse anything unsafe or unreadable in one sentence."""
    path = Path(path)
    name = path.name
    _check_file(path)
    try:
        with zipfile.ZipFile(path) as archive:
            _check_archive(archive, name)
            parts = _workbook_parts(archive, name)
            findings = _scan_parts(archive, name, parts)
    except (zipfile.BadZipFile, zlib.error, EOFError):
        raise WorkbookUnreadable(
            f"{name} is damaged or incomplete (perhaps cut off while copying); copy it again or re-save it in Excel"
        ) from None
    sheets = _read_values(path, parts.wanted, findings)
    _check_headers(sheets, name)
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


class _Parts(NamedTuple):
    """What the workbook's relationships say its parts are."""

    wanted: dict[str, tuple[str, str]]  # contract sheet name -> (sheet name as in the workbook, zip member)
    worksheets: frozenset[str]  # every member a relationship calls a worksheet, whatever its file name
    shared_strings: frozenset[str]
    targets: frozenset[str]  # every member the workbook's relationships point at (the readers may parse them)


def _workbook_parts(archive: zipfile.ZipFile, name: str) -> _Parts:
    """Read xl/workbook.xml and its relationships (streamed: no element tree is built)."""
    relations: dict[str, tuple[str, str]] = {}  # Id -> (member, relationship type)

    def relationship(tag: str, attributes: dict[str, str]) -> None:
        if _local(tag) == "Relationship" and attributes.get("Id") and attributes.get("Target"):
            relations[attributes["Id"]] = (_part_path(attributes["Target"]), attributes.get("Type", ""))

    found: list[tuple[str, str]] = []  # (sheet name, relationship id)

    def sheet(tag: str, attributes: dict[str, str]) -> None:
        if _local(tag) == "sheet" and attributes.get("name") is not None:
            relation = next((value for key, value in attributes.items() if _local(key) == "id"), None)
            if relation is not None:
                found.append((attributes["name"], relation))

    _parse_part(archive, _WORKBOOK_RELS, name, relationship)
    _parse_part(archive, _WORKBOOK_PART, name, sheet)
    listed = [(sheet_name, relations[relation][0]) for sheet_name, relation in found if relation in relations]
    wanted: dict[str, tuple[str, str]] = {}
    for contract_name in load_contract().sheet_names:
        # Excel treats sheet names case-insensitively; prefer an exact match when both exist.
        exact = [item for item in listed if item[0] == contract_name]
        loose = [item for item in listed if item[0].strip().casefold() == contract_name.casefold()]
        match = (exact or loose or [None])[0]
        if match is not None:
            wanted[contract_name] = match
    of_type = lambda suffix: frozenset(member for member, kind in relations.values() if kind.endswith(suffix))  # noqa: E731
    return _Parts(
        wanted=wanted,
        worksheets=of_type("/worksheet") | {member for _, member in listed},
        shared_strings=of_type("/sharedStrings") | {_SHARED_STRINGS},
        targets=frozenset(member for member, _ in relations.values()),
    )


def _parse_part(archive: zipfile.ZipFile, member: str, name: str, start: Callable[[str, dict[str, str]], None]) -> None:
    try:
        info = archive.getinfo(member)
    except KeyError:
        raise WorkbookUnreadable(f"{name} is not a complete Excel workbook (the part {member} is missing)") from None
    _check_part_size(info, MAX_PART_BYTES, name)
    with archive.open(info) as stream:
        head = stream.read(_HEAD)
        _refuse_doctype(head, member, name)
        parser = _xml_parser(member, name)
        parser.StartElementHandler = start
        _feed(parser, stream, head, member, name)


def _check_part_size(info: zipfile.ZipInfo, limit: int, name: str) -> None:
    if info.file_size > limit:
        raise WorkbookUnreadable(
            f"{name} was refused: its part {info.filename} would expand to {info.file_size / 2**20:,.1f} MB, more than "
            f"the {limit // 2**20} MB such a part of a cohort workbook can need (a possible zip bomb)"
        )


def _xml_parser(member: str, name: str) -> Any:
    """An expat parser that refuses a document type or entity declaration the moment it meets one."""
    parser = pyexpat.ParserCreate()
    parser.buffer_text = True

    def refuse(*_: object) -> None:
        raise WorkbookUnreadable(_doctype_sentence(member, name))

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)
    return parser


def _feed(parser: Any, stream: IO[bytes], first: bytes, member: str, name: str) -> None:
    try:
        parser.Parse(first, False)
        while chunk := stream.read(_CHUNK):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except pyexpat.ExpatError:
        raise WorkbookUnreadable(_not_xml_sentence(member, name)) from None


def _not_xml_sentence(member: str, name: str) -> str:
    return f"{name} is damaged: its part {member} is not well-formed XML; re-save the workbook in Excel"


def _doctype_sentence(member: str, name: str) -> str:
    return (
        f"{name} was refused: its part {member} declares an XML document type, which Excel never "
        "writes and which can hide an entity bomb"
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


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
        raise WorkbookUnreadable(_not_xml_sentence(member, name))
    raise WorkbookUnreadable(_doctype_sentence(member, name))


class _Findings(NamedTuple):
    """What the scan of one sheet's XML found."""

    formulas: list[tuple[int, int, str]]  # (excel_row, column_index, formula text) of every formula cell
    errors: list[tuple[int, int, str]]  # (excel_row, column_index, error text) of every Excel error cell
    starts_at_a1: bool  # the first cell is a filled A1, so the sheet's range starts there
    values: int  # cells that may hold a value (at least every one that does), header included


def _scan_parts(archive: zipfile.ZipFile, name: str, parts: _Parts) -> dict[str, _Findings]:
    """Stream every part a reader may parse; return per wanted sheet what the scan found.

    The parts are found by what the relationships say they are, not by their file names: a worksheet
    renamed sheet1.dat is still scanned as one, and other sheets (never parsed) are skipped.
    """
    wanted_parts = {part: (sheet, shown) for sheet, (shown, part) in parts.wanted.items()}
    findings: dict[str, _Findings] = {}
    for member in archive.infolist():
        parsed = member.filename.lower().endswith((".xml", ".rels")) or member.filename in parts.targets
        if not parsed or member.filename in {_WORKBOOK_PART, _WORKBOOK_RELS}:
            continue
        if member.filename in parts.worksheets and member.filename not in wanted_parts:
            continue  # other sheets are ignored and never parsed
        if member.filename in wanted_parts:
            _check_part_size(member, MAX_SHEET_PART_BYTES, name)
        elif member.filename in parts.shared_strings:
            _check_part_size(member, MAX_SHARED_STRINGS_BYTES, name)
        else:
            _check_part_size(member, MAX_PART_BYTES, name)
        with archive.open(member) as stream:
            if member.filename in wanted_parts:
                sheet, shown = wanted_parts[member.filename]
                findings[sheet] = _scan_sheet(stream, member.filename, name, shown, member.file_size)
            else:
                _drain(stream, member.filename, name)
    return findings


def _drain(stream: IO[bytes], member: str, name: str) -> None:
    _refuse_doctype(stream.read(_HEAD), member, name)
    while stream.read(_CHUNK):
        pass


# A sheet is scanned one of two ways, with the same results:
# - exactly, by an XML parser (expat, streamed), which places every cell as the readers do (by its
#   reference, or after the previous cell when it has none) and sees formulas and error cells however
#   they are written (attributes in any order or quoting, comments, CDATA, namespace prefixes);
# - quickly, by substring tests over the raw XML, for large sheets written the way every spreadsheet
#   program writes them. Python calls per element cost 8 s for the 100,000-patient cohort, so the
#   quick scan only counts and tests, and hands the sheet to the exact one at the first sign of
#   anything else (see _scan_quickly).
def _scan_sheet(stream: IO[bytes], member: str, name: str, sheet: str | None = None, size: int | None = None) -> _Findings:
    sheet = sheet or member
    if size is not None and size <= EXACT_SCAN_BYTES:
        return _scan_exactly(stream, member, name, sheet)
    found = _scan_quickly(stream, member, name, sheet)
    if found == _GRID_UNPROVEN:  # a cell beyond the limits: every reference read, still without a parser
        stream.seek(0)
        found = _scan_quickly(stream, member, name, sheet, every_reference=True)
    if isinstance(found, _Findings):
        return found
    if size is not None and size > EXACT_FALLBACK_BYTES:
        raise WorkbookUnreadable(
            f"{name} was refused: the {sheet} sheet holds {found}, and at {size / 2**20:,.0f} MB it is too large to be "
            f"searched cell by cell (reportgen does that up to {EXACT_FALLBACK_BYTES // 2**20} MB); "
            "paste its values into a new workbook (Paste Special > Values) and try again"
        )
    stream.seek(0)
    return _scan_exactly(stream, member, name, sheet)


class _ExactScan:
    """Expat handlers collecting what _Findings holds, and the farthest filled cell."""

    def __init__(self, name: str, sheet: str) -> None:
        self.name, self.sheet = name, sheet
        self.formulas: list[tuple[int, int, str]] = []
        self.errors: list[tuple[int, int, str]] = []
        self.values = 0
        self.first: bool | None = None  # whether the first cell is a filled A1, once a cell was seen
        self.in_data = False
        self.row, self.column = 0, -1
        self.farthest = (0, -1)  # (max row, max column index) over filled cells
        self.cell: tuple[int, int, bool] | None = None  # (row, column, error) of the open cell
        self.filled = False
        self.formula: list[str] | None = None
        self.value: list[str] | None = None
        self.collecting: list[str] | None = None

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        local = _local(tag)
        if local == "sheetData":
            self.in_data = True
        elif not self.in_data:
            return
        elif local == "row":
            number = attributes.get("r", "").strip()
            self.row = int(number) if number.isdigit() else self.row + 1
            self.column = -1
        elif local == "c":
            reference = next((value for key, value in attributes.items() if _local(key) == "r"), None)
            if reference is None:
                row, column = self.row, self.column + 1
            else:
                row, column = _cell_position(reference, self.name, self.sheet)
            if row > EXCEL_ROWS or column >= EXCEL_COLUMNS:
                raise WorkbookUnreadable(_outside_grid_sentence(self.name, self.sheet, column_letter(column) + str(row)))
            self.row, self.column = row, column
            kind = next((value for key, value in attributes.items() if _local(key) == "t"), None)
            self.cell = (row, column, kind == "e")
            self.filled, self.formula, self.value = False, None, None
        elif self.cell is not None:
            if local == "f":
                self.formula = self.collecting = []
                self.filled = True
            elif local == "v":
                self.value = self.collecting = []
                self.filled = True
            elif local == "is":
                self.filled = True

    def end(self, tag: str) -> None:
        local = _local(tag)
        if local == "sheetData":
            self.in_data = False
        elif local in ("f", "v"):
            self.collecting = None
        elif local == "c" and self.cell is not None:
            row, column, error = self.cell
            if self.first is None:
                self.first = row == 1 and column == 0 and self.filled
            if self.filled:
                self.values += 1
                self.farthest = (max(self.farthest[0], row), max(self.farthest[1], column))
            if self.formula is not None:
                self.formulas.append((row, column, _formula_text("".join(self.formula))))
            if error:
                self.errors.append((row, column, "".join(self.value or []) or "#ERROR"))
            self.cell = None

    def text(self, data: str) -> None:
        if self.collecting is not None:
            self.collecting.append(data)


def _scan_exactly(stream: IO[bytes], member: str, name: str, sheet: str) -> _Findings:
    head = stream.read(_HEAD)
    _refuse_doctype(head, member, name)
    scan = _ExactScan(name, sheet)
    parser = _xml_parser(member, name)
    parser.StartElementHandler = scan.start
    parser.EndElementHandler = scan.end
    parser.CharacterDataHandler = scan.text
    _feed(parser, stream, head, member, name)
    _check_grid(scan.farthest, scan.values, name, sheet)
    return _Findings(scan.formulas, scan.errors, bool(scan.first), scan.values)


def _cell_position(reference: str, name: str, sheet: str) -> tuple[int, int]:
    """(Excel row, column index) of a cell reference such as 'C3' (any case, as the readers accept)."""
    match = _REFERENCE.fullmatch(reference.strip())
    if match is None:
        raise WorkbookUnreadable(
            f"{name} is damaged: a cell of the {sheet} sheet has the reference {reference[:20]!r}, which names no cell; "
            "re-save the workbook in Excel"
        )
    letters, digits = match.groups()
    if len(letters) > 3 or len(digits) > 7:
        raise WorkbookUnreadable(_outside_grid_sentence(name, sheet, reference.strip()[:20]))
    return int(digits), _column_index(letters.upper())


def _outside_grid_sentence(name: str, sheet: str, reference: str) -> str:
    last = column_letter(EXCEL_COLUMNS - 1) + str(EXCEL_ROWS)
    return (
        f"{name} was refused: the {sheet} sheet has a cell at {reference}, outside Excel's grid (which ends at "
        f"{last}); no spreadsheet program writes that, so the file was made or altered by something else"
    )


def _check_grid(farthest: tuple[int, int], values: int, name: str, sheet: str) -> None:
    """Refuse a sheet whose farthest filled cell lies far beyond its data.

    Both readers lay a sheet out as a dense grid from A1 to its farthest filled cell, so one cell at
    XFD1048576 asks for 17 billion cells (an 8 KB file made the process abort). Rows × columns may be
    at most GRID_PER_VALUE times the filled cells, or GRID_FLOOR, whichever is more.
    """
    rows, columns = farthest[0], farthest[1] + 1
    allowed = max(GRID_FLOOR, GRID_PER_VALUE * values)
    if rows * columns > allowed:
        raise WorkbookUnreadable(
            f"{name} was refused: the {sheet} sheet has a filled cell at {column_letter(columns - 1)}{rows}, so it spans "
            f"{rows:,} rows × {columns:,} columns for {values:,} filled cells (at most {allowed:,} cells are read); "
            "delete whatever lies far below or to the right of the data"
        )


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + (ord(letter) - ord("A") + 1)
    return index - 1


def _formula_text(raw: str) -> str:
    if not raw:
        return "a formula"  # a shared formula: the text is written once, in another cell
    text = "=" + raw
    return clipped(text, _FORMULA_SHOWN)


def _cells_of(xml: bytes) -> _ExactScan:
    """The exact scan of a piece of sheet XML (cells, or rows of cells): for tests and small pieces."""
    scan = _ExactScan("piece", "piece")
    parser = _xml_parser("piece", "piece")
    parser.StartElementHandler = scan.start
    parser.EndElementHandler = scan.end
    parser.CharacterDataHandler = scan.text
    parser.Parse(b"<worksheet><sheetData>" + xml + b"</sheetData></worksheet>", True)
    return scan


def _formula_cells(xml: bytes) -> list[tuple[int, int, str]]:
    """(Excel row, column index, '=formula') of every formula cell in a piece of sheet XML."""
    return _cells_of(xml).formulas


def _error_cells(xml: bytes) -> list[tuple[int, int, str]]:
    return _cells_of(xml).errors


# The quick scan. Every test is a substring search (memchr/memmem speed) or one regular expression
# with a literal start; together they prove that the sheet is written as spreadsheet programs write
# it, and otherwise the sheet goes to the exact scan:
# - no formula ('<f' or ':f'; the single byte 'f' first, as cell XML rarely holds one), no error value
#   ('>#'; calamine reads an error cell as blank and refuses one holding anything but an error value),
#   no character reference that could spell one ('&#'), no comment, CDATA or processing instruction
#   ('<!', '<?'), no namespace-prefixed cell (':c');
# - every '<c' in sheetData opens a cell as '<c r="C3"' (upper-case letters, digits, double quotes),
#   and its column and row are within what the filled cells so far allow (the row limit is rounded
#   down to its leading digit so one expression serves many pieces): one cell beyond, and the piece
#   is read closely, each reference exactly.
# On 199 MB of sheet XML the expression costs about as much as inflating the XML.
_FORMULA_SHOWN = 60
_FORMULA_GATE = b"f"
_FORMULA_MARKERS = (b"<f", b":f")
# (single byte that is rare in cell XML, the marker it may start): an error value ('>#N/A'; calamine
# refuses any other value in an error cell), a character reference, a comment, CDATA, an instruction
_OTHER_MARKERS = ((b"#", b">#"), (b"&", b"&#"), (b"!", b"<!"), (b"?", b"<?"))
_PREFIXED_CELL = re.compile(rb":c[\s>/]")
_REASONS = {
    b"<f": "formulas",
    b">#": "an Excel error value",
    b"&#": "character references",
    b"<!": "comments or CDATA sections",
    b"<?": "processing instructions",
    b":c": "namespace-prefixed cells",
    b"<c": 'cells not written as <c r="A1"',
}
_GRID_UNPROVEN = "cells far beyond the data"  # one literal byte first: the expression engine skips to it fast
_CANONICAL_CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"')
_ANY_OTHER_CELL = re.compile(rb'<c(?! r="[A-Z]{1,3}[0-9]{1,7}")')
_REFERENCE = re.compile(r"([A-Za-z]+)([0-9]+)")
_SHEET_DATA_END = b"</sheetData>"
_VALUE = re.compile(rb"<(?:\w+:)?v(?:\s[^>]*)?>([^<]*)</")
_SHEET_DATA = re.compile(rb"<(\w+:)?sheetData[\s>/]")
_CELL_OPEN = b"<c "
_CELL_CLOSE = b"</c>"


@functools.lru_cache(maxsize=64)
def _beyond(columns: int, rows: int) -> re.Pattern[bytes]:
    """An expression finding every '<c' that does not open a cell within ``columns`` × ``rows``
    (``rows`` as _row_limit gives it: one less than a leading digit followed by zeros)."""
    last = column_letter(columns - 1)
    if len(last) == 1:
        letters = f"[A-{last}]"
    else:
        letters = "[A-Z]" + (f"|[A-{chr(ord(last[0]) - 1)}][A-Z]" if last[0] > "A" else "") + f"|{last[0]}[A-{last[1]}]"
    bound = str(rows + 1)  # e.g. 300000: every number below it
    if len(bound) == 1:
        numbers = f"[1-{rows}]"
    else:
        numbers = f"[1-9][0-9]{{0,{len(bound) - 2}}}"
        if bound[0] > "1":
            numbers += f"|[1-{int(bound[0]) - 1}][0-9]{{{len(bound) - 1}}}"
    return re.compile(f'<c(?! r="(?:{letters})(?:{numbers})")'.encode())


def _row_limit(rows: int) -> int:
    """``rows`` rounded down to one less than its leading digit followed by zeros (299,999 for
    345,678), so that one expression serves many pieces; at least 1."""
    digits = str(max(rows, 1))
    if len(digits) == 1:
        return int(digits)
    return int(digits[0]) * 10 ** (len(digits) - 1) - 1


def _scan_quickly(stream: IO[bytes], member: str, name: str, sheet: str, every_reference: bool = False) -> _Findings | str:
    """The quick scan, or what it met that only the exact scan can read (a few words for a message).

    ``every_reference`` reads every cell reference exactly (a regular expression still, no parser):
    the second pass when the first met a cell beyond its limits and could not prove the grid small."""
    with contextlib.closing(_read_ahead(stream)) as chunks:
        return _scan_chunks(chunks, member, name, sheet, every_reference)


def _read_ahead(stream: IO[bytes]) -> Iterator[bytes]:
    """The stream in chunks, the next one read (inflated, its CRC updated) by a thread while the caller
    scans this one: zlib releases the GIL, so on two cores the tests above cost little beyond the
    inflating. Closing the iterator stops the thread; its errors (a bad CRC) are raised here."""
    queue: Queue[bytes | BaseException] = Queue(maxsize=2)
    stop = threading.Event()

    def hand(item: bytes | BaseException) -> None:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.05)
                return
            except Full:
                continue

    def read() -> None:
        try:
            while not stop.is_set():
                chunk = stream.read(_CHUNK)
                hand(chunk)
                if not chunk:
                    return
        except BaseException as error:  # noqa: BLE001 - handed to the scanning thread, which raises it
            hand(error)

    reader = threading.Thread(target=read, name="reportgen-read-ahead", daemon=True)
    reader.start()
    try:
        while (item := queue.get()) != b"":
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join()


def _scan_chunks(chunks: Iterator[bytes], member: str, name: str, sheet: str, every_reference: bool) -> _Findings | str:
    buffer = next(chunks, b"")
    _refuse_doctype(buffer[:_HEAD], member, name)
    data = _SHEET_DATA.search(buffer)
    if data is None or data.group(1):
        return "namespace-prefixed elements" if data else "no sheetData element in its first 4 MB"
    if any(marker in buffer[_PROLOG.match(buffer).end() : data.start()] for marker in (b"<!", b"<?")):
        return _REASONS[b"<!"]
    starts_at_a1 = _filled_a1_first(buffer, data.end(), _CELL_OPEN, _CELL_CLOSE)
    values, columns, row_limit = 0, 0, 0
    farthest = (0, -1)
    in_data, offset = True, data.end()
    for piece in _complete_cells(chunks, buffer, _CELL_OPEN):
        if piece is None:
            raise WorkbookUnreadable(
                f"{name} was refused: its part {member} holds more than {4 * _CHUNK // 2**20} MB without a cell, "
                "which no spreadsheet program writes"
            )
        end = len(piece)
        if in_data and (found := piece.find(_SHEET_DATA_END, offset)) >= 0:
            end, in_data = found, False
            if _SHEET_DATA.search(piece, found):
                return "a second sheetData element"
        elif not in_data:
            if _SHEET_DATA.search(piece):
                return "a second sheetData element"
            continue
        region = piece[offset:end] if offset or end < len(piece) else piece
        offset = 0
        values += region.count(_CELL_CLOSE)
        if _FORMULA_GATE in region and (_FORMULA_MARKERS[0] in region or _FORMULA_MARKERS[1] in region):
            return _REASONS[b"<f"]
        for gate, marker in _OTHER_MARKERS:
            if gate in region and marker in region:
                return _REASONS[marker]
        if _PREFIXED_CELL.search(region):
            return _REASONS[b":c"]
        if not columns:  # the header row (row 1, read exactly) sets the column limit
            if b"<c" not in region:
                continue  # no cell yet
            header_end = region.find(b"</row>")
            for letters, digits in _CANONICAL_CELL.findall(region, 0, header_end if header_end >= 0 else len(region)):
                farthest = _farther(farthest, letters, digits, name, sheet)
            columns = min(farthest[1] + 1, 702)
            if not columns:
                return "no cell in row 1"
        row_limit = _row_limit(max(GRID_FLOOR, GRID_PER_VALUE * values) // columns)
        if not every_reference and not _beyond(columns, row_limit).search(region):
            continue
        if _ANY_OTHER_CELL.search(region):
            return _REASONS[b"<c"]
        for letters, digits in _CANONICAL_CELL.findall(region):  # a cell beyond the limits: read the piece closely
            farthest = _farther(farthest, letters, digits, name, sheet)
    rows = farthest[0] if every_reference else max(farthest[0], row_limit)
    if rows * (farthest[1] + 1) > max(GRID_FLOOR, GRID_PER_VALUE * values):
        return _GRID_UNPROVEN  # (empty cells count here; the exact scan counts filled cells only)
    return _Findings([], [], starts_at_a1, values)


def _farther(farthest: tuple[int, int], letters: bytes, digits: bytes, name: str, sheet: str) -> tuple[int, int]:
    row, column = _cell_position((letters + digits).decode(), name, sheet)
    if row > EXCEL_ROWS or column >= EXCEL_COLUMNS:
        raise WorkbookUnreadable(_outside_grid_sentence(name, sheet, (letters + digits).decode()))
    return max(farthest[0], row), max(farthest[1], column)


def _filled_a1_first(xml: bytes, start: int, cell_open: bytes, cell_close: bytes) -> bool:
    """Whether the sheet's first cell is A1 and holds a value, so its data range starts at A1."""
    first = xml.find(cell_open, start)
    tag_end = xml.find(b">", first)
    if first < 0 or tag_end < 0 or xml[tag_end - 1 : tag_end] == b"/":  # none, cut off, or an empty <c .../>
        return False
    if not xml.startswith(b'<c r="A1"', first):
        return False
    end = xml.find(cell_close, tag_end)
    content = xml[tag_end:end] if end > 0 else b""
    return _VALUE.search(content) is not None or b"<is>" in content


def _complete_cells(chunks: Iterator[bytes], buffer: bytes, cell_open: bytes) -> Iterator[bytes | None]:
    """Yield pieces of the sheet XML that hold only whole cells (cut just before a cell starts);
    None when no cell starts for a long stretch (no spreadsheet program writes that)."""
    while True:
        chunk = next(chunks, b"")
        if not chunk:
            yield buffer
            return
        buffer += chunk
        cut = buffer.rfind(cell_open)
        if cut > 0:
            yield buffer[:cut]
            buffer = buffer[cut:]
        elif len(buffer) > 4 * _CHUNK:
            yield None
            return


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

    # fastexcel logs a warning per column it reads as text for want of values ("Could not determine
    # dtype for column N"): 16,374 lines on stderr for a wide, empty sheet. They tell a user nothing.
    logging.getLogger("fastexcel").setLevel(logging.ERROR)
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


def _check_headers(sheets: dict[str, SheetData], name: str) -> None:
    """Refuse a row 1 no cohort needs: a column name longer than MAX_HEADER_CHARS, or more than
    MAX_EXTRA_COLUMNS named columns the contract does not know (each would be listed in the report)."""
    contract = load_contract()
    known = {rule.name: {column.name for column in rule.columns} for rule in contract.sheets}
    known[contract.study.name] = {contract.study.key_column, contract.study.value_column}
    for contract_name, sheet in sheets.items():
        for index, text in enumerate(sheet.header):
            if len(text) > MAX_HEADER_CHARS:
                raise WorkbookUnreadable(
                    f"{name} was refused: cell {column_letter(index)}1 of the {sheet.name} sheet holds a column name of "
                    f"{len(text):,} characters; a column name may have at most {MAX_HEADER_CHARS}"
                )
        extra = [index for index, text in enumerate(sheet.header) if text and text not in known[contract_name]]
        if len(extra) > MAX_EXTRA_COLUMNS:
            raise WorkbookUnreadable(
                f"{name} was refused: row 1 of the {sheet.name} sheet names {len(extra):,} columns that are not part of "
                f"the workbook contract (up to cell {column_letter(extra[-1])}1); at most {MAX_EXTRA_COLUMNS} such columns "
                "are accepted, so delete those the report does not need"
            )


def _header_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
