"""Render the report's HTML: build a view model of finished strings in Python, then fill the templates.

The templates (``templates/`` or a user's ``--templates`` folder first) hold layout only: every number
arrives already written by the Formatter, every table arrives as rows of cells, so a template never
computes, formats, or branches on a type. One Jinja environment is built here, in ``make_environment``:
sandboxed (a user's template cannot reach Python internals), autoescape on for every template (workbook
text such as titles, patient ids and withdrawal reasons is untrusted), every printed string first made
inert by ``reportgen.untrusted.visible`` (a bidi override in a file name cannot reverse it on the page),
``StrictUndefined`` (a typo in a template is an error, not a blank), filters from the Formatter. The HTML is one self-contained file:
CSS inline, fonts as ``data:`` URIs, figures as inline SVG.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

from markupsafe import Markup

from reportgen import grouping
from reportgen.errors import BuildError, UsageError
from reportgen.fonts import font_faces
from reportgen.formatting import COUNT_MEASURES, DECIMALS, MISSING, decimals_for
from reportgen.untrusted import LINE_BREAKS, visible
from reportgen.model import (
    ALPHA,
    CI_LEVEL,
    FLOW_FIGURE,
    BuildInfo,
    CarriedForward,
    CategoricalComparison,
    ConfidenceInterval,
    ContinuousComparison,
    DEFAULT_FORMATS,
    JOURNAL_DPI,
    Figure,
    Problem,
    PublishedCheck,
    RenderedReport,
    Results,
    Stratum,
    Summary,
    TestName,
    TestResult,
)
from reportgen.narrative import (
    PRIMARY_OUTCOME,
    SENSITIVITY_NAMES,
    Narrative,
    Section,
    adjusted_model_sentence,
    adjusted_patients_sentence,
    interval_methods_note,
    primary_comparison,
    sensitivity_results,
    test_records,
    write_estimates,
    write_narrative,
)
from reportgen.pdf_job import EMBED_SOURCE_UP_TO, SOURCE_REFERENCE
from reportgen.prose import BUILD_DATE_FORMAT, build_record, capital, group_sizes, not_estimated, not_tested, p_or_reason, patients, verb
from reportgen.resources import templates_dir
from reportgen.stylesheet import PT_PER_MM, TableLayout, TableMetrics, table_layout

if TYPE_CHECKING:
    import jinja2

    from reportgen.formatting import Formatter

REPORT_TEMPLATE = "report.html.j2"
STYLESHEET = "report.css"  # included by REPORT_TEMPLATE; its table metrics drive ``fit_columns``
# Long lists are cut in the report (a 100,000-patient registry raised 1,969 warnings: 96 PDF pages) and
# written in full as CSV files beside it, in the build folder (see ``listing_files``).
WARNINGS_LISTED_UP_TO = 20
CARRIED_FORWARD_LISTED_UP_TO = 50
# Reasons for withdrawal are free text: the withdrawals table lists the most frequent, the rest in one row.
WITHDRAWAL_REASONS_LISTED_UP_TO = 10
WARNINGS_CSV = "warnings.csv"
CARRIED_FORWARD_CSV = "carried-forward.csv"
# A CSV cell starting with one of these is a formula to Excel and LibreOffice (OWASP, CSV injection), and so is
# one whose first character after white space is one of them or a full-width or small look-alike (＝ ＋ － ＠ ﹦,
# one of them after NFKC normalisation); workbook text is untrusted.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SHORT_TITLE_CHARACTERS = 70
HASH_DIGITS = 12
# --draft: the header on every page of the PDF (and a banner on screen); without it the report is the
# submission view, whose title block carries no build stamp, checksum or software line (the appendix does).
DRAFT_HEADER = "Draft \u2014 not for submission"
LONG_TABLE_ROWS = 25  # longer tables may break across pages (their header row repeats)
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
# Categories shown alone on a binary Table 1 row (the other one is implied); name shown for the row.
POSITIVE_CATEGORIES = {"yes": None, "true": None, "positive": None, "f": "Female", "female": "Female"}


# --- the view model --------------------------------------------------------------------------


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
class Note:
    text: str
    mark: str = ""  # the footnote letter used in the table, if any


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
class TitleBlock:
    title: str
    short_title: str
    authors: str
    institution: str
    build_date: str
    source_name: str
    source_hash: str
    version: str


@dataclass(frozen=True)
class AbstractView:
    sections: tuple[Section, ...]
    character_count: str
    character_limit: str
    warning: str  # empty when within the limit


@dataclass(frozen=True)
class PublishedView:
    table: Table
    findings: tuple[str, ...]
    source_name: str


@dataclass(frozen=True)
class CarriedForwardView:
    summary: str
    table: Table | None  # None when nobody was carried forward
    more: str = ""  # "… and N more; the full list is in carried-forward.csv." when the table is cut


@dataclass(frozen=True)
class Meta:
    title: str
    author: str
    created: str  # W3C date-time; WeasyPrint takes the PDF's dates from these
    modified: str
    generator: str
    language: str


@dataclass(frozen=True)
class ReportView:
    meta: Meta
    title: TitleBlock
    abstract: AbstractView
    methods: tuple[Section, ...]
    results_intro: str
    tables: tuple[Table, ...]
    figures: tuple[FigureView, ...]
    conclusions: tuple[str, ...]
    limitations: str  # one paragraph, empty when no limitation applies
    published: tuple[PublishedView, ...]  # empty or one: the section is absent without a published check
    warnings: tuple[str, ...]  # the first WARNINGS_LISTED_UP_TO
    warnings_more: str  # "… and N more; the full list is in warnings.csv." when cut, else empty
    files_note: str  # what the PDF carries and what lies beside it in the build folder
    carried_forward: CarriedForwardView
    decisions: Table
    software: Table
    font_faces: Markup
    results_estimates: tuple[str, ...] = ()  # paragraphs after the intro: estimates with their CIs
    # The build stamp, checksum and software line, in the appendix (and the PDF's metadata).
    build_record: str = ""
    # DRAFT_HEADER with --draft (page header, build stamp in the title block), else "" (the submission view).
    draft: str = ""


# --- entry point -------------------------------------------------------------------------------


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
    """HTML of the whole report plus the abstract as plain text (abstract.txt).

    ``source_bytes``, the workbook's size, decides what the appendix says the PDF carries (the workbook up to
    ``EMBED_SOURCE_UP_TO`` bytes, else ``SOURCE_REFERENCE``); None when unknown (the workbook, as for a
    congress-sized cohort).
    """
    narrative = write_narrative(results, formatter)
    environment = make_environment(formatter, templates)
    view = build_view(
        results=results,
        narrative=narrative,
        figures=figures,
        published=published,
        info=info,
        warnings=warnings,
        formatter=formatter,
        source_bytes=source_bytes,
        stylesheet=_stylesheet(environment),
        draft=draft,
        formats=formats,
    )
    try:
        html = environment.get_template(REPORT_TEMPLATE).render(report=view)
    except Exception as error:  # a user's template may fail in any way; name it, never a traceback
        import jinja2

        if not isinstance(error, jinja2.TemplateError):
            raise
        where = f" ({error.name}, line {error.lineno})" if isinstance(error, jinja2.TemplateSyntaxError) else ""
        raise BuildError(f"the report template could not be rendered{where}: {error.message}") from None
    return RenderedReport(html=html, abstract_text=visible(narrative.abstract.as_text(), keep=LINE_BREAKS))


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


# --- building the view -------------------------------------------------------------------------


def build_view(
    *,
    results: Results,
    narrative: Narrative,
    figures: tuple[Figure, ...],
    published: PublishedCheck | None,
    info: BuildInfo,
    warnings: tuple[Problem, ...],
    formatter: Formatter,
    source_bytes: int | None = None,
    stylesheet: str | None = None,
    draft: bool = False,
    formats: frozenset[str] = DEFAULT_FORMATS,
) -> ReportView:
    """The view model; ``stylesheet``, the text of the active report.css (None: the built-in one), gives the
    layout numbers the tables' column widths are fitted with."""
    study = results.study
    stamp = info.build_time.strftime("%Y-%m-%dT%H:%M:%SZ")
    tables = [baseline_table(results, formatter), outcome_table(results, formatter)]
    # The primary outcome's sensitivity analyses and pairwise comparisons follow its result, numbered in turn.
    numbers: dict[str, int] = {}
    if results.sensitivity:
        numbers["sensitivity"] = len(tables) + 1
        tables.append(sensitivity_table(results, formatter, number=numbers["sensitivity"]))
    pairwise = pairwise_table(results, formatter, number=len(tables) + 1)
    if pairwise is not None:
        numbers["pairwise"] = pairwise.number
        tables.append(pairwise)
    numbers["eular"] = len(tables) + 1
    tables.append(eular_table(results, formatter, number=numbers["eular"]))
    if results.activity_categories:
        tables.append(activity_table(results, formatter, number=len(tables) + 1))
    withdrawals = withdrawals_table(results, formatter, number=len(tables) + 1)
    if withdrawals is not None:
        tables.append(withdrawals)
    adjusted_number = None
    if any(outcome.adjusted is not None for outcome in results.outcomes):
        adjusted_number = len(tables) + 1
        tables.append(adjusted_table(results, formatter, number=adjusted_number))
    if stylesheet is None:
        stylesheet = (templates_dir() / STYLESHEET).read_text(encoding="utf-8")
    layout = table_layout(stylesheet)
    tables = [fit_columns(table, layout) for table in tables]
    published_views: tuple[PublishedView, ...] = ()
    if published is not None:
        published_views = (published_view(published, number=len(tables) + 1),)
    return ReportView(
        meta=Meta(
            title=study.title,
            author=study.authors,
            created=stamp,
            modified=stamp,
            generator=f"reportgen {info.version}",
            language="en",
        ),
        title=TitleBlock(
            title=study.title,
            short_title=_shorten(study.title, SHORT_TITLE_CHARACTERS),
            authors=study.authors,
            institution=study.institution,
            build_date=info.build_time.strftime(BUILD_DATE_FORMAT),
            source_name=info.source_name,
            source_hash=info.source_sha256[:HASH_DIGITS],
            version=info.version,
        ),
        abstract=AbstractView(
            sections=narrative.abstract.sections,
            character_count=formatter.integer(narrative.abstract.character_count),
            character_limit=formatter.integer(narrative.abstract.character_limit),
            warning=narrative.abstract.warning or "",
        ),
        methods=narrative.methods,
        results_intro=_results_intro(results, formatter, adjusted=adjusted_number, **numbers)
        + _flow_intro(results, figures, withdrawals)
        + _sensitivity_intro(results, formatter),
        results_estimates=write_estimates(results, formatter),
        tables=tuple(tables),
        figures=tuple(
            FigureView(
                id=f"figure-{f.number}", number=f.number, title=f.title, caption=f.caption,
                svg=Markup(titled_svg(f.svg, figure_alt(f))), alt=figure_alt(f),
            )
            for f in figures
        ),
        conclusions=narrative.conclusions,
        limitations=" ".join(narrative.limitations),
        published=published_views,
        warnings=tuple(problem.sentence() for problem in warnings[:WARNINGS_LISTED_UP_TO]),
        warnings_more=_more(len(warnings), WARNINGS_LISTED_UP_TO, WARNINGS_CSV),
        files_note=files_note(info.source_name, source_bytes, formatter, formats),
        carried_forward=carried_forward_view(results.carried_forward, results.cohort.follow_up_month, results.cohort.n_placed_by_window),
        decisions=decisions_table(results, formatter),
        software=software_table(info),
        font_faces=font_faces(),
        build_record=build_record(info, HASH_DIGITS),
        draft=DRAFT_HEADER if draft else "",
    )


