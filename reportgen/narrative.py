"""The report's prose, written from the results: structured abstract, Methods and Conclusions.

Everything returned is plain text with every number already written by the Formatter; escaping is the
template's job. The Conclusions follow guardrails: an observational cohort supports "associated with",
never a causal verb; a test above ``model.ALPHA`` is reported plainly as no significant difference, unless its
trend test or Spearman's ρ is significant, which is then said beside it; a test that could not be computed says
why; a direction is stated only when a trend test or Spearman's ρ is significant, and then from the sign of that
statistic; the conclusions name nothing the tables do not show, and the abstract's nothing its Results do not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from reportgen import grouping
from reportgen.drugs import CLASS_WORDS, design_of
from reportgen.formatting import COUNT_MEASURES, DECIMALS, EFFECT_SIZE_SYMBOLS, decimals_for
from reportgen.model import (
    ALPHA,
    CategoricalComparison,
    ConfidenceInterval,
    ContinuousComparison,
    Results,
    Sensitivity,
    SensitivityName,
    TestName,
    TestResult,
)
from reportgen.prose import (
    capital,
    counted,
    group_sizes,
    join_words,
    mid_sentence,
    p_or_reason,
    patients,
    patients_per_group,
    verb,
)

if TYPE_CHECKING:
    from reportgen.formatting import Formatter

# Outcomes quoted in the abstract, in this order, when the analysis produced them.
ABSTRACT_OUTCOMES = ("das28_esr", "cdai", "sdai", "sjc28", "tjc28", "esr_mm_h", "crp_mg_l")
ACTIVITY_INDICES = ("das28_esr", "cdai", "sdai")
# How the linear-by-linear association test of an ordered response is called in sentences ("trend p = 0.001").
ORDINAL_TREND = "linear-by-linear trend"
# Where every test's decision record is: the HTML report's Appendix lists them; the PDF's points there.
DECISION_RECORDS_AT = "in the Appendix of the HTML report (report.html) and in results.json"
# Why each test was used, for the Methods; "{small_expected}" is stats.SMALL_EXPECTED, "{groups}" the groups' name
# ("quartiles", "groups") and "{first}" the lowest group's label.
TEST_RATIONALE: dict[TestName, str] = {
    TestName.KRUSKAL_WALLIS: "compares the {groups} by ranks without assuming normally distributed values, which "
    "suits small groups and skewed measures such as CRP",
    TestName.ANOVA: "compares the means of the {groups}, assuming roughly normal values with similar spread in each, "
    "as chosen in the study sheet",
    TestName.CHI_SQUARE: "compares the distribution of a categorical variable across the {groups}; it relies on "
    "expected counts of about {small_expected} or more",
    TestName.FISHER_EXACT: "compares the distribution of a categorical variable across the {groups} exactly, without "
    "relying on large expected counts",
    TestName.FISHER_MONTE_CARLO: "the Fisher\u2013Freeman\u2013Halton test where the table was too large to enumerate: "
    "p is a seeded Monte Carlo estimate from random tables with the observed margins, not exact",
    TestName.JONCKHEERE_TERPSTRA: "tests for a monotonic trend along the ordered {groups} ({first} lowest level); the sign "
    "of its standardised statistic gives the direction",
    TestName.SPEARMAN: "rank correlation between the trough level itself and each outcome, using the level rather than the {groups}",
    TestName.LINEAR_BY_LINEAR: "tests for a trend of an ordered response (none < moderate < good) along the ordered "
    "{groups}; the sign of r gives the direction",
}


@dataclass(frozen=True)
class Section:
    """A headed block of prose; ``items`` are shown as a list after the paragraphs."""

    heading: str
    paragraphs: tuple[str, ...]
    items: tuple[str, ...] = ()


@dataclass(frozen=True)
class StructuredAbstract:
    title: str
    sections: tuple[Section, ...]  # Background, Objectives, Methods, Results, Conclusions
    character_count: int  # headings, text and spaces; the title is entered separately in submission systems
    character_limit: int
    warning: str | None

    def body(self) -> str:
        return abstract_body(self.sections)

    def as_text(self) -> str:
        """What abstract.txt holds: the title, a blank line, then one paragraph per section."""
        # Submission forms mangle no-break spaces; the count is the same with plain ones.
        return f"{self.title}\n\n{self.body()}\n".replace("\u00a0", " ")


@dataclass(frozen=True)
class Narrative:
    abstract: StructuredAbstract
    methods: tuple[Section, ...]
    conclusions: tuple[str, ...]
    limitations: tuple[str, ...] = ()  # the sentences of the Limitations paragraph, empty when none applies


def write_narrative(results: Results, formatter: Formatter) -> Narrative:
    return Narrative(
        abstract=write_abstract(results, formatter),
        methods=write_methods(results, formatter),
        conclusions=write_conclusions(results, formatter, with_numbers=True),
        limitations=write_limitations(results, formatter),
    )


# --- abstract ----------------------------------------------------------------------------------


ABSTRACT_FILE = "abstract.txt"
HEADING_SEPARATOR = ": "  # between a section's heading and its text, in abstract.txt and the count


def abstract_body(sections: tuple[Section, ...]) -> str:
    return "\n".join(f"{section.heading}{HEADING_SEPARATOR}{' '.join(section.paragraphs)}" for section in sections)


@dataclass(frozen=True)
class AbstractCounts:
    """The characters of abstract.txt's body (the title is entered separately), as congress forms count them."""

    with_headings: int  # the report's count: headings, text, spaces and the line breaks between sections
    with_headings_no_spaces: int
    without_headings: int
    without_headings_no_spaces: int

    def sentence(self) -> str:
        return (
            f"{self.with_headings} characters with spaces, {self.with_headings_no_spaces} without (headings "
            f"included); {self.without_headings} with spaces, {self.without_headings_no_spaces} without (headings "
            "left out); the title is not counted"
        )


def abstract_counts(text: str) -> AbstractCounts:
    """Count abstract.txt (``StructuredAbstract.as_text``): its title line, a blank line, one line per section."""
    lines = text.rstrip("\n").split("\n")[2:]
    body = "\n".join(lines)
    texts = "\n".join(line.partition(HEADING_SEPARATOR)[2] for line in lines)

    def no_spaces(value: str) -> int:
        return sum(1 for character in value if not character.isspace())

    return AbstractCounts(len(body), no_spaces(body), len(texts), no_spaces(texts))


# Shown, visibly, where only the authors can write: reportgen never writes a literature claim.
PLACEHOLDER = "[the authors' own sentences go here; set {key} in the study sheet]"


def authors_words(text: str, key: str) -> str:
    """The study sheet's sentences for a part of the abstract, or the bracketed placeholder."""
    return text.strip() or PLACEHOLDER.format(key=key)


