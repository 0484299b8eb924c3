"""Command line: parse arguments, call the pipeline, turn reportgen's own errors into a message and an exit code.

Heavy libraries (pandas, scipy, matplotlib, weasyprint) are imported inside the commands so that
``reportgen --help`` answers at once.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from reportgen import __version__, interrupts
from reportgen.errors import ReportgenError, UsageError, WorkbookInvalid
from reportgen.terminal import prepare_streams, say, shown, shown_lines


VERIFY_EXIT_CODES = """exit codes:
  0  verified: every file was rebuilt byte for byte identical
  1  mismatch: a file differs from its manifest or its rebuild, or the manifest is unusable
  2  usage: the folder is not a build folder
  3  not fully verified: nothing else differs, but report.pdf differs from its rebuild and was made with
     other versions of Python, WeasyPrint or its libraries, which may explain it (its text and attached
     files were compared and matched); the message names the versions to install to check it byte for byte
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reportgen",
        description="Turn a cohort workbook into a publication-ready, audit-ready HTML and PDF report.",
    )
    parser.add_argument("--version", action="version", version=f"reportgen {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    validate = commands.add_parser("validate", help="check a cohort workbook against the contract; writes nothing")
    validate.add_argument("workbook", type=Path, help="the cohort workbook (.xlsx)")

    build = commands.add_parser("build", help="validate, analyse and write the report into a new build folder")
    build.add_argument("workbook", type=Path, help="the cohort workbook (.xlsx)")
    build.add_argument("--out", type=Path, default=Path("output"), help="folder that receives build folders (default: output)")
    build.add_argument("--templates", type=Path, default=None, help="folder of templates overriding the built-in ones")
    build.add_argument("--published", type=Path, default=None, help="YAML of an abstract's printed numbers to check")
    build.add_argument("--no-pdf", action="store_true", help="skip the PDF (HTML and results only)")
    build.add_argument(
        "--formats",
        default=None,
        metavar="LIST",
        help="comma-separated outputs to write, of html, pdf, docx (Word), figures (journal figure "
        "files: PDF, 600 dpi TIFF and PNG); default: all. results.json, abstract.txt and the SVG "
        "figures are always written",
    )
    build.add_argument(
        "--draft", action="store_true", help="a 'draft, not for submission' header on every page, the build stamp on the title page"
    )
    build.add_argument("--quiet", action="store_true", help="no progress messages")

    template = commands.add_parser("template", help="write an empty, well-formed cohort workbook to start from")
    template.add_argument("path", type=Path, help="where to write the .xlsx (must not exist)")

    verify = commands.add_parser(
        "verify",
        help="check an archived build against its manifest and a rebuild",
        description="Check every file of a build folder against its manifest, then rebuild it from the archived\n"
        "inputs and compare byte for byte. Reads nothing outside the build folder.",
        epilog=VERIFY_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verify.add_argument("folder", type=Path, help="a build folder written by 'reportgen build'")
    verify.add_argument("--quiet", action="store_true", help="no progress messages")
    return parser


def _print_problems(error: WorkbookInvalid) -> None:
    from reportgen.problems_table import format_problems

    say(format_problems(error.problems, error.warnings), sys.stderr)


def _warning_summary(folder: Path) -> str:
    """One line for stderr after a build with warnings about the workbook: how many, the first, where all are."""
    import json

    from reportgen.model import Problem
    from reportgen.document import WARNINGS_CSV

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    warnings = [Problem(**warning) for warning in manifest["warnings"]]
    if not warnings:
        return ""
    noun = "warning" if len(warnings) == 1 else "warnings"
    first = "" if len(warnings) == 1 else "first: "
    return (
        f"reportgen: {len(warnings)} {noun} about the workbook ({first}{shown(warnings[0].sentence())}); "
        f"all are in {shown(folder / WARNINGS_CSV)} and the report's Appendix"
    )


def main(argv: Sequence[str] | None = None) -> int:
    prepare_streams()  # before anything is printed, argparse's own messages included
    args = _parser().parse_args(argv)
    # SIGINT (Ctrl-C) and SIGTERM both become KeyboardInterrupt, except during a build's commit
    # (reportgen/interrupts.py).
    with interrupts.handled():
        return _run(args, list(argv) if argv is not None else sys.argv[1:])


def _run(args: argparse.Namespace, argv: list[str]) -> int:
    try:
        return _dispatch(args, argv)
    except WorkbookInvalid as error:
        _print_problems(error)
        say(f"reportgen: {shown(error)}; nothing was written.", sys.stderr)
        return error.exit_code
    except ReportgenError as error:
        # Messages name files and workbook text: shown() keeps their control characters off the terminal.
        say(f"reportgen: {shown_lines(error)}", sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return _interrupted(args)
    except Exception:
        if not interrupts.received():
            raise
        return _interrupted(args)  # the signal's KeyboardInterrupt, turned into another error by native code


def _interrupted(args: argparse.Namespace) -> int:
    interrupts.reporting()  # a second Ctrl-C while this is said changes nothing
    folder = interrupts.committed_folder() if args.command == "build" else None
    if folder is not None:
        say(f"reportgen: interrupted after the build was committed: {shown(folder)}", sys.stderr)
        return 130
    say("reportgen: interrupted; no build folder was left half-written.", sys.stderr)
    return 130


def _dispatch(args: argparse.Namespace, argv: list[str]) -> int:
    if args.command == "validate":
        from reportgen.pipeline import validate_only
        from reportgen.problems_table import format_problems

        cohort = validate_only(args.workbook)
        if cohort.warnings:
            say(format_problems((), cohort.warnings), sys.stderr)
        n_patients = len(cohort.patients)
        n_visits = len(cohort.visits)
        say(f"{shown(args.workbook)}: valid ({n_patients} patients, {n_visits} visits, {len(cohort.warnings)} warnings)")
        return 0

    if args.command == "build":
        import os

        from reportgen.pipeline import DEFAULT_FORMATS, BuildRequest, build, parse_formats, request_environment

        # Before anything is read or written: a bad --formats writes nothing.
        formats = parse_formats(args.formats) if args.formats is not None else DEFAULT_FORMATS
        progress = not args.quiet and sys.stderr.isatty()
        request = BuildRequest(
            **request_environment(os.environ),  # the one place reportgen reads its environment
            workbook=args.workbook,
            out_root=args.out,
            templates=args.templates,
            published=args.published,
            make_pdf=not args.no_pdf,
            formats=formats,
            draft=args.draft,
            command_line=("reportgen", *argv),
            progress=progress,
        )
        folder = build(request)
        interrupts.check()  # a signal whose KeyboardInterrupt was swallowed: not a success
        summary = _warning_summary(folder)
        if summary:
            say(summary, sys.stderr)
        if not args.quiet:
            from reportgen.narrative import ABSTRACT_FILE, abstract_counts

            counts = abstract_counts((folder / ABSTRACT_FILE).read_text(encoding="utf-8"))
            say(f"reportgen: {ABSTRACT_FILE}: {counts.sentence()}", sys.stderr)
        say(shown(folder))  # the last line: scripts and the README read the build folder from it
        return 0

    if args.command == "template":
        from reportgen.template_workbook import write_template

        if args.path.exists():
            raise UsageError(f"{args.path} already exists; choose a new file name")
        write_template(args.path)
        say(f"wrote an empty cohort workbook to {shown(args.path)}")
        return 0

    if args.command == "verify":
        from reportgen.verify import verify_build

        verify_build(args.folder, progress=not args.quiet and sys.stderr.isatty())
        say(f"{shown(args.folder)}: verified")
        return 0

    raise UsageError(f"unknown command {args.command}")  # pragma: no cover - argparse rejects it first


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
