"""The HTML exporter: the report's view for the templates, then the filled templates (report.html).

The document (``reportgen.document``) says what each cell is; here it becomes what the templates print: tag
names (``th``/``td`` with their scope), CSS classes, column widths (``fit_columns``, from the font metrics and
type sizes of the active report.css, ``reportgen.stylesheet``) and the figures as inline SVG. The templates
(``templates/`` or a user's ``--templates`` folder first) hold layout only: every number arrives already
written by the Formatter, every table arrives as rows of cells, so a template never computes, formats, or
branches on a type. One Jinja environment is built here, in ``make_environment``: sandboxed (a user's template
cannot reach Python internals), autoescape on for every template (workbook text such as titles, patient ids and
withdrawal reasons is untrusted), every printed string first made inert by ``reportgen.untrusted.visible`` (a
bidi override in a file name cannot reverse it on the page), ``StrictUndefined`` (a typo in a template is an
error, not a blank), filters from the Formatter. The HTML is one self-contained file: CSS inline, fonts as
``data:`` URIs, figures as inline SVG. The PDF is made from it (``reportgen.pdf``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from markupsafe import Markup

from reportgen import document as doc
from reportgen.document import Note
from reportgen.errors import BuildError, UsageError
from reportgen.fonts import font_faces
from reportgen.model import DEFAULT_FORMATS, BuildInfo, Figure, Problem, PublishedCheck, RenderedReport, Results
from reportgen.resources import templates_dir
from reportgen.stylesheet import PT_PER_MM, TableLayout, TableMetrics, table_layout
from reportgen.untrusted import LINE_BREAKS, visible

if TYPE_CHECKING:
    import jinja2

    from reportgen.exporters import ExportContext
    from reportgen.formatting import Formatter

REPORT_TEMPLATE = "report.html.j2"
STYLESHEET = "report.css"  # included by REPORT_TEMPLATE; its table metrics drive ``fit_columns``
LONG_TABLE_ROWS = 25  # longer tables may break across pages (their header row repeats)
# The appendix listings and the published check have fixed column widths (percentages of the text width);
# the decision records are always long enough to break across pages.
COLUMN_WIDTHS = {
    "published": ("46%", "9%", "10%", "9%", "26%"),
    "carried": ("22%", "14%", "64%"),
    "decisions": ("24%", "8%", "68%"),
}
LONG_ALWAYS = ("decisions",)
LONG_WHEN_MANY_ROWS = ("published", "carried")
# The CSS classes of a cell's role (a "heading" is a spanner in the head, a group heading in the body) and kind.
ROLE_CLASSES = {"stub": "stub", "number": "num", "text": "", "detail": "estimates"}
KIND_CLASSES = {"": "", "p": "p", "id": "id", "reason": "reason", "decision": "decision",
                "match": "verdict match", "mismatch": "verdict mismatch"}  # fmt: skip
# For column widths computed from the cells (``fit_columns``, with the type sizes and page width of the active
# report.css, see ``reportgen.stylesheet``): advances in em of the shipped serif (templates/fonts,
# read from its hmtx table), rounded up; letters not listed count as wide capitals.
ADVANCE_EM = {
    **dict.fromkeys("0123456789–", 0.5),
    **dict.fromkeys(".,:; \u00a0\u2009", 0.25),
    **dict.fromkeys("±<>=≤≥−+×", 0.685),
    **dict.fromkeys("[]()", 0.334),
    **dict.fromkeys("abcdeghknopqsuvxyz", 0.5),
    **dict.fromkeys("fijlrt", 0.34),
    "%": 0.75,
}
WIDE_EM = 0.75


# --- the templates' view -----------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    text: str
    lines: tuple[str, ...] = ()  # further lines in smaller type (e.g. median [IQR], stratum range, n)
    tag: str = "td"  # "th" for headers
    scope: str = ""  # "col" | "row" | "colgroup" for headers
    classes: str = ""  # "num", "stub", "indent", "group"
    colspan: int = 1
    rowspan: int = 1
    mark: str = ""  # footnote letter


@dataclass(frozen=True)
class Row:
    cells: tuple[Cell, ...]
    classes: str = ""


@dataclass(frozen=True)
class RowGroup:
    rows: tuple[Row, ...]
    classes: str = ""


@dataclass(frozen=True)
class Table:
    id: str
    number: int
    title: str
    head: tuple[Row, ...]
    groups: tuple[RowGroup, ...]
    notes: tuple[Note, ...]
    classes: str = ""
    # Column widths (CSS lengths, e.g. "22%"), written as <colgroup>: with them a table can be laid out
    # with `table-layout: fixed`, which spares WeasyPrint measuring every cell's content first.
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class FigureView:
    id: str
    number: int
    title: str
    caption: str
    svg: Markup
    alt: str = ""  # what the figure shows, with its main numbers: the SVG's <title>, the PDF's /Alt


@dataclass(frozen=True)
class ReportView(doc.Report):
    """What the templates see as ``report``: ``document.Report`` with its tables and figures as HTML, and the
    fonts. Only the fields whose type changes are declared again (a dataclass keeps their place); the rest are
    the document's own."""

    tables: tuple[Table, ...]
    figures: tuple[FigureView, ...]
    published: tuple[doc.PublishedView[Table], ...]
    carried_forward: doc.CarriedForwardView[Table]
    decisions: Table
    software: Table
    font_faces: Markup = field(kw_only=True)  # required; keyword-only, as it follows the fields with defaults