def figure_alt(figure: Figure) -> str:
    """A figure's alternative text: its own (what it shows, its main numbers), else its title and caption."""
    return figure.alt or f"{figure.title}. {figure.caption}"


def titled_svg(svg: str, title: str) -> str:
    """``svg`` with ``title`` as its first child ``<title>``: WeasyPrint writes it as the PDF Figure's /Alt."""
    import html

    end = svg.index(">", svg.index("<svg")) + 1
    return f"{svg[:end]}<title>{html.escape(title, quote=False)}</title>{svg[end:]}"


def stratum_header(stratum: Stratum, formatter: Formatter) -> Cell:
    """'Q2' over '4.20–11.30' over 'n = 7': the range as clinicians write it; the closed side is said once in
    each table's notes (``grouping.closed_side``)."""
    interval = grouping.group_range(stratum.lower, stratum.upper, formatter)
    return Cell(stratum.label, lines=(interval, f"n = {stratum.n}"), tag="th", scope="col", classes="num")


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


class _Footnotes:
    """Assigns letters to the tests named in a table, in order of first use."""

    def __init__(self, formatter: Formatter, results: Results) -> None:
        self._formatter = formatter
        self._letters: dict[tuple[TestName, str], str] = {}
        self.across = f"across {grouping.plural(results)}"  # what an omnibus test compared
        self.ordered = f"across the ordered {grouping.plural(results)}"  # what a trend test followed

    def mark(self, test: TestName, purpose: str) -> str:
        key = (test, purpose)
        if key not in self._letters:
            self._letters[key] = "abcdefghijklmnopqrstuvwxyz"[len(self._letters)]
        return self._letters[key]

    def notes(self) -> tuple[Note, ...]:
        return tuple(
            Note(f"{self._formatter.test_name(test)} {purpose}.", mark=letter)
            for (test, purpose), letter in self._letters.items()
        )


