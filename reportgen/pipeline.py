"""The one place that runs every stage in order.

    load -> validate -> derive -> analyse -> figures -> render -> pdf -> archive

Each stage is a function of plain data (see ``reportgen.model``); this module only wires them together,
checks the tables handed on at the two boundaries where they are DataFrames (``reportgen.frames``: the
validated cohort and the derived tables), times the stages, and reports progress. The PDF is rendered by a worker process started as soon as the
workbook is valid, so that WeasyPrint loads on another core while the stages in between run
(``reportgen.pdf_worker``; ``BuildRequest.pdf_worker`` False, from ``REPORTGEN_PDF_WORKER=0``, renders it
in this process). The environment is read at the command line only (``request_environment``).
"""

from __future__ import annotations

import gc
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Mapping

from reportgen import interrupts
from reportgen.errors import UsageError
from reportgen.model import BuildRequest, Cohort  # BuildRequest re-exported
from reportgen.model import DEFAULT_FORMATS, OUTPUT_FORMATS  # re-exported
from reportgen.terminal import say

SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"


def parse_formats(text: str) -> frozenset[str]:
    """The formats ``--formats`` names (comma-separated, any case, spaces ignored); UsageError for anything else."""
    names = [name.strip().lower() for name in text.split(",")]
    unknown = [name for name in names if name and name not in OUTPUT_FORMATS]
    if not text.strip() or "" in names or unknown:
        wrong = ", ".join(repr(name) for name in unknown) if unknown else "an empty name"
        raise UsageError(
            f"--formats takes a comma-separated list of {', '.join(OUTPUT_FORMATS)}, not {text!r} ({wrong}); "
            "nothing was written"
        )
    return frozenset(names)


@dataclass
class StageTimer:
    """Wall time per stage, in seconds, in the order the stages ran (read by the benchmarks)."""

    progress: bool = False
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        interrupts.check()  # a Ctrl-C or SIGTERM whose KeyboardInterrupt a finaliser swallowed stops here
        if self.progress:
            say(f"reportgen: {name} ...", sys.stderr)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = time.perf_counter() - start


# The SOURCE_DATE_EPOCH values accepted: years 1000 to 9999, the four-digit years of a build folder's name.
EARLIEST_EPOCH = int(datetime(1000, 1, 1, tzinfo=timezone.utc).timestamp())
LATEST_EPOCH = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc).timestamp())


def build_time_from_environment(environment: Mapping[str, str]) -> datetime | None:
    """The build time SOURCE_DATE_EPOCH (the reproducible-builds convention) fixes; None when it is unset."""
    epoch = environment.get(SOURCE_DATE_EPOCH)
    if epoch is None or epoch.strip() == "":
        return None
    try:
        moment = datetime.fromtimestamp(int(epoch), timezone.utc)
    except (ValueError, OverflowError, OSError):
        moment = None
    # A build folder is named after the time with a four-digit year (YYYYMMDDTHHMMSSZ), so years before
    # 1000 are refused here rather than written as a name verify could not read.
    if moment is None or moment.year < 1000:
        raise UsageError(
            f"{SOURCE_DATE_EPOCH} must be a whole number of seconds since 1970 giving a year from 1000 to 9999 "
            f"({EARLIEST_EPOCH} to {LATEST_EPOCH}), not {epoch!r}"
        )
    return moment


def request_environment(environment: Mapping[str, str]) -> dict[str, Any]:
    """The BuildRequest fields the environment sets; the command line calls this once, with os.environ."""
    from reportgen.pdf_worker import enabled

    return {"build_time": build_time_from_environment(environment), "pdf_worker": enabled(environment)}


def validate_only(path: Path, timer: StageTimer | None = None) -> Cohort:
    from reportgen.validate import validate_workbook
    from reportgen.workbook import load_workbook

    timer = timer or StageTimer()
    with timer.stage("load"):
        raw = load_workbook(path)
    with timer.stage("validate"):
        cohort = validate_workbook(raw)
        from reportgen.frames import check_cohort  # imported once pandera is (by the validate stage)

        return check_cohort(cohort)


def build(request: BuildRequest, timer: StageTimer | None = None) -> Path:
    """Run the whole pipeline and return the finished build folder."""
    with _rare_collections():
        return _build(request, timer)


