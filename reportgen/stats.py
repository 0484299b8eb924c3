"""Statistical primitives on plain arrays, each returning a ``reportgen.model`` record.

No I/O, no number formatting, no knowledge of the cohort: the analysis stage decides *what* to
compare, this module decides *how* a comparison is computed and records why (``TestResult.decision``).

Conventions, fixed so that results agree with independent implementations to 1e-9 relative:

- Missing values (NaN) are dropped before every computation.
- Descriptives: SD with n - 1; median and quartiles by linear interpolation (numpy's default, R type 7);
  so are the sample quantiles that group patients by level (``percentile_edges``).
- Ranks: midranks (ties get the mean of the ranks they span, as ``scipy.stats.rankdata``), computed
  once per variable by ``rank_groups`` and shared by Kruskal-Wallis, Jonckheere-Terpstra, Dunn and
  Spearman. Ranks are multiples of 1/2 and their sums are exact in floating point, so rank sums, tie
  counts and J do not depend on the order the values come in.
- Kruskal-Wallis: the formula of ``scipy.stats.kruskal``, term for term, on those ranks (H corrected for
  ties, chi-square with k - 1 df, p from ``scipy.special.chdtrc`` as scipy does).
  Effect size epsilon-squared, E²_R = H / ((n² - 1) / (n + 1)) = H / (n - 1)
  (Tomczak M, Tomczak E. Trends Sport Sci 2014;1(21):19-25, eq. 10), n = patients in the test.
- One-way ANOVA: the computation of ``scipy.stats.f_oneway``, term for term (p from
  ``scipy.special.fdtrc``); eta-squared = SS_between / SS_total.
- Contingency tables: rows and columns that are all zero are dropped first.
  Pearson chi-square without continuity correction (as ``scipy.stats.chi2_contingency(correction=False)``,
  p from ``scipy.special.chdtrc``);
  Cramér's V = sqrt(chi² / (n (min(r, c) - 1))) on the reduced table.
  Fisher-Freeman-Halton exact test: p = total probability of the tables with the observed margins
  that are no more probable than the observed one (relative tolerance 1e-7, as R's ``fisher.test``
  and scipy's 2x2 ``fisher_exact``); computed exactly by a network algorithm (see ``fisher_freeman_halton``),
  because scipy's R x C ``fisher_exact`` only offers Monte Carlo or full permutation. When the
  enumeration would exceed a fixed work budget (``EXACT_WORK_BUDGET``, about a CPU second; at least
  3 x 3 with more than 500 patients is never tried), the p-value is instead a seeded Monte Carlo
  estimate (``fisher_freeman_halton_monte_carlo``, 100,000 tables) and the decision record says so.
- Jonckheere-Terpstra: J = sum over ordered group pairs i < j of #(x_i < x_j) + #(x_i = x_j) / 2;
  normal approximation with the tie-corrected variance (Hollander, Wolfe & Chicken, Nonparametric
  Statistical Methods, 3rd ed., 2014, section 6.2); the reported statistic is the standardised
  z = (J - E[J]) / sqrt(Var[J]) (positive: values rise from the first to the last group), p two-sided.
- Spearman: the computation of ``scipy.stats.spearmanr``, step for step (``np.corrcoef`` of the two
  columns of midranks, t-distribution p-value with n - 2 df from ``scipy.special.stdtr``).
- Dunn's test (Dunn 1964), tie-corrected as ``scikit_posthocs.posthoc_dunn``:
  z = (R̄_b - R̄_a) / sqrt((N(N+1)/12 - Σ(t³ - t)/(12(N - 1))) (1/n_a + 1/n_b)), p = 2 Φ(-|z|);
  Holm's step-down adjustment for p_adjusted (equal to ``posthoc_dunn(..., p_adjust='holm')``); the
  statistic is the signed z (mean rank of group_b minus that of group_a over its standard error).
- Linear-by-linear association (Agresti, Categorical Data Analysis, 3rd ed., 2013, section 3.4.1) on a
  table of ordered categories by ordered groups: M² = (n − 1) r², r the Pearson correlation of the row
  scores (0, 1, 2, ... in category order) and column scores (0, 1, 2, ... in group order) over the n
  patients of the table, χ² with 1 df; an empty group keeps its place in the scores. The effect size is r
  (negative: later categories are rarer in later groups).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy import special

from reportgen.model import (
    CategoricalTest,
    ContinuousTest,
    Correlation,
    PairwiseComparison,
    Risk,
    RiskKind,
    Summary,
    TestName,
    TestResult,
)
from reportgen.sums import exact_sum, inner

# Two probabilities within this relative distance count as equal in the exact test (R's fisher.test and
# scipy's 2x2 fisher_exact use the same tolerance), so ties are not lost to floating-point noise.
EXACT_RELATIVE_TOLERANCE = 1e-7
# The exact test's network algorithm grows fast with n and the table's size (4 x 4 tables: 0.1 s at 50
# patients, 5 s at 200). It counts its work (units of about a microsecond on a 2-core VM: 1,000 per
# node, 1 per filling of a column, 10 per path carried on) and stops beyond this budget, about a CPU
# second; the test then falls back to a seeded Monte Carlo estimate. Counting work rather than
# seconds keeps the choice the same on every machine.
EXACT_WORK_BUDGET = 1_000_000
# Tables with at least 3 rows and 3 columns and more patients than this always exceed the budget (3 x 4
# at 600 patients: 4 to 7 s), so under a budget they go to Monte Carlo without trying.
EXACT_HOPELESS_ABOVE_N = 500
MONTE_CARLO_RESAMPLES = 100_000
MONTE_CARLO_SEED = 20240607
# Decision thresholds; the decision records print them from here.
SMALL_GROUP = 5  # below this, large-sample approximations (chi-square for H, normal for J) are at risk
# Groups smaller than this give imprecise estimates: the Conclusions and the Limitations say so.
IMPRECISE_GROUP = 20
# Cochran's rule for the chi-square approximation: expected counts below SMALL_EXPECTED in at most
# COCHRAN_SMALL_SHARE of the cells, and none below TINY_EXPECTED.
SMALL_EXPECTED = 5.0
COCHRAN_SMALL_SHARE = 0.2
TINY_EXPECTED = 1.0
SD_RATIO = 2  # ANOVA: a largest group SD more than this times the smallest puts equal variances at risk
_TIMES = {2: "twice", 3: "three times"}
# Tests on a contingency table, whose groups are its columns.
_TABLE_TESTS = (TestName.CHI_SQUARE, TestName.FISHER_EXACT, TestName.FISHER_MONTE_CARLO, TestName.LINEAR_BY_LINEAR)
# Rank tests whose statistic corrects for tied values: ties are noted in the decision record, never a risk.
_TIES_CORRECTED = {TestName.KRUSKAL_WALLIS: "H corrects for", TestName.JONCKHEERE_TERPSTRA: "the variance of J corrects for"}


def _clean(values: Sequence[float] | np.ndarray) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    return array[~np.isnan(array)]


def _float(value: float) -> float | None:
    """A plain Python float, or None where the value is undefined (NaN or infinite)."""
    value = float(value)
    return value if math.isfinite(value) else None


# --- descriptives ---------------------------------------------------------------------------------


def describe(values: Sequence[float] | np.ndarray) -> Summary:
    """n, mean, SD (n - 1), median, quartiles (linear), min, max of the non-missing values."""
    x = _clean(values)
    n = int(x.size)
    if n == 0:
        return Summary(n=0)
    q1, median, q3 = np.percentile(x, [25.0, 50.0, 75.0])
    return Summary(
        n=n,
        mean=float(np.mean(x)),
        sd=float(np.std(x, ddof=1)) if n > 1 else None,
        median=float(median),
        q1=float(q1),
        q3=float(q3),
        min=float(np.min(x)),
        max=float(np.max(x)),
    )


# --- groups by level ------------------------------------------------------------------------------


def percentile_edges(values: Sequence[float] | np.ndarray, groups: int = 4) -> tuple[float, ...]:
    """The ``groups - 1`` sample quantiles that split ``values`` into ``groups`` equal shares (25th, 50th and
    75th percentiles for four), linear interpolation (numpy's default, R type 7)."""
    x = _clean(values)
    return tuple(float(edge) for edge in np.percentile(x, [100.0 * i / groups for i in range(1, groups)]))


def group_index(values: Sequence[float] | np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """0..k for the k + 1 groups the k edges make, intervals closed on the right
    (G1 <= e1 < G2 <= e2 < ... <= ek < Gk+1); -1 for NaN.

    ``searchsorted(side="left")`` counts the edges strictly below a value, which is exactly
    the right-closed rule: a value equal to an edge stays in the lower group.
    """
    x = np.asarray(values, dtype=float)
    index = np.searchsorted(np.asarray(edges, dtype=float), x, side="left")
    return np.where(np.isnan(x), -1, index).astype(np.int64)


# --- ranks, computed once per variable --------------------------------------------------------------


def midranks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Midranks of ``values`` (no NaN) in their own order, as ``scipy.stats.rankdata(method="average")``.

    Also returns, for the blocks of equal values in ascending order, their sizes (the tie counts), the
    block of each value in sorted order, and the sorting permutation. One sort does it all.
    """
    # Any sort will do: equal values share one midrank, so their order among themselves does not matter.
    order = np.argsort(values)
    ordered = values[order]
    n = ordered.size
    new_block = np.empty(n, dtype=bool)
    if n:
        new_block[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=new_block[1:])
    starts = np.flatnonzero(new_block)
    tie_counts = np.diff(np.append(starts, n))
    block_of_sorted = np.cumsum(new_block) - 1
    ranks = np.empty(n, dtype=float)
    # Block of t equal values starting at 0-based sorted position s: ranks s + 1 .. s + t, mean s + (t + 1)/2.
    ranks[order] = (starts + 0.5 * (tie_counts + 1))[block_of_sorted]
    return ranks, tie_counts, block_of_sorted, order


@dataclass(frozen=True)
class Ranking:
    """The pooled non-missing values of a variable, ranked once, with what each rank test needs.

    ``group[i]`` is the index (into ``labels``) of the group of ``values[i]``; ``ranks[i]`` its midrank
    among all values. Groups without data stay in ``labels`` and ``sizes`` (with size 0).
    """

    labels: tuple[str, ...]
    values: np.ndarray
    group: np.ndarray
    ranks: np.ndarray
    tie_counts: np.ndarray  # sizes of the blocks of equal values, ascending by value
    block_counts: np.ndarray  # groups x blocks: how many values of each group are in each block
    sizes: np.ndarray  # values per group

    @property
    def n(self) -> int:
        return int(self.values.size)

    @property
    def present(self) -> np.ndarray:
        """Indices of the groups with data, in label order."""
        return np.flatnonzero(self.sizes > 0)

    @property
    def names(self) -> list[str]:
        return [self.labels[i] for i in self.present]

    @property
    def empty(self) -> list[str]:
        return [label for label, size in zip(self.labels, self.sizes) if size == 0]

    @property
    def rank_sums(self) -> np.ndarray:
        # Sums of multiples of 1/2 below 2**53: exact, whatever the order of summation.
        return np.bincount(self.group, weights=self.ranks, minlength=len(self.labels))


def rank_values(values: np.ndarray, group: np.ndarray, labels: Sequence[str]) -> Ranking:
    """Rank ``values`` (NaN dropped) belonging to groups ``group`` (indices into ``labels``) once."""
    values = np.asarray(values, dtype=float)
    group = np.asarray(group, dtype=np.int64)
    keep = ~np.isnan(values)
    if not keep.all():
        values, group = values[keep], group[keep]
    k = len(labels)
    ranks, tie_counts, block_of_sorted, order = midranks(values)
    blocks = tie_counts.size
    block_counts = np.bincount(group[order] * blocks + block_of_sorted, minlength=k * blocks).reshape(k, blocks)
    return Ranking(
        labels=tuple(labels),
        values=values,
        group=group,
        ranks=ranks,
        tie_counts=tie_counts,
        block_counts=block_counts,
        sizes=np.bincount(group, minlength=k),
    )


def rank_groups(groups: Sequence[np.ndarray], labels: Sequence[str]) -> Ranking:
    """``rank_values`` for values given as one array per group."""
    arrays = [np.asarray(g, dtype=float).ravel() for g in groups]
    values = np.concatenate(arrays) if arrays else np.zeros(0)
    group = np.repeat(np.arange(len(arrays)), [a.size for a in arrays])
    return rank_values(values, group, labels)


def _ranking_risks(ranking: Ranking) -> list[Risk]:
    sizes = [(ranking.labels[i], int(ranking.sizes[i])) for i in ranking.present]
    return _group_risks(sizes, ranking.empty)


def _group_risks(sizes: list[tuple[str, int]], empty: list[str]) -> list[Risk]:
    """Groups too small for a large-sample approximation, and groups left out for want of data."""
    risks = []
    small = [f"{label} (n = {size})" for label, size in sizes if size < SMALL_GROUP]
    if small:
        risks.append(Risk(RiskKind.SMALL_GROUPS, tuple(small)))
    if empty:
        risks.append(Risk(RiskKind.EMPTY_GROUPS, tuple(empty)))
    return risks


def risk_words(risk: Risk, test: TestName) -> str:
    """A risk as the decision record words it (the one place that does)."""
    detail = risk.detail
    if risk.kind is RiskKind.SMALL_GROUPS:
        return f"groups with fewer than {SMALL_GROUP} patients: {', '.join(map(str, detail))}"
    if risk.kind is RiskKind.EMPTY_GROUPS:
        empty = "empty groups" if test in _TABLE_TESTS else "groups without data"
        return f"{empty} left out: {', '.join(map(str, detail))}"
    if risk.kind is RiskKind.EMPTY_CATEGORIES:
        return f"empty categories left out: {', '.join(map(str, detail))}"
    if risk.kind is RiskKind.UNEQUAL_VARIANCES:
        times = _TIMES.get(SD_RATIO, f"{SD_RATIO:g} times")
        return f"unequal variances: the largest group SD is more than {times} the smallest"
    if risk.kind is RiskKind.NO_SPREAD:
        return "a group has no spread at all"
    if risk.kind is RiskKind.SMALL_EXPECTED:
        small, cells, tiny = detail
        return f"{small} of {cells} cells have expected counts below {SMALL_EXPECTED:g}" + (
            f", {tiny} below {TINY_EXPECTED:g}" if tiny else ""
        )
    if risk.kind is RiskKind.MONTE_CARLO:
        return f"p is a Monte Carlo estimate (standard error about {detail[0]}), not the exact p"
    raise ValueError(f"no words for risk {risk.kind!r}")


# --- continuous comparisons -----------------------------------------------------------------------


def _present_groups(groups: Sequence[np.ndarray], labels: Sequence[str]) -> tuple[list[np.ndarray], list[str], list[str]]:
    """Groups with data, their labels, and the labels of the empty groups left out."""
    cleaned = [_clean(group) for group in groups]
    kept = [(group, label) for group, label in zip(cleaned, labels) if group.size > 0]
    empty = [label for group, label in zip(cleaned, labels) if group.size == 0]
    return [group for group, _ in kept], [label for _, label in kept], empty


def _not_computed(test: TestName | str, reason: str) -> TestResult:
    return TestResult(
        test=TestName(test), statistic=None, p_value=None, decision=f"{test} not computed: {reason}.", not_tested=reason
    )


def _half_integer(value: float) -> str:
    """J is a multiple of 1/2: written exactly, never in exponent notation."""
    return str(int(value)) if value.is_integer() else repr(value)


def _ties_note(n_tied: int, n: int, test: TestName) -> str:
    """Tied values, said in the decision record but not as a risk: the statistic already corrects for them."""
    if not n_tied:
        return ""
    return f" Ties: {n_tied} of {n} values repeat an earlier one, which {_TIES_CORRECTED[test]}."


def _tested(test: TestName, what: str, risks: list[Risk], **fields) -> TestResult:
    """A computed test, its decision record written from ``what`` was done and its ``risks``."""
    if risks:
        decision = f"{what} At risk: {'; '.join(risk_words(risk, test) for risk in risks)}."
    else:
        decision = f"{what} No assumption at risk identified."
    return TestResult(test=test, decision=decision, risks=tuple(risks), **fields)


def kruskal_wallis(groups: Sequence[np.ndarray], labels: Sequence[str], ranking: Ranking | None = None) -> TestResult:
    """Kruskal-Wallis H across groups (tie-corrected), with epsilon-squared = H / (n - 1).

    ``ranking``: the groups already ranked (``rank_groups``), to share one ranking between tests.
    """
    ranking = rank_groups(groups, labels) if ranking is None else ranking
    present = ranking.present
    if present.size < 2:
        return _not_computed(TestName.KRUSKAL_WALLIS, "fewer than two groups with data")
    if ranking.tie_counts.size == 1:
        return _not_computed(TestName.KRUSKAL_WALLIS, "all values are equal")
    # scipy.stats.kruskal, term for term.
    n = ranking.n
    t = ranking.tie_counts.astype(float)
    ties = 1 - float(np.sum(t**3 - t)) / (n**3 - n)
    rank_sums = ranking.rank_sums
    ssbn = sum(float(rank_sums[i]) ** 2 / int(ranking.sizes[i]) for i in present)
    h = 12.0 / (n * (n + 1)) * ssbn - 3 * (n + 1)
    h /= ties
    df = present.size - 1
    risks = _ranking_risks(ranking)
    what = (
        f"Kruskal-Wallis H test across {present.size} groups, the study's continuous test: compares "
        f"distributions by ranks without assuming normality; chi-square approximation with "
        f"{df} df; effect size epsilon-squared = H / (n - 1)."
    ) + _ties_note(int(n - ranking.tie_counts.size), n, TestName.KRUSKAL_WALLIS)
    return _tested(
        TestName.KRUSKAL_WALLIS,
        what,
        risks,
        statistic=_float(h),
        p_value=_float(special.chdtrc(float(df), h)),
        df=float(df),
        effect_size_name="epsilon-squared",
        effect_size=_float(h / (n - 1)),
    )


def one_way_anova(groups: Sequence[np.ndarray], labels: Sequence[str]) -> TestResult:
    """One-way ANOVA F across groups, with eta-squared = SS_between / SS_total."""
    present, names, empty = _present_groups(groups, labels)
    if len(present) < 2:
        return _not_computed(TestName.ANOVA, "fewer than two groups with data")
    pooled = np.concatenate(present)
    n = pooled.size
    if n <= len(present):
        return _not_computed(TestName.ANOVA, "no within-group degrees of freedom")
    # Sums of squares about the pooled mean, as scipy.stats.f_oneway computes them.
    offset = pooled.mean()
    ss_total = float(np.sum((pooled - offset) ** 2))
    if ss_total == 0.0:
        return _not_computed(TestName.ANOVA, "all values are equal")
    ss_between = float(sum(np.sum(g - offset) ** 2 / g.size for g in present))
    statistic, p_value = _f_ratio(ss_between, ss_total, len(present), n)
    risks = _group_risks([(label, int(g.size)) for g, label in zip(present, names)], empty)
    sds = [float(np.std(g, ddof=1)) for g in present if g.size > 1]
    if sds and min(sds) > 0 and max(sds) / min(sds) > SD_RATIO:
        risks.append(Risk(RiskKind.UNEQUAL_VARIANCES))
    elif sds and min(sds) == 0:
        risks.append(Risk(RiskKind.NO_SPREAD))
    what = (
        f"One-way ANOVA across {len(present)} groups, the study's continuous test: compares means, "
        f"assuming normally distributed residuals with equal variances; F with "
        f"({len(present) - 1}, {n - len(present)}) df; effect size eta-squared = SS_between / SS_total."
    )
    return _tested(
        TestName.ANOVA,
        what,
        risks,
        statistic=_float(statistic),
        p_value=_float(p_value),
        df=float(len(present) - 1),
        effect_size_name="eta-squared",
        effect_size=_float(ss_between / ss_total),
    )


def compare_continuous(
    groups: Sequence[np.ndarray], labels: Sequence[str], test: ContinuousTest, ranking: Ranking | None = None
) -> TestResult:
    """The study's continuous test across groups (``ranking``: the groups already ranked, for Kruskal-Wallis)."""
    if test == "kruskal-wallis":
        return kruskal_wallis(groups, labels, ranking)
    if test == "anova":
        return one_way_anova(groups, labels)
    raise ValueError(f"unknown continuous test {test!r}")


def jonckheere_terpstra(groups: Sequence[np.ndarray], labels: Sequence[str], ranking: Ranking | None = None) -> TestResult:
    """Jonckheere-Terpstra trend test across groups in the given order; z with tie-corrected variance."""
    ranking = rank_groups(groups, labels) if ranking is None else ranking
    present = ranking.present
    names = ranking.names
    if present.size < 2:
        return _not_computed(TestName.JONCKHEERE_TERPSTRA, "fewer than two groups with data")
    if ranking.tie_counts.size == 1:
        return _not_computed(TestName.JONCKHEERE_TERPSTRA, "all values are equal")
    # J counts, for every ordered pair of groups, later-group values above earlier-group values (ties
    # count one half). From the counts per block of equal values: a value of the later group b in block
    # k is above every value of group a in blocks before k and ties with those in block k. In integers
    # (2J), so exact.
    counts = ranking.block_counts[present]
    before = np.cumsum(counts, axis=1) - counts
    twice_j = 0
    for a, b in combinations(range(present.size), 2):
        twice_j += int(np.dot(counts[b], 2 * before[a] + counts[a]))
    j_stat = twice_j / 2.0
    n = float(ranking.n)
    sizes = ranking.sizes[present].astype(float)
    tie_counts = ranking.tie_counts
    t = tie_counts.astype(float)
    mean = (n * n - np.sum(sizes**2)) / 4.0
    # With two values the triple-tie term is 0/0; its numerator is 0 (no group holds three), so is it.
    triples = np.sum(sizes * (sizes - 1) * (sizes - 2)) * np.sum(t * (t - 1) * (t - 2)) / (36.0 * n * (n - 1) * (n - 2)) if n > 2 else 0.0
    variance = (
        (n * (n - 1) * (2 * n + 5) - np.sum(sizes * (sizes - 1) * (2 * sizes + 5)) - np.sum(t * (t - 1) * (2 * t + 5)))
        / 72.0
        + triples
        + np.sum(sizes * (sizes - 1)) * np.sum(t * (t - 1)) / (8.0 * n * (n - 1))
    )
    if variance <= 0:
        return _not_computed(TestName.JONCKHEERE_TERPSTRA, "the statistic has no variance")
    z = (j_stat - mean) / math.sqrt(variance)
    risks = _ranking_risks(ranking)
    what = (
        f"Jonckheere-Terpstra trend test across the ordered groups {' < '.join(names)}: J = {_half_integer(j_stat)}; "
        f"normal approximation with tie-corrected variance; statistic is z (positive when values rise "
        f"along the order), p two-sided."
    ) + _ties_note(int(n - tie_counts.size), int(n), TestName.JONCKHEERE_TERPSTRA)
    return _tested(
        TestName.JONCKHEERE_TERPSTRA, what, risks, statistic=_float(z), p_value=_float(2.0 * special.ndtr(-abs(z)))
    )


def spearman(
    x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray, y_ranks: np.ndarray | None = None
) -> Correlation:
    """Spearman's rho between paired values, pairs with a missing value dropped.

    ``y_ranks``: the midranks of the ``y`` values of the complete pairs, in their order, when the caller
    has them already (``Ranking.ranks`` of the same values).
    """
    a = np.asarray(x, dtype=float)
    b = np.asarray(y, dtype=float)
    keep = ~(np.isnan(a) | np.isnan(b))
    if not keep.all():
        a, b = a[keep], b[keep]
    n = int(a.size)
    if n < 3 or np.all(a == a[0]) or np.all(b == b[0]):
        return Correlation(test=TestName.SPEARMAN, rho=None, p_value=None, n=n)
    if y_ranks is None or y_ranks.size != n:
        y_ranks = midranks(b)[0]
    # scipy.stats.spearmanr, step for step, on the same arrays.
    ranked = np.column_stack((midranks(a)[0], y_ranks))
    rs = np.corrcoef(ranked, rowvar=False)
    dof = n - 2
    with np.errstate(divide="ignore"):
        t = rs * np.sqrt((dof / ((rs + 1.0) * (1.0 - rs))).clip(0))
    p = 2 * special.stdtr(dof, -np.abs(t))
    return Correlation(test=TestName.SPEARMAN, rho=_float(rs[1, 0]), p_value=_float(p[1, 0]), n=n)


def holm(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment: sorted p_(i) times (m - i + 1), made monotone, capped at 1.

    Written out rather than taken from statsmodels' ``multipletests``, whose Holm branch runs a full
    ``gc.collect()`` on every call (tens of milliseconds in a large process, once per outcome).
    """
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate(p[order] * np.arange(p.size, 0, -1))
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


def dunn_holm(groups: Sequence[np.ndarray], labels: Sequence[str], ranking: Ranking | None = None) -> tuple[PairwiseComparison, ...]:
    """Dunn's pairwise comparisons of mean ranks, Holm-adjusted, for every pair of groups with data.

    z = (R̄_b - R̄_a) / sqrt((N(N+1)/12 - Σ(t³ - t)/(12(N - 1))) (1/n_a + 1/n_b)), p = 2 Φ(-|z|): the
    tie-corrected statistic of ``scikit_posthocs.posthoc_dunn``, on the shared ranking.
    """
    ranking = rank_groups(groups, labels) if ranking is None else ranking
    present = ranking.present
    if present.size < 2:
        return ()
    n = ranking.n
    t = ranking.tie_counts.astype(float)
    t = t[t != 1]
    tie_term = float(np.sum(t**3 - t)) / (12.0 * (n - 1))
    sizes = ranking.sizes[present].astype(float)
    mean_ranks = ranking.rank_sums[present] / sizes
    pairs = list(combinations(range(present.size), 2))
    first = np.array([a for a, _ in pairs], dtype=np.int64)
    second = np.array([b for _, b in pairs], dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt((n * (n + 1) / 12.0 - tie_term) * (1.0 / sizes[first] + 1.0 / sizes[second]))
        z = np.where(se > 0, (mean_ranks[second] - mean_ranks[first]) / se, np.nan)
    p_values = 2.0 * special.ndtr(-np.abs(z))
    adjusted = holm(p_values)
    names = ranking.names
    return tuple(
        PairwiseComparison(group_a=names[a], group_b=names[b], statistic=_float(zz), p_value=_float(p), p_adjusted=_float(q))
        for a, b, zz, p, q in zip(first, second, z, p_values, adjusted)
    )


# --- contingency tables ---------------------------------------------------------------------------


def drop_empty_margins(table: Sequence[Sequence[int]] | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The table without all-zero rows and columns, and the boolean masks of the rows and columns kept."""
    counts = np.asarray(table, dtype=np.int64)
    if counts.ndim != 2:
        raise ValueError("a contingency table must be two-dimensional")
    rows = counts.sum(axis=1) > 0
    cols = counts.sum(axis=0) > 0
    return counts[rows][:, cols], rows, cols


def _f_ratio(ss_between: float, ss_total: float, k: int, n: int) -> tuple[float, float]:
    """F and its p for k groups of n values in all, as ``scipy.stats.f_oneway`` (p from ``scipy.special.fdtrc``)."""
    ss_within = ss_total - ss_between
    df_between, df_within = k - 1, n - k
    if ss_within <= 0.0:  # every group constant, not all equal: as scipy, F = inf, p = 0
        return math.inf, 0.0
    f = (ss_between / df_between) / (ss_within / df_within)
    return f, float(special.fdtrc(df_between, df_within, f))


def cramers_v(chi_square: float, n: int, shape: tuple[int, int]) -> float | None:
    """Cramér's V = sqrt(chi² / (n (min(r, c) - 1)))."""
    k = min(shape) - 1
    if n == 0 or k < 1:
        return None
    return _float(math.sqrt(chi_square / (n * k)))


def pearson_chi_square(table: np.ndarray) -> tuple[float, float, int, np.ndarray]:
    """Pearson chi-square without continuity correction on a table without empty margins.

    Returns (chi², p, df, expected counts).
    """
    # As scipy.stats.chi2_contingency(correction=False): expected = row total x column total / n.
    observed = np.asarray(table, dtype=float)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    dof = (observed.shape[0] - 1) * (observed.shape[1] - 1)
    if dof == 0:
        return 0.0, 1.0, 0, expected
    chi_square = float(np.sum((observed - expected) ** 2 / expected))
    return chi_square, float(special.chdtrc(dof, chi_square)), dof, expected


def _log_weight(cells: np.ndarray) -> np.ndarray:
    """log of prod 1 / x! over the last axis: the part of a table's probability that varies with its cells."""
    return -np.sum(special.gammaln(cells + 1.0), axis=-1)


class ExactTestTooLarge(Exception):
    """The exact enumeration would take more work than its budget."""


def _column_fillings(caps: tuple[int, ...], total: int, limit: float = math.inf) -> np.ndarray:
    """Every way of putting ``total`` into len(caps) cells with 0 <= cell <= cap, one per row.

    Raises ``ExactTestTooLarge`` rather than build more than ``limit`` partial fillings.
    """
    fillings = np.zeros((1, 0), dtype=np.int64)
    remaining_caps = np.cumsum(np.asarray(caps[::-1], dtype=np.int64))[::-1]
    for i, cap in enumerate(caps):
        placed = fillings.sum(axis=1)
        left = total - placed
        if i == len(caps) - 1:
            ok = (left >= 0) & (left <= cap)
            return np.column_stack([fillings[ok], left[ok]])
        after = remaining_caps[i + 1]
        # Keep only prefixes that the remaining rows can still complete.
        low = np.maximum(left - after, 0)
        high = np.minimum(left, cap)
        counts = np.maximum(high - low + 1, 0)
        if counts.sum() > limit:
            raise ExactTestTooLarge
        base = np.repeat(fillings, counts, axis=0)
        starts = np.repeat(low, counts)
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        fillings = np.column_stack([base, starts + offsets])
    return fillings


def _concentrated_weight(caps_desc: np.ndarray, totals: Sequence[int]) -> np.ndarray:
    """Per node, sum over ``totals`` of log prod 1/x! when each total fills the largest caps first.

    That filling majorises every other filling of one line under those caps, so (log x! being convex)
    it is the least probable one; summed over lines with the coupling between lines ignored, it is a
    lower bound on the least probable completion. ``caps_desc``: nodes x caps, largest cap first.
    """
    before = np.cumsum(caps_desc, axis=1) - caps_desc
    weight = np.zeros(caps_desc.shape[0])
    for total in totals:
        cells = np.clip(total - before, 0, caps_desc)
        weight += _log_weight(cells.astype(float))
    return weight


def _completion_bounds(nodes: np.ndarray, later_cols: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each node (rows still to fill) and the columns still to fill, logs of:
    the sum of prod 1/x! over every completion (closed form), an upper bound on the largest and a lower
    bound on the smallest prod 1/x! of one completion.

    Upper bound: Lagrangian relaxation of the margins with multipliers u_i + v_j = -log(row_i col_j / n),
    whose cell maximum is x = floor(row_i col_j / n); valid for any multipliers (weak duality).
    Lower bound: the larger of the row-wise and the column-wise relaxations of ``_concentrated_weight``.
    """
    rows = nodes.astype(float)
    n = rows.sum(axis=1)
    cols = later_cols.astype(float)
    log_sum = special.gammaln(n + 1.0) - np.sum(special.gammaln(rows + 1.0), axis=1) - np.sum(special.gammaln(cols + 1.0))
    if later_cols.size == 1:
        exact = _log_weight(rows)
        return log_sum, exact, exact
    expected = rows[:, :, None] * cols[None, None, :] / n[:, None, None]
    cells = np.floor(expected)
    high = (
        special.xlogy(n, n)
        - np.sum(special.xlogy(rows, rows), axis=1)
        - np.sum(special.xlogy(cols, cols))
        + np.sum(-special.gammaln(cells + 1.0) + special.xlogy(cells, expected), axis=(1, 2))
    )
    by_column = _concentrated_weight(nodes[:, ::-1], later_cols.tolist())
    cols_desc = np.sort(later_cols)[::-1]
    before = np.cumsum(cols_desc) - cols_desc
    by_row = np.zeros(nodes.shape[0])
    for i in range(nodes.shape[1]):
        by_row += _log_weight(np.clip(nodes[:, i : i + 1] - before[None, :], 0, cols_desc[None, :]).astype(float))
    return log_sum, high, np.maximum(by_column, by_row)


def fisher_freeman_halton(table: Sequence[Sequence[int]] | np.ndarray, work_budget: float | None = None) -> float:
    """Exact p-value of the Fisher-Freeman-Halton test for an R x C table (the answer of R's ``fisher.test``).

    The p-value sums P(T) = prod r_i! prod c_j! / (n! prod x_ij!) over every table T with the observed
    margins and P(T) <= P(observed) (1 + 1e-7). A network algorithm (Mehta & Patel, JASA 1983) fills
    the table one column at a time; a node is the multiset of row totals still to fill (rows are
    interchangeable for what remains). At each node the sum over all completions is known in closed
    form, and bounds on the most and least probable completion decide whole subtrees at once: all
    counted, or none. The last column is determined by the rest, so every path is decided by then.

    ``work_budget``: raise ``ExactTestTooLarge`` once the work (see ``EXACT_WORK_BUDGET``) exceeds it;
    None for no limit.
    """
    budget = math.inf if work_budget is None else float(work_budget)
    work = 0
    counts, _, _ = drop_empty_margins(table)
    if counts.shape[0] < 2 or counts.shape[1] < 2:
        return 1.0
    if counts.shape[0] > counts.shape[1]:
        counts = counts.T  # fewer rows: fewer nodes and fewer fillings per column
    if work_budget is not None and counts.shape[0] >= 3 and counts.sum() > EXACT_HOPELESS_ABOVE_N:
        raise ExactTestTooLarge
    row_totals = counts.sum(axis=1)
    col_totals = np.sort(counts.sum(axis=0))[::-1]
    n = int(row_totals.sum())
    log_constant = float(
        np.sum(special.gammaln(row_totals + 1.0)) + np.sum(special.gammaln(col_totals + 1.0)) - special.gammaln(n + 1.0)
    )
    threshold = float(_log_weight(counts.astype(float).ravel())) + math.log1p(EXACT_RELATIVE_TOLERANCE)

    p_value = 0.0
    # Node -> {rounded past log weight: (past log weight, number of paths)}: paths with the same past
    # weight and the same rows left have the same futures, so they are carried together.
    frontier: dict[tuple[int, ...], dict[float, tuple[float, float]]] = {tuple(sorted(row_totals.tolist())): {0.0: (0.0, 1.0)}}
    for stage in range(col_totals.size - 1):
        next_frontier: dict[tuple[int, ...], dict[float, tuple[float, float]]] = {}
        later_cols = col_totals[stage + 1 :]
        for rows, pasts in frontier.items():
            fillings = _column_fillings(rows, int(col_totals[stage]), budget - work)
            work += 1000 + fillings.shape[0]
            if work > budget:
                raise ExactTestTooLarge
            children = np.sort(np.asarray(rows, dtype=np.int64) - fillings, axis=1)
            log_sum, high, low = _completion_bounds(children, later_cols)
            # Sorted pasts make both decisions prefix searches: a path is all in when its past weight is
            # at most threshold - filling - high, and still open up to threshold - filling - low.
            past = np.array([weight for weight, _ in pasts.values()])
            paths = np.array([count for _, count in pasts.values()])
            order = np.argsort(past, kind="stable")
            past, paths = past[order], paths[order]
            cumulative = np.logaddexp.accumulate(np.log(paths) + past)
            filling_weight = _log_weight(fillings.astype(float))
            all_in = np.searchsorted(past, threshold - filling_weight - high, side="right")
            still_open = np.searchsorted(past, threshold - filling_weight - low, side="right")
            counted = all_in > 0
            p_value += float(
                np.sum(np.exp(log_constant + filling_weight[counted] + log_sum[counted] + cumulative[all_in[counted] - 1]))
            )
            work += 10 * int(np.sum(still_open - all_in))
            if work > budget:
                raise ExactTestTooLarge
            for c in np.nonzero(still_open > all_in)[0]:
                node = next_frontier.setdefault(tuple(children[c].tolist()), {})
                for p in range(all_in[c], still_open[c]):
                    weight = float(past[p] + filling_weight[c])
                    key = round(weight, 9)
                    previous = node.get(key, (weight, 0.0))
                    node[key] = (previous[0], previous[1] + float(paths[p]))
        frontier = next_frontier
    return min(p_value, 1.0)


def fisher_freeman_halton_monte_carlo(
    table: Sequence[Sequence[int]] | np.ndarray, n_resamples: int = MONTE_CARLO_RESAMPLES, seed: int = MONTE_CARLO_SEED
) -> float:
    """Monte Carlo p-value of the Fisher-Freeman-Halton test, as R's ``fisher.test(simulate.p.value = TRUE)``.

    Draws ``n_resamples`` tables with the observed margins (``scipy.stats.random_table``, generator
    seeded with ``seed``, so the same table always gives the same p) and returns
    (1 + #{drawn tables no more probable than the observed one}) / (n_resamples + 1), with the exact
    test's relative tolerance.
    """
    counts, _, _ = drop_empty_margins(table)
    if counts.shape[0] < 2 or counts.shape[1] < 2:
        return 1.0
    threshold = float(_log_weight(counts.astype(float).ravel())) + math.log1p(EXACT_RELATIVE_TOLERANCE)
    from scipy import stats as sps  # only here: importing scipy.stats costs about half a second

    sampler = sps.random_table(counts.sum(axis=1), counts.sum(axis=0), seed=np.random.default_rng(seed))
    as_extreme = 0
    done = 0
    chunk = max(1, min(n_resamples, 4_000_000 // counts.size))  # bounded memory for any table
    while done < n_resamples:
        size = min(chunk, n_resamples - done)
        drawn = sampler.rvs(size=size).reshape(size, -1).astype(float)
        as_extreme += int(np.sum(_log_weight(drawn) <= threshold))
        done += size
    return (1 + as_extreme) / (n_resamples + 1)


def _categorical_risks(expected: np.ndarray, dropped_rows: list[str], dropped_cols: list[str]) -> list[Risk]:
    risks = []
    small = int(np.sum(expected < SMALL_EXPECTED))
    if small:
        risks.append(Risk(RiskKind.SMALL_EXPECTED, (small, int(expected.size), int(np.sum(expected < TINY_EXPECTED)))))
    if dropped_rows:
        risks.append(Risk(RiskKind.EMPTY_CATEGORIES, tuple(dropped_rows)))
    if dropped_cols:
        risks.append(Risk(RiskKind.EMPTY_GROUPS, tuple(dropped_cols)))
    return risks


def cochran_rule_words() -> str:
    """How ``categorical_test = auto`` chooses, in words (the decision records and the Methods say it)."""
    return (
        f"the Pearson chi-square when no expected count is below {TINY_EXPECTED:g} and at most "
        f"{COCHRAN_SMALL_SHARE:.0%} are below {SMALL_EXPECTED:g} (Cochran's rule), else the Fisher-Freeman-Halton "
        "exact test"
    )


def cochran_met(expected: np.ndarray) -> bool:
    """Cochran's rule: at most COCHRAN_SMALL_SHARE of the expected counts below SMALL_EXPECTED, none below TINY_EXPECTED."""
    return bool(np.mean(expected < SMALL_EXPECTED) <= COCHRAN_SMALL_SHARE and not np.any(expected < TINY_EXPECTED))


def compare_categorical(
    table: Sequence[Sequence[int]] | np.ndarray,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    test: CategoricalTest,
) -> TestResult:
    """The study's categorical test on counts[category][group], after dropping all-zero rows and columns.

    ``auto`` chooses per table by Cochran's rule (``cochran_met``): the Pearson chi-square when it is met, else
    the Fisher-Freeman-Halton exact test; the decision record says which and why. Cramér's V (from the
    Pearson chi-square) is the effect size for both tests.
    """
    reduced, rows, cols = drop_empty_margins(table)
    dropped_rows = [label for label, kept in zip(row_labels, rows) if not kept]
    dropped_cols = [label for label, kept in zip(col_labels, cols) if not kept]
    if reduced.shape[0] < 2 or reduced.shape[1] < 2:
        # Cochran's rule has no table to judge here: an auto test is named as the chi-square it defaults to.
        return _not_computed(TestName.CHI_SQUARE if test == "auto" else test, "fewer than two categories or groups with any patient")
    chi_square, chi_p, df, expected = pearson_chi_square(reduced)
    n = int(reduced.sum())
    effect = cramers_v(chi_square, n, reduced.shape)
    risks = _categorical_risks(expected, dropped_rows, dropped_cols)
    shape = f"{reduced.shape[0]} x {reduced.shape[1]}"
    role = "the study's categorical test"
    if test == "auto":
        met = cochran_met(expected)
        small, tiny = int(np.sum(expected < SMALL_EXPECTED)), int(np.sum(expected < TINY_EXPECTED))
        role = (
            f"chosen with categorical_test = auto ({cochran_rule_words()}); Cochran's rule is "
            f"{'met' if met else 'not met'} here ({small} of {expected.size} expected counts below "
            f"{SMALL_EXPECTED:g}, {tiny} below {TINY_EXPECTED:g})"
        )
        test = TestName.CHI_SQUARE if met else TestName.FISHER_EXACT
    if test == TestName.CHI_SQUARE:
        advice = (
            f" Cochran's rule (at most {COCHRAN_SMALL_SHARE:.0%} of expected counts below {SMALL_EXPECTED:g}, none "
            f"below {TINY_EXPECTED:g}) is not met; the exact test (categorical_test = fisher-exact in the study sheet) "
            "does not rely on it."
            if not cochran_met(expected)
            else ""
        )
        what = (
            f"Pearson chi-square test without continuity correction on the {shape} table, {role}; "
            f"chi-square approximation with {df} df; effect size Cramér's V.{advice}"
        )
        return _tested(
            TestName.CHI_SQUARE,
            what,
            risks,
            statistic=_float(chi_square),
            p_value=_float(chi_p),
            df=float(df),
            effect_size_name="cramers-v",
            effect_size=effect,
        )
    if test == TestName.FISHER_EXACT:
        exact_risks = [risk for risk in risks if risk.kind is not RiskKind.SMALL_EXPECTED]
        test_name = TestName.FISHER_EXACT
        try:
            p_value = fisher_freeman_halton(reduced, work_budget=EXACT_WORK_BUDGET)
            what = (
                f"Fisher-Freeman-Halton exact test on the {shape} table, {role}: exact "
                f"p-value given the margins, valid whatever the expected counts; effect size Cramér's V from "
                f"the Pearson chi-square."
            )
        except ExactTestTooLarge:
            test_name = TestName.FISHER_MONTE_CARLO
            p_value = fisher_freeman_halton_monte_carlo(reduced)
            cochran = (
                f" Cochran's rule is met, so the Pearson chi-square (p = {chi_p:.3g}, categorical_test = "
                f"chi-square in the study sheet) is a valid alternative."
                if cochran_met(expected)
                else ""
            )
            se = math.sqrt(p_value * (1.0 - p_value) / MONTE_CARLO_RESAMPLES)
            what = (
                f"Fisher-Freeman-Halton test on the {shape} table (n = {n}), {role}: "
                f"the table is too large to enumerate exactly within the work budget, so the p-value is a "
                f"Monte Carlo estimate from {MONTE_CARLO_RESAMPLES:,} random tables with the observed "
                f"margins (fixed seed {MONTE_CARLO_SEED}, the same result on every run; standard error "
                f"about {se:.1g}), as R's fisher.test(simulate.p.value = TRUE); not exact.{cochran} Effect "
                f"size Cramér's V from the Pearson chi-square."
            )
            exact_risks.append(Risk(RiskKind.MONTE_CARLO, (f"{se:.1g}",)))
            if p_value * (MONTE_CARLO_RESAMPLES + 1) < 1.5:
                what += (
                    f" No random table was as extreme as the observed one: 1/{MONTE_CARLO_RESAMPLES + 1:,} is the "
                    f"smallest estimate possible, and the exact p is very likely smaller."
                )
        return _tested(
            test_name,
            what,
            exact_risks,
            statistic=None,
            p_value=_float(p_value),
            df=None,
            effect_size_name="cramers-v",
            effect_size=effect,
        )
    raise ValueError(f"unknown categorical test {test!r}")


# --- ordinal association ----------------------------------------------------------------------------


def linear_by_linear(
    table: Sequence[Sequence[int]] | np.ndarray, row_labels: Sequence[str], col_labels: Sequence[str]
) -> TestResult:
    """Linear-by-linear association of counts[category][group], categories and groups both ordered."""
    counts = np.asarray(table, dtype=float)
    if counts.ndim != 2:
        raise ValueError("a contingency table must be two-dimensional")
    n = float(counts.sum())
    rows = counts.sum(axis=1)
    cols = counts.sum(axis=0)
    if np.count_nonzero(rows) < 2 or np.count_nonzero(cols) < 2:
        return _not_computed(TestName.LINEAR_BY_LINEAR, "fewer than two categories or groups with any patient")
    u = np.arange(counts.shape[0], dtype=float)
    v = np.arange(counts.shape[1], dtype=float)
    # Inner products through reportgen.sums, not `@` (BLAS): the same bits on every processor.
    u_centred = u - inner(rows, u) / n
    v_centred = v - inner(cols, v) / n
    covariance = exact_sum(u_centred[:, None] * counts * v_centred[None, :])
    r = covariance / math.sqrt(inner(rows, u_centred**2) * inner(cols, v_centred**2))
    m_squared = (n - 1.0) * r * r
    empty = [label for label, total in zip(col_labels, cols) if total == 0]
    risks = [Risk(RiskKind.EMPTY_GROUPS, tuple(empty))] if empty else []
    what = (
        f"Linear-by-linear association test (M² = (n − 1) r², n = {int(n)}) with scores in the order of the "
        f"groups {' < '.join(col_labels)} and of the categories {' < '.join(row_labels)}; chi-square "
        "approximation with 1 df; effect size r, the correlation of the scores (positive when later "
        "categories are more common in later groups)."
    )
    return _tested(
        TestName.LINEAR_BY_LINEAR,
        what,
        risks,
        statistic=_float(m_squared),
        p_value=_float(special.chdtrc(1.0, m_squared)),
        df=1.0,
        effect_size_name="pearson-r",
        effect_size=_float(r),
    )
