"""The exporters: each writes the format-neutral report (``reportgen.document``) as one file of its format.

An exporter is a module with ``export(report, context) -> bytes``; registering it is one line in
``EXPORTERS`` (its ``--formats`` name, the file it writes in the build folder, its module). The modules are
imported only when their format is written, so a build without Word never imports python-docx.
``--formats`` also names two outputs that are not exporters of the document: ``pdf`` (made from the HTML by
``reportgen.pdf``) and ``figures`` (the journal figure files, ``reportgen.figures``).

Only the standard library is imported here: ``reportgen.model`` takes the format names from ``EXPORTERS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reportgen.document import Report
    from reportgen.formatting import Formatter


@dataclass(frozen=True)
class Exporter:
    name: str  # the --formats name
    file: str  # the file it writes in the build folder
    module: str  # the module whose ``export(report, context)`` writes it
    description: str  # in brackets after the file's name in the report's note on the build folder's files


EXPORTERS = (
    Exporter("html", "report.html", "reportgen.exporters.html", "with the decision record of each test"),
    Exporter("docx", "report.docx", "reportgen.exporters.docx", "the report as an editable Word document"),
)


@dataclass(frozen=True)
class ExportContext:
    """What an exporter may need besides the report."""

    formatter: Formatter
    templates: Path | None = None  # --templates: the user's templates, before the built-in ones (HTML)
    drawings: Any = None  # reportgen.figures.Drawings: the figures' matplotlib drawings, for raster copies


def attached_exporters(formats: frozenset[str]) -> tuple[Exporter, ...]:
    """The exporters of ``formats`` besides the HTML (from which the PDF is made): their files lie beside the
    report and are attached to the PDF (PDF/A-3 relationship Alternative), in EXPORTERS' order."""
    return tuple(item for item in EXPORTERS if item.name != "html" and item.name in formats)


def exporter(name: str) -> Exporter:
    return next(item for item in EXPORTERS if item.name == name)


def export(name: str, report: Report, context: ExportContext) -> bytes:
    """The file of format ``name`` (one of EXPORTERS) for ``report``."""
    return import_module(exporter(name).module).export(report, context)
