"""Plain data exchanged between pipeline stages.

Every stage takes and returns these frozen dataclasses (or validated DataFrames held by them).
Stages import this module, never each other; ``pipeline.py`` is the one place that calls them in order
(picture: docs/architecture.md).

    load -> RawWorkbook -> validate -> Cohort -> derive -> Derived -> analyse -> Results
         -> figures -> tuple[Figure] -> document -> Report -> exporters -> report.html, report.docx
         -> pdf -> archive -> build folder

The DataFrames of ``Cohort`` and ``Derived`` are described, column by column, by the Pandera models in
``reportgen.frames``, which ``pipeline.py`` checks at the stage boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from reportgen.exporters import EXPORTERS

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One finding about the workbook, pointing at the cell a user must look at.

    ``row`` is the row number as Excel shows it (header = row 1); None for sheet- or file-level findings.
    """

    sheet: str | None
    row: int | None
    column: str | None
    value: str | None
    rule: str
    severity: Severity = "error"

    def sentence(self) -> str:
        """One sentence a clinician understands, e.g. ``visits, row 7, tjc28 = 'abc': tjc28 must be ...``."""
        where = []
        if self.sheet:
            where.append(f"sheet '{self.sheet}'")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        place = ", ".join(where)
        found = f" (found {self.value})" if self.value is not None else ""
        return f"{place}: {self.rule}{found}" if place else f"{self.rule}{found}"


@dataclass(frozen=True)
class SheetData:
    """One sheet as read: header names and rows of typed Python cell values (never evaluated formulas)."""

    name: str
    header: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    # Cells holding a formula (with or without a saved value), as (excel_row, column_name, "=formula").
    formulas: tuple[tuple[int, str, str], ...] = ()
    # Cells holding an Excel error such as #DIV/0! (the reader shows them as blank), as
    # (excel_row, column_name, error_text).
    error_cells: tuple[tuple[int, str, str], ...] = ()
    # Instead of rows, when the fast (Arrow) reader read the sheet: the cells column by column, one
    # numpy array per header column (float64 with NaN for blank, or objects: str, None for blank),
    # item i being Excel row i + 2. ``rows`` is then empty.
    columns: tuple[Any, ...] | None = None



@dataclass(frozen=True)
class RawWorkbook:
    """Output of the load stage: the sheets we care about, untouched, plus the file's identity."""

    path: str
    file_name: str
    sha256: str
    sheets: dict[str, SheetData]


ContinuousTest = Literal["kruskal-wallis", "anova"]
CategoricalTest = Literal["auto", "chi-square", "fisher-exact"]


@dataclass(frozen=True)
class StudyOptions:
    """Everything the ``study`` sheet can set, defaults included (recorded in the manifest)."""

    title: str = "Untitled cohort study"
    authors: str = ""
    institution: str = ""
    quartile_cutpoints: tuple[float, float, float] | None = None  # contract version 1: cut-points labelled Q1–Q4
    # The grouping of the analysed patients by trough level (reportgen.grouping resolves these). grouping None:
    # cut-points when cut points are given, else quartiles.
    grouping: str | None = None
    cut_points: tuple[float, ...] | None = None
    group_labels: tuple[str, ...] | None = None
    follow_up_month: int = 12
    # Visit windows and the month of the exposure level (issue #12; reportgen.derive applies them). level_month
    # None: the level at the follow-up visit, else the last post-baseline level before it.
    level_month: int | None = None
    visit_window_months: int = 0
    continuous_test: ContinuousTest = "kruskal-wallis"
    categorical_test: CategoricalTest = "auto"
    decimal_separator: Literal[".", ","] = "."
    abstract_character_limit: int = 3600
    published: str | None = None
    # The drug and the authors' own words (issue #12); reportgen.drugs.design_of resolves the drug table's
    # defaults (abbreviation, administration) from them.
    drug: str = "tocilizumab"
    drug_abbreviation: str | None = None
    administration: Literal["infusion", "injection"] | None = None
    level_unit: str = "µg/mL"
    lloq: float | None = None  # the assay's lower limit of quantification (reportgen.lloq), in level_unit
    below_lloq: str = "half-lloq"  # the value analysed for a level below it: half-lloq, zero or lloq
    background: str = ""
    objective: str = ""
    # Covariates of the adjusted estimate beside the outcome's baseline value, as the contract names them:
    # a patients-sheet column or a baseline measure, or ln(name) for a measure's natural logarithm.
    adjust_for: tuple[str, ...] = ()
    primary_outcome: str = "das28_esr"  # an outcome's variable (``analysis.OUTCOMES``); the others are secondary

    def replace(self, **changes: Any) -> StudyOptions:
        return replace(self, **changes)


