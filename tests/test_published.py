"""reportgen.published: printed numbers beside reproduced ones, and checks of the printed numbers alone."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from reportgen.errors import UsageError
from reportgen.model import (
    CategoricalComparison,
    CohortCounts,
    ContinuousComparison,
    Results,
    Stratum,
    StudyOptions,
    Summary,
)
from reportgen.model import TestResult as HypothesisTest  # not collected by pytest as a test class
from reportgen.published import Printed, PrintedP, check_published, resolve_published
from reportgen.rounding import round_half_up

EXAMPLE = Path(__file__).resolve().parent.parent / "input" / "published.yaml"
SIZES = (8, 7, 8, 10)
EULAR = {"none": (4, 1, 1, 0), "moderate": (3, 0, 4, 1), "good": (1, 6, 3, 9)}
# Per quartile (mean, sd) as a cohort matching the abstract reproduces them; SDAI is kept possible
# (at least CDAI), so it cannot match the impossible printed SDAI means.
OUTCOMES = {
    "das28_esr": ("DAS28-ESR", [(4.4612, 1.4987), (2.58, 0.87), (3.6, 0.79), (2.17, 0.74)], 0.0012),
    "cdai": ("CDAI", [(23.0, 13.9), (7.72, 4.44), (13.38, 4.35), (6.33, 4.62)], 0.003),
    "sdai": ("SDAI", [(24.02, 15.5), (9.51, 7.4), (13.44, 6.31), (6.37, 3.73)], 0.005),
    "sjc28": ("Swollen joints (SJC28)", [(7.5, 6.6), (2.2857, 2.06), (5.625, 4.3), (1.1, 1.6)], 0.013),
    "tjc28": ("TJC28", [(5.5, 5.7), (1.7143, 2.06), (3.125, 2.8), (0.8, 0.9)], 0.014),
    "esr_mm_h": ("ESR", [(22.6, 14.8), (5.6, 1.6), (9.4, 3.5), (6.4, 3.5)], 0.005),
    "crp_mg_l": ("CRP", [(10.2, 17.4), (2.3, 3.4), (0.56, 0.4), (0.42, 0.66)], 0.09),
}


def make_results(
    outcomes: dict[str, tuple[str, list[tuple[float, float]], float | None]] = OUTCOMES,
    eular: dict[str, tuple[int, ...]] = EULAR,
    eular_p: float | None = 0.00636,
) -> Results:
    n_analysed = sum(SIZES)
    strata = tuple(Stratum(f"Q{i + 1}", None, None, n, 100 * n / n_analysed) for i, n in enumerate(SIZES))
    comparisons = tuple(
        ContinuousComparison(
            variable=variable,
            label=label,
            unit="",
            groups=tuple(Summary(n=n, mean=mean, sd=sd) for n, (mean, sd) in zip(SIZES, groups)),
            overall=Summary(n=n_analysed),
            test=HypothesisTest("kruskal-wallis", 12.0, p),
        )
        for variable, (label, groups, p) in outcomes.items()
    )
    categories = tuple(eular)
    response = CategoricalComparison(
        variable="eular_response",
        label="EULAR response",
        categories=categories,
        counts=tuple(eular[category] for category in categories),
        overall=tuple(sum(eular[category]) for category in categories),
        test=HypothesisTest("chi-square", 18.0, eular_p),
    )
    return Results(
        cohort=CohortCounts(n_included=34, n_analysed=n_analysed, n_locf=3, n_no_level=1, follow_up_month=12),
        cutpoints=(4.2, 11.3, 18.5),
        cutpoints_given=False,
        strata=strata,
        strata_membership=np.repeat(np.arange(len(SIZES) + 1) - 1, [34 - n_analysed, *SIZES]),
        baseline=(),
        outcomes=comparisons,
        activity_categories=(),
        eular_response=response,
        carried_forward=(),
        study=StudyOptions(),
    )


def write(tmp_path: Path, text: str, name: str = "published.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = """
quartiles:
  labels: [Q1, Q2, Q3, Q4]
  n: ["8", "7", "8", "10"]
  percent: ["24.2", "21.2", "24.2", "30.3"]
