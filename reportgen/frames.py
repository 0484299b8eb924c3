"""Stage contracts for the tables the stages hand on: Pandera ``DataFrameModel``s, checked in ``pipeline.py``.

The workbook contract (``schemas/cohort.yaml``) stops at the workbook; these models say what the
validate and derive stages return, so a stage that breaks its promise fails at the boundary, naming the
table, the column and the check, instead of somewhere downstream. Test fixtures are built through them
(``tests/cohorts.py``, ``tests/report_fixtures.py``), so a fixture cannot hold a column a stage never makes.

    Cohort.patients   -> CohortPatients     Cohort.visits   -> CohortVisits
    Derived.patients  -> DerivedPatients    Derived.visits  -> DerivedVisits

Every model is strict (no column it does not name) and checks dtypes, missing values where a column may
have none, and a few vectorised rules; nothing row by row, so checking a 100,000-patient cohort costs a
fraction of a second (measured in docs/architecture.md). Missing values: NaN in float64 columns, <NA> in the
nullable "boolean" columns, None in object columns; text columns are pandas' string dtype.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.config import ValidationDepth, config_context
from pandera.errors import SchemaError, SchemaErrors
from pandera.typing import Series

from reportgen.contract import ADA_COLUMN, LEVEL_COLUMN
from reportgen.lloq import PATIENT_FLAG, VISIT_FLAG
from reportgen.errors import AnalysisError
from reportgen.indices import ACTIVITY_CATEGORIES, EULAR_RESPONSES
from reportgen.model import Cohort, Derived

# What ``astype("str")`` makes of text (validate.py): pandas' string dtype from pandas 3, object before.
TEXT = pd.Series([], dtype="str").dtype


def _activity() -> Any:
    """An activity-category column: ordered remission < low < moderate < high, missing where the index is."""
    return pa.Field(nullable=True, dtype_kwargs={"categories": list(ACTIVITY_CATEGORIES), "ordered": True})


class _Strict(pa.DataFrameModel):
    class Config:
        strict = True
        coerce = False


class CohortPatients(_Strict):
    """One row per patient, in workbook order (RangeIndex); the columns of the workbook contract's
    ``patients`` sheet, typed, plus ``excel_row`` (the row as Excel shows it)."""

    patient_id: Series[TEXT] = pa.Field(unique=True)
    sex: Series[TEXT]
    age_years: Series[float]
    disease_duration_years: Series[float]
    rf_positive: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    acpa_positive: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    prior_biologics: Series[int]
    concomitant_mtx: Series[bool]
    withdrawal_month: Series[float] = pa.Field(nullable=True)  # NaN: still treated
    withdrawal_reason: Series[object] = pa.Field(nullable=True)
    excel_row: Series[int]


class CohortVisits(_Strict):
    """One row per visit, sorted by the patients' order then month; CRP always in mg/L (``crp_mg_l``);
    the trough level (``contract.LEVEL_COLUMN``) NaN where not measured, and always at month 0 (before the first dose)."""

    patient_id: Series[TEXT]
    month: Series[int] = pa.Field(ge=0)
    tjc28: Series[int]
    sjc28: Series[int]
    esr_mm_h: Series[float]
    crp_mg_l: Series[float]
    patient_global_mm: Series[float]
    evaluator_global_mm: Series[float]
    level: Series[float] = pa.Field(nullable=True, alias=LEVEL_COLUMN)
    below_lloq: Series[bool] = pa.Field(alias=VISIT_FLAG)  # the level was typed '<LLOQ' (reportgen.lloq)
    # Only when the workbook has the column with a value: "positive", "negative", None = not tested.
    antibodies: Series[object] = pa.Field(nullable=True, required=False, alias=ADA_COLUMN)
    excel_row: Series[int]

    @pa.dataframe_check(error="a trough level at month 0")
    @classmethod
    def no_level_at_baseline(cls, visits: pd.DataFrame) -> bool:
        return not bool((visits[LEVEL_COLUMN].notna() & (visits["month"] == 0)).any())


class DerivedVisits(CohortVisits):
    """The validated visits, same rows and order, with the four indices at full precision and their
    activity categories (ordered remission < low < moderate < high; missing where the index is)."""

    das28_esr: Series[float] = pa.Field(nullable=True)
    das28_crp: Series[float] = pa.Field(nullable=True)
    cdai: Series[float] = pa.Field(nullable=True)
    sdai: Series[float] = pa.Field(nullable=True)
    das28_esr_category: Series[pa.Category] = _activity()
    das28_crp_category: Series[pa.Category] = _activity()
    cdai_category: Series[pa.Category] = _activity()
    sdai_category: Series[pa.Category] = _activity()


class DerivedPatients(CohortPatients):
    """One row per included patient (every patient of the cohort), in the cohort's order, RangeIndex.

    The patient columns of the cohort unchanged; for every outcome measure ``<measure>_baseline``
    (month 0) and ``<measure>`` (the follow-up visit); the activity categories likewise; the follow-up
    visit's month and whether it was carried forward (LOCF); ΔDAS28 (baseline − follow-up); the EULAR
    response; the trough level that stratifies (NaN when never measured) and its month. The groups by
    level are not here: the analysis stage forms them and carries them in ``Results.strata_membership``.
    """

    das28_esr_baseline: Series[float]
    das28_esr: Series[float]
    das28_crp_baseline: Series[float]
    das28_crp: Series[float]
    cdai_baseline: Series[float]
    cdai: Series[float]
    sdai_baseline: Series[float]
    sdai: Series[float]
    tjc28_baseline: Series[float]
    tjc28: Series[float]
    sjc28_baseline: Series[float]
    sjc28: Series[float]
    esr_mm_h_baseline: Series[float]
    esr_mm_h: Series[float]
    crp_mg_l_baseline: Series[float]
    crp_mg_l: Series[float]
    patient_global_mm_baseline: Series[float]
    patient_global_mm: Series[float]
    evaluator_global_mm_baseline: Series[float]
    evaluator_global_mm: Series[float]
    das28_esr_category_baseline: Series[pa.Category] = _activity()
    das28_esr_category: Series[pa.Category] = _activity()
    das28_crp_category_baseline: Series[pa.Category] = _activity()
    das28_crp_category: Series[pa.Category] = _activity()
    cdai_category_baseline: Series[pa.Category] = _activity()
    cdai_category: Series[pa.Category] = _activity()
    sdai_category_baseline: Series[pa.Category] = _activity()
    sdai_category: Series[pa.Category] = _activity()
    follow_up_visit_month: Series[int] = pa.Field(ge=0)
    carried_forward: Series[bool]
    delta_das28: Series[float]
    eular_response: Series[pa.Category] = pa.Field(
        nullable=True, dtype_kwargs={"categories": list(EULAR_RESPONSES), "ordered": True}
    )
    trough_level: Series[float] = pa.Field(nullable=True, ge=0)
    trough_month: Series[float] = pa.Field(nullable=True)
    trough_below_lloq: Series[bool] = pa.Field(alias=PATIENT_FLAG)  # that level was below the LLOQ
    # Anti-drug antibodies at the visit of that level (only when the visits have the column); None: not tested.
    antibodies: Series[object] = pa.Field(nullable=True, required=False, alias=ADA_COLUMN)

    @pa.dataframe_check(error="trough_month must be missing exactly where trough_level is")
    @classmethod
    def level_with_its_month(cls, patients: pd.DataFrame) -> bool:
        return bool((patients["trough_level"].isna() == patients["trough_month"].isna()).all())


def check_cohort(cohort: Cohort) -> Cohort:
    """``cohort`` unchanged if its tables keep the contract; AnalysisError naming table, column and check if not."""
    _check(CohortPatients, cohort.patients, "Cohort.patients")
    _check(CohortVisits, cohort.visits, "Cohort.visits")
    return cohort


def check_derived(derived: Derived) -> Derived:
    """``derived`` unchanged if its tables keep the contract; AnalysisError naming table, column and check if not."""
    _check(DerivedPatients, derived.patients, "Derived.patients")
    _check(DerivedVisits, derived.visits, "Derived.visits")
    return derived


def _check(model: type[pa.DataFrameModel], frame: pd.DataFrame, name: str) -> None:
    # The boundary holds whatever the environment says about Pandera (as validate_workbook's own schemas).
    with config_context(
        validation_enabled=True, validation_depth=ValidationDepth.SCHEMA_AND_DATA, use_narwhals_backend=False
    ):
        try:
            model.validate(frame, lazy=False, inplace=True)  # inplace: nothing is coerced, so no copy is needed
        except (SchemaError, SchemaErrors) as error:
            first = error.schema_errors[0] if isinstance(error, SchemaErrors) else error
            found = str(first).splitlines()[0] if str(first) else type(first).__name__
            found = found.replace(" not in DataFrameSchema", " is not in the contract").split(" {")[0]
            found = found.split(". Columns in dataframe")[0][:300]
            raise AnalysisError(f"internal error: {name} breaks its contract ({model.__name__}): {found}") from None
