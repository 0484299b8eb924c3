"""A second synthetic example: 45 patients on adalimumab (injection), grouped by tertiles, assessed at month 6.

    make examples                                                  # both examples
    python -m tools.adalimumab_example [PATH]                      # writes input/examples/adalimumab-tertiles.xlsx

A developer tool like ``tools.example`` (not part of the package). Every patient is synthetic and nothing is
calibrated to a publication: it exercises what the first example does not, a drug other than tocilizumab given
by injection, the cohort's own tertiles, a 6-month follow-up, levels below the assay's limit of quantification
(typed ``<0.3`` with ``lloq`` = 0.3), a ±1-month visit window and anti-drug antibodies. Deterministic: randomness comes only from
``random.Random(seed).random()``, whose stream Python guarantees across versions.

Visits at months 0, 3 and 6. Each patient has a latent level (log-normal, median about 7 µg/mL); a few have
anti-drug antibodies and a level below the LLOQ. Response improves with the level. Three patients stop at
month 3 (their follow-up is carried forward), three are seen at month 5 or 7 instead of 6 (placed by the
visit window) and one has no level at all.
"""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path
from typing import Any, Sequence

DEFAULT_SEED = 20261202
DEFAULT_PATH = Path("input") / "examples" / "adalimumab-tertiles.xlsx"
N_PATIENTS = 45
VISIT_MONTHS = (0, 3, 6)
FOLLOW_UP_MONTH = 6
LLOQ = 0.3
BELOW_LLOQ_TEXT = "<0.3"
# Patients (by number) whose analysed level is below the LLOQ, all with anti-drug antibodies.
BELOW_LLOQ_PATIENTS = (4, 17, 29, 38)
WITHDRAWN = {9: (3, "lack of efficacy"), 22: (3, "adverse event"), 41: (3, "lack of efficacy")}
NO_LEVEL = (33,)
# Patients (by number) seen a month early or late for the month-6 visit: the study's ±1-month visit window
# places that visit at month 6 (the build lists each placement as a warning).
OFF_SCHEDULE = {12: 7, 27: 5, 36: 7}
STUDY = (
    ("title", "Adalimumab trough levels and disease activity after six months in rheumatoid arthritis "
              "(synthetic example cohort)"),
    ("authors", "R. Example, S. Synthetic"),
    ("institution", "Rheumatology Department, Example Hospital (fictional)"),
    ("grouping", "tertiles"),
    ("follow_up_month", FOLLOW_UP_MONTH),
    ("visit_window_months", 1),
    ("drug", "adalimumab"),
    ("administration", "injection"),
    ("level_unit", "µg/mL"),
    ("lloq", LLOQ),
    ("below_lloq", "half-lloq"),
    ("background", "Adalimumab trough levels vary widely between patients, and anti-drug antibodies can lower them. "
                   "(Synthetic example: written by the example's authors, not by reportgen.)"),
    ("objective", "To describe disease activity after six months of adalimumab by tertile of trough level."),
)


def _normal(rng: random.Random) -> float:
    """A standard normal draw from two uniforms (Box-Muller), so only ``random()`` is used."""
    u1, u2 = rng.random(), rng.random()
    return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)


def _clip(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


def generate_adalimumab_cohort(seed: int = DEFAULT_SEED) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[tuple[str, Any]]]:
    """(patients rows, visits rows, study key/value rows); rows are dicts keyed by the contract's column names."""
    from reportgen.contract import ADA_COLUMN, LEVEL_COLUMN

    rng = random.Random(seed)
    patients: list[dict[str, Any]] = []
    visits: list[dict[str, Any]] = []
    for number in range(1, N_PATIENTS + 1):
        patient_id = f"A{number:03d}"
        age = round(_clip(52 + 12 * _normal(rng), 20, 85))
        withdrawal_month, reason = WITHDRAWN.get(number, (None, None))
        patients.append({
            "patient_id": patient_id,
            "sex": "F" if rng.random() < 0.75 else "M",
            "age_years": age,
            "disease_duration_years": round(_clip(math.exp(math.log(7.0) + 0.7 * _normal(rng)), 0.5, age - 17), 1),
            "rf_positive": "yes" if rng.random() < 0.7 else "no",
            "acpa_positive": "yes" if rng.random() < 0.65 else ("no" if rng.random() < 0.9 else None),
            "prior_biologics": min(3, int(rng.random() * 2.2)),
            "concomitant_mtx": "yes" if rng.random() < 0.6 else "no",
            "withdrawal_month": withdrawal_month,
            "withdrawal_reason": reason,
        })
        below = number in BELOW_LLOQ_PATIENTS
        level = math.exp(math.log(7.0) + 0.75 * _normal(rng))
        antibodies = below or (level < 4.0 and rng.random() < 0.35) or rng.random() < 0.05
        # Response grows with the level: the share of baseline activity lost by month 6.
        improvement = _clip(0.15 + 0.18 * math.log(1.0 + (0.0 if below else level)) + 0.12 * _normal(rng), 0.0, 0.9)
        baseline = {
            "tjc28": _clip(10 + 4 * _normal(rng), 2, 28),
            "sjc28": _clip(7 + 3 * _normal(rng), 1, 28),
            "esr_mm_h": _clip(36 + 12 * _normal(rng), 5, 110),
            "crp_mg_l": _clip(math.exp(math.log(12.0) + 0.8 * _normal(rng)), 0.5, 150),
            "patient_global_mm": _clip(65 + 12 * _normal(rng), 20, 100),
            "evaluator_global_mm": _clip(55 + 12 * _normal(rng), 15, 100),
        }
        for month in VISIT_MONTHS:
            if withdrawal_month is not None and month > withdrawal_month:
                break
            share = improvement * month / FOLLOW_UP_MONTH
            seen = OFF_SCHEDULE.get(number, month) if month == FOLLOW_UP_MONTH else month
            row: dict[str, Any] = {"patient_id": patient_id, "month": seen}
            for key, start in baseline.items():
                value = start * (1.0 - share) * (1.0 if month == 0 else math.exp(0.12 * _normal(rng)))
                if key in ("tjc28", "sjc28"):
                    row[key] = int(_clip(round(value), 0, 28))
                elif key == "crp_mg_l":
                    row[key] = round(_clip(value, 0.1, 300), 1)
                else:
                    row[key] = int(_clip(round(value), 1 if key == "esr_mm_h" else 0, 100 if key != "esr_mm_h" else 200))
            if month == 0 or number in NO_LEVEL:
                row[LEVEL_COLUMN] = None
                row[ADA_COLUMN] = None
            else:
                row[LEVEL_COLUMN] = BELOW_LLOQ_TEXT if below else round(level * math.exp(0.1 * _normal(rng)), 1)
                # Antibodies tested in about four samples of five.
                row[ADA_COLUMN] = ("positive" if antibodies else "negative") if rng.random() < 0.8 or below else None
            visits.append(row)
    return patients, visits, list(STUDY)


def write_adalimumab_example(path: str | Path = DEFAULT_PATH, seed: int = DEFAULT_SEED) -> Path:
    from reportgen.contract import ADA_COLUMN
    from tools.example import write_cohort_workbook

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    patients, visits, study = generate_adalimumab_cohort(seed)
    return write_cohort_workbook(path, patients, visits, study, engine="xlsxwriter", optional_columns=(ADA_COLUMN,))


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    path = write_adalimumab_example(args[0] if args else DEFAULT_PATH)
    print(f"wrote {path}: {N_PATIENTS} patients")
    return 0


if __name__ == "__main__":
    sys.exit(main())
