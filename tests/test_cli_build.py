"""`reportgen build` through the command line: a bad --out, and Ctrl-C at every stage (issue 6).

tests/test_archive.py covers the archive itself (interrupts and a full disk inside write_build,
SIGTERM, concurrency); here the whole command runs in-process, as a user would run it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest
from streams import ClosedPipe
from workbooks import write_valid_workbook

from reportgen.cli import main


def snapshot(folder: Path) -> dict[str, bytes | str]:
    return {
        path.relative_to(folder).as_posix(): (os.readlink(path) if path.is_symlink() else path.read_bytes())
        for path in sorted(folder.rglob("*"))
        if path.is_symlink() or path.is_file()
    }


# For builds whose subject is not the formats: the HTML alone spares each the Word file and the 600-dpi
# journal figure files (seconds per build).
HTML_ONLY = ("--formats", "html")


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_valid_workbook(tmp_path_factory.mktemp("in") / "cohort.xlsx", study={"title": "Nothing lost"})


@pytest.fixture(scope="module")
def earlier(workbook: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An --out folder holding one finished build and `latest` (no PDF: it would only cost time)."""
    out = tmp_path_factory.mktemp("earlier") / "out"
    assert main(["build", str(workbook), "--out", str(out), "--quiet", "--no-pdf"]) == 0
    return out


# --- --out ----------------------------------------------------------------------------------------


