"""The cohort workbook contract (``schemas/cohort.yaml``) as frozen dataclasses.

The YAML file is the single source of the contract: validation, the template workbook and the user
guide all read it through :func:`load_contract`. The loader is strict: an unknown field or a wrong
value in the YAML is a programming error and raises :class:`ContractError` at once, so a typo in the
contract can never quietly relax a rule.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

from reportgen.resources import schemas_dir

CONTRACT_FILE = "cohort.yaml"  # contract version 2 (``version`` inside); version 1 workbooks are still read

# The visits sheet's trough-level column: its name in the validated and derived frames (the one home of that
# name in the code) and its contract version 1 name, which a workbook may still give instead. Which of the two
# headers the visits sheet holds is how a workbook's contract version is told (``workbook_version``).
LEVEL_COLUMN = "trough_level"
V1_LEVEL_COLUMN = "tcz_trough_ug_ml"
# The optional visits column of anti-drug antibodies (positive / negative / blank = not tested): its name in the
# validated visits and the derived patients (there: at the visit whose level is analysed).
ADA_COLUMN = "anti_drug_antibodies"

ColumnKind = Literal["text", "number", "whole", "yesno", "choice"]
StudyKind = Literal["text", "whole", "positive", "choice", "cutpoints", "filename", "numbers", "labels", "covariates"]


class ContractError(ValueError):
    """The contract file itself is malformed (a bug in reportgen, not in the user's workbook)."""


@dataclass(frozen=True)
class ColumnRule:
    """One column of a data sheet."""

    name: str
    kind: ColumnKind
    rule: str
    required: bool = False
    unique: bool = False
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] = ()
    max_length: int | None = None
    unit: str | None = None
    warn_above: float | None = None
    warning: str | None = None
    alternative_of: str | None = None
    factor: float | None = None
    above_max_hint: str = ""
    ignored_at_baseline: bool = False
    legacy: bool = False  # contract version 1 only: still read, never written by the template
    below_limit: bool = False  # '<0.3' / '<LLOQ' accepted: below the limit of quantification (reportgen.lloq)
    optional: bool = False  # the header may be left out (e.g. anti_drug_antibodies)
    description: str = ""
    example: Any = None


@dataclass(frozen=True)
class SheetRule:
    """One data sheet: its columns in the order the template writes them."""

    name: str
    required: bool
    row_noun: str
    description: str
    columns: tuple[ColumnRule, ...]

    def column(self, name: str) -> ColumnRule:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    @property
    def canonical_columns(self) -> tuple[ColumnRule, ...]:
        """Columns as stored after loading and as written in the template (alternatives left out)."""
        return tuple(column for column in self.columns if column.alternative_of is None)

    @property
    def default_columns(self) -> tuple[ColumnRule, ...]:
        """The canonical columns every workbook has: optional ones (anti_drug_antibodies) left out."""
        return tuple(column for column in self.canonical_columns if not column.optional)

    def alternatives(self, name: str) -> tuple[ColumnRule, ...]:
        """Columns a workbook may give instead of ``name`` (e.g. crp_mg_dl for crp_mg_l)."""
        return tuple(column for column in self.columns if column.alternative_of == name)


@dataclass(frozen=True)
class StudyKey:
    """One setting of the optional ``study`` sheet; ``key`` is also the StudyOptions field name."""

    key: str
    kind: StudyKind
    rule: str
    default: Any = None
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] = ()
    max_length: int | None = None
    legacy: bool = False  # contract version 1 only: still read, never written by the template
    template_note: str = ""  # the template's comment says this instead of the default
    description: str = ""
    example: Any = None


@dataclass(frozen=True)
class StudyRule:
    name: str
    required: bool
    key_column: str
    value_column: str
    description: str
    keys: tuple[StudyKey, ...]

    def key(self, name: str) -> StudyKey:
        for key in self.keys:
            if key.key == name:
                return key
        raise KeyError(name)


@dataclass(frozen=True)
class Contract:
    version: int
    sheets: tuple[SheetRule, ...]
    study: StudyRule

    def sheet(self, name: str) -> SheetRule:
        for sheet in self.sheets:
            if sheet.name == name:
                return sheet
        raise KeyError(name)

    @property
    def sheet_names(self) -> tuple[str, ...]:
        """Every sheet the contract knows, data sheets first, in workbook order."""
        return (*(sheet.name for sheet in self.sheets), self.study.name)


