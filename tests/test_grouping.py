"""reportgen.grouping on its own: the plan the study sheet's settings resolve to, and every word it writes.

Found by mutation testing (docs/mutation-testing.md, grouping.py): the other tests reach these functions only
through the analysis and the report's prose, and check few of their words. Every expected value here is
written out by hand (the labels, the messages, the sentences at the trough level's two decimals), not
computed by reportgen. Results are stand-ins holding only the fields the word functions read.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from reportgen import formatting, grouping
from reportgen.formatting import Formatter
from reportgen.grouping import GroupingError, Plan
from reportgen.model import Design, StudyOptions, Stratum

FORMATTER = Formatter()


def _results(grouping_name: str = "quartiles", cutpoints: tuple[float, ...] = (), *, given: bool = False,
             quantiles: tuple[float | None, ...] = (), strata: tuple[Stratum, ...] = (), unit: str = "µg/mL") -> SimpleNamespace:
    return SimpleNamespace(
        design=Design(grouping=grouping_name, sample_quantiles=quantiles),
        cutpoints=cutpoints,
        cutpoints_given=given,
        strata=strata,
        study=StudyOptions(level_unit=unit),
    )


def _stratum(label: str, lower: float | None, upper: float | None, n: int) -> Stratum:
    return Stratum(label=label, lower=lower, upper=upper, n=n, percent=0.0)


# --- the plan ------------------------------------------------------------------------------------


def test_the_default_plan_is_quartiles_from_the_data() -> None:
    assert grouping.plan(StudyOptions()) == Plan("quartiles", ("Q1", "Q2", "Q3", "Q4"), None, None)


@pytest.mark.parametrize(
    "name, labels",
    [
        ("quartiles", ("Q1", "Q2", "Q3", "Q4")),
        ("tertiles", ("T1", "T2", "T3")),
        ("quintiles", ("Q1", "Q2", "Q3", "Q4", "Q5")),
        ("halves", ("H1", "H2")),
    ],
)
def test_each_quantile_grouping_has_its_groups_and_labels(name: str, labels: tuple[str, ...]) -> None:
    plan = grouping.plan(StudyOptions(grouping=name))
    assert plan == Plan(name, labels, None, None)
    assert plan.groups == len(labels)
    assert grouping.default_labels(name, len(labels)) == labels


def test_quantile_percents_split_into_equal_groups() -> None:
    assert Plan("quartiles", ("a", "b", "c", "d"), None, None).quantile_percents == (25.0, 50.0, 75.0)
    assert Plan("halves", ("a", "b"), None, None).quantile_percents == (50.0,)
    thirds = Plan("tertiles", ("a", "b", "c"), None, None).quantile_percents
    assert thirds == pytest.approx((100 / 3, 200 / 3), abs=1e-12)


def test_cut_points_make_one_group_more_labelled_g() -> None:
    plan = grouping.plan(StudyOptions(cut_points=(5, 8)))
    assert plan == Plan("cut-points", ("G1", "G2", "G3"), (5.0, 8.0), "cut_points")
    assert all(type(cut) is float for cut in plan.cut_points)
    explicit = grouping.plan(StudyOptions(grouping="cut-points", cut_points=(2.5,)))
    assert explicit == Plan("cut-points", ("G1", "G2"), (2.5,), "cut_points")


def test_version_1_cut_points_are_labelled_q1_to_q4_unless_labels_are_given() -> None:
    plan = grouping.plan(StudyOptions(quartile_cutpoints=(1.0, 6.0, 18.5)))
    assert plan == Plan("cut-points", ("Q1", "Q2", "Q3", "Q4"), (1.0, 6.0, 18.5), "quartile_cutpoints")
    labelled = grouping.plan(StudyOptions(quartile_cutpoints=(1.0, 6.0, 18.5), group_labels=("a", "b", "c", "d")))
    assert labelled.labels == ("a", "b", "c", "d")


def test_given_labels_name_the_groups() -> None:
    assert grouping.plan(StudyOptions(grouping="tertiles", group_labels=["low", "mid", "high"])).labels == ("low", "mid", "high")
    assert grouping.plan(StudyOptions(cut_points=(5.0,), group_labels=("low", "high"))).labels == ("low", "high")


def test_one_and_five_cut_points_are_accepted() -> None:
    assert grouping.plan(StudyOptions(cut_points=(3.0,))).groups == 2
    assert grouping.plan(StudyOptions(cut_points=(1.0, 2.0, 3.0, 4.0, 5.0))).groups == 6


@pytest.mark.parametrize(
    "study, message",
    [
        (
            StudyOptions(cut_points=(1.0, 2.0), quartile_cutpoints=(1.0, 2.0, 3.0)),
            "give the cut points once: cut_points or quartile_cutpoints (its contract version 1 spelling), not both",
        ),
        (StudyOptions(grouping="deciles"), "grouping must be one of quartiles, tertiles, quintiles, halves, cut-points, not 'deciles'"),
        (StudyOptions(grouping="tertiles", cut_points=(1.0, 2.0)), "cut_points is given, so grouping must be cut-points, not tertiles"),
        (
            StudyOptions(grouping="quartiles", quartile_cutpoints=(1.0, 2.0, 3.0)),
            "quartile_cutpoints is given, so grouping must be cut-points, not quartiles",
        ),
        (StudyOptions(grouping="cut-points"), "grouping = cut-points needs cut_points: 1 to 5 increasing values separated by ';'"),
        (StudyOptions(cut_points=()), "the cut_points of the study sheet are 0 values; give 1 to 5"),
        (StudyOptions(cut_points=(1.0, 2.0, 3.0, 4.0, 5.0, 6.0)), "the cut_points of the study sheet are 6 values; give 1 to 5"),
        (StudyOptions(cut_points=(1.0, 2.0, 2.0)), "the cut_points of the study sheet do not increase strictly (1.0, 2.0, 2.0)"),
        (StudyOptions(cut_points=(3.0, 2.0)), "the cut_points of the study sheet do not increase strictly (3.0, 2.0)"),
        (
            StudyOptions(quartile_cutpoints=(1.0, 3.0, 2.0)),
            "the quartile_cutpoints of the study sheet do not increase strictly (1.0, 3.0, 2.0)",
        ),
        (
            StudyOptions(grouping="halves", group_labels=("a", "b", "c")),
            "group_labels gives 3 labels for 2 groups; give one label per group",
        ),
        (StudyOptions(cut_points=(4.0,), group_labels=("a",)), "group_labels gives 1 labels for 2 groups; give one label per group"),
    ],
)
def test_contradicting_settings_are_refused_word_for_word(study: StudyOptions, message: str) -> None:
    with pytest.raises(GroupingError) as caught:
        grouping.plan(study)
    assert str(caught.value) == message


def test_the_number_of_groups_before_validation() -> None:
    assert grouping.number_of_groups(StudyOptions()) == 4
    assert grouping.number_of_groups(StudyOptions(grouping="tertiles")) == 3
    assert grouping.number_of_groups(StudyOptions(grouping="halves")) == 2
    assert grouping.number_of_groups(StudyOptions(cut_points=(1.0, 2.0))) == 3
    assert grouping.number_of_groups(StudyOptions(quartile_cutpoints=(1.0, 2.0, 3.0))) == 4
    assert grouping.number_of_groups(StudyOptions(grouping="halves", cut_points=(1.0, 2.0, 3.0, 4.0))) == 5
    assert grouping.number_of_groups(StudyOptions(grouping="tertiles", quartile_cutpoints=(1.0, 2.0, 3.0))) == 4
    assert grouping.number_of_groups(StudyOptions(grouping="deciles")) is None
    assert grouping.number_of_groups(StudyOptions(grouping="cut-points")) is None


# --- words ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, one, all_, capital",
    [
        ("quartiles", "quartile", "quartiles", "Quartile"),
        ("tertiles", "tertile", "tertiles", "Tertile"),
        ("halves", "half", "halves", "Half"),
        ("cut-points", "group", "groups", "Group"),
    ],
)
def test_the_words_for_one_group_and_for_all(name: str, one: str, all_: str, capital: str) -> None:
    results = _results(name)
    assert grouping.singular(results) == one
    assert grouping.plural(results) == all_
    assert grouping.capital_singular(results) == capital


def test_the_name_of_the_grouping() -> None:
    assert grouping.name(_results("tertiles", (5.0, 8.0)), FORMATTER) == "tertiles"
    assert grouping.name(_results("cut-points", (5.0,)), FORMATTER) == "groups defined by the cut point 5.00 µg/mL"
    assert grouping.name(_results("cut-points", (5.0, 8.0), unit="mg/L"), FORMATTER) == "groups defined by the cut points 5.00 and 8.00 mg/L"
    assert grouping.cut_values((2.9, 9.1, 18.5), FORMATTER, "µg/mL") == "2.90, 9.10 and 18.50 µg/mL"
    assert grouping.cut_values((2.9, 9.1, 18.5), Formatter(decimal_separator=","), "µg/mL") == "2,90; 9,10 and 18,50 µg/mL"


@pytest.mark.parametrize(
    "count, words",
    [
        (1, "median"),
        (2, "33.3rd and 66.7th percentiles"),
        (3, "25th, 50th and 75th percentiles"),
        (4, "20th, 40th, 60th and 80th percentiles"),
        (5, "16.7th, 33.3rd, 50th, 66.7th and 83.3rd percentiles"),
        (7, "12.5th, 25th, 37.5th, 50th, 62.5th, 75th and 87.5th percentiles"),
        (9, "10th, 20th, 30th, 40th, 50th, 60th, 70th, 80th and 90th percentiles"),
    ],
)
def test_quantile_words(count: int, words: str) -> None:
    assert grouping.quantile_words(count) == words


@pytest.mark.parametrize(
    "percent, word",
    [(1.0, "1st"), (2.0, "2nd"), (3.0, "3rd"), (4.0, "4th"), (11.0, "11th"), (12.0, "12th"), (13.0, "13th"),
     (21.0, "21st"), (22.0, "22nd"), (23.0, "23rd"), (33.3, "33.3rd"), (66.7, "66.7th"), (111.0, "111th"),
     (112.0, "112th"), (50.0, "50th"), (0.5, "0.5th"), (10.0, "10th")],
)
def test_ordinals(percent: float, word: str) -> None:
    assert grouping._ordinal(percent) == word


def test_the_closed_side_note() -> None:
    assert grouping.closed_side(_results(), FORMATTER) == "Trough levels in µg/mL."
    strata = (_stratum("T1", None, 2.9, 3), _stratum("T2", 2.9, 9.1, 3), _stratum("T3", 9.1, None, 3))
    results = _results("tertiles", (2.9, 9.1), strata=strata, unit="mg/L")
    assert grouping.closed_side(results, FORMATTER) == (
        "Trough levels in mg/L; a level exactly at a cut point counts in the lower group (2.90 mg/L in T1)."
    )


def test_group_ranges() -> None:
    assert grouping.group_range(None, None, FORMATTER) == "all levels"
    assert grouping.group_range(None, 5.0, FORMATTER) == "< 5.00"
    assert grouping.group_range(8.0, None, FORMATTER) == "> 8.00"
    assert grouping.group_range(5.0, 8.0, FORMATTER) == "5.00–8.00"
    assert grouping.group_range(0.0, 0.5, FORMATTER) == "0.00–0.50"
    assert grouping.group_range(0.0, None, FORMATTER) == "> 0.00"
    assert grouping.group_range(None, 0.0, FORMATTER) == "< 0.00"


def test_the_empty_groups_sentence() -> None:
    full = (_stratum("G1", None, 5.0, 2), _stratum("G2", 5.0, 8.0, 1), _stratum("G3", 8.0, None, 4))
    assert grouping.empty_groups_sentence(_results("cut-points", (5.0, 8.0), strata=full), FORMATTER) == ""
    one = (_stratum("G1", None, 5.0, 2), _stratum("G2", 5.0, 8.0, 1), _stratum("G3", 8.0, None, 0))
    assert grouping.empty_groups_sentence(_results("cut-points", (5.0, 8.0), strata=one), FORMATTER) == (
        "No analysed patient had a level in G3 (> 8.00 µg/mL): it is empty and is left out of every test."
    )
    two = (_stratum("G1", None, 5.0, 0), _stratum("G2", 5.0, 8.0, 1), _stratum("G3", 8.0, None, 0))
    assert grouping.empty_groups_sentence(_results("cut-points", (5.0, 8.0), strata=two, unit="mg/L"), FORMATTER) == (
        "No analysed patient had a level in G1 (< 5.00 mg/L) or G3 (> 8.00 mg/L): they are empty and are left out of every test."
    )
    three = (_stratum("G1", None, 1.0, 0), _stratum("G2", 1.0, 2.0, 0), _stratum("G3", 2.0, 3.0, 5), _stratum("G4", 3.0, None, 0))
    assert grouping.empty_groups_sentence(_results("cut-points", (1.0, 2.0, 3.0), strata=three), FORMATTER) == (
        "No analysed patient had a level in G1 (< 1.00 µg/mL), G2 (1.00–2.00 µg/mL) or G4 (> 3.00 µg/mL): "
        "they are empty and are left out of every test."
    )


def test_the_sample_quantiles_sentence() -> None:
    computed = _results("quartiles", (1.0, 2.0, 3.0), given=False, quantiles=(1.0, 2.0, 3.0))
    assert grouping.sample_quantiles_sentence(computed, FORMATTER) == ""
    no_quantiles = _results("cut-points", (5.0, 8.0), given=True, quantiles=())
    assert grouping.sample_quantiles_sentence(no_quantiles, FORMATTER) == ""
    same = _results("cut-points", (5.0, 8.0), given=True, quantiles=(5.001, 7.999))
    assert grouping.sample_quantiles_sentence(same, FORMATTER) == (
        "The cohort's own tertiles are the same, 5.00 and 8.00 µg/mL, so these groups are its tertiles."
    )
    other = _results("cut-points", (5.0, 8.0), given=True, quantiles=(4.0, 9.25), unit="mg/L")
    assert grouping.sample_quantiles_sentence(other, FORMATTER) == (
        "The cohort's own tertiles (sample quantiles for as many groups, linear interpolation) are 4.00 and 9.25 mg/L, "
        "so these groups are not its tertiles."
    )
    median = _results("cut-points", (5.0,), given=True, quantiles=(6.0,))
    assert grouping.sample_quantiles_sentence(median, FORMATTER) == (
        "The cohort's own median (sample quantiles for as many groups, linear interpolation) is 6.00 µg/mL, "
        "so these groups are not its median."
    )
    same_median = _results("cut-points", (6.0,), given=True, quantiles=(6.0,))
    assert grouping.sample_quantiles_sentence(same_median, FORMATTER) == (
        "The cohort's own median is the same, 6.00 µg/mL, so these groups are its median."
    )
    six = _results("cut-points", (1.0, 2.0, 3.0, 4.0, 5.0, 6.0), given=True, quantiles=(1.0, 2.0, 3.0, 4.0, 5.0, 6.5))
    assert grouping.sample_quantiles_sentence(six, FORMATTER) == (
        "The cohort's own 7-quantiles (sample quantiles for as many groups, linear interpolation) are "
        "1.00, 2.00, 3.00, 4.00, 5.00 and 6.50 µg/mL, so these groups are not its 7-quantiles."
    )


def test_levels_are_written_at_the_trough_levels_own_precision(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every level the words show has the decimals of ``trough_level`` (here set to 3, unlike the default 2)."""
    monkeypatch.setitem(formatting.DECIMALS, "trough_level", 3)
    assert grouping.cut_values((5.0, 8.25), FORMATTER, "µg/mL") == "5.000 and 8.250 µg/mL"
    strata = (_stratum("G1", None, 5.0, 1), _stratum("G2", 5.0, None, 1))
    assert grouping.closed_side(_results("cut-points", (5.0,), strata=strata), FORMATTER) == (
        "Trough levels in µg/mL; a level exactly at a cut point counts in the lower group (5.000 µg/mL in G1)."
    )
    assert grouping.group_range(5.0, 8.25, FORMATTER) == "5.000–8.250"
    # The quantiles are compared with the cut points as shown: 5.0004 and 5.0 are both 5.000.
    same = _results("cut-points", (5.0,), given=True, quantiles=(5.0004,))
    assert grouping.sample_quantiles_sentence(same, FORMATTER) == (
        "The cohort's own median is the same, 5.000 µg/mL, so these groups are its median."
    )
    # 5.004 is 5.00 at 2 decimals, but not the cut point 5.000 at 3.
    other = _results("cut-points", (5.0,), given=True, quantiles=(5.004,))
    assert grouping.sample_quantiles_sentence(other, FORMATTER).endswith("is 5.004 µg/mL, so these groups are not its median.")
