"""The study's drug (issue #12): the drug table, the study-sheet keys that describe the design, and a report
for another drug that says nothing about tocilizumab."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from workbooks import DESIGN, DESIGN_UNSET, valid_rows, write_valid_workbook, write_workbook

from reportgen import drugs
from reportgen.cli import main
from reportgen.errors import WorkbookInvalid
from reportgen.model import Cohort, Problem, StudyOptions
from reportgen.validate import validate_workbook
from reportgen.workbook import load_workbook

KNOWN = ("tocilizumab", "sarilumab", "adalimumab", "infliximab", "etanercept", "golimumab", "certolizumab pegol")


def validated(tmp_path: Path, study: dict[str, Any], visits: list[dict[str, Any]] | None = None) -> Cohort:
    patients, rows = valid_rows()
    path = write_workbook(tmp_path / "cohort.xlsx", patients=patients, visits=visits or rows, study=study)
    return validate_workbook(load_workbook(path))


def refused(tmp_path: Path, study: dict[str, Any]) -> WorkbookInvalid:
    with pytest.raises(WorkbookInvalid) as caught:
        validated(tmp_path, study)
    return caught.value


def only(found: tuple[Problem, ...]) -> Problem:
    assert len(found) == 1, "\n".join(problem.sentence() for problem in found)
    return found[0]


# --- the drug table -----------------------------------------------------------------------------


def test_the_table_knows_the_drugs_the_issue_names_with_their_facts() -> None:
    table = drugs.drug_table()
    assert set(KNOWN) <= set(table)
    tocilizumab = table["tocilizumab"]
    assert (tocilizumab.abbreviation, tocilizumab.drug_class, tocilizumab.administration) == ("TCZ", "il6-receptor-antagonist", "infusion")
    assert table["adalimumab"].administration == "injection" and table["adalimumab"].drug_class == "tnf-inhibitor"
    for drug in table.values():
        assert drug.administration in drug.routes and 0 <= drug.trough_range[0] < drug.trough_range[1]


@pytest.mark.parametrize(
    "broken",
    [
        {"version": 1},
        {"version": 1, "drugs": [{"name": "x"}]},
        {"version": 1, "drugs": [{"name": "x", "abbreviation": "X", "class": "jak-inhibitor", "routes": ["injection"],
                                  "administration": "injection", "trough_range": [0, 1]}]},
        {"version": 1, "drugs": [{"name": "x", "abbreviation": "X", "class": "tnf-inhibitor", "routes": ["injection"],
                                  "administration": "infusion", "trough_range": [0, 1]}]},
        {"version": 1, "drugs": [{"name": "x", "abbreviation": "X", "class": "tnf-inhibitor", "routes": ["injection"],
                                  "administration": "injection", "trough_range": [5, 1]}]},
    ],
)  # fmt: skip
def test_a_malformed_table_is_refused(broken: dict[str, Any]) -> None:
    with pytest.raises(drugs.DrugTableError):
        drugs.parse_drug_table(broken)


def test_a_workbook_without_drug_means_tocilizumab_by_infusion() -> None:
    design = drugs.design_of(StudyOptions())
    assert (design.drug, design.abbreviation, design.administration, design.administration_from) == (
        "tocilizumab", "TCZ", "infusion", "drug table",
    )  # fmt: skip
    assert design.introduced == "tocilizumab (TCZ)" and design.route_words == "intravenous infusion"


def test_administration_overrides_the_table_and_names_are_compared_loosely() -> None:
    design = drugs.design_of(StudyOptions(drug="Certolizumab  PEGOL", administration="infusion", drug_abbreviation="CTZ"))
    assert (design.drug, design.abbreviation, design.administration, design.administration_from) == (
        "certolizumab pegol", "CTZ", "infusion", "study sheet",
    )  # fmt: skip
    unknown = drugs.design_of(StudyOptions(drug="fooximab", administration="injection"))
    assert (unknown.drug, unknown.abbreviation, unknown.known, unknown.trough_range) == ("fooximab", None, False, None)
    assert unknown.introduced == "fooximab"


def test_only_il6_receptor_antagonists_lower_acute_phase_reactants() -> None:
    assert drugs.lowers_acute_phase_reactants(StudyOptions())
    assert drugs.lowers_acute_phase_reactants(StudyOptions(drug="sarilumab"))
    assert not drugs.lowers_acute_phase_reactants(StudyOptions(drug="adalimumab"))
    assert not drugs.lowers_acute_phase_reactants(StudyOptions(drug="fooximab", administration="infusion"))


# --- the study-sheet keys -----------------------------------------------------------------------


def test_every_design_key_when_valid(tmp_path: Path) -> None:
    study = {
        "drug": "Adalimumab", "drug_abbreviation": "ADL", "administration": "Injection", "level_unit": "mg/l",
        "background": "  Our own sentence.  ", "objective": "To see.",
    }  # fmt: skip
    cohort = validated(tmp_path, study)
    assert cohort.study == StudyOptions(
        drug="Adalimumab", drug_abbreviation="ADL", administration="injection", level_unit="mg/L",
        background="Our own sentence.", objective="To see.",
    )  # fmt: skip
    assert cohort.warnings == ()
    assert cohort.study.categorical_test == "auto"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("drug", "x" * 101), ("drug_abbreviation", "x" * 21), ("administration", "oral"), ("level_unit", "ng/mL"),
        ("background", "x" * 1501), ("objective", "x" * 1001), ("administration", True), ("categorical_test", "fisher"),
    ],
)  # fmt: skip
def test_an_invalid_design_value_names_its_cell(tmp_path: Path, key: str, value: Any) -> None:
    problem = only(refused(tmp_path, {**DESIGN, key: value}).problems)
    assert (problem.sheet, problem.row, problem.column) == ("study", list({**DESIGN, key: value}).index(key) + 2, "value")
    assert problem.rule.startswith(f"{key} must be")


@pytest.mark.parametrize(
    ("key", "value", "meant"),
    [("administration", "infussion", "infusion"), ("level_unit", "ug/ml", "µg/mL"), ("categorical_test", "chisquare", "chi-square")],
)  # fmt: skip
def test_a_misspelt_choice_gets_did_you_mean(tmp_path: Path, key: str, value: str, meant: str) -> None:
    problem = only(refused(tmp_path, {**DESIGN, key: value}).problems)
    assert problem.value == repr(value) and problem.rule.endswith(f"did you mean {meant}?")


def test_an_unknown_drug_without_administration_is_an_error(tmp_path: Path) -> None:
    problem = only(refused(tmp_path, {**DESIGN, "drug": "fooximab"}).problems)
    assert (problem.sheet, problem.row, problem.column, problem.value) == ("study", 2, "value", "'fooximab'")
    assert "not in reportgen's drug table" in problem.rule and "set administration" in problem.rule
    assert "did you mean" not in problem.rule
    # With administration it is accepted, without a warning (nothing close to guess at).
    cohort = validated(tmp_path, {**DESIGN, "drug": "fooximab", "administration": "injection"})
    assert cohort.study.drug == "fooximab" and cohort.warnings == ()


def test_a_misspelt_drug_gets_did_you_mean(tmp_path: Path) -> None:
    problem = only(refused(tmp_path, {**DESIGN, "drug": "adalimumb"}).problems)
    assert "did you mean adalimumab?" in problem.rule
    warning = only(validated(tmp_path, {**DESIGN, "drug": "adalimumb", "administration": "injection"}).warnings)
    assert (warning.row, warning.value) == (2, "'adalimumb'") and "did you mean adalimumab?" in warning.rule


def test_a_form_the_table_does_not_list_is_a_warning(tmp_path: Path) -> None:
    warning = only(validated(tmp_path, {**DESIGN, "drug": "etanercept", "administration": "infusion"}).warnings)
    assert (warning.row, warning.value) == (5, "'infusion'") and "etanercept is given by injection" in warning.rule


def test_missing_design_keys_are_warnings_naming_the_key(tmp_path: Path) -> None:
    cohort = validated(tmp_path, {"title": "t", "background": None})
    assert [(w.sheet, w.row, w.column) for w in cohort.warnings] == [*DESIGN_UNSET[1:], ("study", 3, "value")]
    assert "tocilizumab given by intravenous infusion" in cohort.warnings[0].rule
    assert "bracketed placeholder for its Background" in cohort.warnings[2].rule


def test_a_level_outside_the_drugs_plausible_range_is_a_warning(tmp_path: Path) -> None:
    patients, visits = valid_rows()
    visits[2]["trough_level"] = 45  # adalimumab: 0-40 µg/mL; tocilizumab: 0-100
    visits[3]["trough_level"] = 151  # above the column's own warning: warned about once, by the column
    visits[0]["trough_level"] = 45  # month 0: ignored
    cohort = validated(tmp_path, {**DESIGN, "drug": "adalimumab"}, visits)
    assert [(w.sheet, w.row, w.column, w.value) for w in cohort.warnings] == [
        ("visits", 4, "trough_level", "45"), ("visits", 5, "trough_level", "151"),
    ]  # fmt: skip
    assert "outside 0-40 µg/mL, the plausible range of adalimumab trough levels" in cohort.warnings[0].rule
    assert [w.row for w in validated(tmp_path, DESIGN, visits).warnings] == [5]


# --- a report for another drug ------------------------------------------------------------------


def test_an_adalimumab_report_says_adalimumab_and_nothing_of_tocilizumab(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workbook = write_valid_workbook(
        tmp_path / "cohort.xlsx", study={"title": "Adalimumab levels", "drug": "adalimumab", "level_unit": "mg/L"}
    )
    out = tmp_path / "out"
    assert main(["build", str(workbook), "--out", str(out), "--quiet", "--no-pdf", "--formats", "html"]) == 0
    err = capsys.readouterr().err
    # build says there were warnings (Background and Objectives missing), in one line.
    assert err.startswith("reportgen: 2 warnings about the workbook (first: ") and err.count("\n") == 1
    folder = out / "latest"
    html = (folder / "report.html").read_text(encoding="utf-8")
    abstract = (folder / "abstract.txt").read_text(encoding="utf-8")
    for text in (html, abstract):
        for word in ("tocilizumab", "TCZ", "IL-6", "interleukin-6", "source abstract", "TNF inhibitors have"):
            assert word not in text, word
        assert "adalimumab (ADA)" in text and "subcutaneous injection" in text
    assert "Background: [the authors' own sentences go here; set background in the study sheet]\n" in abstract
    assert "Objectives: [the authors' own sentences go here; set objective in the study sheet]\n" in abstract
    assert "just before an injection" in html and "µg/mL" not in html
    design = json.loads((folder / "results.json").read_text(encoding="utf-8"))["design"]
    assert (design["drug"], design["drug_abbreviation"], design["administration"], design["level_unit"]) == (
        "adalimumab", "ADA", "injection", "mg/L",
    )  # fmt: skip
    assert design["categorical_test"] == "auto" and design["plausible_trough_range"] == [0.0, 40.0]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    # results.json's design is the manifest's, with the grouping as the analysis resolved it.
    resolved = ("grouping", "cut_points")
    assert {k: v for k, v in manifest["design"].items() if k not in resolved} == {k: design[k] for k in manifest["design"] if k not in resolved}
    assert manifest["study"]["categorical_test"] == "auto"
    eular = json.loads((folder / "results.json").read_text(encoding="utf-8"))["eular_response"]
    assert "categorical_test = auto" in eular["decision"] and "Cochran's rule is" in eular["decision"]


def test_a_build_without_warnings_prints_only_its_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workbook = write_valid_workbook(tmp_path / "cohort.xlsx", study=DESIGN)
    assert main(["build", str(workbook), "--out", str(tmp_path / "out"), "--quiet", "--no-pdf", "--formats", "html"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out.strip().startswith(str(tmp_path / "out"))
