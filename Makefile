# The two commands a newcomer needs: `make demo` and `make test`.
# Both set up everything first: a virtualenv in .venv, the package with its
# test and emulator extras, and the Pulumi engine (see scripts/install-pulumi.sh).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The install script writes the folder holding `pulumi` here, so later
# targets can put it first on PATH without building anything again.
ENGINE_PATH_FILE := $(VENV)/pulumi-bin-dir
WITH_ENGINE := PATH="$$(cat $(ENGINE_PATH_FILE)):$$PATH"

.PHONY: setup engine demo test lint typecheck unit clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

engine: setup
	scripts/install-pulumi.sh > $(ENGINE_PATH_FILE)

lint: setup
	$(BIN)/ruff check pulumi_codemagic tests examples scripts
	$(BIN)/ruff format --check pulumi_codemagic tests examples scripts

typecheck: setup
	$(BIN)/mypy pulumi_codemagic

test: lint typecheck engine
	$(WITH_ENGINE) $(BIN)/pytest

unit: setup
	$(BIN)/pytest -m 'not e2e'

demo: engine
	$(WITH_ENGINE) $(BIN)/python scripts/demo.py

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache
