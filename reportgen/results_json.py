"""Serialise ``Results`` as results.json: deterministic, full precision, documented in docs/results-json.md.

Same results, same bytes: keys in a fixed order (the order written here, not sorted), lists in the
order of the analysis (groups lowest level first, categories in display order, Table 1 order), floats written by
``repr`` (shortest text that reads back to the same double), NaN and infinities as null, UTF-8 text with
a trailing newline. No rounding: that happens only when rendering.
"""

from __future__ import annotations

import json
import math
from typing import Any

from reportgen.drugs import design_record
from reportgen.model import (
    AdjustedEstimate,
    ConfidenceInterval,
    CarriedForward,
    CategoricalComparison,
    ConfidenceInterval,
    ContinuousComparison,
    Correlation,
    Flow,
    PairwiseComparison,
    Results,
    Sensitivity,
    Shift,
    Stratum,
    Summary,
    TestResult,
)

SCHEMA_VERSION = 2  # 2: cohort.n_below_lloq, strata[].n_below_lloq, design.lloq/below_lloq, anti_drug_antibodies


def _number(value: float | int | None) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError("a flag is not a number")
    if isinstance(value, int):
        return int(value)
    value = float(value)  # numpy scalars become plain floats, which json writes with repr
    return value if math.isfinite(value) else None


def _ci(interval: ConfidenceInterval | None) -> dict[str, Any] | None:
    """``{"level", "method", "lower", "upper"}``; null when no interval was computed."""
    if interval is None:
        return None
    return {
        "level": _number(interval.level),
        "method": str(interval.method),
        "lower": _number(interval.lower),
        "upper": _number(interval.upper),
    }


def _summary(summary: Summary) -> dict[str, Any]:
    return {
        "n": int(summary.n),
        "mean": _number(summary.mean),
        "sd": _number(summary.sd),
        "median": _number(summary.median),
        "q1": _number(summary.q1),
        "q3": _number(summary.q3),
        "min": _number(summary.min),
        "max": _number(summary.max),
        "mean_ci": _ci(summary.mean_ci),
        "median_ci": _ci(summary.median_ci),
    }


def _effect_size(test: TestResult) -> dict[str, Any] | None:
    if test.effect_size_name is None:
        return None
    return {"name": test.effect_size_name, "value": _number(test.effect_size), "ci": _ci(test.effect_size_ci)}


def _test_fields(test: TestResult) -> dict[str, Any]:
    """The omnibus test's fields, flattened into the comparison object."""
    return {
        "test": test.test,
        "statistic": _number(test.statistic),
        "df": _number(test.df),
        "p_value": _number(test.p_value),
        "effect_size": _effect_size(test),
        "decision": test.decision,
    }


def _trend(test: TestResult | None) -> dict[str, Any] | None:
    if test is None:
        return None
    return {"test": test.test, "statistic": _number(test.statistic), "p_value": _number(test.p_value), "decision": test.decision}


def _categorical_trend(test: TestResult | None) -> dict[str, Any] | None:
    return None if test is None else _test_fields(test)


def _spearman(correlation: Correlation | None) -> dict[str, Any] | None:
    if correlation is None:
        return None
    return {
        "rho": _number(correlation.rho),
        "p_value": _number(correlation.p_value),
        "n": int(correlation.n),
        "ci": _ci(correlation.ci),
    }


def _difference(shift: Shift | None) -> dict[str, Any] | None:
    if shift is None:
        return None
    return {
        "name": "hodges-lehmann",
        "high": shift.high,
        "low": shift.low,
        "estimate": _number(shift.estimate),
        "ci": _ci(shift.ci),
    }


def _confidence_interval(ci: ConfidenceInterval) -> dict[str, Any]:
    return {"level": _number(ci.level), "method": str(ci.method), "lower": _number(ci.lower), "upper": _number(ci.upper)}


def _adjusted(estimate: AdjustedEstimate | None) -> dict[str, Any] | None:
    if estimate is None:
        return None
    return {
        "beta": _number(estimate.beta),
        "standard_error": _number(estimate.standard_error),
        "ci": _confidence_interval(estimate.ci),
        "p_value": _number(estimate.p_value),
        "df": _number(estimate.df),
        "covariates": list(estimate.covariates),
        "n": int(estimate.n),
        "left_out": {
            "level_not_positive": int(estimate.level_not_positive),
            "covariate_not_positive": int(estimate.covariate_not_positive),
            "incomplete": int(estimate.incomplete),
        },
        "not_estimated": estimate.not_estimated or None,
    }


def _pair(pair: PairwiseComparison) -> dict[str, Any]:
    return {
        "group_a": pair.group_a,
        "group_b": pair.group_b,
        "statistic": _number(pair.statistic),
        "p_value": _number(pair.p_value),
        "p_adjusted": _number(pair.p_adjusted),
    }


def _continuous(comparison: ContinuousComparison) -> dict[str, Any]:
    return {
        "kind": "continuous",
        "label": comparison.label,
        "unit": comparison.unit,
        "groups": [_summary(group) for group in comparison.groups],
        "overall": _summary(comparison.overall),
        **_test_fields(comparison.test),
        "trend": _trend(comparison.trend),
        "spearman": _spearman(comparison.spearman),
        "posthoc": [_pair(pair) for pair in comparison.posthoc],
        "p_holm": _number(comparison.p_holm),
        "difference": _difference(comparison.difference),
        "adjusted": _adjusted(comparison.adjusted),
    }


