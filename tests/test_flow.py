"""Patient flow, withdrawals, missing data and limitations (issue #13 items 5-8).

The flow numbers are checked against an independent count with pandas from the cohort itself (visits, cut
points, withdrawal columns), never from the analysis stage's own assignment; the figure, the tables and the
prose are checked for the numbers they show and for sentences that appear and disappear with their conditions.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reportgen import indices
from reportgen.analysis import analyse
from reportgen.derive import derive
from reportgen.figures import draw_figures, make_figures
from reportgen.formatting import Formatter
from reportgen.model import ALPHA, FLOW_FIGURE, Cohort, Design, Flow, FlowGroup, Results, StudyOptions, WithdrawalReason
from reportgen.narrative import ACUTE_PHASE_LIMITATION, write_limitations, write_methods
from reportgen.pipeline import validate_only
from reportgen.document import KNOWN_NOTE, WITHDRAWAL_REASONS_LISTED_UP_TO, baseline_table, known_for, withdrawals_table
from reportgen.results_json import results_to_json
from reportgen.stats import IMPRECISE_GROUP, SMALL_GROUP
from tests.cohorts import make_cohort, random_cohort, visit

EXAMPLE = Path(__file__).resolve().parents[1] / "input" / "cohort.xlsx"
FORMATTER = Formatter(".")


@cache
def example() -> tuple[Cohort, Results]:
    cohort = validate_only(EXAMPLE)
    return cohort, analyse(derive(cohort), cohort.study)


def independent_flow(cohort: Cohort, results: Results) -> dict:
    """The flow counted with pandas from the cohort's own sheets and the printed cut points."""
    month = cohort.study.follow_up_month
    patients = cohort.patients.set_index("patient_id")
    visits = cohort.visits
    measured = visits[(visits["month"] > 0) & (visits["month"] <= month) & visits["tcz_trough_ug_ml"].notna()]
    level = measured.sort_values("month").groupby("patient_id")["tcz_trough_ug_ml"].last().reindex(patients.index)
    labels = [s.label for s in results.strata]
    group = pd.cut(level, [-np.inf, *results.cutpoints, np.inf], right=True, labels=labels)
    reached = visits.loc[visits["month"] == month, "patient_id"].unique()
    table = pd.DataFrame(
        {
            "group": group,
            "reached": patients.index.isin(reached),
            "withdrawn": ~patients.index.isin(reached) & (patients["withdrawal_month"] <= month),
            "reason": patients["withdrawal_reason"].astype(object).where(
                patients["withdrawal_reason"].astype(object).notna(), None
            ).map(lambda r: None if r is None or str(r).strip() == "" else str(r).strip()),
        }
    )
    per_group = {
        label: {
            "analysed": int((table["group"] == label).sum()),
            "reached_follow_up": int(((table["group"] == label) & table["reached"]).sum()),
            "carried_forward": int(((table["group"] == label) & ~table["reached"]).sum()),
            "withdrawn": int(((table["group"] == label) & table["withdrawn"]).sum()),
        }
        for label in labels
    }
    withdrawals = {}
    for reason, rows in table[table["withdrawn"]].groupby(table["reason"].fillna("<none>"), sort=False):
        key = None if reason == "<none>" else reason
        withdrawals[key] = ([int((rows["group"] == label).sum()) for label in labels], len(rows))
    return {
        "included": len(table),
        "no_level": int(table["group"].isna().sum()),
        "groups": per_group,
        "withdrawals": withdrawals,
    }


def assert_flow_matches(cohort: Cohort, results: Results) -> None:
    expected = independent_flow(cohort, results)
    flow = results.flow
    assert flow is not None
    assert (flow.included, flow.no_level, flow.analysed) == (
        expected["included"],
        expected["no_level"],
        expected["included"] - expected["no_level"],
    )
    assert [g.label for g in flow.groups] == [s.label for s in results.strata]
    for group in flow.groups:
        assert {
            "analysed": group.analysed,
            "reached_follow_up": group.reached_follow_up,
            "carried_forward": group.carried_forward,
            "withdrawn": group.withdrawn,
        } == expected["groups"][group.label]
        assert group.placed_by_window == 0
        assert group.analysed == group.reached_follow_up + group.carried_forward + group.placed_by_window
    assert {w.reason: (list(w.counts), w.overall) for w in flow.withdrawals} == expected["withdrawals"]
    overall = [w.overall for w in flow.withdrawals if w.reason is not None]
    assert overall == sorted(overall, reverse=True)
    assert all(w.reason is not None for w in flow.withdrawals[:-1])  # "not recorded" last