def write_abstract(results: Results, formatter: Formatter) -> StructuredAbstract:
    study = results.study
    sections = (
        Section("Background", (authors_words(study.background, "background"),)),
        Section("Objectives", (authors_words(study.objective, "objective"),)),
        Section("Methods", (_abstract_methods(results, formatter),)),
        Section("Results", _abstract_results(results, formatter)),
        Section("Conclusions", write_conclusions(results, formatter, with_numbers=False)),
    )
    count = len(abstract_body(sections))
    limit = results.study.abstract_character_limit
    warning = None
    if count > limit:
        warning = (
            f"The abstract has {count} characters, {count - limit} over the limit of {limit} "
            "(spaces and headings included): shorten it before submitting."
        )
    return StructuredAbstract(results.study.title, sections, count, limit, warning)


def _abstract_methods(results: Results, formatter: Formatter) -> str:
    cohort = results.cohort
    month = cohort.follow_up_month
    outcomes = {o.variable: o for o in results.outcomes}
    index_labels = [outcomes[v].label for v in ACTIVITY_INDICES if v in outcomes]
    continuous_test = _first_test(results.outcomes)
    tests = [formatter.test_name(continuous_test)] if continuous_test else []
    eular = results.eular_response
    trend = f", with the {mid_sentence(formatter.test_name(eular.trend.test))} for its trend" if eular.trend is not None else ""
    tests.append(formatter.test_name(eular.test.test) + f" (EULAR response{trend})")
    extras = []
    if any(o.trend is not None for o in results.outcomes):
        extras.append(formatter.test_name(TestName.JONCKHEERE_TERPSTRA))
    if any(o.spearman is not None for o in results.outcomes):
        extras.append(formatter.test_name(TestName.SPEARMAN))
    extra = f", with the {' and '.join(extras)} against trough level" if extras else ""
    design = design_of(results.study)
    return (
        f"{cohort.n_included} RA patients treated with {design.introduced} by {design.route_words} were included. "
        f"Disease activity "
        f"({join_words(index_labels)}) and EULAR response were assessed at baseline and at month {month}; "
        f"{_locf_clause(cohort.n_locf, month, results.study.visit_window_months, cohort.n_placed_by_window)}. "
        f"{_abstract_level(results)}"
        f"{_grouped_sentence(results, formatter)} The {grouping.plural(results)} were compared with the {join_words(tests)}{extra}."
        + _abstract_primary(results)
    )


def _abstract_primary(results: Results) -> str:
    """' The primary outcome was DAS28-ESR at month 12; …': the endpoint and the multiplicity rule, briefly."""
    primary = primary_comparison(results)
    if primary is None:
        return ""
    secondary = " The other outcomes were secondary, with Holm-adjusted p-values." if len(results.outcomes) > 1 else ""
    return f" The primary outcome was {primary.label} at month {results.cohort.follow_up_month}.{secondary}"


def _abstract_results(results: Results, formatter: Formatter) -> tuple[str, ...]:
    cohort = results.cohort
    sizes = group_sizes(results.strata, formatter)
    first = (
        f"Of {cohort.n_included} patients, {cohort.n_analysed} had a trough level and were analysed by "
        f"{grouping.singular(results)}: {sizes}."
    )
    sentences = [first]
    empty = grouping.empty_groups_sentence(results, formatter)
    if empty:
        sentences.append(empty)
    outcomes = {o.variable: o for o in results.outcomes}
    month = cohort.follow_up_month
    for variable in abstract_outcomes(results):
        outcome = outcomes.get(variable)
        if outcome is None:
            continue
        by_group = "; ".join(
            f"{s.label} {formatter.mean_sd(g, outcome.variable)}" for s, g in zip(results.strata, outcome.groups)
        )
        sentences.append(f"{capital(_label_with_unit(outcome))} at month {month}: {by_group} ({p_or_reason(outcome.test, formatter)}).")
    eular = results.eular_response
    rows = "; ".join(
        f"{category} {'/'.join(str(c) for c in counts)}" for category, counts in zip(eular.categories, eular.counts)
    )
    labels = "/".join(s.label for s in results.strata)
    trend = f"; {ORDINAL_TREND} {p_or_reason(eular.trend, formatter)}" if eular.trend is not None else ""
    sentences.append(f"EULAR response, patients in {labels}: {rows} ({p_or_reason(eular.test, formatter)}){trend}.")
    das28 = outcomes.get("das28_esr")
    if das28 is not None and das28.spearman is not None:
        sentences.append(
            f"Spearman correlation of trough level with {das28.label}: ρ = {formatter.rho(das28.spearman.rho)} "
            f"({_rho_interval(das28.spearman.ci, formatter)}{formatter.p_equation(das28.spearman.p_value)})."
        )
    return (" ".join(sentences),)


# --- methods -----------------------------------------------------------------------------------