@dataclass(frozen=True)
class Cohort:
    """Output of the validate stage.

    ``patients``: one row per patient, columns of the workbook contract (yes/no as nullable booleans,
    patient_id as str). ``visits``: one row per visit, CRP always as ``crp_mg_l``; both carry
    ``excel_row`` so later stages can still point at a cell. Contract: ``reportgen.frames.CohortPatients``
    and ``CohortVisits``.
    """

    patients: pd.DataFrame
    visits: pd.DataFrame
    study: StudyOptions
    warnings: tuple[Problem, ...]
    source_name: str
    source_sha256: str
    contract_version: int = 2  # the workbook's contract version (``reportgen.contract.workbook_version``)


@dataclass(frozen=True)
class Derived:
    """Output of the derive stage.

    ``visits``: validated visits plus das28_esr, das28_crp, cdai, sdai and their ``*_category`` columns.
    ``patients``: one row per included patient, indexed by position, with
      patient_id, the patient columns of the contract,
      ``<measure>_baseline`` and ``<measure>`` (follow-up) for every outcome measure,
      follow_up_visit_month (month actually used), carried_forward (bool),
      delta_das28, eular_response ('none' | 'moderate' | 'good'),
      trough_level (float, NaN when never measured), trough_month.
    Contract: ``reportgen.frames.DerivedPatients`` and ``DerivedVisits``. No groups by level here: the analysis
    stage forms them (``Results.strata_membership``).
    """

    visits: pd.DataFrame
    patients: pd.DataFrame
    follow_up_month: int
    # Findings about the visits the follow-up rule placed or left out (a visit window placed the follow-up
    # visit; a visit after the follow-up was not used): warnings, reported with the workbook's own.
    warnings: tuple[Problem, ...] = ()


# --- analysis results -------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """Descriptive statistics of one group; None where undefined (n = 0, or SD with n = 1)."""

    n: int
    mean: float | None = None
    sd: float | None = None
    median: float | None = None
    q1: float | None = None
    q3: float | None = None
    min: float | None = None
    max: float | None = None
    mean_ci: ConfidenceInterval | None = None  # set by the analysis for the groups of a comparison
    median_ci: ConfidenceInterval | None = None


# Confidence intervals: their level, and the bootstrap's resamples and seed (``reportgen.estimates`` computes
# them; here, beside ALPHA, so that the report's words can name them without importing numpy).
CI_LEVEL = 0.95
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20261202


class IntervalMethod(StrEnum):
    """How a confidence interval was computed, by the name results.json gives it (``reportgen.estimates``)."""

    STUDENT_T = "student-t"  # mean: mean ± t(n - 1) SD / sqrt(n)
    ORDER_STATISTIC = "order-statistic"  # median: distribution-free, binomial order statistics
    WILSON = "wilson"  # proportion: Wilson score interval
    NEWCOMBE = "newcombe-hybrid-score"  # difference of two proportions: Newcombe's method 10
    FISHER_Z = "fisher-z"  # Spearman's rho: Fisher z with standard error 1 / sqrt(n - 3)
    MANN_WHITNEY_EXACT = "mann-whitney-exact"  # Hodges-Lehmann shift: exact Mann-Whitney distribution
    MANN_WHITNEY_NORMAL = "mann-whitney-normal"  # Hodges-Lehmann shift: normal approximation, ties corrected
    BOOTSTRAP_PERCENTILE = "bootstrap-percentile"  # effect sizes: seeded percentile bootstrap
    OLS_T = "ols-t"  # regression coefficient: β ± t(n - p) SE, ordinary least squares (reportgen.regression)


