"""``reportgen verify``: check an archived build against its manifest, then against a rebuild.

Two steps. First every hash (:func:`reportgen.archive.check_hashes`): that catches any accidental
change, and when it finds one it stops there. Then a rebuild from the archived inputs (the workbook,
the published-numbers file, the copy of the templates) at the archived build time, compared byte for
byte: that catches what hashes cannot, files altered together with their manifest and sidecar, or
outputs the installed code no longer reproduces. The manifest's own claims (study options, warnings,
the workbook's hash) are checked against the rebuild's manifest the same way.

Exit codes (README "Using it", ``reportgen verify --help``):

* 0, "verified": every archived file was rebuilt byte for byte identical.
* 1, a mismatch: a file differs from its manifest or from its rebuild, or the manifest is unusable
  (say, it names a file or folder outside the build folder; verify never reads one).
* 3, not fully verified: nothing else differs, but report.pdf differs from its rebuild and the versions
  that shape its bytes (Python, WeasyPrint and its libraries) are not those recorded, so the difference
  may be theirs. The same holds for the journal figure files (figures/figure<N>.pdf, .tiff, .png), whose
  bytes Python, matplotlib and Pillow shape (``FIGURE_VERSIONS``), and for report.docx (python-docx, lxml and
  the figures' libraries, ``DOCX_VERSIONS``). What can be compared across versions is compared, and a
  difference there is a mismatch (exit 1): the files attached to the PDF, against the rebuilt PDF's, and the
  PDF's text, against the rebuilt PDF's text; the Word file's text, against the rebuilt one's. The message
  names the versions to install to check it byte for byte.

The text is compared PDF with PDF, not with the rebuilt HTML: both are extracted the same way (pypdf),
so what the extractor does with ligatures, page headers and footers, table headers repeated on each
page or text the CSS adds is the same on both sides, while the HTML's text would differ from any PDF's
in all of these. Layout, line breaks and hyphenation may change with the library versions, so the
text is compared as a stream of characters without white space and hyphens (``TEXT_IGNORED``); a
changed word or number still shows. pypdf is imported here only, when a PDF is read: builds and
``reportgen --help`` never load it.
"""

from __future__ import annotations

import io
import json
import logging
import re
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterator

from reportgen import terminal
from reportgen.archive import MANIFEST, MANIFEST_HASH, TEMPLATES, Finding, check_hashes
from reportgen.errors import ReportgenError, UsageError, VerificationFailed, VerificationIncomplete
from reportgen.pipeline import (
    BuildRequest,
    build,
    docx_library_versions,
    figure_library_versions,
    library_versions,
    pdf_library_versions,
)

# Compared byte for byte with its rebuild like every file, but a difference is a mismatch only when the versions
# recorded in the manifest are the ones installed: another Python, WeasyPrint, pydyf, fontTools (or Pango,
# HarfBuzz, which are not recorded) may lay out, subset or write differently.
PDF = "report.pdf"
MANIFEST_TIME = "%Y-%m-%dT%H:%M:%SZ"
# What shapes the journal figure files' bytes, besides the figure definitions: a difference from the rebuild is
# a mismatch only when these are the versions recorded (the manifest's library_versions and figure_libraries).
FIGURE_VERSIONS = ("python", "matplotlib", "numpy", "pillow")
# The same for report.docx (its figures are matplotlib's PNG); with other versions its text is compared instead.
DOCX = "report.docx"
DOCX_VERSIONS = ("python", "python-docx", "lxml", "matplotlib", "numpy", "pillow")
DOCX_XML_LIMIT = 200_000_000  # bytes of word/document.xml read for that comparison (the example's: 0.3 MB)
# What the cross-version comparison of the PDF's text ignores: white space (any, Unicode's included) and hyphens
# (U+002D hyphen-minus, U+00AD soft hyphen, U+2010 hyphen), which layout and hyphenation add or move.
TEXT_IGNORED = re.compile(r"[\s\u002d\u00ad\u2010]")
EXCERPT = 40  # characters of text shown on each side of the first difference