def _group_head(results: Results, formatter: Formatter, stub: str, extra: Sequence[Cell]) -> tuple[Row, ...]:
    n_strata = len(results.strata)
    first = Row(
        (
            Cell(stub, tag="th", scope="col", classes="stub", rowspan=2),
            Cell("All patients", lines=(f"n = {results.cohort.n_included}",), tag="th", scope="col", classes="num", rowspan=2),
            Cell(f"Trough-level {grouping.singular(results)} ({results.study.level_unit})", tag="th", scope="colgroup", classes="spanner", colspan=n_strata),
            *(Cell(c.text, lines=c.lines, tag="th", scope="col", classes=c.classes, rowspan=2, mark=c.mark) for c in extra),
        )
    )
    second = Row(tuple(stratum_header(s, formatter) for s in results.strata))
    return first, second


def _p_cell(test: TestResult, purpose: str, notes: _Footnotes, formatter: Formatter) -> Cell:
    """The p of a test, its footnote naming the test; a test not computed gets a footnote saying why."""
    if test.p_value is None and test.not_tested:
        return Cell(formatter.p_value(None), classes="num p", mark=notes.mark(test.test, f"{purpose}, {not_tested(test.not_tested)}"))
    mark = notes.mark(test.test, purpose) if test.p_value is not None else ""
    return Cell(formatter.p_value(test.p_value), classes="num p", mark=mark)


def baseline_table(results: Results, formatter: Formatter) -> Table:
    notes = _Footnotes(formatter, results)
    groups: list[RowGroup] = []
    for comparison in results.baseline:
        if isinstance(comparison, ContinuousComparison):
            groups.append(RowGroup((_continuous_row(comparison, formatter, notes),)))
        else:
            groups.append(RowGroup(_categorical_rows(comparison, formatter, notes)))
    missing = dict(results.missing)
    groups = [
        _with_known(group, results.cohort.n_included - missing.get(comparison.variable, 0))
        if missing.get(comparison.variable, 0)
        else group
        for comparison, group in zip(results.baseline, groups)
    ]
    head = _group_head(results, formatter, "Characteristic", (Cell("p", classes="num p"),))
    return Table(
        id="table-1",
        number=1,
        title=f"Baseline characteristics, all included patients and by trough-level {grouping.singular(results)}",
        head=head,
        groups=tuple(groups),
        notes=(
            Note(
                "Values are mean ± SD with median [interquartile range] below, or n (%) with percentages of the "
                f"patients with a known value in each column. {grouping.capital_singular(results)} columns hold the analysed patients"
                + (
                    f"; {patients(results.cohort.n_no_level)} without a trough level "
                    f"{verb(results.cohort.n_no_level, 'appears', 'appear')} under All patients only."
                    if results.cohort.n_no_level
                    else "."
                )
                + (f" {KNOWN_NOTE}" if any(count for _, count in results.missing) else "")
            ),
            Note(grouping.closed_side(results, formatter)),
            *notes.notes(),
        ),
    )


# Table 1's note when a variable has missing values, and the line under such a variable's name.
KNOWN_NOTE = (
    "Where values are missing, “known for n” beside a characteristic gives the patients with a value; its "
    "summaries and percentages are of them."
)


def known_for(known: int) -> str:
    return f"known for {known}"


def _with_known(group: RowGroup, known: int) -> RowGroup:
    """A Table 1 row group with 'known for 32' (patients with a value) beside the variable's name."""
    first, *rest = group.rows
    stub, *cells = first.cells
    stub = dataclasses.replace(stub, lines=(*stub.lines, known_for(known)))
    return dataclasses.replace(group, rows=(dataclasses.replace(first, cells=(stub, *cells)), *rest))


def _continuous_row(
    comparison: ContinuousComparison, formatter: Formatter, notes: _Footnotes, *, intervals: bool = False
) -> Row:
    """A continuous variable's row; ``intervals`` adds, below the mean and below the median, their 95% CIs."""
    variable = comparison.variable
    label = f"{comparison.label} ({comparison.unit})" if comparison.unit else comparison.label
    summaries = (comparison.overall, *comparison.groups)
    decimals = decimals_for(variable)

    def ci(interval: ConfidenceInterval | None, summary: Summary) -> tuple[str, ...]:
        return (formatter.interval_span(interval, decimals),) if intervals and summary.n else ()

    if variable in COUNT_MEASURES:  # a small count: median [IQR] only, said in its label
        cells = tuple(Cell(formatter.median_iqr(s, variable), lines=ci(s.median_ci, s), classes="num") for s in summaries)
        label += ", median [IQR]"
    else:
        cells = tuple(
            Cell(
                formatter.mean_sd(s, variable),
                lines=(*ci(s.mean_ci, s), formatter.median_iqr(s, variable), *ci(s.median_ci, s)),
                classes="num",
            )
            for s in summaries
        )
    return Row(
        (
            Cell(label, tag="th", scope="row", classes="stub"),
            *cells,
            _p_cell(comparison.test, notes.across, notes, formatter),
        )
    )


def _categorical_rows(comparison: CategoricalComparison, formatter: Formatter, notes: _Footnotes) -> tuple[Row, ...]:
    overall_total = sum(comparison.overall)
    column_totals = [sum(column) for column in zip(*comparison.counts)] if comparison.counts else []

    def cells(index: int) -> tuple[Cell, ...]:
        return (
            Cell(formatter.n_percent(comparison.overall[index], overall_total), classes="num"),
            *(
                Cell(formatter.n_percent(count, total), classes="num")
                for count, total in zip(comparison.counts[index], column_totals)
            ),
        )

    positive = _positive_category(comparison.categories)
    if positive is not None:
        index, name = positive
        label = f"{name or comparison.label}, n (%)"
        return (Row((Cell(label, tag="th", scope="row", classes="stub"), *cells(index), _p_cell(comparison.test, notes.across, notes, formatter))),)
    width = 1 + len(column_totals)
    header = Row(
        (
            Cell(f"{comparison.label}, n (%)", tag="th", scope="row", classes="stub"),
            *(Cell("", classes="num") for _ in range(width)),
            _p_cell(comparison.test, notes.across, notes, formatter),
        )
    )
    rows = [header]
    for index, category in enumerate(comparison.categories):
        rows.append(Row((Cell(str(category), tag="th", scope="row", classes="stub indent"), *cells(index), Cell("", classes="num"))))
    return tuple(rows)


def _positive_category(categories: tuple[str, ...]) -> tuple[int, str | None] | None:
    """For a two-category variable such as yes/no or F/M, the category shown on a single row."""
    if len(categories) != 2:
        return None
    for index, category in enumerate(categories):
        key = str(category).strip().lower()
        if key in POSITIVE_CATEGORIES:
            return index, POSITIVE_CATEGORIES[key]
    return None


