"""Hostile input (issue 6): bombs refused before parsing, in bounded time and memory; hostile text
shown as inert text in a full build (HTML and PDF); user templates confined to their folder.

The bombs are real: the zip bomb's sheet inflates to 3 GB (written as 3 MB of repeated deflate
blocks, so the test makes it in about a second). Each is fed to the real command in a fresh process,
whose wall time and peak memory (``RUSAGE_CHILDREN``, measured by a wrapper process so nothing else
the test run started is counted) must stay under 10 s and 1 GB.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zipfile
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pikepdf
import pytest
from report_fixtures import HOSTILE
from workbooks import valid_rows, write_valid_workbook, write_workbook

from reportgen.cli import main

MAX_SECONDS = 10
MAX_RSS_KB = 1024 * 1024


# --- crafting bombs -------------------------------------------------------------------------------


def _repeated_deflate(head: bytes, filler: bytes, repeats: int, tail: bytes) -> tuple[bytes, int, int]:
    """Raw deflate of head + filler * repeats + tail, made by compressing ``filler`` once.

    A full flush byte-aligns the stream and forgets the history, so the compressed form of each
    further copy of ``filler`` is the same bytes. Returns (compressed, crc32, uncompressed size).
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(filler) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert compressor.compress(filler) + compressor.flush(zlib.Z_FULL_FLUSH) == block
    end = compressor.compress(tail) + compressor.flush()
    crc = zlib.crc32(head)
    for _ in range(repeats):
        crc = zlib.crc32(filler, crc)
    crc = zlib.crc32(tail, crc)
    return start + block * repeats + end, crc, len(head) + len(filler) * repeats + len(tail)


def _write_zip(path: Path, members: list[tuple[str, bytes, int, int]]) -> Path:
    """A zip of (name, raw deflate, crc32, uncompressed size) members, written by hand (no zip64:
    every size stays below 4 GB), so a member may hold data no library would compress for us fast."""
    local, central = bytearray(), bytearray()
    for name, data, crc, size in members:
        encoded = name.encode()
        offset = len(local)
        local += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size, len(encoded), 0)
        local += encoded + data
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(data), size, len(encoded), 0, 0, 0, 0, 0, offset
        )
        central += encoded
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(local), 0)
    path.write_bytes(bytes(local + central + end))
    return path


def _members_of(workbook: Path, replace: dict[str, tuple[bytes, int, int]]) -> list[tuple[str, bytes, int, int]]:
    members = []
    with zipfile.ZipFile(workbook) as archive:
        for info in archive.infolist():
            if info.filename in replace:
                members.append((info.filename, *replace.pop(info.filename)))
                continue
            content = archive.read(info)
            compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
            members.append((info.filename, compressor.compress(content) + compressor.flush(), zlib.crc32(content), len(content)))
    members.extend((name, *value) for name, value in replace.items())
    return members


SHEET_HEAD = b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
SHEET_TAIL = b"</sheetData></worksheet>"


@pytest.fixture(scope="module")
def valid_workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_valid_workbook(tmp_path_factory.mktemp("valid") / "cohort.xlsx")


@pytest.fixture(scope="module")
def zip_bomb(valid_workbook: Path) -> Path:
    """The patients sheet inflates to 3 GB of white space inside valid sheet XML."""
    sheet = _repeated_deflate(SHEET_HEAD, b" " * 2**24, 192, SHEET_TAIL)
    assert sheet[2] > 3 * 2**30 and len(sheet[0]) < 4 * 2**20
    return _write_zip(valid_workbook.with_name("zip-bomb.xlsx"), _members_of(valid_workbook, {"xl/worksheets/sheet1.xml": sheet}))


