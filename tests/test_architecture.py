"""Rules that hold across modules: no module changes the process environment, and the PDF worker does not
import the report renderer (issue #11)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "reportgen"
# Methods of os.environ that change it.
ENVIRON_WRITES = {"update", "setdefault", "pop", "popitem", "clear", "__setitem__", "__delitem__"}


def _is_environ(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr in ("environ", "environb")) or (
        isinstance(node, ast.Name) and node.id in ("environ", "environb")
    )


def environment_writes(source: str) -> list[int]:
    """Lines of ``source`` that assign, delete or update os.environ, or call os.putenv / os.unsetenv."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        targets: list[ast.AST] = []
        if isinstance(node, (ast.Assign, ast.Delete)):
            targets = list(node.targets)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        if any(isinstance(target, ast.Subscript) and _is_environ(target.value) for target in targets):
            lines.append(node.lineno)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in ENVIRON_WRITES and _is_environ(node.func.value):
                lines.append(node.lineno)
            if node.func.attr in ("putenv", "unsetenv"):
                lines.append(node.lineno)
    return sorted(lines)


def test_the_environment_write_finder_finds_every_form() -> None:
    source = """import os
os.environ["A"] = "1"
del os.environ["A"]
os.environ.update(A="1")
os.environ.pop("A", None)
os.putenv("A", "1")
value = os.environ.get("A")
env = {**os.environ, "A": "1"}
"""
    assert environment_writes(source) == [2, 3, 4, 5, 6]


# The one write allowed, and where: pandera reads its PANDERA_* variables once, while it is imported, and a
# value it cannot parse fails that import; validate.py hides them for the import and puts them back at once
# (test_importing_validation_leaves_the_environment_as_it_was checks the net effect).
HIDES_PANDERA_SETTINGS = ("validate.py", "_environment_without_pandera_settings")


def _lines_of_function(source: str, name: str) -> set[int]:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return set(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return set()


@pytest.mark.parametrize("module", sorted(path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*.py")))
def test_no_module_changes_the_process_environment(module: str) -> None:
    # The environment is read once, at the command line (reportgen.cli), into the BuildRequest.
    source = (PACKAGE / module).read_text(encoding="utf-8")
    allowed = _lines_of_function(source, HIDES_PANDERA_SETTINGS[1]) if module == HIDES_PANDERA_SETTINGS[0] else set()
    assert [line for line in environment_writes(source) if line not in allowed] == []


def test_importing_validation_leaves_the_environment_as_it_was() -> None:
    script = (
        "import os, json; before = dict(os.environ); import reportgen.validate; "
        "print(json.dumps(dict(os.environ) == before and os.environ.get('PANDERA_VALIDATION_DEPTH')))"
    )
    environment = {**os.environ, "PANDERA_VALIDATION_DEPTH": "garbage", "PANDERA_USE_NARWHALS_BACKEND": "True"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment, check=True)
    assert result.stdout.strip() == '"garbage"'


@pytest.mark.parametrize("module", ["reportgen.pdf_worker", "reportgen.pdf_job", "reportgen.pdf"])
def test_the_pdf_side_does_not_import_the_report_renderer(module: str) -> None:
    # The worker process imports pdf_worker, pdf_job and pdf (and runs the warm-up); render and narrative
    # (and what they import) have no business there.
    code = (
        f"import sys, {module}\n"
        "from reportgen import pdf_worker\n"
        "pdf_worker.warm_up()\n"
        "print(' '.join(sorted(name for name in sys.modules if name.startswith('reportgen'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    imported = set(done.stdout.split())
    assert module in imported
    assert not imported & {"reportgen.document", "reportgen.exporters.html", "reportgen.narrative", "reportgen.formatting"}, imported
