"""The Word exporter: report.docx, written with python-docx from the format-neutral document.

Every section of the report in order (title, abstract, Methods, Results with its tables and figures,
Conclusions, the published check, the appendix), as Word's own headings, paragraphs and lists, so the file
can be edited. Tables are real Word tables: header rows repeated on every page, spans merged, booktabs-like
rules (a rule above the table, one under its head and under each spanner, one below it; no vertical rules),
numbers right-aligned, further lines (median [IQR], intervals) as smaller paragraphs in the same cell,
footnote letters as superscripts and the notes below the table. Every number is the document's own string,
so the decimal separator is the HTML's. Figures are PNG at ``FIGURE_DPI`` at the width the report prints
them (the same matplotlib drawing as the SVG, ``figures.report_png``), with their caption and their
alternative text (the picture's description, ``docPr/@descr``).

The bytes are the same on every rebuild: the core properties' dates are the build time (the document's
``Meta``), and the zip is written again with a fixed date for every entry, in python-docx's order.
"""

from __future__ import annotations

import dataclasses
import io
import zipfile
from datetime import datetime
from typing import TYPE_CHECKING, Any

from docx import Document as new_document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from reportgen.document import Cell, Report, Row, Table
from reportgen.figures import report_png
from reportgen.model import Figure
from reportgen.untrusted import LINE_BREAKS, visible

if TYPE_CHECKING:
    from docx.document import Document
    from docx.table import _Cell

    from reportgen.exporters import ExportContext

FIGURE_DPI = 300
# A4 with the report's margins (templates/report.css: 22 mm left and right).
PAGE_WIDTH_MM, PAGE_HEIGHT_MM, MARGIN_MM = 210.0, 297.0, 22.0
BODY_PT, TABLE_PT, LINE_PT, NOTE_PT = 10.5, 8.5, 7.5, 8.0
# Times New Roman is on every Word installation (LibreOffice sets it in the metric-compatible Liberation Serif);
# the column widths are estimated from its advances in em (digits 0.5; letters not listed count as 0.5).
FONT = "Times New Roman"
ADVANCE_EM = {**dict.fromkeys(".,:;' \u00a0\u2009()[]", 0.27), **dict.fromkeys("±<>=≤≥−+×", 0.57), "%": 0.84, "—": 1.0}
TABLE_STYLE, NOTE_STYLE = "Table Text", "Table Note"  # paragraph styles of the cells and of the notes below
CELL_PADDING_MM = 1.2  # left and right, in every table cell
PT_PER_MM = 72 / 25.4
INDENT_MM = 4.0  # a category under its variable
# Rule widths in eighths of a point (OOXML's w:sz): the top and bottom rules, the rule under the head.
HEAVY_RULE, LIGHT_RULE = 8, 4
FLAG_COLOUR = "8A1C1C"  # a flagged row (a mismatch, a changed conclusion): report.css's --flag
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # every zip entry's date: the earliest a zip can hold


def export(report: Report, context: ExportContext) -> bytes:
    """report.docx's bytes (the exporters' interface, ``reportgen.exporters``)."""
    report = _inert(report)
    document = new_document()
    _page(document, report)
    _properties(document, report)
    _title(document, report)
    _abstract(document, report)
    document.add_heading(report.headings.methods, level=1)
    for section in report.methods:
        _section(document, section, level=2)
    document.add_heading(report.headings.results, level=1)
    for paragraph in (report.results_intro, *report.results_estimates):
        document.add_paragraph(paragraph)
    for table in report.tables:
        _table(document, table)
    for figure in report.figures:
        _figure(document, figure, context)
    document.add_heading(report.headings.conclusions, level=1)
    for sentence in report.conclusions:
        document.add_paragraph(sentence)
    if report.limitations:
        document.add_heading(report.headings.limitations, level=2)
        document.add_paragraph(report.limitations)
    for published in report.published:
        document.add_heading(report.headings.published, level=1)
        _table(document, published.table)
        document.add_heading(report.headings.consistency, level=2)
        for finding in published.findings:
            document.add_paragraph(finding, style="List Bullet")
        if not published.findings:
            document.add_paragraph(report.headings.no_inconsistency)
    _appendix(document, report)
    buffer = io.BytesIO()
    document.save(buffer)
    return _fixed_zip(buffer.getvalue())


