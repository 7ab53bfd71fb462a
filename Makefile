# The two commands: `make run` and `make test`. Everything else is a helper for them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DATA ?=
# The policy CSV(s) the README examples need: DATA/policies/, policies/ beside DATA, or the
# shared file when it is beside the project; empty on a fresh machine (the step is skipped).
ICE_DATA = $(if $(wildcard $(DATA)/ice-287g),$(DATA)/ice-287g,$(DATA))
POLICIES ?= $(or \
	$(if $(strip $(DATA)),$(wildcard $(DATA)/policies/*.csv)), \
	$(if $(strip $(DATA)),$(wildcard $(dir $(abspath $(DATA)))policies/*.csv)), \
	$(wildcard ../shared/data/policies/*.csv))
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint bench fuzz install format clean moa-eval mutate

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,ocr]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) -m open287g db up
	$(PY) -m open287g db migrate
ifeq ($(strip $(DATA)),)
	$(PY) -m open287g load ice-287g --demo-if-offline
else
	$(PY) -m open287g load ice-287g $(ICE_DATA)
endif
	@for policies in $(POLICIES); do $(PY) -m open287g load policies "$$policies" || exit 1; done
	$(PY) -m open287g serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(PY) -m pytest

# The GraphQL differential test with many more generated queries than `make test` runs, and
# the disclosure attacker asking every combination through both APIs and every month range.
fuzz: $(STAMP)
	OPEN287G_FUZZ_EXAMPLES=$${OPEN287G_FUZZ_EXAMPLES:-3000} $(PY) -m pytest tests/graphql/test_graphql_differential.py
	OPEN287G_DISCLOSURE_EXHAUSTIVE=1 $(PY) -m pytest tests/db/test_disclosure.py

# The MOA extractor against every labelled MOA (dev and test sets, OCR memoised in
# .moa-eval/): slow the first time (about 500 scanned pages), so not part of `make test`.
moa-eval: $(STAMP)
	$(PY) -m open287g.loaders.moas.evaluate

# Mutation testing of the core logic modules (tools/mutate.py): a seeded random sample of
# each module's mutants against the fast tests that call it; not part of `make test`.
# MUTATE_ARGS: e.g. --sample 100 --seed 7, or one module's path.
mutate: $(STAMP)
	nice -n 15 $(PY) tools/mutate.py $(MUTATE_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(PY) -m load_tests.bench_ice_load
	$(PY) -m load_tests.bench_detainer_load
	$(PY) -m load_tests.bench_detainer_stats
	$(PY) -m load_tests.bench_http
	$(PY) -m load_tests.bench_export
	$(PY) -m load_tests.bench_locust
	$(PY) -m load_tests.bench_moas
	$(PY) -m load_tests.bench_hostile
	$(PY) -m load_tests.bench_scale
	$(PY) -m load_tests.bench_compiled

format: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

clean:
	-$(PY) -m open287g db down
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