# --- the flow numbers ----------------------------------------------------------------------


def test_example_flow_matches_an_independent_count_and_the_abstract() -> None:
    cohort, results = example()
    assert_flow_matches(cohort, results)
    flow = results.flow
    # The reviewer's two withdrawals for inefficacy in Q1, and one patient without a level.
    assert flow.no_level == 1 and flow.groups[0].withdrawn == 2
    assert flow.withdrawals[0] == WithdrawalReason("inefficacy", (2, 0, 1, 0), 3)
    assert flow.withdrawn == results.cohort.n_locf == 5


@pytest.mark.parametrize("seed", [3, 17, 29])
def test_random_cohorts_flow_matches_an_independent_count(seed: int) -> None:
    study = StudyOptions(quartile_cutpoints=(2.0, 6.0, 18.5)) if seed == 17 else StudyOptions()
    cohort = random_cohort(seed, 120, study=study, dropout=0.35, no_level=0.1)
    assert_flow_matches(cohort, analyse(derive(cohort), study))


def test_built_cohort_withdrawal_rules() -> None:
    """Blank and padded reasons, a withdrawal after the follow-up month, a missed visit without withdrawal,
    a withdrawal at month 12 with its visit, and a patient without a level who withdrew."""
    levels = {"A": 1.0, "B": 2.0, "C": 3.0, "D": 4.0, "E": 5.0, "F": 6.0, "G": 7.0, "H": 8.0, "I": None, "J": 8.5}
    last_visit = {"A": 6, "B": 6, "C": 12, "D": 9, "E": 12, "F": 3, "G": 12, "H": 12, "I": 6, "J": 9}
    rows = []
    for pid, last in last_visit.items():
        rows.append(visit(pid, 0))
        for month in (3, 6, 9, 12):
            if month <= last:
                rows.append(visit(pid, month, tcz_trough_ug_ml=levels[pid] if levels[pid] is not None else np.nan))
    patients = [
        {"patient_id": "A", "withdrawal_month": 6.0, "withdrawal_reason": "  inefficacy "},
        {"patient_id": "B", "withdrawal_month": 7.0, "withdrawal_reason": ""},
        {"patient_id": "C", "withdrawal_month": 14.0, "withdrawal_reason": "adverse event"},  # after follow-up
        {"patient_id": "D"},  # missed the month-12 visit, still treated
        {"patient_id": "E", "withdrawal_month": 12.0, "withdrawal_reason": "inefficacy"},  # with its visit
        {"patient_id": "F", "withdrawal_month": 4.0, "withdrawal_reason": "inefficacy"},
        {"patient_id": "I", "withdrawal_month": 6.0, "withdrawal_reason": "pregnancy"},  # no level
        {"patient_id": "J", "withdrawal_month": 12.0, "withdrawal_reason": "inefficacy"},  # at 12, without the visit
    ]
    study = StudyOptions(quartile_cutpoints=(2.0, 4.0, 6.0))
    cohort = make_cohort(rows, patients, study=study)
    results = analyse(derive(cohort), study)
    assert_flow_matches(cohort, results)
    flow = results.flow
    assert [(g.analysed, g.reached_follow_up, g.carried_forward, g.withdrawn) for g in flow.groups] == [
        (2, 0, 2, 2),  # A, B
        (2, 1, 1, 0),  # C reached; D missed the visit
        (2, 1, 1, 1),  # E reached (withdrew at 12 after its visit); F withdrew
        (3, 2, 1, 1),  # G, H reached; J withdrew at month 12 before its visit
    ]
    assert flow.withdrawals == (
        WithdrawalReason("inefficacy", (1, 0, 1, 1), 3),
        WithdrawalReason("pregnancy", (0, 0, 0, 0), 1),
        WithdrawalReason(None, (1, 0, 0, 0), 1),
    )
    document = json.loads(results_to_json(results))
    assert document["flow"]["withdrawals"][-1] == {"reason": None, "counts": [1, 0, 0, 0], "overall": 1}
    assert document["flow"]["groups"][1] == {
        "label": "Q2", "analysed": 2, "reached_follow_up": 1, "carried_forward": 1, "withdrawn": 0, "placed_by_window": 0,
    }


# --- the figure ------------------------------------------------------------------------------


