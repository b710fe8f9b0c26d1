# keepscore — the two commands: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
KS := $(VENV)/bin/keepscore
HOST ?= 127.0.0.1
PORT ?= 8000
# pytest arguments for both database runs, e.g. `make test PYTEST_ARGS="-k lead -x"`
PYTEST_ARGS ?=
# pytest-xdist workers, one per core; PYTEST_WORKERS=0 runs serially
PYTEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
# Python keeps the bytecode of what it compiled (__pycache__, ignored by git) even where the
# environment says not to: each test worker and each `keepscore` the tests start would compile
# the app and rewrite the tests' asserts again (about 5 s per worker, 0.2 s per command)
export PYTHONDONTWRITEBYTECODE :=

.PHONY: demo serve install install-test system-deps node-deps vendor lint typecheck check test test-sqlite test-postgres bench bench-postgres clean

## make demo: virtual environment, dependencies, database, demo data, then serve on $(HOST):$(PORT)
## (the web app and its background worker: keepscore serve starts both)
demo: install
	$(KS) migrate
	$(KS) demo
	$(KS) serve --host $(HOST) --port $(PORT)

serve: install
	$(KS) serve --host $(HOST) --port $(PORT)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e '.[test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## Debian packages the tests need: a PostgreSQL server and Chromium for the browser tests
system-deps:
	@bash scripts/system-deps.sh

## npm packages (package.json, package-lock.json): axe-core for the browser tests' accessibility
## checks, and the front-end files the app serves (vendored under src/keepscore/static/vendor/)
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

node-deps: node_modules/.installed

## make vendor: copy the front-end packages the app serves from node_modules (after a version bump)
vendor: node-deps
	cp node_modules/sortablejs/Sortable.min.js node_modules/sortablejs/LICENSE src/keepscore/static/vendor/sortablejs/

lint: install-test
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/ruff format --check src tests benchmarks scripts
	$(VENV)/bin/lint-imports

typecheck: install-test
	$(VENV)/bin/mypy

check: install-test
	KEEPSCORE_HOME=$$(mktemp -d) $(PY) -m django check --settings keepscore.config.test_settings
	KEEPSCORE_HOME=$$(mktemp -d) $(PY) -m django makemigrations --check --dry-run --settings keepscore.config.test_settings

test-sqlite: install-test system-deps node-deps
	KEEPSCORE_HOME=$$(mktemp -d) DATABASE_URL= $(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

## autovacuum off: the tests write inside transactions it never sees, and the statistics it
## took of one test's committed rows (a table analyzed nearly empty) steered the plans of the
## tests after it: nested loops over thousands of rows, a test 6 s alone took 76 s in the run
test-postgres: install-test system-deps node-deps
	KEEPSCORE_HOME=$$(mktemp -d) PG_SERVER_OPTIONS="-c autovacuum=off" \
	  bash scripts/with-postgres.sh $(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

## make test: lint, types, Django checks, then the whole suite on SQLite and on PostgreSQL
test: install-test system-deps node-deps lint typecheck check test-sqlite test-postgres
	@echo "make test: all green (SQLite and PostgreSQL)"

## make bench: the benchmarks (not tests): they print figures to quote, and
## benchmarks/scale.py writes benchmarks/results.json, benchmarks/chart.py draws it
## (docs/bench.svg) and prints the README's table. `make bench BENCH_SIZES=10000`;
## on PostgreSQL: `bash scripts/with-postgres.sh make bench` (scale.py honours DATABASE_URL)
BENCH_SIZES ?= 10000 100000 1000000
# more arguments for benchmarks/scale.py, e.g. BENCH_ARGS=--keep
BENCH_ARGS ?=

$(VENV)/.installed-bench: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e '.[bench]'
	touch $(VENV)/.installed $@

bench: $(VENV)/.installed-bench
	$(PY) benchmarks/backtest.py
	$(PY) benchmarks/import_speed.py $(BENCH_SIZES)
	$(PY) benchmarks/scale.py $(BENCH_SIZES) $(BENCH_ARGS)
	$(PY) benchmarks/chart.py
	$(PY) benchmarks/chart.py --table

## make bench-postgres: the first large import on a new PostgreSQL database against one whose
## tables hold rows, and after a rolled-back import (a throwaway server, scripts/with-postgres.sh;
## benchmarks/import_speed.py --postgres writes benchmarks/import_pg.json). Not part of make test
BENCH_PG_SIZES ?= 30000

bench-postgres: $(VENV)/.installed-bench
	bash scripts/with-postgres.sh $(PY) benchmarks/import_speed.py --postgres $(BENCH_PG_SIZES)

clean:
	rm -rf $(VENV) node_modules .mypy_cache .ruff_cache .pytest_cache test-artifacts
