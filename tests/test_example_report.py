"""The example report end to end, as README command 1 makes it: what a reader finds in the PDF and HTML."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pikepdf
import pytest

from reportgen.cli import main

ROOT = Path(__file__).resolve().parent.parent
COHORT = ROOT / "input" / "cohort.xlsx"
# Pinned after looking at every page (pdftoppm -png -r 60); a change here means the layout moved.
EXPECTED_PAGES = 10


@pytest.fixture(scope="module")
def build_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("example") / "output"
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1715938200")
    try:
        assert main(["build", str(COHORT), "--out", str(out), "--quiet"]) == 0
    finally:
        monkeypatch.undo()
    (folder,) = [path for path in out.iterdir() if path.is_dir() and not path.is_symlink()]
    return folder


@pytest.fixture(scope="module")
def pdf_text(build_folder: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed; `make test` installs it")
    result = subprocess.run(["pdftotext", "-layout", str(build_folder / "report.pdf"), "-"], capture_output=True, check=True)
    return result.stdout.decode("utf-8")


def test_build_folder_is_named_by_time_and_input_hash(build_folder: Path) -> None:
    assert re.fullmatch(r"20240517T093000Z-[0-9a-f]{8}", build_folder.name)
    assert (build_folder.parent / "latest").resolve() == build_folder.resolve()
    for name in ("report.html", "report.pdf", "results.json", "abstract.txt", "manifest.json", "cohort.xlsx"):
        assert (build_folder / name).is_file(), name
    assert sorted(path.name for path in (build_folder / "figures").glob("*.svg")) and len(list((build_folder / "figures").glob("*.svg"))) == 3


def test_pdf_has_every_section_in_reading_order(pdf_text: str) -> None:
    # The abstract repeats "Methods", "Results", "Conclusions", so each heading is looked for after the previous one.
    headings = ["Abstract", "Background", "Objectives", "Methods", "Results", "Conclusions",
                "Patients and follow-up", "Disease-activity indices", "Trough-level quartiles", "Statistical analysis",
                "Table 1.", "Table 2.", "Table 3.", "Figure 1.", "Figure 2.", "Figure 3.", "Conclusions",
                "Published vs reproduced", "Appendix", "Patients carried forward", "Software"]
    position = 0
    for heading in headings:
        found = pdf_text.find(heading, position)
        assert found >= 0, f"{heading!r} missing after position {position}"
        position = found + len(heading)


def test_pdf_shows_the_abstracts_headline_numbers(pdf_text: str) -> None:
    flat = re.sub(r"\s+", " ", pdf_text.replace("\u00a0", " "))
    assert "Q1 8 (24.2%); Q2 7 (21.2%); Q3 8 (24.2%); Q4 10 (30.3%)" in flat
    assert "Q1 4.46 ± 1.53" in flat  # printed in the abstract as 4,46 ± 1,5
    assert "none 4/1/1/0; moderate 3/0/4/1; good 1/6/3/9 (p = 0.006)" in flat


def test_pdf_page_count_is_stable_and_every_font_is_embedded(build_folder: Path) -> None:
    with pikepdf.open(build_folder / "report.pdf") as pdf:
        assert len(pdf.pages) == EXPECTED_PAGES
        for page in pdf.pages:
            for font in page.Resources.get("/Font", {}).values():
                descendants = font.get("/DescendantFonts", [font])
                for part in descendants:
                    descriptor = part.get("/FontDescriptor")
                    assert descriptor is not None and any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))


def test_abstract_txt_is_within_the_limit_and_matches_the_report(build_folder: Path) -> None:
    abstract = (build_folder / "abstract.txt").read_text(encoding="utf-8")
    results = json.loads((build_folder / "results.json").read_text(encoding="utf-8"))
    assert results["cohort"] == {"n_included": 34, "n_analysed": 33, "n_locf": 5, "n_no_level": 1, "follow_up_month": 12}
    body = abstract.split("\n", 1)[1]  # the first line is the title
    assert len(body.strip()) <= 3600
    for heading in ("Background:", "Objectives:", "Methods:", "Results:", "Conclusions:"):
        assert heading in abstract
