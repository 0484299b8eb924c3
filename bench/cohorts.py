"""Synthetic cohort workbooks for the benchmarks, generated once and cached in ``bench/cache/``.

The 34-patient case is the example itself (``input/cohort.xlsx``). Larger cohorts come from the
example generator (``reportgen.example``) with visits at months 0, 3, 6, 9 and 12 and a study sheet
that fixes the quartile cut points between the values the generator can produce, so no trough level
lies on an edge and every size is stratified the same way.

A cached workbook is reused while the generator's source, this module's settings and the size are
unchanged (the key is in the file name), so editing the generator regenerates on the next run.

    python -m bench.cohorts 1000 10000      # generate (or find) and print the paths
"""

from __future__ import annotations

import hashlib
import inspect
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).resolve().parent / "cache"
EXAMPLE_WORKBOOK = ROOT / "input" / "cohort.xlsx"
EXAMPLE_SIZE = 34
SIZES = (34, 1_000, 10_000, 100_000)
SEED = 20_140_611  # fixed: the same workbooks on every machine
VISIT_MONTHS = (0, 3, 6, 9, 12)
# Trough levels are written with at most 2 decimals, so cut points at 3 decimals never coincide with one.
QUARTILE_CUTPOINTS = (2.345, 7.455, 18.505)


@dataclass(frozen=True)
class CohortWorkbook:
    """A benchmark workbook and what is in it."""

    n_patients: int
    n_visits: int | None
    path: Path
    generated_s: float | None  # seconds spent generating it in this run; None when cached or the example

    def to_json(self) -> dict[str, object]:
        return {
            "n_patients": self.n_patients,
            "n_visits": self.n_visits,
            "path": str(self.path),
            "bytes": self.path.stat().st_size,
            "generated_s": self.generated_s,
        }


def _generator_key() -> str:
    """Digest of the generator's source and of our settings: a change invalidates the cache."""
    import reportgen.example as example

    digest = hashlib.sha256(inspect.getsource(example).encode("utf-8"))
    digest.update(repr((SEED, VISIT_MONTHS, QUARTILE_CUTPOINTS)).encode("utf-8"))
    return digest.hexdigest()[:12]


def _count_example_visits(path: Path) -> int | None:
    try:
        from python_calamine import CalamineWorkbook

        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("visits").to_python(skip_empty_area=True)
        return sum(1 for row in sheet[1:] if any(cell not in ("", None) for cell in row))
    except Exception:  # the count is informative only
        return None


def cohort_workbook(n_patients: int, *, log=None) -> CohortWorkbook:
    """The workbook for ``n_patients``: the example for 34, else a cached synthetic cohort."""
    if n_patients == EXAMPLE_SIZE:
        if not EXAMPLE_WORKBOOK.exists():
            raise FileNotFoundError(f"{EXAMPLE_WORKBOOK} is missing; run `make example` first")
        return CohortWorkbook(EXAMPLE_SIZE, _count_example_visits(EXAMPLE_WORKBOOK), EXAMPLE_WORKBOOK, None)

    key = _generator_key()
    path = CACHE / f"cohort-{n_patients}-{key}.xlsx"
    meta_path = path.with_suffix(".json")
    if path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        return CohortWorkbook(n_patients, meta.get("n_visits"), path, None)

    from reportgen.example import generate_synthetic_cohort, write_cohort_workbook
    from reportgen.model import StudyOptions

    if log:
        log(f"generating a {n_patients:,}-patient cohort (cached in {CACHE.relative_to(ROOT)}/) ...")
    started = time.perf_counter()
    patients, visits = generate_synthetic_cohort(n_patients=n_patients, seed=SEED)
    visits = visits[visits["month"].isin(VISIT_MONTHS)]
    study = StudyOptions(
        title=f"Synthetic benchmark cohort of {n_patients:,} patients",
        quartile_cutpoints=QUARTILE_CUTPOINTS,
    )
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.xlsx")
    write_cohort_workbook(partial, patients, visits, study)
    partial.replace(path)
    generated = time.perf_counter() - started
    meta_path.write_text(json.dumps({"n_patients": n_patients, "n_visits": int(len(visits)), "seed": SEED}))
    for stale in CACHE.glob(f"cohort-{n_patients}-*.xlsx"):
        if stale != path:
            stale.unlink(missing_ok=True)
            stale.with_suffix(".json").unlink(missing_ok=True)
    return CohortWorkbook(n_patients, int(len(visits)), path, generated)


def main(argv: list[str] | None = None) -> int:
    sizes = [int(arg.replace(",", "").replace("_", "")) for arg in (sys.argv[1:] if argv is None else argv)] or list(SIZES)
    for size in sizes:
        workbook = cohort_workbook(size, log=lambda message: print(message, file=sys.stderr))
        print(workbook.path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