def _estimates_row(outcome: ContinuousComparison, formatter: Formatter, width: int) -> Row | None:
    """Under an outcome's row, across the table: its effect size and the shift between the highest and the
    lowest group, each with its CI: 'ε² 0.52 (95% CI 0.33 to 0.75); Q4 − Q1 shift −2.00 (95% CI −3.61 to −0.97)'."""
    test, shift = outcome.test, outcome.difference
    parts = []
    if test.effect_size is not None:
        decimals = DECIMALS["effect_size"]
        interval = test.effect_size_ci
        ci = f" ({formatter.ci_label(interval.level)} {formatter.interval(interval, decimals)})" if interval and interval.lower is not None else ""
        parts.append(f"{formatter.effect_size_symbol(test.effect_size_name)} {formatter.number(test.effect_size, decimals)}{ci}")
    if shift is not None and shift.estimate is not None:
        decimals = decimals_for(outcome.variable)
        ci = f" ({formatter.ci_label(shift.ci.level)} {formatter.interval(shift.ci, decimals)})" if shift.ci.lower is not None else ""
        parts.append(f"{shift.high} − {shift.low} shift {formatter.measure(shift.estimate, outcome.variable)}{ci}")
    if not parts:
        return None
    return Row(
        (Cell("", tag="th", scope="row", classes="stub"), Cell("", lines=("; ".join(parts),), classes="estimates", colspan=width)),
        classes="estimates",
    )


def outcome_table(results: Results, formatter: Formatter) -> Table:
    notes = _Footnotes(formatter, results)
    primary = primary_comparison(results)
    rows = []
    effect_names = {o.test.effect_size_name for o in results.outcomes if o.test.effect_size_name}
    shifts = [o.difference for o in results.outcomes if o.difference is not None]
    for outcome in results.outcomes:
        row = _continuous_row(outcome, formatter, notes, intervals=True)
        trend = outcome.trend
        trend_cell = (
            _p_cell(trend, notes.ordered, notes, formatter)
            if trend is not None
            else Cell(formatter.p_value(None), classes="num p")
        )
        stub, *cells, p_cell = row.cells
        if outcome is primary:
            stub = dataclasses.replace(stub, lines=(*stub.lines, PRIMARY_OUTCOME))
        if outcome.p_holm is not None and outcome.test.p_value is not None:  # below the p, as the median below the mean
            p_cell = dataclasses.replace(p_cell, lines=(formatter.p_value(outcome.p_holm),))
        main = Row((stub, *cells, p_cell, trend_cell))
        estimates = _estimates_row(outcome, formatter, len(main.cells) - 1)
        rows.append(RowGroup((main, estimates) if estimates else (main,)))
    ci = formatter.ci_label(CI_LEVEL)
    effect = formatter.effect_size_symbol(effect_names.pop()) if len(effect_names) == 1 else "the effect size"
    head = _group_head(
        results,
        formatter,
        "Measure at follow-up",
        (Cell("p", lines=("Holm",), classes="num p"), Cell("p", lines=("trend",), classes="num p")),
    )
    family = sum(1 for outcome in results.outcomes if outcome.p_holm is not None)
    holm_note = (
        f"p across {grouping.plural(results)}, with below it the p adjusted by Holm's method over the {family} overall tests of this "
        "table; secondary outcomes are called significant on the adjusted p"
        + (f", the primary outcome ({primary.label}) on its own p." if primary is not None else ".")
    )
    month = results.cohort.follow_up_month
    return Table(
        id="table-2",
        number=2,
        title=f"Disease activity at month {month} by trough-level {grouping.singular(results)}",
        head=head,
        groups=tuple(rows),
        notes=(
            Note(
                f"Mean ± SD with its {ci} below, then median [interquartile range] with its {ci} ({MISSING}: too few "
                f"patients for an interval). Under each measure: {effect}, the effect size of the test across {grouping.plural(results)}"
                + (
                    f", and the {shifts[0].high} − {shifts[0].low} shift, how much higher a value in {shifts[0].high} "
                    f"lies than one in {shifts[0].low} (the median of all their differences)"
                    if shifts
                    else ""
                )
                + f". Follow-up values use the last observation carried forward for patients without a month-{month} visit."
            ),
            Note(holm_note),
            Note(grouping.closed_side(results, formatter)),
            *notes.notes(),
            Note(interval_methods_note(_outcome_intervals(results), formatter)),
        ),
    )


def _outcome_intervals(results: Results) -> list[tuple[str, ConfidenceInterval | None]]:
    """Every interval Table 2 shows, with what it is of, for the footnote naming their methods."""
    found: list[tuple[str, ConfidenceInterval | None]] = []
    for outcome in results.outcomes:
        for summary in (outcome.overall, *outcome.groups):
            found += [("means", summary.mean_ci), ("medians", summary.median_ci)]
        found.append((outcome.test.effect_size_name or "effect sizes", outcome.test.effect_size_ci))
        if outcome.difference is not None:
            found.append(("shifts", outcome.difference.ci))
    return found


