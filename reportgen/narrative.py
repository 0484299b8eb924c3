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

from reportgen.drugs import CLASS_WORDS, design_of
from reportgen.formatting import COUNT_MEASURES, DECIMALS, EFFECT_SIZE_SYMBOLS, decimals_for
from reportgen.model import (
    ALPHA,
    CategoricalComparison,
    ConfidenceInterval,
    ContinuousComparison,
    Results,
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
# Why each test was used, for the Methods; "{small_expected}" is stats.SMALL_EXPECTED.
TEST_RATIONALE: dict[TestName, str] = {
    TestName.KRUSKAL_WALLIS: "compares the quartiles by ranks without assuming normally distributed values, which "
    "suits small groups and skewed measures such as CRP",
    TestName.ANOVA: "compares the quartile means, assuming roughly normal values with similar spread in each quartile, "
    "as chosen in the study sheet",
    TestName.CHI_SQUARE: "compares the distribution of a categorical variable across the quartiles; it relies on "
    "expected counts of about {small_expected} or more",
    TestName.FISHER_EXACT: "compares the distribution of a categorical variable across the quartiles exactly, without "
    "relying on large expected counts",
    TestName.FISHER_MONTE_CARLO: "the Fisher\u2013Freeman\u2013Halton test where the table was too large to enumerate: "
    "p is a seeded Monte Carlo estimate from random tables with the observed margins, not exact",
    TestName.JONCKHEERE_TERPSTRA: "tests for a monotonic trend along the ordered quartiles (Q1 lowest level); the sign "
    "of its standardised statistic gives the direction",
    TestName.SPEARMAN: "rank correlation between the trough level itself and each outcome, without grouping into quartiles",
    TestName.LINEAR_BY_LINEAR: "tests for a trend of an ordered response (none < moderate < good) along the ordered "
    "quartiles; the sign of r gives the direction",
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
        f"{_locf_clause(cohort.n_locf, month)}. "
        f"Patients with a trough level were grouped into quartiles of that level "
        f"({_cutpoint_phrase(results, formatter)}). Quartiles were compared with the {join_words(tests)}{extra}."
    )


def _abstract_results(results: Results, formatter: Formatter) -> tuple[str, ...]:
    cohort = results.cohort
    sizes = group_sizes(results.strata, formatter)
    first = (
        f"Of {cohort.n_included} patients, {cohort.n_analysed} had a trough level and were analysed by quartile: {sizes}."
    )
    sentences = [first]
    outcomes = {o.variable: o for o in results.outcomes}
    month = cohort.follow_up_month
    for variable in ABSTRACT_OUTCOMES:
        outcome = outcomes.get(variable)
        if outcome is None:
            continue
        by_quartile = "; ".join(
            f"{s.label} {formatter.mean_sd(g, outcome.variable)}" for s, g in zip(results.strata, outcome.groups)
        )
        sentences.append(f"{capital(_label_with_unit(outcome))} at month {month}: {by_quartile} ({p_or_reason(outcome.test, formatter)}).")
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
    # Imported here: this module is imported (through render) by the PDF worker, which must not load numpy.
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
                f"{cohort.n_analysed} had a trough level and were compared across quartiles; "
                f"{patients(cohort.n_no_level)} without any level {verb(cohort.n_no_level, 'is', 'are')} described "
                "in Table 1 but not compared."
                if cohort.n_no_level
                else "All had a trough level and were compared across quartiles."
            ),
            f"Disease activity was assessed at baseline (month 0) and at month {month}. When the month-{month} visit "
            f"was missing, the last post-baseline visit at or before month {month} was carried forward (LOCF), "
            f"with all components taken from that same visit and the indices recomputed; a patient without any "
            f"post-baseline visit carried the baseline forward (no change, EULAR response none). Visits after "
            f"month {month} were not used. "
            + (
                f"LOCF applied to {patients(cohort.n_locf)}, listed in the Appendix."
                if cohort.n_locf
                else f"Every patient had a month-{month} visit, so no observation was carried forward."
            ),
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
    quartiles_section = Section(
        "Trough-level quartiles",
        (
            f"{capital(design.introduced)} was given by {design.route_words}; trough levels ({design.level_unit}) were "
            f"measured in serum drawn just before an {design.administration}. Each patient's level was the one measured "
            f"at the follow-up visit, or else the last one measured at a post-baseline visit at or before month {month}.",
            f"Quartiles were formed with the cut points {_cutpoint_phrase(results, formatter)}. "
            f"Each interval is closed on the right: {_interval_chain(results, formatter)}. "
            f"Quartile sizes: {join_words([f'{s.label} {s.n}' for s in results.strata])}.",
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
            f"{formatter.number(ALPHA, 2)} is called significant, decided on the unrounded p, and p-values are "
            "not adjusted for the number of variables tested. The tests, and why each was chosen (the decision "
            f"record of every single test, with any assumption at risk, is {DECISION_RECORDS_AT}):",
        ),
        _decision_items(results, formatter) + _adjusted_items(results, formatter),
    )
    return patients_section, missing_data_section(results, formatter), indices_section, quartiles_section, statistics_section


