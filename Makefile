# Two commands on a fresh machine: `make run` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/daylit
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/daylit_bench

.PHONY: install run test lint bench migrate clean

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

run: migrate
	@$(PY) manage.py collectstatic --noinput --verbosity 0
	@$(PY) manage.py seed_demo --json > var/demo.json
	@$(PY) scripts/print_demo.py var/demo.json
	LOG_FORMAT=$${LOG_FORMAT:-text} $(VENV)/bin/honcho start -f Procfile.dev

test: install
	@DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(PY) scripts/wait_for_postgres.py || \
	  (echo "PostgreSQL does not answer at $${DATABASE_URL:-$(TEST_DATABASE_URL)}: start it (docker compose up -d db) or set DATABASE_URL." && exit 1)
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .

bench: install
	@for f in bench/bench_*.py; do \
	  echo "== $$f"; DATABASE_URL=$${DATABASE_URL:-$(BENCH_DATABASE_URL)} $(PY) $$f || exit 1; \
	done

clean:
	rm -rf var/ staticfiles/ .pytest_cache
