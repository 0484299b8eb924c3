"""How numbers are written in the report: one module for tables, text and figure tick labels.

Rounding is half up on the decimal representation (5.625 -> 5.63, 2.675 -> 2.68; ``reportgen.rounding``),
as clinicians, SPSS and the printed abstract do; Python's ``round``/``format`` round half to even on binary floats and
would print 2.67. Decimals depend on the measure (``DECIMALS``). With ``decimal_separator = ","`` every
number gets a decimal comma; thousands are never grouped (a comma group separator would be ambiguous).
Negative numbers use the typographic minus sign (U+2212), as matplotlib does on its axes.

The Formatter's public methods are the Jinja filters (``Formatter.filters``) and are used by
``figures.py`` through ``Formatter.tick_formatter``; nothing else in reportgen formats a number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Callable, Literal

from reportgen.model import ALPHA, BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, IntervalMethod, TestName
from reportgen.rounding import round_half_up

if TYPE_CHECKING:
    from matplotlib.ticker import FuncFormatter

    from reportgen.model import ConfidenceInterval, StudyOptions, Summary

MINUS = "\u2212"
EN_DASH = "\u2013"
NBSP = "\u00a0"  # keeps "4.46 ± 1.50" and "p = 0.006" on one line
MISSING = EN_DASH  # shown where a value is undefined (n = 0, SD of one patient, test not done)

# Decimals per measure for means, SDs, medians and quartiles. Joint counts are whole numbers per patient
# but their means are printed with 2 decimals, as in the abstract (7.5 +/- 6.6 came from 2-decimal means).
DECIMALS: dict[str, int] = {
    "das28_esr": 2,
    "das28_crp": 2,
    "delta_das28": 2,
    "cdai": 2,
    "sdai": 2,
    "tjc28": 2,
    "sjc28": 2,
    "esr_mm_h": 1,
    "crp_mg_l": 2,
    "crp_mg_dl": 2,
    "age_years": 1,
    "disease_duration_years": 1,
    "prior_biologics": 1,
    "patient_global_mm": 1,
    "evaluator_global_mm": 1,
    "trough_level": 2,
    "percent": 1,
    "rho": 2,
    "statistic": 2,
    "effect_size": 2,
}
DEFAULT_DECIMALS = 2
# Small whole-number counts per patient (a handful of values, heavily tied): summarised as median [IQR]
# only, never mean ± SD.
COUNT_MEASURES = frozenset({"prior_biologics"})
P_DECIMALS = 3
# More decimals than P_DECIMALS are written only where 3 would contradict the call at ALPHA (0.0497 is
# significant and would print 0.050); beyond this, the p is written as "<0.05".
P_MAX_DECIMALS = 6
# How each test in a TestResult is named in captions, footnotes and prose.
TEST_NAMES: dict[TestName, str] = {
    TestName.KRUSKAL_WALLIS: "Kruskal\u2013Wallis test",
    TestName.ANOVA: "One-way ANOVA",
    TestName.CHI_SQUARE: "Pearson \u03c7\u00b2 test without continuity correction",
    TestName.FISHER_EXACT: "Fisher\u2013Freeman\u2013Halton exact test",
    TestName.FISHER_MONTE_CARLO: "Fisher\u2013Freeman\u2013Halton test (Monte Carlo p)",
    TestName.JONCKHEERE_TERPSTRA: "Jonckheere\u2013Terpstra trend test",
    TestName.SPEARMAN: "Spearman rank correlation",
    TestName.LINEAR_BY_LINEAR: "Linear-by-linear association test",
}
# How each confidence-interval method is named in footnotes and the Methods (after "95% CI of ...: ").
INTERVAL_METHOD_NAMES: dict[IntervalMethod, str] = {
    IntervalMethod.STUDENT_T: "t distribution",
    IntervalMethod.ORDER_STATISTIC: "distribution-free interval between order statistics (binomial)",
    IntervalMethod.WILSON: "Wilson score interval",
    IntervalMethod.NEWCOMBE: "Newcombe hybrid score interval",
    IntervalMethod.FISHER_Z: "Fisher z transformation with standard error 1/\u221a(n \u2212 3)",
    IntervalMethod.MANN_WHITNEY_EXACT: "Hodges\u2013Lehmann estimate with the exact Mann\u2013Whitney interval",
    IntervalMethod.MANN_WHITNEY_NORMAL: "Hodges\u2013Lehmann estimate with the Mann\u2013Whitney interval, normal "
    "approximation corrected for ties",
    IntervalMethod.BOOTSTRAP_PERCENTILE: f"percentile bootstrap, {BOOTSTRAP_RESAMPLES} resamples, fixed seed {BOOTSTRAP_SEED}",
    IntervalMethod.OLS_T: "least-squares coefficient \u00b1 t quantile \u00d7 its standard error (n \u2212 p df)",
}
# Effect sizes by their symbol in table headers and prose.
EFFECT_SIZE_SYMBOLS: dict[str, str] = {"epsilon-squared": "\u03b5\u00b2", "eta-squared": "\u03b7\u00b2", "cramers-v": "Cram\u00e9r\u2019s V"}
# Suffixes naming when a measure was taken; they do not change its precision.
_TIME_SUFFIXES = ("_baseline", "_follow_up", "_followup")


def decimals_for(variable: str) -> int:
    """Decimals for a measure named as in results.json (``das28_esr_baseline`` -> as ``das28_esr``)."""
    for suffix in _TIME_SUFFIXES:
        if variable.endswith(suffix):
            variable = variable[: -len(suffix)]
            break
    return DECIMALS.get(variable, DEFAULT_DECIMALS)


def _decimals_of(value: float) -> int:
    """Decimals of a constant as written: 0.05 -> 2."""
    return max(0, -Decimal(repr(value)).as_tuple().exponent)


def _span(low: str, high: str) -> str:
    """Two written bounds joined by an en dash, or by '; ' when either is negative, so no dash is a minus."""
    joiner = "; " if low.startswith(MINUS) or high.startswith(MINUS) else EN_DASH
    return f"{low}{joiner}{high}"


def _is_missing(value: float | int | None) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


@dataclass(frozen=True)
class Formatter:
    """Writes numbers for one study; every method returns a finished string."""

    decimal_separator: Literal[".", ","] = "."

    @classmethod
    def for_study(cls, study: StudyOptions) -> Formatter:
        return cls(decimal_separator=study.decimal_separator)

    # --- plain numbers ---------------------------------------------------------------------

    def number(self, value: float | int | None, decimals: int = DEFAULT_DECIMALS) -> str:
        """``value`` with exactly ``decimals`` places, half up; an en dash when undefined."""
        if _is_missing(value):
            return MISSING
        rounded = round_half_up(value, decimals)
        if rounded == 0:
            rounded = abs(rounded)  # never print "-0.00"
        text = f"{abs(rounded):f}"
        if self.decimal_separator == ",":
            text = text.replace(".", ",")
        return f"{MINUS}{text}" if rounded < 0 else text

    def integer(self, value: int | None) -> str:
        return MISSING if value is None else self.number(value, 0)

    def measure(self, value: float | None, variable: str) -> str:
        """A value of a named measure at that measure's precision (see ``DECIMALS``)."""
        return self.number(value, decimals_for(variable))

    def percent(self, value: float | None) -> str:
        """A percentage without its sign, 1 decimal: 24.2424 -> '24.2'."""
        return self.number(value, DECIMALS["percent"])

    def rho(self, value: float | None) -> str:
        return self.number(value, DECIMALS["rho"])

    def statistic(self, value: float | None) -> str:
        return self.number(value, DECIMALS["statistic"])

    def p_value(self, value: float | None) -> str:
        """'<0.001' below one in a thousand, else 3 decimals; '>0.999' rather than a rounded '1.000'.

        Significance is decided on the unrounded p (p < ALPHA), so a p just below ALPHA gets the decimals
        that keep it below in print: 0.0497 -> '0.0497', never '0.050'; '<0.05' past P_MAX_DECIMALS.
        """
        if _is_missing(value):
            return MISSING
        if value < 0.001:
            return "<" + self.number(0.001, P_DECIMALS)
        if value > 0.999:
            return ">" + self.number(0.999, P_DECIMALS)
        decimals = P_DECIMALS
        while value < ALPHA and round_half_up(value, decimals) >= round_half_up(ALPHA, decimals):
            decimals += 1
            if decimals > P_MAX_DECIMALS:
                return "<" + self.number(ALPHA, _decimals_of(ALPHA))
        return self.number(value, decimals)

    def p_equation(self, value: float | None) -> str:
        """A p-value as it reads in a sentence: 'p = 0.006', 'p < 0.001'."""
        text = self.p_value(value)
        if text[0] in "<>":
            return f"p{NBSP}{text[0]}{NBSP}{text[1:]}"
        return f"p{NBSP}={NBSP}{text}"

    def interval(self, interval: ConfidenceInterval | None, decimals: int = DEFAULT_DECIMALS) -> str:
        """'3.18 to 5.73' (words, not a dash, so a minus sign or a decimal comma cannot be misread); an en dash
        when there is no interval."""
        if interval is None or _is_missing(interval.lower) or _is_missing(interval.upper):
            return MISSING
        return f"{self.number(interval.lower, decimals)} to {self.number(interval.upper, decimals)}"

    def interval_span(self, interval: ConfidenceInterval | None, decimals: int = DEFAULT_DECIMALS) -> str:
        """An interval as a table writes it, in parentheses: '(3.18–5.73)', '(−3.61; −0.97)' when a bound is
        negative (as ``median_iqr``); '(–)' when there is no interval."""
        if interval is None or _is_missing(interval.lower) or _is_missing(interval.upper):
            return f"({MISSING})"
        return f"({_span(self.number(interval.lower, decimals), self.number(interval.upper, decimals))})"

    def interval_percent(self, interval: ConfidenceInterval | None) -> str:
        """An interval of a proportion (0-1) in percent without the sign: '2.2 to 47.1'."""
        if interval is None or _is_missing(interval.lower) or _is_missing(interval.upper):
            return MISSING
        return f"{self.percent(100.0 * interval.lower)} to {self.percent(100.0 * interval.upper)}"

    def ci_label(self, level: float) -> str:
        """'95% CI' for a level of 0.95."""
        text = f"{100.0 * level:g}"
        return f"{text.replace('.', ',') if self.decimal_separator == ',' else text}%{NBSP}CI"

    def interval_method(self, method: IntervalMethod | str) -> str:
        return INTERVAL_METHOD_NAMES.get(method, str(method))

    def effect_size_symbol(self, name: str | None) -> str:
        return EFFECT_SIZE_SYMBOLS.get(name or "", name or "effect size")

    def test_name(self, test: TestName | str) -> str:
        """'Kruskal–Wallis test' for 'kruskal-wallis'; unknown names are shown as given."""
        return TEST_NAMES.get(test, test)

    # --- summaries -------------------------------------------------------------------------

    def mean_sd(self, summary: Summary, variable: str) -> str:
        """'4.46 ± 1.50'; the mean alone when the SD is undefined (one patient)."""
        if summary.n == 0 or _is_missing(summary.mean):
            return MISSING
        mean = self.measure(summary.mean, variable)
        if _is_missing(summary.sd):
            return mean
        return f"{mean}{NBSP}\u00b1{NBSP}{self.measure(summary.sd, variable)}"

    def median_iqr(self, summary: Summary, variable: str) -> str:
        """'4.30 [3.10–5.60]'; with a negative bound the range reads '[−1.20; 0.50]' so no dash is a minus."""
        if summary.n == 0 or _is_missing(summary.median):
            return MISSING
        median = self.measure(summary.median, variable)
        if _is_missing(summary.q1) or _is_missing(summary.q3):
            return median
        return f"{median} [{_span(self.measure(summary.q1, variable), self.measure(summary.q3, variable))}]"

    def n_percent(self, count: int, total: int) -> str:
        """'8 (24.2)'; the percentage is of ``total`` (column headers say which total)."""
        if total <= 0:
            return f"{count} ({MISSING})"
        return f"{count} ({self.percent(100.0 * count / total)})"

    def estimate_ci(self, value: float | None, lower: float | None, upper: float | None, variable: str) -> str:
        """'−0.30 (−0.47 to −0.13)': an estimate and its confidence interval at the measure's precision
        ('to' between the bounds, so no dash reads as a minus); an en dash when there is no estimate."""
        if _is_missing(value):
            return MISSING
        estimate = self.measure(value, variable)
        if _is_missing(lower) or _is_missing(upper):
            return estimate
        return f"{estimate} ({self.measure(lower, variable)} to {self.measure(upper, variable)})"

    def join(self, items: list[str], conjunction: str = "and") -> str:
        """'1.5, 2.5 and 3.5'; with a decimal comma '1,5; 2,5 and 3,5', so commas never split numbers."""
        if len(items) <= 1:
            return "".join(items)
        return self.list_separator.join(items[:-1]) + f" {conjunction} " + items[-1]

    @property
    def list_separator(self) -> str:
        """Between numbers in a list or an interval: a semicolon when the comma is the decimal mark."""
        return "; " if self.decimal_separator == "," else ", "

    # --- integrations ----------------------------------------------------------------------

    def tick_formatter(self, decimals: int) -> FuncFormatter:
        """A matplotlib tick formatter writing axis labels exactly as the tables write numbers."""
        from matplotlib.ticker import FuncFormatter

        return FuncFormatter(lambda value, _position: self.number(value, decimals))

    def filters(self) -> dict[str, Callable[..., str]]:
        """The Jinja filters, registered once by ``reportgen.exporters.html``."""
        return {
            "number": self.number,
            "integer": self.integer,
            "measure": self.measure,
            "percent": self.percent,
            "rho": self.rho,
            "p_value": self.p_value,
            "p_equation": self.p_equation,
            "mean_sd": self.mean_sd,
            "median_iqr": self.median_iqr,
            "n_percent": self.n_percent,
            "test_name": self.test_name,
        }
