"""Synthetic cohort workbooks for the benchmarks, generated once and cached in ``bench/cache/``.

The 34-patient case is the example itself (``input/cohort.xlsx``). Larger cohorts come from the
example generator (``tools.example``) with visits at months 0, 3, 6, 9 and 12 and a study sheet
that fixes the quartile cut points between the values the generator can produce, so no trough level
lies on an edge and every size is stratified the same way.

A cached workbook is reused while the generator's source, this module's settings and the size are
unchanged (the key is in the file name), so editing the generator regenerates on the next run.

    python -m bench.cohorts 1000 10000      # generate (or find) and print the paths
    python -m bench.cohorts --json 34 1000  # the same as JSON records (what ``python -m bench`` reads)

``python -m bench`` runs this in a child process, so generating a large cohort never inflates the
benchmark process itself (a forked child would inherit its peak memory in ``ru_maxrss``).
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
# Trough levels are written with at most 2 decimals, so cut points at 3 decimals never coincide with one;
# they sit near the quartiles of the generator's level distribution (log-normal, median ~8 µg/mL).
QUARTILE_CUTPOINTS = (3.805, 8.005, 16.805)


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


# What the synthetic workbooks depend on in tools.example; edits elsewhere there (the calibrated
# 34-patient example) leave the cache valid. A name that disappears falls back to the whole module.
_GENERATOR_PARTS = ("generate_synthetic_cohort", "write_cohort_workbook", "_columns_of", "_study_rows",
                    "contract_columns", "VISIT_MONTHS", "FOLLOW_UP_MONTH", "WORKBOOK_CREATED")


def _generator_key() -> str:
    """Digest of the generator's code, numpy's version (it fixes the random stream) and our settings."""
    import numpy
    import tools.example as example

    digest = hashlib.sha256(repr((SEED, VISIT_MONTHS, QUARTILE_CUTPOINTS, numpy.__version__)).encode("utf-8"))
    try:
        for name in _GENERATOR_PARTS:
            part = getattr(example, name)
            digest.update((inspect.getsource(part) if callable(part) else repr(part)).encode("utf-8"))
    except AttributeError:
        digest.update(inspect.getsource(example).encode("utf-8"))
    # The headers come from the workbook contract, read when called.
    digest.update(repr([example.contract_columns(sheet) for sheet in ("patients", "visits")]).encode("utf-8"))
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

    from tools.example import generate_synthetic_cohort, write_cohort_workbook
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
    args = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in args
    sizes = [int(arg.replace(",", "").replace("_", "")) for arg in args if arg != "--json"] or list(SIZES)
    found: list[dict[str, object]] = []
    for size in sizes:
        try:
            workbook = cohort_workbook(size, log=lambda message: print(message, file=sys.stderr, flush=True))
        except Exception as error:  # e.g. the example or the generator is missing: say so, go on
            if not as_json:
                raise
            found.append({"n_patients": size, "error": f"no workbook: {type(error).__name__}: {error}"})
            continue
        found.append(workbook.to_json())
        if not as_json:
            print(workbook.path)
    if as_json:
        print(json.dumps(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
