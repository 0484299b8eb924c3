"""``reportgen template``: an empty cohort workbook a clinic can start from without drifting from the contract.

Every header, unit, bound and drop-down comes from ``schemas/cohort.yaml``: the sheets patients,
visits and study, exact headers in row 1 (with the unit and the rule in a comment on each), and Excel
data validation on every column so most mistakes are refused while typing. The file is written to a
temporary name beside the target and moved into place, so a half-written template never exists.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from reportgen.contract import ColumnRule, SheetRule, StudyRule, load_contract
from reportgen.prose import clipped

# Validation covers every row Excel has, so it holds however long the cohort grows.
LAST_ROW = 1_048_575
_COLUMN_WIDTH = 22
_YES_NO = ("yes", "no")


def write_template(path: Path) -> None:
    """Write the empty, well-formed cohort workbook to ``path`` (replacing it atomically)."""
    import xlsxwriter

    path = Path(path)
    contract = load_contract()
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        book = xlsxwriter.Workbook(temporary)
        header_format = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        for sheet_rule in contract.sheets:
            _data_sheet(book, sheet_rule, header_format)
        _study_sheet(book, contract.study, header_format)
        book.close()
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _data_sheet(book: Any, rule: SheetRule, header_format: Any) -> None:
    sheet = book.add_worksheet(rule.name)
    sheet.freeze_panes(1, 0)
    for index, column in enumerate(rule.canonical_columns):
        sheet.write_string(0, index, column.name, header_format)
        sheet.write_comment(0, index, _comment(rule, column), {"x_scale": 2.5, "y_scale": 2})
        sheet.set_column(index, index, max(_COLUMN_WIDTH, len(column.name) + 2))
        sheet.data_validation(1, index, LAST_ROW, index, _validation(column))


def _comment(rule: SheetRule, column: ColumnRule) -> str:
    lines = [column.name + (f" ({column.unit})" if column.unit else ""), column.description, column.rule]
    for alternative in rule.alternatives(column.name):
        if alternative.legacy:
            continue  # a contract version 1 name: read, never offered
        lines.append(f"Instead of this column you may give {alternative.name} ({alternative.unit}); rename the header.")
    return "\n".join(line for line in lines if line)


def _validation(column: ColumnRule) -> dict[str, Any]:
    """Excel data validation mirroring the contract, with the contract's sentence as the error box."""
    message = {
        "error_title": clipped(column.name, 32),
        "error_message": clipped(column.rule, 255),
        "input_title": clipped(column.name, 32),
        "input_message": clipped(column.rule, 255),
        "ignore_blank": True,
    }
    if column.below_limit:
        # '<0.3' / '<LLOQ' is text Excel's number validation would refuse: only the rule is shown while typing.
        return {"validate": "any", "input_title": message["input_title"], "input_message": message["input_message"]}
    if column.kind in ("number", "whole"):
        bounds = _bounds(column)
        return {"validate": "integer" if column.kind == "whole" else "decimal", **bounds, **message}
    if column.kind in ("yesno", "choice"):
        drop_down = _drop_down(_YES_NO if column.kind == "yesno" else column.allowed)
        if drop_down is not None:
            return {**drop_down, **message}
    return {"validate": "length", "criteria": "between", "minimum": 0, "maximum": column.max_length or 32767, **message}


def _drop_down(options: tuple[str, ...]) -> dict[str, Any] | None:
    """An Excel list validation, or None when an option holds a comma (Excel separates options by commas)."""
    if any("," in option for option in options):
        return None
    return {"validate": "list", "source": list(options)}


def _bounds(column: ColumnRule) -> dict[str, Any]:
    if column.min is not None and column.max is not None:
        return {"criteria": "between", "minimum": column.min, "maximum": column.max}
    if column.min is not None:
        return {"criteria": ">=", "value": column.min}
    return {"criteria": "<=", "value": column.max}


def _study_sheet(book: Any, rule: StudyRule, header_format: Any) -> None:
    sheet = book.add_worksheet(rule.name)
    sheet.write_string(0, 0, rule.key_column, header_format)
    sheet.write_string(0, 1, rule.value_column, header_format)
    sheet.write_comment(0, 0, rule.description, {"x_scale": 2.5, "y_scale": 2})
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 1, 60)
    # Every key is listed with a blank value (= its default), so a clinic only fills in what it needs.
    keys = [key for key in rule.keys if not key.legacy]  # contract version 2: no version 1 spellings
    for row, key in enumerate(keys, start=1):
        sheet.write_string(row, 0, key.key)
        default = "blank" if key.default in (None, "") else str(key.default)
        note = key.template_note or f"Default: {default}."
        sheet.write_comment(row, 0, f"{key.description}\n{key.rule}\n{note}", {"x_scale": 2.5, "y_scale": 2})
        drop_down = _drop_down(key.allowed) if key.kind == "choice" else None
        if drop_down is not None:
            sheet.data_validation(row, 1, row, 1, {**drop_down, "ignore_blank": True})
    sheet.data_validation(
        1, 0, LAST_ROW, 0,
        {
            "validate": "list",
            # The keys written above, by range: typed out they pass Excel's 255-character limit of a list.
            "source": f"=$A$2:$A${len(keys) + 1}",
            "error_title": "Unknown setting",
            "error_message": "Choose one of the study settings from the list.",
        },
    )  # fmt: skip