@pytest.fixture(scope="module")
def ratio_bomb(valid_workbook: Path) -> Path:
    """Under the 500 MB total a cohort may need (384 MB), but compressed a thousand-fold."""
    strings = _repeated_deflate(b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">', b" " * 2**24, 24, b"</sst>")
    return _write_zip(valid_workbook.with_name("ratio-bomb.xlsx"), _members_of(valid_workbook, {"xl/sharedStrings.xml": strings}))


def _billion_laughs(root: bytes) -> bytes:
    entities = [b'<!ENTITY lol0 "lol">'] + [
        b"<!ENTITY lol%d \"%s\">" % (level, b"".join(b"&lol%d;" % (level - 1) for _ in range(10))) for level in range(1, 10)
    ]
    return b'<?xml version="1.0"?><!DOCTYPE lolz [' + b"".join(entities) + b"]>" + root


def _with_part(valid_workbook: Path, name: str, part: str, content: bytes) -> Path:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = (compressor.compress(content) + compressor.flush(), zlib.crc32(content), len(content))
    return _write_zip(valid_workbook.with_name(name), _members_of(valid_workbook, {part: packed}))


def _measured(*argv: str) -> dict[str, object]:
    """Run ``reportgen argv`` in a fresh process; its exit code, output, wall time and peak memory."""
    wrapper = (
        "import json, resource, subprocess, sys, time\n"
        "start = time.perf_counter()\n"
        "done = subprocess.run([sys.executable, '-m', 'reportgen', *sys.argv[1:]], capture_output=True, text=True)\n"
        "seconds = time.perf_counter() - start\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(json.dumps({'code': done.returncode, 'out': done.stdout, 'err': done.stderr, 'seconds': seconds, 'rss_kb': rss}))\n"
    )
    finished = subprocess.run([sys.executable, "-c", wrapper, *argv], capture_output=True, text=True, check=True)
    return json.loads(finished.stdout)


def _assert_refused_quickly(result: dict[str, object], fragment: str) -> None:
    assert result["code"] == 1, result
    assert fragment in str(result["err"]) and "Traceback" not in str(result["err"]), result["err"]
    assert result["seconds"] < MAX_SECONDS, result
    assert result["rss_kb"] < MAX_RSS_KB, result


# --- bombs ----------------------------------------------------------------------------------------


def test_a_zip_bomb_inflating_to_gigabytes_is_refused_by_validate_and_build(zip_bomb: Path, tmp_path: Path) -> None:
    assert sum(info.file_size for info in zipfile.ZipFile(zip_bomb).infolist()) > 3 * 2**30
    _assert_refused_quickly(_measured("validate", str(zip_bomb)), "(a possible zip bomb)")
    out = tmp_path / "out"
    _assert_refused_quickly(_measured("build", str(zip_bomb), "--out", str(out)), "(a possible zip bomb)")
    assert not out.exists()


def test_a_zip_bomb_under_the_size_limit_is_refused_by_its_ratio(ratio_bomb: Path) -> None:
    _assert_refused_quickly(_measured("validate", str(ratio_bomb)), "xl/sharedStrings.xml is compressed")


@pytest.mark.parametrize(
    ("part", "root"),
    [
        ("xl/sharedStrings.xml", b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol9;</t></si></sst>'),
        ("xl/worksheets/sheet1.xml", SHEET_HEAD.split(b"?>", 1)[1] + b'<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c></row>' + SHEET_TAIL),
        ("xl/workbook.xml", b"<workbook>&lol9;</workbook>"),
    ],
    ids=["shared-strings", "sheet", "workbook"],
)
def test_an_xml_entity_bomb_is_refused_before_parsing(valid_workbook: Path, part: str, root: bytes) -> None:
    bomb = _with_part(valid_workbook, f"laughs-{part.replace('/', '-')}.xlsx", part, _billion_laughs(root))
    _assert_refused_quickly(_measured("validate", str(bomb)), "declares an XML document type")


def _element_bomb(head: bytes, megabytes: int, tail: bytes) -> tuple[bytes, int, int]:
    """``megabytes`` of empty elements compressed about 160-fold: under the zip-bomb ratio (200), so only
    a bound on the part's own size stops it (issue 15, finding 6)."""
    filler = b"".join(b"<x/>" * 300 + b"<y%d/>" % (index * 7919 % 100_003) for index in range(3000))
    return _repeated_deflate(head, filler, megabytes * 2**20 // len(filler), tail)


MAIN_NS = b' xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


@pytest.mark.parametrize(
    ("part", "megabytes", "head", "tail"),
    [
        ("xl/workbook.xml", 40, b'<?xml version="1.0"?><workbook' + MAIN_NS + b">", b"</workbook>"),
        ("xl/workbook.xml", 472, b'<?xml version="1.0"?><workbook' + MAIN_NS + b">", b"</workbook>"),
        ("xl/sharedStrings.xml", 472, b'<?xml version="1.0"?><sst' + MAIN_NS + b"><si><t>x</t></si>", b"</sst>"),
        ("xl/sharedStrings.xml", 40, b'<?xml version="1.0"?><sst' + MAIN_NS + b"><si><t>x</t></si>", b"</sst>"),
        ("xl/worksheets/sheet2.xml", 250, SHEET_HEAD + b'<row r="1"><c r="A1" t="inlineStr"><is><t>patient_id</t></is></c></row>', SHEET_TAIL),
    ],
    ids=["workbook-40MB", "workbook-472MB", "shared-strings-472MB", "shared-strings-40MB", "visits-sheet-250MB"],
)
def test_an_element_bomb_within_the_compression_ratio_is_refused_by_its_size(
    valid_workbook: Path, part: str, megabytes: int, head: bytes, tail: bytes
) -> None:
    packed = _element_bomb(head, megabytes, tail)
    assert packed[2] / len(packed[0]) < 200 and packed[2] > 38 * 2**20
    bomb = _write_zip(valid_workbook.with_name(f"elements-{megabytes}-{part.replace('/', '-')}.xlsx"), _members_of(valid_workbook, {part: packed}))
    fragment = "without a cell" if "worksheets" in part else "would expand to"
    _assert_refused_quickly(_measured("validate", str(bomb)), f"its part {part} {'holds more than 16 MB' if 'worksheets' in part else fragment}")


# --- hostile text: inert in HTML and PDF ----------------------------------------------------------


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []
        self._in_title = False
        self.title = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        # The document's <title>, in the head; not the <title> of an inline SVG figure (its alternative text).
        self._in_title = tag == "title" and "svg" not in self.tags

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_title:
            self.title += data


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    patients, visits = valid_rows()
    ids = {patient["patient_id"]: hostile for patient, hostile in zip(patients, HOSTILE)}
    for row in (*patients, *visits):
        row["patient_id"] = ids[row["patient_id"]]
    for patient in patients:
        if patient["withdrawal_month"] is not None:
            patient["withdrawal_reason"] = " ".join(HOSTILE)
    # No visit at month 120: every patient is carried forward, so every id is printed in the report.
    study = {"title": " ".join(HOSTILE), "authors": "; ".join(HOSTILE), "follow_up_month": 120}
    workbook = write_workbook(folder / "cohort.xlsx", patients=patients, visits=visits, study=study)
    assert main(["build", str(workbook), "--out", str(folder / "out"), "--quiet"]) == 0
    return (folder / "out" / "latest").resolve()


def test_hostile_text_is_escaped_text_in_the_html(hostile_build: Path) -> None:
    html = (hostile_build / "report.html").read_text(encoding="utf-8")
    parser = _Elements()
    parser.feed(html)
    assert not {"script", "img", "link", "iframe", "object", "embed"} & set(parser.tags)
    assert parser.title == " ".join(HOSTILE)  # the template expression {{ 7*7 }} was not evaluated
    text = "".join(parser.text)
    for hostile in HOSTILE:
        assert hostile in text
    # every table the report opens is closed by the report, not by the '</table>' of a cell
    assert html.count("<table") == html.count("</table>")
    assert "&lt;/table&gt;" in html and "&lt;script&gt;" in html
    assert "49" not in parser.title and "{{ 7*7 }}" in parser.title


def test_hostile_text_is_literal_in_the_pdf_and_embeds_nothing(hostile_build: Path) -> None:
    pdf_path = hostile_build / "report.pdf"
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf_path), "-"], capture_output=True, text=True, check=True).stdout
    flat = "".join(text.split())  # lines wrap anywhere; compare without white space
    for hostile in HOSTILE:
        assert "".join(hostile.split()) in flat, hostile
    with pikepdf.open(pdf_path) as pdf:
        assert sorted(pdf.attachments) == ["cohort.xlsx", "report.docx", "results.json"]
        annotations = [annot for page in pdf.pages for annot in page.get("/Annots", [])]
        assert not [annot for annot in annotations if annot.get("/Subtype") == "/FileAttachment"]
        uris = [str(annot.A.URI) for annot in annotations if "/A" in annot and "/URI" in annot.A]
        assert not [uri for uri in uris if "example.invalid" in uri or uri.startswith(("http://x", "file:"))]
        streams = b"".join(obj.read_bytes() for obj in pdf.objects if isinstance(obj, pikepdf.Stream))
    assert b"root:x:0:0" not in streams  # /etc/passwd was not attached


