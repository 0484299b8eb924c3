"""Validate stage: check a loaded workbook against the cohort contract and return a typed Cohort.

Every problem is found in one pass and raised together as ``WorkbookInvalid(problems, warnings)``;
each points at a cell (sheet, Excel row with the header as row 1, column, the value as found) and
says the rule in plain words. The rules come from ``schemas/cohort-v1.yaml`` (``reportgen.contract``).

How a data sheet is checked, with Pandera schemas built from the contract and validated lazily
(all failures at once), every check vectorised:

1. *Cell kinds.* Each cell is classified once (blank, a number, a number stored as text, other text,
   TRUE/FALSE, a date, a formula, an Excel error, an unrecognised answer). One
   check per wrong kind, each carrying its own sentence, so "12" typed as text is told apart from
   "abc" and from a date.
2. *Values.* On the typed columns: ranges, whole numbers, uniqueness, text length.
3. *Across sheets.* Visits only for listed patients, one visit per patient per month, a baseline
   visit (month 0) for every patient, no visit after withdrawal_month.
4. *Warnings.* Possible but unusual values (ESR above 120 mm/h, ...). They never block.

Pandera reads settings from the environment (``PANDERA_VALIDATION_ENABLED=False``, a validation depth
of ``SCHEMA_ONLY``, the narwhals backend, ...) that would switch checks off or change what a failure
reports; the environment is hidden from pandera's import and :func:`validate_workbook` fixes every
such setting (``PANDERA_SETTINGS``) for its own schemas.

The small ``study`` sheet has one rule per key, not per column, and is checked key by key (a misspelt
choice gets "did you mean"); then its design as a whole (``_check_design``): the drug against the drug table
(``reportgen.drugs``; an unknown drug needs ``administration``), and warnings for a missing drug, Background
or Objectives. Post-baseline trough levels outside the drug's plausible range are warnings.

Output (``reportgen.model.Cohort``), both frames indexed 0..n-1:

``patients``, in workbook order:
    patient_id (str), sex (str, "F"/"M"), age_years (float64), disease_duration_years (float64),
    rf_positive, acpa_positive (nullable "boolean", <NA> = unknown), prior_biologics (int64),
    concomitant_mtx (bool), withdrawal_month (float64, NaN = still treated),
    withdrawal_reason (object: str or None), excel_row (int64).
``visits``, sorted by the patients' workbook order, then month:
    patient_id (str), month (int64), tjc28, sjc28 (int64), esr_mm_h, crp_mg_l, patient_global_mm,
    evaluator_global_mm, tcz_trough_ug_ml (float64; NaN = not measured, always NaN at month 0),
    excel_row (int64). CRP given as crp_mg_dl is converted to mg/L here, once.
Extra columns of the workbook are dropped (with a warning). The executable form of this description is
``reportgen.frames.CohortPatients`` and ``CohortVisits``, checked by ``pipeline.py`` on what this returns.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import IntEnum
from typing import Any, Callable, Iterator
from warnings import catch_warnings, simplefilter

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

from reportgen import grouping
from reportgen.contract import ColumnRule, Contract, SheetRule, StudyKey, StudyRule, column_letter, load_contract
from reportgen.errors import WorkbookInvalid
from reportgen.model import Cohort, Problem, RawWorkbook, Severity, SheetData, StudyOptions
from reportgen.prose import clipped, counted
from reportgen.untrusted import first_refused_control


@contextmanager
def _environment_without_pandera_settings() -> Iterator[None]:
    """Hide pandera's environment variables (PANDERA_*, SILENCE_WARNING_PYDANTIC_MODEL) for the duration.

    Pandera reads them once, when ``pandera.config`` is imported, and a value it cannot parse
    (``PANDERA_VALIDATION_DEPTH=garbage``) fails that import with a ValueError. Importing pandera also sets
    variables of its own (SPARK_LOCAL_IP, PYARROW_IGNORE_TIMEZONE); the environment is put back exactly as
    it was, so importing reportgen changes nothing in it.
    """
    before = dict(os.environ)
    for name in before:
        if name.startswith(("PANDERA_", "SILENCE_WARNING_")):
            del os.environ[name]
    try:
        yield
    finally:
        for name in set(os.environ) - set(before):
            del os.environ[name]
        os.environ.update(before)


with _environment_without_pandera_settings():
    import pandera.pandas as pa
    from pandera import config as pandera_config
    from pandera.config import ValidationDepth
    from pandera.errors import SchemaErrors

# Every pandera setting that decides which checks run or how their failures are reported, as validation needs
# it whatever the environment (or an earlier importer of pandera) set: validation is the boundary of the report.
# (cache_dataframe and keep_cached_dataframe matter to pyspark only; fixed too, as they cost nothing.)
PANDERA_SETTINGS: dict[str, Any] = {
    "validation_enabled": True,
    "validation_depth": ValidationDepth.SCHEMA_AND_DATA,
    "cache_dataframe": False,
    "keep_cached_dataframe": False,
    "use_narwhals_backend": False,
}

BASELINE_MONTH = 0
_SHOWN_LENGTH = 60


class CellKind(IntEnum):
    """What a cell holds, decided once per cell before any rule is checked."""

    BLANK = 0
    OK = 1
    NUMBER_AS_TEXT = 2
    TEXT = 3
    TRUE_FALSE = 4
    DATE = 5
    UNRECOGNISED = 6
    FORMULA = 7
    EXCEL_ERROR = 8
    CONTROL_CHARACTER = 9


def _kind_sentence(kind: CellKind, column: ColumnRule) -> str:
    """The sentence for a cell of the wrong kind, built around the column's rule from the contract."""
    rule = column.rule
    return {
        CellKind.BLANK: f"this cell is empty; {rule}",
        CellKind.NUMBER_AS_TEXT: f"this number is stored as text; type it again as a number ({rule})",
        CellKind.TEXT: rule,
        CellKind.TRUE_FALSE: f"this cell holds TRUE/FALSE; {rule}",
        CellKind.DATE: f"this cell holds a date or time; {rule}",
        CellKind.UNRECOGNISED: rule,
        CellKind.FORMULA: FORMULA_SENTENCE,
        CellKind.EXCEL_ERROR: f"this cell holds an Excel error instead of a value; {rule}",
        CellKind.CONTROL_CHARACTER: CONTROL_SENTENCE,
    }[kind]


# Any formula, saved value or not: a saved value can be stale (a program wrote the file, or Excel was
# set to manual calculation) and one never calculated reads as blank, so neither is trusted.
FORMULA_SENTENCE = (
    "this cell holds a formula; reportgen never evaluates formulas — paste the values instead "
    "(Paste Special → Values)"
)
# Control characters break the PDF's XML metadata and can drive a terminal (reportgen.untrusted).
CONTROL_SENTENCE = (
    "this text holds a control character (shown as \\x.. in the value), which cannot be printed in a report; "
    "retype the text without it (it often comes with text pasted from another program)"
)
_NUMBER_TYPES = (int, float)
_DATE_TYPES = (date, datetime, time, timedelta)
_ALL_NUMBERS = {"floating", "integer", "mixed-integer-float", "empty"}
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}


