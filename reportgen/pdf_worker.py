"""Render the PDF in a second process, started while the data stages still run.

A build computes on one core. ``pipeline.build`` starts this worker as soon as the workbook is valid;
the worker imports WeasyPrint (about half a second) and renders a tiny PDF at once, on another core,
while the parent derives, analyses, draws the figures and writes the HTML. The parent then sends the
finished HTML with what else ``render_pdf`` needs (a pickled ``PdfJob``) and reads back the PDF; the
build's "pdf" stage is that wait. The PDF is still made by ``reportgen.pdf.render_pdf`` alone, so its
bytes are the same as when it is rendered in the parent (tests/test_pdf_worker.py compares them).
The worker's small heap also makes the render cheaper: garbage collection in the parent walks pandas'
and Matplotlib's objects too (0.45 s of the example's render), and the worker switches it off.

Protocol (both ends are this module; the pickles hold only reportgen's own dataclasses, str and bytes)::

    parent -> worker, stdin:   one PdfJob, then (if its more_attachments is set) a tuple of PdfAttachment,
                               sent when the parent has made them (report.docx), read by a thread of the
                               worker during the layout and attached after it, then end of file
    worker -> parent, stdout:  one reply, (kind, value, log records):
                               ("pdf", bytes, ...) | ("build-error", message, ...) | ("failed", description, ...)

Whatever goes wrong with the worker (it cannot be started, it dies, it answers nonsense or fails
unexpectedly), the parent renders the PDF itself, as it did before the worker existed. A BuildError the
worker reports (a real rendering error, such as a disk that cannot take WeasyPrint's font files) is
raised in the parent as ``render_pdf`` would have raised it. The log records ``render_pdf`` writes (the
renderer's real errors) travel back in the reply and are logged again in the parent under the same
logger names. The worker's stderr goes nowhere, so nothing it prints can reach the user's terminal.

The worker never outlives the build: :func:`started` kills and reaps it on every path out of the block
(success, error, Ctrl-C) and deletes the private temporary folder the worker was given (WeasyPrint writes
each document's fonts there). Ctrl-C at the terminal reaches the worker too (same process group): it
ends at once and silently. If the parent itself is killed outright, the worker ends when it reads end of
file on stdin or cannot write its reply, and the next build removes the temporary folder (its name
carries the parent's process id; reportgen/leftovers.py).

``REPORTGEN_PDF_WORKER=0`` in the environment of ``reportgen build`` turns the worker off: the PDF is
rendered in the building process, as before (the command line reads it into ``BuildRequest.pdf_worker``).
"""

from __future__ import annotations

import gc
import logging
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Iterator, Mapping, TypeVar

from reportgen import leftovers
from reportgen.errors import BuildError

if TYPE_CHECKING:
    from reportgen.pdf_job import PdfAttachment, PdfJob

ENVIRONMENT = "REPORTGEN_PDF_WORKER"
# The worker's temporary folder: reportgen-pdf-<owner>-<random> in the temporary folder (reportgen/leftovers.py).
SCRATCH_PREFIX = "reportgen-pdf-"
LOGGER = logging.getLogger(__name__)
# The worker runs the reportgen this process imported, whatever the current folder holds: -P keeps the
# current folder off sys.path, and the folder holding this reportgen package goes first.
_BOOTSTRAP = "import sys; sys.path.insert(0, sys.argv[1]); from reportgen.pdf_worker import main; sys.exit(main())"
Reply = tuple[str, Any, list[tuple[str, int, str]]]
T = TypeVar("T")


def enabled(environment: Mapping[str, str]) -> bool:
    """False when REPORTGEN_PDF_WORKER is 0, no, false or off in ``environment`` (read at the command line)."""
    return environment.get(ENVIRONMENT, "1").strip().lower() not in ("0", "no", "false", "off")


def remove_leftovers() -> list[str]:
    """Remove the workers' temporary folders left by builds killed outright; return their names."""
    return leftovers.remove_stale(Path(tempfile.gettempdir()), SCRATCH_PREFIX)


@contextmanager
def started(wanted: bool = True) -> Iterator[PdfWorker | None]:
    """A worker warming up for the block's one PDF (None if not wanted or not startable)."""
    worker = PdfWorker.start() if wanted else None
    try:
        yield worker
    finally:
        if worker is not None:
            worker.close()


def render_pdf_job(
    worker: PdfWorker | None,
    job: PdfJob,
    meanwhile: Callable[[], T] = lambda: None,
    attach_later: Callable[[], tuple[PdfAttachment, ...]] | None = None,
) -> tuple[bytes, tuple[PdfAttachment, ...], T]:
    """The PDF of ``job`` (from the worker if there is one and it answers, else rendered in this process),
    the attachments ``attach_later`` made, and what ``meanwhile`` returns.

    While the worker lays the pages out, this process first calls ``attach_later`` (report.docx) and sends
    what it returns, which the worker attaches when it writes the file, then calls ``meanwhile`` (the files
    that lie beside the report). The PDF's bytes are those of one render with every attachment."""
    if attach_later is not None:
        job = replace(job, more_attachments=True)
    if worker is not None:
        worker.send(job)
    late = attach_later() if attach_later is not None else ()
    if worker is not None and attach_later is not None:
        worker.send_more(late)
    done = meanwhile()
    pdf = worker.receive() if worker is not None else None
    if pdf is None:
        from reportgen import pdf as renderer

        pdf = renderer.render_pdf(
            job.html, info=job.info, study=job.study, attachments=(*job.attachments, *late), base_dir=job.base_dir
        )
    return pdf, late, done