def write_methods(results: Results, formatter: Formatter) -> tuple[Section, ...]:
    cohort = results.cohort
    design = design_of(results.study)
    month = cohort.follow_up_month
    # Imported here: this module is imported (through the report document) by the PDF worker, which must not load numpy.
    from reportgen import indices

    _, low_activity, high_activity = indices.DAS28_THRESHOLDS
    large, moderate = indices.EULAR_LARGE_IMPROVEMENT, indices.EULAR_MODERATE_IMPROVEMENT

    def coefficient(value: float) -> str:  # as given, with at least 2 decimals: 0.70, 0.014
        return formatter.number(value, max(2, _decimals_given(value)))

    def threshold(value: float) -> str:  # as given: 1.2, 0.6
        return formatter.number(value, max(1, _decimals_given(value)))

    patients_section = Section(
        "Patients and follow-up",
        (
            f"{cohort.n_included} patients were included. "
            + (
                f"{cohort.n_analysed} had a trough level and were compared across {grouping.plural(results)}; "
                f"{patients(cohort.n_no_level)} without {_any_level(results)} {verb(cohort.n_no_level, 'is', 'are')} described "
                "in Table 1 but not compared."
                if cohort.n_no_level
                else f"All had a trough level and were compared across {grouping.plural(results)}."
            ),
            f"Disease activity was assessed at baseline (month 0) and at month {month}. {_follow_up_rule(results)}",
        ),
    )
    indices_section = Section(
        "Disease-activity indices",
        ("Indices were computed per visit at full precision and rounded only for display:",),
        (
            f"DAS28-ESR = {coefficient(indices.DAS28_TJC)}·√TJC28 + {coefficient(indices.DAS28_SJC)}·√SJC28 + "
            f"{coefficient(indices.DAS28_LN_ESR)}·ln(ESR) + {coefficient(indices.DAS28_PTGA)}·PtGA, "
            "with ESR in mm/h and the patient global assessment (PtGA) on a 0–100 mm visual analogue scale.",
            f"DAS28-CRP = {coefficient(indices.DAS28_TJC)}·√TJC28 + {coefficient(indices.DAS28_SJC)}·√SJC28 + "
            f"{coefficient(indices.DAS28_LN_CRP)}·ln(CRP + 1) + {coefficient(indices.DAS28_PTGA)}·PtGA + "
            f"{coefficient(indices.DAS28_CRP_CONSTANT)}, with CRP in mg/L.",
            "CDAI = TJC28 + SJC28 + PtGA + EGA, with both global assessments (patient, evaluator) in cm (0–10).",
            "SDAI = CDAI + CRP, with CRP in mg/dL.",
            f"ΔDAS28 = baseline DAS28-ESR − follow-up DAS28-ESR. EULAR response (good, moderate, none) from the "
            f"follow-up DAS28-ESR and ΔDAS28, both rounded to {indices.CATEGORY_DECIMALS} decimals (good: ΔDAS28 > "
            f"{threshold(large)} and DAS28 ≤ {threshold(low_activity)}; none: ΔDAS28 ≤ {threshold(moderate)}, or "
            f"ΔDAS28 ≤ {threshold(large)} with DAS28 > {threshold(high_activity)}; moderate otherwise).",
        ),
    )
    empty = grouping.empty_groups_sentence(results, formatter)
    groups_section = Section(
        f"Trough-level {grouping.plural(results)}",
        (
            f"{capital(design.introduced)} was given by {design.route_words}; trough levels ({design.level_unit}) were "
            f"measured in serum drawn just before an {design.administration}. {_level_rule(results)}",
            f"{_grouped_sentence(results, formatter)} "
            f"Each interval is closed on the right: {_interval_chain(results, formatter)}. "
            f"{grouping.capital_singular(results)} sizes: {join_words([f'{s.label} {s.n}' for s in results.strata])}."
            + (f" {empty}" if empty else ""),
        ),
    )
    statistics_section = Section(
        "Statistical analysis",
        (
            *((f"Estimates are given with two-sided {_intervals_sentence(results, formatter)}",) if any(
                interval is not None and interval.lower is not None for _, interval in all_intervals(results)
            ) else ()),
            "Continuous variables are summarised as mean ± SD and median [interquartile range]"
            f"{_count_measures_clause(results)}, categorical variables as n (%). Tests are two-sided; p < "
            f"{formatter.number(ALPHA, 2)} is called significant, decided on the unrounded p.",
            *_multiplicity_paragraphs(results),
            "The tests, and why each was chosen (the decision "
            f"record of every single test, with any assumption at risk, is {DECISION_RECORDS_AT}):",
        ),
        _decision_items(results, formatter) + _adjusted_items(results, formatter),
    )
    sensitivity_section = _sensitivity_methods(results, formatter)
    return (
        patients_section,
        missing_data_section(results, formatter),
        indices_section,
        groups_section,
        statistics_section,
        *sensitivity_section,
    )


def _multiplicity_paragraphs(results: Results) -> tuple[str, ...]:
    """The primary outcome, the secondary ones and the Holm family, named."""
    primary = primary_comparison(results)
    if primary is None:
        return ()
    month = results.cohort.follow_up_month
    secondary = [mid_sentence(o.label) for o in results.outcomes if o is not primary]
    family = sum(1 for o in results.outcomes if o.p_holm is not None)
    text = (
        f"The primary outcome was {primary.label} at month {month} (primary_outcome in the study sheet), called "
        "significant on its own p-value."
    )
    if secondary:
        text += (
            f" The other outcomes were secondary ({join_words(secondary)}) and were called significant only on "
            f"their Holm-adjusted p-value: Holm's step-down method over the family of the {family} overall tests of "
            "the outcomes at follow-up, the primary outcome's among them."
        )
    text += (
        " The trend test and Spearman's ρ are supportive analyses, not adjusted: they give the direction of an "
        "association. EULAR response, the baseline characteristics and the disease-activity categories are reported "
        f"with unadjusted p-values. After a significant overall test, Dunn's test compared every pair of {grouping.plural(results)}, "
        "with Holm's adjustment over the pairs of that outcome."
    )
    return (text,)


def _sensitivity_methods(results: Results, formatter: Formatter) -> tuple[Section, ...]:
    """What each sensitivity analysis changed, with the withdrawn patients defined from the data."""
    primary = primary_comparison(results)
    analyses = {row.analysis for row in results.sensitivity}
    if primary is None or not analyses - {SensitivityName.LOCF}:
        return ()
    cohort = results.cohort
    month = cohort.follow_up_month
    label = primary.label
    baseline = (
        "no change from baseline" if primary.variable == "delta_das28" else f"their baseline {label} (baseline carried forward)"
    )
    items = []
    if SensitivityName.COMPLETERS in analyses:
        items.append(f"Completers only: the analysed patients with a month-{month} visit, leaving out those carried forward.")
    if SensitivityName.NRI in analyses:
        definition = (
            f"Withdrawals as non-responders: a patient counted as withdrawn when a withdrawal month at or before month "
            f"{month} was recorded and there was no month-{month} visit"
        )
        withdrawn = results.flow.withdrawn if results.flow is not None else None
        count = f" ({patients(withdrawn)} of {cohort.n_included})" if withdrawn else ""
        items.append(
            f"{definition}; no patient was, so this analysis repeats the primary one."
            if withdrawn == 0
            else f"{definition}{count}; withdrawn patients were given EULAR response none and {baseline}."
        )
    if SensitivityName.SAMPLE_QUANTILES in analyses:
        k = len(results.strata)
        cuts = join_words([f"{formatter.number(100 * j / k, 0 if (100 * j) % k == 0 else 1)}%" for j in range(1, k)])
        items.append(
            f"The data's own quantile groups: instead of the cut points given in the study sheet, the analysed patients "
            f"were cut into the same {k} groups at the {cuts} quantiles of their own levels (linear interpolation)."
        )
    return (
        Section(
            "Sensitivity analyses",
            (
                f"The primary outcome, {label}, and EULAR response were analysed again with the same tests "
                "(the sensitivity table beside the primary analysis, which carries the last observation forward). A sensitivity "
                f"analysis changes the conclusion when its p-value falls on the other side of {formatter.number(ALPHA, 2)} "
                "than the primary analysis's; the Results and Conclusions say so where it does. Each analysis also "
                f"compares the highest trough-level group with the lowest: for {label}, the Hodges–Lehmann difference "
                "with its Mann–Whitney confidence interval; for EULAR response, the difference in the proportion of "
                "good responders with Newcombe's hybrid score interval.",
            ),
            tuple(items),
        ),
    )