"""


# --- the example ------------------------------------------------------------------------------


def test_example_flags_sdai_notes_row_percentages_and_matches_the_rest() -> None:
    check = check_published(EXAMPLE, make_results())
    mismatches = [row.item for row in check.rows if not row.match]
    assert mismatches == [
        "SDAI, Q1 (IQR1), mean",
        "SDAI, Q3 (IQR3), mean",
        "SDAI, Q4 (IQR4), mean",
        "EULAR good, Q3 (IQR3), %",
    ]
    assert len(check.rows) > 90
    findings = "\n".join(check.consistency)
    assert "SDAI mean printed below the CDAI mean in Q1 (IQR1) (19,46 < 23)" in findings
    assert "Q4 (IQR4) (4,55 < 6,33)" in findings
    assert "taken along rows" in findings and "4 of 6 = 66,7 %" in findings and "4 of 8 = 50,0 %" in findings
    assert "'good' percentages sum to 121,8, not 100" in findings
    assert "Quartile sizes sum to 33, not to the 34 patients included: 1 patient in no quartile." in findings
    assert check.source_name == "published.yaml"


def test_example_shows_reproduced_values_in_the_printed_style() -> None:
    rows = {row.item: row for row in check_published(EXAMPLE, make_results()).rows}
    assert rows["DAS28-ESR, Q1 (IQR1), mean"].reproduced == "4,46"
    assert rows["Swollen joints (SJC28), Q2 (IQR2), mean"].reproduced == "2,29"
    crp_p = rows["CRP, p (kruskal-wallis)"]
    assert (crp_p.printed, crp_p.reproduced, crp_p.match) == ("NS", "0,090", True)
    good_q3 = rows["EULAR good, Q3 (IQR3), %"]
    assert (good_q3.printed, good_q3.reproduced) == ("37,5", "15,8")
    assert "quartile" in good_q3.note


# --- numbers as printed -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "decimals", "comma"),
    [("4,46", "4.46", 2, True), ("4.46", "4.46", 2, False), ("23", "23", 0, False), ("3,60", "3.60", 2, True), ("-0,5", "-0.5", 1, True)],
)
def test_printed_numbers_keep_their_precision(text: str, value: str, decimals: int, comma: bool) -> None:
    printed = Printed.parse(text, "here")
    assert (printed.value, printed.decimals, printed.comma) == (Decimal(value), decimals, comma)


@pytest.mark.parametrize("text", ["4,46,1", "1 234", "abc", "", "4.", "1e3"])
def test_things_that_are_not_printed_numbers_are_refused(text: str) -> None:
    with pytest.raises(UsageError, match="not a number as printed"):
        Printed.parse(text, "here")


def test_rounding_is_half_up_as_printed_not_binary() -> None:
    assert round_half_up(2.675, 2) == Decimal("2.68")  # the float is 2.67499999...
    assert round_half_up(0.125, 2) == Decimal("0.13")  # banker's rounding would give 0.12
    assert round_half_up(4.4612, 2) == Decimal("4.46")
    assert Printed.parse("3,60", "x").show(3.6) == "3,60"
    assert Printed.parse("24", "x").show(24.24) == "24"


@pytest.mark.parametrize(
    ("printed", "p", "match"),
    [
        ("0,001", 0.0012, True),
        ("0,001", 0.0016, False),
        ("0.006", 0.00636, True),
        ("<0.001", 0.0002, True),
        ("<0.001", 0.0011, False),
        ("p < 0,05", 0.049, True),
        ("> 0.05", 0.2, True),
        ("NS", 0.06, True),
        ("p=NS", 0.05, True),
        ("n.s.", 0.03, False),
        ("0,001", None, False),
    ],
)
def test_p_values(printed: str, p: float | None, match: bool) -> None:
    assert PrintedP.parse(printed, "x", Decimal("0.05"), comma=False).compare(p)[1] is match


# --- consistency of the printed numbers -------------------------------------------------------


def test_a_table_with_column_percentages_needs_no_comment(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        MINIMAL
        + """