def _svg_text(svg: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", match) for match in re.findall(r"<text[^>]*>(.*?)</text>", svg, re.S))


def test_the_flow_figure_shows_the_example_numbers() -> None:
    cohort, results = example()
    derived = derive(cohort)
    figures = make_figures(derived, results, FORMATTER)
    flow_figure = next(f for f in figures if f.name == FLOW_FIGURE)
    assert flow_figure.number == len(figures)
    text = _svg_text(flow_figure.svg)
    for phrase in ("Included", "n = 34", "No trough level at or before month 12", "n = 1", "n = 33"):
        assert phrase in text
    for group in results.flow.groups:
        assert group.label in text and f"n = {group.analysed}" in text
    assert text.count("Month-12 visit") == 4 and text.count("Carried forward (LOCF)") == 4
    assert "– inefficacy: 2" in text and "– adverse event: 1" in text
    assert "visit window" not in text
    assert "5 patients in all" in flow_figure.caption


def _flow(n_groups: int, window: int = 0) -> Flow:
    groups = tuple(
        FlowGroup(f"G{k + 1}", 10 + k, 7 + k - (window if k == 1 else 0), 3, 2, placed_by_window=window if k == 1 else 0)
        for k in range(n_groups)
    )
    reasons = (WithdrawalReason("inefficacy", (1,) * n_groups, n_groups), WithdrawalReason("adverse event", (1,) * n_groups, n_groups))
    return Flow(sum(g.analysed for g in groups) + 2, 2, sum(g.analysed for g in groups), 12, groups, reasons)


@pytest.mark.parametrize("n_groups", [2, 3, 6])
def test_the_flow_figure_has_one_column_per_group_and_a_window_box_only_when_used(n_groups: int) -> None:
    cohort, results = example()
    derived = derive(cohort)
    for window in (0, 1):
        flow = _flow(n_groups, window)
        drawn = draw_figures(derived, replace(results, flow=flow), FORMATTER)
        figure = next(d for d in drawn if d.name == FLOW_FIGURE).figure
        texts = [t.get_text() for t in figure.axes[0].texts]
        for group in flow.groups:
            assert group.label in texts and f"n = {group.analysed}" in texts
            assert f"n = {group.reached_follow_up}" in texts
        assert texts.count("Month-12 visit") == n_groups
        # Wrapped to the column's width when the columns are narrow.
        assert sum(t.startswith("Placed by a") for t in texts) == (1 if window else 0)
        assert texts.count("missed visit: 1") == n_groups  # 3 carried forward, 2 withdrew


def test_workbook_text_in_the_figure_is_plain_text() -> None:
    """A reason is untrusted workbook text: no mathtext, no markup, bidi controls shown as escapes."""
    cohort, results = example()
    hostile = "cost $\\frac{1 $ <script>alert(1)</script> \u202eevil"
    flow = replace(results.flow, withdrawals=(WithdrawalReason(hostile, (2, 1, 1, 1), 5),))
    (figure,) = [f for f in make_figures(derive(cohort), replace(results, flow=flow), FORMATTER) if f.name == FLOW_FIGURE]
    assert "<script" not in figure.svg and "\u202e" not in figure.svg
    assert "&lt;script&gt;" in figure.svg and "cost $" in figure.svg


def test_no_flow_no_figure() -> None:
    cohort, results = example()
    figures = make_figures(derive(cohort), replace(results, flow=None), FORMATTER)
    assert FLOW_FIGURE not in [f.name for f in figures]


# --- withdrawals table -----------------------------------------------------------------------


def _cells(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for group in table.groups for row in group.rows]


def test_withdrawals_table_by_group_and_reason() -> None:
    _, results = example()
    table = withdrawals_table(results, FORMATTER, number=5)
    assert table.number == 5 and "month 12" in table.title
    assert _cells(table) == [
        ["Withdrawn before month 12, n (%)", "5 (14.7)", "2 (25.0)", "1 (14.3)", "1 (12.5)", "1 (10.0)"],
        ["inefficacy", "3 (8.8)", "2 (25.0)", "0 (0.0)", "1 (12.5)", "0 (0.0)"],
        ["adverse event", "2 (5.9)", "0 (0.0)", "1 (14.3)", "0 (0.0)", "1 (10.0)"],
    ]


def test_withdrawals_table_absent_without_withdrawals_and_cut_when_long() -> None:
    _, results = example()
    flow = results.flow
    nobody = replace(flow, groups=tuple(replace(g, withdrawn=0) for g in flow.groups), withdrawals=())
    assert withdrawals_table(replace(results, flow=nobody), FORMATTER, number=5) is None
    many = tuple(WithdrawalReason(f"reason {i:02d}", (1, 0, 0, 0), 1) for i in range(WITHDRAWAL_REASONS_LISTED_UP_TO + 2))
    long = replace(flow, withdrawals=(*many, WithdrawalReason(None, (0, 1, 0, 0), 1)))
    rows = _cells(withdrawals_table(replace(results, flow=long), FORMATTER, number=5))
    assert len(rows) == 1 + WITHDRAWAL_REASONS_LISTED_UP_TO
    assert rows[-2][0] == "Other reasons (4)" and rows[-2][1].startswith("4 ")
    assert rows[-1][0] == "reason not recorded"
    exactly = replace(flow, withdrawals=many[:WITHDRAWAL_REASONS_LISTED_UP_TO])
    assert len(_cells(withdrawals_table(replace(results, flow=exactly), FORMATTER, number=5))) == 1 + WITHDRAWAL_REASONS_LISTED_UP_TO


# --- missing data ----------------------------------------------------------------------------


def test_missing_counts_match_pandas_and_show_in_table_1() -> None:
    cohort, results = example()
    patients = cohort.patients
    assert dict(results.missing)["acpa_positive"] == int(patients["acpa_positive"].isna().sum()) == 2
    assert [v for v, _ in results.missing] == [c.variable for c in results.baseline]
    assert sum(count for _, count in results.missing) == 2
    assert json.loads(results_to_json(results))["missing"]["acpa_positive"] == 2
    table = baseline_table(results, FORMATTER)
    stubs = [row.cells[0] for group in table.groups for row in group.rows]
    marked = [cell.text for cell in stubs if known_for(32) in cell.lines]
    assert marked == ["ACPA positive, n (%)"]
    assert not any(line.startswith("known for") for cell in stubs if cell.text != "ACPA positive, n (%)" for line in cell.lines)
    assert KNOWN_NOTE in table.notes[0].text
    complete = replace(results, missing=tuple((v, 0) for v, _ in results.missing))
    table = baseline_table(complete, FORMATTER)
    assert KNOWN_NOTE not in table.notes[0].text
    assert not any("known for" in line for group in table.groups for row in group.rows for line in row.cells[0].lines)


@pytest.mark.parametrize("seed", [5, 11])
def test_missing_counts_on_random_cohorts(seed: int) -> None:
    cohort = random_cohort(seed, 80)
    results = analyse(derive(cohort), cohort.study)
    missing = dict(results.missing)
    for column in ("rf_positive", "acpa_positive"):
        assert missing[column] == int(cohort.patients[column].isna().sum())
    assert missing["age_years"] == 0


def test_methods_say_what_was_missing_and_how_it_was_handled() -> None:
    _, results = example()
    section = next(s for s in write_methods(results, FORMATTER) if s.heading == "Missing data")
    text = " ".join(section.paragraphs)
    assert "1 patient had no trough level" in text
    assert "ACPA positive (2 patients)" in text and "complete cases" in text
    assert "last observation carried forward (5 patients, 5 of them after withdrawing" in text
    nothing = replace(
        results,
        missing=tuple((v, 0) for v, _ in results.missing),
        cohort=replace(results.cohort, n_locf=0, n_no_level=0),
    )
    text = " ".join(next(s for s in write_methods(nothing, FORMATTER) if s.heading == "Missing data").paragraphs)
    assert "Every patient had a trough level." in text
    assert "No baseline value in Table 1 was missing." in text
    assert "nothing was carried forward" in text


# --- limitations -----------------------------------------------------------------------------


def _limitations(results: Results) -> str:
    return " ".join(write_limitations(results, FORMATTER))


def _sized(results: Results, sizes: tuple[int, ...]) -> Results:
    return replace(results, strata=tuple(replace(s, n=n) for s, n in zip(results.strata, sizes)))


def test_small_groups_are_a_limitation_below_the_imprecision_threshold() -> None:
    _, results = example()
    text = _limitations(_sized(results, (IMPRECISE_GROUP - 1, 40, 40, 40)))
    assert f"The groups are small ({IMPRECISE_GROUP - 1} to 40 patients per group)" in text
    assert "large-sample approximations" not in text
    assert "The groups are small" not in _limitations(_sized(results, (IMPRECISE_GROUP, 40, 40, 40)))
    tiny = _limitations(_sized(results, (SMALL_GROUP - 1, 40, SMALL_GROUP, 40)))
    assert f"with fewer than {SMALL_GROUP} patients in Q1, the large-sample approximations" in tiny


def test_the_share_carried_forward_is_a_limitation_when_any_was() -> None:
    _, results = example()
    assert "5 of 34 patients (14.7%) had no month-12 visit" in _limitations(results)
    assert "5 of them after withdrawing" in _limitations(results)
    none = replace(results, cohort=replace(results.cohort, n_locf=0))
    assert "carried forward" not in _limitations(none)
    one = replace(results, cohort=replace(results.cohort, n_locf=1), flow=None)
    assert "1 of 34 patients (2.9%) had no month-12 visit" in _limitations(one)
    assert "after withdrawing" not in _limitations(one)


def test_supplied_cut_points_and_sample_quartiles_say_different_things() -> None:
    _, results = example()
    assert results.cutpoints_given
    supplied = _limitations(results)
    assert "supplied in the study sheet" in supplied and "Q1 8, Q2 7, Q3 8 and Q4 10 patients" in supplied
    assert "own quartiles" not in supplied
    sample = _limitations(replace(results, cutpoints_given=False, design=Design()))
    assert "this cohort's own quartiles" in sample and "supplied" not in sample


def test_baseline_imbalance_is_named_when_a_table_1_p_is_below_alpha() -> None:
    _, results = example()

    def with_p(p_values: dict[str, float]) -> Results:
        baseline = tuple(
            replace(c, test=replace(c.test, p_value=p_values.get(c.variable, 0.5))) for c in results.baseline
        )
        return replace(results, baseline=baseline)

    below = _limitations(with_p({"age_years": 0.049, "crp_mg_l": 0.001}))
    p = FORMATTER.p_equation
    assert f"At baseline the groups differed in age ({p(0.049)}) and CRP ({p(0.001)})" in below
    assert "differed in" not in _limitations(with_p({"age_years": ALPHA}))
    assert "differed in" not in _limitations(with_p({}))
    # The example itself: ESR differs at baseline.
    esr = next(c for c in results.baseline if c.variable == "esr_mm_h").test.p_value
    assert f"At baseline the groups differed in ESR ({p(esr)})" in _limitations(results)


def test_the_acute_phase_sentence_hangs_on_one_predicate(monkeypatch: pytest.MonkeyPatch) -> None:
    _, results = example()
    sentence = ACUTE_PHASE_LIMITATION.format(
        drug="Tocilizumab", drug_class="an interleukin-6 receptor antagonist", indices="DAS28-ESR, DAS28-CRP and SDAI",
        reference="CDAI",
    )  # fmt: skip
    assert indices.lowers_acute_phase_reactants(results.study)
    assert sentence in _limitations(results)
    monkeypatch.setattr(indices, "lowers_acute_phase_reactants", lambda study: False)
    assert "interleukin-6" not in _limitations(results)


def test_the_acute_phase_sentence_names_the_studys_drug_from_the_drug_table() -> None:
    _, results = example()
    sarilumab = replace(results, study=results.study.replace(drug="sarilumab"))
    assert "Sarilumab, an interleukin-6 receptor antagonist, lowers ESR and CRP directly" in _limitations(sarilumab)
    adalimumab = replace(results, study=results.study.replace(drug="adalimumab"))
    assert "lowers ESR and CRP" not in _limitations(adalimumab) and "interleukin-6" not in _limitations(adalimumab)


def test_the_report_prints_the_limitations_and_the_flow() -> None:
    from reportgen.document import build_document
    from reportgen.narrative import write_narrative
    from report_fixtures import make_info

    cohort, results = example()
    figures = make_figures(derive(cohort), results, FORMATTER)
    view = build_document(
        results=results, narrative=write_narrative(results, FORMATTER), figures=figures, published=None,
        info=make_info(), warnings=(), formatter=FORMATTER,
    )
    assert view.limitations == " ".join(write_limitations(results, FORMATTER))
    withdrawals = next(t for t in view.tables if t.title.startswith("Withdrawals"))
    assert withdrawals.notes[-1].text.startswith("Trough levels in µg/mL; a level exactly at a cut point counts in the lower group")
    assert (
        f"Figure {len(figures)} shows the flow of patients, and Table {withdrawals.number} the withdrawals by group and reason."
        in view.results_intro
    )
