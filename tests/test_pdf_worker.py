"""reportgen.pdf_worker: the PDF rendered in a second process, byte for byte as in this one, and never left behind."""

from __future__ import annotations

import io
import logging
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
from workbooks import write_valid_workbook

from reportgen import __version__, pdf_worker
from reportgen.cli import main
from reportgen.errors import BuildError
from reportgen.model import BuildInfo, StudyOptions
from reportgen.pdf import render_pdf
from reportgen.pdf_job import PdfAttachment, PdfJob, source_attachment
from reportgen.pdf_worker import PdfWorker, render_pdf_job, started
from reportgen.pipeline import BuildRequest, build, request_environment, validate_only

ROOT = Path(__file__).resolve().parent.parent
COHORT = ROOT / "input" / "cohort.xlsx"
BUILD_TIME = datetime(2024, 5, 17, 9, 30, tzinfo=timezone.utc)
SMALL_JOB = PdfJob(
    html="""<!doctype html><html lang=en><head><meta charset=utf-8></head>
<body><h1>Report</h1><p>Plain, <b>bold</b> and <i>italic</i> text.</p></body></html>""",
    info=BuildInfo(build_time=BUILD_TIME, version="0.1.0", source_name="cohort.xlsx", source_sha256="ab" * 32),
    study=StudyOptions(title="Worker test", authors="A. Author; B. Author"),
    attachments=(PdfAttachment("cohort.xlsx", b"PK not a workbook", "Source"), PdfAttachment("results.json", b"{}\n", "Data")),
)


def in_process(job: PdfJob) -> bytes:
    return render_pdf(job.html, info=job.info, study=job.study, attachments=job.attachments, base_dir=job.base_dir)


