"""``reportgen validate`` and ``reportgen template`` as a user runs them: exit codes, messages, nothing written."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from streams import ClosedPipe
from workbooks import DESIGN, valid_rows, write_valid_workbook, write_workbook

from reportgen.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_a_valid_workbook(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_valid_workbook(tmp_path / "cohort.xlsx", study=DESIGN)
    code, out, err = _run(capsys, "validate", str(path))
    assert code == 0
    assert out.strip() == f"{path}: valid (8 patients, 37 visits, 0 warnings)"
    assert err == ""


def test_warnings_do_not_fail_validation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    patients, visits = valid_rows()
    visits[0]["esr_mm_h"] = 130
    path = write_workbook(tmp_path / "cohort.xlsx", patients=patients, visits=visits, study=DESIGN)
    code, out, err = _run(capsys, "validate", str(path))
    assert code == 0 and "1 warnings" in out
    assert "warning  visits  2    esr_mm_h  130" in err


def test_an_invalid_workbook_prints_a_table_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    patients, visits = valid_rows()
    visits[5]["tjc28"] = "abc"
    patients[2]["patient_id"] = "002"
    path = write_workbook(tmp_path / "cohort.xlsx", patients=patients, visits=visits)
    before = sorted(tmp_path.iterdir())
    code, out, err = _run(capsys, "validate", str(path))
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert lines[0].split() == ["sheet", "row", "column", "value", "rule"]
    assert any(line.split()[:5] == ["ERROR", "visits", "7", "tjc28", "'abc'"] for line in lines)
    assert lines[-1].startswith("reportgen: the workbook has") and lines[-1].endswith("nothing was written.")
    assert sorted(tmp_path.iterdir()) == before


def test_not_a_workbook_is_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cohort.xlsx"
    path.write_text("patient_id,sex\n001,F\n")
    code, out, err = _run(capsys, "validate", str(path))
    assert code == 1
    assert err.strip().splitlines() == [
        "reportgen: cohort.xlsx is a text or CSV file, not an .xlsx workbook; open it in Excel and save it as .xlsx (Excel Workbook)"
    ]


def test_a_missing_sheet_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_workbook(tmp_path / "cohort.xlsx", patients=valid_rows().patients)
    code, _, err = _run(capsys, "validate", str(path))
    assert code == 1 and "the workbook has no sheet named visits" in err


def test_thousands_of_problems_are_summarised(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    patients, visits = valid_rows()
    many = [dict(visits[0], month=month % 121, patient_id=f"{month:05d}", tjc28="x") for month in range(300)]
    path = write_workbook(tmp_path / "cohort.xlsx", patients=patients, visits=visits + many, study=DESIGN)
    code, _, err = _run(capsys, "validate", str(path))
    assert code == 1
    assert "... and 400 more:" in err
    assert "x ERROR in sheet visits, column tjc28: tjc28 must be a whole number from 0 to 28" in err


def test_template_writes_a_workbook_and_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "new.xlsx"
    assert _run(capsys, "template", str(path))[0] == 0
    assert path.stat().st_size > 0
    code, _, err = _run(capsys, "template", str(path))
    assert code == 2 and "already exists" in err


def _python(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}
    )


def test_validation_cannot_be_switched_off_from_the_environment(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    visits[0]["tjc28"] = 99
    path = write_workbook(tmp_path / "cohort.xlsx", patients=patients, visits=visits)
    switched_off = {"PANDERA_VALIDATION_ENABLED": "False", "PANDERA_VALIDATION_DEPTH": "SCHEMA_ONLY"}
    result = _python("-m", "reportgen", "validate", str(path), env=switched_off)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "tjc28 must be a whole number from 0 to 28" in result.stderr


def test_help_answers_without_heavy_imports() -> None:
    result = _python("-X", "importtime", "-m", "reportgen", "--help")
    assert result.returncode == 0 and "validate" in result.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert not imported & {"pandas", "numpy", "scipy", "matplotlib", "weasyprint", "pandera", "python_calamine", "xlsxwriter"}


# --- a terminal that cannot print the text, a reader that has gone, text that would drive the terminal (issue 15)


def _ascii_terminal(monkeypatch: pytest.MonkeyPatch) -> tuple[io.TextIOWrapper, io.TextIOWrapper]:
    """stdout and stderr as under PYTHONIOENCODING=ascii; read back with .buffer.getvalue()."""
    out, err = (io.TextIOWrapper(io.BytesIO(), encoding="ascii", newline="\n") for _ in range(2))
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    return out, err


def test_non_ascii_file_names_are_printed_on_an_ascii_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out, err = _ascii_terminal(monkeypatch)
    workbook = write_valid_workbook(tmp_path / "données.xlsx", study=DESIGN)
    assert main(["validate", str(workbook)]) == 0
    assert main(["template", str(tmp_path / "modèle.xlsx")]) == 0
    assert (tmp_path / "modèle.xlsx").stat().st_size > 0
    assert main(["validate", str(tmp_path / "absente-é.xlsx")]) == 1
    printed, complaints = out.buffer.getvalue().decode("ascii"), err.buffer.getvalue().decode("ascii")
    assert "donn\\xe9es.xlsx: valid (8 patients, 37 visits, 0 warnings)" in printed
    assert "wrote an empty cohort workbook to" in printed and "mod\\xe8le.xlsx" in printed
    assert complaints.startswith("reportgen: ") and "absente-\\xe9.xlsx" in complaints and "Traceback" not in complaints


def test_a_closed_stdout_does_not_fail_the_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["validate", str(write_valid_workbook(tmp_path / "cohort.xlsx"))]) == 0


def test_a_real_process_under_ascii_and_into_a_closed_pipe(tmp_path: Path) -> None:
    workbook = write_valid_workbook(tmp_path / "données.xlsx", study=DESIGN)
    result = _python("-m", "reportgen", "validate", str(workbook), env={"PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("donn\\xe9es.xlsx: valid (8 patients, 37 visits, 0 warnings)\n") and result.stderr == ""
    # `reportgen validate ... | true`: the reader is gone before anything is printed
    process = subprocess.Popen(
        [sys.executable, "-m", "reportgen", "validate", str(workbook)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    complaints = process.stderr.read().decode()
    assert process.wait(timeout=120) == 0, complaints
    assert complaints == ""


ESCAPES = "\x1b]0;pwned\x07\x1b[2Jall checks passed"


def _without_controls(text: str) -> None:
    assert not [char for char in text if (ord(char) < 0x20 and char != "\n") or 0x7F <= ord(char) < 0xA0 or char == "\u202e"], repr(text)


def test_workbook_text_cannot_drive_the_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    patients, visits = valid_rows()
    visits[0][ESCAPES] = 1  # an extra column: a warning, printed by validate
    path = write_workbook(tmp_path / "cohort.xlsx", patients=patients, visits=visits, study=DESIGN)
    code, out, err = _run(capsys, "validate", str(path))
    assert code == 0
    _without_controls(out + err)
    assert "warning  visits  1    \\x1b]0;pwned\\x07\\x1b[2Jall checks passed" in err
    assert "the column \\x1b]0;pwned\\x07\\x1b[2Jall checks passed is not part of the cohort workbook" in err

    patients, visits = valid_rows()
    for row in (*patients, *visits):
        row["patient_id"] = row["patient_id"].replace("001", "001\u202e")
    visits[0]["tjc28"] = "\u202eabc"
    path = write_workbook(tmp_path / "\u202exslx.exe\x1b[2J.xlsx", patients=patients, visits=visits, study={"titel": "x", **DESIGN})
    code, out, err = _run(capsys, "validate", str(path))
    assert code == 1
    _without_controls(out + err)
    assert "ERROR  visits  2    tjc28   '\\u202eabc'" in err

    code, out, err = _run(capsys, "validate", str(tmp_path / f"missing{ESCAPES}.xlsx"))
    assert code == 1
    _without_controls(out + err)
    assert "missing\\x1b]0;pwned\\x07\\x1b[2Jall checks passed.xlsx" in err