def _inert(value: Any) -> Any:
    """``value`` with every string made inert as the HTML's are (``reportgen.untrusted.visible``: controls and
    bidi overrides shown as escapes; workbook text is untrusted, and XML cannot hold most controls), the
    figures' drawings aside."""
    if isinstance(value, str):
        return visible(value, keep=LINE_BREAKS)
    if isinstance(value, tuple):
        return tuple(_inert(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, (type, Figure)):
        return dataclasses.replace(value, **{f.name: _inert(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init})
    return value


# --- the parts of the document -------------------------------------------------------------------


def _page(document: Document, report: Report) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Mm(PAGE_WIDTH_MM), Mm(PAGE_HEIGHT_MM)
    section.left_margin = section.right_margin = Mm(MARGIN_MM)
    document.styles["Normal"].font.size = Pt(BODY_PT)
    for style in ("Normal", "Caption", "List Bullet"):
        document.styles[style].font.name = FONT
    _paragraph_style(document, TABLE_STYLE, TABLE_PT)
    _paragraph_style(document, NOTE_STYLE, NOTE_PT)
    if report.draft:
        section.header.paragraphs[0].text = report.draft


def _paragraph_style(document: Document, name: str, size_pt: float) -> None:
    """A paragraph style for tables' cells and notes: the body font in ``size_pt``, single-spaced, no space after."""
    style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.style_id = _style_id(name)
    style.base_style = document.styles["Normal"]
    style.font.size = Pt(size_pt)
    style.paragraph_format.space_before = style.paragraph_format.space_after = Pt(0)
    style.paragraph_format.line_spacing = 1.0


def _properties(document: Document, report: Report) -> None:
    """Title, author and dates from the document's metadata (the build time), so a rebuild gives the same bytes."""
    properties = document.core_properties
    moment = datetime.strptime(report.meta.created, "%Y-%m-%dT%H:%M:%SZ")
    properties.title = report.meta.title
    properties.author = report.meta.author
    properties.last_modified_by = report.meta.generator
    properties.comments = report.build_record
    properties.language = report.meta.language
    properties.created = properties.modified = moment
    properties.revision = 1
    # python-docx's template carries a thumbnail of its own blank page, which file browsers would show.
    package = document.part.package
    for key in [key for key, relationship in package.rels.items() if relationship.reltype == RT.THUMBNAIL]:
        package.rels.pop(key)


def _title(document: Document, report: Report) -> None:
    document.add_heading(report.title.title, level=0)
    for line in (report.title.authors, report.title.institution):
        if line:
            document.add_paragraph(line)
    if report.draft:
        document.add_paragraph(report.build_record + ".")


def _abstract(document: Document, report: Report) -> None:
    document.add_heading(report.headings.abstract, level=1)
    for section in report.abstract.sections:
        paragraph = document.add_paragraph()
        paragraph.add_run(section.heading).bold = True
        paragraph.add_run(" " + " ".join(section.paragraphs))
    if report.abstract.warning:
        document.add_paragraph(report.abstract.warning)


def _section(document: Document, section, *, level: int) -> None:  # a narrative.Section
    document.add_heading(section.heading, level=level)
    for paragraph in section.paragraphs:
        document.add_paragraph(paragraph)
    for item in section.items:
        document.add_paragraph(item, style="List Bullet")


def _appendix(document: Document, report: Report) -> None:
    document.add_heading(report.headings.appendix, level=1)
    document.add_heading(report.headings.warnings, level=2)
    for warning in report.warnings:
        document.add_paragraph(warning, style="List Bullet")
    if not report.warnings:
        document.add_paragraph(report.headings.no_warnings)
    if report.warnings_more:
        document.add_paragraph(report.warnings_more)
    document.add_heading(report.headings.carried_forward, level=2)
    document.add_paragraph(report.carried_forward.summary)
    if report.carried_forward.table is not None:
        _table(document, report.carried_forward.table)
    if report.carried_forward.more:
        document.add_paragraph(report.carried_forward.more)
    document.add_heading(report.headings.decisions, level=2)
    _table(document, report.decisions)
    document.add_heading(report.headings.files, level=2)
    document.add_paragraph(report.files_note)
    document.add_heading(report.headings.software, level=2)
    document.add_paragraph(report.build_record + ".")
    _table(document, report.software)


# --- tables --------------------------------------------------------------------------------------


def _table(document: Document, table: Table) -> None:
    """A Word table: caption above, header rows repeated, spans merged, booktabs rules, notes below."""
    caption = document.add_paragraph(style="Caption")
    if table.number:
        caption.add_run(f"Table {table.number}.").bold = True
        caption.add_run(" ")
    caption.add_run(table.title)
    caption.paragraph_format.keep_with_next = True
    rows = [*table.head, *table.rows()]
    placed = _place(rows)
    n_columns = max((column + cell.colspan for _, column, cell in placed), default=1)
    word = document.add_table(rows=len(rows), cols=n_columns)
    word.autofit = False  # the widths below, fitted to the cells (python-docx: a fixed layout)
    _cell_margins(word)
    grid = word._cells  # one cell per row and column, row by row, before any merge (table.cell is slow)
    widths = _column_widths(placed, n_columns)
    for column, width in enumerate(widths):
        word.columns[column].width = width
    for index, target in enumerate(grid):
        target.width = widths[index % n_columns]
    for r in range(len(table.head)):
        _repeat_header(word.rows[r])
    # Booktabs: a heavy rule above the head and below the body, a light one under the head and each spanner.
    last_head = len(table.head) - 1
    for r, column, cell in placed:
        _fill(grid[r * n_columns + column], cell, head=r < len(table.head), flagged=rows[r].flagged)
        edges: dict[str, int] = {}
        if r == 0:
            edges["top"] = HEAVY_RULE
        if r < len(table.head) and (r + cell.rowspan - 1 == last_head or cell.role == "heading"):
            edges["bottom"] = LIGHT_RULE
        if r + cell.rowspan == len(rows) and r >= len(table.head):
            edges["bottom"] = HEAVY_RULE
        for down in range(cell.rowspan):  # on every grid cell the span covers, so that Word draws it whole
            edge = {k: v for k, v in edges.items() if (k == "top" and down == 0) or (k == "bottom" and down == cell.rowspan - 1)}
            for across in range(cell.colspan):
                if edge:
                    _borders(grid[(r + down) * n_columns + column + across], edge)
    for r, column, cell in placed:  # merged last, the text and rules in place (few cells span)
        if cell.colspan > 1 or cell.rowspan > 1:  # the grid's cells outside any span stay valid after a merge
            grid[r * n_columns + column].merge(grid[(r + cell.rowspan - 1) * n_columns + column + cell.colspan - 1])
    for note in table.notes:
        paragraph = document.add_paragraph(style=NOTE_STYLE)
        if note.mark:
            mark = paragraph.add_run(note.mark)
            mark.font.superscript = True
            paragraph.add_run(" ")
        paragraph.add_run(note.text)
        paragraph.paragraph_format.space_after = Pt(1)
    if table.notes:
        paragraph.paragraph_format.space_after = Pt(BODY_PT)


def _place(rows: list[Row]) -> list[tuple[int, int, Cell]]:
    """(row, column, cell) for every cell, columns counted as HTML does: a rowspan from above takes its place."""
    placed: list[tuple[int, int, Cell]] = []
    occupied: set[tuple[int, int]] = set()
    for r, row in enumerate(rows):
        column = 0
        for cell in row.cells:
            while (r, column) in occupied:
                column += 1
            placed.append((r, column, cell))
            occupied.update(
                (r + down, column + across) for down in range(cell.rowspan) for across in range(cell.colspan)
            )
            column += cell.colspan
    return placed


def _column_widths(placed: list[tuple[int, int, Cell]], n_columns: int) -> list[int]:
    """Widths (EMU) that keep every number on one line, the label column taking what is left (at least its
    longest word); columns of running text share the rest in proportion to their text."""
    text_width = PAGE_WIDTH_MM - 2 * MARGIN_MM
    number = [0.0] * n_columns  # the longest unbreakable cell of a column of numbers
    word = [0.0] * n_columns  # the longest word
    full = [0.0] * n_columns  # the longest cell, unbroken
    numeric = [False] * n_columns
    for _, column, cell in placed:
        if cell.colspan != 1:
            continue
        texts = [(cell.text + cell.mark, TABLE_PT), *((line, LINE_PT) for line in cell.lines)]
        widths = [_text_mm(text, size) for text, size in texts]
        if cell.role == "number":
            numeric[column] = numeric[column] or not cell.header
            number[column] = max(number[column], *widths)
        longest_word = max((_text_mm(w, size) for text, size in texts for w in text.split()), default=0.0)
        word[column] = max(word[column], longest_word)
        full[column] = max(full[column], *widths)
    padding = 2 * CELL_PADDING_MM + 0.8
    need = [(number[c] if numeric[c] else word[c]) + padding for c in range(n_columns)]
    free = [c for c in range(n_columns) if not numeric[c]]
    left = text_width - sum(need[c] for c in range(n_columns) if numeric[c])
    wants = {c: max(need[c], full[c] + padding) for c in free}
    if free and sum(wants.values()) <= left:  # every text unbroken; the label column takes the rest
        need = [wants.get(c, need[c]) for c in range(n_columns)]
        need[free[0]] += left - sum(wants.values())
    elif free and sum(need[c] for c in free) < left:  # what is left shared by how much more each text wants
        share, extra = left - sum(need[c] for c in free), sum(wants[c] - need[c] for c in free)
        need = [need[c] + share * (wants[c] - need[c]) / extra if c in wants else need[c] for c in range(n_columns)]
    scale = min(1.0, text_width / sum(need)) if sum(need) else 1.0
    return [Mm(width * scale) for width in need]


def _style_id(name: str) -> str:
    return name.replace(" ", "")


def _text_mm(text: str, size_pt: float) -> float:
    return sum(ADVANCE_EM.get(character, 0.5) for character in text) * size_pt / PT_PER_MM


def _cell_margins(word) -> None:  # a docx.table.Table
    """CELL_PADDING_MM left and right in every cell (w:tblCellMar), in place of Word's wider default."""
    margins = OxmlElement("w:tblCellMar")
    for edge in ("left", "right"):
        margin = OxmlElement(f"w:{edge}")
        margin.set(qn("w:w"), str(round(CELL_PADDING_MM * 1440 / 25.4)))
        margin.set(qn("w:type"), "dxa")
        margins.append(margin)
    word._tbl.tblPr.insert_element_before(margins, "w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange")


def _fill(target: _Cell, cell: Cell, *, head: bool, flagged: bool) -> None:
    """The cell's text (and footnote letter), then each further line as a smaller paragraph below it."""
    if cell.role in ("number", "detail"):
        alignment = WD_ALIGN_PARAGRAPH.RIGHT
    elif cell.role == "heading" and head:
        alignment = WD_ALIGN_PARAGRAPH.CENTER
    else:
        alignment = WD_ALIGN_PARAGRAPH.LEFT
    target.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.BOTTOM if head else WD_CELL_VERTICAL_ALIGNMENT.TOP
    first = target.paragraphs[0]
    paragraphs = [(first, cell.text, TABLE_PT)]
    paragraphs += [(target.add_paragraph(), line, LINE_PT) for line in cell.lines]
    for index, (paragraph, text, size) in enumerate(paragraphs):
        paragraph._p.style = _style_id(TABLE_STYLE)  # by id: python-docx's lookup by name is slow
        paragraph.alignment = alignment
        if cell.indent:
            paragraph.paragraph_format.left_indent = Mm(INDENT_MM)
        runs = [paragraph.add_run(text)] if text else []
        if index == 0 and cell.mark:
            mark = paragraph.add_run(cell.mark)
            mark.font.superscript = True
            runs.append(mark)
        for run in runs:
            run.font.size = Pt(size) if size != TABLE_PT else None
            run.italic = True if cell.role == "heading" and not head else None
            run.bold = True if cell.kind == "mismatch" else None
            if flagged:
                run.font.color.rgb = RGBColor.from_string(FLAG_COLOUR)


def _repeat_header(row) -> None:  # a docx.table._Row
    """Repeat the row at the top of every page the table runs onto (w:tblHeader)."""
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(header)


def _borders(target: _Cell, edges: dict[str, int]) -> None:
    """Single rules of the given widths (eighths of a point) on the cell's edges (w:tcBorders)."""
    properties = target._tc.get_or_add_tcPr()
    borders = OxmlElement("w:tcBorders")
    for edge in ("top", "bottom"):  # the schema's order
        if edge in edges:
            rule = OxmlElement(f"w:{edge}")
            rule.set(qn("w:val"), "single")
            rule.set(qn("w:sz"), str(edges[edge]))
            rule.set(qn("w:space"), "0")
            rule.set(qn("w:color"), "000000")
            borders.append(rule)
    successors = ("w:shd", "w:noWrap", "w:tcMar", "w:textDirection", "w:tcFitText", "w:vAlign", "w:hideMark")
    properties.insert_element_before(borders, *successors)


# --- figures -------------------------------------------------------------------------------------


def _figure(document: Document, figure, context: ExportContext) -> None:  # a document.ReportFigure
    """The figure as PNG at its printed width, its alternative text as the picture's description, its caption."""
    if context.drawings is not None:
        png, width_mm = report_png(context.drawings, figure.figure.name, FIGURE_DPI)
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.keep_with_next = True
        picture = paragraph.add_run().add_picture(io.BytesIO(png), width=Mm(min(width_mm, PAGE_WIDTH_MM - 2 * MARGIN_MM)))
        picture._inline.docPr.set("descr", figure.alt)
        picture._inline.docPr.set("title", figure.title)
    caption = document.add_paragraph(style="Caption")
    caption.add_run(f"Figure {figure.number}.").bold = True
    caption.add_run(f" {figure.title}. {figure.caption}")


# --- reproducible bytes --------------------------------------------------------------------------


def _fixed_zip(data: bytes) -> bytes:
    """The same zip with every entry dated ZIP_DATE (python-docx stamps them with the time of saving)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, source.read(entry.filename))
    return buffer.getvalue()
