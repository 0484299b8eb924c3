"""Contract version 1 workbooks still validate and build, with the same numbers as version 2.

The v1 workbook is built here, in code, from the committed example's own cells: the level column under
its version 1 name ``tcz_trough_ug_ml``, ``quartile_cutpoints`` instead of grouping/cut_points/group_labels,
and no drug or administration. It must give results.json equal to the example's (version 2) in every field
but the few that record which study-sheet keys gave the design.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from reportgen.analysis import analyse
from reportgen.contract import LEVEL_COLUMN, V1_LEVEL_COLUMN, workbook_version
from reportgen.derive import derive
from reportgen.errors import WorkbookInvalid
from reportgen.pipeline import validate_only
from reportgen.results_json import results_to_document
from tools.example import write_cohort_workbook

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "input" / "cohort.xlsx"
V2_ONLY_KEYS = ("grouping", "cut_points", "group_labels", "drug", "administration")


def _rows(path: Path) -> dict[str, list[dict[str, object]] | list[tuple[str, object]]]:
    book = CalamineWorkbook.from_path(str(path))
    out: dict = {}
    for name in ("patients", "visits"):
        header, *body = book.get_sheet_by_name(name).to_python()
        out[name] = [{key: (None if value == "" else value) for key, value in zip(header, row)} for row in body]
    out["study"] = [tuple(row) for row in book.get_sheet_by_name("study").to_python()[1:]]
    return out


def _v1_workbook(tmp_path: Path) -> Path:
    rows = _rows(EXAMPLE)
    study = dict(rows["study"])
    assert study["grouping"] == "cut-points" and study["group_labels"].replace(" ", "") == "Q1;Q2;Q3;Q4"
    v1_study = [(key, value) for key, value in rows["study"] if key not in V2_ONLY_KEYS]
    v1_study.append(("quartile_cutpoints", study["cut_points"]))
    (tmp_path / "published.yaml").write_bytes((ROOT / "input" / "published.yaml").read_bytes())
    return write_cohort_workbook(
        tmp_path / "v1.xlsx", rows["patients"], rows["visits"], v1_study, headers={LEVEL_COLUMN: V1_LEVEL_COLUMN}
    )


def _document(path: Path) -> tuple[dict, object]:
    cohort = validate_only(path)
    return results_to_document(analyse(derive(cohort), cohort.study)), cohort


def test_a_version_1_workbook_gives_the_examples_numbers(tmp_path: Path) -> None:
    v1, v1_cohort = _document(_v1_workbook(tmp_path))
    v2, v2_cohort = _document(EXAMPLE)
    assert (v1_cohort.contract_version, v2_cohort.contract_version) == (1, 2)
    assert V1_LEVEL_COLUMN not in v1_cohort.visits and LEVEL_COLUMN in v1_cohort.visits
    # Which keys gave the design differ, and only they: the same grouping, labels, drug and route.
    for document in (v1, v2):
        for key in ("quartile_cutpoints", "cut_points", "group_labels", "cut_points_key", "administration_from"):
            document["design"].pop(key)
    assert v1 == v2
    assert v1["design"]["drug"] == "tocilizumab" and v1["design"]["administration"] == "infusion"
    assert v1["design"]["labels"] == ["Q1", "Q2", "Q3", "Q4"] and v1["design"]["grouping"] == "cut-points"


def test_the_manifest_records_the_contract_version_the_workbook_was_read_as(tmp_path: Path) -> None:
    import json

    from reportgen.cli import main

    for path, version in ((_v1_workbook(tmp_path), 1), (EXAMPLE, 2)):
        out = tmp_path / f"out-{version}"
        assert main(["build", str(path), "--out", str(out), "--quiet", "--no-pdf", "--formats", "html"]) == 0
        manifest = json.loads((out / "latest" / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["workbook"]["contract_version"] == version


def test_the_version_is_told_by_the_level_columns_header() -> None:
    assert workbook_version(("patient_id", "month", V1_LEVEL_COLUMN)) == 1
    assert workbook_version(("patient_id", "month", LEVEL_COLUMN)) == 2
    assert workbook_version(None) == 2


def test_both_level_columns_are_refused_naming_the_cell(tmp_path: Path) -> None:
    rows = _rows(EXAMPLE)
    # The writer takes its headers from the contract: one of them written as tcz_trough_ug_ml gives both names.
    path = write_cohort_workbook(
        tmp_path / "both.xlsx", rows["patients"], rows["visits"], rows["study"], headers={"evaluator_global_mm": V1_LEVEL_COLUMN}
    )
    with pytest.raises(WorkbookInvalid) as caught:
        validate_only(path)
    problems = [p for p in caught.value.problems if p.column == V1_LEVEL_COLUMN]
    assert problems and problems[0].sheet == "visits" and problems[0].row == 1
    assert f"give {LEVEL_COLUMN} or {V1_LEVEL_COLUMN}, not both" in problems[0].rule
