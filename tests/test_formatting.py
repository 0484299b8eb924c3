"""Number formatting: half-up rounding, decimals per measure, decimal comma, p-value style."""

from __future__ import annotations

from decimal import Decimal

import pytest
from written_numbers import parse

from reportgen import formatting
from reportgen.formatting import MINUS, Formatter, _decimals_of, decimals_for
from reportgen.model import ConfidenceInterval, IntervalMethod, StudyOptions, Summary

DOT = Formatter(".")
COMMA = Formatter(",")


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (5.625, 2, "5.63"),  # round() gives 5.62: half to even on the binary value
        (2.675, 2, "2.68"),  # stored as 2.67499999...; judged on its decimal representation
        (0.125, 2, "0.13"),
        (1.005, 2, "1.01"),
        (24.2424, 1, "24.2"),
        (30.303, 1, "30.3"),
        (4.4 - 3.2, 2, "1.20"),
        (-2.675, 2, f"{MINUS}2.68"),
        (-0.001, 2, "0.00"),  # no negative zero
        (8, 0, "8"),
        (123456.5, 0, "123457"),  # never a thousands separator
    ],
)
def test_half_up(value: float, decimals: int, expected: str) -> None:
    assert DOT.number(value, decimals) == expected


def test_missing_values_show_a_dash() -> None:
    assert DOT.number(None) == DOT.number(float("nan")) == DOT.p_value(None) == "\u2013"


@pytest.mark.parametrize(
    ("variable", "decimals"),
    [("das28_esr", 2), ("cdai", 2), ("sdai", 2), ("sjc28", 2), ("esr_mm_h", 1), ("crp_mg_l", 2), ("age_years", 1),
     ("das28_esr_baseline", 2), ("esr_mm_h_baseline", 1), ("unknown", 2)],
)
def test_decimals_per_measure(variable: str, decimals: int) -> None:
    assert decimals_for(variable) == decimals


@pytest.mark.parametrize(
    ("p", "dot", "comma"),
    [(0.00049, "<0.001", "<0,001"), (0.00095, "<0.001", "<0,001"), (0.001, "0.001", "0,001"),
     (0.00636, "0.006", "0,006"), (0.0465, "0.047", "0,047"), (0.05, "0.050", "0,050"), (0.9996, ">0.999", ">0,999")],
)
def test_p_values(p: float, dot: str, comma: str) -> None:
    assert DOT.p_value(p) == dot
    assert COMMA.p_value(p) == comma


@pytest.mark.parametrize(
    ("p", "dot", "comma"),
    [(0.0497, "0.0497", "0,0497"), (0.04996, "0.04996", "0,04996"), (0.0499999999, "<0.05", "<0,05"),
     (0.0494, "0.049", "0,049"), (0.0500, "0.050", "0,050"), (0.0503, "0.050", "0,050")],
)
def test_a_printed_p_never_contradicts_the_call_at_alpha(p: float, dot: str, comma: str) -> None:
    """Significance is decided on the unrounded p: one just below 0.05 never prints as 0.050."""
    assert DOT.p_value(p) == dot
    assert COMMA.p_value(p) == comma
    assert DOT.p_equation(0.0497) == "p\u00a0=\u00a00.0497"
    assert DOT.p_equation(0.0499999999) == "p\u00a0<\u00a00.05"


def test_p_equation_reads_as_a_sentence() -> None:
    assert DOT.p_equation(0.00636) == "p\u00a0=\u00a00.006"
    assert COMMA.p_equation(0.0001) == "p\u00a0<\u00a00,001"


def test_summaries() -> None:
    summary = Summary(n=8, mean=4.455, sd=1.5, median=4.3, q1=3.1, q3=5.625)
    assert DOT.mean_sd(summary, "das28_esr") == "4.46\u00a0±\u00a01.50"
    assert COMMA.mean_sd(summary, "esr_mm_h") == "4,5\u00a0±\u00a01,5"
    assert DOT.median_iqr(summary, "das28_esr") == "4.30 [3.10–5.63]"
    assert DOT.median_iqr(Summary(n=3, median=0.1, q1=-1.2, q3=0.5), "delta_das28") == f"0.10 [{MINUS}1.20; 0.50]"
    assert DOT.mean_sd(Summary(n=1, mean=2.0), "cdai") == "2.00"
    assert DOT.mean_sd(Summary(n=0), "cdai") == "\u2013"
    assert COMMA.n_percent(8, 33) == "8 (24,2)"
    assert DOT.n_percent(0, 0) == "0 (\u2013)"


@pytest.mark.parametrize("value", [0.0, 0.5, 1.25, 2.675, 5.625, -3.14159, 17.9, 1e-7, 99999.995, 123.456789])
@pytest.mark.parametrize("decimals", [0, 1, 2, 3])
def test_decimal_comma_round_trip(value: float, decimals: int) -> None:
    text = COMMA.number(value, decimals)
    assert "." not in text
    assert parse(COMMA, text) == parse(DOT, DOT.number(value, decimals))
    assert parse(DOT, DOT.number(value, decimals)) == Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), "ROUND_HALF_UP")


