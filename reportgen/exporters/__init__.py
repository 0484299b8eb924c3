"""The exporters: each writes the format-neutral report (``reportgen.document``) as one file of its format.

An exporter is a module with ``export(report, context) -> bytes``; registering it is one line in
``EXPORTERS`` (its ``--formats`` name, the file it writes in the build folder, its module). The modules are
imported only when their format is written, so a build without Word never imports python-docx.
``--formats`` also names two outputs that are not exporters of the document: ``pdf`` (made from the HTML by
``reportgen.pdf``) and ``figures`` (the journal figure files, ``reportgen.figures``).

Only the standard library is imported here.
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


EXPORTERS = (
    Exporter("html", "report.html", "reportgen.exporters.html"),
)


@dataclass(frozen=True)
class ExportContext:
    """What an exporter may need besides the report."""

    formatter: Formatter
    templates: Path | None = None  # --templates: the user's templates, before the built-in ones (HTML)
    drawings: Any = None  # reportgen.figures.Drawings: the figures' matplotlib drawings, for raster copies


def exporter(name: str) -> Exporter:
    return next(item for item in EXPORTERS if item.name == name)


def export(name: str, report: Report, context: ExportContext) -> bytes:
    """The file of format ``name`` (one of EXPORTERS) for ``report``."""
    return import_module(exporter(name).module).export(report, context)