@dataclass(frozen=True)
class ConfidenceInterval:
    """A two-sided confidence interval; bounds None when the data are too few for the method."""

    level: float
    method: str  # an ``IntervalMethod``
    lower: float | None
    upper: float | None


@dataclass(frozen=True)
class Stratum:
    """A trough-level group: (lower, upper], lower None for the lowest group, upper None for the highest."""

    label: str
    lower: float | None
    upper: float | None
    n: int
    percent: float
    n_below_lloq: int = 0  # patients of the group whose level was below the LLOQ (reportgen.lloq)


# Two-sided p below which a test is called significant: in the Methods and Conclusions, and for running
# Dunn's pairwise comparisons after an omnibus test.
ALPHA = 0.05


class TestName(StrEnum):
    """Every test reportgen runs, by the name results.json gives it (``Formatter.test_name`` says it in words)."""

    __test__ = False  # not a pytest test class

    KRUSKAL_WALLIS = "kruskal-wallis"
    ANOVA = "anova"
    CHI_SQUARE = "chi-square"
    FISHER_EXACT = "fisher-exact"
    FISHER_MONTE_CARLO = "fisher-monte-carlo"
    JONCKHEERE_TERPSTRA = "jonckheere-terpstra"
    SPEARMAN = "spearman"
    LINEAR_BY_LINEAR = "linear-by-linear"


class RiskKind(StrEnum):
    """What can put a test's assumptions at risk (``reportgen.stats.risk_words`` says it in words)."""

    SMALL_GROUPS = "small-groups"  # detail: the groups, e.g. "Q1 (n = 4)"
    EMPTY_GROUPS = "empty-groups"  # detail: the groups without data, left out
    EMPTY_CATEGORIES = "empty-categories"  # detail: the categories without patients, left out
    UNEQUAL_VARIANCES = "unequal-variances"
    NO_SPREAD = "no-spread"
    SMALL_EXPECTED = "small-expected"  # detail: cells with small expected counts, all cells, cells with very small ones
    MONTE_CARLO = "monte-carlo"  # detail: the standard error of the estimated p, as written


@dataclass(frozen=True)
class Risk:
    """An assumption of a test at risk: its kind and the specifics (which groups, how many cells)."""

    kind: RiskKind
    detail: tuple[str | int, ...] = ()


@dataclass(frozen=True)
class TestResult:
    """One hypothesis test, with the record of why it was chosen and what is at risk."""

    test: TestName
    statistic: float | None
    p_value: float | None
    df: float | None = None
    effect_size_name: str | None = None  # "epsilon-squared" | "eta-squared" | "cramers-v"
    effect_size: float | None = None
    decision: str = ""  # which test, why, and any assumption at risk, in words (from ``risks``)
    risks: tuple[Risk, ...] = ()
    not_tested: str = ""  # why the test could not be computed, in words ("all values are equal"); "" when it was
    effect_size_ci: ConfidenceInterval | None = None  # None when not computed (see ``reportgen.estimates``)


@dataclass(frozen=True)
class Correlation:
    test: TestName  # TestName.SPEARMAN
    rho: float | None
    p_value: float | None
    n: int
    ci: ConfidenceInterval | None = None  # of rho


@dataclass(frozen=True)
class Shift:
    """Hodges-Lehmann shift of group ``high`` relative to group ``low`` (median of all differences
    high − low), with its Mann-Whitney interval; estimate None when a group has no data."""

    high: str
    low: str
    estimate: float | None
    ci: ConfidenceInterval


@dataclass(frozen=True)
class PairwiseComparison:
    group_a: str
    group_b: str
    statistic: float | None
    p_value: float | None
    p_adjusted: float | None