# --- the entry point ----------------------------------------------------------------------------


def validate_workbook(raw: RawWorkbook) -> Cohort:
    """Check ``raw`` against the contract; return the typed cohort or raise WorkbookInvalid with every problem."""
    # Validation is the boundary of the whole report: it must not be switchable off by the environment.
    if pandera_config.CONFIG.use_narwhals_backend:
        # Read from the global config, not the context, when pandera picks a backend for a schema; set_config
        # puts back the pandas backends already registered with narwhals (and says so in a warning).
        with catch_warnings():
            simplefilter("ignore", UserWarning)
            pandera_config.set_config(use_narwhals_backend=False)
    with pandera_config.config_context(**PANDERA_SETTINGS):
        return _validate(raw, load_contract())


def _validate(raw: RawWorkbook, contract: Contract) -> Cohort:
    findings = _Findings()
    sheets = {rule.name: _check_data_sheet(rule, raw.sheets.get(rule.name), findings) for rule in contract.sheets}
    patients, visits = sheets["patients"], sheets["visits"]
    if patients is not None and visits is not None:
        _check_across_sheets(patients, visits, findings)
    study = _check_study(contract.study, raw.sheets.get(contract.study.name), findings)
    if visits is not None:
        _check_trough_range(visits, study, findings)

    errors, warnings = findings.sorted(raw, contract)
    if errors:
        raise WorkbookInvalid(errors, warnings)
    assert patients is not None and visits is not None  # a sheet that could not be checked is an error
    patient_frame = _output_frame(patients)
    visit_frame = _output_frame(visits)
    visit_frame = _clear_baseline_values(visits.rule, visit_frame)
    visit_frame = _in_patient_order(visit_frame, patient_frame)
    return Cohort(
        patients=patient_frame,
        visits=visit_frame,
        study=study,
        warnings=warnings,
        source_name=raw.file_name,
        source_sha256=raw.sha256,
    )


