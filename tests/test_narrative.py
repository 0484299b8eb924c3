"""Narrative: the abstract's length check, Methods written from what was done, guardrailed Conclusions."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest
from report_fixtures import make_derived, make_results, make_study

from reportgen import indices, stats
from reportgen.analysis import holm_adjusted, patient_flow
from reportgen.formatting import TEST_NAMES, Formatter
from reportgen.model import Design, Results, SensitivityName, TestName
from reportgen import model
from reportgen.narrative import TEST_RATIONALE, write_narrative

CAUSAL = re.compile(
    r"\b(causes?|caused|causing|leads? to|led to|because of|due to|results? in|resulting in|drives?|driven by"
    r"|improves?|prevents?|reduces?|increases?|effect of|proves?)\b",
    re.IGNORECASE,
)


def _all_text(results: Results, formatter: Formatter = Formatter(".")) -> tuple[str, str, str]:
    narrative = write_narrative(results, formatter)
    methods = " ".join(" ".join((*s.paragraphs, *s.items)) for s in narrative.methods)
    return narrative.abstract.as_text(), methods, " ".join(narrative.conclusions)


def _without_significance(results: Results) -> Results:
    """Every test and correlation made non-significant."""
    outcomes = tuple(
        replace(
            o,
            test=replace(o.test, p_value=0.41),
            trend=replace(o.trend, p_value=0.38) if o.trend else None,
            spearman=replace(o.spearman, p_value=0.52) if o.spearman else None,
        )
        for o in results.outcomes
    )
    eular = replace(results.eular_response, test=replace(results.eular_response.test, p_value=0.27))
    return replace(results, outcomes=outcomes, eular_response=eular)


@pytest.mark.parametrize("significant", [True, False])
def test_no_causal_language(significant: bool) -> None:
    results = make_results() if significant else _without_significance(make_results())
    abstract, _methods, conclusions = _all_text(results)
    assert not CAUSAL.search(conclusions), CAUSAL.search(conclusions)
    assert not CAUSAL.search(abstract.split("Conclusions:")[1])


def test_significant_results_are_associations_with_a_direction() -> None:
    _abstract, _methods, conclusions = _all_text(make_results())
    assert "Higher trough levels were associated with lower DAS28-ESR" in conclusions
    assert "observational" in conclusions


def test_direction_follows_the_sign_of_the_trend_statistic() -> None:
    results = make_results()
    flipped = tuple(
        replace(o, trend=replace(o.trend, statistic=abs(o.trend.statistic)), spearman=replace(o.spearman, rho=0.5))
        for o in results.outcomes
    )
    conclusions = _all_text(replace(results, outcomes=flipped))[2]
    assert "associated with higher DAS28-ESR" in conclusions
    assert "associated with lower" not in conclusions


def test_non_significant_results_are_said_plainly() -> None:
    _abstract, _methods, conclusions = _all_text(_without_significance(make_results()))
    assert "No statistically significant difference across groups was found for DAS28-ESR" in conclusions
    assert "EULAR response did not differ significantly across groups" in conclusions
    assert "associated with" not in conclusions


def test_significant_omnibus_without_trend_states_no_direction() -> None:
    results = make_results()
    outcomes = tuple(
        replace(o, trend=replace(o.trend, p_value=0.3), spearman=replace(o.spearman, p_value=0.4)) for o in results.outcomes
    )
    conclusions = _all_text(replace(results, outcomes=outcomes))[2]
    assert "without a significant monotonic trend" in conclusions
    assert "associated with lower" not in conclusions


def test_methods_say_what_was_done() -> None:
    _abstract, methods, _conclusions = _all_text(make_results())
    assert "4.20, 11.30 and 18.50 µg/mL, given in the study sheet" in methods
    assert "closed on the right: Q1 ≤ 4.20 < Q2 ≤ 11.30 < Q3 ≤ 18.50 < Q4" in methods
    assert "LOCF applied to 3 patients" in methods
    assert "ESR in mm/h" in methods and "CRP in mg/dL" in methods
    assert "Kruskal–Wallis test:" in methods and "Jonckheere–Terpstra trend test:" in methods
    computed = replace(make_results(), cutpoints_given=False, design=Design())
    assert "computed as the 25th, 50th and 75th percentiles" in _all_text(computed)[1]


def test_methods_print_the_coefficients_and_thresholds_the_indices_use(monkeypatch: pytest.MonkeyPatch) -> None:
    methods = _all_text(make_results())[1]
    assert "DAS28-ESR = 0.56·√TJC28 + 0.28·√SJC28 + 0.70·ln(ESR) + 0.014·PtGA" in methods
    assert "0.36·ln(CRP + 1) + 0.014·PtGA + 0.96, with CRP in mg/L" in methods
    assert "both rounded to 2 decimals (good: ΔDAS28 > 1.2 and DAS28 ≤ 3.2; none: ΔDAS28 ≤ 0.6, or ΔDAS28 ≤ 1.2 with DAS28 > 5.1" in methods
    for name, value in (("DAS28_TJC", 0.57), ("DAS28_PTGA", 0.0145), ("DAS28_CRP_CONSTANT", 0.95),
                        ("EULAR_LARGE_IMPROVEMENT", 1.3), ("EULAR_MODERATE_IMPROVEMENT", 0.65), ("DAS28_THRESHOLDS", (2.6, 3.3, 5.2))):
        monkeypatch.setattr(indices, name, value)
    methods = _all_text(make_results())[1]
    assert "DAS28-ESR = 0.57·√TJC28 + 0.28·√SJC28 + 0.70·ln(ESR) + 0.0145·PtGA" in methods
    assert "0.36·ln(CRP + 1) + 0.0145·PtGA + 0.95, with CRP in mg/L" in methods
    assert "(good: ΔDAS28 > 1.3 and DAS28 ≤ 3.3; none: ΔDAS28 ≤ 0.65, or ΔDAS28 ≤ 1.3 with DAS28 > 5.2" in methods


def test_every_test_has_a_rationale_and_methods_print_the_expected_count_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    assert set(TEST_RATIONALE) == set(TestName) and set(TEST_NAMES) == set(TestName)
    assert "it relies on expected counts of about 5 or more" in _all_text(make_results())[1]
    monkeypatch.setattr(stats, "SMALL_EXPECTED", 4.5)
    assert "it relies on expected counts of about 4.5 or more" in _all_text(make_results())[1]


def test_character_count_and_warning() -> None:
    narrative = write_narrative(make_results(), Formatter("."))
    abstract = narrative.abstract
    assert abstract.character_count == len(abstract.body())
    assert abstract.warning is None and abstract.character_count <= abstract.character_limit
    short = make_results(study=make_study(abstract_character_limit=500))
    over = write_narrative(short, Formatter(".")).abstract
    assert over.character_count > over.character_limit and over.warning and "over the limit of 500" in over.warning
    text = abstract.as_text()
    assert "\u00a0" not in text
    assert [line.split(":")[0] for line in text.splitlines()[2:]] == ["Background", "Objectives", "Methods", "Results", "Conclusions"]


def test_abstract_reproduces_the_printed_layout() -> None:
    abstract = write_narrative(make_results(), Formatter(",")).abstract.as_text()
    assert "Q1 8 (24,2%); Q2 7 (21,2%); Q3 8 (24,2%); Q4 10 (30,3%)" in abstract
    assert "Q1 4,46 ± 1,50" in abstract
    assert "none 4/1/1/0; moderate 3/0/4/1; good 1/6/3/9 (p = 0,006)" in abstract
    assert not re.search(r"\d\.\d", abstract)


# --- wording defects found by a statistical reviewer (issue #13 item 9) -------------------------------


def _crp_like(results: Results) -> Results:
    """CRP's omnibus test above ALPHA while its trend test and Spearman's ρ are below, as in the example."""
    outcomes = tuple(
        replace(
            o,
            test=replace(o.test, p_value=0.084),
            trend=replace(o.trend, p_value=0.015, statistic=-2.4),
            spearman=replace(o.spearman, rho=-0.39, p_value=0.023),
        )
        if o.variable == "crp_mg_l"
        else o
        for o in results.outcomes
    )
    return replace(results, outcomes=holm_adjusted(outcomes))


def test_a_non_significant_omnibus_test_beside_a_significant_trend_says_both() -> None:
    """For the primary outcome, called on its own p; a secondary one is called only on its Holm-adjusted p."""
    primary_crp = _crp_like(make_results(study=make_study(primary_outcome="crp_mg_l")))
    abstract, _methods, conclusions = _all_text(primary_crp)
    assert (
        "CRP, the primary outcome, did not differ significantly across groups (p\u00a0=\u00a00.084), although the "
        "supportive trend test (p\u00a0=\u00a00.015) and Spearman's ρ = −0.39 (p\u00a0=\u00a00.023) were significant, "
        "with lower CRP at higher trough levels." in conclusions
    )
    assert "found for CRP" not in conclusions and "found for CRP" not in abstract
    assert (
        "CRP, the primary outcome, did not differ significantly across groups, although the supportive trend test and "
        "Spearman's ρ with trough level were significant, with lower CRP at higher trough levels." in abstract
    )
    only_rho = replace(
        primary_crp,
        outcomes=tuple(
            replace(o, trend=replace(o.trend, p_value=0.2)) if o.variable == "crp_mg_l" else o for o in primary_crp.outcomes
        ),
    )
    assert "although the supportive Spearman's ρ = −0.39 (p\u00a0=\u00a00.023) was significant" in _all_text(only_rho)[2]
    secondary = _all_text(_crp_like(make_results()))[2]
    assert "CRP (adjusted p\u00a0=\u00a0" in secondary and "lower CRP" not in secondary


def test_a_test_that_could_not_be_computed_says_why_and_prints_no_p() -> None:
    results = make_results()
    not_computed = stats.kruskal_wallis([np.ones(3)] * 4, ("Q1", "Q2", "Q3", "Q4"))
    assert not_computed.p_value is None and not_computed.not_tested == "all values are equal"
    outcomes = tuple(replace(o, test=not_computed) if o.variable == "crp_mg_l" else o for o in results.outcomes)
    eular = replace(
        results.eular_response,
        test=stats.compare_categorical([[3, 0, 0, 0], [0, 0, 0, 0]], ("good", "none"), ("Q1", "Q2", "Q3", "Q4"), "chi-square"),
    )
    abstract, _methods, conclusions = _all_text(replace(results, outcomes=outcomes, eular_response=eular))
    assert "CRP could not be compared across groups (not tested: all values are equal)." in conclusions
    assert (
        "EULAR response could not be compared across groups (not tested: fewer than two categories or groups "
        "with any patient)." in conclusions
    )
    for text in (abstract, conclusions):
        assert "\u2013)" not in text and "significant difference across groups was found for CRP" not in text
        assert "EULAR response did not differ" not in text


def _tiny(results: Results, *, n_locf: int = 0, n_no_level: int = 0) -> Results:
    """Three patients per quartile, none with a good response, nobody carried forward or without a level."""
    strata = tuple(replace(s, n=3, percent=25.0) for s in results.strata)
    eular = replace(
        results.eular_response,
        counts=((0, 0, 1, 1), (3, 3, 2, 2), (0, 0, 0, 0)),
        test=replace(results.eular_response.test, p_value=0.03),
    )
    cohort = replace(results.cohort, n_included=12 + n_no_level, n_analysed=12, n_locf=n_locf, n_no_level=n_no_level)
    return replace(results, strata=strata, eular_response=eular, cohort=cohort)


def test_no_sentence_is_built_on_degenerate_counts() -> None:
    abstract, methods, conclusions = _all_text(_tiny(make_results()))
    assert "with 3 patients per group the estimates are imprecise" in conclusions
    assert "3 to 3" not in conclusions
    assert "The distribution of EULAR response differed across groups (p\u00a0=\u00a00.030)." in conclusions
    assert "0 of" not in conclusions and "0 of" not in abstract
    assert "0 patients" not in abstract + methods
    assert "every patient had a month-12 visit." in abstract
    assert "Every patient had a month-12 visit, so no observation was carried forward." in methods
    assert "12 patients were included. All had a trough level and were compared across groups." in methods
    one = _all_text(_tiny(make_results(), n_locf=1, n_no_level=1))
    assert "carried forward for 1 patient without a month-12 visit" in one[0]
    assert "LOCF applied to 1 patient, listed" in one[1] and "1 patient without any level is described" in one[1]


def test_one_comparison_is_not_plural() -> None:
    results = make_results()
    eular = replace(results.eular_response, test=replace(results.eular_response.test, test=TestName.FISHER_EXACT))
    methods = _all_text(replace(results, eular_response=eular))[1]
    assert "(1 comparison)." in methods or "(1 comparison;" in methods
    assert "1 comparisons" not in methods


def test_the_abstract_concludes_only_on_outcomes_its_results_quote() -> None:
    results = make_results()
    das28_crp = replace(results.outcomes[0], variable="das28_crp", label="DAS28-CRP")
    results = replace(results, outcomes=(results.outcomes[0], das28_crp, *results.outcomes[1:]))
    abstract, _methods, conclusions = _all_text(results)
    assert "DAS28-CRP" in conclusions
    assert "DAS28-CRP" not in abstract


def test_methods_say_where_the_decision_records_are_as_the_pdf_appendix_does() -> None:
    methods = _all_text(make_results())[1]
    assert "is in the Appendix of the HTML report (report.html) and in results.json" in methods
    assert "is listed in the Appendix" not in methods


def test_methods_say_counts_are_median_iqr_and_significance_is_on_the_unrounded_p() -> None:
    methods = _all_text(make_results())[1]
    assert "median [interquartile range], counts (prior biologics) as median [interquartile range] only," in methods
    assert "decided on the unrounded p" in methods


def test_given_cut_points_stand_beside_the_cohorts_own_quantiles() -> None:
    results = make_results()
    methods = _all_text(replace(results, design=replace(results.design, sample_quantiles=(3.5, 12.1, 20.8))))[1]
    assert ("The cohort's own quartiles (sample quantiles for as many groups, linear interpolation) are 3.50, 12.10 "
            "and 20.80 µg/mL, so these groups are not its quartiles.") in methods
    same = _all_text(replace(results, design=replace(results.design, sample_quantiles=results.cutpoints)))[1]
    assert "The cohort's own quartiles are the same, 4.20, 11.30 and 18.50 µg/mL, so these groups are its quartiles." in same
    two = replace(results, cutpoints=(5.0,), design=replace(results.design, sample_quantiles=(4.0,)))
    assert "The cohort's own median (sample quantiles for as many groups, linear interpolation) is 4.00 µg/mL" in _all_text(two)[1]
    computed = _all_text(replace(results, cutpoints_given=False, design=Design()))[1]
    assert "The cohort's own" not in computed


# --- primary outcome, multiplicity and sensitivity analyses (issue #13 items 2 and 3) -------------------


def test_the_conclusions_state_the_primary_result_first() -> None:
    conclusions = write_narrative(make_results(study=make_study(primary_outcome="cdai")), Formatter(".")).conclusions
    assert conclusions[0].startswith("Higher trough levels were associated with lower CDAI at follow-up, the primary outcome (p")
    assert "supportive trend test" in conclusions[0]
    default = write_narrative(make_results(), Formatter(".")).conclusions
    assert "DAS28-ESR at follow-up, the primary outcome" in default[0]


def test_secondary_outcomes_are_called_only_on_their_holm_adjusted_p() -> None:
    results = make_results()
    # ESR: unadjusted p below ALPHA, adjusted p above it; CDAI: both below.
    outcomes = tuple(
        replace(o, test=replace(o.test, p_value=0.03), p_holm=0.09)
        if o.variable == "esr_mm_h"
        else replace(o, test=replace(o.test, p_value=0.004), p_holm=0.02)
        if o.variable == "cdai"
        else o
        for o in results.outcomes
    )
    _abstract, _methods, conclusions = _all_text(replace(results, outcomes=outcomes))
    assert "no statistically significant difference across groups was found for ESR (adjusted p\u00a0=\u00a00.090)" in conclusions
    assert "higher trough levels were associated with lower CDAI (adjusted p\u00a0=\u00a00.020)" in conclusions
    assert "ESR (p" not in conclusions and "CDAI (p" not in conclusions
    assert "lower ESR" not in conclusions and "lower CDAI" in conclusions


def test_methods_name_the_primary_outcome_the_holm_family_and_the_withdrawn() -> None:
    results = make_results()
    flow = patient_flow(make_derived().patients, results.strata_membership, tuple(s.label for s in results.strata), 12)
    results = replace(results, flow=flow)
    assert flow.withdrawn == 3
    _abstract, methods, _conclusions = _all_text(results)
    assert "The primary outcome was DAS28-ESR at month 12 (primary_outcome in the study sheet)" in methods
    assert "The other outcomes were secondary (CDAI, SDAI, swollen joints (SJC28), tender joints (TJC28), ESR and CRP)" in methods
    assert f"Holm's step-down method over the family of the {len(results.outcomes)} overall tests of the outcomes" in methods
    assert "p-values are not adjusted" not in methods
    assert (
        "a patient counted as withdrawn when a withdrawal month at or before month 12 was recorded and there was no "
        "month-12 visit (3 patients of 34); withdrawn patients were given EULAR response none and their baseline "
        "DAS28-ESR (baseline carried forward)." in methods
    )
    assert "at the 25%, 50% and 75% quantiles of their own levels" in methods
    no_cut_points = replace(results, cutpoints_given=False, sensitivity=tuple(s for s in results.sensitivity if s.analysis != "sample-quantiles"))
    assert "quantiles of their own levels" not in _all_text(no_cut_points)[1]


def test_a_sensitivity_analysis_that_changes_the_conclusion_is_said_in_plain_words() -> None:
    results = make_results()
    rows = tuple(
        replace(row, test=replace(row.test, p_value=0.164), conclusion_changes=True)
        if (row.analysis, row.outcome) == (SensitivityName.SAMPLE_QUANTILES, "eular_response")
        else replace(row, conclusion_changes=False)
        for row in results.sensitivity
    )
    changed = replace(results, sensitivity=rows)
    abstract, _methods, conclusions = _all_text(changed)
    assert (
        "The conclusion on EULAR response changed in a sensitivity analysis: with the data's own quantile groups "
        "(p\u00a0=\u00a00.164), it no longer differed significantly across groups." in conclusions
    )
    assert "with the data's own quantile groups, it no longer differed significantly across groups." in abstract
    assert "The conclusion on DAS28-ESR held in every sensitivity analysis: completers only (p" in conclusions
    unchanged = _all_text(replace(results, sensitivity=tuple(replace(row, conclusion_changes=False) for row in rows)))[2]
    assert "changed in a sensitivity analysis" not in unchanged


def test_abstract_counts_with_and_without_spaces_and_headings() -> None:
    from reportgen.narrative import abstract_counts

    abstract = write_narrative(make_results(), Formatter(".")).abstract
    counts = abstract_counts(abstract.as_text())
    assert counts.with_headings == abstract.character_count  # the count the report prints
    body = abstract.body()
    assert counts.with_headings_no_spaces == len(re.sub(r"\s", "", body))
    texts = "\n".join(" ".join(section.paragraphs) for section in abstract.sections).replace("\u00a0", " ")
    assert counts.without_headings == len(texts)
    assert counts.without_headings_no_spaces == len(re.sub(r"\s", "", texts))
    assert counts.without_headings_no_spaces < counts.without_headings < counts.with_headings


# --- estimates with confidence intervals (issue #13 items 1 and 5) ----------------------------------------


def _example_spearman(results: Results) -> Results:
    """DAS28-ESR's rho set to the example's, -0.555 with n = 33: its 95% CI prints as -0.75 to -0.26."""
    from reportgen.estimates import spearman_ci

    outcomes = tuple(
        replace(o, spearman=replace(o.spearman, rho=-0.55548128342246, n=33, p_value=0.0008, ci=spearman_ci(-0.55548128342246, 33)))
        if o.variable == "das28_esr"
        else o
        for o in results.outcomes
    )
    return replace(results, outcomes=outcomes)


@pytest.mark.parametrize("separator", [".", ","])
def test_results_text_gives_rho_and_good_response_with_their_intervals(separator: str) -> None:
    from reportgen.narrative import write_estimates

    results = _example_spearman(make_results())
    text = " ".join(write_estimates(results, Formatter(separator)))
    point = separator
    assert f"−0{point}56 (95%\u00a0CI −0{point}75 to −0{point}26; p\u00a0<\u00a00{point}001; n = 33)" in text
    # Good responders per quartile, each with its Wilson interval (1/8: 2.2 to 47.1 %).
    good = results.eular_response.counts[results.eular_response.categories.index("good")]
    assert f"{good[0]} of 8 in Q1 (12{point}5%; 95%\u00a0CI 2{point}2 to 47{point}1%)" in text
    shift = next(o for o in results.outcomes if o.variable == "das28_esr").difference
    assert f"Q4 and one in Q1 (Hodges–Lehmann shift) was {Formatter(separator).number(shift.estimate, 2)}" in text
    # Each method named once, after the numbers.
    assert text.count("Wilson score interval") == 1 and text.count("Fisher z transformation") == 1


def test_abstract_and_methods_give_the_intervals_and_name_each_method_once() -> None:
    results = _example_spearman(make_results())
    abstract, methods, _ = _all_text(results)
    assert "ρ = −0.56 (95% CI −0.75 to −0.26; p < 0.001)" in abstract
    sentence = methods[methods.index("Estimates are given") : methods.index("Continuous variables")]
    assert sentence.startswith("Estimates are given with two-sided 95%\u00a0CIs: means, t distribution; medians, ")
    for words in ("Wilson score interval", "percentile bootstrap, 2000 resamples", "Fisher z transformation", "Hodges–Lehmann"):
        assert words in sentence
    assert sentence.count("percentile bootstrap") == 1  # ε² and Cramér's V share it


def test_without_intervals_the_text_says_no_interval() -> None:
    from reportgen.narrative import write_estimates

    results = make_results()
    outcomes = tuple(replace(o, spearman=replace(o.spearman, ci=None), difference=None) if o.spearman else o for o in results.outcomes)
    eular = replace(results.eular_response, proportion_cis=(), overall_proportion_cis=())
    text = " ".join(write_estimates(replace(results, outcomes=outcomes, eular_response=eular), Formatter(".")))
    assert "CI" not in text and "Spearman's ρ between the trough level and DAS28-ESR" in text


def test_the_methods_note_names_only_methods_that_gave_an_interval() -> None:
    from reportgen.model import ConfidenceInterval
    from reportgen.narrative import interval_methods_note

    none = ConfidenceInterval(0.95, "bootstrap-percentile", None, None)  # e.g. above the bootstrap's budget
    mean = ConfidenceInterval(0.95, "student-t", 1.0, 2.0)
    assert interval_methods_note([("epsilon-squared", none)], Formatter(".")) == ""
    assert interval_methods_note([("epsilon-squared", none), ("means", mean), ("medians", mean)], Formatter(",")) == (
        "95%\u00a0CIs: means and medians, t distribution."
    )


def _with_eular_trend(results: Results, p_value: float, r: float, omnibus_p: float | None = None) -> Results:
    eular = results.eular_response
    trend = model.TestResult(test=TestName.LINEAR_BY_LINEAR, statistic=8.4, p_value=p_value, df=1.0, effect_size_name="pearson-r", effect_size=r)
    test = eular.test if omnibus_p is None else replace(eular.test, p_value=omnibus_p)
    return replace(results, eular_response=replace(eular, test=test, trend=trend))


def test_the_eular_trend_is_named_in_methods_and_quoted_beside_the_eular_p() -> None:
    results = _with_eular_trend(make_results(), 0.0038, 0.51)
    abstract, methods, conclusions = _all_text(results)
    p = Formatter(".").p_equation(results.eular_response.test.p_value)
    assert f"good {'/'.join(map(str, results.eular_response.counts[2]))} ({p}); linear-by-linear trend p = 0.004.".replace("\u00a0", " ") in abstract
    assert f"({p}; linear-by-linear trend p\u00a0=\u00a00.004)" in conclusions
    assert "(EULAR response, with the linear-by-linear association test for its trend)" in abstract
    assert "Linear-by-linear association test: tests for a trend of an ordered response" in methods


def test_a_significant_eular_trend_beside_a_non_significant_omnibus_test_is_said() -> None:
    _abstract, _methods, conclusions = _all_text(_with_eular_trend(make_results(), 0.01, 0.4, omnibus_p=0.2))
    assert (
        "EULAR response did not differ significantly across groups (p\u00a0=\u00a00.200; linear-by-linear trend "
        "p\u00a0=\u00a00.010), although the linear-by-linear trend test was significant, with better responses at "
        "higher trough levels." in conclusions
    )
    _abstract, _methods, conclusions = _all_text(_with_eular_trend(make_results(), 0.3, 0.1, omnibus_p=0.2))
    assert "EULAR response did not differ significantly across groups (p\u00a0=\u00a00.200; linear-by-linear trend p\u00a0=\u00a00.300)." in conclusions


def test_methods_name_the_adjusted_model_its_covariates_and_the_log2_scale() -> None:
    results = make_results()
    _abstract, methods, _conclusions = _all_text(results)
    assert "Adjusted estimate" not in methods  # results without adjusted estimates
    ci = model.ConfidenceInterval(0.95, model.IntervalMethod.OLS_T, -0.47, -0.13)
    adjusted = model.AdjustedEstimate(
        beta=-0.3, ci=ci, p_value=0.001, covariates=("das28_esr_baseline", "sex"),
        covariate_labels=("baseline DAS28-ESR", "sex (female = 1)"), n=30, df=26, level_not_positive=1,
    )  # fmt: skip
    outcomes = tuple(replace(o, adjusted=adjusted) for o in results.outcomes)
    _abstract, methods, _conclusions = _all_text(replace(results, outcomes=outcomes))
    assert (
        "Adjusted estimate: linear regression (least squares) of each measure at follow-up on log2 of the trough "
        "level, adjusted for the same measure at baseline (for ΔDAS28-ESR, baseline DAS28-ESR) and for sex "
        "(female = 1); β is the change per doubling of the trough level, with its 95% confidence interval and p "
        "from Student's t with n − p df (p coefficients). Each model holds the analysed patients with every value "
        "it needs (n); 1 patient with a trough level of 0 was left out, since 0 cannot be logged." in methods
    )
