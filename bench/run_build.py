"""Run one ``reportgen build`` in this (fresh) interpreter and print its timings as one JSON line.

    python -m bench.run_build WORKBOOK OUT_ROOT [--no-pdf]

``python -m bench`` starts this in a new process per build, so the stage times from
``pipeline.build``'s ``StageTimer`` come with the same import and start-up costs the CLI pays.
Wall time and peak memory are measured by the parent (``os.wait4``), not here.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

_STARTED = time.perf_counter()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    workbook, out_root = Path(args[0]), Path(args[1])
    make_pdf = "--no-pdf" not in args

    from reportgen.pipeline import BuildRequest, StageTimer, build, request_environment

    imported = time.perf_counter()
    timer = StageTimer()
    request = BuildRequest(
        **request_environment(os.environ),  # as `reportgen build` reads it (REPORTGEN_PDF_WORKER=0: no worker)
        workbook=workbook,
        out_root=out_root,
        make_pdf=make_pdf,
        command_line=("reportgen", "build", str(workbook), "--out", str(out_root), "--quiet"),
    )
    folder = build(request, timer)
    finished = time.perf_counter()

    files = {str(p.relative_to(folder)): p.stat().st_size for p in sorted(Path(folder).rglob("*")) if p.is_file()}
    print(
        json.dumps(
            {
                "folder": str(folder),
                "import_pipeline_s": imported - _STARTED,
                "build_s": finished - imported,
                "stages_s": timer.seconds,
                "files_bytes": files,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