@dataclass
class _Findings:
    """Problems and warnings collected across all checks, in any order."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, *problems: Problem) -> None:
        self.problems.extend(problems)

    def sorted(self, raw: RawWorkbook, contract: Contract) -> tuple[tuple[Problem, ...], tuple[Problem, ...]]:
        """(errors, warnings), each in workbook order: sheet, row, column as the contract lists them."""
        # Problems name sheets as the workbook spells them; map those names back to the contract's order.
        shown = {name: name for name in contract.sheet_names} | {sheet.name: key for key, sheet in raw.sheets.items()}
        sheet_order = {name: i for i, name in enumerate(contract.sheet_names)}
        column_order = {
            (sheet.name, column.name): i for sheet in contract.sheets for i, column in enumerate(sheet.columns)
        }

        def key(problem: Problem) -> tuple[int, int, int, str]:
            sheet = shown.get(problem.sheet or "", "")
            return (
                sheet_order.get(sheet, -1),
                problem.row or 0,
                column_order.get((sheet, problem.column or ""), len(column_order)),
                problem.rule,
            )

        ordered = sorted(self.problems, key=key)
        return (
            tuple(problem for problem in ordered if problem.severity == "error"),
            tuple(problem for problem in ordered if problem.severity == "warning"),
        )


# --- one data sheet -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _CheckedSheet:
    """A data sheet that could be checked: its contract columns as found, typed, indexed by Excel row."""

    rule: SheetRule
    shown_name: str
    columns: tuple[ColumnRule, ...]  # every contract column, alternatives as given (e.g. crp_mg_dl)
    cells: pd.DataFrame  # the cells as read, for showing values in problems
    typed: pd.DataFrame  # the same cells typed; NaN where blank or of the wrong kind


def _check_data_sheet(rule: SheetRule, sheet: SheetData | None, findings: _Findings) -> _CheckedSheet | None:
    """Check one data sheet; None when its structure is too broken to check the rows."""
    columns = _check_header(rule, sheet, findings)
    if sheet is None or columns is None:
        return None
    positions = {column.name: sheet.header.index(column.name) for column in columns}
    if sheet.columns is not None:  # read column by column (the fast reader): typed columns, same cells
        table = pd.DataFrame(dict(enumerate(sheet.columns)))
    else:
        table = pd.DataFrame(list(sheet.rows), dtype=object)
    table = table.reindex(columns=range(max(len(sheet.header), table.shape[1])))
    table.index = pd.RangeIndex(2, len(table) + 2)
    cells = table[[positions[column.name] for column in columns]]
    cells.columns = [column.name for column in columns]

    kinds, typed = _classify_sheet(columns, cells, sheet)
    unused = table.drop(columns=list(positions.values()))
    filled_rows = (kinds != CellKind.BLANK).any(axis=1) | ~_blank_cells(unused).all(axis=1)
    cells, kinds, typed = cells[filled_rows], kinds[filled_rows], typed[filled_rows]
    if cells.empty:
        findings.add(
            Problem(sheet.name, None, None, None, f"the {sheet.name} sheet has no {rule.row_noun} rows yet; add one row per {rule.row_noun} below the header")
        )
        return None
    _warn_unnamed_columns(sheet, table, findings)

    checked = _CheckedSheet(rule=rule, shown_name=sheet.name, columns=columns, cells=cells, typed=typed)
    by_name = {column.name: column for column in columns}
    findings.add(
        *_run_schema(
            _cell_kind_schema(columns),
            kinds,
            checked,
            "error",
            _overrides(sheet) | _control_excerpts(cells, kinds),
            rule_of_case=lambda name, kind: _kind_sentence(CellKind(int(kind)), by_name[name]),
        )
    )
    findings.add(*_run_schema(_value_schema(columns), typed, checked, "error"))
    findings.add(*_unique_problems(checked))
    findings.add(*_run_schema(_warning_schema(columns), typed, checked, "warning"))
    return checked


def _check_header(rule: SheetRule, sheet: SheetData | None, findings: _Findings) -> tuple[ColumnRule, ...] | None:
    """The contract columns this sheet gives, or None after reporting why the rows cannot be checked."""
    if sheet is None:
        if rule.required:
            findings.add(
                Problem(rule.name, None, None, None, f"the workbook has no sheet named {rule.name}; add it ('reportgen template' writes one with every column)")
            )
        return None
    header = sheet.header
    if not any(header):
        findings.add(Problem(sheet.name, None, None, None, f"the {sheet.name} sheet is empty; row 1 must hold the column names"))
        return None

    broken = False
    known = {column.name for column in rule.columns}
    seen: set[str] = set()
    for name in header:
        if name in known and name in seen:
            findings.add(Problem(sheet.name, 1, name, None, f"the column name {name} appears more than once in row 1; keep only one"))
            broken = True
        seen.add(name)

    present: list[ColumnRule] = []
    for column in rule.canonical_columns:
        given = [candidate for candidate in (column, *rule.alternatives(column.name)) if candidate.name in seen]
        if len(given) > 1:
            names = " or ".join(candidate.name for candidate in given)
            findings.add(Problem(sheet.name, 1, given[1].name, None, f"give {names}, not both: one column only"))
            broken = True
        elif not given:
            findings.add(Problem(sheet.name, 1, column.name, None, _missing_column_sentence(rule, column, header)))
            broken = True
        else:
            present.extend(given)

    for name in sorted(set(header) - known - {""}, key=header.index):
        if name:
            findings.add(
                Problem(sheet.name, 1, name, None, f"the column {name} is not part of the cohort workbook; it is left out of the analysis", "warning")
            )
    return None if broken else tuple(present)


def _missing_column_sentence(rule: SheetRule, column: ColumnRule, header: tuple[str, ...]) -> str:
    sentence = f"the column {column.name} is missing from row 1 of the {rule.name} sheet"
    alternatives = rule.alternatives(column.name)
    if alternatives:
        sentence += f" (or give {' or '.join(alternative.name for alternative in alternatives)} instead)"
    # Only a header that is no contract column can be this column misspelt (sjc28 is not a typo of tjc28).
    known = {candidate.name for candidate in rule.columns}
    strangers = [name for name in header if name and name not in known]
    near = [name for name in strangers if name.casefold() == column.name.casefold()]
    near = near or difflib.get_close_matches(column.name, strangers, n=1, cutoff=0.8)
    if near:
        sentence += f"; row 1 has {near[0]!r}, but column names must be written exactly as {column.name}"
    return sentence


def _warn_unnamed_columns(sheet: SheetData, table: pd.DataFrame, findings: _Findings) -> None:
    header = sheet.header + ("",) * (table.shape[1] - len(sheet.header))
    for position, name in enumerate(header):
        if not name and not _blank_cells(table[position]).all():
            findings.add(
                Problem(sheet.name, 1, f"column {column_letter(position)}", None, "this column has values but no name in row 1; it is left out of the analysis", "warning")
            )


def _overrides(sheet: SheetData) -> dict[tuple[int, str], str]:
    """What to show for cells whose value as read is not what they hold: formulas and Excel errors."""
    shown = {(row, column): text for row, column, text in sheet.error_cells}
    # A formula whose saved value is an error is shown, and reported, as the formula.
    shown.update({(row, column): text for row, column, text in sheet.formulas})
    return shown


def _control_excerpts(cells: pd.DataFrame, kinds: pd.DataFrame) -> dict[tuple[int, str], str]:
    """For each cell holding a control character, the text around the first one, so it is in the shown value."""
    excerpts: dict[tuple[int, str], str] = {}
    for name in kinds.columns:
        marked = kinds.index[kinds[name].to_numpy() == CellKind.CONTROL_CHARACTER]
        for row in marked.tolist():
            excerpts[row, name] = _control_shown(str(cells.at[row, name]))
    return excerpts


def _control_shown(text: str) -> str:
    """``text`` shown from a little before its first control character, which a long text would cut off."""
    start = max(0, first_refused_control(text) - 20)
    return str(_shown(("…" if start else "") + text[start:]))


# --- classifying cells --------------------------------------------------------------------------


def _blank_cells(cells: pd.DataFrame | pd.Series) -> Any:
    """Empty as read (None or ''), before any rule; spaces-only text is judged per column later."""
    if isinstance(cells, pd.DataFrame):
        return pd.DataFrame({name: _blank_cells(cells[name]) for name in cells.columns}, index=cells.index)
    if cells.dtype != object:  # a typed number column (the fast reader) has no text, so no ''
        return cells.isna()
    return cells.isna() | (cells.to_numpy() == "")


def _classify_sheet(columns: tuple[ColumnRule, ...], cells: pd.DataFrame, sheet: SheetData) -> tuple[pd.DataFrame, pd.DataFrame]:
    kinds: dict[str, np.ndarray] = {}
    typed: dict[str, pd.Series] = {}
    for column in columns:
        kinds[column.name], typed[column.name] = _classify(column, cells[column.name])
    kind_frame = pd.DataFrame(kinds, index=cells.index)
    typed_frame = pd.DataFrame(typed, index=cells.index)
    # The reader shows Excel errors as blank and formulas as their saved value; mark them for what
    # they are (formulas last: a formula showing an error is reported as the formula).
    for special, marked in ((CellKind.EXCEL_ERROR, sheet.error_cells), (CellKind.FORMULA, sheet.formulas)):
        rows_by_column: dict[str, list[int]] = {}
        for row, name, _ in marked:
            rows_by_column.setdefault(name, []).append(row)
        for name, rows in rows_by_column.items():
            if name in kind_frame.columns:
                at = kind_frame.index.intersection(rows)
                kind_frame.loc[at, name] = special
                typed_frame.loc[at, name] = np.nan  # never checked further: the kind is the problem
    return kind_frame, typed_frame


def _classify(column: ColumnRule, cells: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """(cell kinds, typed values) of one column; typed values are NaN/NA wherever the kind is not OK."""
    kinds = np.full(len(cells), CellKind.OK, dtype=np.int8)
    blank = _blank_cells(cells).to_numpy()
    kinds[blank] = CellKind.BLANK
    split = _TypeSplit.of(cells, ~blank)
    # Text of spaces only looks empty in Excel, so it is blank.
    spaces = _per_distinct(split.texts, str.isspace).astype(bool)
    kinds[split.text_positions[spaces]] = CellKind.BLANK
    texts = split.texts[~spaces]
    text_positions = split.text_positions[~spaces]

    if column.kind in ("number", "whole"):
        values = pd.Series(np.nan, index=cells.index, dtype="float64")
        values.iloc[split.number_positions] = split.numbers.to_numpy(dtype="float64")
        number_as_text = _per_distinct(texts, lambda text: parse_decimal(text) is not None).astype(bool)
        kinds[text_positions] = np.where(number_as_text, CellKind.NUMBER_AS_TEXT, CellKind.TEXT)
        kinds[split.bool_positions] = CellKind.TRUE_FALSE
        kinds[split.date_positions] = CellKind.DATE
        kinds[split.other_positions] = CellKind.UNRECOGNISED
        return kinds, values

    if column.kind == "yesno":
        answers = pd.Series(pd.NA, index=cells.index, dtype="boolean")
        answers.iloc[split.bool_positions] = split.bools.to_numpy(dtype=bool)
        numbers = split.numbers.to_numpy(dtype="float64")
        zero_one = (numbers == 0) | (numbers == 1)
        answers.iloc[split.number_positions[zero_one]] = numbers[zero_one] == 1
        said = _per_distinct(texts, _yes_no)
        understood = np.array([answer is not None for answer in said], dtype=bool)
        answers.iloc[text_positions[understood]] = said[understood].astype(bool)
        kinds[split.number_positions[~zero_one]] = CellKind.UNRECOGNISED
        kinds[text_positions[~understood]] = CellKind.UNRECOGNISED
        kinds[np.concatenate([split.date_positions, split.other_positions])] = CellKind.UNRECOGNISED
        return kinds, answers

    # text and choice: numbers become their text (an id typed as 123 reads "123")
    values = pd.Series(None, index=cells.index, dtype="object")
    values.iloc[text_positions] = texts.to_numpy(dtype=object)
    values.iloc[split.number_positions] = [_number_text(number) for number in split.numbers]
    if column.kind == "choice":
        canonical = {option.casefold(): option for option in column.allowed}
        filled = np.flatnonzero(values.notna().to_numpy())
        values.iloc[filled] = _per_distinct(values.iloc[filled], lambda text: canonical.get(text.strip().casefold()))
        chosen = values.notna().to_numpy(dtype=bool)
        kinds[(~chosen) & (kinds == CellKind.OK)] = CellKind.UNRECOGNISED
        kinds[np.concatenate([split.bool_positions, split.date_positions, split.other_positions])] = CellKind.UNRECOGNISED
    else:
        kinds[split.bool_positions] = CellKind.TRUE_FALSE
        kinds[split.date_positions] = CellKind.DATE
        kinds[split.other_positions] = CellKind.UNRECOGNISED
        controlled = _per_distinct(texts, lambda text: first_refused_control(text) >= 0).astype(bool)
        kinds[text_positions[controlled]] = CellKind.CONTROL_CHARACTER
        values.iloc[text_positions[controlled]] = None
    return kinds, values.astype("str").where(values.notna())


def _per_distinct(texts: pd.Series, function: Callable[[str], Any]) -> np.ndarray:
    """``function`` of every text, computed once per distinct text: columns repeat few values many times."""
    codes, distinct = pd.factorize(texts.to_numpy(dtype=object))
    results = np.empty(len(distinct), dtype=object)
    results[:] = [function(text) for text in distinct]
    return results[codes] if len(codes) else np.empty(0, dtype=object)


def _yes_no(text: str) -> bool | None:
    word = text.strip().casefold()
    return True if word in _YES else False if word in _NO else None


@dataclass(frozen=True)
class _TypeSplit:
    """The non-blank cells of a column split by Python type, with their positions in the column."""

    numbers: pd.Series
    number_positions: np.ndarray
    texts: pd.Series
    text_positions: np.ndarray
    bools: pd.Series
    bool_positions: np.ndarray
    date_positions: np.ndarray
    other_positions: np.ndarray

    @classmethod
    def of(cls, cells: pd.Series, filled: np.ndarray) -> _TypeSplit:
        positions = np.flatnonzero(filled)
        values = cells.iloc[positions]
        # One pass in C decides the usual case (a column all numbers, or all text); only a mixed
        # column pays for looking at each cell's type.
        inferred = infer_dtype(values, skipna=False)
        if inferred in _ALL_NUMBERS:
            masks = {"number": np.ones(len(values), bool)}
        elif inferred == "string":
            masks = {"text": np.ones(len(values), bool)}
        elif inferred == "boolean":
            masks = {"bool": np.ones(len(values), bool)}
        else:
            types = pd.Series(values.map(type).to_numpy(), dtype=object)
            masks = {
                "number": types.isin(_NUMBER_TYPES).to_numpy(),
                "text": types.isin((str,)).to_numpy(),
                "bool": types.isin((bool, np.bool_)).to_numpy(),
                "date": types.isin(_DATE_TYPES + (pd.Timestamp,)).to_numpy(),
            }
        empty = np.zeros(len(values), bool)
        number, text, flag, when = (masks.get(name, empty) for name in ("number", "text", "bool", "date"))
        other = ~(number | text | flag | when)
        return cls(
            numbers=values[number],
            number_positions=positions[number],
            texts=values[text],
            text_positions=positions[text],
            bools=values[flag],
            bool_positions=positions[flag],
            date_positions=positions[when],
            other_positions=positions[other],
        )


def _number_text(number: float) -> str:
    """A number as Excel shows it in a General cell: 123.0 -> '123', 12.5 -> '12.5'."""
    if isinstance(number, float) and number.is_integer():
        return str(int(number))
    return str(number)


# --- the schemas --------------------------------------------------------------------------------


def _schema(columns: dict[str, list[pa.Check]]) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {name: pa.Column(checks=checks, nullable=True, required=True) for name, checks in columns.items() if checks},
        strict=False,
        coerce=False,
    )


def _check(function: Callable[[pd.Series], pd.Series], sentence: str, ignore_na: bool = True) -> pa.Check:
    return pa.Check(function, error=sentence, ignore_na=ignore_na)


def _cell_kind_schema(columns: tuple[ColumnRule, ...]) -> pa.DataFrameSchema:
    """One check per column on the kind codes; each failure case is a wrong kind, which picks its sentence."""
    checks: dict[str, list[pa.Check]] = {}
    for column in columns:
        accepted = [CellKind.OK] if column.required else [CellKind.OK, CellKind.BLANK]
        checks[column.name] = [
            _check(lambda codes, accepted=accepted: pd.Series(np.isin(codes.to_numpy(), accepted), index=codes.index), f"{column.name} holds the right kind of value")
        ]
    return _schema(checks)


def _value_schema(columns: tuple[ColumnRule, ...]) -> pa.DataFrameSchema:
    """Ranges, whole numbers, uniqueness and length, on typed values (NaN = already reported or blank)."""
    checks: dict[str, list[pa.Check]] = {}
    for column in columns:
        checks[column.name] = []
        if column.kind in ("number", "whole"):
            low = -math.inf if column.min is None else column.min
            high = math.inf if column.max is None else column.max
            if column.above_max_hint:
                # Above the maximum the likely mistake is known (a unit): say it, in its own check.
                checks[column.name].append(
                    _check(lambda values, high=high: values <= high, f"{column.rule}; {column.above_max_hint}")
                )
                high = math.inf
            if column.kind == "whole":
                in_range = _check(lambda values, low=low, high=high: values.between(low, high) & (values % 1 == 0), column.rule)
            else:
                in_range = _check(lambda values, low=low, high=high: values.between(low, high), column.rule)
            checks[column.name].append(in_range)
        if column.max_length is not None:
            checks[column.name].append(
                _check(lambda values, most=column.max_length: values.str.len() <= most, f"{column.name} may hold at most {column.max_length} characters")
            )
    return _schema(checks)


def _unique_problems(sheet: _CheckedSheet) -> list[Problem]:
    """A value repeated in a unique column, reported once per repeat and naming the row it repeats."""
    found: list[Problem] = []
    for column in sheet.columns:
        if not column.unique:
            continue
        values = sheet.typed[column.name].dropna()
        # Only repeated values are ever looked up: their first rows, not a dictionary of every value.
        repeated = values[values.duplicated(keep=False)]
        first_row = {value: row for row, value in repeated[~repeated.duplicated()].items()}
        schema = _schema({column.name: [_check(lambda values: ~values.duplicated(keep="first"), f"{column.name} is unique")]})
        noun = sheet.rule.row_noun
        found.extend(
            _run_schema(
                schema,
                sheet.typed,
                sheet,
                "error",
                rule_of_case=lambda name, value: (
                    f"this {name} is already used on row {first_row[value]}; each {noun} has one row in the "
                    f"{sheet.shown_name} sheet, so remove the copy or correct the {name}"
                ),
            )
        )
    return found


def _warning_schema(columns: tuple[ColumnRule, ...]) -> pa.DataFrameSchema:
    checks: dict[str, list[pa.Check]] = {}
    for column in columns:
        if column.warn_above is not None and column.warning is not None:
            # Above the maximum the value is already an error: no warning on top of it.
            high = math.inf if column.max is None else column.max
            checks[column.name] = [_check(lambda values, most=column.warn_above, high=high: (values <= most) | (values > high), column.warning)]
    return _schema(checks)


def _run_schema(
    schema: pa.DataFrameSchema,
    frame: pd.DataFrame,
    sheet: _CheckedSheet,
    severity: Severity,
    overrides: dict[tuple[int, str], str] | None = None,
    rule_of_case: Callable[[str, Any], str] | None = None,
) -> list[Problem]:
    """Validate lazily and turn every failure case into a Problem pointing at its cell.

    The rule is the failed check's sentence, or ``rule_of_case(column, failure_case)`` when given.
    ``overrides`` replace the shown value of formulas and error cells.
    """
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as error:
        cases = error.failure_cases
    else:
        return []
    overrides = overrides or {}
    problems: list[Problem] = []
    for (column, rule), group in cases.groupby(["column", "check"], sort=False, dropna=False):
        rows = pd.to_numeric(group["index"], errors="coerce")
        if rows.isna().all():
            # A schema-level failure (not tied to a row) means reportgen built a wrong frame: say so.
            problems.append(Problem(sheet.shown_name, None, str(column), None, str(rule), severity))
            continue
        rows = rows.dropna().astype(int)
        found = sheet.cells[column].reindex(rows.to_numpy())
        for row, value, case in zip(rows.tolist(), found.tolist(), group["failure_case"].tolist()):
            shown = overrides.get((row, column)) or _shown(value)
            sentence = rule_of_case(column, case) if rule_of_case else str(rule)
            problems.append(Problem(sheet.shown_name, row, str(column), shown, sentence, severity))
    return problems


def _shown(value: Any) -> str | None:
    """A short, unambiguous rendering of a cell as found: quotes make spaces and text-vs-number visible."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    shown = repr(value) if isinstance(value, str) else str(value)
    return clipped(shown, _SHOWN_LENGTH)