@contextmanager
def _rare_collections() -> Iterator[None]:
    """Let Python's cycle collector run rarely during a build; the previous thresholds come back after.

    Imports and stages make millions of long-lived objects and few reference cycles (reference counting
    frees the data). With the default thresholds the collector ran about 600 times in the 34-patient
    build, 0.3 s of the main process; with these, about 15 times (0.09 s).
    """
    previous = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def _build(request: BuildRequest, timer: StageTimer | None) -> Path:
    from reportgen.archive import prepare_out_root, remove_leftovers
    from reportgen.pdf_worker import remove_leftovers as remove_worker_leftovers

    timer = timer or StageTimer(progress=request.progress)
    parse_formats(",".join(sorted(request.formats)))  # a library caller's formats, checked as --formats is
    # Fail on a bad --out before doing any work.
    out_root = prepare_out_root(request.out_root)
    # What builds killed outright (SIGKILL) left behind: .tmp-* under --out, the PDF worker's folder.
    remove_leftovers(out_root)
    remove_worker_leftovers()
    build_time = request.build_time or datetime.now(timezone.utc).replace(microsecond=0)

    # Validation first: a broken workbook is answered before the analysis, figure and report
    # libraries are even imported (seconds of start-up a user fixing a typo should not wait for).
    cohort = validate_only(request.workbook, timer)

    from reportgen.pdf_worker import started

    # The PDF worker imports WeasyPrint and warms it up on another core while this process derives,
    # analyses, draws and writes the HTML (reportgen/pdf_worker.py); it is stopped when the block ends.
    with started(request.writes_pdf and request.pdf_worker) as pdf_worker:
        from reportgen import __version__
        from reportgen.analysis import analyse
        from reportgen.archive import write_build
        from reportgen.derive import derive
        from reportgen.document import abstract_text, build_document, listing_files
        from reportgen.exporters import ExportContext, attached_exporters, export
        from reportgen.figures import figure_files, journal_files, make_figures_and_drawings
        from reportgen.formatting import Formatter
        from reportgen.frames import check_derived
        from reportgen.model import BuildInfo
        from reportgen.narrative import ABSTRACT_FILE, write_narrative
        from reportgen.pdf_job import PdfAttachment
        from reportgen.published import check_published, resolve_published
        from reportgen.results_json import results_to_json

        with timer.stage("derive"):
            derived = check_derived(derive(cohort))
        # The workbook's warnings, then the derive stage's (visits a window placed, visits after the follow-up).
        warnings = cohort.warnings + derived.warnings
        with timer.stage("analyse"):
            results = analyse(derived, cohort.study)
        published_path = resolve_published(request.published, cohort.study, request.workbook)
        published = check_published(published_path, results) if published_path is not None else None

        formatter = Formatter.for_study(cohort.study)
        with timer.stage("figures"):
            figures, drawings = make_figures_and_drawings(derived, results, formatter)
        info = BuildInfo(
            build_time=build_time,
            version=__version__,
            source_name=cohort.source_name,
            source_sha256=cohort.source_sha256,
            source_contract_version=cohort.contract_version,
            command_line=request.command_line,
            library_versions=library_versions(),
        )
        results_text = results_to_json(results)
        # The report is built once, as a format-neutral document (reportgen.document); each exporter writes
        # it in its format (reportgen.exporters). The HTML first, since the PDF is made from it.
        with timer.stage("html"):
            narrative = write_narrative(results, formatter)
            document = build_document(
                results=results,
                narrative=narrative,
                figures=figures,
                published=published,
                info=info,
                warnings=warnings,
                formatter=formatter,
                source_bytes=request.workbook.stat().st_size,
                draft=request.draft,
                formats=request.formats - ({"pdf"} if not request.writes_pdf else set()),
            )
            context = ExportContext(formatter=formatter, templates=request.templates, drawings=drawings)
            html = export("html", document, context) if "html" in request.formats or request.writes_pdf else b""

        # The other exporters' files (report.docx), which the PDF attaches: made while the PDF worker lays out
        # the pages, which then attaches them (render_pdf_job's ``attach_later``); before journal_files, which
        # resizes the drawings.
        others = attached_exporters(request.formats)

        def exported() -> tuple[PdfAttachment, ...]:
            return tuple(PdfAttachment(item.file, export(item.name, document, context), "Alternative") for item in others)

        def files_beside() -> dict[str, bytes]:
            # The full lists the report cuts (warnings about the workbook, patients carried forward), the figures as
            # stand-alone SVG files with their fonts, and (--formats figures) as journal files.
            journal = journal_files(figures, drawings) if "figures" in request.formats else {}
            return {**listing_files(warnings, results.carried_forward), **figure_files(figures), **journal}

        pdf: bytes | None = None
        made: tuple[PdfAttachment, ...] = ()
        beside: dict[str, bytes] | None = None
        extra: dict[str, bytes] = {}
        if request.writes_pdf:
            from reportgen.pdf_job import PdfJob, source_attachment
            from reportgen.pdf_worker import render_pdf_job

            # The time this process waits for the PDF (from the worker, else rendered here), making the
            # files that lie beside the report meanwhile.
            with timer.stage("pdf"):
                # The workbook itself up to 2 MB, else source-reference.json (name, size, SHA-256); see pdf_job.py.
                source = source_attachment(cohort.source_name, request.workbook.read_bytes(), cohort.source_sha256)
                pdf, made, beside = render_pdf_job(
                    pdf_worker,
                    PdfJob(
                        html=html.decode("utf-8"),
                        info=info,
                        study=cohort.study,
                        attachments=(
                            source,
                            PdfAttachment("results.json", results_text.encode("utf-8"), "Data"),
                        ),
                        base_dir=request.templates,
                    ),
                    meanwhile=files_beside,
                    attach_later=exported if others else None,
                )
            if source.name != cohort.source_name:
                extra[source.name] = source.content  # beside the PDF too, so the manifest hashes it
    with timer.stage("archive"):
        return write_build(
            out_root=out_root,
            workbook=request.workbook,
            info=info,
            study=cohort.study,
            warnings=warnings,
            published=published_path,
            templates=request.templates,
            pdf_libraries=dict(pdf_library_versions()) if pdf is not None else {},
            figure_libraries=dict(figure_library_versions()) if "figures" in request.formats else {},
            docx_libraries=dict(docx_library_versions()) if "docx" in request.formats else {},
            options={"formats": sorted((request.formats & DEFAULT_FORMATS) - ({"pdf"} if pdf is None else set())),
                     "draft": request.draft},
            files={
                "results.json": results_text.encode("utf-8"),
                **({"report.html": html} if "html" in request.formats else {}),
                ABSTRACT_FILE: abstract_text(narrative).encode("utf-8"),
                **{item.name: item.content for item in (made if pdf is not None else exported())},
                **(beside if beside is not None else files_beside()),
                **({"report.pdf": pdf} if pdf is not None else {}),
                **extra,
            },
        )


