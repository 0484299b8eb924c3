"""Broken input (issue 6): every bad workbook of tests/bad_workbooks.py through both commands.

Each case runs ``reportgen validate`` and ``reportgen build`` in-process, as a user would: exit 1,
every problem named (sheet, Excel row, column, value, rule) and nothing else, no traceback, and
nothing written, under --out or anywhere else. Build stops at validation, so the corpus stays fast.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from bad_workbooks import AT_BOUND_CONTROLS, CORPUS, BadWorkbook, Control, Expect, edited, junk_columns
from workbooks import DESIGN, valid_rows, write_workbook

from reportgen.cli import main
from reportgen.pipeline import validate_only


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("ERROR")]


def pattern(expect: Expect) -> re.Pattern[str]:
    """The table line of one problem: kind, sheet, row, column and value in order, then the rule."""
    parts = [re.escape(str(part)) for part in (expect.sheet, expect.row, expect.column) if part is not None]
    head = r"^ERROR\s+" + r"\s+".join(parts)
    if expect.value is not None:
        head += r"\s+" + re.escape(expect.value[:39])  # the table shortens values to 40 characters
    return re.compile(head + r".*" + re.escape(expect.rule))


def check_answer(case: BadWorkbook, code: int, out: str, err: str) -> None:
    assert code == 1, err
    assert "Traceback" not in out + err
    if case.refusal is not None:
        assert err.count("\n") == 1 and err.startswith("reportgen: "), err
        assert case.refusal in err
        return
    lines = error_lines(err)
    for expect in case.problems:
        assert any(pattern(expect).search(line) for line in lines), f"{expect} not in:\n{err}"
    assert len(lines) == len(case.problems), err
    n = len(case.problems)
    assert f"reportgen: the workbook has {n} problem{'s' if n > 1 else ''}; nothing was written." in err


@pytest.mark.parametrize("case", CORPUS, ids=[case.name for case in CORPUS])
def test_a_bad_workbook_is_refused_by_validate_and_build_naming_every_problem(
    case: BadWorkbook, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    path = case.build(folder / case.file_name)
    before = sorted(folder.iterdir())
    out_root = tmp_path / "out"
    monkeypatch.chdir(tmp_path)  # build's default --out would be ./output: nothing may appear here either

    check_answer(case, *run(["validate", str(path)], capsys))
    check_answer(case, *run(["build", str(path), "--out", str(out_root)], capsys))
    assert not out_root.exists()
    assert sorted(folder.iterdir()) == before
    assert sorted(tmp_path.iterdir()) == [folder]


def test_the_corpus_covers_at_least_40_cases() -> None:
    assert len(CORPUS) >= 40


@pytest.mark.parametrize("control", AT_BOUND_CONTROLS, ids=[control.name for control in AT_BOUND_CONTROLS])
def test_a_value_exactly_at_a_bound_is_valid(control: Control, tmp_path: Path) -> None:
    # validate_only raises WorkbookInvalid on any error; the CLI's exit codes are the corpus's business.
    cohort = validate_only(control.build(tmp_path / "cohort.xlsx"))
    for frame, position, column, value in control.checks:
        assert getattr(cohort, frame).loc[position, column] == value


def test_a_hundred_junk_columns_alone_are_only_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Decision: extra columns are left out of the analysis by contract, so junk alone does not block.
    def junk_only(patients: list[dict[str, object]], visits: list[dict[str, object]]) -> None:
        junk_columns(100)(patients, visits)
        visits[5]["tjc28"] = 6

    path = edited(junk_only, study=DESIGN)(tmp_path / "cohort.xlsx")
    code, out, err = run(["validate", str(path)], capsys)
    assert code == 0 and "valid (8 patients, 37 visits, 100 warnings)" in out
    warnings = [line for line in err.splitlines() if line.startswith("warning")]
    assert len(warnings) == 100 and all("is not part of the cohort workbook; it is left out of the analysis" in line for line in warnings)
    assert "junk_000" in err and "junk_099" in err


# --- ids that are unusual but valid must survive exactly ------------------------------------------

# Leading zeros, a space inside and one at the end, accents, CJK, Hebrew and Arabic (right-to-left,
# with Arabic-Indic digits), and a right-to-left override character.
UNUSUAL_IDS = ["007", "A 12", "0042 ", "Ünïcødé-é", "患者-三", "מטופל-7", "مريض ١٢", "\u202eRTL-override"]


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def test_unusual_patient_ids_survive_exactly_into_the_cohort_results_and_html(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    patients, visits = valid_rows()
    renames = dict(zip([patient["patient_id"] for patient in patients], UNUSUAL_IDS))
    for row in (*patients, *visits):
        row["patient_id"] = renames[row["patient_id"]]
    # No visit at month 120: every patient is carried forward, and the report lists them by id.
    path = write_workbook(tmp_path / "cohort.xlsx", patients=patients, visits=visits, study={"follow_up_month": 120})

    cohort = validate_only(path)
    assert list(cohort.patients["patient_id"]) == UNUSUAL_IDS
    assert list(dict.fromkeys(cohort.visits["patient_id"])) == UNUSUAL_IDS

    code, out, err = run(["build", str(path), "--out", str(tmp_path / "out"), "--no-pdf", "--formats", "html"], capsys)
    assert code == 0, err
    folder = Path(out.strip())
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert [item["patient_id"] for item in results["carried_forward"]] == UNUSUAL_IDS
    parser = _Text()
    parser.feed((folder / "report.html").read_text(encoding="utf-8"))
    cells = [part for part in parser.parts]
    for patient_id in UNUSUAL_IDS:
        # a table cell holding exactly the id; a bidi override is printed as its escape (issue 15), so it
        # cannot reorder the page: the data (cohort, results.json) keep it exactly
        shown = patient_id.replace("\u202e", "\\u202e")
        assert shown in cells, patient_id
    assert not [cell for cell in cells if "\u202e" in cell]


# --- the five commonest mistakes: one sentence each, pointing at the cell -------------------------


def _mgl_typed_as_mgdl(patients: list[dict[str, object]], visits: list[dict[str, object]]) -> None:
    # The lab reports mg/L; the column was renamed crp_mg_dl but the values typed as they came.
    for visit in visits:
        visit["crp_mg_dl"] = visit.pop("crp_mg_l")
    visits[3]["crp_mg_dl"] = 62.0


COMMONEST_MISTAKES = [
    (
        "text-in-a-number-column",
        lambda patients, visits: visits[5].__setitem__("tjc28", "six"),
        {},
        "sheet 'visits', row 7, column tjc28: tjc28 must be a whole number from 0 to 28 (found 'six')",
    ),
    (
        "duplicate-patient",
        lambda patients, visits: patients.append(dict(patients[1])),
        {},
        "sheet 'patients', row 10, column patient_id: this patient_id is already used on row 3; each patient has "
        "one row in the patients sheet, so remove the copy or correct the patient_id (found '002')",
    ),
    (
        "missing-baseline-visit",
        lambda patients, visits: visits.pop(5),
        {},
        "sheet 'patients', row 3, column patient_id: this patient has no baseline visit (month 0) in the visits "
        "sheet; their earliest visit is month 3, so add a row with month 0 or correct that month (found '002')",
    ),
    (
        "crp-in-the-wrong-unit-column",
        _mgl_typed_as_mgdl,
        {},
        "sheet 'visits', row 5, column crp_mg_dl: crp_mg_dl must be a number from 0 to 50 (mg/dL); did you enter "
        "mg/L? then name the column crp_mg_l instead (found 62)",
    ),
    (
        "typo-in-a-study-key",
        lambda patients, visits: None,
        {"study": {"folow_up_month": 12}},
        "sheet 'study', row 2, column key: 'folow_up_month' is not a study setting; did you mean follow_up_month? "
        "the settings are: title, authors, institution, quartile_cutpoints, grouping, cut_points, group_labels, follow_up_month, level_month, "
        "visit_window_months, continuous_test, "
        "categorical_test, decimal_separator, abstract_character_limit, published, drug, drug_abbreviation, "
        "administration, level_unit, lloq, below_lloq, background, objective, adjust_for, primary_outcome (found 'folow_up_month')",
    ),
]


@pytest.mark.parametrize(("change", "sheets", "sentence"), [case[1:] for case in COMMONEST_MISTAKES], ids=[case[0] for case in COMMONEST_MISTAKES])
def test_each_common_mistake_is_one_sentence_pointing_at_the_cell(
    change: object, sheets: dict[str, object], sentence: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from reportgen.errors import WorkbookInvalid

    path = edited(change, **sheets)(tmp_path / "cohort.xlsx")  # type: ignore[arg-type]
    with pytest.raises(WorkbookInvalid) as caught:
        validate_only(path)
    assert [problem.sentence() for problem in caught.value.problems] == [sentence]
    code, out, err = run(["validate", str(path)], capsys)
    assert code == 1 and len(error_lines(err)) == 1 and "the workbook has 1 problem;" in err


def test_mg_l_typed_under_crp_mg_dl_is_flagged_even_below_the_maximum(tmp_path: Path) -> None:
    path = edited(_mgl_typed_as_mgdl, study=DESIGN)(tmp_path / "cohort.xlsx")
    with pytest.raises(Exception) as caught:
        validate_only(path)
    warnings = caught.value.warnings  # type: ignore[attr-defined]
    assert warnings and all(w.rule.endswith("if the column holds mg/L, name it crp_mg_l instead") for w in warnings)
    assert (5, "crp_mg_dl") not in {(w.row, w.column) for w in warnings}  # the error is not repeated as a warning


# --- pandera's environment variables change nothing ------------------------------------------------

# Every variable pandera reads (pandera/config.py), set to a value pandera cannot parse, or to a valid non-default
# value; each of them would switch checks off, fail pandera's import, or change what a failure reports.
PANDERA_ENVIRONMENTS = {
    "garbage": dict.fromkeys(
        (
            "PANDERA_VALIDATION_ENABLED",
            "PANDERA_VALIDATION_DEPTH",
            "PANDERA_CACHE_DATAFRAME",
            "PANDERA_KEEP_CACHED_DATAFRAME",
            "PANDERA_USE_NARWHALS_BACKEND",
            "SILENCE_WARNING_PYDANTIC_MODEL",
        ),
        "garbage",
    ),
    "non-default": {
        "PANDERA_VALIDATION_ENABLED": "False",
        "PANDERA_VALIDATION_DEPTH": "SCHEMA_ONLY",
        "PANDERA_CACHE_DATAFRAME": "True",
        "PANDERA_KEEP_CACHED_DATAFRAME": "True",
        "PANDERA_USE_NARWHALS_BACKEND": "True",
        "SILENCE_WARNING_PYDANTIC_MODEL": "true",
    },
}
# Runs `reportgen validate` on every corpus case in one fresh process (pandera reads its variables when imported)
# and checks each answer as the corpus test does; prints the names of the cases answered otherwise.
CORPUS_IN_A_FRESH_PROCESS = """
import contextlib, io, json, sys, tempfile
from pathlib import Path
from bad_workbooks import CORPUS
from test_bad_input import check_answer
from reportgen.cli import main
wrong = []
with tempfile.TemporaryDirectory() as folder:
    for case in CORPUS:
        (Path(folder) / case.name).mkdir()
        path = case.build(Path(folder) / case.name / case.file_name)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["validate", str(path)])
        try:
            check_answer(case, code, out.getvalue(), err.getvalue())
        except AssertionError:
            wrong.append(case.name)
print(json.dumps(wrong))
"""


@pytest.mark.parametrize(
    "values", [value if value == "garbage" else pytest.param(value, marks=pytest.mark.slow) for value in PANDERA_ENVIRONMENTS]
)
def test_pandera_settings_in_the_environment_change_no_answer_of_the_corpus(values: str) -> None:
    # Issue #15 item 9: PANDERA_VALIDATION_DEPTH=garbage was a ValueError traceback; with
    # PANDERA_USE_NARWHALS_BACKEND=True most corpus cases lost their row, value or rule text.
    tests = Path(__file__).resolve().parent
    environment = {**os.environ, **PANDERA_ENVIRONMENTS[values], "PYTHONPATH": str(tests)}
    result = subprocess.run(
        [sys.executable, "-c", CORPUS_IN_A_FRESH_PROCESS], cwd=tests.parent, env=environment,
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr, result.stderr[-2000:]
    assert json.loads(result.stdout) == []