# --- across sheets ------------------------------------------------------------------------------


def _check_across_sheets(patients: _CheckedSheet, visits: _CheckedSheet, findings: _Findings) -> None:
    listed = patients.typed.loc[patients.typed["patient_id"].notna() & ~patients.typed["patient_id"].duplicated()]
    known = pd.Index(listed["patient_id"])
    visit_ids = visits.typed["patient_id"]
    months = visits.typed["month"]
    patient_of_visit = pd.Index(listed["patient_id"]).get_indexer(visit_ids)
    # A withdrawal_month already reported out of range (e.g. -1) must not also put every visit "after" it.
    withdrawal_rule = patients.rule.column("withdrawal_month")
    withdrawal = listed["withdrawal_month"].astype("float64")
    withdrawal = withdrawal.where(withdrawal.between(withdrawal_rule.min, withdrawal_rule.max))
    withdrawal_of_visit = pd.Series(
        np.append(withdrawal.to_numpy(dtype="float64"), np.nan)[patient_of_visit], index=visit_ids.index
    )  # get_indexer gives -1 for an unlisted patient, which picks the NaN appended last
    with_baseline = pd.Index(visit_ids[months == BASELINE_MONTH].dropna())

    visit_checks = {
        "patient_id": [
            _check(
                lambda ids: _listed(ids, known, spaces_matter=False),
                "this patient_id is not in the patients sheet; every visit must belong to a listed patient",
            ),
            _check(
                lambda ids: _listed(ids, known, spaces_matter=True),
                "this patient_id matches one in the patients sheet only if spaces are ignored; write it exactly the same",
            ),
        ],
        # Pandera hands a check only the non-blank cells, so the other columns are aligned to them.
        "month": [
            _check(
                lambda month: ~pd.DataFrame({"id": visit_ids.reindex(month.index), "month": month}).duplicated(keep=False)
                | visit_ids.reindex(month.index).isna(),
                "this patient already has a visit at this month; each month may appear only once per patient",
            ),
        ],
    }
    findings.add(*_run_schema(_schema(visit_checks), visits.typed, visits, "error"))
    findings.add(*_after_withdrawal(visits, withdrawal_of_visit, patients.shown_name))
    baseline = {"patient_id": [_check(lambda ids: ids.isin(with_baseline), "every patient has a baseline visit")]}
    earliest = months.groupby(visit_ids).min()

    def no_baseline(_: str, patient_id: Any) -> str:
        sentence = f"this patient has no baseline visit (month 0) in the {visits.shown_name} sheet; "
        first = earliest.get(patient_id)
        if first is None or pd.isna(first):
            return sentence + "add a row for this patient with month 0"
        return sentence + f"their earliest visit is month {first:g}, so add a row with month 0 or correct that month"

    findings.add(*_run_schema(_schema(baseline), patients.typed, patients, "error", rule_of_case=no_baseline))


