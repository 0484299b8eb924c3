"""The published-numbers check: an abstract's printed numbers beside the reproduced ones.

The YAML file (format in docs/published-yaml.md) holds each number exactly as printed, so its
precision is known: "4,46" is compared with the reproduced mean rounded half up to two decimals.
Besides the comparison, the printed numbers are checked against each other, since some mistakes
show without any data: an SDAI mean below the CDAI mean of the same patients, percentages that do
not add up, counts that do not add up to their n, percentages taken along the wrong direction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, Sequence

import yaml

from reportgen import grouping
from reportgen.errors import UsageError
from reportgen.indices import EULAR_RESPONSES as EULAR_CATEGORIES
from reportgen.model import ALPHA, PublishedCheck, PublishedRow, Results, StudyOptions
from reportgen.prose import clipped, join_words, patients
from reportgen.rounding import round_half_up

# A published-numbers file is a page of numbers; anything far larger is not one.
MAX_FILE_BYTES = 1_000_000
# The deepest value of the format is a number in eular_response.counts.none (5 levels); far deeper nesting
# is not a published-numbers file, and would exhaust Python's recursion limit in the YAML composer.
MAX_NESTING = 10
# Nothing prints a number with more digits than this (Excel keeps 15 significant digits); more would also
# overflow the 28-digit Decimal arithmetic that rounds reproduced values to the printed precision.
MAX_PRINTED_DIGITS = 15
# Rounding of each printed percentage is at most half a unit of its last place; the sum is allowed 0.5.
PERCENT_SUM_TOLERANCE = Decimal("0.5")
DEFAULT_ALPHA = Decimal(repr(ALPHA))  # what "NS" means when the file gives no alpha: the report's own
NOT_SIGNIFICANT = {"ns", "n.s.", "n.s", "not significant"}
NO_VALUE = "—"


# --- finding the file ---------------------------------------------------------------------------


def resolve_published(cli_path: Path | None, study: StudyOptions, workbook: Path) -> Path | None:
    """The published-numbers file to check, or None.

    ``--published`` wins. Otherwise the study key ``published`` names a file relative to the workbook's
    folder; it must stay inside that folder, because the workbook is untrusted and must not make
    reportgen read files elsewhere.
    """
    if cli_path is not None:
        if not cli_path.is_file():
            raise UsageError(f"--published {cli_path}: no such file")
        return cli_path
    if not study.published:
        return None
    folder = workbook.resolve().parent
    path = (folder / study.published).resolve()
    if not path.is_relative_to(folder):
        raise UsageError(
            f"the study sheet's 'published' = {study.published!r} points outside the workbook's folder {folder}; "
            "name a file beside the workbook, or use --published"
        )
    if not path.is_file():
        raise UsageError(f"the study sheet names the published-numbers file {study.published!r}, but {path} does not exist")
    return path


# --- the printed numbers ------------------------------------------------------------------------


@dataclass(frozen=True)
class Printed:
    """A number as printed: its text, its value, and how many decimals it shows."""

    text: str
    value: Decimal
    decimals: int
    comma: bool  # printed with a decimal comma

    @classmethod
    def parse(cls, text: str, where: str) -> Printed:
        cleaned = text.strip().replace("\u2212", "-")
        if not re.fullmatch(r"-?\d+([.,]\d+)?", cleaned):
            raise UsageError(f"{where}: {text!r} is not a number as printed (digits, with '.' or ',' for decimals)")
        digits = sum(character.isdigit() for character in cleaned)
        if digits > MAX_PRINTED_DIGITS:
            raise UsageError(
                f"{where}: {clipped(text, 40)!r} has {digits} digits; a number as printed has at most {MAX_PRINTED_DIGITS}"
            )
        fraction = cleaned.replace(",", ".").partition(".")[2]
        return cls(text=text.strip(), value=Decimal(cleaned.replace(",", ".")), decimals=len(fraction), comma="," in cleaned)

    def show(self, value: float | Decimal | None) -> str:
        """``value`` rounded half up to this number's precision, in its decimal style."""
        if value is None:
            return NO_VALUE
        rounded = round_half_up(value, self.decimals)
        text = f"{rounded:.{self.decimals}f}"
        return text.replace(".", ",") if self.comma else text


