# Two commands for a fresh machine: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
export FLASK_APP := wsgi.py

.PHONY: demo test lint test-sqlite test-postgres test-miniprogram install clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

# The mini-program's tools (jest, miniprogram-simulate, typescript) exactly as package-lock.json pins them.
miniprogram/node_modules/.installed: miniprogram/package-lock.json
	cd miniprogram && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## Start the platform on its embedded defaults: SQLite, fake WeChat, demo data.
demo: install
	$(BIN)/flask demo

## The linter, the whole suite on SQLite, again on PostgreSQL ($(PG_URL)), then the mini-program's
## type check and jest suites (unit, and contract tests against the app on SQLite).
test: lint test-sqlite test-postgres test-miniprogram

lint: install
	$(BIN)/ruff check

# -n auto: one worker per core (pytest-xdist); each has its own database and fake WeChat.
test-sqlite: install
	$(BIN)/python -m pytest -q -n auto

# Browser tests (tests/e2e: how pages look) run in the SQLite pass only.
# Outside CI an unreachable PostgreSQL skips this pass with a warning; in CI (CI=true) it fails.
test-postgres: install
	@if [ -n "$$CI" ] || $(BIN)/python -c "import psycopg,sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()" "$(PG_URL)" 2>/dev/null; then \
		TEST_DATABASE_URL="$(PG_URL)" $(BIN)/python -m pytest -q -n auto --ignore=tests/e2e; \
	else \
		echo "WARNING: PostgreSQL at $(PG_URL) is unreachable: the PostgreSQL pass was skipped (CI fails instead)."; \
	fi

# tsc --noEmit, then jest: unit tests on recorded responses, contract tests against a live server.
test-miniprogram: install miniprogram/node_modules/.installed
	cd miniprogram && npm test --silent

clean:
	rm -rf $(VENV) .pytest_cache miniprogram/node_modules