def _after_withdrawal(visits: _CheckedSheet, withdrawal_of_visit: pd.Series, patients_sheet: str) -> list[Problem]:
    """A visit later than its patient's withdrawal_month, naming the patient and both months."""
    months = visits.typed["month"]
    after = (months > withdrawal_of_visit).to_numpy(dtype=bool)  # NaN on either side compares False
    problems = []
    for row in months.index[after].tolist():
        month, withdrawn = _number_text(months[row]), _number_text(withdrawal_of_visit[row])
        patient_id = visits.typed.at[row, "patient_id"]
        problems.append(
            Problem(
                visits.shown_name,
                row,
                "month",
                _shown(visits.cells.at[row, "month"]),
                f"this visit at month {month} of patient {patient_id} comes after their withdrawal at month {withdrawn}; "
                f"remove the visit or correct withdrawal_month in the {patients_sheet} sheet",
            )
        )
    return problems


def _listed(ids: pd.Series, known: pd.Index, spaces_matter: bool) -> pd.Series:
    """True where an id is listed; ids listed only once spaces are stripped count as listed when
    ``spaces_matter`` is False (the 'not listed' check) and as not listed when True (the 'spaces' check)."""
    listed = ids.isin(known)
    unlisted = ~listed
    if unlisted.any():
        # Stripping is per element, so it is done only when some ids are not listed as written.
        near = ids[unlisted].str.strip().isin(known.str.strip())
        listed[unlisted] = ~near if spaces_matter else near
    return listed


# --- the study sheet ----------------------------------------------------------------------------