# --- entry points ------------------------------------------------------------------------------


def export(report: doc.Report, context: ExportContext) -> bytes:
    """report.html's bytes (the exporters' interface, ``reportgen.exporters``)."""
    return render_html(report, context.formatter, context.templates).encode("utf-8")


def render_html(report: doc.Report, formatter: Formatter, templates: Path | None = None) -> str:
    """The report filled into the templates (a user's ``templates`` folder first)."""
    environment = make_environment(formatter, templates)
    view = report_view(report, _stylesheet(environment))
    try:
        return environment.get_template(REPORT_TEMPLATE).render(report=view)
    except Exception as error:  # a user's template may fail in any way; name it, never a traceback
        import jinja2

        if not isinstance(error, jinja2.TemplateError):
            raise
        where = f" ({error.name}, line {error.lineno})" if isinstance(error, jinja2.TemplateSyntaxError) else ""
        raise BuildError(f"the report template could not be rendered{where}: {error.message}") from None


def render_report(
    *,
    results: Results,
    figures: tuple[Figure, ...],
    published: PublishedCheck | None,
    info: BuildInfo,
    warnings: tuple[Problem, ...],
    formatter: Formatter,
    templates: Path | None,
    source_bytes: int | None = None,
    draft: bool = False,
    formats: frozenset[str] = DEFAULT_FORMATS,
) -> RenderedReport:
    """The document built from the results and written as HTML, with the abstract as plain text (abstract.txt)."""
    from reportgen.narrative import write_narrative

    narrative = write_narrative(results, formatter)
    report = doc.build_document(
        results=results, narrative=narrative, figures=figures, published=published, info=info,
        warnings=warnings, formatter=formatter, source_bytes=source_bytes, draft=draft, formats=formats,
    )  # fmt: skip
    return RenderedReport(html=render_html(report, formatter, templates), abstract_text=doc.abstract_text(narrative))


# --- from the document to the view -------------------------------------------------------------


def report_view(report: doc.Report, stylesheet: str | None = None) -> ReportView:
    """The templates' view of ``report``; ``stylesheet``, the text of the active report.css (None: the built-in
    one), gives the layout numbers the results tables' column widths are fitted with."""
    if stylesheet is None:
        stylesheet = (templates_dir() / STYLESHEET).read_text(encoding="utf-8")
    layout = table_layout(stylesheet)
    fields = {field.name: getattr(report, field.name) for field in dataclasses.fields(report)}
    carried = report.carried_forward
    return ReportView(
        **{
            **fields,
            "tables": tuple(fit_columns(html_table(table), layout) for table in report.tables),
            "figures": tuple(figure_view(figure) for figure in report.figures),
            "published": tuple(
                doc.PublishedView(html_table(p.table), p.findings, p.source_name) for p in report.published
            ),
            "carried_forward": doc.CarriedForwardView(
                carried.summary, html_table(carried.table) if carried.table is not None else None, carried.more
            ),
            "decisions": html_table(report.decisions),
            "software": html_table(report.software),
            "font_faces": font_faces(),
        }
    )