def missing_data_section(results: Results, formatter: Formatter) -> Section:
    """What was missing (trough level, Table 1 values, the follow-up visit) and how each was handled."""
    cohort = results.cohort
    month = cohort.follow_up_month
    level = (
        f"{capital(patients(cohort.n_no_level))} had no trough level at or before month {month} and "
        f"{verb(cohort.n_no_level, 'was', 'were')} left out of the comparisons across {grouping.plural(results)}."
        if cohort.n_no_level
        else "Every patient had a trough level."
    )
    labels = {comparison.variable: comparison.label for comparison in results.baseline}
    gaps = [f"{mid_sentence(labels[variable])} ({patients(count)})" for variable, count in results.missing if count]
    baseline = (
        f"At baseline, values were missing for {join_words(gaps)}. Table 1 summarises each variable over the "
        "patients with a value (complete cases, nothing imputed) and gives their number beside the variable "
        "wherever any are missing."
        if gaps
        else "No baseline value in Table 1 was missing."
    )
    withdrawn = results.flow.withdrawn if results.flow is not None else None
    follow_up = (
        f"A missing month-{month} visit was replaced by the last observation carried forward ({patients(cohort.n_locf)}"
        + (f", {withdrawn} of them after withdrawing" if withdrawn else "")
        + "; the patient-flow figure gives them by " + grouping.singular(results) + ", with the reasons for withdrawal); no other value was imputed."
        if cohort.n_locf
        else f"No month-{month} visit was missing, so nothing was carried forward; no value was imputed."
    )
    return Section("Missing data", (f"{level} {baseline} {follow_up}",))


def _adjusted_items(results: Results, formatter: Formatter) -> tuple[str, ...]:
    """The adjusted estimate's model and who is in it, for the Methods' list of analyses."""
    estimates = [o.adjusted for o in results.outcomes if o.adjusted is not None]
    if not estimates:
        return ()
    covariates: list[str] = []
    for estimate in estimates:
        covariates += [label for label in estimate.covariate_labels[1:] if label not in covariates]
    model = adjusted_model_sentence(tuple(covariates), estimates[0].ci.level, formatter)
    who = adjusted_patients_sentence(
        max(e.level_not_positive for e in estimates), max(e.covariate_not_positive for e in estimates)
    )
    return (f"Adjusted estimate: {mid_sentence(model)} {who}",)


def test_records(results: Results) -> tuple[tuple[str, TestResult], ...]:
    """Every test with a label saying what it compared, in report order (the Appendix lists them all)."""
    records: list[tuple[str, TestResult]] = []
    for comparison in results.baseline:
        records.append((f"Baseline {mid_sentence(comparison.label)}", comparison.test))
    for outcome in results.outcomes:
        records.append((f"Follow-up {mid_sentence(outcome.label)}", outcome.test))
        if outcome.trend is not None:
            records.append((f"Follow-up {mid_sentence(outcome.label)}, trend", outcome.trend))
    for comparison in results.activity_categories:
        records.append((comparison.label, comparison.test))
    records.append((results.eular_response.label, results.eular_response.test))
    if results.eular_response.trend is not None:
        records.append((f"{results.eular_response.label}, trend", results.eular_response.trend))
    return tuple(records)


def _decision_items(results: Results, formatter: Formatter) -> tuple[str, ...]:
    """One line per kind of test: why it was used, what for, and how often an assumption was at risk."""
    from reportgen.stats import SMALL_EXPECTED, cochran_rule_words  # imported here, as indices in write_methods

    by_test: dict[TestName, list[TestResult]] = {}
    for _label, test in test_records(results):
        by_test.setdefault(test.test, []).append(test)
    items = []
    for name, tests in by_test.items():
        rationale = TEST_RATIONALE[name].format(small_expected=f"{SMALL_EXPECTED:g}", **_rationale_words(results))
        at_risk = sum(1 for t in tests if t.risks)
        risk = f"; an assumption was at risk in {at_risk} of {len(tests)}" if at_risk else ""
        items.append(f"{formatter.test_name(name)}: {rationale} ({counted(len(tests), 'comparison')}{risk}).")
    if any(o.spearman is not None for o in results.outcomes):
        items.append(f"{formatter.test_name(TestName.SPEARMAN)}: {TEST_RATIONALE[TestName.SPEARMAN].format(**_rationale_words(results))}.")
    if results.study.categorical_test == "auto":
        items.append(f"Categorical test chosen for each table (categorical_test = auto): {cochran_rule_words()}.")
    return tuple(items)


def _rationale_words(results: Results) -> dict[str, str]:
    return {"groups": grouping.plural(results), "first": results.strata[0].label if results.strata else ""}


def adjusted_model_sentence(covariates: tuple[str, ...], level: float, formatter: Formatter) -> str:
    """The adjusted estimate's model in one sentence (Methods and the table's note); ``covariates``: the
    labels of the study's covariates beside each measure's own baseline value."""
    others = f" and for {join_words(list(covariates))}" if covariates else ""
    return (
        "Linear regression (least squares) of each measure at follow-up on log2 of the trough level, adjusted for "
        f"the same measure at baseline (for ΔDAS28-ESR, baseline DAS28-ESR){others}; β is the change per doubling "
        f"of the trough level, with its {formatter.number(100 * level, 0)}% confidence interval and p from Student's "
        "t with n − p df (p coefficients)."
    )


def adjusted_patients_sentence(level_not_positive: int, logged_not_positive: int) -> str:
    """Who is in each adjusted model, and who was left out because a value cannot be logged."""
    sentence = "Each model holds the analysed patients with every value it needs (n)"
    if level_not_positive:
        sentence += (
            f"; {patients(level_not_positive)} with a trough level of 0 {verb(level_not_positive, 'was', 'were')} "
            "left out, since 0 cannot be logged"
        )
    if logged_not_positive:
        sentence += (
            f"; {patients(logged_not_positive)} whose logged covariate is 0 or below {verb(logged_not_positive, 'was', 'were')} left out"
        )
    return sentence + "."


# --- conclusions -------------------------------------------------------------------------------


def write_conclusions(results: Results, formatter: Formatter, *, with_numbers: bool) -> tuple[str, ...]:
    """Guardrailed sentences, the primary outcome's result first (called on its own p), then EULAR response,
    then the secondary outcomes (called only on their Holm-adjusted p); after each primary result, what the
    sensitivity analyses did to it. ``with_numbers`` adds the p-values (the abstract's version leaves them
    out, and names only the outcomes the abstract's Results quote, ``abstract_outcomes``)."""
    primary = primary_comparison(results)
    quoted = set(abstract_outcomes(results))
    secondary = [
        o for o in results.outcomes if o is not primary and (with_numbers or o.variable in quoted)
    ]
    sentences: list[str] = []
    if primary is not None:
        sentences.append(_primary_conclusion(primary, results, formatter, with_numbers))
        sentences.extend(_sensitivity_conclusion(results, primary.variable, primary.label, formatter, with_numbers))
    sentences.append(_eular_conclusion(results.eular_response, results, formatter, with_numbers))
    sentences.extend(
        _sensitivity_conclusion(results, results.eular_response.variable, results.eular_response.label, formatter, with_numbers)
    )
    sentences.extend(_secondary_conclusions(secondary, results, formatter, with_numbers))
    from reportgen.stats import IMPRECISE_GROUP  # imported here, as indices in write_methods

    sizes = [s.n for s in results.strata if s.n]  # an empty group is said on its own, not as '0 to 5 patients'
    smallest, largest = min(sizes, default=0), max(sizes, default=0)
    caveat = (
        f"This is an observational cohort of {results.cohort.n_analysed} analysed patients: the associations do not "
        "show that raising trough levels would lower disease activity"
    )
    if smallest < IMPRECISE_GROUP:
        caveat += f", and with {patients_per_group(smallest, largest, grouping.singular(results))} the estimates are imprecise"
    sentences.append(caveat + ".")
    return tuple(sentences)