def _count_table(
    comparison: CategoricalComparison,
    results: Results,
    formatter: Formatter,
    *,
    number: int,
    title: str,
    with_row_view: bool,
    with_intervals: bool = False,
) -> Table:
    """A categorical comparison as counts; ``with_intervals`` puts each percentage's CI below it."""
    categories = [str(c).capitalize() for c in comparison.categories]
    column_totals = [sum(column) for column in zip(*comparison.counts)]
    overall_total = sum(comparison.overall)

    def ci(intervals: tuple[ConfidenceInterval, ...], index: int) -> tuple[str, ...]:
        if not with_intervals or index >= len(intervals):
            return ()
        return (formatter.interval_span(_percent_interval(intervals[index]), DECIMALS["percent"]),)

    by_column = RowGroup(
        (
            Row((Cell(f"n (% of {grouping.singular(results)})", tag="th", scope="colgroup", classes="group", colspan=2 + len(column_totals)),)),
            *(
                Row(
                    (
                        Cell(name, tag="th", scope="row", classes="stub indent"),
                        Cell(
                            formatter.n_percent(comparison.overall[i], overall_total),
                            lines=ci(comparison.overall_proportion_cis, i),
                            classes="num",
                        ),
                        *(
                            Cell(
                                formatter.n_percent(c, t),
                                lines=ci(comparison.proportion_cis[i] if i < len(comparison.proportion_cis) else (), j),
                                classes="num",
                            )
                            for j, (c, t) in enumerate(zip(comparison.counts[i], column_totals))
                        ),
                    )
                )
                for i, name in enumerate(categories)
            ),
        )
    )
    groups = [by_column]
    if with_row_view:
        groups.append(
            RowGroup(
                (
                    Row((Cell("Analysed patients, n (% of response category)", tag="th", scope="colgroup", classes="group", colspan=2 + len(column_totals)),)),
                    *(
                        Row(
                            (
                                Cell(name, lines=(f"{sum(comparison.counts[i])} analysed",), tag="th", scope="row", classes="stub indent"),
                                Cell("", classes="num"),
                                *(Cell(formatter.n_percent(c, sum(comparison.counts[i])), classes="num") for c in comparison.counts[i]),
                            )
                        )
                        for i, name in enumerate(categories)
                    ),
                ),
                classes="second-view",
            )
        )
    test = comparison.test
    statistic = []
    if test.statistic is not None and test.test == TestName.CHI_SQUARE:
        statistic.append(f"χ² = {formatter.statistic(test.statistic)}")
    if test.df is not None:
        statistic.append(f"df = {formatter.integer(round(test.df))}")
    statistic.append(p_or_reason(test, formatter))
    if test.effect_size is not None and test.effect_size_name == "cramers-v":
        interval = test.effect_size_ci
        ci = (
            f" ({formatter.ci_label(interval.level)} {formatter.interval(interval, DECIMALS['effect_size'])}; "
            f"{formatter.interval_method(interval.method)})"
            if interval is not None and interval.lower is not None
            else ""
        )
        statistic.append(f"Cramér’s V = {formatter.number(test.effect_size, 2)}{ci}")
    head = _group_head(results, formatter, comparison.label, ())
    notes = [
        Note(f"{formatter.test_name(test.test)} across {grouping.plural(results)}: {'; '.join(statistic)}."),
        *_ordinal_trend_note(comparison, results, formatter),
        Note(f"All patients: every included patient with a known value; {grouping.singular(results)} columns: analysed patients."),
        Note(grouping.closed_side(results, formatter)),
    ]
    if with_intervals:
        intervals = [i for row in comparison.proportion_cis for i in row] + list(comparison.overall_proportion_cis)
        methods = dict.fromkeys(formatter.interval_method(i.method) for i in intervals)
        notes.append(Note(f"Below each percentage of the upper block: its {formatter.ci_label(CI_LEVEL)} ({', '.join(methods)})."))
    if with_row_view:
        notes.insert(
            1,
            Note(
            f"Upper block: percentages of each {grouping.singular(results)} (columns add up to 100%). Lower block: percentages of each "
            "response category (rows add up to 100%).")
        )
    return Table(
        id=f"table-{number}",
        number=number,
        title=title,
        head=head,
        groups=tuple(groups),
        notes=tuple(notes),
        classes="counts",
    )


def _ordinal_trend_note(comparison: CategoricalComparison, results: Results, formatter: Formatter) -> tuple[Note, ...]:
    """The linear-by-linear test of ordered categories across the ordered groups, when there is one."""
    trend = comparison.trend
    if trend is None:
        return ()
    order = " < ".join(str(c) for c in comparison.categories)
    parts = []
    if trend.statistic is not None:
        parts.append(f"M² = {formatter.statistic(trend.statistic)}")
    if trend.df is not None and trend.p_value is not None:
        parts.append(f"df = {formatter.integer(round(trend.df))}")
    parts.append(p_or_reason(trend, formatter))
    if trend.effect_size is not None:
        parts.append(f"r = {formatter.rho(trend.effect_size)}")
    return (Note(f"{formatter.test_name(trend.test)} across the ordered {grouping.plural(results)} and responses ({order}): {'; '.join(parts)}."),)


def eular_table(results: Results, formatter: Formatter, *, number: int = 3) -> Table:
    return _count_table(
        results.eular_response,
        results,
        formatter,
        number=number,
        title=f"EULAR response at month {results.cohort.follow_up_month} by trough-level {grouping.singular(results)}",
        with_row_view=True,
        with_intervals=True,
    )


def _percent_interval(interval: ConfidenceInterval) -> ConfidenceInterval:
    """A proportion's interval (0-1) in percent."""
    scale = [None if bound is None else 100.0 * bound for bound in (interval.lower, interval.upper)]
    return dataclasses.replace(interval, lower=scale[0], upper=scale[1])


def activity_table(results: Results, formatter: Formatter, *, number: int) -> Table:
    """Disease-activity categories at follow-up, one block per index, percentages of each group."""
    tables = [
        _count_table(c, results, formatter, number=number, title="", with_row_view=False) for c in results.activity_categories
    ]
    groups = []
    notes = []
    for comparison, table in zip(results.activity_categories, tables):
        header_row = Row((Cell(comparison.label, tag="th", scope="colgroup", classes="group", colspan=table.groups[0].rows[0].cells[0].colspan),))
        groups.append(RowGroup((header_row, *table.groups[0].rows[1:])))
        notes.append(Note(f"{comparison.label}: {table.notes[0].text}"))
    notes.append(Note(grouping.closed_side(results, formatter)))
    return Table(
        id=f"table-{number}",
        number=number,
        title=f"Disease-activity categories at month {results.cohort.follow_up_month} by trough-level {grouping.singular(results)}, n (% of {grouping.singular(results)})",
        head=_group_head(results, formatter, "Category", ()),
        groups=tuple(groups),
        notes=tuple(notes),
    )