def library_versions() -> tuple[tuple[str, str], ...]:
    """Versions of the libraries whose behaviour shapes the output, for the manifest and the appendix."""
    import platform

    names = (
        "pandas", "numpy", "scipy", "pandera", "matplotlib", "jinja2", "weasyprint",
        "python-calamine", "fastexcel", "nanoarrow",
    )  # fmt: skip
    return (("python", platform.python_version()), *_installed_versions(names))


def pdf_library_versions() -> tuple[tuple[str, str], ...]:
    """WeasyPrint's own dependencies that shape report.pdf's bytes (writing, fonts, CSS, hyphens, images).

    Recorded in the manifest only (not the report's software table): verify compares the PDF byte for byte
    only where these, too, are the versions that made it.
    """
    return _installed_versions(("pydyf", "fonttools", "tinycss2", "tinyhtml5", "cssselect2", "pyphen", "pillow"))


def figure_library_versions() -> tuple[tuple[str, str], ...]:
    """Besides matplotlib and numpy (``library_versions``), what shapes the journal figure files' bytes: Pillow
    writes the TIFF and PNG files. Recorded in the manifest only, as ``pdf_library_versions``."""
    return _installed_versions(("pillow",))


def docx_library_versions() -> tuple[tuple[str, str], ...]:
    """Besides Python, matplotlib and numpy (``library_versions``), what shapes report.docx's bytes: python-docx
    and lxml write it, Pillow its figures' PNG. Recorded in the manifest only, as ``pdf_library_versions``."""
    return _installed_versions(("python-docx", "lxml", "pillow"))


def _installed_versions(names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    from importlib.metadata import PackageNotFoundError, version

    found: list[tuple[str, str]] = []
    for name in names:
        try:
            found.append((name, version(name)))
        except PackageNotFoundError:
            found.append((name, "not installed"))
    return tuple(found)
