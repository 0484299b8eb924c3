"""Run every benchmark of issue 7 and print one table: ``python -m bench`` (``make bench``).

    python -m bench                       # all sizes: 34 (the example), 1,000, 10,000, 100,000
    python -m bench --sizes 34,1000       # only these sizes
    python -m bench --quick               # one run of everything instead of best of several

Each build runs in a fresh interpreter (``bench/run_build.py``), so start-up and imports count as they
do for ``reportgen build``; wall time and peak resident memory of that process are measured here with
``os.wait4``. The floor (``bench/floor.py``) runs in the same session, and the example build is judged
as a ratio to it. Results are printed and written to ``bench/results/latest.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from bench.cohorts import EXAMPLE_SIZE, ROOT, SIZES

RESULTS = Path(__file__).resolve().parent / "results"
STAGES = ("load", "validate", "derive", "analyse", "figures", "html", "pdf", "archive")

# Issue 7's targets.
FLOOR_RATIO_MAX = 1.3
HELP_MAX_S = 0.3
LARGE_SIZE = 100_000
LARGE_WALL_MAX_S = 10.0
LARGE_RSS_MAX_BYTES = 2 * 1024**3
LARGE_PDF_MAX_BYTES = 2_000_000
GROWTH_FROM = 1_000
STATS_RATIO_MAX = 0.5


@dataclass(frozen=True)
class Run:
    """One child process: wall seconds, peak resident set in bytes, exit status, its output."""

    wall_s: float
    cpu_s: float  # user + system time of the child: less disturbed than wall time by other load
    peak_rss_bytes: int
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False


def run_measured(command: Sequence[str], timeout_s: float = 1800) -> Run:
    """Run ``command`` and measure its wall time and peak RSS (``wait4`` reports this child alone)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=ROOT)
        deadline = started + timeout_s
        timed_out = False
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                timed_out = True
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.002)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)  # already reaped; keep Popen from waiting again
        out.seek(0)
        err.seek(0)
        return Run(
            wall_s=wall,
            cpu_s=usage.ru_utime + usage.ru_stime,
            peak_rss_bytes=usage.ru_maxrss * 1024,  # Linux reports kilobytes
            returncode=process.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            timed_out=timed_out,
        )


def best_of(repeats: int, command: Sequence[str]) -> tuple[Run, list[float]]:
    """The fastest successful run of ``repeats`` (or the first failure), and every wall time."""
    runs = []
    for _ in range(repeats):
        run = run_measured(command)
        runs.append(run)
        if run.returncode != 0:
            return run, [r.wall_s for r in runs]
    return min(runs, key=lambda r: r.wall_s), [r.wall_s for r in runs]


def _error_tail(run: Run) -> str:
    if run.timed_out:
        return f"timed out after {run.wall_s:.0f} s (peak memory until then {run.peak_rss_bytes / 1024**2:,.0f} MiB)"
    lines = [line for line in run.stderr.strip().splitlines() if line.strip()]
    return "\n".join(lines[-6:]) or f"exit status {run.returncode}"


def _log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# --- the measurements -------------------------------------------------------------------------


def measure_python_startup(repeats: int) -> float:
    run, _ = best_of(repeats, [sys.executable, "-c", "pass"])
    return run.wall_s


def measure_help(repeats: int) -> dict[str, Any]:
    script = Path(sys.executable).parent / "reportgen"
    command = [str(script), "--help"] if script.exists() else [sys.executable, "-m", "reportgen", "--help"]
    run, walls = best_of(repeats, command)
    return {"command": " ".join(Path(command[0]).name if i == 0 else c for i, c in enumerate(command)),
            "best_s": run.wall_s, "runs_s": walls, "ok": run.returncode == 0,
            **({} if run.returncode == 0 else {"error": _error_tail(run)})}