def sensitivity_table(results: Results, formatter: Formatter, *, number: int) -> Table:
    """The primary outcome and EULAR response under each sensitivity analysis: n, estimate with CI, p."""
    high, low = results.strata[-1].label, results.strata[0].label
    primary = primary_comparison(results)
    groups = []
    flagged = any(row.conclusion_changes for row in results.sensitivity)
    # Footnote letters: "a" for a changed conclusion, then one per reason a test could not be computed.
    reasons: dict[str, str] = {}
    letters = "abcdefghijklmnopqrstuvwxyz"[int(flagged) :]
    for outcome in dict.fromkeys(row.outcome for row in results.sensitivity):
        rows = [row for row in results.sensitivity if row.outcome == outcome]
        continuous = outcome != results.eular_response.variable
        estimate = (
            f"Hodges–Lehmann difference {high} − {low}" if continuous else f"good responders, {high} − {low}, percentage points"
        )
        header = Row((Cell(f"{rows[0].label}: {estimate}", tag="th", scope="colgroup", classes="group", colspan=4),))
        body = []
        for row in rows:
            mark = "a" if row.conclusion_changes else ""
            p_mark = ""
            if row.test.p_value is None:
                reason = not_tested(row.test.not_tested or "no p-value")
                p_mark = reasons.setdefault(reason, letters[len(reasons)])
            if continuous:
                value = formatter.measure(row.estimate, outcome)
                interval = formatter.interval(row.ci, decimals_for(outcome))
            else:
                value = formatter.percent(None if row.estimate is None else 100.0 * row.estimate)
                interval = formatter.interval_percent(row.ci)
            body.append(
                Row(
                    (
                        Cell(capital(SENSITIVITY_NAMES[row.analysis]), tag="th", scope="row", classes="stub indent", mark=mark),
                        Cell(formatter.integer(row.n), classes="num"),
                        Cell(value, lines=(interval,), classes="num"),
                        Cell(formatter.p_value(row.test.p_value), classes="num p", mark=p_mark),
                    ),
                    classes="flagged" if row.conclusion_changes else "",
                )
            )
        groups.append(RowGroup((header, *body)))
    level = next((row.ci.level for row in results.sensitivity if row.ci is not None), None)
    ci = "" if level is None else formatter.ci_label(level)
    head = (
        Row(
            (
                Cell("Analysis", tag="th", scope="col", classes="stub"),
                Cell("n", tag="th", scope="col", classes="num"),
                Cell("Estimate", lines=(ci,) if ci else (), tag="th", scope="col", classes="num"),
                Cell("p", tag="th", scope="col", classes="num p"),
            )
        ),
    )
    notes = [
        Note(
            f"The same tests as the primary analysis ({formatter.test_name(primary.test.test) if primary else ''}; "
            f"{formatter.test_name(results.eular_response.test.test)} for EULAR response) across the "
            f"{len(results.strata)} trough-level groups; estimates compare the highest group ({high}) with the lowest "
            f"({low}), {ci or 'interval'} below each. n: patients in the test. Who is left out or imputed: see Methods, "
            "Sensitivity analyses."
        )
    ]
    if flagged:
        notes.append(Note(f"The conclusion changes: p falls on the other side of {formatter.number(ALPHA, 2)} than in the primary analysis.", mark="a"))
    notes.extend(Note(f"{capital(reason)}.", mark=letter) for reason, letter in reasons.items())
    label = primary.label if primary is not None else ""
    return Table(
        id=f"table-{number}",
        number=number,
        title=f"Sensitivity analyses of the primary outcome ({label}) and EULAR response at month {results.cohort.follow_up_month}",
        head=head,
        groups=tuple(groups),
        notes=tuple(notes),
        classes="sensitivity",
    )


def pairwise_table(results: Results, formatter: Formatter, *, number: int) -> Table | None:
    """Dunn's pairwise comparisons of the primary outcome with Holm's adjustment; None when none were run."""
    primary = primary_comparison(results)
    if primary is None or not primary.posthoc:
        return None
    rows = tuple(
        Row(
            (
                Cell(f"{pair.group_a} vs {pair.group_b}", tag="th", scope="row", classes="stub"),
                Cell(formatter.statistic(pair.statistic), classes="num"),
                Cell(formatter.p_value(pair.p_value), classes="num p"),
                Cell(formatter.p_value(pair.p_adjusted), classes="num p"),
            )
        )
        for pair in primary.posthoc
    )
    head = (
        Row(
            (
                Cell("Pair", tag="th", scope="col", classes="stub"),
                Cell("z", tag="th", scope="col", classes="num"),
                Cell("p", tag="th", scope="col", classes="num p"),
                Cell("p", lines=("Holm",), tag="th", scope="col", classes="num p"),
            )
        ),
    )
    notes = (
        Note(
            f"Dunn's test on the ranks of the {formatter.test_name(primary.test.test)}, run because that test was "
            f"significant ({p_or_reason(primary.test, formatter)}). z: mean rank of the second group minus that of the "
            f"first over its standard error, corrected for ties (positive: higher {primary.label} in the second group). "
            f"p Holm: adjusted by Holm's method over the {len(primary.posthoc)} pairs."
        ),
    )
    return Table(
        id=f"table-{number}",
        number=number,
        title=f"Pairwise comparisons of {primary.label} at month {results.cohort.follow_up_month} between trough-level {grouping.plural(results)}",
        head=head,
        groups=(RowGroup(rows),),
        notes=notes,
        classes="pairwise",
    )


def withdrawals_table(results: Results, formatter: Formatter, *, number: int) -> Table | None:
    """Withdrawals before the follow-up visit by reason and trough-level group; None when nobody withdrew."""
    flow = results.flow
    if flow is None or not flow.withdrawn:
        return None
    month = flow.follow_up_month
    listed = flow.withdrawals
    if len(listed) > WITHDRAWAL_REASONS_LISTED_UP_TO:
        # The most frequent reasons, then the rest in one row (before "not recorded", which stays last).
        known = [reason for reason in listed if reason.reason is not None]
        unknown = [reason for reason in listed if reason.reason is None]
        shown = known[: WITHDRAWAL_REASONS_LISTED_UP_TO - 1 - len(unknown)]
        others = known[len(shown) :]
        other_row = (
            f"Other reasons ({len(others)})",
            tuple(sum(reason.counts[k] for reason in others) for k in range(len(flow.groups))),
            sum(reason.overall for reason in others),
        )
        rows_data = [(r.reason, r.counts, r.overall) for r in shown] + [other_row] + [(None, r.counts, r.overall) for r in unknown]
    else:
        rows_data = [(r.reason, r.counts, r.overall) for r in listed]
    sizes = [group.analysed for group in flow.groups]

    def count_cells(counts: Sequence[int], overall: int) -> tuple[Cell, ...]:
        return (
            Cell(formatter.n_percent(overall, flow.included), classes="num"),
            *(Cell(formatter.n_percent(count, size), classes="num") for count, size in zip(counts, sizes)),
        )

    total = Row(
        (
            Cell(f"Withdrawn before month {month}, n (%)", tag="th", scope="row", classes="stub"),
            *count_cells([group.withdrawn for group in flow.groups], flow.withdrawn),
        )
    )
    reasons = tuple(
        Row((Cell(reason or "reason not recorded", tag="th", scope="row", classes="stub indent"), *count_cells(counts, overall)))
        for reason, counts, overall in rows_data
    )
    return Table(
        id=f"table-{number}",
        number=number,
        title=f"Withdrawals before month {month} by trough-level {grouping.singular(results)} and reason",
        head=_group_head(results, formatter, "Reason for withdrawal", ()),
        groups=(RowGroup((total, *reasons)),),
        notes=(
            Note(
                f"Patients whose withdrawal (withdrawal_month) came at or before month {month} and who had no "
                f"month-{month} visit; their last observation was carried forward. Percentages are of each column's "
                "patients. Reasons as recorded in the workbook."
            ),
            Note(grouping.closed_side(results, formatter)),
        ),
        classes="counts",
    )