def test_parse_refuses_a_decimal_point_under_a_comma_study() -> None:
    with pytest.raises(ValueError):
        parse(COMMA, "1.5")


def test_lists_of_numbers_never_split_on_a_decimal_comma() -> None:
    assert COMMA.join(["4,20", "11,30", "18,50"]) == "4,20; 11,30 and 18,50"
    assert DOT.join(["4.20", "11.30", "18.50"]) == "4.20, 11.30 and 18.50"


def test_for_study_and_ticks() -> None:
    formatter = Formatter.for_study(StudyOptions(decimal_separator=","))
    assert formatter == COMMA
    assert formatter.tick_formatter(1)(2.25, 0) == "2,3"
    assert DOT.tick_formatter(0)(-2.0, 0) == f"{MINUS}2"


def test_filters_are_the_formatter_methods() -> None:
    filters = COMMA.filters()
    assert filters["p_value"](0.00636) == "0,006"
    assert set(filters) >= {"number", "measure", "p_value", "mean_sd", "median_iqr", "n_percent", "percent"}


def test_integers_rho_and_statistics() -> None:
    assert DOT.integer(7) == COMMA.integer(7) == "7"
    assert DOT.integer(-12) == f"{MINUS}12"
    assert DOT.integer(None) == "\u2013"
    assert DOT.rho(-0.456) == f"{MINUS}0.46" and COMMA.rho(0.455) == "0,46"
    assert DOT.rho(None) == "\u2013"
    assert DOT.statistic(12.345) == "12.35" and COMMA.statistic(3.0) == "3,00"
    assert DOT.statistic(float("nan")) == "\u2013"


def test_p_value_of_exactly_0_999_is_written_out() -> None:
    assert DOT.p_value(0.999) == "0.999"
    assert DOT.p_equation(0.999) == "p\u00a0=\u00a00.999"
    assert DOT.p_equation(0.9995) == "p\u00a0>\u00a00.999"


def test_test_names_read_as_prose_and_unknown_names_show_as_given() -> None:
    assert DOT.test_name("kruskal-wallis") == "Kruskal\u2013Wallis test"
    assert DOT.test_name("spearman") == "Spearman rank correlation"
    assert DOT.test_name("some-new-test") == "some-new-test"


def test_summaries_of_no_patients_or_undefined_values_show_a_dash() -> None:
    # n = 0 wins over whatever else the summary holds; an undefined centre shows a dash, not '– ± 1.00'.
    assert DOT.mean_sd(Summary(n=0, mean=2.0, sd=1.0), "cdai") == "\u2013"
    assert DOT.mean_sd(Summary(n=2, mean=float("nan"), sd=1.0), "cdai") == "\u2013"
    assert DOT.median_iqr(Summary(n=0, median=4.3, q1=3.1, q3=5.6), "cdai") == "\u2013"
    assert DOT.median_iqr(Summary(n=2, median=float("nan"), q1=3.1, q3=5.6), "cdai") == "\u2013"


def test_median_alone_when_a_quartile_is_undefined() -> None:
    assert DOT.median_iqr(Summary(n=1, median=4.3), "das28_esr") == "4.30"
    assert DOT.median_iqr(Summary(n=3, median=4.3, q1=3.1), "das28_esr") == "4.30"
    assert DOT.median_iqr(Summary(n=3, median=4.3, q3=5.6), "das28_esr") == "4.30"


def test_n_percent_of_a_total_of_one() -> None:
    assert DOT.n_percent(1, 1) == "1 (100.0)"
    assert DOT.n_percent(0, 1) == "0 (0.0)"


@pytest.mark.parametrize(
    ("items", "expected"),
    [([], ""), (["4,20"], "4,20"), (["4,20", "11,30"], "4,20 and 11,30"), (["a", "b", "c"], "a; b and c")],
)
def test_join_short_lists(items: list[str], expected: str) -> None:
    assert COMMA.join(items) == expected


def test_join_takes_a_conjunction() -> None:
    assert DOT.join(["1", "2", "3"], "or") == "1, 2 or 3"


def test_parse_says_what_is_wrong() -> None:
    with pytest.raises(ValueError, match=r"'1\.5' has a decimal point but the study uses a decimal comma"):
        parse(COMMA, "1.5")
    with pytest.raises(ValueError, match=r"'n/a' is not a number written by this formatter"):
        parse(DOT, "n/a")


def test_an_estimate_with_its_interval() -> None:
    assert DOT.estimate_ci(-0.29755, -0.46605, -0.12905, "das28_esr") == "\u22120.30 (\u22120.47 to \u22120.13)"
    assert COMMA.estimate_ci(-2.14096, -3.68995, 0.14401, "esr_mm_h") == "\u22122,1 (\u22123,7 to 0,1)"
    assert DOT.estimate_ci(None, None, None, "cdai") == "\u2013"
    assert DOT.estimate_ci(1.234, None, None, "cdai") == "1.23"


def test_every_filter_is_the_formatter_method_of_that_name() -> None:
    filters = COMMA.filters()
    assert set(filters) == {
        "number", "integer", "measure", "percent", "rho", "p_value", "p_equation",
        "mean_sd", "median_iqr", "n_percent", "test_name",
    }
    for name, method in filters.items():
        assert method == getattr(COMMA, name), name