@dataclass(frozen=True)
class ContinuousComparison:
    """A continuous variable compared across the groups by trough level."""

    variable: str
    label: str
    unit: str
    groups: tuple[Summary, ...]  # one per stratum, lowest level first
    overall: Summary  # all included patients
    test: TestResult
    trend: TestResult | None = None
    spearman: Correlation | None = None
    posthoc: tuple[PairwiseComparison, ...] = ()
    difference: Shift | None = None  # last group relative to the first (outcomes)
    adjusted: AdjustedEstimate | None = None  # outcomes only
    # Holm-adjusted p of ``test`` over the outcomes' overall tests (``analysis.holm_adjusted``); None for the
    # baseline comparisons, which are descriptive, and for a test without a p-value.
    p_holm: float | None = None


@dataclass(frozen=True)
class AdjustedEstimate:
    """An outcome's association with the trough level, adjusted for its baseline value and the study's covariates.

    ``beta``: the coefficient of log2(trough level) in a linear regression (OLS) of the follow-up value on
    it, the baseline value and ``covariates``, that is the change of the outcome per doubling of the level;
    ``ci`` and ``p_value`` from Student's t with ``df`` = n − p (``reportgen.regression``). None, with
    ``not_estimated`` saying why, when the model cannot be estimated.
    """

    beta: float | None
    ci: ConfidenceInterval
    p_value: float | None
    covariates: tuple[str, ...]  # as results.json names them: "das28_esr_baseline", "ln(esr_mm_h_baseline)", "sex"
    covariate_labels: tuple[str, ...]  # the same, for people: "baseline DAS28-ESR", "sex (female = 1)"
    n: int  # patients in the model
    df: int | None = None
    standard_error: float | None = None
    level_not_positive: int = 0  # analysed patients left out: a level of 0 or below cannot be logged
    covariate_not_positive: int = 0  # ... a covariate taken as a logarithm of 0 or below
    incomplete: int = 0  # ... no follow-up value or no value of a covariate
    not_estimated: str = ""  # why there is no estimate; "" when there is one


@dataclass(frozen=True)
class CategoricalComparison:
    """A categorical variable compared across the groups by trough level: counts[category][stratum]."""

    variable: str
    label: str
    categories: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]
    overall: tuple[int, ...]  # per category, all included patients with a known value
    test: TestResult
    # Wilson intervals of the proportions: per category, per group (of the group's column), and overall.
    proportion_cis: tuple[tuple[ConfidenceInterval, ...], ...] = ()
    overall_proportion_cis: tuple[ConfidenceInterval, ...] = ()
    # For ordered categories (EULAR response): the linear-by-linear association across the ordered groups.
    trend: TestResult | None = None


@dataclass(frozen=True)
class CohortCounts:
    n_included: int
    n_analysed: int
    n_locf: int
    n_no_level: int
    follow_up_month: int
    n_placed_by_window: int = 0  # follow-up visit within the visit window, not at the follow-up month
    n_below_lloq: int = 0  # analysed patients whose level was below the LLOQ, analysed as the substitution


@dataclass(frozen=True)
class CarriedForward:
    patient_id: str
    from_month: int
    withdrawal_reason: str | None


class SensitivityName(StrEnum):
    """The sensitivity analyses of the primary outcome and EULAR response, by the name results.json gives them."""

    LOCF = "locf"  # the primary analysis: last observation carried forward
    COMPLETERS = "completers"  # only patients with a visit at the follow-up month
    NRI = "nri"  # withdrawn patients as non-responders (EULAR none; continuous: baseline carried forward)
    SAMPLE_QUANTILES = "sample-quantiles"  # the analysed patients' own quantiles instead of given cut points


@dataclass(frozen=True)
class Sensitivity:
    """One outcome under one sensitivity analysis: the study's test across the groups, and whether its call
    (p below ``ALPHA`` or not) differs from the primary (LOCF) analysis of the same outcome."""

    analysis: SensitivityName
    outcome: str  # the primary outcome's variable, or "eular_response"
    label: str
    n: int  # patients in the test
    test: TestResult
    conclusion_changes: bool = False
    # Highest minus lowest group: the Hodges-Lehmann shift of a continuous outcome, the difference in the
    # proportion of good responders (a fraction) for EULAR response; None when a group is empty.
    estimate: float | None = None
    ci: ConfidenceInterval | None = None


