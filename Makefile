# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PORT ?= 5000

.PHONY: prod-local prod-local-status prod-local-down run test test-e2e lint install install-dev migrate seed static assets lighthouse html-check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

migrate: install
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed

# Hashed and gzip copies of the static files with their manifest (portal/static_files.py).
static: install
	$(FLASK) digest compile > /dev/null

# Rebuild static/vendor/uswds/css/uswds.min.css from USWDS's Sass sources (needs Node.js and npm; the built
# file is committed, so only a change of USWDS or of the classes the templates use calls for this).
assets:
	cd frontend && npm install --no-audit --no-fund --no-save && node build.mjs

# Lighthouse (mobile) scores of five pages, against a server started on PORT (see README, Performance).
lighthouse:
	cd frontend && npm install --no-audit --no-fund --no-save && node lighthouse.mjs http://127.0.0.1:$(PORT)

# Every page kind, signed out and in four roles, through the Nu HTML checker (vnu.jar from npm; needs Java).
html-check: install-dev
	cd frontend && npm install --no-audit --no-fund --no-save
	$(BIN)/python tests/benchmarks/html_check.py

# The server and, beside it, the job worker (in-process without REDIS_URL) that delivers mail (to this
# terminal without MAIL_SERVER) and runs the daily jobs; the worker stops when the server does.
run: seed static
	$(FLASK) jobs work & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT; \
	trap 'exit 130' INT TERM; \
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

# The production layout on this machine (deploy/local.py): nginx, three app servers, the job worker and scheduler.
prod-local: install
	$(BIN)/python deploy/local.py up

prod-local-status:
	$(BIN)/python deploy/local.py status

prod-local-down:
	$(BIN)/python deploy/local.py down

# The suite runs on every core (pytest-xdist), a test file per worker at a time.
test: install-dev
	$(BIN)/python -m pytest -n auto --dist loadfile $(PYTEST_ARGS)

test-e2e: install-dev
	$(BIN)/python -m pytest tests/e2e $(PYTEST_ARGS)

# The rule set and the type checker's settings are in pyproject.toml.
lint: install-dev
	$(BIN)/ruff check portal tests migrations deploy examples config.py wsgi.py
	$(BIN)/mypy portal

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache frontend/node_modules
	-$(FLASK) digest clean > /dev/null 2>&1