def adjusted_table(results: Results, formatter: Formatter, *, number: int) -> Table:
    """Each outcome's association with the trough level adjusted for its baseline value (and the study's
    covariates): n, β per doubling with its confidence interval, p; a model that could not be estimated
    gets a footnote saying why."""
    rows = []
    covariates: list[str] = []
    reasons: list[Note] = []
    level_not_positive = logged_not_positive = 0
    level = None
    for outcome in results.outcomes:
        adjusted = outcome.adjusted
        if adjusted is None:
            continue
        level = adjusted.ci.level
        covariates += [label for label in adjusted.covariate_labels[1:] if label not in covariates]
        level_not_positive = max(level_not_positive, adjusted.level_not_positive)
        logged_not_positive = max(logged_not_positive, adjusted.covariate_not_positive)
        label = f"{outcome.label} ({outcome.unit})" if outcome.unit else outcome.label
        mark = ""
        if adjusted.beta is None:
            mark = "abcdefghijklmnopqrstuvwxyz"[len(reasons)]
            reasons.append(Note(f"{outcome.label}: {not_estimated(adjusted.not_estimated)}.", mark=mark))
        estimate = formatter.estimate_ci(adjusted.beta, adjusted.ci.lower, adjusted.ci.upper, outcome.variable)
        cells = (
            Cell(label, tag="th", scope="row", classes="stub"),
            Cell(formatter.integer(adjusted.n), classes="num"),
            Cell(estimate, classes="num", mark=mark),
            Cell(formatter.p_value(adjusted.p_value), classes="num p"),
        )
        rows.append(RowGroup((Row(cells),)))
    confidence = f"({formatter.number(100 * level, 0)}% CI)" if level is not None else ""
    head = (
        Row(
            (
                Cell("Measure at follow-up", tag="th", scope="col", classes="stub"),
                Cell("n", tag="th", scope="col", classes="num"),
                Cell("β per doubling", lines=(confidence,), tag="th", scope="col", classes="num"),
                Cell("p", tag="th", scope="col", classes="num p"),
            )
        ),
    )
    return Table(
        id=f"table-{number}",
        number=number,
        title=f"Association of the trough level with each measure at month {results.cohort.follow_up_month}, adjusted for its baseline value",
        head=head,
        groups=tuple(rows),
        notes=(
            Note(adjusted_model_sentence(tuple(covariates), level or 0.0, formatter)),
            Note(adjusted_patients_sentence(level_not_positive, logged_not_positive)),
            *reasons,
        ),
    )


def published_view(published: PublishedCheck, *, number: int) -> PublishedView:
    rows = tuple(
        Row(
            (
                Cell(row.item, tag="th", scope="row", classes="stub"),
                Cell(row.printed, classes="num"),
                Cell(row.reproduced, classes="num"),
                Cell("match" if row.match else "mismatch", classes="verdict " + ("match" if row.match else "mismatch")),
                Cell(row.note),
            ),
            classes="" if row.match else "flagged",
        )
        for row in published.rows
    )
    head = (
        Row(
            (
                Cell("Item", tag="th", scope="col", classes="stub"),
                Cell("Printed", tag="th", scope="col", classes="num"),
                Cell("Reproduced", tag="th", scope="col", classes="num"),
                Cell("Verdict", tag="th", scope="col"),
                Cell("Note", tag="th", scope="col"),
            )
        ),
    )
    table = Table(
        id=f"table-{number}",
        number=number,
        title="Numbers printed in the abstract beside the numbers reproduced from the data",
        head=head,
        groups=(RowGroup(rows),),
        notes=(Note("Reproduced values are rounded to the precision of the printed value."),),
        classes="published long" if len(rows) > LONG_TABLE_ROWS else "published",
        columns=("46%", "9%", "10%", "9%", "26%"),
    )
    return PublishedView(table=table, findings=published.consistency, source_name=published.source_name)


def carried_forward_view(carried: tuple[CarriedForward, ...], follow_up_month: int, placed: int = 0) -> CarriedForwardView:
    """The appendix's patients carried forward; ``placed``: patients whose follow-up visit a visit window placed."""
    count = len(carried)
    if count == 0:
        within = f" ({placed} of them within the visit window)" if placed else ""
        return CarriedForwardView(summary=f"Every patient had a month-{follow_up_month} visit{within}; nothing was carried forward.", table=None)
    months: dict[int, int] = {}
    for patient in carried:
        months[patient.from_month] = months.get(patient.from_month, 0) + 1
    by_month = "; ".join(f"from month {month}: {n}" for month, n in sorted(months.items()))
    summary = f"{patients(count)} carried forward to month {follow_up_month} ({by_month})."
    listed = carried[:CARRIED_FORWARD_LISTED_UP_TO]
    table = listing_table(
        id="table-carried-forward",
        title="Patients carried forward" if count == len(listed) else f"Patients carried forward, the first {len(listed)}",
        columns=(("Patient", "stub id"), ("From month", "num"), ("Withdrawal reason", "reason")),
        rows=((p.patient_id, str(p.from_month), p.withdrawal_reason or "not recorded") for p in listed),
        classes="appendix carried long" if len(listed) > LONG_TABLE_ROWS else "appendix carried",
        widths=("22%", "14%", "64%"),
    )
    more = _more(count, CARRIED_FORWARD_LISTED_UP_TO, CARRIED_FORWARD_CSV)
    if more:
        more = more[:-1] + " (and in results.json)."
    return CarriedForwardView(summary=summary, table=table, more=more)


