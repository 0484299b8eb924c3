"""The study design's grouping of the analysed patients by trough level: the one home of its words.

The study sheet chooses a grouping (``grouping``: quartiles, tertiles, quintiles, halves or cut-points),
the cut points for cut-points (``cut_points``, or contract version 1's ``quartile_cutpoints``, which
means cut-points with three values labelled Q1–Q4) and optional labels (``group_labels``). This module
resolves those settings into a ``Plan`` (how many groups, their labels, the cut points given) and writes
every word the report uses for the groups: their name ('quartiles', 'groups defined by the cut points
5 and 8 µg/mL'), one group ('quartile', 'group'), and a group's range as clinicians write it
('< 5', '5–8', '> 8'; every group includes its upper limit, said once by ``closed_side``).
No numpy here: the PDF worker imports the report's prose without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from reportgen.formatting import Formatter
    from reportgen.model import Results, StudyOptions


@dataclass(frozen=True)
class GroupingKind:
    """One value of the study sheet's ``grouping``: its number of groups (None: one more than the cut
    points), the word for one group and for them all, and the letter of its default labels."""

    name: str
    groups: int | None
    singular: str
    plural: str
    label_prefix: str


GROUPINGS: dict[str, GroupingKind] = {
    kind.name: kind
    for kind in (
        GroupingKind("quartiles", 4, "quartile", "quartiles", "Q"),
        GroupingKind("tertiles", 3, "tertile", "tertiles", "T"),
        GroupingKind("quintiles", 5, "quintile", "quintiles", "Q"),
        GroupingKind("halves", 2, "half", "halves", "H"),
        GroupingKind("cut-points", None, "group", "groups", "G"),
    )
}
DEFAULT_GROUPING = "quartiles"
CUT_POINTS = "cut-points"
CUT_POINTS_KEY = "cut_points"
V1_CUT_POINTS_KEY = "quartile_cutpoints"  # contract version 1: cut-points with three values, labelled Q1–Q4
V1_LABELS = ("Q1", "Q2", "Q3", "Q4")
LABELS_KEY = "group_labels"
STUDY_KEYS = ("grouping", CUT_POINTS_KEY, V1_CUT_POINTS_KEY, LABELS_KEY)  # the study-sheet keys of the grouping
MAX_CUT_POINTS = 5


class GroupingError(ValueError):
    """The study's grouping settings do not fit together (validation says it with the cell first)."""


@dataclass(frozen=True)
class Plan:
    """The grouping in effect: its kind, the labels of its groups (lowest level first), the cut points
    the study sheet gave (None: the data's own quantiles) and the key that gave them."""

    grouping: str
    labels: tuple[str, ...]
    cut_points: tuple[float, ...] | None
    cut_points_key: str | None

    @property
    def groups(self) -> int:
        return len(self.labels)

    @property
    def quantile_percents(self) -> tuple[float, ...]:
        """The sample quantiles (in percent) that split the data into as many equal groups: 25, 50, 75 for four."""
        k = self.groups
        return tuple(100.0 * i / k for i in range(1, k))


def default_labels(grouping: str, groups: int) -> tuple[str, ...]:
    """Q1…Q4, T1…T3, Q1…Q5, H1–H2, G1…Gk."""
    prefix = GROUPINGS[grouping].label_prefix
    return tuple(f"{prefix}{i}" for i in range(1, groups + 1))


def plan(study: StudyOptions) -> Plan:
    """The grouping the study sheet asks for; ``GroupingError`` when its settings contradict each other."""
    if study.quartile_cutpoints is not None and study.cut_points is not None:
        raise GroupingError(f"give the cut points once: {CUT_POINTS_KEY} or {V1_CUT_POINTS_KEY} (its contract version 1 spelling), not both")
    cuts, key = (study.cut_points, CUT_POINTS_KEY) if study.cut_points is not None else (study.quartile_cutpoints, V1_CUT_POINTS_KEY)
    grouping = study.grouping if study.grouping is not None else CUT_POINTS if cuts is not None else DEFAULT_GROUPING
    if grouping not in GROUPINGS:
        raise GroupingError(f"grouping must be one of {', '.join(GROUPINGS)}, not {grouping!r}")
    if cuts is not None and grouping != CUT_POINTS:
        raise GroupingError(f"{key} is given, so grouping must be {CUT_POINTS}, not {grouping}")
    if cuts is None and grouping == CUT_POINTS:
        raise GroupingError(f"grouping = {CUT_POINTS} needs {CUT_POINTS_KEY}: 1 to {MAX_CUT_POINTS} increasing values separated by ';'")
    if cuts is not None:
        cuts = tuple(float(cut) for cut in cuts)
        if not 1 <= len(cuts) <= MAX_CUT_POINTS:
            raise GroupingError(f"the {key} of the study sheet are {len(cuts)} values; give 1 to {MAX_CUT_POINTS}")
        if any(b <= a for a, b in zip(cuts, cuts[1:])):
            shown = ", ".join(repr(cut) for cut in cuts)
            raise GroupingError(f"the {key} of the study sheet do not increase strictly ({shown})")
    groups = len(cuts) + 1 if cuts is not None else GROUPINGS[grouping].groups
    assert groups is not None
    if study.group_labels is not None:
        labels = tuple(study.group_labels)
        if len(labels) != groups:
            raise GroupingError(f"group_labels gives {len(labels)} labels for {groups} groups; give one label per group")
    elif key == V1_CUT_POINTS_KEY and cuts is not None:
        labels = V1_LABELS
    else:
        labels = default_labels(grouping, groups)
    return Plan(grouping, labels, cuts, key if cuts is not None else None)


