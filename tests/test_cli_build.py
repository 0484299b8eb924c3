"""`reportgen build` through the command line: a bad --out, and Ctrl-C at every stage (issue 6).

tests/test_archive.py covers the archive itself (interrupts and a full disk inside write_build,
SIGTERM, concurrency); here the whole command runs in-process, as a user would run it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from workbooks import write_valid_workbook

from reportgen.cli import main


def snapshot(folder: Path) -> dict[str, bytes | str]:
    return {
        path.relative_to(folder).as_posix(): (os.readlink(path) if path.is_symlink() else path.read_bytes())
        for path in sorted(folder.rglob("*"))
        if path.is_symlink() or path.is_file()
    }


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


# --- Ctrl-C at any stage --------------------------------------------------------------------------

STAGES = [
    ("reportgen.workbook", "load_workbook"),
    ("reportgen.validate", "validate_workbook"),
    ("reportgen.derive", "derive"),
    ("reportgen.analysis", "analyse"),
    ("reportgen.figures", "make_figures"),
    ("reportgen.render", "render_report"),
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


# --- the build is done: printing where it went must not fail (issue 15) ---------------------------


def test_a_build_into_a_non_ascii_folder_is_reported_on_an_ascii_terminal(workbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    printed = io.TextIOWrapper(io.BytesIO(), encoding="ascii", newline="\n")
    monkeypatch.setattr(sys, "stdout", printed)
    out = tmp_path / "sortie-é"
    out.mkdir()
    assert main(["build", str(workbook), "--out", str(out), "--quiet", "--no-pdf"]) == 0
    builds = [path for path in out.iterdir() if path.name != "latest"]
    assert len(builds) == 1  # a script retrying on a failed exit would have made a second one
    line = printed.buffer.getvalue().decode("ascii")
    assert line == str(builds[0]).replace("é", "\\xe9") + "\n"


def test_a_build_whose_reader_has_gone_still_succeeds(workbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    class ClosedPipe(io.TextIOBase):
        def writable(self) -> bool:
            return True

        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["build", str(workbook), "--out", str(tmp_path), "--quiet", "--no-pdf"]) == 0
    assert len([path for path in tmp_path.iterdir() if path.name != "latest"]) == 1