def primary_comparison(results: Results) -> ContinuousComparison | None:
    """The outcome comparison the study is judged on (``StudyOptions.primary_outcome``)."""
    return next((o for o in results.outcomes if o.variable == results.study.primary_outcome), None)


def abstract_outcomes(results: Results) -> tuple[str, ...]:
    """The outcomes the abstract's Results quote: the primary outcome first when ``ABSTRACT_OUTCOMES`` lacks it."""
    primary = results.study.primary_outcome
    return ABSTRACT_OUTCOMES if primary in ABSTRACT_OUTCOMES else (primary, *ABSTRACT_OUTCOMES)


def _primary_conclusion(outcome: ContinuousComparison, results: Results, formatter: Formatter, with_numbers: bool) -> str:
    """The primary outcome, called on its unadjusted p; the trend test and Spearman's ρ said as supportive."""
    label = mid_sentence(outcome.label)
    p = f" ({formatter.p_equation(outcome.test.p_value)})" if with_numbers else ""
    if outcome.test.p_value is None:
        return f"{capital(label)}, the primary outcome, could not be compared across {grouping.plural(results)} ({p_or_reason(outcome.test, formatter)})."
    direction = trend_direction(outcome)
    if _significant(outcome.test.p_value):
        if not direction:
            return (
                f"{capital(label)}, the primary outcome, differed across {grouping.plural(results)}{p}, without a significant monotonic "
                "trend with trough level."
            )
        return (
            f"Higher trough levels were associated with {_direction_word(direction)} {label} at follow-up, the primary "
            f"outcome{p}; {_supportive(outcome, formatter, with_numbers)} {verb(len(_supporting(outcome)), 'agrees', 'agree')}."
        )
    if direction:
        return (
            f"{capital(label)}, the primary outcome, did not differ significantly across {grouping.plural(results)}{p}, although "
            f"{_supportive(outcome, formatter, with_numbers)} {verb(len(_supporting(outcome)), 'was', 'were')} significant, "
            f"with {_direction_word(direction)} {label} at higher trough levels."
        )
    return f"No statistically significant difference across {grouping.plural(results)} was found for {label}, the primary outcome{p}."


def _supporting(outcome: ContinuousComparison) -> list[str]:
    """Which supportive analyses are significant: 'trend', 'rho'."""
    found = []
    if outcome.trend is not None and _significant(outcome.trend.p_value):
        found.append("trend")
    if outcome.spearman is not None and _significant(outcome.spearman.p_value):
        found.append("rho")
    return found


def _supportive(outcome: ContinuousComparison, formatter: Formatter, with_numbers: bool) -> str:
    """'the supportive trend test (p = 0.002) and Spearman's ρ (−0.56, p < 0.001)': the significant ones."""
    parts = []
    for kind in _supporting(outcome):
        if kind == "trend":
            parts.append("trend test" + (f" ({formatter.p_equation(outcome.trend.p_value)})" if with_numbers else ""))  # type: ignore[union-attr]
        else:
            spearman = outcome.spearman
            parts.append(
                "Spearman's ρ"
                + (f" = {formatter.rho(spearman.rho)} ({formatter.p_equation(spearman.p_value)})" if with_numbers else " with trough level")  # type: ignore[union-attr]
            )
    return "the supportive " + join_words(parts)


def _direction_word(direction: int) -> str:
    return "lower" if direction < 0 else "higher"


def _secondary_conclusions(
    outcomes: list[ContinuousComparison], results: Results, formatter: Formatter, with_numbers: bool
) -> list[str]:
    """The secondary outcomes, called only on their Holm-adjusted p (``p_holm``); a direction is said only
    where a supportive trend test or Spearman's ρ gives one."""
    lower: list[str] = []
    higher: list[str] = []
    undirected: list[str] = []
    not_significant: list[str] = []
    untested: dict[str, list[str]] = {}
    for outcome in outcomes:
        label = mid_sentence(outcome.label)
        adjusted = f" ({_adjusted_p(outcome.p_holm, formatter)})" if with_numbers else ""
        if outcome.test.p_value is None or outcome.p_holm is None:
            untested.setdefault(p_or_reason(outcome.test, formatter), []).append(label)
        elif _significant(outcome.p_holm):
            {-1: lower, 1: higher, 0: undirected}[trend_direction(outcome)].append(label + adjusted)
        else:
            not_significant.append(label + adjusted)
    sentences: list[str] = []
    for words, group in (("lower", lower), ("higher", higher)):
        if group:
            sentences.append(
                f"Of the secondary outcomes, after Holm adjustment, higher trough levels were associated with {words} "
                f"{join_words(group)} at follow-up."
            )
    if undirected:
        sentences.append(
            f"After Holm adjustment, {join_words(undirected)} differed across {grouping.plural(results)}, without a significant monotonic "
            "trend with trough level."
        )
    if not_significant:
        sentences.append(
            f"After Holm adjustment, no statistically significant difference across {grouping.plural(results)} was found for "
            f"{join_words(not_significant)}."
        )
    for reason, labels in untested.items():
        sentences.append(f"{capital(join_words(labels))} could not be compared across {grouping.plural(results)} ({reason}).")
    return sentences


def _adjusted_p(p_holm: float | None, formatter: Formatter) -> str:
    """'adjusted p = 0.023'."""
    return f"adjusted {formatter.p_equation(p_holm)}"


# Said of the primary outcome beside its name in the outcomes table.
PRIMARY_OUTCOME = "primary outcome"


def sensitivity_results(results: Results, formatter: Formatter) -> str:
    """For the Results, in plain words: which sensitivity analysis changed which conclusion, and how; or that
    none did. Empty without sensitivity analyses."""
    rows = [row for row in results.sensitivity if row.analysis is not SensitivityName.LOCF]
    if not rows:
        return ""
    primary = {row.outcome: row for row in results.sensitivity if row.analysis is SensitivityName.LOCF}
    sentences = []
    for row in rows:
        if not row.conclusion_changes:
            continue
        now = "differed significantly" if _significant(row.test.p_value) else "no longer differed significantly"
        before = primary.get(row.outcome)
        against = f"; {formatter.p_equation(before.test.p_value)} in the primary analysis" if before is not None else ""
        sentences.append(
            f"With {SENSITIVITY_NAMES[row.analysis]}, {mid_sentence(row.label)} {now} across {grouping.plural(results)} "
            f"({formatter.p_equation(row.test.p_value)}{against})."
        )
    if not sentences:
        return "No sensitivity analysis changed a conclusion of the primary analysis."
    return " ".join(sentences) + " The other sensitivity analyses led to the same conclusions as the primary analysis."


