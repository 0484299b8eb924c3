"""Estimates with confidence intervals, each a ``reportgen.model.ConfidenceInterval``.

No I/O, no number formatting, no pandas: plain arrays in, model records out (as ``reportgen.stats``).
Missing values (NaN) are dropped first. Every interval is two-sided at ``level`` (0.95 unless told),
and names its method (``IntervalMethod``); bounds are None when the data are too few for the method.

- Mean: Student t, mean ± t(n − 1; 1 − α/2) SD / sqrt(n), SD with n − 1 (as ``scipy.stats.t.interval``).
- Median: distribution-free interval between order statistics (Hollander, Wolfe & Chicken, Nonparametric
  Statistical Methods, 3rd ed., 2014, section 3.6): [x_(k), x_(n+1−k)] with the largest k whose coverage
  1 − 2 P(B ≤ k − 1), B ~ Binomial(n, 1/2), is at least ``level`` (as ``scipy.stats.quantile_test(p=0.5)``
  ``.confidence_interval``). Coverage is at least the level, for any continuous distribution; none exists
  for n < 6 at 95 %.
- Proportion: Wilson score interval without continuity correction (as ``scipy.stats.binomtest(...)
  .proportion_ci(method="wilson")``).
- Difference of two proportions p1 − p2: Newcombe's hybrid score interval, his method 10 (Newcombe,
  Stat Med 1998;17:873-890), built from the two Wilson intervals (as statsmodels'
  ``confint_proportions_2indep(method="newcomb")``).
- Spearman's rho: Fisher z, tanh(atanh(rho) ± z(1 − α/2) / sqrt(n − 3)). Of the usual standard errors
  (1 / sqrt(n − 3); Fieller's sqrt(1.06 / (n − 3)); Bonett-Wright's sqrt((1 + rho²/2) / (n − 3))) this
  is the one that gives the interval published for the example, −0.75 to −0.26 (rho −0.555, n = 33;
  the other two give −0.76 to −0.25 and −0.77 to −0.24).
- Shift between two groups: Hodges-Lehmann estimate, the median of all differences high_i − low_j, with
  the interval between order statistics of those differences taken from the Mann-Whitney null
  distribution, as R's ``wilcox.test(high, low, conf.int = TRUE)``: exact distribution when both groups
  have fewer than 50 values and no value is tied (R's default), otherwise the normal approximation with
  continuity correction and tie-corrected variance (R solves for the interval numerically there; here
  the order statistics are chosen by the same rule as in the exact case, with the normal distribution).
- Effect sizes (epsilon-squared of Kruskal-Wallis, eta-squared of ANOVA, Cramér's V): percentile bootstrap with
  ``BOOTSTRAP_RESAMPLES`` resamples from a generator seeded with ``BOOTSTRAP_SEED`` (the same interval on
  every run). Epsilon- and eta-squared resample within groups (group sizes kept, as the design fixes them);
  Cramér's V resamples patients (the table's cells, multinomially). Vectorised over the resamples.
  Epsilon-squared is left without an interval above ``BOOTSTRAP_MAX_VALUES`` values (its cost grows with
  resamples x values); Cramér's V costs the same for any number of patients.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import special

from reportgen.model import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, CI_LEVEL, ConfidenceInterval, IntervalMethod

# CI_LEVEL, BOOTSTRAP_RESAMPLES and BOOTSTRAP_SEED live in reportgen.model (the report names them without numpy).
# R's wilcox.test computes the exact Mann-Whitney distribution when both groups have fewer values than this.
EXACT_MANN_WHITNEY_BELOW = 50
# Pairwise differences materialised at once for the Hodges-Lehmann estimate; beyond this many, order
# statistics are found by bisection on their value, counting with sorted arrays.
MATERIALISED_DIFFERENCES = 2_000_000
# The bisection stops when at most this many differences lie between its bounds, and sorts those.
SELECTION_CANDIDATES = 100_000
# ... or when its bounds agree to this relative precision (ties whose differences differ in the last bits).
SELECTION_RESOLUTION = 1e-12
# Cells (resamples x values) computed at once by the bootstraps: bounds their memory.
BOOTSTRAP_CHUNK_CELLS = 4_000_000
# Epsilon- and eta-squared's bootstraps cost resamples x values (a few passes over 2,000 x 1,000 numbers, of
# the order of 0.1 s per outcome at 1,000 values); above this many values they are not computed (bounds None).
# With that many patients the interval is narrow.
BOOTSTRAP_MAX_VALUES = 1_000


def _clean(values: Sequence[float] | np.ndarray) -> np.ndarray:
    array = np.asarray(values, dtype=float).ravel()
    return array[~np.isnan(array)]


def _none_if_nan(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _interval(level: float, method: IntervalMethod, lower: float | None, upper: float | None) -> ConfidenceInterval:
    return ConfidenceInterval(
        level=level,
        method=str(method),
        lower=None if lower is None else _none_if_nan(lower),
        upper=None if upper is None else _none_if_nan(upper),
    )


def _check_level(level: float) -> float:
    if not 0.0 < level < 1.0:
        raise ValueError(f"confidence level must lie between 0 and 1, not {level!r}")
    return float(level)


# --- one group ------------------------------------------------------------------------------------


def mean_ci(values: Sequence[float] | np.ndarray, level: float = CI_LEVEL) -> ConfidenceInterval:
    """Student t interval for the mean; None bounds for fewer than two values."""
    level = _check_level(level)
    x = _clean(values)
    n = x.size
    if n < 2:
        return _interval(level, IntervalMethod.STUDENT_T, None, None)
    mean = float(np.mean(x))
    half = float(special.stdtrit(n - 1, 0.5 + level / 2.0)) * float(np.std(x, ddof=1)) / math.sqrt(n)
    return _interval(level, IntervalMethod.STUDENT_T, mean - half, mean + half)


def median_order_statistic(n: int, level: float = CI_LEVEL) -> int | None:
    """The 1-based k of the median interval [x_(k), x_(n+1−k)]: the largest k with coverage >= level."""
    if n < 1:
        return None
    limit = (1.0 - level) / 2.0 * (1.0 + 1e-12)
    # P(B <= k - 1) <= alpha/2, B ~ Binomial(n, 1/2); bdtr(j, n, p) = P(B <= j) rises with j, so the j
    # that pass are 0 .. some j*, and k = j* + 1. Bisection over j in [0, (n + 1) // 2) asks bdtr about
    # 20 times at n = 100,000, where evaluating every j took 50,000 (0.35 s for the 110 medians there).
    passes, fails = -1, (n + 1) // 2  # bdtr(passes) <= limit (or none yet); fails: bdtr > limit, or the end
    while fails - passes > 1:
        middle = (passes + fails) // 2
        if special.bdtr(np.int64(middle), n, 0.5) <= limit:
            passes = middle
        else:
            fails = middle
    return passes + 1 if passes >= 0 else None


def median_ci(values: Sequence[float] | np.ndarray, level: float = CI_LEVEL) -> ConfidenceInterval:
    """Distribution-free order-statistic interval for the median; None bounds when n is too small."""
    level = _check_level(level)
    x = np.sort(_clean(values))
    k = median_order_statistic(x.size, level)
    if k is None:
        return _interval(level, IntervalMethod.ORDER_STATISTIC, None, None)
    return _interval(level, IntervalMethod.ORDER_STATISTIC, float(x[k - 1]), float(x[x.size - k]))


# --- proportions ------------------------------------------------------------------------------------


def _wilson(successes: int, n: int, level: float) -> tuple[float, float]:
    z = float(special.ndtri(0.5 + level / 2.0))
    p = successes / n
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denominator
    half = z * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denominator
    # At 0 and n successes the bound is exactly 0 or 1; rounding must not put it a hair outside.
    lower = 0.0 if successes == 0 else max(0.0, centre - half)
    upper = 1.0 if successes == n else min(1.0, centre + half)
    return lower, upper


def _check_counts(successes: int, n: int) -> None:
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")


def wilson_ci(successes: int, n: int, level: float = CI_LEVEL) -> ConfidenceInterval:
    """Wilson score interval for the proportion successes / n (a fraction, 0-1); None bounds when n = 0."""
    level = _check_level(level)
    _check_counts(successes, n)
    if n == 0:
        return _interval(level, IntervalMethod.WILSON, None, None)
    return _interval(level, IntervalMethod.WILSON, *_wilson(int(successes), int(n), level))


def newcombe_difference(x1: int, n1: int, x2: int, n2: int, level: float = CI_LEVEL) -> tuple[float | None, ConfidenceInterval]:
    """p1 − p2 (fractions) with Newcombe's hybrid score interval (method 10); None when a group is empty."""
    level = _check_level(level)
    _check_counts(x1, n1)
    _check_counts(x2, n2)
    if n1 == 0 or n2 == 0:
        return None, _interval(level, IntervalMethod.NEWCOMBE, None, None)
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = _wilson(int(x1), int(n1), level)
    l2, u2 = _wilson(int(x2), int(n2), level)
    difference = p1 - p2
    lower = difference - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = difference + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return difference, _interval(level, IntervalMethod.NEWCOMBE, lower, upper)


