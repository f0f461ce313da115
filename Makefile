# `make run` and `make test` set everything up on a fresh machine: virtualenv, dependencies, database.
# Python 3.11 or newer: python3.11 if present, else python3 if it is recent enough.
PYTHON ?= $(shell command -v python3.11 || (python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && command -v python3))
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000
TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run serve production-settings test test-postgres migrate lint clean

$(BIN)/activate:
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed (python3.11 or python3)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever a requirements file changes.
$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/activate
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

migrate: $(VENV)/.installed
	$(FLASK) db upgrade

# The app and its search indexer (the one process that writes the index), together; Ctrl-C stops both.
run: migrate
	$(FLASK) users ensure-admin
	HOST=$(HOST) PORT=$(PORT) PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/honcho -f Procfile.dev start

# Production-style serving: gunicorn with several worker processes and the search indexer (Procfile),
# on the same configuration
# (environment variables; see README "Deployment"). Put a TLS proxy in front of it.
# It refuses to start (before touching the database) unless SECRET_KEY is set and APP_ENV=production:
# see production_settings_missing in gunicorn.conf.py.
WORKERS ?= 4
serve: production-settings
	@$(MAKE) --no-print-directory migrate
	$(FLASK) users ensure-admin
	HOST=$(HOST) PORT=$(PORT) WORKERS=$(WORKERS) PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/honcho -f Procfile start

production-settings:
	@$(or $(PYTHON),python3) -c 'import runpy; runpy.run_path("gunicorn.conf.py")["refuse_unless_production"]()'

test: $(VENV)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The same suite against PostgreSQL (set TEST_POSTGRES_URL to use another server).
test-postgres: $(VENV)/.installed
	TEST_DATABASE_URL=$(TEST_POSTGRES_URL) $(BIN)/python -m pytest --ignore=tests/browser $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache
