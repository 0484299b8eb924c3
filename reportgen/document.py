"""The report as one format-neutral document, built once from the results; exporters write it out.

``build_document`` turns the results, the narrative and the figures into a ``Report`` of finished strings:
sections of paragraphs, tables as rows of cells, figures with caption and alternative text, the abstract.
Every number arrives already written by the Formatter (decimal separator included), so an exporter never
computes or formats. A cell says what it is, never how it looks: its ``role`` (the row's label, a number, text,
a heading over columns or rows, a detail line across the row), what it heads (``header``), its spans, its
footnote letter, and a ``kind`` naming what it holds (a p value, a patient id, a verdict). Tag names, CSS
classes, column widths and fonts belong to the exporters (``reportgen.exporters``: the HTML one maps roles to
tags and classes and fits the columns to the active report.css; the Word one to table styles and alignment).

Also here, since every format shares them: the full listings written beside the report (``listing_files``)
and the texts that refer to the build folder's files.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Iterable, Literal, Sequence, TypeVar

from reportgen import grouping
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
    antibodies_sentence,
    interval_methods_note,
    primary_comparison,
    sensitivity_results,
    test_records,
    write_estimates,
)
from reportgen.pdf_job import EMBED_SOURCE_UP_TO, SOURCE_REFERENCE
from reportgen.prose import BUILD_DATE_FORMAT, build_record, capital, group_sizes, not_estimated, not_tested, p_or_reason, patients, verb

if TYPE_CHECKING:
    from reportgen.formatting import Formatter

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
# Categories shown alone on a binary Table 1 row (the other one is implied); name shown for the row.
POSITIVE_CATEGORIES = {"yes": None, "true": None, "positive": None, "f": "Female", "female": "Female"}


# --- the document --------------------------------------------------------------------------------

# What a cell is: the row's label (first column), a number (aligned right, on its decimal separator where the
# format can), running text, a heading over columns (in the head) or over the rows below it (in the body),
# or a detail line across the rest of its row.
Role = Literal["stub", "number", "text", "heading", "detail"]
# What a cell holds, where an exporter may show it apart: a p value, a patient id, a free-text reason, a test's
# decision record, the verdict of a published number ("match" or "mismatch").
CELL_KINDS = ("", "p", "id", "reason", "decision", "match", "mismatch")


@dataclass(frozen=True)
class Cell:
    text: str
    lines: tuple[str, ...] = ()  # further lines in smaller type (e.g. median [IQR], stratum range, n)
    role: Role = "text"
    header: str = ""  # "col" | "row" | "colgroup": what a header cell heads; "" for a data cell
    kind: str = ""  # one of CELL_KINDS
    indent: bool = False  # a category under its variable
    colspan: int = 1
    rowspan: int = 1
    mark: str = ""  # footnote letter


@dataclass(frozen=True)
class Row:
    cells: tuple[Cell, ...]
    flagged: bool = False  # a row to catch the eye: a mismatch, a changed conclusion


@dataclass(frozen=True)
class RowGroup:
    rows: tuple[Row, ...]
    second_view: bool = False  # the same counts again, as shares of the other margin


@dataclass(frozen=True)
class Note:
    text: str
    mark: str = ""  # the footnote letter used in the table, if any


@dataclass(frozen=True)
class Table:
    id: str
    number: int  # 0 for an appendix listing (no "Table N.")
    title: str
    head: tuple[Row, ...]
    groups: tuple[RowGroup, ...]
    notes: tuple[Note, ...]
    # What the table is, where formats set it apart: "counts" (n (%) by group), "sensitivity", "pairwise",
    # "published", "carried", "decisions"; "" for the others.
    kind: str = ""
    appendix: bool = False  # a listing in the appendix

    def rows(self) -> tuple[Row, ...]:
        """The body's rows, every group in order."""
        return tuple(row for group in self.groups for row in group.rows)


@dataclass(frozen=True)
class ReportFigure:
    id: str
    number: int
    title: str
    caption: str
    alt: str  # what the figure shows, with its main numbers (figure_alt)
    figure: Figure  # the drawing's name and its SVG


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


# The type of a section's table: the document's ``Table`` here, the HTML exporter's table in its view.
SectionTable = TypeVar("SectionTable")


@dataclass(frozen=True)
class PublishedView(Generic[SectionTable]):
    table: SectionTable
    findings: tuple[str, ...]
    source_name: str