# --- correlation --------------------------------------------------------------------------------------


def spearman_ci(rho: float | None, n: int, level: float = CI_LEVEL) -> ConfidenceInterval:
    """Fisher z interval for Spearman's rho, standard error 1 / sqrt(n − 3); None bounds when n < 4."""
    level = _check_level(level)
    if rho is None or not math.isfinite(rho) or n < 4:
        return _interval(level, IntervalMethod.FISHER_Z, None, None)
    if abs(rho) >= 1.0:
        return _interval(level, IntervalMethod.FISHER_Z, float(rho), float(rho))
    z = math.atanh(rho)
    half = float(special.ndtri(0.5 + level / 2.0)) / math.sqrt(n - 3)
    return _interval(level, IntervalMethod.FISHER_Z, math.tanh(z - half), math.tanh(z + half))


# --- Hodges-Lehmann shift ----------------------------------------------------------------------------


def mann_whitney_counts(m: int, n: int) -> list[int]:
    """Number of arrangements giving each U = 0 .. m n for groups of m and n untied values (exact integers).

    The coefficients of the Gaussian binomial [m + n choose m]_q = prod_{i=1..m} (1 − q^(n+i)) / (1 − q^i).
    """
    length = m * n + m + 1
    poly = np.zeros(length, dtype=object)
    poly[:] = 0
    poly[0] = 1
    for i in range(1, m + 1):
        shift = n + i
        shifted = np.zeros(length, dtype=object)
        shifted[:] = 0
        shifted[shift:] = poly[: length - shift]
        poly = poly - shifted
        # Division by (1 − q^i): c[j] += c[j − i], in increasing j, i.e. a running sum along each residue class.
        padded = np.concatenate([poly, np.zeros((-length) % i, dtype=object)])
        padded[length:] = 0
        poly = np.cumsum(padded.reshape(-1, i), axis=0).ravel()[:length]
    return [int(c) for c in poly[: m * n + 1]]


