# Two commands on a fresh machine: `make run` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Holds the embedded PostgreSQL server (var/postgres) for the life of a command; with DATABASE_URL set
# the command simply runs against that server.
WITH_DB := $(PY) scripts/with_database.py
# Two workers, one per core: each gets its own test database (test_daylit_gw0, _gw1).
PYTEST_ARGS ?= -n 2

.PHONY: install run _serve test lint bench migrate _migrate clean

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

install: $(VENV)/.installed

migrate: install
	@$(WITH_DB) $(MAKE) --no-print-directory _migrate

_migrate:
	@$(PY) manage.py ensure_database
	@$(PY) manage.py migrate --noinput --verbosity 0

run: install
	@$(WITH_DB) $(MAKE) --no-print-directory _serve

# The steps of `make run`, inside the database hold.
_serve:
	@$(PY) manage.py prepare_run var/demo.json
	@$(PY) scripts/print_demo.py var/demo.json
	@LOG_FORMAT=$${LOG_FORMAT:-text} $(VENV)/bin/honcho start -f Procfile.dev

test: install
	@$(WITH_DB) $(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .

# Embedded: its own database (daylit_bench) on the same server; DATABASE_URL names any other.
bench: install
	@DAYLIT_DATABASE_NAME=daylit_bench $(WITH_DB) sh -c 'for f in bench/bench_*.py; do \
	  echo "== $$f"; $(PY) $$f || exit 1; done'

clean:
	rm -rf var/ staticfiles/ .pytest_cache
