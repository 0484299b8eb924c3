"""Clinical indices against the published test vectors and the EULAR floating-point traps
(../shared/clinical/README.md)."""

from __future__ import annotations

import numpy as np
import pytest

from reportgen import indices


@pytest.mark.parametrize(
    ("tjc", "sjc", "esr", "ptga", "expected"),
    [(4, 5, 7, 50, 3.81), (5, 6, 8, 51, 4.11), (28, 28, 10, 100, 7.46), (12, 8, 45, 70, 6.38)],
)
def test_das28_esr_published_vectors(tjc: int, sjc: int, esr: float, ptga: float, expected: float) -> None:
    assert indices.round_half_up(indices.das28_esr(tjc, sjc, esr, ptga), 2) == pytest.approx(expected, abs=1e-12)


def test_das28_esr_full_precision() -> None:
    assert indices.das28_esr(4, 5, 7, 50) == pytest.approx(3.80824, abs=5e-6)
    assert indices.das28_crp(4, 5, 7, 50) == pytest.approx(4.15470, abs=5e-6)


@pytest.mark.parametrize(
    ("tjc", "sjc", "crp", "ptga", "expected"),
    [(4, 5, 7, 50, 4.15), (5, 6, 8, 51, 4.40), (28, 28, 10, 100, 7.67), (0, 0, 0, 0, 0.96)],
)
def test_das28_crp_published_vectors(tjc: int, sjc: int, crp: float, ptga: float, expected: float) -> None:
    assert indices.round_half_up(indices.das28_crp(tjc, sjc, crp, ptga), 2) == pytest.approx(expected, abs=1e-12)


def test_the_shared_coefficients_give_the_published_three_variable_scores() -> None:
    # reportgen computes only the 4-variable DAS28. The 3-variable scores (without the patient global) reuse its
    # coefficients: built here from indices' constants, they must give the published vectors too.
    def das28_esr_3(tjc: float, sjc: float, esr: float) -> float:
        return (indices.DAS28_TJC * np.sqrt(tjc) + indices.DAS28_SJC * np.sqrt(sjc) + indices.DAS28_LN_ESR * np.log(esr)) * 1.08 + 0.16

    def das28_crp_3(tjc: float, sjc: float, crp: float) -> float:
        return (indices.DAS28_TJC * np.sqrt(tjc) + indices.DAS28_SJC * np.sqrt(sjc) + indices.DAS28_LN_CRP * np.log(crp + 1.0)) * 1.10 + 1.15

    assert indices.round_half_up(das28_esr_3(4, 5, 7), 2) == pytest.approx(3.52)
    assert indices.round_half_up(das28_crp_3(4, 5, 7), 2) == pytest.approx(3.89)


def test_cdai_and_sdai_published_vectors() -> None:
    # Global assessments in mm (5 cm = 50 mm); SDAI's CRP of 7 mg/dL is 70 mg/L.
    assert indices.cdai(4, 5, 50, 60) == pytest.approx(20.0)
    assert indices.sdai(4, 5, 50, 60, 70) == pytest.approx(27.0)


@pytest.mark.parametrize(
    ("value", "category"),
    [(2.59, "remission"), (2.6, "low"), (3.2, "low"), (3.21, "moderate"), (5.1, "moderate"), (5.11, "high"),
     (2.595, "low"), (3.204, "low"), (3.205, "moderate")],
)
def test_das28_category_boundaries(value: float, category: str) -> None:
    assert indices.das28_category(np.array([value]))[0] == category


@pytest.mark.parametrize(
    ("cdai", "sdai", "category"),
    [(2.8, 3.3, "remission"), (2.81, 3.31, "low"), (10.0, 11.0, "low"), (22.0, 26.0, "moderate"), (22.01, 26.01, "high")],
)
def test_cdai_sdai_category_boundaries(cdai: float, sdai: float, category: str) -> None:
    assert indices.cdai_category(np.array([cdai]))[0] == category
    assert indices.sdai_category(np.array([sdai]))[0] == category


@pytest.mark.parametrize(
    ("baseline", "current", "response"),
    [
        # The floating-point traps: naive subtraction crosses the 1.2 and 0.6 thresholds.
        (4.4, 3.2, "moderate"),
        (5.2, 4.6, "none"),
        (6.9, 5.7, "none"),
        # The published regression cases.
        (5.21, 1.8, "good"),
        (4.2, 3.2, "moderate"),
        (3.1, 2.9, "none"),
        (4.3, 3.3, "moderate"),
        (4.0, 3.3, "moderate"),
        (4.4, 4.2, "none"),
        (7.46, 6.19, "moderate"),
        (7.43, 6.81, "none"),
        (7.19, 6.70, "none"),
    ],
)
def test_eular_response_regressions(baseline: float, current: float, response: str) -> None:
    assert indices.eular_response(np.array([baseline]), np.array([current]))[0] == response


def test_eular_traps_are_real() -> None:
    # Guards the regression cases above: they only test something if naive arithmetic gets them wrong.
    assert 4.4 - 3.2 > 1.2
    assert 5.2 - 4.6 > 0.6
    assert 6.9 - 5.7 > 1.2
