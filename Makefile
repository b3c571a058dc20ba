# Everyday commands. `make run` needs nothing but Python 3.11: SQLite, local-memory cache, eager tasks
# and the scheduled jobs in-process.
# `make test` and `make lint` use whatever DATABASE_URL / REDIS_URL the environment sets.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed-pyproject
PYTEST_WORKERS ?= auto
SQLITE_DB := $(or $(SQLITE_PATH),db.sqlite3)
HOST_PORT ?= 127.0.0.1:8000

# The embedded set-up: no PostgreSQL, Redis or worker, whatever the shell exports.
EMBEDDED := DATABASE_URL= REDIS_URL= CELERY_BROKER_URL= DJANGO_SETTINGS_MODULE=storefront.settings.base

.PHONY: run test lint demo-reset demo install help

help:
	@echo "make run         install, migrate SQLite, load the demo world, serve on $(HOST_PORT)"
	@echo "make test        the whole suite in parallel (PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set)"
	@echo "make lint        ruff and the import-linter layer contracts"
	@echo "make demo-reset  delete the SQLite database and load the demo world again"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml changes.
$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

install: $(INSTALLED)

demo: install
	$(EMBEDDED) $(BIN)/python manage.py migrate --noinput
	$(EMBEDDED) $(BIN)/python manage.py load_demo

run: demo
	$(EMBEDDED) $(BIN)/python manage.py run_embedded $(HOST_PORT)

demo-reset: install
	rm -f $(SQLITE_DB)
	$(MAKE) demo

test: install
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# Both checks run, so one report shows every finding.
lint: install
	@status=0; \
	$(BIN)/ruff check . || status=1; \
	$(BIN)/lint-imports || status=1; \
	exit $$status