# --- found by mutation testing, sixth pass: p_value, intervals, ci_label, interval_method, effect_size_symbol,
# estimate_ci, _decimals_of ---------------------------------------------------------------------------------


def _ci(lower: float | None, upper: float | None, level: float = 0.95) -> ConfidenceInterval:
    return ConfidenceInterval(level=level, method=IntervalMethod.STUDENT_T, lower=lower, upper=upper)


def test_an_interval_in_a_table_is_a_span_in_parentheses() -> None:
    assert DOT.interval_span(_ci(3.184, 5.726)) == "(3.18\u20135.73)"
    assert COMMA.interval_span(_ci(3.184, 5.726), 1) == "(3,2\u20135,7)"
    assert DOT.interval_span(_ci(-3.605, -0.965), 3) == f"({MINUS}3.605; {MINUS}0.965)"
    assert DOT.interval_span(_ci(-0.5, 2.25), 1) == f"({MINUS}0.5; 2.3)"
    # No interval, or one undefined bound: a dash in parentheses, never half an interval.
    for interval in (None, _ci(None, 5.0), _ci(3.0, None), _ci(float("nan"), 5.0), _ci(None, None)):
        assert DOT.interval_span(interval) == "(\u2013)"


def test_an_interval_in_words_and_in_percent() -> None:
    assert DOT.interval(_ci(3.184, 5.726)) == "3.18 to 5.73"
    assert COMMA.interval(_ci(-3.184, 5.726), 1) == f"{MINUS}3,2 to 5,7"
    assert DOT.interval(_ci(0.12345, 0.6789), 3) == "0.123 to 0.679"
    assert DOT.interval_percent(_ci(0.02204, 0.4706)) == "2.2 to 47.1"
    assert COMMA.interval_percent(_ci(0.0, 1.0)) == "0,0 to 100,0"
    for interval in (None, _ci(None, 0.5), _ci(0.5, None), _ci(float("nan"), 0.5), _ci(0.5, float("inf"))):
        assert DOT.interval(interval) == "\u2013"
        assert DOT.interval_percent(interval) == "\u2013"


def test_ci_label_at_any_level_and_decimal_mark() -> None:
    assert DOT.ci_label(0.95) == COMMA.ci_label(0.95) == "95%\u00a0CI"
    assert DOT.ci_label(0.9) == "90%\u00a0CI"
    assert DOT.ci_label(0.975) == "97.5%\u00a0CI"
    assert COMMA.ci_label(0.975) == "97,5%\u00a0CI"


def test_interval_methods_in_words_and_unknown_ones_as_given() -> None:
    assert DOT.interval_method(IntervalMethod.WILSON) == "Wilson score interval"
    assert DOT.interval_method("wilson") == "Wilson score interval"
    assert DOT.interval_method("some-new-method") == "some-new-method"


def test_every_interval_method_has_words() -> None:
    """A method added to IntervalMethod without words would print as its key (e.g. "ols-t") in a footnote."""
    assert set(formatting.INTERVAL_METHOD_NAMES) == set(IntervalMethod)
    assert all(DOT.interval_method(method) != method.value for method in IntervalMethod)


def test_effect_size_symbols_and_unknown_or_missing_names() -> None:
    assert DOT.effect_size_symbol("epsilon-squared") == "\u03b5\u00b2"
    assert DOT.effect_size_symbol("cramers-v") == "Cram\u00e9r\u2019s V"
    assert DOT.effect_size_symbol("cohens-d") == "cohens-d"
    assert DOT.effect_size_symbol(None) == DOT.effect_size_symbol("") == "effect size"


def test_an_estimate_with_one_undefined_bound_is_the_estimate_alone() -> None:
    assert DOT.estimate_ci(1.234, 1.0, None, "cdai") == "1.23"
    assert DOT.estimate_ci(1.234, None, 2.0, "cdai") == "1.23"
    assert DOT.estimate_ci(1.234, float("nan"), 2.0, "cdai") == "1.23"


def test_decimals_of_a_constant_as_written() -> None:
    assert _decimals_of(0.05) == 2
    assert _decimals_of(0.001) == 3
    assert _decimals_of(2.5) == 1
    assert _decimals_of(5) == 0
    assert _decimals_of(1e16) == 0  # written '1e+16': no decimals, not a negative count


def test_p_below_alpha_past_the_last_decimals_is_written_at_alphas_own_decimals(monkeypatch: pytest.MonkeyPatch) -> None:
    # At ALPHA = 0.05 the cap '<0.05' happens to have the default 2 decimals; at 0.005 it needs 3.
    monkeypatch.setattr(formatting, "ALPHA", 0.005)
    assert DOT.p_value(0.0049999999) == "<0.005"
    assert DOT.p_value(0.00497) == "0.00497"
    # Six decimals are still written; only a seventh gives way to '<ALPHA'.
    monkeypatch.setattr(formatting, "ALPHA", 0.05)
    assert DOT.p_value(0.0499994) == "0.049999"