class PdfWorker:
    """The parent's handle on one worker process; renders one job."""

    def __init__(self, process: subprocess.Popen[bytes], scratch: Path) -> None:
        self.process = process
        self.scratch = scratch  # the worker's TMPDIR, removed by close()

    @classmethod
    def start(cls) -> PdfWorker | None:
        """A worker that has begun to import and warm up; None if it cannot be started."""
        package_root = Path(__file__).resolve().parent.parent
        try:
            scratch = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{leftovers.owner()}-"))
        except OSError as error:
            LOGGER.debug("no PDF worker (no temporary folder: %s); the PDF is rendered in this process", error)
            return None
        try:
            process = subprocess.Popen(
                [sys.executable, "-P", "-c", _BOOTSTRAP, str(package_root)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "TMPDIR": str(scratch)},
            )
        except (OSError, ValueError, subprocess.SubprocessError) as error:
            shutil.rmtree(scratch, ignore_errors=True)
            LOGGER.debug("no PDF worker (%s); the PDF is rendered in this process", error)
            return None
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        return cls(process, scratch)

    def send(self, job: PdfJob) -> None:
        """Hand the job to the worker (returns once it has read it); ``receive`` gets the answer."""
        if job.base_dir is not None:
            job = replace(job, base_dir=job.base_dir.resolve())  # a relative --templates means this process's folder
        stdin = self.process.stdin
        assert stdin is not None
        try:
            pickle.dump(job, stdin, protocol=pickle.HIGHEST_PROTOCOL)
            if job.more_attachments:
                stdin.flush()  # send_more completes the job and closes the pipe
            else:
                stdin.close()
        except OSError:
            pass  # the worker is gone; receive() finds out

    def send_more(self, attachments: tuple[PdfAttachment, ...]) -> None:
        """The attachments a job sent with ``more_attachments`` waits for (returns once the worker has read
        them: a thread of its reads them while it lays the pages out)."""
        stdin = self.process.stdin
        assert stdin is not None
        try:
            pickle.dump(tuple(attachments), stdin, protocol=pickle.HIGHEST_PROTOCOL)
            stdin.close()
        except OSError:
            pass  # the worker is gone; receive() finds out

    def receive(self) -> bytes | None:
        """The PDF of the job ``send`` handed over, or None when the worker failed (render it in this
        process then). Raises the BuildError the worker reports. Closes the worker in any case: it
        renders one job."""
        try:
            reply = self._reply()
        finally:
            self.close()
        if reply is None:
            return None
        kind, value, records = reply
        if kind in ("pdf", "build-error"):
            for name, level, message in records:
                logging.getLogger(name).log(level, "%s", message)
        if kind == "pdf" and isinstance(value, bytes):
            return value
        if kind == "build-error":
            raise BuildError(str(value))
        # An unexpected failure: rendering in this process repeats it with a traceback, or succeeds.
        LOGGER.debug("the PDF worker failed (%s); the PDF is rendered in this process", value)
        return None

    def _reply(self) -> Reply | None:
        stdout = self.process.stdout
        assert stdout is not None
        try:
            reply = pickle.load(stdout)
        except Exception as error:  # the worker died or answered nonsense
            LOGGER.debug("no answer from the PDF worker (%s: %s); the PDF is rendered in this process",
                         type(error).__name__, error)
            return None
        if not (isinstance(reply, tuple) and len(reply) == 3 and isinstance(reply[2], list)):
            LOGGER.debug("the PDF worker answered %r; the PDF is rendered in this process", type(reply))
            return None
        return reply

    def close(self) -> None:
        """Kill the worker if it still runs, reap it, remove its temporary folder. Safe to call again."""
        process = self.process
        if process.returncode is None:
            process.kill()  # a worker that has answered has nothing left to do
            process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass  # unsent job data and a dead reader: nothing to flush to
        shutil.rmtree(self.scratch, ignore_errors=True)


# --- the worker process ----------------------------------------------------------------------------


