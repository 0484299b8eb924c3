"""Narrative: the abstract's length check, Methods written from what was done, guardrailed Conclusions."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from report_fixtures import make_results, make_study

from reportgen import indices, stats
from reportgen.formatting import TEST_NAMES, Formatter
from reportgen.model import Results, TestName
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
    assert "No statistically significant difference across quartiles was found for DAS28-ESR" in conclusions
    assert "EULAR response did not differ significantly across quartiles" in conclusions
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
    computed = replace(make_results(), cutpoints_given=False)
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
