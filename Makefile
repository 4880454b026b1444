# Two commands for a newcomer: `make run` and `make test`. Both create .venv and install
# the project on first use, and start PostgreSQL and Redis themselves (see tools/devenv.py)
# unless DATABASE_URL and REDIS_URL are set.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEVENV := $(BIN)/python tools/devenv.py
ARGS ?=
# pytest-xdist workers: one per core (at most 8), each with a test database of its own. A
# worker more than the cores was slower on two cores (15:00 against 12:37 for the suite):
# PostgreSQL, the browser and the Celery workers the tests start need the cores too.
# `make test TEST_WORKERS=0` runs in one process (e.g. for a debugger).
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print(os.cpu_count() or 1)')

.DEFAULT_GOAL := help
.PHONY: help install run test lint fmt shell migrations-check bench soak

help:
	@echo "make run               migrate, seed demo data, serve on http://127.0.0.1:$${PORT:-8000} with worker and beat"
	@echo "make test [ARGS=...]   ruff, the import layering, migrations check, pytest in parallel (ARGS go to pytest)"
	@echo "make lint / make fmt   ruff check and format check / fix and format"
	@echo "make shell             Django shell with the development servers"
	@echo "make migrations-check  fail if models changed without a migration"
	@echo "make bench [ARGS=...]  every benchmark in bench/, each beside a same-run baseline, one table"
	@echo "make soak [ARGS=...]   30 minutes of mixed traffic: server errors, p95 drift, memory"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
		echo "error: Python >= 3.11 is required; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)." >&2; \
		echo "       Install it, then e.g.: make PYTHON=python3.11 $(MAKECMDGOALS)" >&2; \
		exit 1; }
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml changed since the last install.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -e ".[dev]"
	@touch $@

install: $(STAMP)

run: $(STAMP)
	$(DEVENV) run

test: $(STAMP)
	$(BIN)/ruff check .
	PYTHONPATH=. $(BIN)/lint-imports --no-cache
	$(DEVENV) exec -- python manage.py makemigrations --check --dry-run
	$(DEVENV) test -n $(TEST_WORKERS) --maxprocesses 8 --dist loadgroup $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

shell: $(STAMP)
	$(DEVENV) exec -- python manage.py shell

migrations-check: $(STAMP)
	$(DEVENV) exec -- python manage.py makemigrations --check --dry-run

bench: $(STAMP)
	$(DEVENV) exec -- python bench/run.py $(ARGS)

soak: $(STAMP)
	$(DEVENV) exec -- python bench/soak.py $(ARGS)