def _check_study(rule: StudyRule, sheet: SheetData | None, findings: _Findings) -> StudyOptions:
    """Settings from the optional study sheet; a blank value keeps the default."""
    options = StudyOptions()
    # Only a wholly empty sheet means "no settings"; settings below a blank row 1 must not vanish silently.
    if sheet is None or (not any(sheet.header) and not sheet.rows):
        _check_design(options, rule.name, rule.value_column, {}, {}, findings)
        return options
    name = sheet.name
    positions: dict[str, int] = {}
    for wanted in (rule.key_column, rule.value_column):
        if wanted in sheet.header:
            positions[wanted] = sheet.header.index(wanted)
        else:
            findings.add(Problem(name, 1, wanted, None, f"the {name} sheet needs the columns {rule.key_column} and {rule.value_column} in row 1; {wanted} is missing"))
    for extra in sheet.header:
        if extra and extra not in (rule.key_column, rule.value_column):
            findings.add(Problem(name, 1, extra, None, f"the column {extra} is not part of the study sheet; it is ignored", "warning"))
    if len(positions) < 2:
        return options

    special = _overrides(sheet)
    changes: dict[str, Any] = {}
    first_row: dict[str, int] = {}
    given: dict[str, tuple[int, Any]] = {}  # key -> (row, value cell) of each valid setting
    for row_number, row in enumerate(sheet.rows, start=2):
        key_cell = row[positions[rule.key_column]] if positions[rule.key_column] < len(row) else ""
        value_cell = row[positions[rule.value_column]] if positions[rule.value_column] < len(row) else ""
        spoiled = False
        for column in (rule.key_column, rule.value_column):
            if (row_number, column) in special:
                findings.add(Problem(name, row_number, column, special[row_number, column], _study_special_sentence(sheet, row_number, column)))
                spoiled = True
        if spoiled:
            continue
        key_text = str(key_cell).strip() if not _is_blank(key_cell) else ""
        if not key_text:
            if not _is_blank(value_cell):
                findings.add(Problem(name, row_number, rule.key_column, None, "this row has a value but no key; write the setting's name in the key column"))
            continue
        key = _study_key(rule, key_text)
        if key is None:
            findings.add(Problem(name, row_number, rule.key_column, _shown(key_cell), _unknown_key_sentence(rule, key_text)))
            continue
        if key.key in first_row:
            findings.add(Problem(name, row_number, rule.key_column, _shown(key_cell), f"{key.key} is already set in row {first_row[key.key]}; keep one row per setting"))
            continue
        first_row[key.key] = row_number
        if _is_blank(value_cell):
            continue
        if isinstance(value_cell, str) and first_refused_control(value_cell) >= 0:
            findings.add(Problem(name, row_number, rule.value_column, _control_shown(value_cell), CONTROL_SENTENCE))
            continue
        parsed = _study_value(key, value_cell)
        if isinstance(parsed, _Refused):
            findings.add(Problem(name, row_number, rule.value_column, _shown(value_cell), parsed.sentence))
            changes[key.key] = _INVALID
            given[key.key] = (row_number, _INVALID)
        elif parsed is _INVALID:
            findings.add(Problem(name, row_number, rule.value_column, _shown(value_cell), key.rule + _choice_hint(key, value_cell)))
            changes[key.key] = _INVALID
            given[key.key] = (row_number, _INVALID)
        else:
            changes[key.key] = parsed
            given[key.key] = (row_number, value_cell)
    refused = {key for key, value in changes.items() if value is _INVALID}
    options = options.replace(**{key: value for key, value in changes.items() if key not in refused})
    _check_grouping(options, given, name, rule, findings)
    _check_windows(options, given, name, rule, findings)
    _check_design(options, name, rule.value_column, first_row, changes, findings)
    return options


def _check_grouping(options: StudyOptions, given: dict[str, tuple[int, Any]], name: str, rule: StudyRule, findings: _Findings) -> None:
    """The grouping settings together (each is already valid alone): one way to give cut points, cut points
    only with grouping = cut-points, cut-points only with cut points, one label per group."""
    if any(given.get(key, (0, None))[1] is _INVALID for key in grouping.STUDY_KEYS):
        return  # a grouping setting is already reported as invalid on its own
    value = rule.value_column
    cut_keys = [key for key in (grouping.CUT_POINTS_KEY, grouping.V1_CUT_POINTS_KEY) if key in given]
    if len(cut_keys) == 2:
        row, cell = given[grouping.CUT_POINTS_KEY]
        findings.add(Problem(
            name, row, value, _shown(cell),
            f"cut_points and quartile_cutpoints (row {given[grouping.V1_CUT_POINTS_KEY][0]}) both give cut points; keep one "
            "(quartile_cutpoints is the contract version 1 spelling of cut_points)",
        ))  # fmt: skip
        return
    chosen = options.grouping
    if cut_keys and chosen is not None and chosen != grouping.CUT_POINTS:
        row, cell = given["grouping"]
        findings.add(Problem(
            name, row, value, _shown(cell),
            f"grouping is {chosen} but {cut_keys[0]} (row {given[cut_keys[0]][0]}) gives cut points; write grouping = "
            f"{grouping.CUT_POINTS} to use them, or clear {cut_keys[0]} to group by the cohort's own {chosen}",
        ))  # fmt: skip
        return
    if not cut_keys and chosen == grouping.CUT_POINTS:
        row, cell = given["grouping"]
        findings.add(Problem(
            name, row, value, _shown(cell),
            f"grouping = {grouping.CUT_POINTS} needs cut_points: add a row cut_points with 1 to {grouping.MAX_CUT_POINTS} "
            "increasing values separated by ';', e.g. 5; 8",
        ))  # fmt: skip
        return
    labels, groups = options.group_labels, grouping.number_of_groups(options)
    if labels is not None and groups is not None and len(labels) != groups:
        row, cell = given["group_labels"]
        if cut_keys:
            why = f"the {counted(groups - 1, 'cut point')} of {cut_keys[0]} (row {given[cut_keys[0]][0]}) make {groups} groups"
        else:
            why = f"grouping {options.grouping or grouping.DEFAULT_GROUPING} makes {groups} groups"
        findings.add(Problem(
            name, row, value, _shown(cell),
            f"group_labels gives {counted(len(labels), 'label')} but {why}; give one label per group, lowest level first, separated by ';'",
        ))  # fmt: skip


def window_limit(follow_up_month: int, level_month: int | None) -> tuple[int, str]:
    """The widest visit window the follow-up month and the level month allow, and why: a window must not reach
    the baseline visit (month 0) from either month, and the windows of the two months must not share a month
    (one visit would then be both the exposure and the outcome visit). Equal months share one window."""
    limits = [(follow_up_month - 1, f"a wider window around month {follow_up_month} (follow_up_month) would reach the baseline visit")]
    if level_month is not None:
        limits.append((level_month - 1, f"a wider window around month {level_month} (level_month) would reach the baseline visit"))
        if level_month < follow_up_month:
            limits.append((
                (follow_up_month - level_month - 1) // 2,
                f"a wider window would let the windows around month {level_month} (level_month) and month "
                f"{follow_up_month} (follow_up_month) share a month, so one visit could give both the level and the response",
            ))  # fmt: skip
    return min(limits, key=lambda limit: limit[0])


