"""reportgen.archive and reportgen.verify: all-or-nothing build folders, the manifest, and verify.

Most tests write builds from hand-made files, without the pipeline; the end-to-end ones at the bottom
build input/cohort.xlsx (about 10 s per build).
"""

from __future__ import annotations

import errno
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import pytest

from reportgen import archive, verify
from reportgen.errors import BuildError, UsageError, VerificationFailed
from reportgen.model import BuildInfo, Problem, StudyOptions

BUILD_TIME = datetime(2024, 5, 17, 9, 30, tzinfo=timezone.utc)
WORKBOOK_BYTES = b"PK\x03\x04 a workbook, as far as the archive cares"
SHA = hashlib.sha256(WORKBOOK_BYTES).hexdigest()
INFO = BuildInfo(
    build_time=BUILD_TIME,
    version="0.1.0",
    source_name="cohort.xlsx",
    source_sha256=SHA,
    command_line=("reportgen", "build", "cohort.xlsx"),
    library_versions=(("python", "3.11.2"), ("weasyprint", "70.0")),
)
STUDY = StudyOptions(title="TCZ", published="published.yaml")
WARNINGS = (Problem("visits", 7, "crp_mg_l", "250", "CRP above 200 mg/L; check the unit", "warning"),)
FILES = {
    "results.json": b'{"n": 34}\n',
    "report.html": b"<!doctype html><title>r</title>\n",
    "abstract.txt": b"Background ...\n",
    "report.pdf": b"%PDF-1.7 pretend\n",
    "figures/figure1-activity.svg": b"<svg/>\n",
}
BUILD_ID = f"20240517T093000Z-{SHA[:8]}"


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "inputs"
    folder.mkdir()
    workbook = folder / "cohort.xlsx"
    workbook.write_bytes(WORKBOOK_BYTES)
    published = folder / "published.yaml"
    published.write_text("quartiles: {labels: [Q1, Q2, Q3, Q4]}\n")
    return workbook, published


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return archive.prepare_out_root(tmp_path / "output")


def write(out: Path, inputs: tuple[Path, Path], info: BuildInfo = INFO) -> Path:
    workbook, published = inputs
    return archive.write_build(
        out_root=out, workbook=workbook, info=info, study=STUDY, warnings=WARNINGS, files=FILES, published=published
    )


def snapshot(folder: Path) -> dict[str, bytes | str]:
    """Every entry under ``folder``: file bytes, or the target of a symlink."""
    return {
        path.relative_to(folder).as_posix(): (os.readlink(path) if path.is_symlink() else path.read_bytes())
        for path in sorted(folder.rglob("*"))
        if path.is_symlink() or path.is_file()
    }


# --- --out ------------------------------------------------------------------------------------


def test_a_missing_out_folder_is_created_by_the_build_not_before(tmp_path: Path, inputs: tuple[Path, Path]) -> None:
    out = archive.prepare_out_root(tmp_path / "new")
    assert out == (tmp_path / "new").resolve() and not out.exists()
    assert write(out, inputs).parent == out


def test_out_that_is_a_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="is a file, not a folder"):
        archive.prepare_out_root(tmp_path / "file")


def test_out_with_a_missing_parent_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="neither does its parent folder"):
        archive.prepare_out_root(tmp_path / "no" / "such")
    assert not (tmp_path / "no").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_out_is_a_usage_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(UsageError, match="is not writable"):
        archive.prepare_out_root(locked)
    with pytest.raises(UsageError, match="is not writable"):
        archive.prepare_out_root(locked / "new")