def floor_once(scratch: Path) -> dict[str, Any]:
    pdf = scratch / "floor.pdf"
    run = run_measured([sys.executable, "-m", "bench.floor", str(pdf)])
    if run.returncode != 0:
        return {"ok": False, "error": _error_tail(run), "wall_s": run.wall_s}
    return {"ok": True, "wall_s": run.wall_s, "cpu_s": run.cpu_s, "peak_rss_bytes": run.peak_rss_bytes,
            "pdf_bytes": pdf.stat().st_size}


def build_once(workbook: Path, out_root: Path, timeout_s: float) -> dict[str, Any]:
    run = run_measured([sys.executable, "-m", "bench.run_build", str(workbook), str(out_root)], timeout_s)
    try:
        if run.returncode != 0:
            return {"ok": False, "error": _error_tail(run), "wall_s": run.wall_s, "peak_rss_bytes": run.peak_rss_bytes}
        report = json.loads(run.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(out_root, ignore_errors=True)
    files = report["files_bytes"]
    return {
        "ok": True,
        "wall_s": run.wall_s,
        "cpu_s": run.cpu_s,
        "peak_rss_bytes": run.peak_rss_bytes,
        "stages_s": report["stages_s"],
        # Interpreter start-up, imports outside the stages, and everything else the stage timer does not see.
        "outside_stages_s": run.wall_s - sum(report["stages_s"].values()),
        "pdf_bytes": files.get("report.pdf"),
        "html_bytes": files.get("report.html"),
        "folder_bytes": sum(files.values()),
        "files_bytes": files,
    }


def best_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest successful run (or the first failure), with every run's wall time beside it."""
    walls = [run["wall_s"] for run in runs]
    failed = [run for run in runs if not run["ok"]]
    best = failed[0] if failed else min(runs, key=lambda run: run["wall_s"])
    return {**best, "runs_s": walls}


def prepare_workbooks(sizes: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Find or generate every workbook, in a child process (see ``bench.cohorts``); size -> record or error."""
    finished = subprocess.run([sys.executable, "-m", "bench.cohorts", "--json", *map(str, sizes)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    if finished.returncode != 0:
        return {size: {"n_patients": size, "error": "the cohort generator failed (see above)"} for size in sizes}
    return {record["n_patients"]: record for record in json.loads(finished.stdout.strip().splitlines()[-1])}


def measure_floor_and_builds(workbooks: dict[int, dict[str, Any]], repeats_small: int, scratch: Path,
                             timeout_s: float) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The floor and every build; the floor and the example alternate, so load from elsewhere hits both alike."""
    sizes = sorted(workbooks)
    builds: list[dict[str, Any]] = [{"ok": False, **record} for record in workbooks.values() if "error" in record]
    workbooks = {size: record for size, record in workbooks.items() if "error" not in record}

    floor_runs: list[dict[str, Any]] = []
    example_runs: list[dict[str, Any]] = []
    for attempt in range(repeats_small):
        _log(f"floor and example build, round {attempt + 1} of {repeats_small} ...")
        floor_runs.append(floor_once(scratch))
        if EXAMPLE_SIZE in workbooks:
            example_runs.append(build_once(Path(workbooks[EXAMPLE_SIZE]["path"]), scratch / f"example-{attempt}", timeout_s))
            if not example_runs[-1]["ok"]:
                break

    for size in sizes:
        if size not in workbooks:
            continue
        if size == EXAMPLE_SIZE:
            runs = example_runs
        else:
            repeats = repeats_small if size <= 10_000 else 1
            runs = []
            for attempt in range(repeats):
                _log(f"build, {size:,} patients, run {attempt + 1} of {repeats} ...")
                runs.append(build_once(Path(workbooks[size]["path"]), scratch / f"build-{size}-{attempt}", timeout_s))
                if not runs[-1]["ok"]:
                    break
        builds.append({"n_patients": size, "workbook": workbooks[size], **best_run(runs)})
    builds.sort(key=lambda build: build["n_patients"])
    return best_run(floor_runs), builds


def measure_stats(n_patients: int, workbook: dict[str, Any], repeats: int) -> dict[str, Any]:
    if "error" in workbook:
        return {"ok": False, "n_patients": n_patients, "error": workbook["error"]}
    run = run_measured([sys.executable, "-m", "bench.stats_vs_tableone", workbook["path"], "--repeats", str(repeats)])
    if run.returncode != 0:
        return {"ok": False, "n_patients": n_patients, "error": _error_tail(run)}
    return {"ok": True, **json.loads(run.stdout.strip().splitlines()[-1])}


# --- the verdicts -----------------------------------------------------------------------------


def _verdict(measure: str, target: str, value: float | None, limit: float, shown: str) -> dict[str, Any]:
    if value is None:
        return {"measure": measure, "target": target, "measured": "not measured", "status": "not measured"}
    met = value <= limit
    status = "met" if met else f"missed by {value / limit - 1:.0%}"
    return {"measure": measure, "target": target, "measured": shown, "value": value, "limit": limit, "status": status}


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    builds = {b["n_patients"]: b for b in results["builds"] if b.get("ok")}
    floor = results["floor"]
    verdicts = []

    example = builds.get(EXAMPLE_SIZE)
    ratio = example["wall_s"] / floor["wall_s"] if example and floor.get("ok") else None
    verdicts.append(_verdict("example build / floor (wall)", f"<= {FLOOR_RATIO_MAX}", ratio, FLOOR_RATIO_MAX,
                             f"{ratio:.2f} ({example['wall_s']:.2f} s / {floor['wall_s']:.2f} s)" if ratio else ""))
    cpu_ratio = example["cpu_s"] / floor["cpu_s"] if example and floor.get("ok") else None
    verdicts.append(_verdict("example build / floor (CPU)", f"<= {FLOOR_RATIO_MAX}", cpu_ratio, FLOOR_RATIO_MAX,
                             f"{cpu_ratio:.2f} ({example['cpu_s']:.2f} s / {floor['cpu_s']:.2f} s)" if cpu_ratio else ""))

    help_s = results["help"]["best_s"] if results["help"].get("ok") else None
    verdicts.append(_verdict("reportgen --help", f"<= {HELP_MAX_S} s", help_s, HELP_MAX_S, f"{help_s:.3f} s" if help_s else ""))

    large = builds.get(LARGE_SIZE)
    verdicts.append(_verdict("100,000 patients: wall", f"<= {LARGE_WALL_MAX_S:g} s", large and large["wall_s"],
                             LARGE_WALL_MAX_S, f"{large['wall_s']:.2f} s" if large else ""))
    verdicts.append(_verdict("100,000 patients: peak memory", "<= 2 GiB", large and large["peak_rss_bytes"],
                             LARGE_RSS_MAX_BYTES, f"{large['peak_rss_bytes'] / 1024**2:,.0f} MiB" if large else ""))
    pdf = large.get("pdf_bytes") if large else None
    verdicts.append(_verdict("100,000 patients: PDF size", "<= 2 MB", pdf, LARGE_PDF_MAX_BYTES,
                             f"{pdf / 1e6:.2f} MB" if pdf else ""))

    small = builds.get(GROWTH_FROM)
    growth = large["wall_s"] / small["wall_s"] if large and small else None
    verdicts.append(_verdict("growth: wall(100k) / wall(1k)", "<= 100 (linear)", growth, 100.0,
                             f"{growth:.1f}" if growth else ""))
    # Start-up, imports and the one-page-or-so PDF are fixed costs that make the ratio above easy to
    # meet; the stages that read and compute on every row must be linear on their own.
    data_stages = ("load", "validate", "derive", "analyse")
    if large and small:
        data_large = sum(large["stages_s"].get(stage, 0.0) for stage in data_stages)
        data_small = sum(small["stages_s"].get(stage, 0.0) for stage in data_stages)
        data_growth = data_large / data_small if data_small > 0 else None
        verdicts.append(_verdict("growth: load..analyse stages, 100k / 1k", "<= 100 (linear)", data_growth, 100.0,
                                 f"{data_growth:.1f} ({data_large:.2f} s / {data_small:.2f} s)" if data_growth else ""))
    stats = [s for s in results["stats"] if s.get("ok")]
    if stats:
        worst = max(stats, key=lambda s: s["ratio"])
        verdicts.append(_verdict("statistics stage / tableone", f"<= {STATS_RATIO_MAX}", worst["ratio"], STATS_RATIO_MAX,
                                 f"{worst['ratio']:.2f} (worst, at {worst['n_patients']:,} patients)"))
    else:
        verdicts.append(_verdict("statistics stage / tableone", f"<= {STATS_RATIO_MAX}", None, STATS_RATIO_MAX, ""))
    return verdicts


# --- the report -------------------------------------------------------------------------------


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    lines = ["  ".join(str(cell).rjust(width) if i else str(cell).ljust(width)
                       for i, (cell, width) in enumerate(zip(row, widths))) for row in (header, *rows)]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def format_report(results: dict[str, Any]) -> str:
    machine = results["machine"]
    parts = [
        f"reportgen benchmarks, {results['when']}, commit {results['commit']}",
        f"machine: {machine['cpu']}, {machine['cpus']} CPUs, {machine['memory_gib']:.0f} GiB; "
        f"Python {machine['python']}; {machine['platform']}",
        "load average before/after: " + ", ".join(f"{a:.1f}" for a in results["load_average_before"]) + " / "
        + ", ".join(f"{a:.1f}" for a in results["load_average_after"])
        + ("  (other work was running: wall times are inflated, compare the ratios)" if max(results["load_average_before"][0], results["load_average_after"][0]) > 1.2 else ""),
        f"python -c pass: {results['python_startup_s']:.3f} s   "
        + (f"floor (3 tables, 3 figures, PDF): {results['floor']['wall_s']:.2f} s wall, "
           f"{results['floor']['cpu_s']:.2f} s CPU, {results['floor']['peak_rss_bytes'] / 1024**2:.0f} MiB"
           if results["floor"].get("ok") else f"floor FAILED: {results['floor'].get('error')}"),
        "",
    ]
    stages_seen = [s for s in STAGES if any(s in b.get("stages_s", {}) for b in results["builds"])]
    header = ["patients", "visits", "wall s", "CPU s", "peak MiB", "PDF KB", *stages_seen, "outside"]
    rows = []
    failures = []
    for build in results["builds"]:
        visits = build.get("workbook", {}).get("n_visits")
        if not build.get("ok"):
            rows.append([f"{build['n_patients']:,}", f"{visits:,}" if visits else "-", "FAILED", *["" for _ in header[3:]]])
            failures.append(f"{build['n_patients']:,} patients: {build['error']}")
            continue
        stages = build["stages_s"]
        rows.append([
            f"{build['n_patients']:,}",
            f"{visits:,}" if visits else "-",
            f"{build['wall_s']:.2f}",
            f"{build['cpu_s']:.2f}",
            f"{build['peak_rss_bytes'] / 1024**2:,.0f}",
            f"{build['pdf_bytes'] / 1000:,.0f}" if build.get("pdf_bytes") else "-",
            *(_seconds(stages.get(stage)) for stage in stages_seen),
            f"{build['outside_stages_s']:.2f}",
        ])
    parts.append("End-to-end builds, fastest run (stage columns: wall seconds per stage; 'outside': start-up, imports and")
    parts.append("anything else outside the stage timer)")
    parts.append(_table(header, rows))
    for failure in failures:
        parts.append("  " + failure.replace("\n", "\n    "))

    if results["stats"]:
        parts.append("")
        parts.append("Statistics stage vs tableone (same follow-up data, Kruskal-Wallis / chi-square by quartile)")
        stat_rows = []
        for stats in results["stats"]:
            if not stats.get("ok"):
                stat_rows.append([f"{stats['n_patients']:,}", "FAILED", "", "", ""])
                continue
            stat_rows.append([
                f"{stats['n_patients']:,}",
                f"{stats['analyse_s'] * 1000:,.1f}",
                f"{stats['tableone_s'] * 1000:,.1f}",
                f"{stats['ratio']:.2f}",
                "-" if stats["max_p_difference"] is None else f"{stats['max_p_difference']:.1e}",
            ])
        parts.append(_table(["patients", "analyse ms", "tableone ms", "ratio", "max |p diff|"], stat_rows))
        for stats in results["stats"]:
            if not stats.get("ok"):
                parts.append(f"  {stats['n_patients']:,} patients: {stats['error']}".replace("\n", "\n    "))

    parts.append("")
    parts.append("Targets (issue 7)")
    parts.append(_table(["measure", "target", "measured", "status"],
                        [[t["measure"], t["target"], t["measured"], t["status"]] for t in results["targets"]]))
    return "\n".join(parts)


def _machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    memory = 0.0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = int(line.split()[1]) / 1024**2
    except OSError:
        pass
    from importlib.metadata import PackageNotFoundError, version

    libraries = {}
    for name in ("pandas", "numpy", "scipy", "pandera", "matplotlib", "jinja2", "weasyprint", "python-calamine", "tableone"):
        try:
            libraries[name] = version(name)
        except PackageNotFoundError:
            libraries[name] = None
    return {"cpu": cpu, "cpus": os.cpu_count(), "memory_gib": memory, "python": platform.python_version(),
            "platform": platform.platform(terse=True), "libraries": libraries}


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, check=True)
        return head.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _sizes(text: str) -> list[int]:
    try:
        return [int(part.strip().replace("_", "").lower().replace("k", "000")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--sizes wants numbers separated by commas, e.g. 34,1000 (got {text!r})") from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=_sizes, default=list(SIZES), help="cohort sizes, e.g. 34,1000 (default: all)")
    parser.add_argument("--quick", action="store_true", help="one run of everything instead of best of several")
    parser.add_argument("--timeout", type=float, default=900, help="seconds after which a build is stopped (default 900)")
    parser.add_argument("--json", type=Path, default=RESULTS / "latest.json", help="where to write the results")
    args = parser.parse_args(argv)

    # Best of 3 where start-up noise matters (floor, example, 1k); one run of the big ones.
    small_repeats = 1 if args.quick else 3
    results: dict[str, Any] = {
        "when": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "commit": _commit(),
        "machine": _machine(),
        "options": {"sizes": args.sizes, "quick": args.quick},
    }
    with tempfile.TemporaryDirectory(prefix="reportgen-bench-") as scratch_name:
        scratch = Path(scratch_name)
        _log("interpreter start-up and reportgen --help ...")
        results["load_average_before"] = os.getloadavg()
        results["python_startup_s"] = measure_python_startup(2 if args.quick else 5)
        results["help"] = measure_help(2 if args.quick else 5)
        _log("finding or generating the cohort workbooks ...")
        workbooks = prepare_workbooks(args.sizes)
        results["floor"], results["builds"] = measure_floor_and_builds(workbooks, small_repeats, scratch, args.timeout)
        results["stats"] = []
        for size in args.sizes:
            _log(f"statistics vs tableone, {size:,} patients ...")
            repeats = 1 if args.quick else (5 if size <= 10_000 else 2)
            results["stats"].append(measure_stats(size, workbooks[size], repeats))
        results["load_average_after"] = os.getloadavg()
        # Should stay far below the builds' peaks, or a forked child could report the parent's instead.
        results["bench_process_peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    results["targets"] = targets(results)

    print(format_report(results))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    _log(f"wrote {args.json}")
    # Missed targets are findings, not failures; a measurement that could not be taken is a failure.
    failed = [b for b in results["builds"] if not b.get("ok")] + [s for s in results["stats"] if not s.get("ok")]
    return 1 if failed or not results["floor"].get("ok") or not results["help"].get("ok") else 0


if __name__ == "__main__":
    sys.exit(main())
