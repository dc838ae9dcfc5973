# Two commands do all set-up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Django 6 needs Python 3.12+: take the first interpreter that qualifies.
PYTHON ?= $(shell for p in python3.13 python3.12 $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 python3; do \
	if $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then echo $$p; break; fi; done)

.PHONY: install db db-stop static run test test-fast test-next lint format fuzz packages bench-packages bench bench-quick

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is required (Django 6)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet '.[dev]'
	@touch $@

# Start the embedded primary + standby (does nothing when DATABASE_URL is set).
db: install
	$(BIN)/python manage.py embedded_db start

db-stop: install
	$(BIN)/python manage.py embedded_db stop

# The admin's and the API docs' static files, served by WhiteNoise.
static: install
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0

# A fresh database gets the small demo set; its logins are printed (docs/ml-monitoring.md).
run: db static
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --if-empty
	DJANGO_SETTINGS_MODULE=config.settings.development exec $(BIN)/gunicorn config.wsgi \
		--bind 127.0.0.1:$(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Debian packages the suite drives: Chromium (the admin browser test), PgBouncer and Redis (the
# production topology drills); the benchmark's: wrk (the load generator) and Redis. Installed when
# missing (as root, as CI runs).
PACKAGES := /usr/bin/chromium:chromium /usr/sbin/pgbouncer:pgbouncer /usr/bin/redis-server:redis-server
BENCH_PACKAGES := /usr/bin/wrk:wrk /usr/bin/redis-server:redis-server
define install_missing
	@missing=""; for entry in $(1); do \
		[ -x "$${entry%%:*}" ] || missing="$$missing $${entry##*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
		else \
			echo "missing Debian packages:$$missing (sudo apt-get install$$missing)"; \
			exit 1; \
		fi; \
	fi
endef

packages:
	$(call install_missing,$(PACKAGES))

bench-packages:
	$(call install_missing,$(BENCH_PACKAGES))

test: db lint packages
	$(BIN)/pytest

# The inner loop: the suite without the production topology drills, stopping at the first failure.
test-fast: db
	$(BIN)/pytest -m "not topology" -x -q

# The suite (drills left out) against the newest Django and DRF releases, pre-releases included,
# in a virtualenv of its own (.venv-next): what the next upgrade would break, before it happens.
test-next: db
	@test -x .venv-next/bin/python || $(PYTHON) -m venv .venv-next
	.venv-next/bin/python -m pip install --quiet --upgrade pip
	.venv-next/bin/python -m pip install --quiet '.[dev]'
	.venv-next/bin/python -m pip install --quiet --upgrade --pre django djangorestframework
	.venv-next/bin/python -c 'import django, rest_framework; print("Django", django.__version__, "DRF", rest_framework.__version__)'
	.venv-next/bin/pytest -m "not topology" -q

# Many more schema-driven examples per operation than `make test` runs, with fresh randomness.
fuzz: db
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-150} FUZZ_RANDOM=1 $(BIN)/pytest core/tests/test_fuzz.py -q

# Benchmarks (docs/benchmarks.md): a separate database on the same servers; sizes from BENCH_*.
$(VENV)/.bench-installed: $(STAMP)
	$(BIN)/python -m pip install --quiet '.[dev,bench]'
	@touch $@

bench: db static bench-packages $(VENV)/.bench-installed
	$(BIN)/python -m bench

# About two minutes: a small data set, fewer repetitions (a smoke run, not figures to quote).
bench-quick: db static bench-packages $(VENV)/.bench-installed
	BENCH_DATABASE=analytics_bench_quick BENCH_SCALE=0.05 BENCH_REPEATS=7 BENCH_WARMUP=2 \
		BENCH_LOAD_SECONDS=2 BENCH_ROUNDS=2 $(BIN)/python -m bench