@pytest.mark.parametrize("inside", [BUILD_ID, "latest", f"{BUILD_ID}/figures", f"{BUILD_ID}/new"])
def test_out_inside_a_build_folder_is_refused_and_writes_nothing(
    out: Path, inputs: tuple[Path, Path], inside: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from reportgen.cli import main

    write(out, inputs)
    before = snapshot(out)
    assert main(["build", str(COHORT), "--out", str(out / inside), "--quiet"]) == 2
    assert snapshot(out) == before and not (out / BUILD_ID / "new").exists()
    assert archive.check_hashes(out / BUILD_ID)[1] == []
    err = capsys.readouterr().err
    assert f"is inside the build folder {out / BUILD_ID}" in err and f"such as {out}" in err
    # The folder that holds the builds, and a new one beside them, are still fine.
    assert archive.prepare_out_root(out) == out
    assert archive.prepare_out_root(out / "elsewhere") == out / "elsewhere"


@pytest.mark.parametrize("epoch", ["-30610224001", "-62135596800", "-99999999999999"])
def test_source_date_epoch_before_year_1000_is_refused_at_the_command_line(
    tmp_path: Path, epoch: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The build folder is named YYYYMMDDTHHMMSSZ-...: a three-digit year made a name verify could not read.
    from reportgen.cli import main

    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    assert main(["build", str(COHORT), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert not (tmp_path / "out").exists()
    err = capsys.readouterr().err
    assert f"giving a year from 1000 to 9999 (-30610224000 to 253402300799), not '{epoch}'" in err
    # The first second of year 1000 is accepted, and names a build folder with a four-digit year.
    from reportgen.pipeline import build_time_from_environment

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "-30610224000")
    assert archive.build_id(replace(INFO, build_time=build_time_from_environment(os.environ))) == f"10000101T000000Z-{SHA[:8]}"


# --- a finished build -------------------------------------------------------------------------


def test_a_build_folder_holds_everything_with_its_hashes(out: Path, inputs: tuple[Path, Path]) -> None:
    folder = write(out, inputs)
    assert folder == out / BUILD_ID
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{8}", folder.name)
    files = snapshot(folder)
    assert set(files) == {*FILES, "cohort.xlsx", "published.yaml", "manifest.json", "manifest.sha256"}
    assert files["cohort.xlsx"] == WORKBOOK_BYTES
    manifest = json.loads(files["manifest.json"])
    assert manifest["files"] == {
        name: hashlib.sha256(content).hexdigest() for name, content in files.items() if not name.startswith("manifest")
    }
    assert manifest["build_time"] == "2024-05-17T09:30:00Z"
    assert manifest["reportgen_version"] == "0.1.0"
    assert manifest["python_version"] == "3.11.2"
    assert manifest["library_versions"] == {"weasyprint": "70.0"}
    assert manifest["command_line"] == ["reportgen", "build", "cohort.xlsx"]
    assert manifest["study"]["published"] == "published.yaml"
    assert manifest["study"]["follow_up_month"] == 12  # defaults are recorded too
    assert manifest["warnings"][0]["rule"] == "CRP above 200 mg/L; check the unit"
    assert manifest["workbook"] == {"file": "cohort.xlsx", "sha256": SHA, "contract_version": 2}
    sidecar = files["manifest.sha256"]
    assert sidecar == f"{hashlib.sha256(files['manifest.json']).hexdigest()}  manifest.json\n".encode()
    assert archive.check_hashes(folder)[1] == []


def test_latest_points_at_the_newest_build(out: Path, inputs: tuple[Path, Path]) -> None:
    first = write(out, inputs)
    assert os.readlink(out / "latest") == first.name
    second = write(out, inputs, replace(INFO, build_time=datetime(2024, 6, 1, tzinfo=timezone.utc)))
    assert os.readlink(out / "latest") == second.name
    assert (out / "latest" / "manifest.json").is_file()
    assert not [path for path in out.iterdir() if path.name.startswith(".tmp-")]


def test_a_second_build_with_the_same_id_gets_a_suffix_and_leaves_the_first_alone(out: Path, inputs: tuple[Path, Path]) -> None:
    first = write(out, inputs)
    before = snapshot(first)
    second = write(out, inputs)
    third = write(out, inputs)
    assert (second.name, third.name) == (f"{BUILD_ID}-2", f"{BUILD_ID}-3")
    assert snapshot(first) == before


def test_the_workbook_changing_during_the_build_is_refused(out: Path, inputs: tuple[Path, Path]) -> None:
    inputs[0].write_bytes(WORKBOOK_BYTES + b"edited")
    with pytest.raises(BuildError, match="changed while the report was being built"):
        write(out, inputs)
    assert os.listdir(out) == []


@pytest.mark.parametrize("name", ["../escape.txt", "/etc/evil", "figures/../../x"])
def test_files_cannot_be_written_outside_the_build_folder(out: Path, inputs: tuple[Path, Path], name: str) -> None:
    with pytest.raises(BuildError, match="must stay inside the build folder"):
        archive.write_build(out_root=out, workbook=inputs[0], info=INFO, study=STUDY, warnings=(), files={name: b"x"})
    assert os.listdir(out) == []


# --- interrupted and failed builds ------------------------------------------------------------


def interrupt_on_call(n: int, real: Callable[..., object], error: BaseException, after: bool = False) -> Callable[..., object]:
    """``real``, except that its n-th call raises ``error`` (before doing anything, or after it is done)."""
    calls = {"count": 0}

    def wrapper(*args: object, **kwargs: object) -> object:
        calls["count"] += 1
        if calls["count"] == n and not after:
            raise error
        result = real(*args, **kwargs)
        if calls["count"] == n:
            raise error
        return result

    return wrapper


N_WRITES = len(FILES) + 4  # + workbook, published, manifest, manifest.sha256
# (function, which call, after it ran): every step of write_build up to the commit point.
STAGES = [
    *[("_write_file", n, False) for n in range(1, N_WRITES + 1)],
    ("_write_file", N_WRITES, True),
    ("_sync_tree", 1, False),
    ("_sync_tree", 1, True),
    ("_move_into_place", 1, False),
    ("_move_into_place", 1, True),  # the folder is in place under its final name, `latest` not yet swapped
    ("_point_latest_at", 1, False),
]


@pytest.mark.parametrize(("stage", "call", "after"), STAGES)
@pytest.mark.parametrize("error", [KeyboardInterrupt(), OSError(errno.ENOSPC, "No space left on device")], ids=["ctrl-c", "disk-full"])
def test_an_interrupted_build_leaves_nothing_and_changes_nothing(
    out: Path,
    inputs: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    stage: str,
    call: int,
    after: bool,
    error: BaseException,
) -> None:
    earlier = write(out, inputs, replace(INFO, build_time=datetime(2024, 1, 1, tzinfo=timezone.utc)))
    before = snapshot(out)
    monkeypatch.setattr(archive, stage, interrupt_on_call(call, getattr(archive, stage), error, after))
    expected = KeyboardInterrupt if isinstance(error, KeyboardInterrupt) else BuildError
    with pytest.raises(expected):
        write(out, inputs)
    assert snapshot(out) == before
    assert sorted(os.listdir(out)) == sorted([earlier.name, "latest"])
    assert os.readlink(out / "latest") == earlier.name


def test_a_full_disk_is_one_clear_sentence(out: Path, inputs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    full = OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(archive, "_write_file", interrupt_on_call(3, archive._write_file, full))
    with pytest.raises(BuildError, match=r"^the disk holding .* is full; nothing was written"):
        write(out, inputs)
    assert os.listdir(out) == []


def test_an_interrupt_after_latest_moved_keeps_the_finished_build(
    out: Path, inputs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `latest` pointing at the new folder is the commit point: from then on the build stands.
    monkeypatch.setattr(archive, "_point_latest_at", interrupt_on_call(1, archive._point_latest_at, KeyboardInterrupt(), after=True))
    with pytest.raises(KeyboardInterrupt):
        write(out, inputs)
    assert os.readlink(out / "latest") == BUILD_ID
    assert archive.check_hashes(out / BUILD_ID)[1] == []


def test_ctrl_c_during_the_commit_waits_for_it_without_the_command_lines_handler(
    out: Path, inputs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # reportgen used as a library: Python's own SIGINT handler; the commit blocks the signal until it is done.
    import signal

    # Python's own handler, whatever this process inherited: a shell starts background jobs with SIGINT ignored.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _commit_interrupted_by_ctrl_c(out, inputs, monkeypatch)
    finally:
        signal.signal(signal.SIGINT, previous)


def _commit_interrupted_by_ctrl_c(out: Path, inputs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    import signal

    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    real = archive._move_into_place

    def move_then_ctrl_c(*args: object) -> Path:
        moved = real(*args)
        signal.raise_signal(signal.SIGINT)
        return moved

    monkeypatch.setattr(archive, "_move_into_place", move_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        write(out, inputs)
    assert os.readlink(out / "latest") == BUILD_ID
    assert archive.check_hashes(out / BUILD_ID)[1] == []
    assert not [name for name in os.listdir(out) if name.startswith(".tmp-")]


# --- concurrent builds ------------------------------------------------------------------------


def _build_in_process(out: str, workbook: str, published: str) -> str:
    return str(write(Path(out), (Path(workbook), Path(published))))


def test_concurrent_builds_in_threads_do_not_collide(out: Path, inputs: tuple[Path, Path]) -> None:
    barrier = threading.Barrier(8)

    def build(_: int) -> Path:
        barrier.wait()
        return write(out, inputs)

    with ThreadPoolExecutor(8) as pool:
        folders = list(pool.map(build, range(8)))
    assert sorted(folder.name for folder in folders) == sorted([BUILD_ID, *(f"{BUILD_ID}-{n}" for n in range(2, 9))])
    for folder in folders:
        assert archive.check_hashes(folder)[1] == []
    assert os.readlink(out / "latest") in {folder.name for folder in folders}
    assert not [name for name in os.listdir(out) if name.startswith(".tmp-")]


def test_concurrent_builds_in_processes_do_not_collide(out: Path, inputs: tuple[Path, Path]) -> None:
    with ProcessPoolExecutor(4) as pool:
        folders = list(pool.map(_build_in_process, [str(out)] * 4, [str(inputs[0])] * 4, [str(inputs[1])] * 4))
    assert len(set(folders)) == 4
    for folder in folders:
        assert archive.check_hashes(Path(folder))[1] == []


# --- hash checks (verify's first half) --------------------------------------------------------

KINDS = ["cohort.xlsx", "published.yaml", "results.json", "report.html", "report.pdf", "figures/figure1-activity.svg", "abstract.txt", "manifest.json"]


def flip_one_byte(path: Path, offset: int = 5) -> None:
    content = bytearray(path.read_bytes())
    content[offset] ^= 0x01
    path.write_bytes(bytes(content))


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda line: ("1" if line[0] == "0" else "0") + line[1:], "manifest.json"),  # another valid hash
        (lambda line: "g" + line[1:], "manifest.sha256"),  # not a hash at all
        (lambda line: line.replace("manifest.json", "manifest.jsom"), "manifest.sha256"),
    ],
    ids=["other-hash", "not-hex", "file-name"],
)
def test_a_changed_sidecar_is_caught(out: Path, inputs: tuple[Path, Path], edit: Callable[[str], str], named: str) -> None:
    folder = write(out, inputs)
    sidecar = folder / "manifest.sha256"
    sidecar.write_text(edit(sidecar.read_text()))
    assert [finding.file for finding in archive.check_hashes(folder)[1]] == [named]


@pytest.mark.parametrize("name", KINDS)
def test_a_one_byte_change_in_any_file_is_caught(out: Path, inputs: tuple[Path, Path], name: str) -> None:
    folder = write(out, inputs)
    flip_one_byte(folder / name)
    findings = archive.check_hashes(folder)[1]
    assert {finding.file for finding in findings} == {name}
    assert "hash mismatch" in findings[0].how


def test_missing_and_extra_files_are_named(out: Path, inputs: tuple[Path, Path]) -> None:
    folder = write(out, inputs)
    (folder / "report.pdf").unlink()
    (folder / "figures" / "figure9-planted.svg").write_text("<svg/>")
    (folder / "manifest.sha256").unlink()
    found = {finding.sentence() for finding in archive.check_hashes(folder)[1]}
    assert found == {
        "manifest.sha256: missing",
        "report.pdf: missing",
        "figures/figure9-planted.svg: extra (present but not in the manifest)",
    }


def test_a_manifest_edited_together_with_its_sidecar_is_still_unreadable_if_broken(out: Path, inputs: tuple[Path, Path]) -> None:
    folder = write(out, inputs)
    (folder / "manifest.json").write_text("{not json")
    (folder / "manifest.sha256").write_text(f"{hashlib.sha256(b'{not json').hexdigest()}  manifest.json\n")
    manifest, findings = archive.check_hashes(folder)
    assert manifest is None
    assert [finding.file for finding in findings] == ["manifest.json"]


def test_verify_refuses_a_folder_that_is_not_a_build(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is not a build folder"):
        verify.verify_build(tmp_path)


def test_verify_names_every_finding_without_rebuilding_from_altered_inputs(out: Path, inputs: tuple[Path, Path]) -> None:
    folder = write(out, inputs)
    flip_one_byte(folder / "cohort.xlsx")
    flip_one_byte(folder / "report.html")
    with pytest.raises(VerificationFailed) as failure:
        verify.verify_build(folder)
    message = str(failure.value)
    assert "2 findings" in message
    assert "cohort.xlsx: hash mismatch" in message and "report.html: hash mismatch" in message


def test_a_template_folder_outside_the_build_is_refused_without_reading_it(
    out: Path, inputs: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "elsewhere"
    (outside / "sub").mkdir(parents=True)
    (outside / "sub" / "report.css").write_text("body {}")
    folder = write(out, inputs)
    forge(folder, "manifest.json", lambda text: text.replace(b'"templates": null', f'"templates": {{"folder": "{outside}", "sha256": "00"}}'.encode()))
    touched: list[str] = []
    for method in ("read_bytes", "rglob", "is_dir", "iterdir", "exists"):
        real = getattr(Path, method)

        def spy(self: Path, *args: object, _real: Callable[..., object] = real, **kwargs: object) -> object:
            if str(self).startswith(str(outside)):
                touched.append(str(self))
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(Path, method, spy)
    with pytest.raises(VerificationFailed) as failure:
        verify.verify_build(folder)
    assert touched == []
    assert f"manifest.json: it names the template folder '{outside}', outside the build folder; verify reads nothing" in str(failure.value)


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("workbook", {"file": "../inputs/cohort.xlsx", "sha256": SHA}, "the workbook '../inputs/cohort.xlsx'"),
        ("workbook", {"file": "/etc/passwd", "sha256": SHA}, "the workbook '/etc/passwd'"),
        ("published", "../inputs/published.yaml", "the published-numbers file '../inputs/published.yaml'"),
        ("published", "figures", "the published-numbers file 'figures'"),
    ],
)
def test_inputs_named_outside_the_build_are_refused(
    out: Path, inputs: tuple[Path, Path], key: str, value: object, named: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write(out, inputs)

    def edit(text: bytes) -> bytes:
        manifest = json.loads(text)
        manifest[key] = value
        return json.dumps(manifest).encode()

    forge(folder, "manifest.json", edit)
    monkeypatch.setattr(verify, "build", lambda request: pytest.fail(f"rebuilt from {request}"))
    with pytest.raises(VerificationFailed, match=f"manifest.json: it names {re.escape(named)}, which is not a file of this build folder"):
        verify.verify_build(folder)


# --- end to end: the real pipeline --------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
COHORT = ROOT / "input" / "cohort.xlsx"


def _build(out: Path, epoch: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    from reportgen.pipeline import BuildRequest, build, request_environment

    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    settings = request_environment(os.environ)  # as the command line reads it
    return build(BuildRequest(workbook=COHORT, out_root=out, command_line=("reportgen", "build", str(COHORT), "--out", str(out)), **settings))


@pytest.fixture(scope="module")
def fresh_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    monkeypatch = pytest.MonkeyPatch()
    try:
        return _build(tmp_path_factory.mktemp("e2e") / "output", "1715938200", monkeypatch)
    finally:
        monkeypatch.undo()


def test_two_builds_with_the_same_source_date_epoch_are_byte_identical(fresh_build: Path, tmp_path: Path) -> None:
    # Through the CLI in a fresh process with another hash seed: nothing may depend on either.
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1715938200", "PYTHONHASHSEED": "12345"}
    command = [sys.executable, "-m", "reportgen", "build", str(COHORT), "--out", str(tmp_path / "elsewhere"), "--quiet"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    second = Path(done.stdout.strip())
    first_files, second_files = snapshot(fresh_build), snapshot(second)
    deterministic = [name for name in first_files if not name.startswith("manifest")]
    assert "report.pdf" in deterministic and "report.docx" in deterministic
    assert any(name.startswith("figures/") for name in deterministic)
    from reportgen.figures import JOURNAL_FILE

    svg = [name for name in deterministic if name.startswith("figures/") and name.endswith(".svg")]
    assert len([name for name in deterministic if JOURNAL_FILE.fullmatch(name)]) == 3 * len(svg)  # PDF, TIFF, PNG each
    assert {name: first_files[name] for name in deterministic} == {name: second_files[name] for name in deterministic}


def test_the_pdf_of_a_real_build_is_pdf_a_3_with_its_sources(fresh_build: Path) -> None:
    import pikepdf

    with pikepdf.open(fresh_build / "report.pdf") as pdf:
        assert pdf.open_metadata().pdfa_status == "3A"
        attached = {name: spec.get_file().read_bytes() for name, spec in pdf.attachments.items()}
        relationships = {name: str(spec.obj.get("/AFRelationship")) for name, spec in pdf.attachments.items()}
    assert attached == {
        "cohort.xlsx": COHORT.read_bytes(),
        "results.json": (fresh_build / "results.json").read_bytes(),
        "report.docx": (fresh_build / "report.docx").read_bytes(),  # the Word version (issue 14)
    }
    assert relationships["report.docx"] == "/Alternative"


def test_verify_passes_on_a_fresh_build(fresh_build: Path) -> None:
    from reportgen.cli import main

    assert main(["verify", str(fresh_build)]) == 0


def copy_of(build: Path, tmp_path: Path) -> Path:
    """A copy of ``build`` to forge, under the same folder name."""
    copy = tmp_path / build.name
    shutil.copytree(build, copy, symlinks=True)
    return copy


def forge(folder: Path, name: str, edit: Callable[[bytes], bytes]) -> None:
    """Change a file and rewrite the manifest and its sidecar to match, as a forger would."""
    (folder / name).write_bytes(edit((folder / name).read_bytes()))
    manifest = json.loads((folder / "manifest.json").read_bytes())
    if name == "manifest.json":
        manifest = json.loads((folder / name).read_bytes())
    elif name in manifest["files"]:
        manifest["files"][name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    text = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()
    (folder / "manifest.json").write_bytes(text)
    (folder / "manifest.sha256").write_text(f"{hashlib.sha256(text).hexdigest()}  manifest.json\n")


def test_verify_rebuilds_to_catch_files_forged_with_their_manifest(
    fresh_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = copy_of(fresh_build, tmp_path)
    offset = (copy / "report.html").read_bytes().index(b"</body>")
    forge(copy, "report.html", lambda html: html[:offset] + b"forged text" + html[offset:])
    forge(copy, "manifest.json", lambda text: text.replace(b'"follow_up_month": 12', b'"follow_up_month": 6'))
    forge(copy, "manifest.json", lambda text: re.sub(rb'"weasyprint": "[^"]*"', b'"weasyprint": "69.0"', text))
    assert archive.check_hashes(copy)[1] == []  # the forgery is consistent...
    with pytest.raises(VerificationFailed) as failure:
        verify.verify_build(copy)
    message = str(failure.value)  # ...but not reproducible
    assert f"report.html: rebuild differs at byte {offset}" in message
    assert "manifest.json: 'study' differs from the rebuild's" in message
    # report.pdf is untouched: compared byte for byte with its rebuild and identical, whatever the manifest says
    # of the versions (before, a changed version string alone stopped the comparison, with a note).
    assert "report.pdf" not in message and "report.pdf" not in capsys.readouterr().err


@pytest.mark.parametrize(
    "name",
    ["cohort.xlsx", "results.json", "report.html", "report.pdf", "report.docx", "figure", "abstract.txt", "warnings.csv",
     "carried-forward.csv", "manifest.json"],
)
def test_verify_fails_naming_the_file_after_a_one_byte_change(
    fresh_build: Path, tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from reportgen.cli import main

    copy = copy_of(fresh_build, tmp_path)
    if name == "figure":
        name = sorted(path.relative_to(copy).as_posix() for path in (copy / "figures").glob("*.svg"))[0]
    flip_one_byte(copy / name, offset=(copy / name).stat().st_size // 2)
    assert main(["verify", str(copy)]) == 1
    assert f"{name}: hash mismatch" in capsys.readouterr().err


SIGTERM_SCRIPT = """
import signal, sys, time
from pathlib import Path
from reportgen import archive, interrupts
sys.path.insert(0, {tests!r})
from test_archive import INFO, write

real = archive._write_file

def slow_write(path, content):
    real(path, content)
    print("writing", flush=True)
    time.sleep(0.5)

archive._write_file = slow_write
with interrupts.handled():  # SIGTERM and SIGINT as the command line handles them
    try:
        write(Path({out!r}), (Path({workbook!r}), Path({published!r})))
    except KeyboardInterrupt:
        sys.exit(130)
"""


def test_sigterm_mid_write_leaves_nothing(out: Path, inputs: tuple[Path, Path]) -> None:
    import signal

    script = SIGTERM_SCRIPT.format(tests=str(Path(__file__).parent), out=str(out), workbook=str(inputs[0]), published=str(inputs[1]))
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stdout.readline() == "writing\n"
    assert [name for name in os.listdir(out) if name.startswith(".tmp-")]  # caught in the act
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 130
    assert os.listdir(out) == []


# --- end to end: a forged PDF, and PDFs from other library versions ------------------------------


def forged_pdf(pdf_bytes: bytes, results: bytes | None = None) -> bytes:
    """report.pdf with text drawn over page 1 (its attachments kept), and results.json replaced if given."""
    import io

    import pikepdf

    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        pdf.pages[0].contents_add(pdf.make_stream(b"BT /F1 24 Tf 72 72 Td (All patients in remission) Tj ET"))
        if results is not None:
            pdf.attachments["results.json"] = pikepdf.AttachedFileSpec(pdf, results, mime_type="application/json")
        buffer = io.BytesIO()
        pdf.save(buffer)
    return buffer.getvalue()


def resaved_pdf(pdf_bytes: bytes) -> bytes:
    """report.pdf rewritten by another writer (pikepdf): other bytes, the same pages, text and attachments."""
    import io

    import pikepdf

    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        buffer = io.BytesIO()
        pdf.save(buffer)
    return buffer.getvalue()


def set_version(manifest: bytes, which: str, value: str) -> bytes:
    record = json.loads(manifest)
    if which == "python_version":
        record["python_version"] = value
    else:
        record["library_versions"][which] = value
    return json.dumps(record).encode()


@pytest.mark.parametrize(
    ("which", "claimed"), [("python_version", "3.10.99"), pytest.param("weasyprint", "69.0", marks=pytest.mark.slow)]
)
def test_a_pdf_with_other_bytes_and_a_changed_version_string_is_not_fully_verified(
    fresh_build: Path, tmp_path: Path, which: str, claimed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # As a PDF made by other library versions: its bytes differ from the rebuild's, its text and attachments do not.
    from reportgen.cli import main

    copy = copy_of(fresh_build, tmp_path)
    forge(copy, "report.pdf", resaved_pdf)
    forge(copy, "manifest.json", lambda text: set_version(text, which, claimed))
    assert archive.check_hashes(copy)[1] == []
    assert main(["verify", str(copy)]) == 3
    captured = capsys.readouterr()
    assert "verified" not in captured.out
    assert f"{copy} is not fully verified: every other file was rebuilt identically, but" in captured.err
    if which == "python_version":
        installed = sys.version.split()[0]
        expected = f"Python {claimed} (installed: {installed})"
        how = f"run reportgen verify again with Python {claimed}."
    else:
        installed = importlib.metadata.version("weasyprint")
        expected = f"weasyprint {claimed} (installed: {installed})"
        how = f"run reportgen verify again with 'pip install weasyprint=={claimed}'."
    assert f"report.pdf differs from its rebuild, and was built with other versions than those installed: {expected}" in captured.err
    assert "Its attached files (cohort.xlsx, report.docx, results.json) are identical to the rebuilt PDF's." in captured.err
    assert "Its text is identical to the rebuilt PDF's, white space and hyphens aside." in captured.err
    assert how in captured.err


@pytest.mark.slow  # renders or rebuilds the example again; runs with `make test-all`
def test_a_pdf_whose_text_differs_fails_whatever_the_versions(
    fresh_build: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A real PDF, rendered from the build's HTML with one number changed: its attachments are the build's own.
    from reportgen import pdf as renderer
    from reportgen.cli import main

    render = renderer.render_pdf

    def with_a_changed_number(html: str, **arguments: object) -> bytes:
        assert html.count("34 RA patients") == 1
        return render(html.replace("34 RA patients", "43 RA patients"), **arguments)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setenv("REPORTGEN_PDF_WORKER", "0")  # render in this process, through the patched function
        patch.setattr(renderer, "render_pdf", with_a_changed_number)
        forger = _build(tmp_path / "forger", "1715938200", patch)
    copy = copy_of(fresh_build, tmp_path)
    forge(copy, "report.pdf", lambda _: (forger / "report.pdf").read_bytes())
    forge(copy, "manifest.json", lambda text: set_version(text, "weasyprint", "69.0"))
    assert verify.embedded_files((copy / "report.pdf").read_bytes()) == verify.embedded_files((fresh_build / "report.pdf").read_bytes())
    assert main(["verify", str(copy)]) == 1
    err = capsys.readouterr().err
    finding = next(line for line in err.splitlines() if line.startswith("  report.pdf: its text differs"))
    assert finding.startswith("  report.pdf: its text differs from the rebuilt PDF's (white space and hyphens aside): archived \u201c")
    archived, rebuilt = finding.split("\u201d, rebuilt \u201c")
    assert "43 RA patients" in archived and "34 RA patients" in rebuilt  # an excerpt around the first difference
    assert "Its text was compared with the rebuilt PDF's." in err
    assert "Its attached files (cohort.xlsx, report.docx, results.json) are identical to the rebuilt PDF's." in err
    assert "pip install weasyprint==69.0" in err


@pytest.mark.slow  # renders or rebuilds the example again; runs with `make test-all`
def test_a_pdf_with_text_drawn_over_a_page_fails_whatever_the_versions(
    fresh_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from reportgen.cli import main

    copy = copy_of(fresh_build, tmp_path)
    forge(copy, "report.pdf", forged_pdf)
    forge(copy, "manifest.json", lambda text: set_version(text, "python_version", "3.10.99"))
    assert main(["verify", str(copy)]) == 1
    err = capsys.readouterr().err
    assert "report.pdf: its text differs from the rebuilt PDF's (white space and hyphens aside)" in err
    assert "Its attached files (cohort.xlsx, report.docx, results.json) are identical to the rebuilt PDF's." in err


@pytest.mark.slow  # renders or rebuilds the example again; runs with `make test-all`
def test_a_forged_pdf_whose_attached_results_differ_fails_whatever_the_versions(
    fresh_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from reportgen.cli import main

    copy = copy_of(fresh_build, tmp_path)
    results = (copy / "results.json").read_bytes().replace(b'"n_included": 34', b'"n_included": 43')
    forge(copy, "report.pdf", lambda pdf: forged_pdf(pdf, results=results))
    forge(copy, "manifest.json", lambda text: set_version(text, "weasyprint", "69.0"))
    assert main(["verify", str(copy)]) == 1
    err = capsys.readouterr().err
    assert "report.pdf: its attached files differ from the rebuilt PDF's (the rebuilt PDF attaches results.json," in err
    assert "pip install weasyprint==69.0" in err  # what would still be needed to check the rest of the PDF


def test_the_pdf_attachment_reader_finds_what_pikepdf_finds(fresh_build: Path) -> None:
    import pikepdf

    pdf_bytes = (fresh_build / "report.pdf").read_bytes()
    with pikepdf.open(fresh_build / "report.pdf") as pdf:
        expected = sorted(spec.get_file().read_bytes() for spec in pdf.attachments.values())
    assert sorted(verify.embedded_files(pdf_bytes) or []) == expected
    assert sorted(verify.embedded_files(forged_pdf(pdf_bytes)) or []) == expected  # as pikepdf rewrites it, too
    assert verify.embedded_files(b"%PDF-1.7\n1 0 obj\n<</Type /EmbeddedFile/Length 3 0 R>>\nstream\nabc") is None


def test_the_pdf_attachment_reader_finds_files_attached_to_a_page_too(fresh_build: Path) -> None:
    import io

    import pikepdf

    with pikepdf.open(fresh_build / "report.pdf") as pdf:
        expected = sorted([*(spec.get_file().read_bytes() for spec in pdf.attachments.values()), b"smuggled"])
        spec = pikepdf.AttachedFileSpec(pdf, b"smuggled", filename="note.txt")
        annotation = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.FileAttachment, Rect=[0, 0, 9, 9], FS=spec.obj)
        pdf.pages[0].Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(annotation)]))
        buffer = io.BytesIO()
        pdf.save(buffer)
    assert sorted(verify.embedded_files(buffer.getvalue()) or []) == expected


@pytest.mark.slow  # renders or rebuilds the example again; runs with `make test-all`
def test_a_build_with_custom_templates_keeps_a_copy_and_verifies_without_the_original(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reportgen.cli import main

    templates = tmp_path / "my-templates"
    (templates / "partials").mkdir(parents=True)
    (templates / "report.html.j2").write_text("<!doctype html><title>t</title><p>{{ report.title.title }}</p>{% include 'partials/x.j2' %}\n")
    (templates / "partials" / "x.j2").write_text("<p>custom</p>\n")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1715938200")
    out = tmp_path / "out"
    assert main(["build", str(COHORT), "--out", str(out), "--templates", str(templates), "--quiet"]) == 0
    folder = (out / "latest").resolve()
    manifest = json.loads((folder / "manifest.json").read_bytes())
    assert manifest["templates"]["folder"] == "templates"
    assert (folder / "templates" / "partials" / "x.j2").read_bytes() == b"<p>custom</p>\n"
    assert {"templates/report.html.j2", "templates/partials/x.j2"} <= set(manifest["files"])
    shutil.rmtree(templates)  # verify needs only the build folder
    assert main(["verify", str(folder)]) == 0


# --- the journal figure files (issue 14) --------------------------------------------------------------


def _spoil_png(content: bytes) -> bytes:
    return content[:-40] + bytes(40)


def test_verify_compares_the_journal_figure_files_with_their_rebuild(fresh_build: Path, tmp_path: Path) -> None:
    copy = copy_of(fresh_build, tmp_path)
    forge(copy, "figures/figure2.png", _spoil_png)
    with pytest.raises(VerificationFailed) as failure:
        verify.verify_build(copy)
    assert "(1 finding):\n  figures/figure2.png: rebuild differs at byte " in str(failure.value)


def _rezipped(content: bytes, replace_text: tuple[bytes, bytes] | None = None) -> bytes:
    """A Word file written again (stored, not deflated: other bytes), its body's text changed if asked."""
    import io
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            data = source.read(info)
            if replace_text is not None and info.filename == "word/document.xml":
                data = data.replace(*replace_text)
            target.writestr(info.filename, data)
    return buffer.getvalue()


def _other_python_docx(text: bytes) -> bytes:
    return re.sub(rb'"python-docx": "[^"]*"', b'"python-docx": "0.8.11"', text)


def test_a_word_file_made_with_another_python_docx_is_not_fully_verified(fresh_build: Path, tmp_path: Path) -> None:
    from reportgen.errors import VerificationIncomplete

    copy = copy_of(fresh_build, tmp_path)
    forge(copy, "report.docx", _rezipped)
    with pytest.raises(VerificationFailed) as failure:  # the recorded versions: other bytes are a mismatch
        verify.verify_build(copy)
    assert "report.docx: rebuild differs at byte" in str(failure.value)
    forge(copy, "manifest.json", _other_python_docx)
    with pytest.raises(VerificationIncomplete) as incomplete:
        verify.verify_build(copy)
    message = str(incomplete.value)
    installed = importlib.metadata.version("python-docx")
    assert (
        "report.docx differs from its rebuild, and was built with other versions than those installed: "
        f"python-docx 0.8.11 (installed: {installed})"
    ) in message
    assert "Its text is identical to the rebuilt Word file's, white space and hyphens aside." in message
    assert "'pip install python-docx==0.8.11'" in message and "report.pdf" not in message


def test_a_word_file_whose_text_differs_fails_whatever_the_versions(fresh_build: Path, tmp_path: Path) -> None:
    copy = copy_of(fresh_build, tmp_path)
    forge(copy, "report.docx", lambda content: _rezipped(content, (b">n = 34<", b">n = 43<")))
    forge(copy, "manifest.json", _other_python_docx)
    with pytest.raises(VerificationFailed) as failure:
        verify.verify_build(copy)
    message = str(failure.value)
    assert "report.docx: its text differs from the rebuilt Word file's (white space and hyphens aside)" in message
    assert "n = 43" in message and "n = 34" in message


@pytest.mark.slow  # renders or rebuilds the example again; runs with `make test-all`
def test_journal_figure_files_made_with_another_matplotlib_are_not_fully_verified(fresh_build: Path, tmp_path: Path) -> None:
    from reportgen.errors import VerificationIncomplete

    copy = copy_of(fresh_build, tmp_path)
    forge(copy, "figures/figure2.png", _spoil_png)
    forge(copy, "manifest.json", lambda text: re.sub(rb'"matplotlib": "[^"]*"', b'"matplotlib": "3.0.0"', text))
    installed = importlib.metadata.version("matplotlib")
    with pytest.raises(VerificationIncomplete) as failure:
        verify.verify_build(copy)
    message = str(failure.value)
    assert f"figures/figure2.png differs from its rebuild, and was built with other versions than those installed: matplotlib 3.0.0 (installed: {installed})" in message
    assert "'pip install matplotlib==3.0.0'" in message and "report.pdf" not in message