class ManifestRefused(ValueError):
    """The manifest asks verify to read something outside the build folder."""


@dataclass(frozen=True)
class NotCompared:
    """A file that differs from its rebuild made with other versions, and the versions that made it."""

    file: str
    differing: tuple[tuple[str, str, str], ...]  # (name, recorded, installed); "python" for Python
    attachments: str  # what the cross-version check of the PDF's attached files found ("" for none)
    text: str  # what the cross-version check of the PDF's text found ("" for none)

    def paragraph(self) -> str:
        built = ", ".join(
            f"{_display(name)} {recorded} (installed: {installed})" for name, recorded, installed in self.differing
        )
        lines = [
            f"  {self.file} differs from its rebuild, and was built with other versions than those installed: {built};"
            " the difference may be theirs, so it could not be checked byte for byte.",
            *(f"  {line}." for line in (self.text, self.attachments) if line),
        ]
        known = [(name, recorded) for name, recorded, _ in self.differing if re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", recorded)]
        python = next((recorded for name, recorded in known if name == "python"), None)
        install = " ".join(f"{name}=={recorded}" for name, recorded in known if name != "python")
        if known:
            steps = " and ".join(
                part for part in (f"Python {python}" if python else "", f"'pip install {install}'" if install else "") if part
            )
            lines.append(f"  To check it byte for byte, run reportgen verify again with {steps}.")
        unknown = [f"{_display(name)} ({recorded})" for name, recorded, _ in self.differing if (name, recorded) not in known]
        if unknown:
            lines.append(
                f"  The manifest gives no version to install for {', '.join(unknown)}, so no installation is known to"
                " reproduce it byte for byte."
            )
        return "\n".join(lines)


def _display(name: str) -> str:
    return "Python" if name == "python" else name


def verify_build(folder: Path, progress: bool = False) -> tuple[str, ...]:
    """Check a build folder against its manifest, then against a rebuild; return notes, raise otherwise.

    Raises VerificationFailed (exit 1) naming every file that differs and how, and VerificationIncomplete
    (exit 3) when nothing differs but report.pdf could not be compared byte for byte. The returned notes
    (also printed to stderr) are remarks that do not change the verdict.
    """
    if not (folder / MANIFEST).is_file():
        raise UsageError(f"{folder} is not a build folder (it has no {MANIFEST})")
    say = _progress_printer(progress)
    say("checking hashes")
    manifest, findings = check_hashes(folder)
    notes: list[str] = []
    not_compared: list[NotCompared] = []
    if manifest is not None and findings:
        # The archive already fails its own manifest (accidental damage). The rebuild is there for what hashes
        # cannot catch: files altered together with the manifest, or outputs the code no longer reproduces.
        notes.append("no rebuild: the archive does not match its own manifest")
    elif manifest is not None:
        say("rebuilding from the archived workbook")
        try:
            findings, not_compared, notes = _compare_with_rebuild(folder, manifest)
        except ManifestRefused as error:
            findings = [Finding(MANIFEST, f"{error}; verify reads nothing outside the build folder, so nothing was rebuilt")]
        except (KeyError, TypeError, ValueError) as error:
            # Only a manifest edited together with its sidecar gets here: it passed the hash check.
            findings = [Finding(MANIFEST, f"lacks what a rebuild needs ({type(error).__name__}: {error})")]
    for note in notes:
        terminal.say(f"reportgen: note: {terminal.shown_lines(note)}", sys.stderr)
    if findings:
        lines = "\n".join(f"  {finding.sentence()}" for finding in findings)
        n = len(findings)
        also = "".join(f"\n{item.paragraph()}" for item in not_compared)
        raise VerificationFailed(
            f"{folder} does not match its manifest or its rebuild ({n} finding{'s' if n != 1 else ''}):\n{lines}{also}"
        )
    if not_compared:
        paragraphs = "\n".join(item.paragraph() for item in not_compared)
        raise VerificationIncomplete(f"{folder} is not fully verified: every other file was rebuilt identically, but\n{paragraphs}")
    return tuple(notes)


def _compare_with_rebuild(folder: Path, manifest: dict[str, Any]) -> tuple[list[Finding], list[NotCompared], list[str]]:
    """Rebuild into a temporary folder with the archived inputs and build time; compare byte for byte."""
    files: dict[str, str] = manifest["files"]
    workbook_name = _archived_name(manifest["workbook"]["file"], files, "workbook")
    published_name = manifest.get("published")
    if published_name is not None:
        published_name = _archived_name(published_name, files, "published-numbers file")
    templates = _archived_templates(folder, manifest, files)
    # Inputs, not outputs: already hash-checked, and the rebuild reads them rather than making them.
    inputs = {workbook_name, published_name, *(name for name in files if name.startswith(f"{TEMPLATES}/"))}

    notes: list[str] = []
    build_time = datetime.strptime(manifest["build_time"], MANIFEST_TIME).replace(tzinfo=timezone.utc)
    formats, draft = _archived_options(manifest, files)
    with tempfile.TemporaryDirectory(prefix="reportgen-verify-") as scratch:
        request = BuildRequest(
            workbook=folder / workbook_name,
            out_root=Path(scratch),
            templates=templates,
            published=folder / published_name if published_name is not None else None,
            make_pdf=PDF in files,
            formats=formats,
            draft=draft,
            command_line=tuple(manifest["command_line"]),
            build_time=build_time,
        )
        try:
            rebuilt = build(request)
        except ReportgenError as error:
            return [Finding(workbook_name, f"the rebuild failed: {error}")], [], notes
        rebuilt_files = {path.relative_to(rebuilt).as_posix() for path in rebuilt.rglob("*") if path.is_file()}
        from reportgen.figures import JOURNAL_FILE

        journal = [name for name in files if JOURNAL_FILE.fullmatch(name)]
        findings = [
            finding
            for name in files
            if name not in (PDF, DOCX) and name not in inputs and name not in journal
            for finding in _compare_file(name, folder / name, rebuilt / name)
        ]
        journal_differs = [finding for name in journal for finding in _compare_file(name, folder / name, rebuilt / name)]
        findings += [
            Finding(name, "the rebuild writes this file, the archive lacks it")
            for name in sorted(rebuilt_files - set(files) - {MANIFEST, MANIFEST_HASH})
            if not name.startswith(f"{TEMPLATES}/")
        ]
        findings += _compare_manifest_content(manifest, json.loads((rebuilt / MANIFEST).read_bytes()))
        not_compared: list[NotCompared] = []
        # The journal figure files as report.pdf below: identical, or differing with other versions (exit 3).
        figure_versions = _differing_versions(manifest, FIGURE_VERSIONS) if journal_differs else []
        if journal_differs and not figure_versions:
            findings += journal_differs
        elif journal_differs:
            label = ", ".join(sorted({finding.file for finding in journal_differs}))
            not_compared.append(NotCompared(label, tuple(figure_versions), "", ""))
        docx_differs = _compare_file(DOCX, folder / DOCX, rebuilt / DOCX) if DOCX in files else []
        docx_versions = _differing_versions(manifest, DOCX_VERSIONS) if docx_differs else []
        if docx_differs and not docx_versions:
            findings += docx_differs
        elif docx_differs:
            text, text_findings = _compare_docx_text((folder / DOCX).read_bytes(), (rebuilt / DOCX).read_bytes())
            findings += text_findings
            not_compared.append(NotCompared(DOCX, tuple(docx_versions), "", text))
        pdf_differs = _compare_file(PDF, folder / PDF, rebuilt / PDF) if PDF in files else []
        # Identical bytes verify the PDF whatever the versions; different bytes are a mismatch only when the
        # versions that shape them are the recorded ones, else they may be the versions' doing.
        differing = _differing_versions(manifest) if pdf_differs else []
        if pdf_differs and not differing:
            findings += pdf_differs
        elif pdf_differs:
            archived_pdf, rebuilt_pdf = (folder / PDF).read_bytes(), (rebuilt / PDF).read_bytes()
            attached, attachment_findings = _compare_attachments(archived_pdf, rebuilt_pdf, rebuilt)
            text, text_findings = _compare_text(archived_pdf, rebuilt_pdf)
            findings += text_findings + attachment_findings
            not_compared.append(NotCompared(PDF, tuple(differing), attached, text))
    if manifest["reportgen_version"] != _installed_version():
        notes.append(f"built with reportgen {manifest['reportgen_version']}, verified with {_installed_version()}")
    return findings, not_compared, notes


def _archived_name(name: object, files: dict[str, str], what: str) -> str:
    """A file the manifest names as an input: a plain name listed among the build's own files."""
    if not isinstance(name, str) or PurePosixPath(name).name != name or name in ("", ".", "..") or name not in files:
        raise ManifestRefused(f"it names the {what} {name!r}, which is not a file of this build folder")
    return name


def _archived_templates(folder: Path, manifest: dict[str, Any], files: dict[str, str]) -> Path | None:
    """The build's copy of its --templates folder, or None for the built-in templates.

    The folder is never the one the manifest names: only ``templates`` inside the build folder is read, and
    its files were hash-checked already. Any other name (an absolute path, ``..``) is refused unread.
    """
    record = manifest.get("templates")
    if record is None:
        return None
    named = record["folder"]
    if named != TEMPLATES:
        raise ManifestRefused(f"it names the template folder {named!r}, outside the build folder")
    if not any(name.startswith(f"{TEMPLATES}/") for name in files):
        raise ManifestRefused(f"it names the template folder {TEMPLATES!r}, but lists no file in it")
    return folder / TEMPLATES


def _archived_options(manifest: dict[str, Any], files: dict[str, str]) -> tuple[frozenset[str], bool]:
    """The --formats and --draft the archived build was made with (its manifest's "options").

    A manifest from before the options were recorded is a build of the HTML, and of the PDF when it has one.
    """
    from reportgen.pipeline import DEFAULT_FORMATS

    options = manifest.get("options")
    if options is None:
        return frozenset({"html", *(["pdf"] if PDF in files else [])}), False
    formats, draft = options["formats"], options["draft"]
    if not isinstance(formats, list) or not set(formats) <= DEFAULT_FORMATS or not isinstance(draft, bool):
        raise ValueError(f"options {options!r} are not formats among {', '.join(sorted(DEFAULT_FORMATS))} and a draft flag")
    return frozenset(formats), draft


def _differing_versions(manifest: dict[str, Any], only: tuple[str, ...] | None = None) -> list[tuple[str, str, str]]:
    """(name, recorded, installed) for every version that shapes report.pdf and is not the one recorded;
    with ``only``, for those versions (``FIGURE_VERSIONS``: the journal figure files) instead.

    A version the manifest does not record counts as differing (its value is "not recorded"): a manifest
    stripped of its versions must not pass for one that matches.
    """
    recorded = {
        "python": manifest["python_version"],
        **manifest["library_versions"],
        **manifest.get("pdf_libraries", {}),
        **manifest.get("figure_libraries", {}),
        **manifest.get("docx_libraries", {}),
    }
    installed = {
        **dict(library_versions()),
        **dict(pdf_library_versions()),
        **dict(figure_library_versions()),
        **dict(docx_library_versions()),
    }
    if only is not None:
        recorded = {name: value for name, value in recorded.items() if name in only}
        installed = {name: value for name, value in installed.items() if name in only}
    return [
        (name, str(recorded.get(name, "not recorded")), installed.get(name, "not installed"))
        for name in sorted(set(recorded) | set(installed))
        if recorded.get(name) != installed.get(name)
    ]


def _compare_attachments(archived: bytes, rebuilt: bytes, rebuilt_folder: Path) -> tuple[str, list[Finding]]:
    """Compare the files attached to the archived PDF with those of the rebuilt PDF (any library versions).

    Returns a sentence for the report and the findings: a differing attachment is a mismatch whatever
    the versions, since attachments are embedded unchanged. If the archived PDF's attachments cannot be
    read (another writer, another compression), that is said, not counted as a mismatch.
    """
    old = embedded_files(archived)
    new = embedded_files(rebuilt)
    names = {path.read_bytes(): path.relative_to(rebuilt_folder).as_posix() for path in sorted(rebuilt_folder.iterdir()) if path.is_file()}
    if old is None or new is None:
        return "Its attached files could not be read, so they were not compared either", []
    label = ", ".join(sorted(names.get(content, "an unnamed file") for content in new))
    if sorted(old) == sorted(new):
        return f"Its attached files ({label}) are identical to the rebuilt PDF's", []
    missing = sorted(names.get(content, "an unnamed file") for content in set(new) - set(old))
    extra = len(set(old) - set(new))
    how = "its attached files differ from the rebuilt PDF's"
    if missing:
        how += f" (the rebuilt PDF attaches {', '.join(missing)}, which the archived one does not hold unchanged)"
    if extra:
        how += f"; it holds {extra} attached file{'s' if extra != 1 else ''} the rebuild does not"
    return f"Its attached files were compared with the rebuilt PDF's ({label})", [Finding(PDF, how)]


def _compare_text(archived: bytes, rebuilt: bytes) -> tuple[str, list[Finding]]:
    """Compare the archived PDF's text with the rebuilt PDF's, white space and hyphens aside (any library versions).

    Returns a sentence for the report and the findings: a differing text is a mismatch whatever the versions,
    and the finding shows both texts around the first difference. Text that cannot be extracted is said,
    not counted as a mismatch.
    """
    return _compare_texts(pdf_text(archived), pdf_text(rebuilt), file=PDF, kind="PDF", unreadable="extracted")


def _compare_docx_text(archived: bytes, rebuilt: bytes) -> tuple[str, list[Finding]]:
    """Compare the archived report.docx's text with the rebuilt one's, white space and hyphens aside, as
    ``_compare_text`` the PDF's (for a Word file made with other versions of python-docx and its libraries)."""
    return _compare_texts(docx_text(archived), docx_text(rebuilt), file=DOCX, kind="Word file", unreadable="read")


def _compare_texts(old: str | None, new: str | None, *, file: str, kind: str, unreadable: str) -> tuple[str, list[Finding]]:
    """The comparison of ``_compare_text`` and ``_compare_docx_text``, on the texts taken from ``file`` (a
    ``kind``: "PDF", "Word file") and from its rebuild; None where the text could not be ``unreadable``."""
    if old is None or new is None:
        return f"Its text could not be {unreadable}, so it was not compared", []
    old_kept, new_kept = _kept_characters(old), _kept_characters(new)
    if [c for c, _ in old_kept] == [c for c, _ in new_kept]:
        return f"Its text is identical to the rebuilt {kind}'s, white space and hyphens aside", []
    first = next((i for i, (a, b) in enumerate(zip(old_kept, new_kept)) if a[0] != b[0]), min(len(old_kept), len(new_kept)))
    how = (
        f"its text differs from the rebuilt {kind}'s (white space and hyphens aside): archived"
        f" \u201c{_excerpt(old, old_kept, first)}\u201d, rebuilt \u201c{_excerpt(new, new_kept, first)}\u201d"
    )
    return f"Its text was compared with the rebuilt {kind}'s", [Finding(file, how)]


def docx_text(docx: bytes) -> str | None:
    """The text of a Word file's body (every w:t of word/document.xml, one paragraph a line); None if unreadable
    or larger than DOCX_XML_LIMIT bytes unpacked."""
    import xml.etree.ElementTree as ElementTree
    import zipfile

    word = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    try:
        with zipfile.ZipFile(io.BytesIO(docx)) as archive:
            if archive.getinfo("word/document.xml").file_size > DOCX_XML_LIMIT:
                return None
            root = ElementTree.fromstring(archive.read("word/document.xml"))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError, ValueError):
        return None
    return "\n".join("".join(t.text or "" for t in paragraph.iter(f"{word}t")) for paragraph in root.iter(f"{word}p"))