eular_response:
  counts:
    none:     ["4", "1", "1", "0"]
    moderate: ["3", "0", "4", "1"]
    good:     ["1", "6", "3", "9"]
  percent:
    none:     ["50.0", "14.3", "12.5", "0.0"]
    moderate: ["37.5", "0.0", "50.0", "10.0"]
    good:     ["12.5", "85.7", "37.5", "90.0"]
  p: "0.006"
""",
    )
    check = check_published(path, make_results())
    assert check.consistency == ()
    assert all(row.match for row in check.rows)


def test_percentages_not_summing_to_100_are_named(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace('"30.3"', '"35.3"'))
    assert check_published(path, make_results()).consistency == ("Quartile percentages sum to 104.9, not 100.",)


def test_rounding_slack_of_half_a_point_is_allowed(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace('"30.3"', '"30.7"'))
    assert check_published(path, make_results()).consistency == ()


def test_counts_not_summing_to_their_quartile_n_are_named(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        MINIMAL
        + """
eular_response:
  counts:
    none:     ["4", "1", "1", "0"]
    moderate: ["3", "0", "4", "1"]
    good:     ["1", "6", "3", "8"]
""",
    )
    assert check_published(path, make_results()).consistency == (
        "EULAR response counts in Q4 sum to 9, not to its n = 10.",
    )


def test_sdai_below_cdai_is_flagged_only_where_it_happens(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        MINIMAL
        + """
outcomes:
  cdai: {mean: ["20", "10", "10", "5"]}
  sdai: {mean: ["21", "9,9", "10", "5,5"]}