def _qwilcox_exact(alpha_half: float, m: int, n: int) -> int:
    """R's qwilcox(alpha_half, m, n): the smallest u with P(U <= u) >= alpha_half (R's fuzz 10 eps)."""
    counts = mann_whitney_counts(m, n)
    total = math.comb(m + n, m)
    target = alpha_half - 10 * np.finfo(float).eps
    running = 0
    for u, count in enumerate(counts):
        running += count
        if running / total >= target:
            return u
    return m * n


def _qwilcox_normal(alpha_half: float, m: int, n: int, tie_term: float) -> int:
    """The smallest u with Φ((u + 1/2 − m n / 2) / σ) >= alpha_half, σ² tie corrected."""
    total = m + n
    variance = m * n / 12.0 * ((total + 1) - tie_term / (total * (total - 1)))
    if variance <= 0:
        return 1
    return math.ceil(m * n / 2.0 - 0.5 + float(special.ndtri(alpha_half)) * math.sqrt(variance) - 1e-9)


def _kth_difference_by_value(
    high: np.ndarray, high_weight: np.ndarray, low: np.ndarray, low_weight_from: np.ndarray, k: int
) -> tuple[int, np.ndarray, np.ndarray]:
    """Where the k-th smallest (1-based) of the differences high_i − low_j lies, without forming them all.

    ``high``, ``low``: the distinct values of each group, ascending; ``high_weight``: how often each high
    value occurs; ``low_weight_from[j]``: how many low values are at least ``low[j]`` (one more entry, 0).
    Bisection on the value keeps #(differences <= lo) < k <= #(differences <= hi) until few pairs of
    distinct values lie in (lo, hi], or the bounds agree to ``SELECTION_RESOLUTION``; those pairs are then
    formed. Returns #(differences <= lo), and the differences in (lo, hi] ascending with their cumulative
    counts: the k-th is the first whose cumulative count reaches k − #(<= lo), and so is any other order
    statistic in that range.
    """

    def at_most(d: float) -> tuple[int, int, np.ndarray]:
        # low_j >= high_i − d  <=>  high_i − low_j <= d: differences counted, pairs of distinct values counted.
        first = np.searchsorted(low, high - d, side="left")
        return int(np.dot(high_weight, low_weight_from[first])), int(np.sum(low.size - first)), first

    def largest_at_most(d: float) -> float:
        first = np.searchsorted(low, high - d, side="left")
        inside = first < low.size
        return float(np.max(high[inside] - low[first[inside]]))

    # Bounds a little outside the extreme differences, by more than counting by subtraction could round away
    # (relative to the largest value), also when every difference is the same.
    margin = 1e-12 * float(max(abs(high[0]), abs(high[-1]), abs(low[0]), abs(low[-1]))) + 1e-300
    lo = float(high[0] - low[-1]) - margin
    hi = float(high[-1] - low[0]) + margin
    count_lo, pairs_lo, _ = at_most(lo)
    count_hi, pairs_hi, _ = at_most(hi)
    # count_hi counts the differences at most hi_cut, the value it was counted at (hi itself is a difference that
    # high − hi could round past, so the pairs in (lo, hi] are formed by the same cut as their count).
    hi_cut = hi
    limit = min(SELECTION_CANDIDATES, MATERIALISED_DIFFERENCES // 4)
    while pairs_hi - pairs_lo > limit:
        mid = lo + (hi - lo) / 2.0
        if hi - lo <= SELECTION_RESOLUTION * max(abs(lo), abs(hi)) or not lo < mid < hi:
            # The differences left agree to 12 significant digits (ties in the data, unequal only by the
            # rounding of their subtraction): hi, an actual difference, stands for them all.
            return count_lo, np.array([largest_at_most(hi_cut)]), np.array([count_hi - count_lo])
        count, pairs, _ = at_most(mid)
        if count >= k:
            # Down to the largest difference at most mid: an actual difference, so ties are met exactly.
            hi, hi_cut, count_hi, pairs_hi = largest_at_most(mid), mid, count, pairs
        else:
            lo, count_lo, pairs_lo = mid, count, pairs
    first = np.searchsorted(low, high - hi_cut, side="left")
    stop = np.searchsorted(low, high - lo, side="left")
    sizes = stop - first
    rows = np.repeat(np.arange(high.size), sizes)
    cols = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes) + np.repeat(first, sizes)
    values = high[rows] - low[cols]
    weights = high_weight[rows] * (low_weight_from[cols] - low_weight_from[cols + 1])
    order = np.argsort(values, kind="stable")
    return count_lo, values[order], np.cumsum(weights[order])


