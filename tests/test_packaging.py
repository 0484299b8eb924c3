"""The wheel carries the top-level templates/ and schemas/ folders, where reportgen.resources finds them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _data_files(folder: str) -> set[str]:
    base = ROOT / folder
    return {
        f"reportgen/_data/{folder}/{path.relative_to(base).as_posix()}"
        for path in base.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_the_wheel_contains_templates_and_schemas(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = tmp_path.glob("reportgen-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert "reportgen/_data/schemas/cohort-v1.yaml" in names
    assert _data_files("schemas") <= names
    assert _data_files("templates") <= names
    assert "reportgen/contract.py" in names and "reportgen/workbook.py" in names
