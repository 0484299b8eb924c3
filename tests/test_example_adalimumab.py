"""The second example (input/examples/adalimumab-tertiles.xlsx): regenerates identically, and builds into a report
about adalimumab by tertiles that never says tocilizumab or quartile."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reportgen.cli import main
from tools.adalimumab_example import BELOW_LLOQ_PATIENTS, DEFAULT_PATH, N_PATIENTS, OFF_SCHEDULE, write_adalimumab_example

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / DEFAULT_PATH


def test_the_committed_workbook_is_the_generators(tmp_path: Path) -> None:
    fresh = write_adalimumab_example(tmp_path / "again.xlsx")
    assert fresh.read_bytes() == COMMITTED.read_bytes(), "run `make examples` and commit the workbook"


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("adalimumab")
    assert main(["build", str(COMMITTED), "--out", str(out), "--no-pdf", "--quiet", "--formats", "html"]) == 0
    return (out / "latest").resolve()


def test_the_report_is_about_adalimumab_by_tertiles(build: Path) -> None:
    html = (build / "report.html").read_text(encoding="utf-8")
    abstract = (build / "abstract.txt").read_text(encoding="utf-8")
    for text in (html, abstract):
        assert "adalimumab" in text.lower() and re.search(r"\btertiles?\b", text)
        assert "tocilizumab" not in text.lower() and "TCZ" not in text
        assert not re.search(r"\bquartiles?\b", text, re.IGNORECASE)  # 'interquartile range' is a statistic's name
    assert "injection" in html and "month 6" in html
    assert "below the lower limit of quantification (LLOQ, 0.30 µg/mL" in html
    assert "Anti-drug antibodies positive" in html and "Anti-drug antibodies were tested in" in html


def test_its_results_record_the_design_the_lloq_and_the_antibodies(build: Path) -> None:
    results = json.loads((build / "results.json").read_text(encoding="utf-8"))
    design = results["design"]
    assert (design["drug"], design["administration"], design["grouping"]) == ("adalimumab", "injection", "tertiles")
    assert design["labels"] == ["T1", "T2", "T3"] and design["lloq"] == 0.3
    assert results["cohort"]["n_included"] == N_PATIENTS and results["cohort"]["follow_up_month"] == 6
    assert results["cohort"]["n_below_lloq"] == len(BELOW_LLOQ_PATIENTS)
    assert [s["n_below_lloq"] for s in results["strata"]] == [len(BELOW_LLOQ_PATIENTS), 0, 0]
    assert results["anti_drug_antibodies"] is not None
    # The visits a month early or late are placed at month 6 by the ±1-month window, each named in warnings.csv.
    assert results["cohort"]["n_placed_by_window"] == len(OFF_SCHEDULE)
    warnings = (build / "warnings.csv").read_text(encoding="utf-8")
    for number in OFF_SCHEDULE:
        assert f"A{number:03d}" in warnings