def html_table(table: doc.Table) -> Table:
    """A document table with tags, CSS classes and (for the listings) fixed column widths."""
    long = table.kind in LONG_ALWAYS or (table.kind in LONG_WHEN_MANY_ROWS and len(table.rows()) > LONG_TABLE_ROWS)
    classes = " ".join(c for c in ("appendix" if table.appendix else "", table.kind, "long" if long else "") if c)
    return Table(
        id=table.id,
        number=table.number,
        title=table.title,
        head=tuple(_row(row, head=True) for row in table.head),
        groups=tuple(
            RowGroup(tuple(_row(row, head=False) for row in group.rows), "second-view" if group.second_view else "")
            for group in table.groups
        ),
        notes=table.notes,
        classes=classes,
        columns=COLUMN_WIDTHS.get(table.kind, ()),
    )


def _row(row: doc.Row, *, head: bool) -> Row:
    classes = "flagged" if row.flagged else "estimates" if any(c.role == "detail" for c in row.cells) else ""
    return Row(tuple(_cell(cell, head=head) for cell in row.cells), classes)


def _cell(cell: doc.Cell, *, head: bool) -> Cell:
    role = ("spanner" if head else "group") if cell.role == "heading" else ROLE_CLASSES[cell.role]
    classes = " ".join(c for c in (role, "indent" if cell.indent else "", KIND_CLASSES[cell.kind]) if c)
    return Cell(
        cell.text,
        lines=cell.lines,
        tag="th" if cell.header else "td",
        scope=cell.header,
        classes=classes,
        colspan=cell.colspan,
        rowspan=cell.rowspan,
        mark=cell.mark,
    )


def figure_view(figure: doc.ReportFigure) -> FigureView:
    return FigureView(
        id=figure.id, number=figure.number, title=figure.title, caption=figure.caption,
        svg=Markup(titled_svg(figure.figure.svg, figure.alt)), alt=figure.alt,
    )  # fmt: skip


def titled_svg(svg: str, title: str) -> str:
    """``svg`` with ``title`` as its first child ``<title>``: WeasyPrint writes it as the PDF Figure's /Alt."""
    import html

    end = svg.index(">", svg.index("<svg")) + 1
    return f"{svg[:end]}<title>{html.escape(title, quote=False)}</title>{svg[end:]}"