@dataclass(frozen=True)
class CarriedForwardView(Generic[SectionTable]):
    summary: str
    table: SectionTable | None  # None when nobody was carried forward
    more: str = ""  # "… and N more; the full list is in carried-forward.csv." when the table is cut


@dataclass(frozen=True)
class Meta:
    title: str
    author: str
    created: str  # W3C date-time; WeasyPrint takes the PDF's dates from these, the Word file its properties
    modified: str
    generator: str
    language: str


@dataclass(frozen=True)
class Headings:
    """The report's section headings and its sentences for an empty section, the same in every format."""

    abstract: str = "Abstract"
    methods: str = "Methods"
    results: str = "Results"
    conclusions: str = "Conclusions"
    limitations: str = "Limitations"
    published: str = "Published vs reproduced"
    consistency: str = "Consistency of the printed numbers"
    no_inconsistency: str = "No inconsistency found among the printed numbers."
    appendix: str = "Appendix"
    warnings: str = "Warnings about the workbook"
    no_warnings: str = "The workbook raised no warnings."
    carried_forward: str = "Patients carried forward"
    decisions: str = "Tests and their decision records"
    files: str = "Files"
    software: str = "Software and build"


@dataclass(frozen=True)
class Report:
    """The whole report, format-neutral; exporters (``reportgen.exporters``) write it out."""

    meta: Meta
    title: TitleBlock
    abstract: AbstractView
    methods: tuple[Section, ...]
    results_intro: str
    tables: tuple[Table, ...]
    figures: tuple[ReportFigure, ...]
    conclusions: tuple[str, ...]
    limitations: str  # one paragraph, empty when no limitation applies
    published: tuple[PublishedView[Table], ...]  # empty or one: the section is absent without a published check
    warnings: tuple[str, ...]  # the first WARNINGS_LISTED_UP_TO
    warnings_more: str  # "… and N more; the full list is in warnings.csv." when cut, else empty
    files_note: str  # what the PDF carries and what lies beside it in the build folder
    carried_forward: CarriedForwardView[Table]
    decisions: Table
    software: Table
    results_estimates: tuple[str, ...] = ()  # paragraphs after the intro: estimates with their CIs
    # The build stamp, checksum and software line, in the appendix (and the PDF's metadata).
    build_record: str = ""
    # DRAFT_HEADER with --draft (page header, build stamp in the title block), else "" (the submission view).
    draft: str = ""
    headings: Headings = Headings()


# --- building the document -----------------------------------------------------------------------


def build_document(
    *,
    results: Results,
    narrative: Narrative,
    figures: tuple[Figure, ...],
    published: PublishedCheck | None,
    info: BuildInfo,
    warnings: tuple[Problem, ...],
    formatter: Formatter,
    source_bytes: int | None = None,
    draft: bool = False,
    formats: frozenset[str] = DEFAULT_FORMATS,
) -> Report:
    """The report, built once from the results: every section, table and figure, every string finished.

    ``source_bytes``, the workbook's size, decides what the appendix says the PDF carries (the workbook up to
    ``EMBED_SOURCE_UP_TO`` bytes, else ``SOURCE_REFERENCE``); None when unknown (the workbook, as for a
    congress-sized cohort). ``formats``: the outputs the build writes, named in the appendix's files note.
    """
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
    published_views: tuple[PublishedView[Table], ...] = ()
    if published is not None:
        published_views = (published_view(published, number=len(tables) + 1),)
    return Report(
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
            ReportFigure(id=f"figure-{f.number}", number=f.number, title=f.title, caption=f.caption, alt=figure_alt(f), figure=f)
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
        build_record=build_record(info, HASH_DIGITS),
        draft=DRAFT_HEADER if draft else "",
    )


def abstract_text(narrative: Narrative) -> str:
    """abstract.txt: the abstract as plain text, every control and bidi override shown as an escape."""
    return visible(narrative.abstract.as_text(), keep=LINE_BREAKS)


def figure_alt(figure: Figure) -> str:
    """A figure's alternative text: its own (what it shows, its main numbers), else its title and caption."""
    return figure.alt or f"{figure.title}. {figure.caption}"