def _kept_characters(text: str) -> list[tuple[str, int]]:
    """Each character the text comparison looks at, with its position in ``text``."""
    return [(character, position) for position, character in enumerate(text) if not TEXT_IGNORED.fullmatch(character)]


def _excerpt(text: str, kept: list[tuple[str, int]], index: int) -> str:
    """``text`` around its ``index``-th compared character, on one line, safe for a terminal."""
    position = kept[index][1] if index < len(kept) else len(text)
    start, end = max(0, position - EXCERPT), position + EXCERPT
    shown = " ".join(text[start:end].split())
    return terminal.shown(("\u2026" if start > 0 else "") + shown + ("\u2026" if end < len(text) else ""))


def embedded_files(pdf: bytes) -> list[bytes] | None:
    """The contents of every file embedded in a PDF; None if unreadable.

    Both places a PDF viewer shows attached files from: the document's EmbeddedFiles name tree (where
    WeasyPrint puts render_pdf's attachments) and file-attachment annotations on its pages (which reportgen
    never writes, so any there is a difference from the rebuild).
    """
    try:
        with _quiet_pypdf():
            reader = _pdf_reader(pdf)
            found = [content for contents in reader.attachments.values() for content in contents]
            for page in reader.pages:
                for annotation in page.get("/Annots") or []:
                    annotation = annotation.get_object()
                    if annotation.get("/Subtype") == "/FileAttachment":
                        found.append(annotation["/FS"].get_object()["/EF"]["/F"].get_object().get_data())
            return found
    except Exception:  # noqa: BLE001 - any PDF a reader rejects, however it says so, is "could not be read"
        return None