def make_environment(formatter: Formatter, templates: Path | None = None) -> jinja2.Environment:
    """The one Jinja environment: user templates first, then the built-in ones."""
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    search = [templates_dir().resolve()]
    if templates is not None:
        if not templates.is_dir():
            raise UsageError(f"--templates {templates}: no such folder")
        search.insert(0, templates.resolve())
    folders = tuple(search)
    environment = SandboxedEnvironment(
        loader=jinja2.FunctionLoader(lambda name: _template_source(folders, name)),
        autoescape=True,  # select_autoescape() would leave *.j2 unescaped
        finalize=_inert,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters.update(formatter.filters())
    return environment


def _inert(value: object) -> object:
    """Every string a template prints, controls and bidi overrides shown as escapes; Markup is reportgen's own."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return visible(value, keep=LINE_BREAKS)
    return value


def _template_source(folders: tuple[Path, ...], name: str) -> tuple[str, str, None] | None:
    """A template's text from the first of ``folders`` (resolved) that has it; None when none has.

    A template can only be read inside its folder: Jinja's name check refuses names that climb out
    ("../x"), and the file found is resolved (symbolic links, of the file or of a folder on its way) and
    refused when it lies outside, so ``ln -s /etc/passwd passwd.j2`` cannot put a file into the report.
    """
    import jinja2
    from jinja2.loaders import split_template_path

    pieces = split_template_path(name)
    for folder in folders:
        candidate = folder.joinpath(*pieces)
        if not candidate.is_file():
            continue
        real = candidate.resolve()
        if not real.is_relative_to(folder):
            raise jinja2.TemplateError(
                f"template {name!r} in {folder} leads outside that folder (to {real}); "
                "templates are read only inside their folder"
            )
        try:
            return real.read_text(encoding="utf-8"), str(candidate), None
        except (OSError, UnicodeDecodeError) as error:
            raise jinja2.TemplateError(f"template {name!r} in {folder} could not be read: {error}") from None
    return None


def _stylesheet(environment: jinja2.Environment) -> str | None:
    """The text of the report.css the template will include (a user's first), None when it cannot be read."""
    import jinja2

    try:
        return environment.loader.get_source(environment, STYLESHEET)[0]  # type: ignore[union-attr]
    except jinja2.TemplateNotFound:
        return None


def fit_columns(table: Table, layout: TableLayout | None) -> Table:
    """The table with widths for its number columns, computed from their longest cell; the stub takes the rest.

    Number cells never wrap (``white-space: nowrap``), so their width follows from their text; with the
    widths given, WeasyPrint lays the table out with ``table-layout: fixed`` instead of measuring the
    minimum and maximum content width of every cell (its slow path). A table too wide for the page in the
    normal type is set in the compact type (a little smaller, narrower padding); one too wide even so (a table
    of many groups) gets a landscape page of its own (class ``wide``, the stylesheet's ``@page wide``), in the
    normal type or else the compact one; one too wide even there keeps the automatic layout, as does every
    table when ``layout`` is None (a stylesheet without the numbers).
    """
    if layout is None:
        return table
    pages = [(layout.width_mm, "")] + ([(layout.wide_width_mm, "wide")] if layout.wide_width_mm is not None else [])
    for width_mm, page in pages:
        for metrics in (layout.normal, layout.compact):
            widths = _column_widths(table, metrics, width_mm)
            if widths is not None:
                classes = " ".join(c for c in (table.classes, metrics.classes, page) if c)
                return dataclasses.replace(table, columns=widths, classes=classes)
    return table


def _column_widths(table: Table, metrics: TableMetrics, width_mm: float) -> tuple[str, ...] | None:
    counts = "counts" in table.classes.split()
    needed: dict[int, float] = {}
    stub = 0.0
    occupied: set[tuple[int, int]] = set()  # (row, column) taken by a rowspan from above
    rows = [*table.head, *(row for group in table.groups for row in group.rows)]
    for r, row in enumerate(rows):
        column = 0
        for cell in row.cells:
            while (r, column) in occupied:
                column += 1
            for below in range(1, cell.rowspan):
                occupied.update((r + below, spanned) for spanned in range(column, column + cell.colspan))
            classes = cell.classes.split()
            if cell.colspan == 1 and "num" in classes:
                extra = (
                    metrics.counts_padding_mm - metrics.padding_mm
                    if counts
                    else metrics.p_padding_mm - metrics.padding_mm if "p" in classes else 0.0
                )
                needed[column] = max(needed.get(column, 0.0), _cell_width_mm(cell, metrics) + extra)
            elif column == 0 and cell.colspan == 1:
                longest = max((_ems(word) for word in cell.text.split()), default=0.0) * metrics.cell_pt / PT_PER_MM
                indent = metrics.indent_mm - metrics.padding_mm if "indent" in classes else 0.0
                stub = max(stub, longest + 2 * metrics.padding_mm + indent + 1.0)
            column += cell.colspan
    n_columns = sum(cell.colspan for cell in table.head[0].cells) if table.head else 0
    if not n_columns or set(needed) != set(range(1, n_columns)):
        return None  # only tables with one text column (the stub, first) and number columns after it
    if width_mm - sum(needed.values()) < stub:
        return None
    return ("", *(f"{needed[column]:.1f}mm" for column in range(1, n_columns)))


def _cell_width_mm(cell: Cell, metrics: TableMetrics) -> float:
    text_pt = _ems(cell.text) * metrics.cell_pt + (_ems(cell.mark) + 0.15) * metrics.mark_pt * bool(cell.mark)
    lines_pt = max((_ems(line) * metrics.line_pt for line in cell.lines), default=0.0)
    return max(text_pt, lines_pt) / PT_PER_MM + 2 * metrics.padding_mm + 0.6  # 0.6 mm to spare


def _ems(text: str) -> float:
    return sum(ADVANCE_EM.get(character, WIDE_EM) for character in text)