def files_note(
    source_name: str, source_bytes: int | None, formatter: Formatter, formats: frozenset[str] = DEFAULT_FORMATS
) -> str:
    """The appendix's paragraph on the files: what the PDF embeds, and what the build folder holds (``formats``:
    the outputs the build writes, of OUTPUT_FORMATS)."""
    html = "report.html (with the decision record of each test), " if "html" in formats else ""
    journal = (
        f" and as PDF, TIFF and PNG ({JOURNAL_DPI} dpi)"
        if "figures" in formats
        else ""
    )
    beside = (
        f"The build folder beside this report holds {html}"
        f"results.json, {WARNINGS_CSV} (every validation warning), {CARRIED_FORWARD_CSV} (every patient carried "
        f"forward), the figures as SVG{journal}, a byte-for-byte copy of {source_name}, and manifest.json with the "
        "SHA-256 of every file."
    )
    if source_bytes is None or source_bytes <= EMBED_SOURCE_UP_TO:
        return f"The PDF version of this report embeds the workbook, {source_name}, and results.json as attachments. {beside}"
    size = formatter.number(source_bytes / 1_000_000, 1)
    limit = formatter.integer(EMBED_SOURCE_UP_TO // 1_000_000)
    return (
        f"The workbook, {source_name} ({size} MB), is larger than the {limit} MB the PDF embeds, so the PDF version "
        f"of this report embeds {SOURCE_REFERENCE} instead (the workbook's name, size and SHA-256), with "
        f"results.json. {beside}"
    )


def _more(count: int, shown: int, file_name: str) -> str:
    """The line under a cut list: '… and 1949 more; the full list is in warnings.csv, beside this report.'"""
    if count <= shown:
        return ""
    return f"… and {count - shown} more; the full list is in {file_name}, beside this report."


# --- the full lists, as CSV files beside the report ------------------------------------------


def listing_files(warnings: tuple[Problem, ...], carried: tuple[CarriedForward, ...]) -> dict[str, bytes]:
    """``warnings.csv`` and ``carried-forward.csv``: the full lists the report may cut, for the build folder.

    Always written, with a header row even when empty, so the folder's layout does not depend on the data.
    UTF-8 with a byte-order mark and CRLF line ends (RFC 4180), so Excel opens accents and µ correctly;
    every text cell is neutralised against formula injection (see ``csv_cell``).
    """
    return {
        WARNINGS_CSV: _csv(
            ("sheet", "row", "column", "value", "rule", "severity"),
            ((p.sheet, p.row, p.column, p.value, p.rule, p.severity) for p in warnings),
        ),
        CARRIED_FORWARD_CSV: _csv(
            ("patient_id", "from_month", "withdrawal_reason"),
            ((p.patient_id, p.from_month, p.withdrawal_reason) for p in carried),
        ),
    }


def csv_cell(value: object) -> str:
    """A CSV cell: empty for None, numbers as written, text starting like a formula prefixed with ``'``.

    A cell such as ``=HYPERLINK(...)`` or ``@SUM(...)`` in a workbook's patient id or withdrawal reason would
    run as a formula when the CSV is opened in a spreadsheet (CSV injection); the quote makes it text. A
    negative number in a text column (``-3``) is prefixed too: the file is for reading, not arithmetic. So is
    a cell that starts so after white space (`` =1+1``) or with a full-width look-alike (``＝1+1``).
    """
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    text = visible(str(value), keep=LINE_BREAKS)
    first = unicodedata.normalize("NFKC", text.lstrip()[:1])
    return "'" + text if text.startswith(FORMULA_STARTS) or first.startswith(FORMULA_STARTS) else text


def _csv(header: tuple[str, ...], rows: Iterable[tuple[object, ...]]) -> bytes:
    import csv
    import io

    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def decisions_table(results: Results, formatter: Formatter) -> Table:
    """Every test's decision record as the analysis wrote it: which test, why, what is at risk."""
    return listing_table(
        id="table-decisions",
        title="Decision record of each test",
        columns=(("Comparison", "stub"), ("p", "num"), ("Decision", "decision")),
        rows=((label, formatter.p_value(test.p_value), test.decision) for label, test in test_records(results)),
        classes="appendix decisions long",
        widths=("24%", "8%", "68%"),
    )


def software_table(info: BuildInfo) -> Table:
    rows = [("reportgen", info.version), *info.library_versions]
    # Not the command line: it names the --out folder, and two builds of the same data into different
    # folders must give byte-identical HTML (the manifest records the command).
    return listing_table(
        id="table-software",
        title="Software",
        columns=(("Package", "stub"), ("Version", "")),
        rows=rows,
        classes="appendix",
    )


def listing_table(
    *,
    id: str,
    title: str,
    columns: tuple[tuple[str, str], ...],
    rows: Iterable[tuple[str, ...]],
    classes: str,
    widths: tuple[str, ...] = (),
) -> Table:
    """An appendix listing: one header row, then one row per item with its first cell as the row header.

    ``columns`` gives each column's heading and CSS classes; the first column's cells are ``th scope=row``.
    """
    head = Row(
        tuple(
            Cell(label, tag="th", scope="col", classes=" ".join(c for c in css.split() if c in ("stub", "num")))
            for label, css in columns
        )
    )
    body = tuple(
        Row(
            tuple(
                Cell(text, tag="th", scope="row", classes=css) if index == 0 else Cell(text, classes=css)
                for index, (text, (_, css)) in enumerate(zip(row, columns))
            )
        )
        for row in rows
    )
    return Table(id=id, number=0, title=title, head=(head,), groups=(RowGroup(body),), notes=(), classes=classes, columns=widths)


def _results_intro(
    results: Results,
    formatter: Formatter,
    *,
    eular: int = 3,
    sensitivity: int | None = None,
    pairwise: int | None = None,
    adjusted: int | None = None,
) -> str:
    """The Results' opening paragraph: who was analysed and which table shows what (``eular``, ``sensitivity``,
    ``pairwise``, ``adjusted``: those tables' numbers), and any group left empty."""
    cohort = results.cohort
    sizes = group_sizes(results.strata, formatter)
    primary = primary_comparison(results)
    extra = ""
    if primary is not None and sensitivity is not None:
        extra += f", Table {sensitivity} the sensitivity analyses of the primary outcome, {primary.label}, and of EULAR response"
    if primary is not None and pairwise is not None:
        extra += f", Table {pairwise} the pairwise comparisons of {primary.label} between {grouping.plural(results)}"
    text = (
        f"{cohort.n_included} patients were included and {cohort.n_analysed} analysed by trough-level {grouping.singular(results)} "
        f"({sizes}). Table 1 describes them at baseline, Table 2 and Figures 1–2 give disease activity at "
        f"month {cohort.follow_up_month}{extra}, and Table {eular} and Figure 3 the EULAR response."
    )
    if adjusted is not None:
        text += (
            f" Table {adjusted} gives each measure's association with the trough level itself, adjusted for its "
            "baseline value."
        )
    return text + "".join(f" {sentence}" for sentence in (grouping.empty_groups_sentence(results, formatter),) if sentence)


def _sensitivity_intro(results: Results, formatter: Formatter) -> str:
    """' With the data's own quantile groups, EULAR response no longer differed …': what the sensitivity
    analyses did to the conclusions, in plain words (empty without them)."""
    changes = sensitivity_results(results, formatter)
    return f" {changes}" if changes else ""


def _flow_intro(results: Results, figures: tuple[Figure, ...], withdrawals: Table | None) -> str:
    """' Figure 4 shows the flow of patients, and Table 5 the withdrawals by quartile and reason.' (the grouping's word)"""
    by = f"by {grouping.singular(results)} and reason"
    flow_figure = next((f for f in figures if f.name == FLOW_FIGURE), None)
    table = f"Table {withdrawals.number}" if withdrawals is not None else ""
    if flow_figure is None:
        return f" {table} gives the withdrawals {by}." if table else ""
    shows = f" Figure {flow_figure.number} shows the flow of patients"
    if table:
        return f"{shows}, and {table} the withdrawals {by}."
    if results.flow is not None and not results.flow.withdrawn:
        return f"{shows}; no patient withdrew before month {results.flow.follow_up_month}."
    return f"{shows}."


def _shorten(text: str, limit: int) -> str:
    """A running-header title: whole words up to ``limit`` characters, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] or text[:limit]
    return cut.rstrip(",;:") + "…"
