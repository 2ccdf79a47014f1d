# CivicGrid — the commands a user has. `make run` and `make test` do all the set-up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
# Demo mode: the demo county and its logins. Set CIVICGRID_DEMO=false for a real bureau.
export CIVICGRID_DEMO ?= true

.PHONY: run setup test test-sqlite test-postgres bench lint clean

run: setup
	$(MANAGE) migrate --noinput
	@if [ "$$CIVICGRID_DEMO" = "true" ]; then $(MANAGE) demo --if-empty; fi
	$(MANAGE) collectstatic --noinput --verbosity 0
	@exec bin/serve

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The suite runs on SQLite always, and on PostgreSQL too when DATABASE_URL points at one.
# The deployment tests use Redis on 127.0.0.1:6379 (Celery) and start a SeaweedFS server (S3);
# without them they skip and say why (-rs); CI sets CIVICGRID_TEST_REQUIRE_SERVICES=true.
test: setup
	$(MANAGE) makemigrations --check --dry-run
	$(MAKE) --no-print-directory test-sqlite
	@if [[ "$${DATABASE_URL:-}" == postgres* ]]; then $(MAKE) --no-print-directory test-postgres; \
	else echo "DATABASE_URL is not a PostgreSQL URL: the PostgreSQL run is skipped (CI always sets one)."; fi

# A deployment's environment (docs/deploy.md) in the shell must not move the tests onto its
# broker, bucket or replica: the tests that need those servers start or name their own.
TEST_ENV := env -u CELERY_BROKER_URL -u CELERY_RESULT_BACKEND -u CIVICGRID_STORAGE \
	-u CIVICGRID_READ_REPLICA_URL -u CIVICGRID_MEDIA_ACCEL_REDIRECT

test-sqlite:
	@echo "== Test suite on SQLite =="
	$(TEST_ENV) -u DATABASE_URL $(PY) -m pytest -q -rs -n 2

test-postgres:
	@echo "== Test suite on PostgreSQL ($${DATABASE_URL%%@*}@…) =="
	$(TEST_ENV) $(PY) -m pytest -q -rs -n 2

bench: setup
	$(MANAGE) migrate --noinput --verbosity 0
	$(PY) -m civicgrid.bench

lint: setup
	$(VENV)/bin/ruff check civicgrid

clean:
	rm -rf $(VENV) node_modules var/static