@dataclass(frozen=True)
class Design:
    """The grouping in effect (``reportgen.grouping``): its name, the study-sheet key that gave the cut points
    (None when they are the data's own quantiles), and the data's own sample quantiles for the same number of
    groups (linear interpolation), stated beside cut points the study sheet gave."""

    grouping: str = "quartiles"
    cut_points_key: str | None = None
    sample_quantiles: tuple[float | None, ...] = ()


@dataclass(frozen=True)
class WithdrawalReason:
    """Patients who withdrew before the follow-up visit for one reason: per stratum, and of all included."""

    reason: str | None  # as recorded, surrounding spaces removed; None when no reason was recorded
    counts: tuple[int, ...]  # analysed patients, one count per stratum (``Results.strata`` order)
    overall: int  # every included patient, with or without a trough level


@dataclass(frozen=True)
class FlowGroup:
    """One stratum's patients in the flow diagram: analysed = reached_follow_up + carried_forward + placed_by_window.

    ``withdrawn`` is the part of ``carried_forward`` whose withdrawal (``withdrawal_month``) came at or before the
    follow-up month; the rest of ``carried_forward`` missed the follow-up visit without withdrawing.
    """

    label: str
    analysed: int
    reached_follow_up: int  # a visit at the follow-up month
    carried_forward: int  # LOCF from an earlier visit
    withdrawn: int
    placed_by_window: int = 0  # follow-up visit within the visit window (visit_window_months), not at the month


@dataclass(frozen=True)
class Flow:
    """The numbers of the patient-flow diagram (STROBE item 13), computed once by the analysis stage.

    included -> without a trough level (described, not compared) | analysed, split by stratum into ``groups``.
    """

    included: int
    no_level: int
    analysed: int
    follow_up_month: int
    groups: tuple[FlowGroup, ...]  # one per stratum, ``Results.strata`` order
    # Withdrawals before the follow-up visit by reason: most frequent first, "not recorded" (None) last.
    withdrawals: tuple[WithdrawalReason, ...] = ()

    @property
    def withdrawn(self) -> int:
        """Every included patient who withdrew before the follow-up visit (with or without a level)."""
        return sum(reason.overall for reason in self.withdrawals)


@dataclass(frozen=True)
class Results:
    """Output of the analyse stage; serialised as results.json at full precision."""

    cohort: CohortCounts
    cutpoints: tuple[float, ...]  # the edges between the groups, one fewer than the strata
    cutpoints_given: bool  # True when taken from the study sheet, False when computed
    strata: tuple[Stratum, ...]
    # The one assignment of patients to strata, which the tables, the figures and every count share: for each
    # row of ``Derived.patients`` (same order), the index of its stratum in ``strata`` (0 for Q1), -1 when the
    # patient is not analysed (no trough level). Read-only int64 array; not written to results.json.
    strata_membership: np.ndarray = field(compare=False, repr=False)
    baseline: tuple[ContinuousComparison | CategoricalComparison, ...]
    outcomes: tuple[ContinuousComparison, ...]
    activity_categories: tuple[CategoricalComparison, ...]
    eular_response: CategoricalComparison
    carried_forward: tuple[CarriedForward, ...]
    study: StudyOptions
    # The patient flow (figure and withdrawals table); None only in Results built by hand (tests).
    flow: Flow | None = None
    # Table 1 variable -> included patients without a value, Table 1 order (every variable, zeros included).
    missing: tuple[tuple[str, int], ...] = ()
    design: Design = field(default_factory=lambda: Design())
    # The primary outcome (``study.primary_outcome``) and EULAR response under each sensitivity analysis, the
    # primary (LOCF) analysis first; see ``analysis.sensitivity_analyses``.
    sensitivity: tuple[Sensitivity, ...] = ()
    # Anti-drug antibodies (positive of tested) at the visit of the analysed level, by group; None when the
    # workbook has no anti_drug_antibodies column. Table 1 shows it as its last row (``table_1``).
    anti_drug_antibodies: CategoricalComparison | None = None

    @property
    def table_1(self) -> tuple[ContinuousComparison | CategoricalComparison, ...]:
        """Table 1's rows: the baseline characteristics, then anti-drug antibodies when they were tested."""
        return self.baseline if self.anti_drug_antibodies is None else (*self.baseline, self.anti_drug_antibodies)


