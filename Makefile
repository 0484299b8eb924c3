# The README's two commands: `make report` builds the example report, `make test` runs every test.
# Both create their own virtual environment (.venv) on first use.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: report test test-all bench example sysdeps clean

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

test: $(BIN)/.installed sysdeps
	$(BIN)/python -m pytest -q

test-all: $(BIN)/.installed sysdeps
	$(BIN)/python -m pytest -q -m ''

bench: $(BIN)/.installed
	$(BIN)/python -m bench

example: $(BIN)/.installed
	$(BIN)/python -m tools.example input/cohort.xlsx

clean:
	rm -rf $(VENV) dist build
