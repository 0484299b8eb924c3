"""The statistics stage against Python's ``tableone`` on the same follow-up data, as a ratio.

Both get the derived cohort (one row per patient, follow-up values after LOCF) already in memory,
so only the statistics are timed: ``reportgen.analysis.analyse`` against ``tableone.TableOne`` asked
for the same variables by trough-level quartile with the same tests (Kruskal-Wallis for continuous,
chi-square for categorical variables). ``analyse`` does more (trend test, Spearman, post-hoc tests,
effect sizes), which only makes the target harder. The p-values of both are compared as a check
that the comparison is like for like.

    python -m bench.stats_vs_tableone WORKBOOK [--repeats N]    # prints one JSON object
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable


def _best_of(repeats: int, run: Callable[[], Any]) -> tuple[float, Any]:
    best, result = math.inf, None
    for _ in range(repeats):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return best, result


def _quartile_labels(trough: "pd.Series", cutpoints: tuple[float, float, float], labels: list[str]) -> "pd.Series":
    import numpy as np
    import pandas as pd

    # Strata are (lower, upper], as reportgen.model.Stratum says.
    return pd.cut(trough, bins=[-np.inf, *cutpoints, np.inf], right=True, labels=labels)


def compare(workbook: Path, repeats: int = 5) -> dict[str, Any]:
    from reportgen.analysis import analyse
    from reportgen.derive import derive
    import pandas as pd
    from reportgen.pipeline import validate_only
    from tableone import TableOne

    cohort = validate_only(workbook)
    derived = derive(cohort)
    analyse(derived, cohort.study)  # warm caches and lazy imports inside analyse before timing
    analyse_s, results = _best_of(repeats, lambda: analyse(derived, cohort.study))

    # The same variables as analyse, read the way analyse reads them (its specs say which column and how).
    from reportgen import analysis

    patients = derived.patients
    sections = {
        "baseline": (analysis.TABLE_1, results.baseline),
        "follow-up": (analysis.OUTCOMES, results.outcomes),
        "activity": (analysis.ACTIVITY, results.activity_categories),
        "eular": ((analysis.EULAR,), (results.eular_response,)),
    }
    columns: dict[str, Any] = {}
    continuous, categorical = [], []
    ours: dict[str, Any] = {}
    for section, (specs, comparisons) in sections.items():
        for spec, comparison in zip(specs, comparisons):
            name = f"{section}: {spec.variable}"
            ours[name] = comparison.test
            if isinstance(spec, analysis.Continuous):
                columns[name] = patients[spec.column].to_numpy(dtype=float, na_value=float("nan"))
                continuous.append(name)
            else:
                columns[name] = spec.values(patients)
                categorical.append(name)
    frame = pd.DataFrame(columns)
    level = patients["trough_level"].to_numpy(dtype=float, na_value=float("nan"))
    labels = [stratum.label for stratum in results.strata]
    frame["quartile"] = _quartile_labels(pd.Series(level), results.cutpoints, labels)
    frame = frame[frame["quartile"].notna()].reset_index(drop=True)  # analysed patients: those with a level

    def run_tableone() -> TableOne:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return TableOne(
                frame,
                columns=[*continuous, *categorical],
                continuous=continuous,
                categorical=categorical,
                nonnormal=continuous,
                groupby="quartile",
                pval=True,
                htest_name=True,
                include_null=False,  # unknown values are left out of the test, as analyse leaves them out
            )

    run_tableone()
    tableone_s, table = _best_of(repeats, run_tableone)

    agreement = []
    for variable, row in table.htest_table.iterrows():
        test = ours.get(str(variable))
        theirs_p = float(row["P-Value"]) if row["P-Value"] == row["P-Value"] else None
        agreement.append(
            {
                "variable": str(variable),
                "reportgen_test": test.test if test else None,
                "reportgen_p": test.p_value if test else None,
                "tableone_test": str(row["Test"]),
                "tableone_p": theirs_p,
            }
        )
    differences = [
        abs(a["reportgen_p"] - a["tableone_p"])
        for a in agreement
        if a["reportgen_p"] is not None and a["tableone_p"] is not None
    ]
    return {
        "n_patients": int(len(patients)),
        "n_with_level": int(len(frame)),
        "variables": {"continuous": continuous, "categorical": categorical},
        "repeats": repeats,
        "analyse_s": analyse_s,
        "tableone_s": tableone_s,
        "ratio": analyse_s / tableone_s if tableone_s > 0 else None,
        "max_p_difference": max(differences) if differences else None,
        "tests": agreement,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stats_vs_tableone")
    parser.add_argument("workbook", type=Path)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    print(json.dumps(compare(args.workbook, args.repeats)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
