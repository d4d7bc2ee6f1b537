# Quick start: `make demo` runs the engine on the bundled rules; `make test` runs the suite.
# Both create .venv by themselves on a fresh machine.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

.PHONY: demo test fuzz lint fmt-check bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_TEST): $(BIN)/python pyproject.toml plugins/*/pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e plugins/policyengine-semver -e plugins/policyengine-prod-guard
	touch $@ $(STAMP_RUN)

demo: $(STAMP_RUN)
	@echo "== policyengine check rules/"
	$(BIN)/policyengine check rules/
	@echo
	@echo "== policyengine fmt --check rules/"
	$(BIN)/policyengine fmt --check rules/
	@echo
	@echo "== policyengine plan rules/ against the sample inventory rules/inventory.json"
	$(BIN)/policyengine plan --inventory rules/inventory.json --now 2026-12-04T00:00:00Z rules/
	@echo
	@echo "== policyengine apply rules/ to a loopback Image Builder endpoint (rate-limited, with faults)"
	$(BIN)/python -m policyengine.testing.demo rules/inventory.json rules/

test: $(STAMP_TEST)
	$(BIN)/python -m pytest
	$(BIN)/ruff check policyengine tests bench plugins
	$(BIN)/mypy
	$(BIN)/lint-imports

# The fuzz and fault suites with a larger budget (they also run, bounded, in `make test`).
fuzz: $(STAMP_TEST)
	HYPOTHESIS_PROFILE=fuzz POLICYENGINE_FAULT_ROUNDS=10 $(BIN)/python -m pytest -m "fuzz or faults"

bench: $(STAMP_TEST)
	$(BIN)/python bench/check_bench.py --write
	$(BIN)/python bench/plan_bench.py --write
	$(BIN)/python bench/apply_bench.py --write
	$(BIN)/python bench/compare_custodian.py --write

clean:
	rm -rf $(VENV) build dist *.egg-info
