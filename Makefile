# Every target creates its own virtual environment: nothing relies on what happens to be installed.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck check bench serve clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lint,bench,docs]'
	touch $(STAMP)

demo: $(STAMP)  ## harvest the embedded emulator's 12,000 locations to locations.ndjson
	$(BIN)/paren-async demo

test: $(STAMP)  ## the whole test suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check paren_async tests benchmarks examples
	$(BIN)/ruff format --check paren_async tests benchmarks examples

typecheck: $(STAMP)
	$(BIN)/mypy

check: test lint typecheck

bench: $(STAMP)  ## reproduce benchmarks/RESULTS.md
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

serve: $(STAMP)
	$(BIN)/paren-async serve

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache locations.ndjson