@dataclass(frozen=True)
class PrintedP:
    """A printed p-value: a number ("0,001"), a bound ("<0.001", "> 0.05"), or "NS"."""

    text: str
    relation: Literal["=", "<", ">", "ns"]
    number: Printed | None
    alpha: Decimal
    comma: bool  # the file's decimal style, for showing the reproduced p of an "NS"

    @classmethod
    def parse(cls, text: str, where: str, alpha: Decimal, comma: bool) -> PrintedP:
        cleaned = re.sub(r"^\s*p\s*=?\s*", "", text.strip(), flags=re.IGNORECASE)
        if cleaned.lower() in NOT_SIGNIFICANT:
            return cls(text.strip(), "ns", None, alpha, comma)
        relation = "="
        if cleaned[:1] in "<>":
            relation, cleaned = cleaned[0], cleaned[1:].strip()
        return cls(text.strip(), relation, Printed.parse(cleaned, where), alpha, comma)  # type: ignore[arg-type]

    def compare(self, p: float | None) -> tuple[str, bool, str]:
        """(reproduced as shown, match, note)."""
        if p is None:
            return NO_VALUE, False, "no p-value was computed"
        if self.relation == "ns":
            shown = Printed("", Decimal(0), 3, self.comma).show(p)
            alpha = str(self.alpha).replace(".", ",") if self.comma else str(self.alpha)
            return shown, Decimal(repr(p)) >= self.alpha, f"printed as not significant (p ≥ {alpha})"
        assert self.number is not None
        shown = self.number.show(p)
        exact = Decimal(repr(p))
        if self.relation == "<":
            return shown, exact < self.number.value, ""
        if self.relation == ">":
            return shown, exact > self.number.value, ""
        if round_half_up(p, self.number.decimals) == self.number.value:
            return shown, True, ""
        smaller = round_half_up(p, self.number.decimals).is_zero()
        return shown, False, "reproduced p is below the printed precision" if smaller else ""


@dataclass(frozen=True)
class PrintedOutcome:
    variable: str
    label: str  # as printed; "" when the file gives none
    mean: tuple[Printed, ...]
    sd: tuple[Printed, ...]
    p: PrintedP | None


@dataclass(frozen=True)
class PrintedTable:
    """Counts[category][stratum] and their percentages, as printed."""

    categories: tuple[str, ...]
    counts: tuple[tuple[Printed, ...], ...]
    percent: tuple[tuple[Printed, ...], ...] | None
    p: PrintedP | None


@dataclass(frozen=True)
class PublishedNumbers:
    """The whole file, parsed; every number kept as printed."""

    labels: tuple[str, ...]  # quartile labels as printed, lowest level first
    n_included: Printed | None
    n: tuple[Printed, ...] | None
    percent: tuple[Printed, ...] | None
    outcomes: tuple[PrintedOutcome, ...]
    eular: PrintedTable | None


OUTCOME_NAMES = ("das28_esr", "das28_crp", "cdai", "sdai", "sjc28", "tjc28", "esr_mm_h", "crp_mg_l", "delta_das28")