def _build(cls: type, raw: Any, where: str, **nested: Any) -> Any:
    """Instantiate a dataclass from a YAML mapping, refusing unknown or missing fields."""
    if not isinstance(raw, dict):
        raise ContractError(f"{where}: expected a mapping, found {type(raw).__name__}")
    known = {field.name for field in fields(cls)}
    unknown = set(raw) - known
    if unknown:
        raise ContractError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    values = {**raw, **nested}
    if "allowed" in values:
        # YAML may read an allowed value such as 1 as a number; the contract compares text.
        values["allowed"] = tuple(str(item) for item in values["allowed"])
    if isinstance(values.get("default"), list):
        values["default"] = tuple(values["default"])  # as the StudyOptions default (a list default is shared)
    try:
        return cls(**values)
    except TypeError as error:
        raise ContractError(f"{where}: {error}") from None


def _check_column(column: ColumnRule, where: str) -> None:
    if column.kind not in get_args(ColumnKind):
        raise ContractError(f"{where}: kind must be one of {get_args(ColumnKind)}, not {column.kind!r}")
    if column.kind == "choice" and not column.allowed:
        raise ContractError(f"{where}: a choice column needs 'allowed'")
    if column.kind in ("number", "whole") and column.min is None and column.max is None:
        raise ContractError(f"{where}: a numeric column needs min and/or max")
    if (column.warn_above is None) != (column.warning is None):
        raise ContractError(f"{where}: warn_above and warning go together")
    if (column.alternative_of is None) != (column.factor is None):
        raise ContractError(f"{where}: alternative_of and factor go together")


def _parse(document: Any) -> Contract:
    if not isinstance(document, dict) or set(document) != {"version", "sheets", "study"}:
        raise ContractError("the contract needs exactly: version, sheets, study")
    sheets = []
    for i, raw_sheet in enumerate(document["sheets"]):
        where = f"sheets[{i}]"
        raw_columns = raw_sheet.get("columns", []) if isinstance(raw_sheet, dict) else []
        columns = tuple(_build(ColumnRule, raw, f"{where}.columns[{j}]") for j, raw in enumerate(raw_columns))
        for j, column in enumerate(columns):
            _check_column(column, f"{where}.columns[{j}] ({column.name})")
        sheet = _build(SheetRule, raw_sheet, where, columns=columns)
        names = [column.name for column in columns]
        if len(set(names)) != len(names):
            raise ContractError(f"{where}: duplicate column names")
        for column in columns:
            if column.alternative_of is not None and column.alternative_of not in names:
                raise ContractError(f"{where}: {column.name} is an alternative of an unknown column")
        sheets.append(sheet)
    raw_study = document["study"]
    raw_keys = raw_study.get("keys", []) if isinstance(raw_study, dict) else []
    keys = tuple(_build(StudyKey, raw, f"study.keys[{j}]") for j, raw in enumerate(raw_keys))
    for key in keys:
        if key.kind not in get_args(StudyKind):
            raise ContractError(f"study key {key.key}: kind must be one of {get_args(StudyKind)}")
    study = _build(StudyRule, raw_study, "study", keys=keys)
    return Contract(version=int(document["version"]), sheets=tuple(sheets), study=study)


def workbook_version(visits_header: tuple[str, ...] | None) -> int:
    """The contract version a workbook is written to: 1 when its visits sheet names the level column
    ``tcz_trough_ug_ml`` (contract version 1), otherwise 2 (``trough_level``, or a sheet too broken to say)."""
    return 1 if visits_header is not None and V1_LEVEL_COLUMN in visits_header else 2


def column_letter(index: int) -> str:
    """0 -> 'A', 27 -> 'AB': how Excel names a column."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def load_contract_file(path: Path) -> Contract:
    """Read and check one contract file (used by tests on deliberately broken copies)."""
    with path.open(encoding="utf-8") as handle:
        return _parse(yaml.safe_load(handle))


@lru_cache(maxsize=1)
def load_contract() -> Contract:
    """The packaged contract, read once per process."""
    return load_contract_file(schemas_dir() / CONTRACT_FILE)
