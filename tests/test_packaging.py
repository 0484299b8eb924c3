"""The wheel carries the top-level templates/ and schemas/ folders, where reportgen.resources finds them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

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
    # The example generator is a developer tool beside the package, not part of it.
    assert not any(name.startswith("tools/") or name.endswith("/example.py") for name in names)


def test_the_package_never_imports_the_developer_tools() -> None:
    import re

    for path in (ROOT / "reportgen").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import)\s+(tools|bench|tests)\b", text, re.M), path


@pytest.mark.slow  # builds and installs a wheel; runs with `make test-all`
def test_the_installed_wheel_builds_a_report_from_any_folder(tmp_path: Path) -> None:
    """A non-editable install finds its templates and schemas without the checkout."""
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(wheels), str(ROOT)],
        capture_output=True, check=True, timeout=300,
    )
    (wheel,) = wheels.glob("reportgen-*.whl")
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target", str(target), str(wheel)],
        capture_output=True, check=True, timeout=300,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for name in ("cohort.xlsx", "published.yaml"):  # the study sheet names published.yaml beside the workbook
        (elsewhere / name).write_bytes((ROOT / "input" / name).read_bytes())
    # The installed copy comes first on the path, ahead of the checkout's editable install.
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin", "SOURCE_DATE_EPOCH": "1715938200"}
    result = subprocess.run(
        [sys.executable, "-c",
         "import reportgen.resources as r, sys; assert str(r.templates_dir()).startswith(sys.argv[1]); "
         "from reportgen.cli import main; sys.exit(main(['build', 'cohort.xlsx', '--out', 'out', '--quiet', '--no-pdf']))",
         str(target)],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (folder,) = [path for path in (elsewhere / "out").iterdir() if not path.is_symlink()]
    assert (folder / "report.html").stat().st_size > 10_000 and (folder / "results.json").is_file()
