# PostDesk: `make run` to try it, `make test` to prove it. See README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
DOSSIERS ?= 2000

.PHONY: run test lint install install-test migrate demo serve worker beat messages lock bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# Runtime dependencies, pinned by constraints.txt.
$(VENV)/.installed: pyproject.toml constraints.txt | $(PY)
	$(PIP) install -q -c constraints.txt -e .
	touch $@

# Test dependencies on top.
$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -q -c constraints.txt -e ".[test]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_units
	$(PY) manage.py seed_demo --dossiers $(DOSSIERS)

run: demo
	@echo "PostDesk on http://$(HOST):$(PORT)/ (demo logins above; Ctrl+C to stop)"
	DEBUG=$${DEBUG:-true} $(PY) manage.py runserver $(HOST):$(PORT)

# lint-imports: the layers of the apps and no import cycles (contracts in pyproject.toml).
lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

test: lint
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest $(PYTEST_ARGS)

worker: install
	$(VENV)/bin/celery -A config worker --loglevel=info

beat: install
	$(VENV)/bin/celery -A config beat --loglevel=info

# Needs GNU gettext; the compiled .mo files are committed so a clone works without it.
messages: install
	$(PY) manage.py makemessages -l vi --ignore=.venv --ignore=static --ignore=tests --ignore=bench
	$(PY) manage.py compilemessages --ignore=.venv

# Re-pin: resolve the newest versions allowed by pyproject.toml into constraints.txt.
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv && .lockenv/bin/pip install -q ".[test]"
	.lockenv/bin/pip freeze --exclude postdesk | sed '/^-e /d' > constraints.txt
	rm -rf .lockenv

# Benchmarks on PostgreSQL (not part of the tests): creates postdesk_scale_<size> databases,
# seeds them, measures, writes bench/results/<size>.json and the figures of docs/performance.md.
# WEEKLY_SIZES: databases on which only the weekly job is timed. Quick: SIZES=20000 WEEKLY_SIZES=
SIZES ?= 10000 100000 1000000
WEEKLY_SIZES ?= 5000000
bench: install-test
	SIZES="$(SIZES)" WEEKLY_SIZES="$(WEEKLY_SIZES)" $(PY) bench/run.py
	if [ "$${API_BENCH:-1}" != 0 ]; then $(PY) bench/api_bench.py; fi

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
