"""The contract file: loads strictly, matches the issue's columns, StudyOptions and the user guide."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import yaml
from workbooks import PATIENT_COLUMNS, VISIT_COLUMNS

from reportgen.contract import CONTRACT_FILE, ContractError, column_letter, load_contract, load_contract_file
from reportgen.model import StudyOptions
from reportgen.resources import schemas_dir

DOCS = Path(__file__).resolve().parent.parent / "docs" / "cohort-workbook.md"


def test_columns_are_exactly_the_contract_of_issue_2() -> None:
    contract = load_contract()
    assert [column.name for column in contract.sheet("patients").canonical_columns] == list(PATIENT_COLUMNS)
    assert [column.name for column in contract.sheet("visits").default_columns] == list(VISIT_COLUMNS)
    # Optional columns (the header may be left out): anti-drug antibodies only.
    optional = [column.name for column in contract.sheet("visits").canonical_columns if column.optional]
    assert optional == ["anti_drug_antibodies"]
    assert not any(column.optional for column in contract.sheet("patients").columns)
    assert [column.name for column in contract.sheet("visits").alternatives("crp_mg_l")] == ["crp_mg_dl"]
    assert contract.sheet_names == ("patients", "visits", "study")


def test_numeric_rules_say_their_bounds() -> None:
    for sheet in load_contract().sheets:
        for column in sheet.columns:
            if column.kind not in ("number", "whole"):
                continue
            assert column.rule.startswith(column.name)
            assert ("whole number" in column.rule) == (column.kind == "whole"), column.name
            for bound in (column.min, column.max):
                if bound is not None:
                    assert re.search(rf"\b{bound:g}\b", column.rule), f"{column.name}: {bound} not in {column.rule!r}"


def test_warning_thresholds_lie_inside_the_allowed_range() -> None:
    for sheet in load_contract().sheets:
        for column in sheet.columns:
            if column.warn_above is not None:
                assert column.min is None or column.min < column.warn_above
                assert column.max is None or column.warn_above < column.max
                assert column.warning and column.warning.startswith(column.name)


def test_study_defaults_are_the_study_options_defaults() -> None:
    study = load_contract().study
    defaults = {field.name: field.default for field in dataclasses.fields(StudyOptions)}
    assert [key.key for key in study.keys] == list(defaults)
    for key in study.keys:
        assert key.default == defaults[key.key], key.key
        assert key.rule.startswith(key.key)


def test_the_user_guide_documents_every_column_and_setting() -> None:
    guide = DOCS.read_text(encoding="utf-8")
    contract = load_contract()
    for sheet in contract.sheets:
        assert f"## Sheet `{sheet.name}`" in guide
        for column in sheet.columns:
            assert f"`{column.name}`" in guide, column.name
            assert column.rule in guide, column.rule
            if column.unit:
                assert column.unit in guide, column.unit
            if column.warn_above is not None:
                assert f"`{column.name}` above {column.warn_above:g}" in guide
    for key in contract.study.keys:
        assert f"`{key.key}`" in guide and key.rule in guide, key.key


def _broken_copy(tmp_path: Path, change: object) -> Path:
    document = yaml.safe_load((schemas_dir() / CONTRACT_FILE).read_text(encoding="utf-8"))
    change(document)  # type: ignore[operator]
    path = tmp_path / "contract.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "change",
    [
        lambda document: document["sheets"][0]["columns"][0].update(requird=True),
        lambda document: document["sheets"][0]["columns"][2].update(kind="integer"),
        lambda document: document["sheets"][0]["columns"][1].pop("allowed"),
        lambda document: document["sheets"][1]["columns"][4].pop("warning"),
        lambda document: document["study"]["keys"][0].update(kind="free"),
        lambda document: document.update(extra=1),
    ],
    ids=["typo-in-field", "unknown-kind", "choice-without-options", "threshold-without-sentence", "study-kind", "top-level"],
)
def test_a_malformed_contract_is_refused(tmp_path: Path, change: object) -> None:
    with pytest.raises(ContractError):
        load_contract_file(_broken_copy(tmp_path, change))


def test_column_letters() -> None:
    assert [column_letter(index) for index in (0, 25, 26, 27, 701, 702)] == ["A", "Z", "AA", "AB", "ZZ", "AAA"]


def test_the_primary_outcome_choices_are_the_analysed_outcomes() -> None:
    from reportgen.analysis import OUTCOMES

    key = load_contract().study.key("primary_outcome")
    assert key.allowed == tuple(spec.variable for spec in OUTCOMES)
    assert key.default in key.allowed