def stratum_header(stratum: Stratum, formatter: Formatter) -> Cell:
    """'Q2' over '4.20–11.30' over 'n = 7': the range as clinicians write it; the closed side is said once in
    each table's notes (``grouping.closed_side``)."""
    interval = grouping.group_range(stratum.lower, stratum.upper, formatter)
    return Cell(stratum.label, lines=(interval, f"n = {stratum.n}"), header="col", role="number")


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
            Cell(stub, header="col", role="stub", rowspan=2),
            Cell("All patients", lines=(f"n = {results.cohort.n_included}",), header="col", role="number", rowspan=2),
            Cell(f"Trough-level {grouping.singular(results)} ({results.study.level_unit})", header="colgroup", role="heading", colspan=n_strata),
            *(dataclasses.replace(c, header="col", rowspan=2) for c in extra),
        )
    )
    second = Row(tuple(stratum_header(s, formatter) for s in results.strata))
    return first, second


def _p_cell(test: TestResult, purpose: str, notes: _Footnotes, formatter: Formatter) -> Cell:
    """The p of a test, its footnote naming the test; a test not computed gets a footnote saying why."""
    if test.p_value is None and test.not_tested:
        return Cell(formatter.p_value(None), role="number", kind="p", mark=notes.mark(test.test, f"{purpose}, {not_tested(test.not_tested)}"))
    mark = notes.mark(test.test, purpose) if test.p_value is not None else ""
    return Cell(formatter.p_value(test.p_value), role="number", kind="p", mark=mark)


def baseline_table(results: Results, formatter: Formatter) -> Table:
    notes = _Footnotes(formatter, results)
    groups: list[RowGroup] = []
    for comparison in results.table_1:
        if isinstance(comparison, ContinuousComparison):
            groups.append(RowGroup((_continuous_row(comparison, formatter, notes),)))
        else:
            groups.append(RowGroup(_categorical_rows(comparison, formatter, notes)))
    missing = dict(results.missing)
    groups = [
        _with_known(group, results.cohort.n_included - missing.get(comparison.variable, 0))
        if missing.get(comparison.variable, 0)
        else group
        for comparison, group in zip(results.table_1, groups)
    ]
    head = _group_head(results, formatter, "Characteristic", (Cell("p", role="number", kind="p"),))
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
        cells = tuple(Cell(formatter.median_iqr(s, variable), lines=ci(s.median_ci, s), role="number") for s in summaries)
        label += ", median [IQR]"
    else:
        cells = tuple(
            Cell(
                formatter.mean_sd(s, variable),
                lines=(*ci(s.mean_ci, s), formatter.median_iqr(s, variable), *ci(s.median_ci, s)),
                role="number",
            )
            for s in summaries
        )
    return Row(
        (
            Cell(label, header="row", role="stub"),
            *cells,
            _p_cell(comparison.test, notes.across, notes, formatter),
        )
    )