def load_published(path: Path) -> PublishedNumbers:
    """Read and check the YAML file; every problem is a UsageError naming the key."""
    if path.stat().st_size > MAX_FILE_BYTES:
        raise UsageError(f"{path.name} is larger than {MAX_FILE_BYTES:,} bytes; it cannot be a published-numbers file")
    try:
        text = path.read_text(encoding="utf-8")
        # BaseLoader keeps every scalar as the string printed ("4,60" stays "4,60", not 4.6) and builds no objects.
        document = yaml.load(text, Loader=_ShallowLoader)
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise UsageError(f"{path.name} is not valid YAML: {error}") from None
    except _TooDeep as error:
        raise UsageError(
            f"{path.name}: values nested more than {MAX_NESTING} levels deep (line {error.line}); "
            "that is not a published-numbers file (see docs/published-yaml.md)"
        ) from None
    # A decimal comma anywhere in the file sets the style for numbers that have none printed ("NS").
    reader = _Reader(path.name, comma=bool(re.search(r"\d,\d", text)))
    root = reader.mapping(document, "", required=("quartiles",), optional=("source", "alpha", "n_included", "outcomes", "eular_response"))
    alpha = Printed.parse(root["alpha"], f"{path.name}: alpha").value if "alpha" in root else DEFAULT_ALPHA

    quartiles = reader.mapping(root["quartiles"], "quartiles", required=("labels",), optional=("n", "percent"))
    labels = tuple(reader.strings(quartiles["labels"], "quartiles.labels"))
    width = len(labels)
    n_stratum = reader.numbers(quartiles, "n", "quartiles", width)
    percent = reader.numbers(quartiles, "percent", "quartiles", width)

    outcomes = []
    for variable, entry in reader.mapping(root.get("outcomes", {}), "outcomes", optional=OUTCOME_NAMES).items():
        where = f"outcomes.{variable}"
        fields = reader.mapping(entry, where, required=("mean",), optional=("label", "sd", "p"))
        outcomes.append(
            PrintedOutcome(
                variable=variable,
                label=reader.text(fields, "label", where) or "",
                mean=reader.numbers(fields, "mean", where, width) or (),
                sd=reader.numbers(fields, "sd", where, width) or (),
                p=reader.p_value(fields, where, alpha),
            )
        )

    eular = None
    if "eular_response" in root:
        fields = reader.mapping(root["eular_response"], "eular_response", required=("counts",), optional=("percent", "p"))
        counts_map = reader.mapping(fields["counts"], "eular_response.counts", optional=EULAR_CATEGORIES)
        categories = tuple(category for category in EULAR_CATEGORIES if category in counts_map)
        if not categories:
            raise reader.fail("eular_response.counts", f"expected at least one of {', '.join(EULAR_CATEGORIES)}")
        counts = tuple(reader.numbers(counts_map, category, "eular_response.counts", width) or () for category in categories)
        table_percent = None
        if "percent" in fields:
            percent_map = reader.mapping(fields["percent"], "eular_response.percent", required=categories)
            table_percent = tuple(
                reader.numbers(percent_map, category, "eular_response.percent", width) or () for category in categories
            )
        eular = PrintedTable(categories, counts, table_percent, reader.p_value(fields, "eular_response", alpha))

    n_included = Printed.parse(root["n_included"], f"{path.name}: n_included") if "n_included" in root else None
    reader.text(root, "source", "")  # for whoever reads the file; checked only for its shape
    return PublishedNumbers(
        labels=labels,
        n_included=n_included,
        n=n_stratum,
        percent=percent,
        outcomes=tuple(outcomes),
        eular=eular,
    )