# How each sensitivity analysis is named in prose and in the sensitivity table.
SENSITIVITY_NAMES: dict[SensitivityName, str] = {
    SensitivityName.LOCF: "last observation carried forward (primary analysis)",
    SensitivityName.COMPLETERS: "completers only",
    SensitivityName.NRI: "withdrawals as non-responders",
    SensitivityName.SAMPLE_QUANTILES: "the data's own quantile groups",
}


def _sensitivity_conclusion(
    results: Results, variable: str, label: str, formatter: Formatter, with_numbers: bool
) -> list[str]:
    """What the sensitivity analyses did to one primary result, in plain words: held, or changed (and how)."""
    rows = [row for row in results.sensitivity if row.outcome == variable and row.analysis is not SensitivityName.LOCF]
    if not rows:
        return []

    def named(row: Sensitivity) -> str:
        return SENSITIVITY_NAMES[row.analysis] + (f" ({formatter.p_equation(row.test.p_value)})" if with_numbers else "")

    changed = [row for row in rows if row.conclusion_changes]
    held = [row for row in rows if not row.conclusion_changes and row.test.p_value is not None]
    untested = [row for row in rows if row.test.p_value is None]
    sentences = []
    if changed:
        for row in changed:
            now = "differed significantly" if _significant(row.test.p_value) else "no longer differed significantly"
            sentences.append(
                f"The conclusion on {mid_sentence(label)} changed in a sensitivity analysis: with "
                f"{named(row)}, it {now} across {grouping.plural(results)}."
            )
        if held and with_numbers:  # the abstract, kept within its character limit, names only the change
            sentences.append(f"It held with {join_words([named(row) for row in held])}.")
    elif held:
        sentences.append(
            f"The conclusion on {mid_sentence(label)} held in every sensitivity analysis"
            + (" that could be computed" if untested else "")
            + ": "
            f"{join_words([named(row) for row in held])}."
        )
    for row in untested:
        sentences.append(
            f"The sensitivity analysis with {SENSITIVITY_NAMES[row.analysis]} could not be computed for "
            f"{mid_sentence(label)} ({p_or_reason(row.test, formatter)})."
        )
    return sentences


def trend_direction(outcome: ContinuousComparison) -> int:
    """−1 or +1 when a significant trend test or Spearman ρ gives a direction with trough level, else 0."""
    if outcome.trend is not None and _significant(outcome.trend.p_value) and outcome.trend.statistic:
        return -1 if outcome.trend.statistic < 0 else 1
    spearman = outcome.spearman
    if spearman is not None and _significant(spearman.p_value) and spearman.rho:
        return -1 if spearman.rho < 0 else 1
    return 0


def _with_ordinal_trend(comparison: CategoricalComparison, formatter: Formatter) -> str:
    """'p = 0.006; trend p < 0.001': the omnibus p, and the linear-by-linear p when there is one."""
    text = p_or_reason(comparison.test, formatter)
    if comparison.trend is not None:
        text += f"; {ORDINAL_TREND} {p_or_reason(comparison.trend, formatter)}"
    return text


def _eular_conclusion(
    eular: CategoricalComparison, results: Results, formatter: Formatter, with_numbers: bool
) -> str:
    if eular.test.p_value is None:
        return f"EULAR response could not be compared across {grouping.plural(results)} ({p_or_reason(eular.test, formatter)})."
    p = f" ({_with_ordinal_trend(eular, formatter)})" if with_numbers else ""
    trend = eular.trend
    if not _significant(eular.test.p_value):
        if trend is not None and _significant(trend.p_value) and trend.effect_size:
            better = "better" if trend.effect_size > 0 else "worse"
            return (
                f"EULAR response did not differ significantly across {grouping.plural(results)}{p}, although the {ORDINAL_TREND} test "
                f"was significant, with {better} responses at higher trough levels."
            )
        return f"EULAR response did not differ significantly across {grouping.plural(results)}{p}."
    sentence = f"The distribution of EULAR response differed across {grouping.plural(results)}{p}"
    if "good" in eular.categories and results.strata:
        good = eular.counts[eular.categories.index("good")]
        totals = [sum(column) for column in zip(*eular.counts)]
        first, last = results.strata[0].label, results.strata[-1].label
        # Only a contrast is worth a clause: "0 of 3 in Q1 and 0 of 3 in Q4" says nothing.
        if totals[0] and totals[-1] and good[0] * totals[-1] != good[-1] * totals[0]:
            sentence += (
                f": a good response in {good[0]} of {totals[0]} patients in {first} "
                f"and {good[-1]} of {totals[-1]} in {last}"
            )
    return sentence + "."


# --- estimates with confidence intervals ------------------------------------------------------------------

# The outcome whose correlation and shift the Results text quotes (as the abstract quotes its rho).
ESTIMATES_OUTCOME = "das28_esr"
GOOD_RESPONSE = "good"


def interval_methods_note(intervals: Iterable[tuple[str, ConfidenceInterval | None]], formatter: Formatter) -> str:
    """'95% CIs: means, t distribution; medians, …': each method named once, for what it was used.

    ``intervals``: (what, interval) pairs, what being a plural noun ("means") or an effect-size name.
    """
    by_what: dict[str, list[str]] = {}
    level = None
    for what, interval in intervals:
        if interval is None or interval.lower is None or interval.upper is None:
            continue  # no interval was given, so its method is not named
        level = interval.level if level is None else level
        methods = by_what.setdefault(EFFECT_SIZE_SYMBOLS.get(what, what), [])
        if interval.method not in methods:
            methods.append(interval.method)
    if level is None:
        return ""
    by_methods: dict[tuple[str, ...], list[str]] = {}
    for what, methods in by_what.items():
        by_methods.setdefault(tuple(methods), []).append(what)
    parts = [
        f"{join_words(whats)}, {' or '.join(formatter.interval_method(m) for m in methods)}" for methods, whats in by_methods.items()
    ]
    return f"{formatter.ci_label(level)}s: {'; '.join(parts)}."