def _categorical(comparison: CategoricalComparison) -> dict[str, Any]:
    cramers_v = comparison.test.effect_size if comparison.test.effect_size_name == "cramers-v" else None
    return {
        "kind": "categorical",
        "label": comparison.label,
        "categories": list(comparison.categories),
        "counts": {category: [int(n) for n in row] for category, row in zip(comparison.categories, comparison.counts)},
        "overall": {category: int(n) for category, n in zip(comparison.categories, comparison.overall)},
        **_test_fields(comparison.test),
        "cramers_v": _number(cramers_v),
        "proportion_ci": {
            category: [_ci(interval) for interval in row] for category, row in zip(comparison.categories, comparison.proportion_cis)
        },
        "overall_proportion_ci": {
            category: _ci(interval) for category, interval in zip(comparison.categories, comparison.overall_proportion_cis)
        },
        "trend": _categorical_trend(comparison.trend),
    }


def _comparison(comparison: ContinuousComparison | CategoricalComparison) -> dict[str, Any]:
    if isinstance(comparison, ContinuousComparison):
        return _continuous(comparison)
    return _categorical(comparison)


def _stratum(stratum: Stratum) -> dict[str, Any]:
    return {
        "label": stratum.label,
        "lower": _number(stratum.lower),
        "upper": _number(stratum.upper),
        "n": int(stratum.n),
        "percent": _number(stratum.percent),
        "n_below_lloq": int(stratum.n_below_lloq),
    }


def _design(results: Results) -> dict[str, Any]:
    """The grouping in effect: its name, groups and labels, the cut points, whether (and by which study-sheet
    key) they were given, and the data's own sample quantiles for as many groups."""
    return {
        "grouping": results.design.grouping,
        "groups": len(results.strata),
        "labels": [stratum.label for stratum in results.strata],
        "cut_points": [_number(edge) for edge in results.cutpoints],
        "cut_points_given": bool(results.cutpoints_given),
        "cut_points_key": results.design.cut_points_key,
        "sample_quantiles": [_number(edge) for edge in results.design.sample_quantiles],
    }


def _carried(patient: CarriedForward) -> dict[str, Any]:
    return {"patient_id": patient.patient_id, "from_month": int(patient.from_month), "withdrawal_reason": patient.withdrawal_reason}


def _flow(flow: Flow | None) -> dict[str, Any] | None:
    if flow is None:
        return None
    return {
        "included": int(flow.included),
        "no_level": int(flow.no_level),
        "analysed": int(flow.analysed),
        "follow_up_month": int(flow.follow_up_month),
        "groups": [
            {
                "label": group.label,
                "analysed": int(group.analysed),
                "reached_follow_up": int(group.reached_follow_up),
                "carried_forward": int(group.carried_forward),
                "withdrawn": int(group.withdrawn),
                "placed_by_window": int(group.placed_by_window),
            }
            for group in flow.groups
        ],
        "withdrawals": [
            {"reason": reason.reason, "counts": [int(n) for n in reason.counts], "overall": int(reason.overall)}
            for reason in flow.withdrawals
        ],
    }


def _sensitivity(row: Sensitivity) -> dict[str, Any]:
    return {
        "analysis": row.analysis,
        "outcome": row.outcome,
        "n": int(row.n),
        "estimate": _number(row.estimate),
        "ci": _ci(row.ci),
        "p_value": _number(row.test.p_value),
        "conclusion_changes": bool(row.conclusion_changes),
        "test": row.test.test,
        "decision": row.test.decision,
    }


def _keyed(comparisons: tuple[ContinuousComparison | CategoricalComparison, ...]) -> dict[str, Any]:
    keyed: dict[str, Any] = {}
    for comparison in comparisons:
        if comparison.variable in keyed:
            raise ValueError(f"variable {comparison.variable!r} appears twice in one section")
        keyed[comparison.variable] = _comparison(comparison)
    return keyed


def results_to_document(results: Results) -> dict[str, Any]:
    """results.json as plain Python data (dicts in their output order)."""
    study = results.study
    return {
        "schema_version": SCHEMA_VERSION,
        "cohort": {
            "n_included": int(results.cohort.n_included),
            "n_analysed": int(results.cohort.n_analysed),
            "n_locf": int(results.cohort.n_locf),
            "n_placed_by_window": int(results.cohort.n_placed_by_window),
            "n_no_level": int(results.cohort.n_no_level),
            "follow_up_month": int(results.cohort.follow_up_month),
            "n_below_lloq": int(results.cohort.n_below_lloq),
        },
        "options": {
            "continuous_test": study.continuous_test,
            "categorical_test": study.categorical_test,
            "follow_up_month": int(study.follow_up_month),
        },
        # Every study option in effect (drug table resolved), then the grouping as resolved by the analysis.
        "design": {**design_record(study), **_design(results)},
        "cutpoints": [_number(edge) for edge in results.cutpoints],
        "cutpoints_given": bool(results.cutpoints_given),
        "strata": [_stratum(stratum) for stratum in results.strata],
        "baseline": _keyed(results.baseline),
        "outcomes": _keyed(results.outcomes),
        "activity_categories": _keyed(results.activity_categories),
        "eular_response": _categorical(results.eular_response),
        "anti_drug_antibodies": None if results.anti_drug_antibodies is None else _categorical(results.anti_drug_antibodies),
        "carried_forward": [_carried(patient) for patient in results.carried_forward],
        "flow": _flow(results.flow),
        "missing": {variable: int(count) for variable, count in results.missing},
        "primary_outcome": study.primary_outcome,
        "sensitivity": [_sensitivity(row) for row in results.sensitivity],
    }


def results_to_json(results: Results) -> str:
    """results.json text: two-space indentation, non-ASCII kept as UTF-8, trailing newline."""
    # allow_nan=False: a NaN that slipped past _number must fail loudly, not write invalid JSON.
    return json.dumps(results_to_document(results), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