class _TooDeep(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class _ShallowLoader(yaml.BaseLoader):
    """BaseLoader that stops at MAX_NESTING levels instead of recursing until Python's stack runs out."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self._depth >= MAX_NESTING:
            raise _TooDeep(self.peek_event().start_mark.line + 1)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


@dataclass(frozen=True)
class _Reader:
    """Shape checks with messages that name the file and the key."""

    file: str
    comma: bool

    def fail(self, where: str, message: str) -> UsageError:
        return UsageError(f"{self.file}: {where or 'top level'}: {message} (see docs/published-yaml.md)")

    def mapping(
        self, node: Any, where: str, *, required: Sequence[str] = (), optional: Sequence[str] = ()
    ) -> dict[str, Any]:
        if not isinstance(node, dict):
            raise self.fail(where, "expected keys and values")
        known = (*required, *optional)
        unknown = [key for key in node if key not in known]
        if unknown:
            raise self.fail(where, f"unknown key {unknown[0]!r}; expected one of {', '.join(known)}")
        missing = [key for key in required if key not in node]
        if missing:
            raise self.fail(where, f"missing key {missing[0]!r}")
        return node

    def text(self, fields: dict[str, Any], key: str, where: str) -> str | None:
        if key not in fields:
            return None
        if not isinstance(fields[key], str):
            raise self.fail(_key(where, key), "expected a single text value")
        return fields[key]

    def strings(self, node: Any, where: str) -> list[str]:
        if not isinstance(node, list) or not node or not all(isinstance(item, str) for item in node):
            raise self.fail(where, "expected a list of values, e.g. [\"4,46\", \"2,58\"]")
        return node

    def numbers(self, fields: dict[str, Any], key: str, where: str, width: int) -> tuple[Printed, ...] | None:
        if key not in fields:
            return None
        items = self.strings(fields[key], _key(where, key))
        if len(items) != width:
            raise self.fail(_key(where, key), f"expected {width} values, one per quartile, found {len(items)}")
        return tuple(Printed.parse(item, f"{self.file}: {where}.{key}") for item in items)

    def p_value(self, fields: dict[str, Any], where: str, alpha: Decimal) -> PrintedP | None:
        if "p" not in fields:
            return None
        if not isinstance(fields["p"], str):
            raise self.fail(f"{where}.p", "expected one p-value as printed, e.g. \"0,001\", \"<0.001\" or \"NS\"")
        return PrintedP.parse(fields["p"], f"{self.file}: {where}.p", alpha, self.comma)


# --- the check ----------------------------------------------------------------------------------


def check_published(path: Path, results: Results) -> PublishedCheck:
    """Every printed number beside the reproduced one, plus findings about the printed numbers themselves."""
    printed = load_published(path)
    if len(printed.labels) != len(results.strata):
        raise UsageError(
            f"{path.name}: quartiles.labels has {len(printed.labels)} labels but the analysis has "
            f"{len(results.strata)} strata"
        )
    names = [f"{stratum.label} ({label})" if label != stratum.label else label for stratum, label in zip(results.strata, printed.labels)]
    rows = [
        *_cohort_rows(printed, results, names),
        *_outcome_rows(printed, results, names),
        *(_eular_rows(printed.eular, results, names) if printed.eular else ()),
    ]
    consistency = [
        *_sdai_below_cdai(printed, names),
        *_strata_consistency(printed, grouping.singular(results)),
        *(_table_consistency(printed.eular, printed, names, (grouping.singular(results), grouping.plural(results))) if printed.eular else ()),
    ]
    return PublishedCheck(rows=tuple(rows), consistency=tuple(consistency), source_name=path.name)


def _row(item: str, printed: Printed, reproduced: float | Decimal | None, note: str = "") -> PublishedRow:
    shown = printed.show(reproduced)
    match = reproduced is not None and round_half_up(reproduced, printed.decimals) == printed.value
    return PublishedRow(item=item, printed=printed.text, reproduced=shown, match=match, note=note)


def _p_row(item: str, printed: PrintedP, p: float | None) -> PublishedRow:
    shown, match, note = printed.compare(p)
    return PublishedRow(item=item, printed=printed.text, reproduced=shown, match=match, note=note)


def _cohort_rows(printed: PublishedNumbers, results: Results, names: list[str]) -> list[PublishedRow]:
    rows = []
    if printed.n_included is not None:
        rows.append(_row("Patients included", printed.n_included, results.cohort.n_included))
    for i, (stratum, name) in enumerate(zip(results.strata, names)):
        if printed.n is not None:
            rows.append(_row(f"{name}, n", printed.n[i], stratum.n))
        if printed.percent is not None:
            rows.append(_row(f"{name}, %", printed.percent[i], stratum.percent))
    return rows


def _outcome_rows(printed: PublishedNumbers, results: Results, names: list[str]) -> list[PublishedRow]:
    by_variable = {comparison.variable: comparison for comparison in results.outcomes}
    rows = []
    for outcome in printed.outcomes:
        comparison = by_variable.get(outcome.variable)
        if comparison is None:
            label, note, test = outcome.label or outcome.variable, "not among the reproduced outcomes", ""
        else:
            # The printed name is added only where the report's own does not contain it ("ESR" is in "ESR").
            printed_name_known = outcome.label.lower() in comparison.label.lower()
            label = comparison.label if printed_name_known else f"{outcome.label} ({comparison.label})"
            note, test = "", f" ({comparison.test.test})"
        for i, name in enumerate(names):
            group = comparison.groups[i] if comparison is not None else None
            if outcome.mean:
                rows.append(_row(f"{label}, {name}, mean", outcome.mean[i], group.mean if group else None, note))
            if outcome.sd:
                rows.append(_row(f"{label}, {name}, SD", outcome.sd[i], group.sd if group else None, note))
        if outcome.p is not None:
            p_value = comparison.test.p_value if comparison is not None else None
            rows.append(_p_row(f"{label}, p{test}", outcome.p, p_value))
    return rows


Direction = Literal["row", "column"]


def _percent_of(count: Decimal, total: Decimal) -> Decimal | None:
    return None if total == 0 else count * 100 / total


def _totals(counts: Sequence[Sequence[Decimal]], direction: Direction) -> list[Decimal]:
    """Row totals (one per category) or column totals (one per stratum)."""
    if direction == "row":
        return [sum(row, Decimal(0)) for row in counts]
    return [sum(column, Decimal(0)) for column in zip(*counts)]


def _percent_grid(counts: Sequence[Sequence[Decimal]], direction: Direction) -> list[list[Decimal | None]]:
    totals = _totals(counts, direction)
    return [
        [_percent_of(count, totals[c] if direction == "row" else totals[s]) for s, count in enumerate(row)]
        for c, row in enumerate(counts)
    ]


def _fits(printed: Printed, value: Decimal | None) -> bool:
    return value is not None and round_half_up(value, printed.decimals) == printed.value


def detect_direction(table: PrintedTable) -> Direction:
    """Whether the printed percentages are of each stratum (column) or of each category (row).

    Decided by the printed numbers alone: whichever denominator reproduces more of them. Ties go to
    columns, the layout a table by quartile means.
    """
    assert table.percent is not None
    counts = [[value.value for value in row] for row in table.counts]
    fits = {
        direction: sum(
            _fits(printed, expected)
            for printed_row, expected_row in zip(table.percent, _percent_grid(counts, direction))
            for printed, expected in zip(printed_row, expected_row)
        )
        for direction in ("column", "row")
    }
    return "row" if fits["row"] > fits["column"] else "column"


def _eular_rows(table: PrintedTable, results: Results, names: list[str]) -> list[PublishedRow]:
    reproduced = results.eular_response
    index = {category: i for i, category in enumerate(reproduced.categories)}
    rows = []
    for c, category in enumerate(table.categories):
        for s, name in enumerate(names):
            count = reproduced.counts[index[category]][s] if category in index else None
            rows.append(_row(f"EULAR {category}, {name}, n", table.counts[c][s], count))
    if table.percent is not None:
        direction = detect_direction(table)
        other: Direction = "column" if direction == "row" else "row"
        counts = [
            [Decimal(reproduced.counts[index[category]][s]) if category in index else Decimal(0) for s in range(len(names))]
            for category in table.categories
        ]
        grids = {direction: _percent_grid(counts, direction), other: _percent_grid(counts, other)}
        group = grouping.singular(results)
        basis = "of the response row" if direction == "row" else f"of the {group}"
        for c, category in enumerate(table.categories):
            for s, name in enumerate(names):
                printed = table.percent[c][s]
                note = f"% {basis}"
                if not _fits(printed, grids[direction][c][s]) and _fits(printed, grids[other][c][s]):
                    note = f"equals the % of the {group} instead" if other == "column" else "equals the % of the response row instead"
                rows.append(_row(f"EULAR {category}, {name}, %", printed, grids[direction][c][s], note))
    if table.p is not None:
        rows.append(_p_row(f"EULAR response, p ({reproduced.test.test})", table.p, reproduced.test.p_value))
    return rows


# --- consistency of the printed numbers ---------------------------------------------------------


def _sdai_below_cdai(printed: PublishedNumbers, names: list[str]) -> list[str]:
    by_variable = {outcome.variable: outcome for outcome in printed.outcomes}
    sdai, cdai = by_variable.get("sdai"), by_variable.get("cdai")
    if sdai is None or cdai is None or not sdai.mean or not cdai.mean:
        return []
    where = [
        f"{name} ({s.text} < {c.text})" for name, s, c in zip(names, sdai.mean, cdai.mean) if s.value < c.value
    ]
    if not where:
        return []
    return [
        f"SDAI mean printed below the CDAI mean in {join_words(where)}: impossible on the same patients, "
        "since SDAI = CDAI + CRP (mg/dL) and CRP is never negative."
    ]


def _strata_consistency(printed: PublishedNumbers, group: str) -> list[str]:
    """Findings about the printed group sizes and percentages; ``group`` is the word for one group (grouping)."""
    capital = group[0].upper() + group[1:]
    findings = []
    if printed.percent is not None:
        total = sum((value.value for value in printed.percent), Decimal(0))
        if abs(total - 100) > PERCENT_SUM_TOLERANCE:
            findings.append(f"{capital} percentages sum to {printed.percent[0].show(total)}, not 100.")
    if printed.n is not None and printed.n_included is not None:
        total = sum((value.value for value in printed.n), Decimal(0))
        if total != printed.n_included.value:
            findings.append(
                f"{capital} sizes sum to {total}, not to the {printed.n_included.text} patients included: "
                + patients(abs(printed.n_included.value - total))
                + (f" in no {group}." if total < printed.n_included.value else " too many.")
            )
            if printed.percent is not None and all(
                _fits(percent, _percent_of(n.value, total)) for n, percent in zip(printed.n, printed.percent)
            ):
                findings.append(f"{capital} percentages are of the {total} patients in a {group}, not of the {printed.n_included.text} included.")
    return findings


def _table_consistency(table: PrintedTable, printed: PublishedNumbers, names: list[str], words: tuple[str, str]) -> list[str]:
    findings = []
    counts = [[value.value for value in row] for row in table.counts]
    if printed.n is not None and len(table.categories) == len(EULAR_CATEGORIES):
        for name, column_total, n in zip(names, _totals(counts, "column"), printed.n):
            if column_total != n.value:
                findings.append(f"EULAR response counts in {name} sum to {column_total}, not to its n = {n.text}.")
    if table.percent is None:
        return findings
    direction = detect_direction(table)
    if direction == "row":
        findings.append(_row_layout_sentence(table, names, words))
    like = table.percent[0][0]
    if direction == "row":
        for category, row in zip(table.categories, table.percent):
            total = sum((value.value for value in row), Decimal(0))
            if abs(total - 100) > PERCENT_SUM_TOLERANCE:
                findings.append(f"EULAR response '{category}' percentages sum to {like.show(total)}, not 100.")
    else:
        for s, name in enumerate(names):
            total = sum((row[s].value for row in table.percent), Decimal(0))
            if abs(total - 100) > PERCENT_SUM_TOLERANCE:
                findings.append(f"EULAR response percentages in {name} sum to {like.show(total)}, not 100.")
    return findings


def _row_layout_sentence(table: PrintedTable, names: list[str], words: tuple[str, str]) -> str:
    """``words``: one group and all of them ('quartile', 'quartiles'), from ``reportgen.grouping``."""
    group, groups = words
    """Explain the row layout with the first cell where row and column percentages differ."""
    assert table.percent is not None
    counts = [[value.value for value in row] for row in table.counts]
    rows, columns = _percent_grid(counts, "row"), _percent_grid(counts, "column")
    row_totals, column_totals = _totals(counts, "row"), _totals(counts, "column")
    example = ""
    for c, category in enumerate(table.categories):
        for s, name in enumerate(names):
            printed = table.percent[c][s]
            if _fits(printed, rows[c][s]) and not _fits(printed, columns[c][s]) and columns[c][s] is not None:
                example = (
                    f" (e.g. '{category}' in {name}: {table.counts[c][s].text} of {row_totals[c]} = {printed.text} %, "
                    f"where {table.counts[c][s].text} of {column_totals[s]} = {printed.show(columns[c][s])} % was meant)"
                )
                break
        if example:
            break
    off = [
        f"'{category}' in {name} ({table.percent[c][s].text})"
        for c, category in enumerate(table.categories)
        for s, name in enumerate(names)
        if not _fits(table.percent[c][s], rows[c][s])
    ]
    exceptions = f"; {join_words(off)} {'does' if len(off) == 1 else 'do'} not fit that layout" if off else ""
    return (
        "EULAR response percentages are taken along rows: each is a share of its response category across "
        f"{groups}, not a share of its {group}{example}{exceptions}."
    )


def _key(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key