def main() -> int:
    """The worker: warm up, read one job from stdin, write one reply to stdout, exit."""
    # Ctrl-C at the terminal reaches this process too: end at once, silently; the parent cleans up.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    started_at = time.perf_counter()
    jobs, replies = _private_pipes()
    records = _LogRecords()
    warm_up()
    records.clear()
    # One job, then the process ends: what the imports and the warm-up built is kept out of every later
    # collection, and the render's garbage is left for the end of the process (0.13-0.17 s less for the
    # example, 5 MB more). The PDF does not depend on it.
    gc.collect()
    gc.freeze()
    gc.disable()
    warm_at = time.perf_counter()
    try:
        job = pickle.load(jobs)
    except Exception:  # end of file: the parent went away or wants no PDF
        return 0
    job_at = time.perf_counter()
    kind, value = serve(job, jobs)
    # For the parent's debug log: was the worker warm before the job came (the saving), and the render.
    LOGGER.debug(
        "PDF worker: WeasyPrint imported and warmed up in %.2f s, then waited %.2f s for the job; rendered in %.2f s",
        warm_at - started_at, job_at - warm_at, time.perf_counter() - job_at,
    )
    try:
        pickle.dump((kind, value, records.clear()), replies, protocol=pickle.HIGHEST_PROTOCOL)
        replies.flush()
    except OSError:
        pass  # the parent went away
    return 0


def serve(job: PdfJob, jobs: IO[bytes] | None = None) -> tuple[str, Any]:
    """Render ``job``; ("pdf", bytes), ("build-error", message) or ("failed", description). A job with
    ``more_attachments`` has them read from ``jobs`` by a thread while the pages are laid out (the parent's
    write of a large Word file would otherwise wait for the layout to end), and attached after it."""
    from reportgen.pdf_job import PdfAttachment

    received: list[object] = []

    def read_more() -> None:
        assert jobs is not None
        try:
            received.append(pickle.load(jobs))
        except Exception as error:  # end of file: the parent went away; the job fails below
            received.append(error)

    reader = threading.Thread(target=read_more, name="reportgen-pdf-attachments", daemon=True)
    if job.more_attachments:
        reader.start()

    def more_attachments() -> tuple[PdfAttachment, ...]:
        reader.join()
        (more,) = received
        if isinstance(more, Exception):
            raise more
        if not (isinstance(more, tuple) and all(isinstance(item, PdfAttachment) for item in more)):
            raise TypeError(f"expected the job's further attachments, received {type(more).__name__}")
        return more

    try:
        from reportgen import pdf as renderer

        return "pdf", renderer.render_pdf(
            job.html, info=job.info, study=job.study, attachments=job.attachments, base_dir=job.base_dir,
            more_attachments=more_attachments if job.more_attachments else None,
        )
    except BuildError as error:
        return "build-error", str(error)
    except Exception as error:  # reported; the parent renders in process and shows it there
        return "failed", f"{type(error).__name__}: {error}"


# A page with every face of the shipped font, a table, an SVG and an attachment: the warm-up loads what
# WeasyPrint loads lazily (font configuration, shaping, subsetting, SVG, PDF/A metadata). It costs 0.25 s
# on the otherwise idle core; its effect on the render that follows is within the noise.
_WARM_UP_HTML = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><style>
{faces}
body {{ font-family: 'Reportgen Serif'; hyphens: auto; }}
</style></head><body><h1>Warm-up</h1><p>Text, <b>bold</b>, <i>italic</i>, <b><i>both</i></b>.</p>
<table><tr><th>a</th><td>1.0</td></tr></table>
<svg width="10" height="10" viewBox="0 0 10 10"><rect width="5" height="5" style="fill: #26456e"/></svg>
</body></html>"""


def warm_up() -> None:
    """Import WeasyPrint and render a tiny PDF. Errors are left to the real render, which meets them again."""
    try:
        from reportgen import __version__
        from reportgen import pdf as renderer
        from reportgen.model import BuildInfo, StudyOptions
        from reportgen.fonts import font_faces
        from reportgen.pdf_job import PdfAttachment

        info = BuildInfo(
            build_time=datetime(2000, 1, 1, tzinfo=timezone.utc), version=__version__,
            source_name="warm-up.xlsx", source_sha256="0" * 64,
        )
        renderer.render_pdf(
            _WARM_UP_HTML.format(faces=font_faces()),
            info=info,
            study=StudyOptions(title="Warm-up"),
            attachments=(PdfAttachment("warm-up.txt", b"warm-up\n", "Data"),),
        )
    except Exception:  # the real render meets the same problem and reports it
        pass


def _private_pipes() -> tuple[IO[bytes], IO[bytes]]:
    """The job and reply pipes, moved off fds 0 and 1 so that nothing a library prints can corrupt a reply."""
    jobs = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    return jobs, replies


class _LogRecords(logging.Handler):
    """Collects what reportgen's loggers emit in the worker, to be logged again in the parent."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[tuple[str, int, str]] = []
        logger = logging.getLogger("reportgen")
        logger.addHandler(self)
        logger.propagate = False  # no last-resort printing to the (discarded) stderr
        LOGGER.setLevel(logging.DEBUG)  # the worker's own timings; the parent's log settings decide on showing them

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.levelno, record.getMessage()))

    def clear(self) -> list[tuple[str, int, str]]:
        records, self.records = self.records, []
        return records


if __name__ == "__main__":
    sys.exit(main())