def pairwise_difference_order_statistics(high: np.ndarray, low: np.ndarray, ks: Sequence[int]) -> list[float]:
    """The ks-th smallest (1-based) of all differences high_i − low_j."""
    high, low = np.sort(high), np.sort(low)
    if high.size * low.size <= MATERIALISED_DIFFERENCES:
        differences = np.subtract.outer(high, low).ravel()
        positions = sorted({k - 1 for k in ks})
        differences.partition(positions)
        return [float(differences[k - 1]) for k in ks]
    high_values, high_weight = np.unique(high, return_counts=True)
    low_values, low_counts = np.unique(low, return_counts=True)
    low_weight_from = np.append(np.cumsum(low_counts[::-1])[::-1], 0)
    found: dict[int, float] = {}
    for k in ks:
        if k in found:
            continue
        below, values, cumulative = _kth_difference_by_value(high_values, high_weight, low_values, low_weight_from, k)
        # Every order statistic wanted that lies in the same range (the two middle ones of a median).
        for other in ks:
            if other == k or below < other <= below + int(cumulative[-1]):
                at = min(int(np.searchsorted(cumulative, other - below, side="left")), values.size - 1)
                found[other] = float(values[at])
    return [found[k] for k in ks]


def hodges_lehmann(
    high: Sequence[float] | np.ndarray, low: Sequence[float] | np.ndarray, level: float = CI_LEVEL
) -> tuple[float | None, ConfidenceInterval]:
    """Shift of ``high`` relative to ``low``: median of all differences high_i − low_j, with the
    Mann-Whitney interval (exact or normal approximation, named in ``method``). None when a group is empty."""
    level = _check_level(level)
    x, y = _clean(high), _clean(low)
    m, n = x.size, y.size
    if m == 0 or n == 0:
        return None, _interval(level, IntervalMethod.MANN_WHITNEY_NORMAL, None, None)
    pooled = np.concatenate([x, y])
    _, tie_counts = np.unique(pooled, return_counts=True)
    tied = tie_counts.size < pooled.size
    alpha_half = (1.0 - level) / 2.0
    if m < EXACT_MANN_WHITNEY_BELOW and n < EXACT_MANN_WHITNEY_BELOW and not tied:
        method = IntervalMethod.MANN_WHITNEY_EXACT
        qu = _qwilcox_exact(alpha_half, m, n)
    else:
        method = IntervalMethod.MANN_WHITNEY_NORMAL
        t = tie_counts.astype(float)
        qu = _qwilcox_normal(alpha_half, m, n, float(np.sum(t**3 - t)))
    qu = min(max(qu, 1), m * n)  # as R: qu = 0 becomes 1
    total = m * n
    middle = [(total + 1) // 2, total // 2 + 1]  # the median: one order statistic, or the mean of two
    lower_k, upper_k = qu, total - qu + 1
    values = pairwise_difference_order_statistics(x, y, [*middle, lower_k, upper_k])
    estimate = (values[0] + values[1]) / 2.0
    lower, upper = values[2], values[3]
    if lower > upper:
        lower, upper = upper, lower
    return estimate, _interval(level, method, lower, upper)


# --- bootstrap of effect sizes ----------------------------------------------------------------------------


def _generator() -> np.random.Generator:
    return np.random.default_rng(BOOTSTRAP_SEED)


def _percentile(distribution: np.ndarray, level: float) -> tuple[float | None, float | None]:
    finite = distribution[np.isfinite(distribution)]
    if finite.size == 0:
        return None, None
    lower, upper = np.quantile(finite, [(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    return float(lower), float(upper)


def _blocks(values: np.ndarray) -> tuple[np.ndarray, int]:
    """The block of equal values each value belongs to (0 for the smallest), and the number of blocks."""
    distinct, block = np.unique(values, return_inverse=True)
    return block.ravel(), int(distinct.size)


def _groups_to_resample(groups: Sequence[np.ndarray]) -> list[np.ndarray] | None:
    """The non-empty groups (missing values dropped) whose effect size the bootstraps resample; None when there
    is nothing to estimate (fewer than two groups, one value throughout) or more than ``BOOTSTRAP_MAX_VALUES``."""
    present = [g for g in (_clean(group) for group in groups) if g.size > 0]
    if len(present) < 2 or np.unique(np.concatenate(present)).size < 2:
        return None
    return None if sum(g.size for g in present) > BOOTSTRAP_MAX_VALUES else present


def bootstrap_epsilon_squared(
    groups: Sequence[np.ndarray], level: float = CI_LEVEL, n_resamples: int = BOOTSTRAP_RESAMPLES
) -> ConfidenceInterval:
    """Percentile bootstrap interval of Kruskal-Wallis epsilon-squared, resampling within each group.

    Each resample draws, for every group in turn, as many values as it has from its own values
    (``rng.integers``), ``n_resamples`` at once.
    """
    level = _check_level(level)
    present = _groups_to_resample(groups)
    if present is None:
        return _interval(level, IntervalMethod.BOOTSTRAP_PERCENTILE, None, None)
    values = np.concatenate(present)
    block, n_blocks = _blocks(values)
    sizes = np.array([g.size for g in present])
    starts = np.cumsum(sizes) - sizes
    n = float(values.size)
    rng = _generator()
    chunk = max(1, BOOTSTRAP_CHUNK_CELLS // max(values.size, n_blocks))
    parts = []
    done = 0
    while done < n_resamples:
        size = min(chunk, n_resamples - done)
        draws = np.concatenate([start + rng.integers(0, g.size, size=(size, g.size)) for start, g in zip(starts, present)], axis=1)
        # Per resample: how many drawn values fall in each block of equal values, hence each block's midrank,
        # hence each drawn value's rank; the draws lie group after group, so rank sums are sums of slices.
        drawn_block = block[draws]
        per_block = np.bincount((drawn_block + n_blocks * np.arange(size)[:, None]).ravel(), minlength=size * n_blocks)
        per_block = per_block.reshape(size, n_blocks).astype(float)
        midrank = np.cumsum(per_block, axis=1) - per_block + (per_block + 1.0) / 2.0
        ranks = np.take_along_axis(midrank, drawn_block, axis=1)
        rank_sums = np.add.reduceat(ranks, starts, axis=1)
        h = 12.0 / (n * (n + 1.0)) * np.sum(rank_sums**2 / sizes, axis=1) - 3.0 * (n + 1.0)
        # Tie correction: sum of (t³ − t) over the blocks, the counts t summing to n in every resample.
        ties = 1.0 - (np.einsum("rb,rb,rb->r", per_block, per_block, per_block) - n) / (n**3 - n)
        with np.errstate(divide="ignore", invalid="ignore"):
            parts.append(np.where(ties > 0, h / ties / (n - 1.0), np.nan))
        done += size
    return _interval(level, IntervalMethod.BOOTSTRAP_PERCENTILE, *_percentile(np.concatenate(parts), level))


def bootstrap_eta_squared(
    groups: Sequence[np.ndarray], level: float = CI_LEVEL, n_resamples: int = BOOTSTRAP_RESAMPLES
) -> ConfidenceInterval:
    """Percentile bootstrap interval of one-way ANOVA's eta-squared = SS_between / SS_total, resampling
    within each group with the same draws as ``bootstrap_epsilon_squared``; the same work budget."""
    level = _check_level(level)
    present = _groups_to_resample(groups)
    if present is None:
        return _interval(level, IntervalMethod.BOOTSTRAP_PERCENTILE, None, None)
    values = np.concatenate(present)
    rng = _generator()
    chunk = max(1, BOOTSTRAP_CHUNK_CELLS // values.size)
    parts = []
    done = 0
    while done < n_resamples:
        size = min(chunk, n_resamples - done)
        drawn = [g[rng.integers(0, g.size, size=(size, g.size))] for g in present]
        pooled = np.concatenate(drawn, axis=1)
        centre = pooled.mean(axis=1, keepdims=True)
        total = np.sum((pooled - centre) ** 2, axis=1)
        between = sum(d.shape[1] * (d.mean(axis=1) - centre[:, 0]) ** 2 for d in drawn)
        with np.errstate(divide="ignore", invalid="ignore"):
            parts.append(np.where(total > 0, between / total, np.nan))
        done += size
    return _interval(level, IntervalMethod.BOOTSTRAP_PERCENTILE, *_percentile(np.concatenate(parts), level))


def cramers_v_of_tables(tables: np.ndarray) -> np.ndarray:
    """Cramér's V of each table (resamples x rows x columns), all-zero rows and columns left out, as
    ``stats.compare_categorical``: sqrt(chi² / (n (min(r, c) − 1))) on the reduced table; NaN when it has
    fewer than two rows or columns."""
    t = np.asarray(tables, dtype=float)
    rows = t.sum(axis=2)
    cols = t.sum(axis=1)
    n = rows.sum(axis=1)
    expected = rows[:, :, None] * cols[:, None, :] / n[:, None, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        chi_square = np.sum(np.where(expected > 0, (t - expected) ** 2 / expected, 0.0), axis=(1, 2))
        k = np.minimum((rows > 0).sum(axis=1), (cols > 0).sum(axis=1)) - 1
        return np.where(k > 0, np.sqrt(chi_square / (n * k)), np.nan)


def bootstrap_cramers_v(
    table: Sequence[Sequence[int]] | np.ndarray, level: float = CI_LEVEL, n_resamples: int = BOOTSTRAP_RESAMPLES
) -> ConfidenceInterval:
    """Percentile bootstrap interval of Cramér's V, resampling patients (cells of the table)."""
    level = _check_level(level)
    counts = np.asarray(table, dtype=np.int64)
    n = int(counts.sum())
    if counts.ndim != 2 or n == 0 or (counts.sum(axis=1) > 0).sum() < 2 or (counts.sum(axis=0) > 0).sum() < 2:
        return _interval(level, IntervalMethod.BOOTSTRAP_PERCENTILE, None, None)
    rng = _generator()
    tables = rng.multinomial(n, counts.ravel() / n, size=n_resamples).reshape(n_resamples, *counts.shape)
    return _interval(level, IntervalMethod.BOOTSTRAP_PERCENTILE, *_percentile(cramers_v_of_tables(tables), level))


def bootstrap_ci(effect_size_name: str, data, level: float = CI_LEVEL) -> ConfidenceInterval:
    """The bootstrap interval of a ``TestResult.effect_size_name``: "epsilon-squared" or "eta-squared"
    (``data``: the groups' values) or "cramers-v" (``data``: the contingency table)."""
    if effect_size_name == "epsilon-squared":
        return bootstrap_epsilon_squared(data, level)
    if effect_size_name == "eta-squared":
        return bootstrap_eta_squared(data, level)
    if effect_size_name == "cramers-v":
        return bootstrap_cramers_v(data, level)
    raise ValueError(f"no bootstrap interval for effect size {effect_size_name!r}")