def pdf_text(pdf: bytes) -> str | None:
    """The text of every page of a PDF, as pypdf extracts it, pages separated by a line break; None if unreadable."""
    try:
        with _quiet_pypdf():
            return "\n".join(page.extract_text() for page in _pdf_reader(pdf).pages)
    except Exception:  # noqa: BLE001 - as in embedded_files
        return None


def _pdf_reader(pdf: bytes) -> Any:
    import pypdf  # only verify reads PDFs: builds and --help never import it

    return pypdf.PdfReader(io.BytesIO(pdf))


@contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """Keep pypdf's log messages (about a malformed PDF) off the terminal: they would print its bytes unescaped."""
    logger = logging.getLogger("pypdf")
    handler, propagate = logging.NullHandler(), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _compare_file(name: str, archived: Path, rebuilt: Path) -> list[Finding]:
    if not archived.is_file():
        return []  # already reported as missing by the hash check
    if not rebuilt.is_file():
        return [Finding(name, "the rebuild does not produce this file")]
    old, new = archived.read_bytes(), rebuilt.read_bytes()
    if old == new:
        return []
    offset = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
    sizes = "" if len(old) == len(new) else f"; {len(old)} bytes archived, {len(new)} rebuilt"
    return [Finding(name, f"rebuild differs at byte {offset}{sizes}")]


def _compare_manifest_content(archived: dict[str, Any], rebuilt: dict[str, Any]) -> list[Finding]:
    """The manifest's claims that a rebuild must reproduce (times, versions and file names vary)."""
    return [
        Finding(MANIFEST, f"'{key}' differs from the rebuild's")
        for key in ("study", "warnings", "published", "templates")
        if archived.get(key) != rebuilt.get(key)
    ] + (
        # Recorded since --formats and --draft exist; an older manifest's are those _archived_options gives.
        [Finding(MANIFEST, "'options' differs from the rebuild's")]
        if "options" in archived and archived["options"] != rebuilt.get("options")
        else []
    ) + (
        [Finding(MANIFEST, "the workbook's SHA-256 differs from the rebuild's")]
        if archived["workbook"]["sha256"] != rebuilt["workbook"]["sha256"]
        else []
    )


def _installed_version() -> str:
    from reportgen import __version__

    return __version__


def _progress_printer(progress: bool) -> Callable[[str], None]:
    def progress_line(message: str) -> None:
        if progress:
            terminal.say(f"reportgen: {message} ...", sys.stderr)

    return progress_line
