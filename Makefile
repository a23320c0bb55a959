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

# Four workers on two cores: the suite mostly waits on real processes (bots killed and restarted,
# leases running out); with two, the CPUs were busy under half the time (user+sys 565 s in 596 s).
test: $(STAMP) lint services
	$(BIN)/python -m pytest -n 4 --dist loadgroup --durations=25

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache warroom.db
