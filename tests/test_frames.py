"""Stage contracts (reportgen.frames): what they accept, what they refuse, and that the pipeline checks them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from workbooks import write_valid_workbook

from reportgen import pipeline
from reportgen.contract import load_contract
from reportgen.derive import CATEGORIES, MEASURES, derive
from reportgen.errors import AnalysisError
from reportgen.frames import CohortPatients, CohortVisits, DerivedPatients, DerivedVisits, check_cohort, check_derived
from tests.cohorts import random_cohort


@pytest.fixture(scope="module")
def cohort():
    return random_cohort(5, 60)


def _columns(model) -> set[str]:
    return set(model.to_schema().columns)


def test_cohort_models_name_the_contract_columns_and_excel_row() -> None:
    contract = load_contract()
    for model, sheet in ((CohortPatients, "patients"), (CohortVisits, "visits")):
        flags = {"level_below_lloq"} if sheet == "visits" else set()  # a level typed '<LLOQ' (reportgen.lloq)
        assert _columns(model) == {column.name for column in contract.sheet(sheet).canonical_columns} | {"excel_row"} | flags


def test_derived_models_name_what_derive_makes(cohort) -> None:
    derived = derive(cohort)
    optional = {"anti_drug_antibodies"}  # only when the workbook has that column (tests/test_antibodies.py)
    assert _columns(DerivedPatients) - optional == set(derived.patients.columns)
    assert _columns(DerivedVisits) - optional == set(derived.visits.columns)
    expected = {*_columns(CohortPatients), *MEASURES, *CATEGORIES, *(f"{m}_baseline" for m in (*MEASURES, *CATEGORIES)),
                "follow_up_visit_month", "carried_forward", "delta_das28", "eular_response", "trough_level", "trough_month",
                "trough_below_lloq"}
    assert _columns(DerivedPatients) - optional == expected
    assert check_derived(derived) is derived


@pytest.mark.parametrize(
    "break_it, named",
    [
        (lambda p: p.assign(quartile="Q1"), "quartile"),  # a column derive never makes (the old fixture's)
        (lambda p: p.drop(columns="trough_month"), "trough_month"),
        (lambda p: p.assign(carried_forward=p["carried_forward"].astype(object)), "carried_forward"),
        (lambda p: p.assign(eular_response=p["eular_response"].astype(object)), "eular_response"),
        (lambda p: p.assign(cdai_category=p["cdai_category"].cat.as_unordered()), "cdai_category"),
        (lambda p: p.assign(trough_month=np.nan), "trough_month"),
        (lambda p: pd.concat([p, p.iloc[[0]]], ignore_index=True), "patient_id"),
    ],
)
def test_a_derived_table_that_breaks_its_contract_is_refused_by_name(cohort, break_it, named: str) -> None:
    derived = derive(cohort)
    with pytest.raises(AnalysisError, match=f"Derived.patients breaks its contract.*{named}"):
        check_derived(replace(derived, patients=break_it(derived.patients)))


def test_a_cohort_with_a_level_at_baseline_is_refused(cohort) -> None:
    visits = cohort.visits.copy()
    visits.loc[visits["month"] == 0, "trough_level"] = 3.0
    with pytest.raises(AnalysisError, match="Cohort.visits breaks its contract.*month 0"):
        check_cohort(replace(cohort, visits=visits))


def test_the_pipeline_checks_the_derive_stage_before_analysing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import reportgen.analysis
    import reportgen.derive

    real_derive = reportgen.derive.derive
    analysed = []
    monkeypatch.setattr(reportgen.derive, "derive", lambda c: (lambda d: replace(d, patients=d.patients.assign(quartile=1)))(real_derive(c)))
    monkeypatch.setattr(reportgen.analysis, "analyse", lambda *a: analysed.append(a))
    workbook = write_valid_workbook(tmp_path / "cohort.xlsx")
    out = tmp_path / "out"
    with pytest.raises(AnalysisError, match="Derived.patients breaks its contract"):
        pipeline.build(pipeline.BuildRequest(workbook=workbook, out_root=out, make_pdf=False))
    assert analysed == [] and not any(out.glob("*/report.html"))


def test_the_pipeline_checks_the_validated_cohort(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import reportgen.validate

    real_validate = reportgen.validate.validate_workbook
    monkeypatch.setattr(
        reportgen.validate, "validate_workbook", lambda raw: (lambda c: replace(c, patients=c.patients.drop(columns="sex")))(real_validate(raw))
    )
    with pytest.raises(AnalysisError, match="Cohort.patients breaks its contract.*sex"):
        pipeline.validate_only(write_valid_workbook(tmp_path / "cohort.xlsx"))
