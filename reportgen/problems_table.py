"""Plain-text table of validation problems for the terminal."""

from __future__ import annotations

from typing import Iterable

from reportgen.model import Problem

_MAX_VALUE = 40


def _cell(text: object) -> str:
    shown = "" if text is None else str(text)
    shown = shown.replace("\n", " ").replace("\r", " ")
    return shown if len(shown) <= _MAX_VALUE else shown[: _MAX_VALUE - 1] + "…"


def format_problems(errors: Iterable[Problem], warnings: Iterable[Problem] = ()) -> str:
    """Errors first, then warnings; one line per problem, columns aligned."""
    rows = [("", "sheet", "row", "column", "value", "rule")]
    for problem in (*errors, *warnings):
        kind = "ERROR" if problem.severity == "error" else "warning"
        rows.append((kind, _cell(problem.sheet), _cell(problem.row), _cell(problem.column), _cell(problem.value), problem.rule))
    if len(rows) == 1:
        return ""
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = []
    for row in rows:
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:5])) + "  " + row[5])
    return "\n".join(line.rstrip() for line in lines)