def _categorical_rows(comparison: CategoricalComparison, formatter: Formatter, notes: _Footnotes) -> tuple[Row, ...]:
    overall_total = sum(comparison.overall)
    column_totals = [sum(column) for column in zip(*comparison.counts)] if comparison.counts else []

    def cells(index: int) -> tuple[Cell, ...]:
        return (
            Cell(formatter.n_percent(comparison.overall[index], overall_total), role="number"),
            *(
                Cell(formatter.n_percent(count, total), role="number")
                for count, total in zip(comparison.counts[index], column_totals)
            ),
        )

    positive = _positive_category(comparison.categories)
    if positive is not None:
        index, name = positive
        label = f"{name or comparison.label}, n (%)"
        return (Row((Cell(label, header="row", role="stub"), *cells(index), _p_cell(comparison.test, notes.across, notes, formatter))),)
    width = 1 + len(column_totals)
    header = Row(
        (
            Cell(f"{comparison.label}, n (%)", header="row", role="stub"),
            *(Cell("", role="number") for _ in range(width)),
            _p_cell(comparison.test, notes.across, notes, formatter),
        )
    )
    rows = [header]
    for index, category in enumerate(comparison.categories):
        rows.append(Row((Cell(str(category), header="row", role="stub", indent=True), *cells(index), Cell("", role="number"))))
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
        (Cell("", header="row", role="stub"), Cell("", lines=("; ".join(parts),), role="detail", colspan=width)),
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
            else Cell(formatter.p_value(None), role="number", kind="p")
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
        (Cell("p", lines=("Holm",), role="number", kind="p"), Cell("p", lines=("trend",), role="number", kind="p")),
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
            Row((Cell(f"n (% of {grouping.singular(results)})", header="colgroup", role="heading", colspan=2 + len(column_totals)),)),
            *(
                Row(
                    (
                        Cell(name, header="row", role="stub", indent=True),
                        Cell(
                            formatter.n_percent(comparison.overall[i], overall_total),
                            lines=ci(comparison.overall_proportion_cis, i),
                            role="number",
                        ),
                        *(
                            Cell(
                                formatter.n_percent(c, t),
                                lines=ci(comparison.proportion_cis[i] if i < len(comparison.proportion_cis) else (), j),
                                role="number",
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
                    Row((Cell("Analysed patients, n (% of response category)", header="colgroup", role="heading", colspan=2 + len(column_totals)),)),
                    *(
                        Row(
                            (
                                Cell(name, lines=(f"{sum(comparison.counts[i])} analysed",), header="row", role="stub", indent=True),
                                Cell("", role="number"),
                                *(Cell(formatter.n_percent(c, sum(comparison.counts[i])), role="number") for c in comparison.counts[i]),
                            )
                        )
                        for i, name in enumerate(categories)
                    ),
                ),
                second_view=True,
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
        kind="counts",
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
        header_row = Row((Cell(comparison.label, header="colgroup", role="heading", colspan=table.groups[0].rows[0].cells[0].colspan),))
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
        header = Row((Cell(f"{rows[0].label}: {estimate}", header="colgroup", role="heading", colspan=4),))
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
                        Cell(capital(SENSITIVITY_NAMES[row.analysis]), header="row", role="stub", indent=True, mark=mark),
                        Cell(formatter.integer(row.n), role="number"),
                        Cell(value, lines=(interval,), role="number"),
                        Cell(formatter.p_value(row.test.p_value), role="number", kind="p", mark=p_mark),
                    ),
                    flagged=row.conclusion_changes,
                )
            )
        groups.append(RowGroup((header, *body)))
    level = next((row.ci.level for row in results.sensitivity if row.ci is not None), None)
    ci = "" if level is None else formatter.ci_label(level)
    head = (
        Row(
            (
                Cell("Analysis", header="col", role="stub"),
                Cell("n", header="col", role="number"),
                Cell("Estimate", lines=(ci,) if ci else (), header="col", role="number"),
                Cell("p", header="col", role="number", kind="p"),
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
        kind="sensitivity",
    )


def pairwise_table(results: Results, formatter: Formatter, *, number: int) -> Table | None:
    """Dunn's pairwise comparisons of the primary outcome with Holm's adjustment; None when none were run."""
    primary = primary_comparison(results)
    if primary is None or not primary.posthoc:
        return None
    rows = tuple(
        Row(
            (
                Cell(f"{pair.group_a} vs {pair.group_b}", header="row", role="stub"),
                Cell(formatter.statistic(pair.statistic), role="number"),
                Cell(formatter.p_value(pair.p_value), role="number", kind="p"),
                Cell(formatter.p_value(pair.p_adjusted), role="number", kind="p"),
            )
        )
        for pair in primary.posthoc
    )
    head = (
        Row(
            (
                Cell("Pair", header="col", role="stub"),
                Cell("z", header="col", role="number"),
                Cell("p", header="col", role="number", kind="p"),
                Cell("p", lines=("Holm",), header="col", role="number", kind="p"),
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
        kind="pairwise",
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
            Cell(formatter.n_percent(overall, flow.included), role="number"),
            *(Cell(formatter.n_percent(count, size), role="number") for count, size in zip(counts, sizes)),
        )

    total = Row(
        (
            Cell(f"Withdrawn before month {month}, n (%)", header="row", role="stub"),
            *count_cells([group.withdrawn for group in flow.groups], flow.withdrawn),
        )
    )
    reasons = tuple(
        Row((Cell(reason or "reason not recorded", header="row", role="stub", indent=True), *count_cells(counts, overall)))
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
        kind="counts",
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
            Cell(label, header="row", role="stub"),
            Cell(formatter.integer(adjusted.n), role="number"),
            Cell(estimate, role="number", mark=mark),
            Cell(formatter.p_value(adjusted.p_value), role="number", kind="p"),
        )
        rows.append(RowGroup((Row(cells),)))
    confidence = f"({formatter.number(100 * level, 0)}% CI)" if level is not None else ""
    head = (
        Row(
            (
                Cell("Measure at follow-up", header="col", role="stub"),
                Cell("n", header="col", role="number"),
                Cell("β per doubling", lines=(confidence,), header="col", role="number"),
                Cell("p", header="col", role="number", kind="p"),
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


def published_view(published: PublishedCheck, *, number: int) -> PublishedView[Table]:
    rows = tuple(
        Row(
            (
                Cell(row.item, header="row", role="stub"),
                Cell(row.printed, role="number"),
                Cell(row.reproduced, role="number"),
                Cell("match" if row.match else "mismatch", kind="match" if row.match else "mismatch"),
                Cell(row.note),
            ),
            flagged=not row.match,
        )
        for row in published.rows
    )
    head = (
        Row(
            (
                Cell("Item", header="col", role="stub"),
                Cell("Printed", header="col", role="number"),
                Cell("Reproduced", header="col", role="number"),
                Cell("Verdict", header="col"),
                Cell("Note", header="col"),
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
        kind="published",
    )
    return PublishedView(table=table, findings=published.consistency, source_name=published.source_name)


def carried_forward_view(carried: tuple[CarriedForward, ...], follow_up_month: int, placed: int = 0) -> CarriedForwardView[Table]:
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
        columns=(("Patient", "stub", "id"), ("From month", "number", ""), ("Withdrawal reason", "text", "reason")),
        rows=((p.patient_id, str(p.from_month), p.withdrawal_reason or "not recorded") for p in listed),
        kind="carried",
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
    from reportgen.exporters import attached_exporters, exporter

    # The exporters' files; the others than the HTML (report.docx) are attached to the PDF too.
    others = attached_exporters(formats)
    html = "".join(
        f"{item.file} ({item.description}), " for item in ((exporter("html"),) if "html" in formats else ()) + others
    )
    with_data = ["results.json", *(item.file for item in others)]
    attached = ", ".join(with_data[:-1]) + (" and " if len(with_data) > 1 else "") + with_data[-1]
    journal = (
        f" and as PDF, TIFF and PNG ({JOURNAL_DPI} dpi)"
        if "figures" in formats
        else ""
    )
    beside = (
        f"The build folder beside this report holds {html}"
        f"results.json, {WARNINGS_CSV} (every warning about the workbook), {CARRIED_FORWARD_CSV} (every patient carried "
        f"forward), the figures as SVG{journal}, a byte-for-byte copy of {source_name}, and manifest.json with the "
        "SHA-256 of every file."
    )
    if source_bytes is None or source_bytes <= EMBED_SOURCE_UP_TO:
        if not others:
            return f"The PDF version of this report embeds the workbook, {source_name}, and results.json as attachments. {beside}"
        return f"The PDF version of this report embeds the workbook, {source_name}, {attached} as attachments. {beside}"
    size = formatter.number(source_bytes / 1_000_000, 1)
    limit = formatter.integer(EMBED_SOURCE_UP_TO // 1_000_000)
    return (
        f"The workbook, {source_name} ({size} MB), is larger than the {limit} MB the PDF embeds, so the PDF version "
        f"of this report embeds {SOURCE_REFERENCE} instead (the workbook's name, size and SHA-256), with "
        f"{attached}. {beside}"
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
        columns=(("Comparison", "stub", ""), ("p", "number", ""), ("Decision", "text", "decision")),
        rows=((label, formatter.p_value(test.p_value), test.decision) for label, test in test_records(results)),
        kind="decisions",
    )


def software_table(info: BuildInfo) -> Table:
    rows = [("reportgen", info.version), *info.library_versions]
    # Not the command line: it names the --out folder, and two builds of the same data into different
    # folders must give byte-identical HTML (the manifest records the command).
    return listing_table(
        id="table-software",
        title="Software",
        columns=(("Package", "stub", ""), ("Version", "text", "")),
        rows=rows,
    )


def listing_table(
    *,
    id: str,
    title: str,
    columns: tuple[tuple[str, Role, str], ...],
    rows: Iterable[tuple[str, ...]],
    kind: str = "",
) -> Table:
    """An appendix listing: one header row, then one row per item with its first cell as the row header.

    ``columns`` gives each column's heading, role and kind (what its cells hold, e.g. "id"); the first
    column's cells head their rows.
    """
    head = Row(tuple(Cell(label, header="col", role=role) for label, role, _ in columns))
    body = tuple(
        Row(
            tuple(
                Cell(text, header="row" if index == 0 else "", role=role, kind=cell_kind)
                for index, (text, (_, role, cell_kind)) in enumerate(zip(row, columns))
            )
        )
        for row in rows
    )
    return Table(id=id, number=0, title=title, head=(head,), groups=(RowGroup(body),), notes=(), kind=kind, appendix=True)


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
    return text + "".join(
        f" {sentence}"
        for sentence in (grouping.empty_groups_sentence(results, formatter), antibodies_sentence(results, formatter))
        if sentence
    )


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