def _check_windows(options: StudyOptions, given: dict[str, tuple[int, Any]], name: str, rule: StudyRule, findings: _Findings) -> None:
    """level_month and visit_window_months against follow_up_month (each is already valid alone): the level month
    at most the follow-up month, the window no wider than ``window_limit``."""
    keys = ("follow_up_month", "level_month", "visit_window_months")
    if any(given.get(key, (0, None))[1] is _INVALID for key in keys):
        return  # already reported as invalid on its own
    follow_up, level = options.follow_up_month, options.level_month

    def source(key: str) -> str:
        return f"row {given[key][0]}" if key in given else "the default"

    if level is not None and level > follow_up:
        row, cell = given["level_month"]
        findings.add(Problem(
            name, row, rule.value_column, _shown(cell),
            f"level_month is {level} but follow_up_month is {follow_up} ({source('follow_up_month')}); the level "
            "relates to the response at follow-up, so level_month must be at most follow_up_month",
        ))  # fmt: skip
        return
    widest, why = window_limit(follow_up, level)
    window = options.visit_window_months
    if window > widest:
        row, cell = given["visit_window_months"]
        findings.add(Problem(
            name, row, rule.value_column, _shown(cell),
            f"visit_window_months is {window} but can be at most {widest} here: {why}; use a window of at most {widest}",
        ))  # fmt: skip


_INVALID = object()


def _choice_hint(key: StudyKey, cell: Any) -> str:
    """'; did you mean infusion?' for a misspelt choice, else ''."""
    if key.kind != "choice" or not isinstance(cell, str):
        return ""
    close = difflib.get_close_matches(cell.strip().casefold(), [option.casefold() for option in key.allowed], n=1, cutoff=0.6)
    if not close:
        return ""
    return f"; did you mean {next(option for option in key.allowed if option.casefold() == close[0])}?"


def _check_design(
    options: StudyOptions, sheet: str, column: str, rows: dict[str, int], given: dict[str, Any], findings: _Findings
) -> None:
    """The study's drug against the drug table (reportgen.drugs), and the abstract's sentences only the
    authors can write. Also called without a study sheet: those settings are then all missing.

    ``rows``: the Excel row of each key present; ``given``: the keys with a value (``_INVALID`` when refused:
    already an error, about which nothing more is said here).
    """
    from reportgen import drugs

    def where(key: str) -> tuple[int | None, str]:  # the key's value cell, or the key when it is absent
        return (rows[key], column) if key in rows else (None, key)

    known = drugs.known_drug(options.drug)
    if _INVALID in (given.get("drug"), given.get("administration")):
        pass
    elif "drug" not in given:
        findings.add(Problem(sheet, *where("drug"), None, (
            "drug is not set: the report describes tocilizumab given by intravenous infusion, as workbooks made "
            "before this setting existed meant; set drug (e.g. adalimumab) in the study sheet to say otherwise"
        ), "warning"))
    elif known is None:
        close = drugs.closest_drug(options.drug)
        names = ", ".join(drug.name for drug in drugs.drug_table().values())
        if options.administration is None:
            hint = f"did you mean {close}? For another drug, also" if close else "for another drug,"
            findings.add(Problem(sheet, *where("drug"), repr(options.drug), (
                f"{options.drug!r} is not in reportgen's drug table ({names}); {hint} set administration "
                "(infusion or injection), so that the report can say how it was given"
            )))
        elif close:
            findings.add(Problem(sheet, *where("drug"), repr(options.drug), (
                f"{options.drug!r} is not in reportgen's drug table; did you mean {close}? It is reported as "
                "written, with no plausible trough range checked"
            ), "warning"))
    elif options.administration is not None and options.administration not in known.routes:
        findings.add(Problem(sheet, *where("administration"), repr(options.administration), (
            f"{known.name} is given by {' or '.join(known.routes)} in reportgen's drug table, not by "
            f"{options.administration}; the report says {options.administration}: please check it is right"
        ), "warning"))
    for key, part in (("background", "Background"), ("objective", "Objectives")):
        if key not in given:
            findings.add(Problem(sheet, *where(key), None, (
                f"{key} is not set: the abstract shows a bracketed placeholder for its {part}; write the authors' "
                f"own sentences as {key} in the study sheet (reportgen writes no literature claim)"
            ), "warning"))


def _check_trough_range(visits: _CheckedSheet, study: StudyOptions, findings: _Findings) -> None:
    """Post-baseline trough levels outside the drug's plausible range (reportgen.drugs): warnings.

    Cells that are already an error, or already warned about by the contract's own warn_above, are left alone.
    """
    from reportgen import drugs

    drug = drugs.known_drug(study.drug)
    name = "tcz_trough_ug_ml"  # the trough-level column of the contract
    if drug is None or name not in visits.typed:
        return
    low, high = drugs.design_of(study).trough_range  # type: ignore[misc]
    rule = visits.rule.column(name)
    values = pd.to_numeric(visits.typed[name], errors="coerce")
    months = pd.to_numeric(visits.typed["month"], errors="coerce")
    lowest = -math.inf if rule.min is None else rule.min
    highest = min(math.inf if rule.max is None else rule.max, math.inf if rule.warn_above is None else rule.warn_above)
    unusual = values.between(lowest, highest) & ~values.between(low, high) & (months != BASELINE_MONTH)
    for row in values.index[unusual.to_numpy()]:
        findings.add(Problem(visits.shown_name, int(row), name, _shown(visits.cells.at[row, name]), (
            f"{name} is outside {_number_text(low)}-{_number_text(high)} {study.level_unit}, the plausible range of "
            f"{drug.name} trough levels; please check the value and its unit"
        ), "warning"))


@dataclass(frozen=True)
class _Refused:
    """An invalid setting whose own sentence says more than the key's rule (which item, what was meant)."""

    sentence: str


def _study_special_sentence(sheet: SheetData, row: int, column: str) -> str:
    if any((formula_row, formula_column) == (row, column) for formula_row, formula_column, _ in sheet.formulas):
        return "this cell holds a formula; reportgen never evaluates formulas — type the setting instead"
    return "this cell holds an Excel error instead of a value; type the setting instead"


def _is_blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, float) and math.isnan(cell)) or (isinstance(cell, str) and not cell.strip())


def _study_key(rule: StudyRule, text: str) -> StudyKey | None:
    for key in rule.keys:
        if key.key.casefold() == text.casefold():
            return key
    return None


