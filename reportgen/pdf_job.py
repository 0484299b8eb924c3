"""What the PDF renderer is given: plain, picklable data, importable without WeasyPrint.

``reportgen.pdf`` renders (and imports WeasyPrint, half a second); the pipeline builds the job and
``reportgen.pdf_worker`` carries it to a second process, neither of which should pay that import.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from reportgen.model import BuildInfo, StudyOptions

# The PDF embeds the workbook up to EMBED_SOURCE_UP_TO bytes (2 MB: a congress-sized cohort; the 34-patient
# example is 14 kB, 1,000 patients 0.2 MB). A larger workbook (100,000 patients: 30 MB) would make the PDF as
# large as the data, so the PDF carries SOURCE_REFERENCE instead: the workbook's name, size and SHA-256. The
# workbook itself is always in the build folder. Here, so that the report (reportgen.document, which words the
# note on it), the renderer and the PDF worker import them from a module that imports neither WeasyPrint nor
# the report renderer.
EMBED_SOURCE_UP_TO = 2_000_000  # bytes
SOURCE_REFERENCE = "source-reference.json"
Relationship = Literal["Source", "Data", "Supplement", "Alternative", "Unspecified"]


@dataclass(frozen=True)
class PdfAttachment:
    """A file embedded in the PDF: its name inside the PDF, its bytes, and its PDF/A-3 AFRelationship."""

    name: str
    content: bytes
    relationship: Relationship
    description: str = ""


@dataclass(frozen=True)
class PdfJob:
    """The arguments of one ``reportgen.pdf.render_pdf`` call."""

    html: str
    info: BuildInfo
    study: StudyOptions
    attachments: tuple[PdfAttachment, ...]
    base_dir: Path | None = None
    # More attachments follow the job (``PdfWorker.send_more``), made while the worker lays the pages out
    # (report.docx): the renderer asks for them only when it writes the file, after the layout.
    more_attachments: bool = False


def source_attachment(name: str, content: bytes, sha256: str) -> PdfAttachment:
    """The PDF's Source attachment: the workbook itself, or a reference to it when it is too large."""
    if len(content) <= EMBED_SOURCE_UP_TO:
        return PdfAttachment(name, content, "Source")
    return PdfAttachment(SOURCE_REFERENCE, source_reference(name, len(content), sha256), "Source", description=f"Reference to {name}")


def source_reference(name: str, size: int, sha256: str) -> bytes:
    """``source-reference.json``: what identifies a workbook too large to embed. Deterministic bytes."""
    import json

    reference = {
        "file": name,
        "bytes": size,
        "sha256": sha256,
        "note": (
            f"The source workbook is larger than {EMBED_SOURCE_UP_TO} bytes, so this PDF does not embed it; "
            "a byte-for-byte copy is in the build folder beside report.pdf, and manifest.json lists its SHA-256."
        ),
    }
    return (json.dumps(reference, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