def test_hostile_text_in_the_csv_lists_cannot_run_as_a_formula(hostile_build: Path) -> None:
    import csv
    import io

    text = (hostile_build / "carried-forward.csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    cells = [cell for row in rows for cell in row]
    assert rows[0] == ["patient_id", "from_month", "withdrawal_reason"] and len(rows) == 1 + len(HOSTILE)
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@"))]
    assert "'" + HOSTILE[4] in cells  # the =HYPERLINK(...) patient id, kept as text
    manifest = json.loads((hostile_build / "manifest.json").read_bytes())
    assert {"warnings.csv", "carried-forward.csv"} <= set(manifest["files"])


# --- --templates stays inside its folder, through the command line --------------------------------


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "../outside.txt"])
def test_a_template_including_a_file_outside_its_folder_fails_cleanly(
    name: str, valid_workbook: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (tmp_path / "outside.txt").write_text("OUTSIDE-SECRET")
    (templates / "report.html.j2").write_text(f"{{% include '{name}' %}}")
    out = tmp_path / "out"
    code = main(["build", str(valid_workbook), "--out", str(out), "--templates", str(templates), "--no-pdf"])
    captured = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in captured.out + captured.err
    assert captured.err.startswith("reportgen: ") and name in captured.err
    assert "OUTSIDE-SECRET" not in captured.out + captured.err and "root:" not in captured.err
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("link", ["passwd.j2", "etc/outside.txt"])
def test_a_template_symlinked_out_of_its_folder_fails_cleanly(
    link: str, valid_workbook: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue #15 item 3: symlinks (to a file, or to a folder) inside --templates were followed.
    templates = tmp_path / "templates"
    templates.mkdir()
    (tmp_path / "outside.txt").write_text("OUTSIDE-SECRET")
    if link == "passwd.j2":
        (templates / link).symlink_to(tmp_path / "outside.txt")
    else:
        (templates / "etc").symlink_to(tmp_path, target_is_directory=True)
    (templates / "report.html.j2").write_text(f"{{% include '{link}' %}}")
    out = tmp_path / "out"
    code = main(["build", str(valid_workbook), "--out", str(out), "--templates", str(templates), "--no-pdf"])
    captured = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in captured.out + captured.err
    assert captured.err.startswith("reportgen: ") and link in captured.err and "outside that folder" in captured.err
    assert "OUTSIDE-SECRET" not in captured.out + captured.err
    assert not out.exists() or not any(out.iterdir())


# --- a hostile --published file ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 20_000 + "]" * 20_000, "values nested more than 10 levels deep"),
        ('quartiles:\n  labels: [Q1, Q2, Q3, Q4]\n  percent: ["' + "1" * 40 + '", "1", "1", "1"]\n', "has 40 digits"),
    ],
)
def test_a_hostile_published_file_fails_cleanly(
    text: str, message: str, valid_workbook: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue #15 item 7: RecursionError and decimal.InvalidOperation tracebacks.
    published = tmp_path / "published.yaml"
    published.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    code = main(["build", str(valid_workbook), "--out", str(out), "--published", str(published), "--no-pdf"])
    captured = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in captured.out + captured.err
    assert captured.err.startswith("reportgen: published.yaml: ") and message in captured.err
    assert not out.exists() or not any(out.iterdir())
