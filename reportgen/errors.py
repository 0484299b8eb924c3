"""The project's own exceptions; only the CLI turns them into messages and exit codes."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reportgen.model import Problem


class ReportgenError(Exception):
    """Base of every error reportgen reports to a user as one clear message."""

    exit_code = 1


class UsageError(ReportgenError):
    """The command line itself is wrong (a bad --out, a missing file argument)."""

    exit_code = 2


class WorkbookUnreadable(ReportgenError):
    """The file is not a workbook we can open (not xlsx, encrypted, truncated, a bomb)."""


class WorkbookInvalid(ReportgenError):
    """The workbook opened but breaks the contract; carries every problem found."""

    def __init__(self, problems: tuple[Problem, ...], warnings: tuple[Problem, ...] = ()) -> None:
        self.problems = problems
        self.warnings = warnings
        n = len(problems)
        super().__init__(f"the workbook has {n} problem{'s' if n != 1 else ''}")


class AnalysisError(ReportgenError):
    """The data are valid but the requested analysis cannot be done (e.g. coinciding quantile edges)."""


class BuildError(ReportgenError):
    """Writing the report or its archive failed; nothing half-written was left behind."""


class VerificationFailed(ReportgenError):
    """An archived build does not match its manifest or its rebuild."""


class VerificationIncomplete(ReportgenError):
    """Nothing in an archived build differs, but a file could not be rebuilt byte for byte (other versions)."""

    exit_code = 3