def test_out_pointing_at_a_file_is_a_usage_error(workbook: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "report.pdf"
    target.write_bytes(b"not a folder")
    assert main(["build", str(workbook), "--out", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("reportgen: ") and "is a file, not a folder" in err and "Traceback" not in err
    assert target.read_bytes() == b"not a folder"


def test_out_with_a_missing_parent_is_a_usage_error(workbook: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", str(workbook), "--out", str(tmp_path / "no" / "such")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("reportgen: ") and "neither does its parent folder" in err and "Traceback" not in err
    assert not (tmp_path / "no").exists()


def test_a_bad_out_is_reported_before_the_workbook_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("x")
    assert main(["build", str(tmp_path / "missing.xlsx"), "--out", str(tmp_path / "file")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


# --- the environment ------------------------------------------------------------------------------


def test_the_command_line_reads_the_environment_and_the_build_does_not(
    workbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import datetime, timezone

    from reportgen.pipeline import BuildRequest, build, request_environment

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1715938200")
    monkeypatch.setenv("REPORTGEN_PDF_WORKER", "0")
    assert request_environment(os.environ) == {"build_time": datetime(2024, 5, 17, 9, 30, tzinfo=timezone.utc), "pdf_worker": False}
    assert request_environment({}) == {"build_time": None, "pdf_worker": True}
    folder = build(BuildRequest(workbook=workbook, out_root=tmp_path / "out", make_pdf=False, formats=frozenset({"html"})))
    assert not folder.name.startswith("20240517T093000Z")  # the build time is what the request says: now
    assert main(["build", str(workbook), "--out", str(tmp_path / "cli"), "--quiet", "--no-pdf", *HTML_ONLY]) == 0
    assert [path.name[:16] for path in (tmp_path / "cli").iterdir() if not path.is_symlink()] == ["20240517T093000Z"]


def test_a_malformed_source_date_epoch_is_a_usage_error(
    workbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    assert main(["build", str(workbook), "--out", str(tmp_path / "out"), "--quiet", "--no-pdf"]) == 2
    err = capsys.readouterr().err
    assert "SOURCE_DATE_EPOCH must be a whole number of seconds since 1970" in err and "not 'yesterday'" in err
    assert not (tmp_path / "out").exists()


# --- Ctrl-C at any stage --------------------------------------------------------------------------

STAGES = [
    ("reportgen.workbook", "load_workbook"),
    ("reportgen.validate", "validate_workbook"),
    ("reportgen.derive", "derive"),
    ("reportgen.analysis", "analyse"),
    ("reportgen.figures", "make_figures_and_drawings"),
    ("reportgen.figures", "journal_files"),  # the journal figure files, made while the PDF renders
    ("reportgen.document", "build_document"),
    ("reportgen.exporters.html", "render_html"),
    ("reportgen.pdf", "render_pdf"),  # with the PDF worker off (see below): rendering in this process
    ("reportgen.pdf_worker", "render_pdf_job"),  # the worker started and warming up, then stopped
    ("reportgen.archive", "write_build"),
    ("reportgen.archive", "_move_into_place"),
]


@pytest.mark.parametrize(("module", "function"), STAGES, ids=[function for _, function in STAGES])
def test_ctrl_c_at_any_stage_exits_130_and_changes_nothing(
    module: str,
    function: str,
    workbook: Path,
    earlier: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import importlib

    out = tmp_path / "out"
    shutil.copytree(earlier, out, symlinks=True)
    before = snapshot(out)
    latest = os.readlink(out / "latest")

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(importlib.import_module(module), function, interrupted)
    if function == "render_pdf":
        monkeypatch.setenv("REPORTGEN_PDF_WORKER", "0")  # else render_pdf runs in the worker, unpatched
    # The PDF takes seconds; it is made only when the interrupt is in its stage (before any rendering).
    pdf = [] if module.startswith("reportgen.pdf") else ["--no-pdf"]
    assert main(["build", str(workbook), "--out", str(out), "--quiet", *pdf]) == 130
    err = capsys.readouterr().err
    assert "interrupted; no build folder was left half-written" in err and "Traceback" not in err
    assert os.readlink(out / "latest") == latest
    assert snapshot(out) == before  # the earlier build byte-identical, and nothing new beside it
    assert sorted(os.listdir(out)) == sorted([latest, "latest"])


def test_the_cycle_collector_runs_rarely_during_a_build_and_is_restored_after(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import gc

    from reportgen import pipeline

    seen: list[tuple[int, int, int]] = []
    monkeypatch.setattr(pipeline, "_build", lambda request, timer: seen.append(gc.get_threshold()) or tmp_path)
    before = gc.get_threshold()
    assert pipeline.build(pipeline.BuildRequest(workbook=tmp_path / "x.xlsx")) == tmp_path
    assert seen[0][0] > before[0] and gc.get_threshold() == before


def test_the_software_list_names_both_workbook_readers() -> None:
    from reportgen.pipeline import library_versions

    versions = dict(library_versions())
    assert {"python-calamine", "fastexcel", "nanoarrow", "weasyprint"} <= set(versions)
    assert all(version != "not installed" for version in versions.values())


# --- real signals: SIGINT and SIGTERM as the handler receives them (issue #15, interruptions) ----------


class _SignalInFinaliser:
    """Raises the signal while Python runs a finaliser: the handler's KeyboardInterrupt is "ignored"."""

    def __init__(self, signum: int, raised: list[int]) -> None:
        self.signum = signum
        self.raised = raised

    def __del__(self) -> None:
        self.raised.append(self.signum)
        signal.raise_signal(self.signum)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_swallowed_by_a_finaliser_still_stops_the_build(
    signum: int, workbook: Path, earlier: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from reportgen import derive

    out = tmp_path / "out"
    shutil.copytree(earlier, out, symlinks=True)
    before = snapshot(out)
    ignored: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", ignored.append)
    raised: list[int] = []
    real = derive.derive

    def derive_meeting_a_finaliser(*args: object, **kwargs: object) -> object:
        _SignalInFinaliser(signum, raised)  # dropped at once: __del__ runs here, its KeyboardInterrupt is lost
        return real(*args, **kwargs)

    monkeypatch.setattr(derive, "derive", derive_meeting_a_finaliser)
    assert main(["build", str(workbook), "--out", str(out), "--quiet", "--no-pdf"]) == 130
    assert raised == [signum]
    # Python's "Exception ignored in ..." and its traceback are kept off the terminal: one sentence only.
    assert ignored == []
    assert capsys.readouterr().err == "reportgen: interrupted; no build folder was left half-written.\n"
    assert sys.unraisablehook == ignored.append  # the hook reportgen found is back
    assert snapshot(out) == before
    from reportgen import interrupts

    interrupts.check()  # forgotten when the command ended: a later build in this process is not interrupted


def test_a_signal_that_native_code_turns_into_another_error_is_still_an_interruption(
    workbook: Path, earlier: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """pybind11 (matplotlib's transforms) reports a KeyboardInterrupt raised while it converts arguments as
    "TypeError: incompatible function arguments": CI once printed that traceback after a Ctrl-C."""
    from reportgen import derive

    out = tmp_path / "out"
    shutil.copytree(earlier, out, symlinks=True)
    before = snapshot(out)

    def derive_in_native_code(*args: object, **kwargs: object) -> object:
        try:
            signal.raise_signal(signal.SIGINT)
        except KeyboardInterrupt:
            raise TypeError("affine_transform(): incompatible function arguments") from None
        raise AssertionError("the handler raised nothing")

    monkeypatch.setattr(derive, "derive", derive_in_native_code)
    assert main(["build", str(workbook), "--out", str(out), "--quiet", "--no-pdf"]) == 130
    err = capsys.readouterr().err
    assert err == "reportgen: interrupted; no build folder was left half-written.\n"
    assert snapshot(out) == before


def test_the_same_error_without_a_signal_is_not_called_an_interruption(
    workbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reportgen import derive

    def derive_failing(*args: object, **kwargs: object) -> object:
        raise TypeError("a bug")

    monkeypatch.setattr(derive, "derive", derive_failing)
    with pytest.raises(TypeError, match="a bug"):
        main(["build", str(workbook), "--out", str(tmp_path / "out"), "--quiet", "--no-pdf"])


@pytest.mark.parametrize("signum", [pytest.param(signal.SIGINT, id="SIGINT"), pytest.param(signal.SIGTERM, id="SIGTERM", marks=pytest.mark.slow)])
@pytest.mark.parametrize("moment", ["after the rename", "after the temporary link", "after the swap"])
def test_a_signal_during_the_commit_waits_and_the_message_names_the_committed_build(
    signum: int,
    moment: str,
    workbook: Path,
    earlier: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from reportgen import archive

    out = tmp_path / "out"
    shutil.copytree(earlier, out, symlinks=True)
    before = snapshot(out)

    def then_signal(real: Callable[..., object]) -> Callable[..., object]:
        def wrapper(*args: object, **kwargs: object) -> object:
            result = real(*args, **kwargs)
            signal.raise_signal(signum)
            return result

        return wrapper

    target = {"after the rename": (archive, "_move_into_place"), "after the temporary link": (archive.os, "symlink"),
              "after the swap": (archive, "_point_latest_at")}[moment]  # fmt: skip
    monkeypatch.setattr(*target, then_signal(getattr(*target)))
    assert main(["build", str(workbook), "--out", str(out), "--quiet", "--no-pdf", *HTML_ONLY]) == 130
    monkeypatch.undo()
    (new,) = set(os.listdir(out)) - set(os.listdir(earlier))
    assert os.readlink(out / "latest") == new
    assert f"reportgen: interrupted after the build was committed: {out / new}\n" in capsys.readouterr().err
    assert archive.check_hashes(out / new)[1] == []  # complete
    assert {name: value for name, value in snapshot(out).items() if name in before and name != "latest"} == {
        name: value for name, value in before.items() if name != "latest"
    }  # the earlier build untouched
    assert not [name for name in os.listdir(out) if name.startswith(".tmp-")]  # no temporary folder or link left


# --- leftovers of builds killed outright ------------------------------------------------------------

LEFTOVER_SCRIPT = """
import os, sys, tempfile, threading
from pathlib import Path
from reportgen import archive, leftovers, pdf_worker

out = Path(sys.argv[1])
staging = archive._make_staging_folder(out, "20240517T093000Z-abcdef12")
(staging / "report.html").write_text("half")
os.symlink("20240517T093000Z-abcdef12", out / f"{archive.TEMP_PREFIX}{archive.LATEST}-{leftovers.owner()}-{threading.get_ident()}")
scratch = tempfile.mkdtemp(prefix=f"{pdf_worker.SCRATCH_PREFIX}{leftovers.owner()}-")
Path(scratch, "font.otf").write_bytes(b"x")
print(os.getpid(), flush=True)  # ready: everything is made
sys.stdin.read()  # until killed, or told to end by end of file
"""


def _making_leftovers(out: Path, scratch: Path) -> subprocess.Popen[str]:
    """A process that made a staging folder, a temporary `latest` link and a worker folder, and waits."""
    process = subprocess.Popen(
        [sys.executable, "-c", LEFTOVER_SCRIPT, str(out)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ, "TMPDIR": str(scratch)},
    )  # fmt: skip
    assert process.stdout is not None
    assert process.stdout.readline().strip() == str(process.pid)  # waits for the marker, not for a time
    return process


def test_a_build_removes_what_killed_builds_left_and_nothing_of_live_ones(
    workbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    from reportgen import pdf_worker

    out, scratch = tmp_path / "out", tmp_path / "tmp"
    out.mkdir()
    scratch.mkdir()
    killed = _making_leftovers(out, scratch)
    killed_entries = {*os.listdir(out), *os.listdir(scratch)}
    assert len(killed_entries) == 3
    killed.kill()
    killed.wait()  # reaped: no process has its id any more
    live = _making_leftovers(out, scratch)
    try:
        live_entries = {*os.listdir(out), *os.listdir(scratch)} - killed_entries
        assert len(live_entries) == 3
        # Another machine's build in a shared --out (its process id means nothing here), and a name
        # without an owner: both stay.
        foreign = {f".tmp-20240517T093000Z-abcdef12-{killed.pid}@00000000-1-1", ".tmp-20240517T093000Z-abcdef12-4194304-1-1"}
        for name in foreign:
            (out / name).mkdir()
        monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # what TMPDIR would say to this process
        assert main(["build", str(workbook), "--out", str(out), "--quiet", "--no-pdf", *HTML_ONLY]) == 0
        left = {*os.listdir(out), *os.listdir(scratch)}
        assert not killed_entries & left
        assert live_entries | foreign <= left
        assert not [name for name in os.listdir(scratch) if pdf_worker.SCRATCH_PREFIX in name and name not in live_entries]
    finally:
        live.kill()
        live.wait()


# --- the build is done: printing where it went must not fail (issue 15) ---------------------------


def test_a_build_into_a_non_ascii_folder_is_reported_on_an_ascii_terminal(workbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    printed = io.TextIOWrapper(io.BytesIO(), encoding="ascii", newline="\n")
    monkeypatch.setattr(sys, "stdout", printed)
    out = tmp_path / "sortie-é"
    out.mkdir()
    assert main(["build", str(workbook), "--out", str(out), "--quiet", "--no-pdf", *HTML_ONLY]) == 0
    builds = [path for path in out.iterdir() if path.name != "latest"]
    assert len(builds) == 1  # a script retrying on a failed exit would have made a second one
    line = printed.buffer.getvalue().decode("ascii")
    assert line == str(builds[0]).replace("é", "\\xe9") + "\n"


def test_a_build_whose_reader_has_gone_still_succeeds(workbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["build", str(workbook), "--out", str(tmp_path), "--quiet", "--no-pdf", *HTML_ONLY]) == 0
    assert len([path for path in tmp_path.iterdir() if path.name != "latest"]) == 1


# --- --formats (issue 14) -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("formats", "said"),
    [
        ("html,word", "--formats takes a comma-separated list of html, pdf, docx, figures, not 'html,word' ('word')"),
        ("pdf,,html", "not 'pdf,,html' (an empty name)"),
        ("", "not '' (an empty name)"),
        ("html,docx,xlsx", "--formats takes a comma-separated list of html, pdf, docx, figures, not 'html,docx,xlsx' ('xlsx')"),
    ],
)
def test_bad_formats_are_a_usage_error_and_write_nothing(
    workbook: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], formats: str, said: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    assert main(["build", str(workbook), "--out", str(out), "--formats", formats]) == 2
    err = capsys.readouterr().err
    assert err.startswith("reportgen: ") and said in err and "nothing was written" in err and "Traceback" not in err
    assert list(out.iterdir()) == []


def test_formats_are_read_in_any_case_and_order() -> None:
    from reportgen.pipeline import DEFAULT_FORMATS, parse_formats

    assert parse_formats(" Figures, html ") == {"figures", "html"}
    assert parse_formats("html,pdf,docx,figures") == DEFAULT_FORMATS == {"html", "pdf", "docx", "figures"}


def test_formats_html_writes_neither_pdf_nor_journal_figures_and_no_pdf_still_works(workbook: Path, tmp_path: Path) -> None:
    assert main(["build", str(workbook), "--out", str(tmp_path / "a"), "--quiet", "--formats", "html,pdf", "--no-pdf"]) == 0
    written = {path.relative_to(tmp_path / "a" / "latest").as_posix() for path in (tmp_path / "a" / "latest").rglob("*")}
    assert "report.html" in written and "report.pdf" not in written and "report.docx" not in written
    assert not [name for name in written if name.startswith("figures/figure") and not name.endswith(".svg")]
    assert [name for name in written if name.endswith(".svg")]


def test_the_build_folder_is_the_last_line_printed(tmp_path: Path) -> None:
    """The README's promise: whatever else build says (warnings, the abstract's counts, on stderr), the last line
    of its output, the two streams together, is the build folder."""
    workbook = write_valid_workbook(tmp_path / "cohort.xlsx")
    done = subprocess.run(
        [sys.executable, "-m", "reportgen", "build", str(workbook), "--out", str(tmp_path / "out"), "--no-pdf", *HTML_ONLY],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    lines = done.stdout.strip().splitlines()
    assert any("characters with spaces" in line for line in lines[:-1])  # the counts were printed, before it
    assert Path(lines[-1]).parent == tmp_path / "out" and Path(lines[-1]).is_dir()