def missing_data_section(results: Results, formatter: Formatter) -> Section:
    """What was missing (trough level, Table 1 values, the follow-up visit) and how each was handled."""
    cohort = results.cohort
    month = cohort.follow_up_month
    level = (
        f"{capital(patients(cohort.n_no_level))} had no trough level at or before month {month} and "
        f"{verb(cohort.n_no_level, 'was', 'were')} left out of the comparisons across quartiles."
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
        + "; the patient-flow figure gives them by quartile, with the reasons for withdrawal); no other value was imputed."
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
        rationale = TEST_RATIONALE[name].format(small_expected=f"{SMALL_EXPECTED:g}")
        at_risk = sum(1 for t in tests if t.risks)
        risk = f"; an assumption was at risk in {at_risk} of {len(tests)}" if at_risk else ""
        items.append(f"{formatter.test_name(name)}: {rationale} ({counted(len(tests), 'comparison')}{risk}).")
    if any(o.spearman is not None for o in results.outcomes):
        items.append(f"{formatter.test_name(TestName.SPEARMAN)}: {TEST_RATIONALE[TestName.SPEARMAN]}.")
    if results.study.categorical_test == "auto":
        items.append(f"Categorical test chosen for each table (categorical_test = auto): {cochran_rule_words()}.")
    return tuple(items)


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
    """Guardrailed sentences; ``with_numbers`` adds the p-values (the abstract's version leaves them out, and
    names only the outcomes the abstract's Results quote, ``ABSTRACT_OUTCOMES``)."""
    if with_numbers:
        outcomes = [o for o in results.outcomes if o.variable != "delta_das28"]
    else:
        outcomes = [o for o in results.outcomes if o.variable in ABSTRACT_OUTCOMES]
    lower: list[str] = []
    higher: list[str] = []
    undirected: list[str] = []
    not_significant: list[str] = []
    despite_trend: list[str] = []
    untested: dict[str, list[str]] = {}
    for outcome in outcomes:
        label = mid_sentence(outcome.label)
        direction = trend_direction(outcome)
        if outcome.test.p_value is None:
            untested.setdefault(p_or_reason(outcome.test, formatter), []).append(label)
        elif _significant(outcome.test.p_value):
            quoted = label + (f" ({_evidence(outcome, formatter)})" if with_numbers else "")
            {-1: lower, 1: higher, 0: undirected}[direction].append(quoted)
        elif direction:
            despite_trend.append(_despite_trend(outcome, direction, formatter, with_numbers))
        else:
            not_significant.append(label + (f" ({formatter.p_equation(outcome.test.p_value)})" if with_numbers else ""))
    sentences: list[str] = []
    if lower:
        sentences.append(f"Higher trough levels were associated with lower {join_words(lower)} at follow-up.")
    if higher:
        sentences.append(f"Higher trough levels were associated with higher {join_words(higher)} at follow-up.")
    if undirected:
        sentences.append(
            f"{capital(join_words(undirected))} differed across quartiles, without a significant monotonic trend with trough level."
        )
    sentences.extend(despite_trend)
    if not_significant:
        sentences.append(
            f"No statistically significant difference across quartiles was found for {join_words(not_significant)}."
        )
    for reason, labels in untested.items():
        sentences.append(f"{capital(join_words(labels))} could not be compared across quartiles ({reason}).")
    sentences.append(_eular_conclusion(results.eular_response, results, formatter, with_numbers))
    from reportgen.stats import IMPRECISE_GROUP  # imported here, as indices in write_methods

    smallest = min((s.n for s in results.strata), default=0)
    largest = max((s.n for s in results.strata), default=0)
    caveat = (
        f"This is an observational cohort of {results.cohort.n_analysed} analysed patients: the associations do not "
        "show that raising trough levels would lower disease activity"
    )
    if smallest < IMPRECISE_GROUP:
        caveat += f", and with {patients_per_group(smallest, largest)} the estimates are imprecise"
    sentences.append(caveat + ".")
    return tuple(sentences)


def _despite_trend(outcome: ContinuousComparison, direction: int, formatter: Formatter, with_numbers: bool) -> str:
    """An omnibus test above ALPHA beside a significant trend test or Spearman ρ: both said, never a bare
    'no significant difference' that the next numbers contradict."""
    label = mid_sentence(outcome.label)
    evidence = []
    if outcome.trend is not None and _significant(outcome.trend.p_value):
        evidence.append("the trend test" + (f" ({formatter.p_equation(outcome.trend.p_value)})" if with_numbers else ""))
    if outcome.spearman is not None and _significant(outcome.spearman.p_value):
        evidence.append(
            "Spearman's ρ" + (f" ({formatter.p_equation(outcome.spearman.p_value)})" if with_numbers else " with trough level")
        )
    p = f" ({formatter.p_equation(outcome.test.p_value)})" if with_numbers else ""
    return (
        f"{capital(label)} did not differ significantly across quartiles{p}, although {join_words(evidence)} "
        f"{verb(len(evidence), 'was', 'were')} significant, with {'lower' if direction < 0 else 'higher'} {label} "
        "at higher trough levels."
    )


def trend_direction(outcome: ContinuousComparison) -> int:
    """−1 or +1 when a significant trend test or Spearman ρ gives a direction with trough level, else 0."""
    if outcome.trend is not None and _significant(outcome.trend.p_value) and outcome.trend.statistic:
        return -1 if outcome.trend.statistic < 0 else 1
    spearman = outcome.spearman
    if spearman is not None and _significant(spearman.p_value) and spearman.rho:
        return -1 if spearman.rho < 0 else 1
    return 0


def _evidence(outcome: ContinuousComparison, formatter: Formatter) -> str:
    parts = [formatter.p_equation(outcome.test.p_value)]
    if outcome.trend is not None:
        parts.append("trend " + formatter.p_equation(outcome.trend.p_value))
    if outcome.spearman is not None:
        parts.append(f"ρ = {formatter.rho(outcome.spearman.rho)}")
    return "; ".join(parts)


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
        return f"EULAR response could not be compared across quartiles ({p_or_reason(eular.test, formatter)})."
    p = f" ({_with_ordinal_trend(eular, formatter)})" if with_numbers else ""
    trend = eular.trend
    if not _significant(eular.test.p_value):
        if trend is not None and _significant(trend.p_value) and trend.effect_size:
            better = "better" if trend.effect_size > 0 else "worse"
            return (
                f"EULAR response did not differ significantly across quartiles{p}, although the {ORDINAL_TREND} test "
                f"was significant, with {better} responses at higher trough levels."
            )
        return f"EULAR response did not differ significantly across quartiles{p}."
    sentence = f"The distribution of EULAR response differed across quartiles{p}"
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
        found.append(("shifts between the highest and the lowest quartile", outcome.difference.ci if outcome.difference else None))
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
    sizes = [s.n for s in results.strata]
    if sizes and min(sizes) < IMPRECISE_GROUP:
        sentence = (
            f"The groups are small ({patients_per_group(min(sizes), max(sizes))}), so the estimates are imprecise "
            "and the tests can miss real differences"
        )
        tiny = [s.label for s in results.strata if s.n < SMALL_GROUP]
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
            "The cut points are this cohort's own quartiles of the trough level: they depend on the sample, would "
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


def _locf_clause(n_locf: int, month: int) -> str:
    if not n_locf:
        return f"every patient had a month-{month} visit"
    return f"the last observation was carried forward for {patients(n_locf)} without a month-{month} visit"


def _count_measures_clause(results: Results) -> str:
    """', counts (prior biologics) as median [interquartile range] only' for the counts Table 1 shows."""
    labels = [
        mid_sentence(c.label) for c in results.baseline if isinstance(c, ContinuousComparison) and c.variable in COUNT_MEASURES
    ]
    if not labels:
        return ""
    return f", counts ({join_words(labels)}) as median [interquartile range] only"


def _cutpoint_phrase(results: Results, formatter: Formatter) -> str:
    cuts = formatter.join([formatter.measure(c, "trough_level") for c in results.cutpoints])
    origin = (
        "given in the study sheet"
        if results.cutpoints_given
        else "computed as the 25th, 50th and 75th percentiles of the analysed patients' levels, linear interpolation"
    )
    return f"{cuts} {results.study.level_unit}, {origin}"


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
