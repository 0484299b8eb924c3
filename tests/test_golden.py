"""The example's results.json, pinned: any change to a number of the example is deliberate and shows in the diff.

``tests/golden/example-results.json`` is compared, byte for byte, with a fresh analysis of
``input/cohort.xlsx`` (load, validate, derive, analyse, serialise: the build's own stages). Nothing is left
out: results.json holds no build time, version or path (those are in manifest.json), so every field must
match. After a deliberate change, rewrite the file and review its diff:

    .venv/bin/python tests/test_golden.py --update
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COHORT = ROOT / "input" / "cohort.xlsx"
GOLDEN = ROOT / "tests" / "golden" / "example-results.json"


def fresh_results_json() -> str:
    from reportgen.analysis import analyse
    from reportgen.derive import derive
    from reportgen.frames import check_derived
    from reportgen.pipeline import validate_only
    from reportgen.results_json import results_to_json

    cohort = validate_only(COHORT)
    return results_to_json(analyse(check_derived(derive(cohort)), cohort.study))


def test_the_example_results_equal_the_golden_file() -> None:
    fresh, golden = fresh_results_json(), GOLDEN.read_text(encoding="utf-8")
    if fresh != golden:
        diff = difflib.unified_diff(golden.splitlines(), fresh.splitlines(), "golden", "fresh", lineterm="", n=2)
        raise AssertionError(
            "results.json of the example changed; if that is deliberate, run "
            "`.venv/bin/python tests/test_golden.py --update` and commit the diff:\n" + "\n".join(list(diff)[:80])
        )


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit(f"usage: {sys.argv[0]} --update   (rewrites {GOLDEN.relative_to(ROOT)})")
    GOLDEN.write_text(fresh_results_json(), encoding="utf-8", newline="\n")
    print(f"wrote {GOLDEN.relative_to(ROOT)}")