def number_of_groups(study: StudyOptions) -> int | None:
    """How many groups the grouping and cut points make (None when the grouping is unknown or cut-points has none)."""
    cuts = study.cut_points if study.cut_points is not None else study.quartile_cutpoints
    if cuts is not None:
        return len(cuts) + 1
    kind = GROUPINGS.get(study.grouping or DEFAULT_GROUPING)
    return None if kind is None else kind.groups


# --- words -------------------------------------------------------------------------------------


def singular(results: Results) -> str:
    """'quartile', 'tertile', 'half', 'group' (for groups the user chose)."""
    return GROUPINGS[results.design.grouping].singular


def plural(results: Results) -> str:
    """'quartiles', 'tertiles', 'halves', 'groups'."""
    return GROUPINGS[results.design.grouping].plural


def cut_values(cuts: Sequence[float], formatter: Formatter, unit: str) -> str:
    """'5 and 8 µg/mL', '2.9, 9.1 and 18.5 µg/mL' (``unit``: the study's level unit)."""
    return f"{formatter.join([formatter.measure(cut, 'trough_level') for cut in cuts])} {unit}"


def name(results: Results, formatter: Formatter) -> str:
    """'quartiles', 'tertiles', 'groups defined by the cut points 5 and 8 µg/mL' (the cut point when there is one)."""
    if results.design.grouping != CUT_POINTS:
        return plural(results)
    points = "cut point" if len(results.cutpoints) == 1 else "cut points"
    return f"groups defined by the {points} {cut_values(results.cutpoints, formatter, results.study.level_unit)}"


def quantile_words(count: int) -> str:
    """'25th, 50th and 75th percentiles' for three edges, '33.3rd and 66.7th percentiles' for two; 'median' for one."""
    if count == 1:
        return "median"
    words = [_ordinal(100.0 * i / (count + 1)) for i in range(1, count + 1)]
    return (", ".join(words[:-1]) + " and " + words[-1]) + " percentiles"


def _ordinal(percent: float) -> str:
    text = f"{percent:.1f}"
    text = text[:-2] if text.endswith(".0") else text
    last = text[-1]
    suffix = {"1": "st", "2": "nd", "3": "rd"}.get(last, "th") if not text.endswith(("11", "12", "13")) else "th"
    return text + suffix


def capital_singular(results: Results) -> str:
    """'Quartile', 'Group'."""
    word = singular(results)
    return word[0].upper() + word[1:]


def closed_side(results: Results, formatter: Formatter) -> str:
    """'Trough levels in µg/mL; a level exactly at a cut point counts in the lower group (2.9 µg/mL in Q1).'"""
    if not results.cutpoints:
        return f"Trough levels in {results.study.level_unit}."
    first = f"{formatter.measure(results.cutpoints[0], 'trough_level')} {results.study.level_unit} in {results.strata[0].label}"
    return f"Trough levels in {results.study.level_unit}; a level exactly at a cut point counts in the lower group ({first})."


def group_range(lower: float | None, upper: float | None, formatter: Formatter) -> str:
    """A group's range as clinicians write it: '< 5', '5–8', '> 8' (the closed side is ``CLOSED_SIDE``)."""
    low = None if lower is None else formatter.measure(lower, "trough_level")
    high = None if upper is None else formatter.measure(upper, "trough_level")
    if low is None and high is None:
        return "all levels"
    if low is None:
        return f"< {high}"
    if high is None:
        return f"> {low}"
    return f"{low}–{high}"


def empty_groups_sentence(results: Results, formatter: Formatter) -> str:
    """'No analysed patient had a level in G4 (> 1000 µg/mL).' for the groups without patients; '' when none."""
    empty = [s for s in results.strata if s.n == 0]
    if not empty:
        return ""
    ranges = [f"{s.label} ({group_range(s.lower, s.upper, formatter)} {results.study.level_unit})" for s in empty]
    listed = ranges[0] if len(ranges) == 1 else ", ".join(ranges[:-1]) + " or " + ranges[-1]
    what = "it is empty and is" if len(empty) == 1 else "they are empty and are"
    return f"No analysed patient had a level in {listed}: {what} left out of every test."


# The data's own sample quantiles that make as many groups as the study's cut points, by that number of groups.
QUANTILE_NAMES = {2: "median", 3: "tertiles", 4: "quartiles", 5: "quintiles", 6: "sextiles"}


def sample_quantiles_sentence(results: Results, formatter: Formatter) -> str:
    """Beside cut points the study sheet gave, the cohort's own sample quantiles for as many groups, and whether
    the groups are those quantiles: 'The cohort's own quartiles are 3.50, 12.10 and 20.80 µg/mL, so these groups
    are not its quartiles.' '' when the groups are the quantiles (no cut points given)."""
    quantiles = results.design.sample_quantiles
    if not results.cutpoints_given or not quantiles:
        return ""
    what = QUANTILE_NAMES.get(len(quantiles) + 1, f"{len(quantiles) + 1}-quantiles")
    shown = [formatter.measure(q, "trough_level") for q in quantiles if q is not None]
    verb = "is" if len(quantiles) == 1 else "are"
    given = [formatter.measure(c, "trough_level") for c in results.cutpoints]
    if shown == given:
        return f"The cohort's own {what} {verb} the same, {cut_values(quantiles, formatter, results.study.level_unit)}, so these groups are its {what}."
    return (
        f"The cohort's own {what} (sample quantiles for as many groups, linear interpolation) {verb} "
        f"{cut_values(quantiles, formatter, results.study.level_unit)}, so these groups are not its {what}."
    )