def write_estimates(results: Results, formatter: Formatter) -> tuple[str, ...]:
    """The Results text's estimates: Spearman's rho and the highest-vs-lowest shift of DAS28-ESR, and the
    proportion with a good EULAR response in each group, each with its confidence interval and method."""
    paragraphs = []
    month = results.cohort.follow_up_month
    outcome = next((o for o in results.outcomes if o.variable == ESTIMATES_OUTCOME), None)
    if outcome is not None:
        sentences = []
        spearman = outcome.spearman
        if spearman is not None and spearman.rho is not None:
            sentences.append(
                f"Spearman's ρ between the trough level and {outcome.label} at month {month} was "
                f"{formatter.rho(spearman.rho)} ({_rho_interval(spearman.ci, formatter)}"
                f"{formatter.p_equation(spearman.p_value)}; n = {spearman.n})."
            )
        shift = outcome.difference
        if shift is not None and shift.estimate is not None:
            sentences.append(
                f"The median difference between a patient in {shift.high} and one in {shift.low} (Hodges–Lehmann shift) "
                f"was {formatter.measure(shift.estimate, outcome.variable)} ({formatter.ci_label(shift.ci.level)} "
                f"{formatter.interval(shift.ci, decimals_for(outcome.variable))})."
            )
        if sentences:
            paragraphs.append(" ".join(sentences))
    eular = results.eular_response
    if GOOD_RESPONSE in eular.categories and eular.proportion_cis:
        index = eular.categories.index(GOOD_RESPONSE)
        totals = [sum(column) for column in zip(*eular.counts)]
        parts = []
        for stratum, count, total, interval in zip(results.strata, eular.counts[index], totals, eular.proportion_cis[index]):
            if total == 0:
                parts.append(f"no patient in {stratum.label}")
                continue
            parts.append(
                f"{count} of {total} in {stratum.label} ({formatter.percent(100.0 * count / total)}%; "
                f"{formatter.ci_label(interval.level)} {formatter.interval_percent(interval)}%)"
            )
        paragraphs.append(f"A good EULAR response at month {month} was reached by {join_words(parts)}.")
    notes = interval_methods_note(_estimate_intervals(results), formatter)
    if paragraphs and notes:
        paragraphs[-1] += f" {capital(notes)}"
    return tuple(paragraphs)


def _intervals_sentence(results: Results, formatter: Formatter) -> str:
    """'95% CIs: means, t distribution; …' for the Methods, with the bootstrap's resampling said."""
    return interval_methods_note(all_intervals(results), formatter)


def _rho_interval(interval: ConfidenceInterval | None, formatter: Formatter) -> str:
    """'95% CI −0.75 to −0.26; ' before the p of a rho, or nothing when there is no interval."""
    if interval is None or interval.lower is None or interval.upper is None:
        return ""
    return f"{formatter.ci_label(interval.level)} {formatter.interval(interval, DECIMALS['rho'])}; "


def all_intervals(results: Results) -> list[tuple[str, ConfidenceInterval | None]]:
    """Every interval the report shows, with what each is of (for the Methods, naming each method once)."""
    found: list[tuple[str, ConfidenceInterval | None]] = []
    for outcome in results.outcomes:
        for summary in (outcome.overall, *outcome.groups):
            found += [("means", summary.mean_ci), ("medians", summary.median_ci)]
    for outcome in results.outcomes:
        found.append(("Spearman's ρ", outcome.spearman.ci if outcome.spearman else None))
    for outcome in results.outcomes:
        found.append((f"shifts between the highest and the lowest {grouping.singular(results)}", outcome.difference.ci if outcome.difference else None))
    for comparison in (*results.outcomes, *results.activity_categories, results.eular_response):
        found.append((comparison.test.effect_size_name or "effect sizes", comparison.test.effect_size_ci))
    found += [("proportions", interval) for row in results.eular_response.proportion_cis for interval in row]
    return found


def _estimate_intervals(results: Results) -> list[tuple[str, ConfidenceInterval | None]]:
    """The intervals ``write_estimates`` quotes, with what each is of."""
    found: list[tuple[str, ConfidenceInterval | None]] = []
    outcome = next((o for o in results.outcomes if o.variable == ESTIMATES_OUTCOME), None)
    if outcome is not None:
        found.append(("Spearman's ρ", outcome.spearman.ci if outcome.spearman else None))
        found.append(("the shift", outcome.difference.ci if outcome.difference else None))
    eular = results.eular_response
    if GOOD_RESPONSE in eular.categories and eular.proportion_cis:
        found += [("proportions", interval) for interval in eular.proportion_cis[eular.categories.index(GOOD_RESPONSE)]]
    return found


# --- limitations -------------------------------------------------------------------------------

# Said when ``indices.lowers_acute_phase_reactants(study)``: {drug} is the drug's name and {drug_class} its class
# in words (reportgen.drugs), {indices} the labels of the indices containing ESR or CRP, {reference} the label of
# the one containing neither.
ACUTE_PHASE_LIMITATION = (
    "{drug}, {drug_class}, lowers ESR and CRP directly, apart from any effect on "
    "joint inflammation, so {indices} fall with the drug itself and can show remission while joints are still "
    "active; {reference}, which contains neither, is the reference index."
)


def write_limitations(results: Results, formatter: Formatter) -> tuple[str, ...]:
    """The Limitations paragraph, one sentence per limitation the data show, each from structured values."""
    # Imported here, as in write_methods: the PDF worker imports this module and must not load numpy.
    from reportgen import indices
    from reportgen.stats import IMPRECISE_GROUP, SMALL_GROUP

    cohort = results.cohort
    month = cohort.follow_up_month
    sentences: list[str] = []
    sizes = [s.n for s in results.strata if s.n]  # an empty group is said on its own (grouping.empty_groups_sentence)
    if sizes and min(sizes) < IMPRECISE_GROUP:
        sentence = (
            f"The groups are small ({patients_per_group(min(sizes), max(sizes), grouping.singular(results))}), so the estimates are imprecise "
            "and the tests can miss real differences"
        )
        tiny = [s.label for s in results.strata if 0 < s.n < SMALL_GROUP]
        if tiny:
            sentence += (
                f"; with fewer than {SMALL_GROUP} patients in {join_words(tiny)}, the large-sample approximations "
                "of the tests are at risk"
            )
        sentences.append(sentence + ".")
    if cohort.n_locf:
        share = formatter.percent(100.0 * cohort.n_locf / cohort.n_included)
        withdrawn = results.flow.withdrawn if results.flow is not None else 0
        sentences.append(
            f"{cohort.n_locf} of {cohort.n_included} patients ({share}%) had no month-{month} visit and contribute "
            "their last observation carried forward"
            + (f", {withdrawn} of them after withdrawing" if withdrawn else "")
            + f"; this assumes that disease activity stayed as last observed, which may misstate it at month {month}."
        )
    if results.cutpoints_given:
        sizes_text = join_words([f"{s.label} {s.n}" for s in results.strata])
        sentences.append(
            "The cut points were supplied in the study sheet, not taken from this cohort's levels, so the groups "
            f"need not be of equal size ({sizes_text} patients)."
        )
    else:
        sentences.append(
            f"The cut points are this cohort's own {grouping.plural(results)} of the trough level: they depend on the sample, would "
            "move in another cohort, and are not validated therapeutic thresholds."
        )
    imbalanced = [c for c in results.baseline if _significant(c.test.p_value)]
    if imbalanced:
        differences = join_words([f"{mid_sentence(c.label)} ({formatter.p_equation(c.test.p_value)})" for c in imbalanced])
        sentences.append(
            f"At baseline the groups differed in {differences}, which may confound the comparisons at follow-up."
        )
    if indices.lowers_acute_phase_reactants(results.study):
        labels = {outcome.variable: outcome.label for outcome in results.outcomes}
        acute = [labels[v] for v in indices.ACUTE_PHASE_INDICES if v in labels]
        reference = labels.get(indices.REFERENCE_INDEX)
        if acute and reference:
            design = design_of(results.study)
            sentences.append(
                ACUTE_PHASE_LIMITATION.format(
                    drug=capital(design.drug),
                    drug_class=CLASS_WORDS[design.drug_class or ""],
                    indices=join_words(acute),
                    reference=reference,
                )
            )
    return tuple(sentences)