def _unknown_key_sentence(rule: StudyRule, text: str) -> str:
    names = [key.key for key in rule.keys]
    close = difflib.get_close_matches(text.casefold(), names, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    return f"{text!r} is not a study setting; {hint}the settings are: {', '.join(names)}"


def _study_value(key: StudyKey, cell: Any) -> Any:
    """The parsed setting, or _INVALID."""
    if isinstance(cell, bool) or isinstance(cell, (date, time, timedelta)):
        return _INVALID
    if key.kind == "text":
        text = _number_text(cell) if isinstance(cell, _NUMBER_TYPES) else str(cell).strip()
        return text if key.max_length is None or len(text) <= key.max_length else _INVALID
    if key.kind == "whole":
        number = cell if isinstance(cell, _NUMBER_TYPES) else parse_decimal(str(cell))
        if number is None or not float(number).is_integer():
            return _INVALID
        low = -math.inf if key.min is None else key.min
        high = math.inf if key.max is None else key.max
        return int(number) if low <= number <= high else _INVALID
    if key.kind == "choice":
        wanted = str(cell).strip().casefold()
        return next((option for option in key.allowed if option.casefold() == wanted), _INVALID)
    if key.kind == "cutpoints":
        return _cutpoints(cell)
    if key.kind == "numbers":
        return _numbers(cell, key)
    if key.kind == "labels":
        return _labels(cell, key)
    if key.kind == "filename":
        return _file_name(str(cell).strip(), key.max_length)
    if key.kind == "covariates":
        return _covariates(key, cell) if isinstance(cell, str) else _INVALID
    raise AssertionError(f"unknown study kind {key.kind}")  # the contract loader refuses other kinds


def parse_decimal(text: str) -> float | None:
    """A number typed as text, with a decimal point or a decimal comma ('1,5'); None if not a finite number."""
    text = text.strip().replace("\u2212", "-")  # a typographic minus sign
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _cutpoints(cell: Any) -> tuple[float, float, float] | object:
    if not isinstance(cell, str):
        return _INVALID
    parts = [parse_decimal(part) for part in cell.split(";")]
    if len(parts) != 3 or any(part is None or part < 0 for part in parts):
        return _INVALID
    low, middle, high = parts  # type: ignore[misc]
    return (low, middle, high) if low < middle < high else _INVALID


def _numbers(cell: Any, key: StudyKey) -> tuple[float, ...] | object:
    """Increasing numbers of 0 or more separated by ';' (one number alone may be typed as a number), as many as
    the key's min to max."""
    if isinstance(cell, _NUMBER_TYPES):
        parts: list[float | None] = [float(cell)]
    elif isinstance(cell, str):
        parts = [parse_decimal(part) for part in cell.split(";")]
    else:
        return _INVALID
    if any(part is None or part < 0 for part in parts) or not (key.min or 1) <= len(parts) <= (key.max or math.inf):
        return _INVALID
    values = tuple(float(part) for part in parts)  # type: ignore[arg-type]
    return values if all(b > a for a, b in zip(values, values[1:])) else _INVALID


def _labels(cell: Any, key: StudyKey) -> tuple[str, ...] | object:
    """Different, non-blank labels separated by ';', as many as the key's min to max, each at most max_length."""
    if not isinstance(cell, str):
        return _INVALID
    labels = tuple(part.strip() for part in cell.split(";"))
    if not (key.min or 1) <= len(labels) <= (key.max or math.inf) or any(not label for label in labels):
        return _INVALID
    if key.max_length is not None and any(len(label) > key.max_length for label in labels):
        return _INVALID
    return labels if len({label.casefold() for label in labels}) == len(labels) else _INVALID


# ln(name): the natural logarithm of a measure, in the adjust_for setting.
_LOGARITHM = re.compile(r"ln\s*\(\s*([^()]*?)\s*\)", re.IGNORECASE)


def _covariates(key: StudyKey, text: str) -> tuple[str, ...] | _Refused:
    """The covariates of ``adjust_for`` ('ln(esr_mm_h); concomitant_mtx'), as the contract names them.

    Items are separated by ';' or ','; blank items are skipped; names are matched ignoring case. Only a
    measure can be logged: not a yes/no or choice column of the patients sheet.
    """
    categorical = {column.name for sheet in load_contract().sheets for column in sheet.columns if column.kind in ("yesno", "choice")}
    found: list[str] = []
    for item in re.split(r"[;,]", text):
        item = item.strip()
        if not item:
            continue
        logarithm = _LOGARITHM.fullmatch(item)
        name_text = logarithm.group(1) if logarithm else item
        name = next((allowed for allowed in key.allowed if allowed.casefold() == name_text.casefold()), None)
        if name is None:
            close = difflib.get_close_matches(name_text.casefold(), key.allowed, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            return _Refused(
                f"{key.key}: {clipped(item, 40)!r} is not a baseline covariate; {hint}the covariates are: "
                f"{', '.join(key.allowed)} (ln(name) for the natural logarithm of a measure)"
            )
        if logarithm and name in categorical:
            return _Refused(f"{key.key}: ln({name}) is not possible; only a measure can be logged, and {name} is a yes/no or a choice")
        covariate = f"ln({name})" if logarithm else name
        if covariate in found:
            return _Refused(f"{key.key}: {covariate} is listed twice; list each covariate once")
        found.append(covariate)
    return tuple(found)


def _file_name(text: str, max_length: int | None) -> str | object:
    # Only a name beside the workbook: no folders, so the setting cannot point anywhere else on disk.
    if not text or text in (".", "..") or any(mark in text for mark in ("/", "\\", ":", "\x00")):
        return _INVALID
    return text if max_length is None or len(text) <= max_length else _INVALID


# --- the output frames --------------------------------------------------------------------------


def _output_frame(sheet: _CheckedSheet) -> pd.DataFrame:
    """Typed columns under their canonical names, in contract order, plus excel_row."""
    columns: dict[str, pd.Series] = {}
    for column in sheet.columns:
        values = sheet.typed[column.name]
        if column.alternative_of is not None and column.factor is not None:
            columns[column.alternative_of] = values * column.factor
            continue
        columns[column.name] = _output_column(column, values)
    order = [column.name for column in sheet.rule.canonical_columns]
    frame = pd.DataFrame({name: columns[name] for name in order}, index=sheet.typed.index)
    frame["excel_row"] = frame.index.to_numpy(dtype="int64")
    return frame.reset_index(drop=True)


def _output_column(column: ColumnRule, values: pd.Series) -> pd.Series:
    if column.kind == "whole":
        return values.astype("int64" if column.required else "Int64")
    if column.kind == "number":
        return values.astype("float64")
    if column.kind == "yesno":
        return values.astype(bool) if column.required else values.astype("boolean")
    if column.required:
        return values.astype("str")
    return values.astype(object).where(values.notna(), None)


def _clear_baseline_values(rule: SheetRule, visits: pd.DataFrame) -> pd.DataFrame:
    """Values the contract ignores at month 0 (a trough level before the first dose) become not measured."""
    at_baseline = visits["month"] == BASELINE_MONTH
    for column in rule.canonical_columns:
        if column.ignored_at_baseline:
            visits[column.name] = visits[column.name].mask(at_baseline)
    return visits


def _in_patient_order(visits: pd.DataFrame, patients: pd.DataFrame) -> pd.DataFrame:
    order = pd.Index(patients["patient_id"]).get_indexer(visits["patient_id"])
    return (
        visits.assign(_patient_position=order)
        .sort_values(["_patient_position", "month"], kind="stable")
        .drop(columns="_patient_position")
        .reset_index(drop=True)
    )
