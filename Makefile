# make run    set up and start the platform (web + Celery worker + Celery beat + OCPP gateway)
#             in the foreground
# make test   set up and run the test suite (PYTEST_ARGS="-k credentials -x" to narrow it)
# make lint   ruff, ruff format --check, mypy, import-linter, makemigrations --check
# make format rewrite the code with ruff (import order and formatting)
#
# Needs only Python 3.11+ and make. DATABASE_URL and REDIS_URL switch from the embedded default
# (SQLite and a file-system Celery broker under var/) to PostgreSQL and Redis.

# Optional local settings (see .env.example). Values there win over the shell's environment,
# as they do for honcho and docker --env-file; `make run PORT=9000` wins over both. `make run`
# writes what it chose to var/run.env (in VAR_DIR), which manage.py in another shell reads for
# whatever that shell does not set itself (config/runenv.py).
ifneq ($(wildcard .env),)
include .env
export $(shell sed -n 's/^[[:space:]]*\(export[[:space:]]\{1,\}\)\{0,1\}\([A-Za-z_][A-Za-z0-9_]*\)[[:space:]]*=.*/\2/p' .env)
endif

HOST ?= 127.0.0.1
PORT ?= 8000
# Set here rather than left to config/settings.py: honcho gives each process its own PORT, and
# the worker must write the web process's address into what it sends to partners.
OCPI_BASE_URL ?= http://$(HOST):$(PORT)
# The OCPP gateway's port and the address charge points are given (charger_add prints it).
OCPP_PORT ?= $(shell expr $(PORT) + 1000)
OCPP_BASE_URL ?= ws://$(HOST):$(OCPP_PORT)
export HOST PORT OCPI_BASE_URL OCPP_PORT OCPP_BASE_URL

VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= $(shell command -v python3.11 || command -v python3)
# Records that the virtualenv holds what pyproject.toml asks for; reinstalls when it changes.
INSTALLED := $(VENV)/.installed

.PHONY: venv run test lint format clean

venv: $(INSTALLED)

$(INSTALLED): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed (python3.11 or python3)"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "$(PYTHON) is older than Python 3.11"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

run: export OCPI_ALLOW_PRIVATE_URLS ?= 1
run: $(INSTALLED)
	@# What was chosen above, for manage.py in other shells (config/runenv.py): their own
	@# environment still wins over it.
	@$(PY) -m config.runenv
	$(PY) manage.py migrate --no-input
	$(PY) manage.py collectstatic --no-input --verbosity 0
	$(PY) manage.py seed_demo --if-empty
	@login="$$($(PY) manage.py bootstrap_operator)" && \
	echo "" && \
	echo "OCPI platform at $(OCPI_BASE_URL)  (Ctrl-C stops web, worker, beat and gateway)" && \
	echo "  Admin:            $(OCPI_BASE_URL)/admin/" && \
	echo "  Login:            $$login" && \
	echo "  Versions URL:     $(OCPI_BASE_URL)/ocpi/versions" && \
	echo "  API docs:         $(OCPI_BASE_URL)/api/docs/" && \
	echo "  Invite a partner: $(PY) manage.py ocpi_invite NAME" && \
	echo "  Charge points:    $(OCPP_BASE_URL)/ocpp/<identity>" && \
	echo ""
	exec $(VENV)/bin/honcho --env /dev/null --procfile Procfile.dev start --port $(PORT)

test: $(INSTALLED)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run

format: $(INSTALLED)
	$(VENV)/bin/ruff check --fix --select I .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV)