# --- small phrases -----------------------------------------------------------------------------


def _locf_clause(n_locf: int, month: int, window: int = 0, n_placed: int = 0) -> str:
    if not window:
        if not n_locf:
            return f"every patient had a month-{month} visit"
        return f"the last observation was carried forward for {patients(n_locf)} without a month-{month} visit"
    placed = f" ({patients(n_placed)} with another month's visit)" if n_placed else ""
    within = f"a visit within ±{counted(window, 'month')} counted as the month-{month} visit{placed}"
    if not n_locf:
        return f"{within}, and every patient had one"
    return f"{within}, and the last observation was carried forward for {patients(n_locf)} without one"


def _follow_up_rule(results: Results) -> str:
    """The Methods' sentences on which visit is the follow-up visit: the visit window, LOCF, the visits not used."""
    month, window = results.cohort.follow_up_month, results.study.visit_window_months
    n_locf, n_placed = results.cohort.n_locf, results.cohort.n_placed_by_window
    same_visit = (
        "with all components taken from that same visit and the indices recomputed; a patient without any "
        "post-baseline visit carried the baseline forward (no change, EULAR response none)."
    )
    carried = (
        f"LOCF applied to {patients(n_locf)}, listed in the Appendix." if n_locf
        else f"Every patient had a month-{month} visit, so no observation was carried forward." if not window
        else "Every patient had a visit in the window, so no observation was carried forward."
    )  # fmt: skip
    if not window:
        return (
            f"When the month-{month} visit was missing, the last post-baseline visit at or before month {month} was "
            f"carried forward (LOCF), {same_visit} Visits after month {month} were not used. {carried}"
        )
    placed = (
        f"The window placed the follow-up visit of {patients(n_placed)} at another month than month {month}. " if n_placed
        else f"Every follow-up visit in the window was at month {month}. "
    )  # fmt: skip
    return (
        f"A visit within ±{counted(window, 'month')} of month {month} (months {month - window} to {month + window}) counted as "
        f"the month-{month} visit: the closest one, the earlier of two equally close. {placed}When no visit fell in "
        f"that window, the last post-baseline visit before month {month - window} was carried forward (LOCF), "
        f"{same_visit} Visits after month {month + window} were not used. {carried}"
    )


def _abstract_level(results: Results) -> str:
    """'The trough level was the one measured at month 3 (±1 month). ' when the study names the month of the level."""
    study = results.study
    if study.level_month is None:
        return ""
    within = f" (±{counted(study.visit_window_months, 'month')})" if study.visit_window_months else ""
    return f"The trough level was the one measured at month {study.level_month}{within}. "


def _any_level(results: Results) -> str:
    """'any level', or 'a month-3 level' when the study names the month of the level."""
    level_month = results.study.level_month
    return "any level" if level_month is None else f"a month-{level_month} level"


def _level_rule(results: Results) -> str:
    """The Methods' sentence on which level is each patient's exposure: the follow-up visit's, or level_month's."""
    study = results.study
    window = study.visit_window_months
    if study.level_month is None:
        if not window:
            return (
                "Each patient's level was the one measured at the follow-up visit, or else the last one measured at "
                f"a post-baseline visit at or before month {results.cohort.follow_up_month}."
            )
        return (
            "Each patient's level was the one measured at the follow-up visit, or else the last one measured at "
            "an earlier post-baseline visit."
        )
    level_month = study.level_month
    closest = (
        f", or else at the closest visit with a level within ±{counted(window, 'month')} of month {level_month} (the "
        "earlier of two equally close)" if window else ""
    )  # fmt: skip
    return (
        f"Each patient's level was the one measured at the month-{level_month} visit{closest}; a patient without a "
        f"level there had no level (no other month's level was used)."
    )


def _count_measures_clause(results: Results) -> str:
    """', counts (prior biologics) as median [interquartile range] only' for the counts Table 1 shows."""
    labels = [
        mid_sentence(c.label) for c in results.baseline if isinstance(c, ContinuousComparison) and c.variable in COUNT_MEASURES
    ]
    if not labels:
        return ""
    return f", counts ({join_words(labels)}) as median [interquartile range] only"


def _grouped_sentence(results: Results, formatter: Formatter) -> str:
    """How the patients were grouped, in the design's words: 'Patients with a trough level were grouped into
    tertiles of that level (cut points 3.50 and 12.10 µg/mL, computed as the 33.3rd and 66.7th percentiles of the
    analysed patients' levels, linear interpolation).' or '… were placed in 3 groups defined by the cut points
    5 and 8 µg/mL, given in the study sheet (G1–G3).'"""
    cuts = grouping.cut_values(results.cutpoints, formatter, results.study.level_unit)
    if not results.cutpoints_given:
        percents = grouping.quantile_words(len(results.cutpoints))
        return (
            f"Patients with a trough level were grouped into {grouping.plural(results)} of that level "
            f"(cut points {cuts}, computed as the {percents} of the analysed patients' levels, linear interpolation)."
        )
    labels = [s.label for s in results.strata]
    return (
        f"Patients with a trough level were placed in {len(labels)} {grouping.name(results, formatter)}, given in "
        f"the study sheet ({labels[0]}–{labels[-1]}). {grouping.sample_quantiles_sentence(results, formatter)}"
    ).rstrip()


def _interval_chain(results: Results, formatter: Formatter) -> str:
    """'Q1 ≤ 4.20 < Q2 ≤ 11.30 < Q3 ≤ 18.50 < Q4'."""
    parts = [results.strata[0].label] if results.strata else []
    for cut, stratum in zip(results.cutpoints, results.strata[1:]):
        parts.append(f"≤ {formatter.measure(cut, 'trough_level')} < {stratum.label}")
    return " ".join(parts)


def _label_with_unit(outcome: ContinuousComparison) -> str:
    return f"{outcome.label} ({outcome.unit})" if outcome.unit else outcome.label


def _first_test(comparisons: tuple[ContinuousComparison, ...]) -> TestName | None:
    return comparisons[0].test.test if comparisons else None


def _decimals_given(value: float) -> int:
    """Decimals of a constant as written in the code: 0.014 -> 3, 0.70 -> 1."""
    return max(0, -Decimal(repr(value)).as_tuple().exponent)


def _significant(p: float | None) -> bool:
    return p is not None and p < ALPHA