""",
    )
    findings = check_published(path, make_results()).consistency
    assert len(findings) == 1 and "in Q2 (9,9 < 10): impossible" in findings[0]


def test_a_p_value_computed_nowhere_is_a_mismatch(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + 'outcomes:\n  cdai: {mean: ["23", "7,72", "13,38", "6,33"], p: "0,003"}\n')
    outcomes = {**OUTCOMES, "cdai": ("CDAI", OUTCOMES["cdai"][1], None)}
    rows = {row.item: row for row in check_published(path, make_results(outcomes)).rows}
    assert rows["CDAI, p (kruskal-wallis)"].match is False
    assert rows["CDAI, p (kruskal-wallis)"].reproduced == "—"


# --- reading the file -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("quartiles: [1, 2]", "quartiles: expected keys and values"),
        ("quartile:\n  labels: [Q1]", "unknown key 'quartile'"),
        ("outcomes: {}", "missing key 'quartiles'"),
        (MINIMAL + "outcomes:\n  dass28: {mean: ['1','2','3','4']}", "unknown key 'dass28'"),
        (MINIMAL + "outcomes:\n  cdai: {mean: ['1','2','3']}", "outcomes.cdai.mean: expected 4 values, one per quartile, found 3"),
        (MINIMAL + "outcomes:\n  cdai: {mean: ['1','2','3','x']}", "'x' is not a number as printed"),
        (MINIMAL + "outcomes:\n  cdai: {mean: ['1','2','3','4'], p: [1]}", "outcomes.cdai.p: expected one p-value"),
        ("quartiles: {labels: [Q1, Q2]\n", "not valid YAML"),
    ],
)
def test_mistakes_in_the_file_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UsageError, match="published.yaml") as error:
        check_published(write(tmp_path, text), make_results())
    assert message in str(error.value)


@pytest.mark.parametrize("text", ["[" * 20_000 + "]" * 20_000, "quartiles:\n  labels: " + "[" * 5_000, "- " * 3_000 + "x\n"])
def test_deep_nesting_is_refused_in_one_sentence(tmp_path: Path, text: str) -> None:
    # Issue #15 item 7: 40 KB of '[' was a RecursionError traceback.
    with pytest.raises(UsageError, match=r"published.yaml: values nested more than 10 levels deep \(line \d+\)"):
        check_published(write(tmp_path, text), make_results())


@pytest.mark.parametrize("number", ["1234567890123456789012345678901234567890", "0,1234567890123456789012345678901234567890", "1234567890123456"])
def test_numbers_with_more_digits_than_anything_prints_are_refused(tmp_path: Path, number: str) -> None:
    # Issue #15 item 7: a 40-digit number was a decimal.InvalidOperation traceback.
    text = f'quartiles:\n  labels: [Q1, Q2, Q3, Q4]\n  percent: ["{number}", "21.2", "24.2", "30.3"]\n'
    with pytest.raises(UsageError, match=r"published.yaml: quartiles.percent: '.*' has \d+ digits; a number as printed has at most 15"):
        check_published(write(tmp_path, text), make_results())


def test_fifteen_digits_and_the_deepest_layout_are_accepted(tmp_path: Path) -> None:
    text = MINIMAL.replace('"24.2", "21.2"', '"24.2000000000000", "21.2"') + (
        'eular_response:\n  counts:\n    none: ["4", "1", "1", "0"]\n'
    )
    rows = check_published(write(tmp_path, text), make_results()).rows
    assert [row.reproduced for row in rows if row.printed == "24.2000000000000"] == ["24.2424242424242"]


def test_labels_must_match_the_number_of_quartiles(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="3 labels but the analysis has 4 strata"):
        check_published(write(tmp_path, "quartiles:\n  labels: [T1, T2, T3]\n"), make_results())


def test_unquoted_numbers_keep_their_printed_digits(tmp_path: Path) -> None:
    path = write(tmp_path, "quartiles:\n  labels: [Q1, Q2, Q3, Q4]\n  percent: [24.20, 21.2, 24.2, 30.3]\n")
    row = check_published(path, make_results()).rows[0]
    assert (row.printed, row.reproduced, row.match) == ("24.20", "24.24", False)


# --- finding the file -------------------------------------------------------------------------


def test_the_command_line_wins_over_the_study_sheet(tmp_path: Path) -> None:
    flag = write(tmp_path, MINIMAL, "flag.yaml")
    write(tmp_path, MINIMAL, "sheet.yaml")
    study = StudyOptions(published="sheet.yaml")
    assert resolve_published(flag, study, tmp_path / "cohort.xlsx") == flag


def test_the_study_key_is_relative_to_the_workbook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "study").mkdir()
    path = write(tmp_path / "study", MINIMAL)
    monkeypatch.chdir(tmp_path)
    assert resolve_published(None, StudyOptions(published="published.yaml"), Path("study/cohort.xlsx")) == path.resolve()
    assert resolve_published(None, StudyOptions(), Path("study/cohort.xlsx")) is None


def test_the_study_key_cannot_reach_outside_the_workbooks_folder(tmp_path: Path) -> None:
    (tmp_path / "study").mkdir()
    write(tmp_path, MINIMAL, "elsewhere.yaml")
    for name in ("../elsewhere.yaml", str(tmp_path / "elsewhere.yaml"), "/etc/passwd"):
        with pytest.raises(UsageError, match="points outside the workbook's folder"):
            resolve_published(None, StudyOptions(published=name), tmp_path / "study" / "cohort.xlsx")


def test_a_missing_file_is_one_clear_sentence(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--published .*nope.yaml: no such file"):
        resolve_published(tmp_path / "nope.yaml", StudyOptions(), tmp_path / "cohort.xlsx")
    with pytest.raises(UsageError, match="names the published-numbers file 'nope.yaml', but .* does not exist"):
        resolve_published(None, StudyOptions(published="nope.yaml"), tmp_path / "cohort.xlsx")


def test_an_outcome_the_analysis_did_not_produce_is_shown_unmatched(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + 'outcomes:\n  delta_das28: {label: dDAS28, mean: ["1", "2", "3", "4"], sd: ["1", "1", "1", "1"], p: "0.2"}\n')
    rows = [row for row in check_published(path, make_results()).rows if row.item.startswith("dDAS28")]
    assert len(rows) == 9
    assert not any(row.match for row in rows)
    assert rows[0].note == "not among the reproduced outcomes"