def gone(process: subprocess.Popen[bytes]) -> bool:
    """Reaped, and no process with its id is left (not even a zombie)."""
    if process.returncode is None:
        return False
    try:
        os.kill(process.pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture(scope="module")
def example_job(tmp_path_factory: pytest.TempPathFactory) -> PdfJob:
    """The example's PdfJob, as the pipeline makes it (HTML from a --no-pdf build of input/cohort.xlsx)."""
    folder = build(BuildRequest(workbook=COHORT, out_root=tmp_path_factory.mktemp("example"), make_pdf=False, build_time=BUILD_TIME))
    cohort = validate_only(COHORT)
    info = BuildInfo(build_time=BUILD_TIME, version=__version__, source_name=cohort.source_name, source_sha256=cohort.source_sha256)
    return PdfJob(
        html=(folder / "report.html").read_text("utf-8"),
        info=info,
        study=cohort.study,
        attachments=(
            source_attachment(cohort.source_name, COHORT.read_bytes(), cohort.source_sha256),
            PdfAttachment("results.json", (folder / "results.json").read_bytes(), "Data"),
        ),
    )


def rendered(worker: PdfWorker, job: PdfJob) -> bytes | None:
    worker.send(job)
    return worker.receive()


@pytest.mark.slow  # renders the example twice; runs with `make test-all`
def test_the_worker_renders_the_example_byte_for_byte_as_this_process_does(example_job: PdfJob) -> None:
    worker = PdfWorker.start()
    assert worker is not None
    try:
        # The worker warms up and renders on the other core while this process renders the same job.
        with ThreadPoolExecutor(1) as pool:
            from_worker = pool.submit(rendered, worker, example_job)
            here = in_process(example_job)
            there = from_worker.result()
    finally:
        worker.close()
    assert there is not None, "the worker failed; the comparison would be with the fallback"
    assert there == here
    assert gone(worker.process) and not worker.scratch.exists()


def test_attachments_made_while_the_worker_lays_out_are_attached_last_with_the_same_bytes() -> None:
    # report.docx is made while the worker lays the pages out (render_pdf_job's ``attach_later``), before the
    # other files; the PDF is the one rendered at once with every attachment, in this process or by a worker
    # given them all up front.
    import pikepdf

    late = PdfAttachment("report.docx", b"PK a word file", "Alternative")
    everything = replace(SMALL_JOB, attachments=(*SMALL_JOB.attachments, late))
    made: list[str] = []

    def attach_later() -> tuple[PdfAttachment, ...]:
        made.append("attach_later")
        return (late,)

    def meanwhile() -> str:
        made.append("meanwhile")
        return "the files beside"

    with started() as worker:
        assert worker is not None
        pdf, attached, done = render_pdf_job(worker, SMALL_JOB, meanwhile, attach_later)
    assert made == ["attach_later", "meanwhile"] and attached == (late,) and done == "the files beside"
    assert pdf == in_process(everything)
    with pikepdf.open(io.BytesIO(pdf)) as document:
        assert sorted(document.attachments) == ["cohort.xlsx", "report.docx", "results.json"]
        assert document.attachments["report.docx"].get_file().read_bytes() == late.content
    assert gone(worker.process) and not worker.scratch.exists()
    # Without a worker, and with a worker that died: the same file.
    assert render_pdf_job(None, SMALL_JOB, meanwhile, attach_later)[0] == pdf
    with started() as dead:
        assert dead is not None
        dead.process.kill()
        dead.process.wait()
        assert render_pdf_job(dead, SMALL_JOB, meanwhile, attach_later)[0] == pdf


def test_a_dead_worker_falls_back_to_rendering_in_process() -> None:
    with started() as worker:
        assert worker is not None
        worker.process.kill()
        worker.process.wait()
        assert render_pdf_job(worker, SMALL_JOB)[0] == in_process(SMALL_JOB)
    assert gone(worker.process) and not worker.scratch.exists()


def test_a_worker_that_cannot_start_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    with started() as worker:
        assert worker is None
        assert render_pdf_job(worker, SMALL_JOB)[0] == in_process(SMALL_JOB)


@pytest.mark.parametrize("value", ["0", "off", "no", "false"])
def test_reportgen_pdf_worker_0_turns_it_off(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    def no_process(*args: object, **kwargs: object) -> None:
        raise AssertionError("a worker was started")

    monkeypatch.setattr(subprocess, "Popen", no_process)
    settings = request_environment({pdf_worker.ENVIRONMENT: value})  # as the command line reads os.environ
    assert settings["pdf_worker"] is False
    with started(wanted=settings["pdf_worker"]) as worker:
        assert worker is None


def test_no_worker_without_a_pdf() -> None:
    with started(wanted=False) as worker:
        assert worker is None


def test_a_rendering_error_in_the_worker_is_a_build_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # In the worker, WeasyPrint fails as on a full disk; render_pdf turns that into a BuildError, and so must the parent.
    failing = (
        "import sys; sys.path.insert(0, sys.argv[1]); import weasyprint\n"
        "def full_disk(*args, **kwargs): raise OSError(28, 'No space left on device')\n"
        "weasyprint.HTML = full_disk\n"
        "from reportgen.pdf_worker import main; sys.exit(main())"
    )
    monkeypatch.setattr(pdf_worker, "_BOOTSTRAP", failing)
    rendered_here: list[PdfJob] = []
    monkeypatch.setattr("reportgen.pdf.render_pdf", lambda *args, **kwargs: rendered_here.append(args[0]))
    with started() as worker:
        with pytest.raises(BuildError, match=r"^could not render the PDF: .*No space left on device"):
            render_pdf_job(worker, SMALL_JOB)[0]
    assert rendered_here == []  # a real rendering error is reported, not retried here
    assert worker is not None and gone(worker.process)


def test_an_unexpected_failure_in_the_worker_is_retried_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = (
        "import sys; sys.path.insert(0, sys.argv[1]); import reportgen.pdf\n"
        "def bug(*args, **kwargs): raise RuntimeError('a bug')\n"
        "reportgen.pdf.render_pdf = bug\n"
        "from reportgen.pdf_worker import main; sys.exit(main())"
    )
    monkeypatch.setattr(pdf_worker, "_BOOTSTRAP", broken)
    with started() as worker:
        assert render_pdf_job(worker, SMALL_JOB)[0] == in_process(SMALL_JOB)


def test_the_renderers_errors_reach_this_processs_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    job = PdfJob(
        html='<!doctype html><html lang=en><body><p>Figure</p><img src="missing.png"></body></html>',
        info=SMALL_JOB.info,
        study=SMALL_JOB.study,
        attachments=SMALL_JOB.attachments,
        base_dir=tmp_path,  # the --templates folder: the worker reads inside it, as render_pdf here would
    )
    with caplog.at_level(logging.ERROR), started() as worker:
        assert worker is not None
        pdf = rendered(worker, job)
    assert pdf is not None and pdf.startswith(b"%PDF")
    assert any("missing.png" in record.getMessage() for record in caplog.records if record.name == "reportgen.pdf")


def test_ctrl_c_while_waiting_for_the_worker_stops_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    workbook = write_valid_workbook(tmp_path / "cohort.xlsx")
    workers: list[PdfWorker] = []

    def interrupted(self: PdfWorker, job: PdfJob) -> None:
        workers.append(self)
        assert self.process.stdin is not None
        self.process.stdin.write(b"\x80")  # the job was being sent when Ctrl-C came
        raise KeyboardInterrupt

    monkeypatch.setattr(PdfWorker, "send", interrupted)
    out = tmp_path / "out"
    assert main(["build", str(workbook), "--out", str(out), "--quiet"]) == 130
    assert "interrupted" in capsys.readouterr().err
    (worker,) = workers
    assert gone(worker.process) and not worker.scratch.exists()
    assert not out.exists() or list(out.iterdir()) == []


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # ended meanwhile
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:  # the field after the state is the parent's id
                found.append(int(entry.name))
    return found


# The build, with one change: the job is held back, so the worker waits for it and the build for the
# reply until Ctrl-C comes; the worker's id on stdout says that point is reached (no sleeping, no race
# with a build that finishes first).
HELD_BACK_BUILD = """
import sys
from reportgen import pdf_worker
from reportgen.cli import main

def hold_back(self, job):
    print(self.process.pid, flush=True)

pdf_worker.PdfWorker.send = hold_back
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="finds the worker in /proc")
@pytest.mark.parametrize("sent", ["SIGINT to the group", pytest.param("SIGTERM to the build", marks=pytest.mark.slow)])
def test_ctrl_c_at_the_terminal_ends_build_and_worker_without_a_traceback(tmp_path: Path, sent: str) -> None:
    """A real SIGINT to the process group, as the terminal sends it, while the worker is alive; or a
    SIGTERM to the build alone, as a service manager sends it."""
    workbook = write_valid_workbook(tmp_path / "cohort.xlsx")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-c", HELD_BACK_BUILD, "build", str(workbook), "--out", str(tmp_path / "out"), "--quiet"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "TMPDIR": str(scratch)}, start_new_session=True,  # its own group: the test is not hit
    )
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()  # the worker's id, once the build waits for the PDF
        assert ready.strip().isdigit(), process.communicate(timeout=60)[1].decode()
        workers = [int(ready)]
        assert workers[0] in _children(process.pid)
        if sent == "SIGINT to the group":
            os.killpg(process.pid, signal.SIGINT)
        else:
            os.kill(process.pid, signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130, err.decode()
    assert b"Traceback" not in err and b"interrupted" in err
    for pid in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert list(scratch.glob("reportgen-pdf-*")) == []  # the worker's temporary folder is gone too
