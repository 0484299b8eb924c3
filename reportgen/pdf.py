"""The rendered HTML report as an archival PDF/A-3a (tagged) with its sources attached.

What makes the PDF fit for an audit trail:

* PDF/A-3a: PDF/A-3, the only PDF/A level that keeps arbitrary attachments (WeasyPrint silently drops
  them for PDF/A-1 and -2), at conformance level A, tagged: WeasyPrint's ``pdf/a-3a`` variant writes the
  structure tree (headings, lists, tables with TH cells, every figure a Figure with /Alt from its SVG's
  ``<title>``), the document language from ``<html lang>``, borders and backgrounds (the decorative rules)
  as artifacts, a bookmark outline from the headings, and ``pdfaid:conformance`` A in the XMP. The input
  workbook is embedded with AFRelationship ``Source``, results.json with ``Data``. veraPDF is not installed
  here, so conformance is not validated; the tests check what can be checked (docs/submission.md).
* Deterministic: the same HTML and build time give the same bytes. Every date inside the file
  (document info, XMP, attachment dates, font ``head`` timestamps) is the build time, and the
  trailer ``/ID`` is WeasyPrint's hash of the content rather than a random value.
* Sandboxed: :class:`FolderURLFetcher` lets WeasyPrint read ``data:`` URIs and files inside one
  folder, nothing else; attachments requested by the HTML itself (``<link rel=attachment>``,
  ``<a rel=attachment>``) are dropped whatever their URL, so untrusted text can never smuggle a file
  into the archive.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import pydyf
import weasyprint
from weasyprint.urls import URLFetcher, URLFetcherResponse

from reportgen.errors import BuildError
from reportgen.prose import build_record
from reportgen.pdf_job import EMBED_SOURCE_UP_TO, SOURCE_REFERENCE, PdfAttachment, source_attachment, source_reference  # re-exported
from reportgen.untrusted import LINE_BREAKS, visible

if TYPE_CHECKING:
    from weasyprint.document import Document

    from reportgen.model import BuildInfo, StudyOptions

PDF_VARIANT = "pdf/a-3a"  # tagged; the XMP says part 3, conformance A
# The input workbook is embedded in the PDF (relationship Source) up to EMBED_SOURCE_UP_TO bytes, else
# SOURCE_REFERENCE; both, and source_attachment, live in pdf_job.py (importable without WeasyPrint).
# Start of the message of every refusal, so refusals can be told apart from real rendering errors.
REFUSAL = "reportgen reads only data: URIs and files inside"
LOGGER = logging.getLogger(__name__)


def render_pdf(
    html: str,
    *,
    info: BuildInfo,
    study: StudyOptions,
    attachments: tuple[PdfAttachment, ...],
    base_dir: Path | None = None,
    more_attachments: Callable[[], tuple[PdfAttachment, ...]] | None = None,
) -> bytes:
    """Render ``html`` to PDF/A-3a bytes.

    ``more_attachments``, if given, is called once the pages are laid out, just before the file is written;
    what it returns is attached after ``attachments`` (the PDF worker receives report.docx then, made while
    it laid out the pages). The bytes are those of one call with all the attachments.

    ``base_dir`` is the one folder relative URLs resolve against and the only one the renderer may
    read (fonts, stylesheets); by default the templates folder. Title and authors come from the study
    options, not from the HTML, so the XMP metadata is right whatever the template prints.
    """
    folder = (base_dir if base_dir is not None else _default_base_dir()).resolve()
    fetcher = FolderURLFetcher(folder)
    stamp = _utc(info.build_time)
    # Renders take turns: the logger settings and fontTools' clock changed below are process-wide.
    with _render_lock, _quiet_weasyprint(), _fixed_font_timestamps(stamp):
        try:
            document = weasyprint.HTML(
                string=html, base_url=folder.as_uri() + "/", url_fetcher=fetcher
            ).render(pdf_variant=PDF_VARIANT)
            _drop_html_attachments(document)
            _set_metadata(document, info=info, study=study, stamp=stamp)
            attached = (*attachments, *(more_attachments() if more_attachments is not None else ()))
            return document.write_pdf(
                pdf_variant=PDF_VARIANT,
                attachments=[_to_weasyprint(item, stamp, fetcher) for item in attached],
                finisher=_deduplicate_associated_files,
            )
        except OSError as error:
            raise BuildError(f"could not render the PDF: {error}") from error


class FolderURLFetcher(URLFetcher):
    """Serves ``data:`` URIs and ``file:`` URLs inside one folder; refuses everything else.

    Refusal is an exception raised before any urllib handler runs, so no connection is ever opened;
    WeasyPrint logs it and skips the resource. Redirects are off as well, although with http refused
    there is nothing left to redirect.
    """

    def __init__(self, folder: Path) -> None:
        super().__init__(allowed_protocols=("data", "file"), allow_redirects=False)
        self.folder = Path(folder).resolve()
        self.refused: list[str] = []

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data" or (scheme == "file" and self._inside(url)):
            return super().fetch(url, headers)
        self.refused.append(url)
        raise PermissionError(f"{REFUSAL} {self.folder}: refused {url[:200]}")

    def _inside(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            return False
        # resolve() follows symlinks and '..', so neither can lead outside the folder.
        path = Path(url2pathname(unquote(parts.path))).resolve()
        # A missing file inside the folder is let through, so it is reported as the template error it is.
        return path.is_relative_to(self.folder)


def _default_base_dir() -> Path:
    from reportgen.resources import templates_dir

    return templates_dir()


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("build_time must be timezone-aware")
    return moment.astimezone(timezone.utc)


def _to_weasyprint(item: PdfAttachment, stamp: datetime, fetcher: URLFetcher) -> weasyprint.Attachment:
    # Dates default to "now" in WeasyPrint; fix them to the build time for byte-identical rebuilds.
    return weasyprint.Attachment(
        string=item.content,
        name=item.name,
        description=item.description,
        relationship=item.relationship,
        created=stamp,
        modified=stamp,
        url_fetcher=fetcher,
    )


def _drop_html_attachments(document: Document) -> None:
    """Forget every attachment the HTML asked for: only render_pdf's own attachments are embedded.

    The fetcher already refuses files outside the folder, but ``data:`` URIs and files inside it would
    pass; an attachment must never come from text in the workbook.
    """
    document.metadata.attachments = []
    for page in document.pages:
        page.links[:] = [link for link in page.links if link[0] != "attachment"]


def _deduplicate_associated_files(document: Document, pdf: pydyf.PDF) -> None:
    # WeasyPrint 70 lists each attachment twice in the catalog's /AF array (once from the name tree,
    # once from the file specification); PDF/A validators expect each associated file once.
    if "AF" in pdf.catalog:
        pdf.catalog["AF"] = pydyf.Array(dict.fromkeys(pdf.catalog["AF"]))


def _set_metadata(document: Document, *, info: BuildInfo, study: StudyOptions, stamp: datetime) -> None:
    metadata = document.metadata
    # WeasyPrint writes these into the XMP packet as they are; a control character would make it ill-formed
    # XML (no longer PDF/A). Validation refuses them; visible() is the second line of defence, and keeps a
    # bidi override from reversing the title in a viewer.
    metadata.title = visible(study.title, keep=LINE_BREAKS)
    metadata.authors = [visible(author, keep=LINE_BREAKS) for author in split_authors(study.authors)]
    # WeasyPrint otherwise takes dates only from <meta name=dcterms.*> in the HTML, or leaves them out.
    w3c = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    metadata.created = w3c
    metadata.modified = w3c
    metadata.generator = f"reportgen {info.version}"
    # The build stamp, checksum and software line (the submission view keeps them off the title page).
    metadata.description = visible(build_record(info), keep=LINE_BREAKS)
    metadata.custom = {}


def split_authors(authors: str) -> list[str]:
    """Authors as listed in the study sheet: separated by semicolons, or by commas when there is none."""
    separator = ";" if ";" in authors else ","
    return [name.strip() for name in authors.split(separator) if name.strip()]


_render_lock = threading.Lock()


@contextmanager
def _fixed_font_timestamps(stamp: datetime) -> Iterator[None]:
    """Make fontTools stamp subset fonts with the build time instead of the current time.

    WeasyPrint subsets with HarfBuzz when libharfbuzz-subset is present (no timestamp) and falls
    back to fontTools, which writes ``head.modified`` from ``timestampNow()`` (SOURCE_DATE_EPOCH or
    the clock). The head table's ``timestampNow`` answers the build time for the render instead; the
    process environment is left alone (reportgen reads it once, at the command line).
    """
    from fontTools.misc.timeTools import epoch_diff
    from fontTools.ttLib.tables import _h_e_a_d as head

    previous = head.timestampNow
    fixed = int(stamp.timestamp()) - epoch_diff  # seconds since 1904, as timestampNow answers
    head.timestampNow = lambda: fixed
    try:
        yield
    finally:
        head.timestampNow = previous


class _ErrorRelay(logging.Handler):
    """Passes WeasyPrint's real errors on to reportgen's logger; drops refusals and everything milder.

    Warnings (CSS WeasyPrint ignores) are noise to a clinician. A refused URL is logged by WeasyPrint
    as an error ("Failed to load ...") but is the sandbox working as intended.
    """

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if REFUSAL not in message:
            LOGGER.error("PDF renderer: %s", message)


@contextmanager
def _quiet_weasyprint() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in ("weasyprint", "weasyprint.progress")]
    saved = [(logger.propagate, logger.handlers[:]) for logger in loggers]
    for logger in loggers:
        logger.propagate = False
        logger.handlers = []
    loggers[0].addHandler(_ErrorRelay())
    try:
        yield
    finally:
        for logger, (propagate, handlers) in zip(loggers, saved):
            logger.propagate = propagate
            logger.handlers = handlers