# --- report ---------------------------------------------------------------------------------


# The file stem of the patient-flow figure (``reportgen.figures`` draws it, the Results text refers to it).
FLOW_FIGURE = "figure4-flow"


@dataclass(frozen=True)
class Figure:
    """A rendered figure: file stem (e.g. 'figure1-activity'), number, caption text, SVG markup."""

    name: str
    number: int
    title: str
    caption: str
    svg: str
    alt: str = ""  # what the figure shows and its main numbers (the PDF's /Alt); "" gives title and caption


@dataclass(frozen=True)
class PublishedCheck:
    """Printed numbers from an abstract beside the reproduced ones (see docs/published-yaml.md)."""

    rows: tuple[PublishedRow, ...]
    consistency: tuple[str, ...]  # findings about the printed numbers themselves
    source_name: str


@dataclass(frozen=True)
class PublishedRow:
    item: str  # e.g. "DAS28-ESR, Q1, mean"
    printed: str
    reproduced: str
    match: bool
    note: str = ""


# What --formats chooses from, in the order the help lists them: the HTML, the PDF made from it, the other
# exporters' formats (reportgen.exporters.EXPORTERS, e.g. docx), the journal figure files. results.json,
# abstract.txt, the SVG figures and the listings are written whatever is chosen.
OUTPUT_FORMATS = ("html", "pdf", *(exporter.name for exporter in EXPORTERS if exporter.name != "html"), "figures")
DEFAULT_FORMATS = frozenset(OUTPUT_FORMATS)
# The resolution of the journal figure files' TIFF and PNG ("figures"; reportgen.figures draws them).
JOURNAL_DPI = 600


@dataclass(frozen=True)
class BuildRequest:
    """What ``reportgen build`` was asked for: the arguments, and what the command line read from the
    environment (SOURCE_DATE_EPOCH, REPORTGEN_PDF_WORKER). Nothing below the command line reads the
    environment."""

    workbook: Path
    out_root: Path = Path("output")
    templates: Path | None = None
    published: Path | None = None
    make_pdf: bool = True
    command_line: tuple[str, ...] = ()
    progress: bool = False
    # SOURCE_DATE_EPOCH, or the archived build time `reportgen verify` rebuilds with; None means now.
    build_time: datetime | None = None
    # False renders the PDF in the building process, without a worker (REPORTGEN_PDF_WORKER=0).
    pdf_worker: bool = True
    # --formats: which of OUTPUT_FORMATS to write (results.json, abstract.txt, the SVG figures and the
    # listings always are). make_pdf False (--no-pdf) drops "pdf" whatever this says.
    formats: frozenset[str] = DEFAULT_FORMATS
    # --draft: a "draft, not for submission" header on every page, the build stamp in the title block.
    draft: bool = False

    @property
    def writes_pdf(self) -> bool:
        return self.make_pdf and "pdf" in self.formats


@dataclass(frozen=True)
class BuildInfo:
    """Who/when/what of one build, shown in the title block and written to the manifest."""

    build_time: datetime  # timezone-aware UTC
    version: str
    source_name: str
    source_sha256: str
    command_line: tuple[str, ...] = ()
    library_versions: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    source_contract_version: int = 2  # the contract version the workbook was read as (``Cohort.contract_version``)


@dataclass(frozen=True)
class RenderedReport:
    html: str
    abstract_text: str
