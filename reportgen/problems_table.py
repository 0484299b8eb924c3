"""Plain-text table of validation problems for the terminal.

Every part of a line may come from the workbook (sheet names, headers, values, patient ids inside
rules), so every part goes through ``reportgen.terminal.shown``: control characters are printed as
visible escapes (``\\x1b``), never sent to the terminal.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable

from reportgen.model import Problem
from reportgen.prose import clipped
from reportgen.terminal import shown

_MAX_VALUE = 40
# A column of text in a numeric column gives one problem per row; past this many lines the table
# stops and the rest are counted per rule, which says more than ten thousand identical lines.
MAX_LINES = 200


def _cell(text: object) -> str:
    text = "" if text is None else shown(text)
    return clipped(text, _MAX_VALUE)


def format_problems(errors: Iterable[Problem], warnings: Iterable[Problem] = (), max_lines: int = MAX_LINES) -> str:
    """Errors first, then warnings; one line per problem, columns aligned; the rest counted per rule."""
    problems = (*errors, *warnings)
    if not problems:
        return ""
    listed, rest = problems[:max_lines], problems[max_lines:]
    rows = [("", "sheet", "row", "column", "value", "rule")]
    for problem in listed:
        kind = "ERROR" if problem.severity == "error" else "warning"
        rows.append((kind, _cell(problem.sheet), _cell(problem.row), _cell(problem.column), _cell(problem.value), shown(problem.rule)))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = []
    for row in rows:
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:5])) + "  " + row[5])
    if rest:
        lines.append(f"... and {len(rest):,} more:")
        counts = Counter((problem.severity, problem.sheet, problem.column, problem.rule) for problem in rest)
        for (severity, sheet, column, rule), count in counts.most_common():
            kind = "ERROR" if severity == "error" else "warning"
            lines.append(f"  {count:,} x {kind} in sheet {shown(sheet)}, column {shown(column)}: {shown(rule)}")
    return "\n".join(line.rstrip() for line in lines)
