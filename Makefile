# Every target creates its own virtual environment: nothing relies on what happens to be installed.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The demo needs only the client and its cli extra (the progress bar): a fresh clone gets there in
# seconds. A venv that already has everything (make test) serves the demo as it is.
DEMO_STAMP := $(VENV)/.installed-demo
DEMO_NEEDS := $(if $(wildcard $(STAMP)),$(STAMP),$(DEMO_STAMP))

.PHONY: demo test lint typecheck check bench serve clean docs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lint,bench,docs]'
	touch $(STAMP)

$(DEMO_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[cli]'
	touch $(DEMO_STAMP)

demo: $(DEMO_NEEDS)  ## harvest the embedded emulator's 12,000 locations into a new temporary directory
	$(BIN)/paren-async demo

test: $(STAMP)  ## the whole test suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check paren_async tests benchmarks examples
	$(BIN)/ruff format --check paren_async tests benchmarks examples

typecheck: $(STAMP)
	$(BIN)/mypy

check: test lint typecheck

docs: $(STAMP)  ## the documentation site into site/ (mkdocs --strict: a broken reference fails)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

bench: $(STAMP)  ## reproduce benchmarks/RESULTS.md
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

serve: $(STAMP)
	$(BIN)/paren-async serve

clean:
	rm -rf $(VENV) build dist site .pytest_cache .mypy_cache .ruff_cache locations.ndjson
