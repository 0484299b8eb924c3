"""results.json: deterministic bytes, full precision, null for undefined, the documented shape."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from functools import cache

from reportgen.analysis import analyse
from reportgen.derive import derive
from reportgen.model import Results, StudyOptions, Summary
from reportgen.results_json import results_to_json
from tests.cohorts import random_cohort


@cache
def example_results() -> Results:
    study = StudyOptions(quartile_cutpoints=(2.0, 6.0, 18.5), categorical_test="chi-square")
    return analyse(derive(random_cohort(61, 60, study=study)), study)


def test_same_results_give_the_same_bytes_with_a_trailing_newline() -> None:
    study = StudyOptions(quartile_cutpoints=(2.0, 6.0, 18.5), categorical_test="chi-square")
    text = results_to_json(example_results())
    assert text == results_to_json(analyse(derive(random_cohort(61, 60, study=study)), study))
    assert text.endswith("}\n") and not text.endswith("\n\n")


def test_floats_are_written_at_full_precision() -> None:
    results = example_results()
    document = json.loads(results_to_json(results))
    das28 = results.outcomes[0]
    written = document["outcomes"]["das28_esr"]
    # json reads repr-written floats back to the identical double.
    assert written["groups"][0]["mean"] == das28.groups[0].mean
    assert written["p_value"] == das28.test.p_value and written["statistic"] == das28.test.statistic
    assert written["trend"]["statistic"] == das28.trend.statistic
    assert written["spearman"]["rho"] == das28.spearman.rho
    assert document["strata"][0]["percent"] == results.strata[0].percent
    assert document["eular_response"]["cramers_v"] == results.eular_response.test.effect_size


def test_undefined_values_are_null_never_nan() -> None:
    results = example_results()
    outcome = results.outcomes[0]
    broken = replace(outcome, groups=(Summary(n=0), *outcome.groups[1:]), test=replace(outcome.test, p_value=float("nan")))
    text = results_to_json(replace(results, outcomes=(broken, *results.outcomes[1:])))
    assert "NaN" not in text and "Infinity" not in text
    written = json.loads(text)["outcomes"]["das28_esr"]
    assert written["groups"][0] == {
        "n": 0, "mean": None, "sd": None, "median": None, "q1": None, "q3": None, "min": None, "max": None,
        "mean_ci": None, "median_ci": None,
    }
    assert written["p_value"] is None


def test_shape_matches_the_issue_example() -> None:
    document = json.loads(results_to_json(example_results()))
    assert list(document) == [
        "schema_version", "cohort", "options", "design", "cutpoints", "cutpoints_given", "strata",
        "baseline", "outcomes", "activity_categories", "eular_response", "anti_drug_antibodies", "carried_forward", "flow", "missing",
        "primary_outcome", "sensitivity",
    ]
    assert document["schema_version"] == 2
    assert set(document["cohort"]) >= {"n_included", "n_analysed", "n_locf"}
    strata = document["strata"]
    assert [s["label"] for s in strata] == ["Q1", "Q2", "Q3", "Q4"]
    assert strata[0]["lower"] is None and strata[3]["upper"] is None and strata[0]["upper"] == 2.0
    assert math.isclose(sum(s["percent"] for s in strata), 100.0)
    assert list(document["baseline"])[:3] == ["age_years", "sex", "disease_duration_years"]
    das28 = document["outcomes"]["das28_esr"]
    assert das28["test"] == "kruskal-wallis" and das28["trend"]["test"] == "jonckheere-terpstra"
    assert set(das28["groups"][0]) == {"n", "mean", "sd", "median", "q1", "q3", "min", "max", "mean_ci", "median_ci"}
    assert das28["effect_size"]["name"] == "epsilon-squared" and das28["decision"]
    eular = document["eular_response"]
    assert list(eular["counts"]) == ["none", "moderate", "good"] and all(len(v) == 4 for v in eular["counts"].values())
    assert eular["test"] == "chi-square" and {"statistic", "p_value", "cramers_v", "df"} <= set(eular)
    for patient in document["carried_forward"]:
        assert set(patient) == {"patient_id", "from_month", "withdrawal_reason"}


def test_posthoc_pairs_are_written_when_run() -> None:
    results = example_results()
    document = json.loads(results_to_json(results))
    for comparison in results.outcomes:
        written = document["outcomes"][comparison.variable]["posthoc"]
        assert [(p["group_a"], p["group_b"], p["p_adjusted"]) for p in written] == [
            (p.group_a, p.group_b, p.p_adjusted) for p in comparison.posthoc
        ]


def test_primary_outcome_holm_and_sensitivity_are_written() -> None:
    results = example_results()
    document = json.loads(results_to_json(results))
    assert document["primary_outcome"] == "das28_esr"
    for comparison in results.outcomes:
        assert document["outcomes"][comparison.variable]["p_holm"] == comparison.p_holm is not None
    assert document["baseline"]["age_years"]["p_holm"] is None
    written = document["sensitivity"]
    assert [(row["analysis"], row["outcome"]) for row in written] == [
        (name, outcome)
        for name in ("locf", "completers", "nri", "sample-quantiles")
        for outcome in ("das28_esr", "eular_response")
    ]
    for row, sensitivity in zip(written, results.sensitivity):
        assert list(row) == ["analysis", "outcome", "n", "estimate", "ci", "p_value", "conclusion_changes", "test", "decision"]
        assert (row["n"], row["p_value"], row["conclusion_changes"]) == (
            sensitivity.n, sensitivity.test.p_value, sensitivity.conclusion_changes
        )


def test_confidence_intervals_are_written_in_the_issue_shape() -> None:
    results = example_results()
    document = json.loads(results_to_json(results))
    das28 = document["outcomes"]["das28_esr"]
    outcome = results.outcomes[0]
    keys = ["level", "method", "lower", "upper"]
    for written, summary in zip([*das28["groups"], das28["overall"]], [*outcome.groups, outcome.overall]):
        assert list(written["mean_ci"]) == keys and written["mean_ci"]["method"] == "student-t"
        assert written["mean_ci"]["lower"] == summary.mean_ci.lower and written["mean_ci"]["level"] == 0.95
        assert written["median_ci"]["method"] == "order-statistic" and written["median_ci"]["upper"] == summary.median_ci.upper
    assert list(das28["spearman"]["ci"]) == keys and das28["spearman"]["ci"]["method"] == "fisher-z"
    assert das28["spearman"]["ci"]["lower"] < das28["spearman"]["rho"] < das28["spearman"]["ci"]["upper"]
    difference = das28["difference"]
    assert list(difference) == ["name", "high", "low", "estimate", "ci"]
    assert (difference["name"], difference["high"], difference["low"]) == ("hodges-lehmann", "Q4", "Q1")
    assert difference["estimate"] == outcome.difference.estimate and difference["ci"]["method"].startswith("mann-whitney-")
    effect = das28["effect_size"]
    assert effect["ci"]["method"] == "bootstrap-percentile" and effect["ci"]["lower"] <= effect["value"] <= effect["ci"]["upper"]
    eular = document["eular_response"]
    assert eular["effect_size"]["ci"]["method"] == "bootstrap-percentile"
    good = eular["counts"]["good"]
    totals = [sum(column) for column in zip(*eular["counts"].values())]
    for count, total, interval in zip(good, totals, eular["proportion_ci"]["good"]):
        assert interval["method"] == "wilson" and interval["lower"] <= count / total <= interval["upper"]
    assert eular["overall_proportion_ci"]["good"]["method"] == "wilson"
    # Baseline comparisons carry the groups' intervals, but no trend, correlation, shift or effect-size interval.
    age = document["baseline"]["age_years"]
    assert age["groups"][0]["mean_ci"]["method"] == "student-t" and age["difference"] is None
    assert age["effect_size"]["ci"] is None


def test_anova_studies_get_the_eta_squared_interval() -> None:
    study = StudyOptions(quartile_cutpoints=(2.0, 6.0, 18.5), continuous_test="anova")
    document = json.loads(results_to_json(analyse(derive(random_cohort(61, 60, study=study)), study)))
    effect = document["outcomes"]["das28_esr"]["effect_size"]
    assert effect["name"] == "eta-squared" and effect["ci"]["method"] == "bootstrap-percentile"
    assert effect["ci"]["lower"] <= effect["value"] <= effect["ci"]["upper"]
