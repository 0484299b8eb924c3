"""The benchmark harness still runs: ``python -m bench --sizes 34 --quick`` on the example workbook.

Slow (it builds the example report and the floor PDF in fresh processes), so only with ``-m slow``.
It checks that every measurement was taken, not that the targets are met: those are benchmarks.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_bench_runs_at_example_size(tmp_path: Path) -> None:
    results_path = tmp_path / "latest.json"
    finished = subprocess.run(
        [sys.executable, "-m", "bench", "--sizes", "34", "--quick", "--json", str(results_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "Targets (issue 7)" in finished.stdout

    results = json.loads(results_path.read_text())
    (build,) = results["builds"]
    assert build["ok"] and build["n_patients"] == 34
    assert build["pdf_bytes"] > 0 and build["peak_rss_bytes"] > 0
    assert {"load", "validate", "derive", "analyse", "figures", "html", "pdf"} <= set(build["stages_s"])
    assert results["floor"]["ok"] and results["floor"]["wall_s"] > 0 and results["floor"]["cpu_s"] > 0
    assert results["help"]["ok"]
    (stats,) = results["stats"]
    assert stats["ok"] and stats["analyse_s"] > 0 and stats["tableone_s"] > 0
    measures = {target["measure"]: target for target in results["targets"]}
    assert measures["example build / floor (wall)"]["status"] != "not measured"
    assert measures["example build / floor (CPU)"]["status"] != "not measured"
    assert measures["statistics stage / tableone"]["status"] != "not measured"
