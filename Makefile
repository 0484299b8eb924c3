# The README's two commands: `make report` builds the example report, `make test` runs every test.
# Both create their own virtual environment (.venv) on first use.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: report test test-all test-office bench example sysdeps office mutation clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@

report: $(BIN)/.installed
	$(BIN)/reportgen build input/cohort.xlsx

# System tools the tests use to look at the output: poppler (pdftotext, pdftoppm) and headless Chromium.
sysdeps:
	@command -v pdftotext >/dev/null && command -v chromium >/dev/null || \
	  { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils chromium >/dev/null; \
	    else echo "note: install poppler-utils and chromium for the PDF and browser tests"; fi; }

# LibreOffice Writer, only for the slow test that converts report.docx and reads its pages (tests/test_docx.py);
# not among `make test`'s sysdeps (a large install for CI). `make test-office` runs that test.
office:
	@command -v soffice >/dev/null || \
	  { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libreoffice-writer >/dev/null; \
	    else echo "note: install libreoffice-writer for the Word file's LibreOffice test"; fi; }

test-office: $(BIN)/.installed sysdeps office
	$(BIN)/python -m pytest -q -m slow tests/test_docx.py

test: $(BIN)/.installed sysdeps
	$(BIN)/python -m pytest -q

test-all: $(BIN)/.installed sysdeps
	$(BIN)/python -m pytest -q -m ''

bench: $(BIN)/.installed
	$(BIN)/python -m bench

# Mutation testing of the modules that compute numbers (docs/mutation-testing.md); slow, so not in CI.
# Configured in pyproject.toml [tool.mutmut]. Verdicts are kept in ./mutants, so a second run tests only
# what changed or was not yet tested. MUTANTS='reportgen.indices.*' narrows it to one module;
# MUTATION_CHILDREN=n runs n mutants at a time (default 1, polite on a shared machine).
MUTATION_CHILDREN ?= 1
MUTANTS           ?=

$(BIN)/.mutation: $(BIN)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test,bench,mutation]'
	touch $@

mutation: $(BIN)/.mutation
	nice -n 19 $(BIN)/mutmut run --max-children $(MUTATION_CHILDREN) $(MUTANTS)
	$(BIN)/mutmut results

example: $(BIN)/.installed
	$(BIN)/python -m tools.example input/cohort.xlsx

clean:
	rm -rf $(VENV) dist build mutants
