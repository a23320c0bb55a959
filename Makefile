# Everything a fresh machine needs, through two targets: `make console` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: console test lint install services run clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

console: $(STAMP)
	$(BIN)/warroom console

run: $(STAMP)
	$(BIN)/warroom run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

services:
	bash scripts/start-services.sh

test: $(STAMP) lint services
	$(BIN)/python -m pytest -n 2 --dist loadgroup --durations=25

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache warroom.db
