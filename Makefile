# Baton: the two commands a newcomer needs are `make run` and `make test`.
# Everything installs into .venv from pinned versions (constraints.txt).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install run test lint fmt bench migrate demo clean

help:
	@echo "make run    set up and start Baton on SQLite with demo data (http://127.0.0.1:$(PORT)/admin/)"
	@echo "make test   set up and run the whole test suite (DATABASE_URL=postgres://... for PostgreSQL)"
	@echo "make lint   ruff, formatting, import contracts, mypy, migrations check"
	@echo "make bench  run the benchmarks; results in bench/results/"

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --no-input

demo: migrate
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py load_demo

run: demo
	@echo ""
	@echo "Baton is starting: admin at http://127.0.0.1:$(PORT)/admin/  (Ctrl-C stops web, projector and worker)"
	@echo ""
	PATH="$(CURDIR)/$(BIN):$$PATH" DEBUG=$${DEBUG:-1} $(BIN)/honcho start -p $(PORT)

test: install
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

clean:
	rm -rf $(VENV) var staticfiles .mypy_cache .ruff_cache
