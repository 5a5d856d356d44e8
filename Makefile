# Agent Hive: `make run` starts the portal, `make test` runs lint, types and the test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install system lint types pytest bench bench-api clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

# Debian packages the suite needs (bubblewrap, util-linux, iproute2, chromium): installed when
# missing and running as root, else the one line to run is printed; then the sandbox is checked.
system:
	@sh scripts/system_packages.sh

run: $(STAMP)
	$(BIN)/python scripts/run_stack.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

types: $(STAMP)
	HIVE_TESTING=1 $(BIN)/mypy

pytest: $(STAMP)
	HIVE_TESTING=1 $(BIN)/pytest --create-db

test: system lint types pytest

bench: $(STAMP)
	HIVE_TESTING=1 $(BIN)/python bench/provision.py

bench-api: $(STAMP)
	$(BIN)/python bench/api.py

clean:
	rm -rf $(VENV) var .run
