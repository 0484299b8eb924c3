"""The HTML report in headless Chromium: loads with no failed request and paints a non-blank page."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from report_fixtures import make_derived, make_info, make_published, make_results, make_warnings

from reportgen.figures import make_figures
from reportgen.formatting import Formatter
from reportgen.exporters.html import render_report

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="headless Chromium not installed (apt-get install chromium)"),
]


def _chromium(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        *arguments,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    results, derived = make_results(), make_derived()
    formatter = Formatter(".")
    report = render_report(
        results=results,
        figures=make_figures(derived, results, formatter),
        published=make_published(),
        info=make_info(),
        warnings=make_warnings(),
        formatter=formatter,
        templates=None,
    )
    path = tmp_path_factory.mktemp("browser") / "report.html"
    path.write_text(report.html, encoding="utf-8")
    return path


def test_loads_without_any_failed_request(report_file: Path, tmp_path: Path) -> None:
    result = _chromium(tmp_path, "--dump-dom", report_file.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Table 1." in result.stdout and "<svg" in result.stdout
    log = result.stderr
    for marker in ("net::ERR", "Failed to load resource", "Refused to load", "Content Security Policy", "OTS parsing error"):
        assert marker not in log, [line for line in log.splitlines() if marker in line][:5]


def test_renders_a_non_blank_page(report_file: Path, tmp_path: Path) -> None:
    from PIL import Image, ImageStat

    shot = tmp_path / "shot.png"
    result = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1000,1400", report_file.as_uri())
    assert shot.exists(), result.stderr[-2000:]
    grey = Image.open(shot).convert("L")
    assert ImageStat.Stat(grey).stddev[0] > 20  # text and rules on a page, not a flat colour
    dark = sum(grey.histogram()[:100])
    assert dark > 2000  # enough dark pixels to be text
