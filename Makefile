# The two commands: `make run` and `make test`. Everything else is a helper for them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DATA ?=
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint bench install format clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) -m open287g db up
	$(PY) -m open287g db migrate
ifeq ($(strip $(DATA)),)
	$(PY) -m open287g load ice-287g --demo-if-offline
else
	$(PY) -m open287g load ice-287g $(DATA)
endif
	$(PY) -m open287g serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

bench: $(STAMP)
	$(PY) -m load_tests.bench_ice_load
	$(PY) -m load_tests.bench_detainer_load
	$(PY) -m load_tests.bench_http
	$(PY) -m load_tests.bench_export
	$(PY) -m load_tests.bench_locust
	$(PY) -m load_tests.bench_hostile

format: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

clean:
	-$(PY) -m open287g db down
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
