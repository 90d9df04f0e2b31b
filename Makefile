# Baton: the two commands a newcomer needs are `make run` and `make test`.
# Everything installs into .venv from pinned versions (constraints.txt).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed
# The local environment file that settings read (config/env.py) for the
# variables the environment does not set: .env, git-ignored.
ENV_FILE := $(or $(BATON_ENV_FILE),.env)

.DEFAULT_GOAL := help
.PHONY: help install run test lint fmt bench bench-http migrate demo clean browser-deps messages

help:
	@echo "make run    set up and start Baton on SQLite with demo data (http://127.0.0.1:$(PORT)/admin/)"
	@echo "make test   set up and run the whole test suite (DATABASE_URL=postgres://... for PostgreSQL)"
	@echo "make lint   ruff, formatting, import contracts, mypy, migrations check"
	@echo "make bench  run the benchmarks (bench-http too); results in bench/results/"
	@echo "make bench-http  the HTTP benchmark alone (gunicorn, projector, worker on PostgreSQL)"

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

# The message catalogues (.mo) are built from locale/*/LC_MESSAGES/*.po by a
# pure-Python compiler (no GNU gettext needed), whenever they are stale.
install: $(STAMP)
	@$(BIN)/python -m config.compile_messages

# Written once, readable only by you: a generated SECRET_KEY and DEBUG=1, so
# that the README's manage.py commands run as written in this checkout.
# Variables set in the environment still win; delete the file to start over.
$(ENV_FILE):
	@umask 077 && $(PYTHON) -c 'import secrets; print("# Local development settings written by make run (git-ignored).\n# The environment wins over this file.\nDEBUG=1\nSECRET_KEY=" + secrets.token_urlsafe(50))' > $@.tmp && mv $@.tmp $@
	@echo "Wrote $@ (DEBUG=1 and a generated SECRET_KEY) for local use."

migrate: install $(ENV_FILE)
	$(BIN)/python manage.py migrate --no-input

demo: migrate
	$(BIN)/python manage.py load_demo

# honcho's own .env loading is off (-e /dev/null): it would override the
# environment, while settings let an explicit variable win over the file.
run: demo
	@echo ""
	@echo "Baton is starting: admin at http://127.0.0.1:$(PORT)/admin/  (Ctrl-C stops web, projector, worker and mail gateway)"
	@echo "Mail gateway: smtp://$${MAIL_GATEWAY_HOST:-127.0.0.1}:$${MAIL_GATEWAY_PORT:-2525} (customer emails print on this console; README: Email)"
	@echo ""
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -e /dev/null -p $(PORT)

# Browser tests use Debian's Chromium (and a CJK font, for the Chinese
# pages' screenshots); install them when missing and we can (root with apt).
# Elsewhere those tests skip with a message saying why.
browser-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk"; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Chromium, ChromeDriver and a CJK font for the browser tests..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-wqy-zenhei) >/dev/null \
	      || echo "Could not install Chromium: browser tests will be skipped."; \
	  else \
	    echo "Chromium is missing and cannot be installed here: browser tests will be skipped."; \
	  fi; \
	fi

test: install browser-deps
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy .
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python bench/run.py
	$(BIN)/python bench/bench_http.py

# The Procfile's processes on a throw-away PostgreSQL database (baton_bench_http
# on DATABASE_URL's server), driven over HTTP; see bench/README.md.
bench-http: install
	$(BIN)/python bench/bench_http.py

# Regenerate the Chinese catalogue from the marked strings (needs GNU
# gettext's xgettext; building the .mo files does not), then compile it.
messages: install
	DEBUG=1 $(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=bench --ignore=tests --ignore=var --no-obsolete
	$(BIN)/python -m config.compile_messages

clean:
	rm -rf $(VENV) var staticfiles .mypy_cache .ruff_cache
