# Two commands for a fresh machine: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
export FLASK_APP := wsgi.py

.PHONY: demo test lint test-sqlite test-postgres install clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

## Start the platform on its embedded defaults: SQLite, fake WeChat, demo data.
demo: install
	$(BIN)/flask demo

## The linter, then the whole suite on SQLite, then again on PostgreSQL ($(PG_URL)).
test: lint test-sqlite test-postgres

lint: install
	$(BIN)/ruff check

test-sqlite: install
	$(BIN)/python -m pytest -q

# Outside CI an unreachable PostgreSQL skips this pass with a warning; in CI (CI=true) it fails.
test-postgres: install
	@if [ -n "$$CI" ] || $(BIN)/python -c "import psycopg,sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()" "$(PG_URL)" 2>/dev/null; then \
		TEST_DATABASE_URL="$(PG_URL)" $(BIN)/python -m pytest -q; \
	else \
		echo "WARNING: PostgreSQL at $(PG_URL) is unreachable: the PostgreSQL pass was skipped (CI fails instead)."; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache
