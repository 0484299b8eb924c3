"""reportgen.exporters.docx: report.docx read back with python-docx, against the HTML of the same build.

Every table of the Word file holds the HTML table's cells, text by text (numbers, decimal separator and
footnote letters included); its headings are the HTML's; its figures are 300 dpi PNG with the HTML's
alternative text. A slow test converts it with LibreOffice (``make office`` installs it) and reads the pages.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import docx
import lxml.html
import pytest
from docx.oxml.ns import qn

from reportgen.cli import main
from reportgen.document import build_document
from reportgen.exporters import ExportContext, export
from reportgen.formatting import Formatter
from reportgen.narrative import write_narrative
from report_fixtures import HOSTILE_TEXT, fake_figures, hostile_inputs, make_info, make_published, make_results, make_study

ROOT = Path(__file__).resolve().parent.parent
COHORT = ROOT / "input" / "cohort.xlsx"
EPOCH = "1715938200"


@pytest.fixture(scope="module")
def build_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docx") / "output"
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    try:
        assert main(["build", str(COHORT), "--out", str(out), "--quiet", "--formats", "html,docx"]) == 0
    finally:
        monkeypatch.undo()
    return out / "latest"


# --- reading both files -----------------------------------------------------------------------------


def html_tables(html: str) -> list[list[list[list[str]]]]:
    """Every table: its rows (head, then body), each a list of cells, each [text with its mark, *further lines]."""
    tables = []
    for table in lxml.html.fromstring(html).xpath("//table"):
        rows = []
        for tr in table.xpath("./thead/tr | ./tbody/tr"):
            row = []
            for cell in tr.xpath("./th | ./td"):
                lines = [span.text_content() for span in cell.xpath("./span[@class='line']")]
                mark = "".join(sup.text_content() for sup in cell.xpath("./sup"))
                row.append([(cell.text or "") + mark, *lines])
            rows.append(row)
        tables.append(rows)
    return tables


def word_tables(document: docx.document.Document) -> list[list[list[list[str]]]]:
    """The same from the Word file: a cell spanning rows or columns counted once, where it starts."""
    tables = []
    for table in document.tables:
        seen: set[object] = set()  # the cells' elements, kept alive so that lxml hands out the same proxies
        rows = []
        for row in table.rows:
            cells = []
            for cell in row.cells:
                if cell._tc in seen:
                    continue
                seen.add(cell._tc)
                paragraphs = [paragraph.text for paragraph in cell.paragraphs]
                cells.append(paragraphs if any(paragraphs) else [""])
            rows.append(cells)
        tables.append(rows)
    return tables


def html_headings(html: str) -> list[str]:
    return [h.text_content() for h in lxml.html.fromstring(html).xpath("//main//h2 | //main//h3")]


def word_headings(document: docx.document.Document) -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name in ("Heading 1", "Heading 2")]


def _document(formatter: Formatter, **changes: object):
    results = changes.pop("results", None) or make_results()
    arguments = dict(
        results=results, narrative=write_narrative(results, formatter), figures=fake_figures(), published=make_published(),
        info=make_info(), warnings=(), formatter=formatter,
    )  # fmt: skip
    arguments.update(changes)
    return build_document(**arguments)


# --- the example build -------------------------------------------------------------------------------


def test_every_word_table_holds_the_html_tables_cells(build_folder: Path) -> None:
    html = (build_folder / "report.html").read_text(encoding="utf-8")
    word = docx.Document(str(build_folder / "report.docx"))
    expected, found = html_tables(html), word_tables(word)
    assert len(found) == len(expected) >= 10  # eight results tables, the published check, the appendix's
    for number, (want, got) in enumerate(zip(expected, found), start=1):
        assert got == want, f"table {number} of the document"
    # Numbers, not only labels: Table 1's first body row carries the example's age, mean ± SD.
    assert any("±" in cell[0] for row in found[0] for cell in row)


def test_word_headings_are_the_html_sections(build_folder: Path) -> None:
    html = (build_folder / "report.html").read_text(encoding="utf-8")
    word = docx.Document(str(build_folder / "report.docx"))
    assert word_headings(word) == html_headings(html)
    assert word.paragraphs[0].style.name == "Title"
    assert word.paragraphs[0].text == lxml.html.fromstring(html).xpath("string(//h1)")


def test_word_figures_are_300_dpi_pngs_with_the_htmls_alternative_text(build_folder: Path) -> None:
    from PIL import Image

    html = lxml.html.fromstring((build_folder / "report.html").read_text(encoding="utf-8"))
    alts = [div.get("aria-label") for div in html.xpath("//figure/div[@class='plot']")]
    captions = [" ".join(c.text_content().split()) for c in html.xpath("//figure/figcaption")]
    word = docx.Document(str(build_folder / "report.docx"))
    shapes = word.inline_shapes
    assert len(shapes) == len(alts) == 4
    assert [shape._inline.docPr.get("descr") for shape in shapes] == alts
    for shape in shapes:
        blip = shape._inline.graphic.graphicData.pic.blipFill.blip
        image = Image.open(io.BytesIO(word.part.related_parts[blip.embed].blob))
        assert image.format == "PNG"
        dpi = image.size[0] / shape.width.inches
        assert abs(dpi - 300) < 1, dpi
    word_captions = [" ".join(p.text.split()) for p in word.paragraphs if p.style.name == "Caption" and p.text.startswith("Figure ")]
    assert word_captions == captions


def test_word_tables_repeat_their_head_and_right_align_numbers(build_folder: Path) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    word = docx.Document(str(build_folder / "report.docx"))
    table = word.tables[0]  # Table 1: two head rows, then the characteristics
    headers = [row._tr.trPr is not None and row._tr.trPr.find(qn("w:tblHeader")) is not None for row in table.rows]
    assert headers[:2] == [True, True] and not any(headers[2:])
    age = table.rows[2].cells
    assert age[0].paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.LEFT
    assert all(cell.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT for cell in age[1:])
    # Booktabs: a rule above the head, none between body rows, one under the last row.
    def rules(cell) -> set[str]:
        borders = cell._tc.tcPr.find(qn("w:tcBorders"))
        return set() if borders is None else {child.tag.split("}")[1] for child in borders}
    assert "top" in rules(table.rows[0].cells[0]) and rules(table.rows[3].cells[1]) == set()
    assert "bottom" in rules(table.rows[-1].cells[1])


def test_the_word_files_properties_are_the_builds(build_folder: Path) -> None:
    from datetime import datetime, timezone

    word = docx.Document(str(build_folder / "report.docx"))
    moment = datetime.fromtimestamp(int(EPOCH), timezone.utc)
    assert word.core_properties.created == word.core_properties.modified == moment
    assert word.core_properties.title.startswith("Serum tocilizumab trough levels")
    with zipfile.ZipFile(build_folder / "report.docx") as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        # No thumbnail: python-docx's template brings one of its own blank page.
        assert not [name for name in archive.namelist() if "thumbnail" in name]
        assert b"thumbnail" not in archive.read("_rels/.rels")


# --- the exporter on its own ----------------------------------------------------------------------------


def test_the_word_file_has_the_same_bytes_whenever_it_is_written(monkeypatch: pytest.MonkeyPatch) -> None:
    document = _document(Formatter("."))
    context = ExportContext(formatter=Formatter("."))
    first = export("docx", document, context)
    monkeypatch.setattr(zipfile.time, "time", lambda: 2_000_000_000.0)  # python-docx dates zip entries "now"
    assert export("docx", document, context) == first


def test_a_decimal_comma_reaches_the_word_tables_as_in_the_html() -> None:
    from reportgen.exporters.html import render_html

    study = make_study(decimal_separator=",")
    formatter = Formatter.for_study(study)
    document = _document(formatter, results=make_results(study=study))
    word = docx.Document(io.BytesIO(export("docx", document, ExportContext(formatter=formatter))))
    expected = html_tables(render_html(document, formatter))
    assert word_tables(word) == expected
    numbers = [line for table in expected[:2] for row in table for cell in row for line in cell if "±" in line]
    assert numbers and all("," in line and "." not in line for line in numbers)


def test_hostile_workbook_text_is_written_literally_and_inert() -> None:
    results, _, info, warnings = hostile_inputs()
    # Controls XML cannot hold and a bidi override, as a workbook's title could carry them.
    title = HOSTILE_TEXT + " \x1b[2J \u202eevil\x00"
    results = replace(results, study=results.study.replace(title=title))
    formatter = Formatter(".")
    document = _document(formatter, results=results, info=info, warnings=warnings)
    data = export("docx", document, ExportContext(formatter=formatter))
    word = docx.Document(io.BytesIO(data))
    assert word.paragraphs[0].text == HOSTILE_TEXT + " \\x1b[2J \\u202eevil\\x00"
    body = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode("utf-8")
    assert "\u202e" not in body and "<script>" not in body and "&lt;script&gt;" in body


# --- LibreOffice (slow; `make office` installs it) ----------------------------------------------


@pytest.mark.slow
def test_libreoffice_opens_the_word_file_and_prints_its_tables(build_folder: Path, tmp_path: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None or shutil.which("pdftotext") is None:
        pytest.skip("LibreOffice or pdftotext is not installed; `make office` installs LibreOffice Writer")
    profile = tmp_path / "profile"
    subprocess.run(
        [soffice, "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(build_folder / "report.docx")],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    pdf = tmp_path / "report.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert 10 <= pages <= 30, pages
    text = "".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split())
    html = (build_folder / "report.html").read_text(encoding="utf-8")
    for number, table in enumerate(html_tables(html)[:8], start=1):
        assert f"Table{number}." in text
        for row in table:
            for cell in row:
                for line in cell:
                    assert "".join(line.split()) in text, (number, line)
