# make serve  — run the server with the sandbox banks and the demo TPP on SQLite
# make test   — install everything the suite needs and run it on SQLite and PostgreSQL
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip --disable-pip-version-check -q

.PHONY: serve test test-sqlite fuzz fuzz-sqlite fuzz-postgresql fuzz-cluster cluster crash system-deps bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[server]'
	touch $@

$(VENV)/.test: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[test]'
	touch $@ $(VENV)/.runtime

serve: $(VENV)/.runtime
	$(BIN)/webview-bridge serve --demo

system-deps:
	scripts/install-system-deps.sh

node_modules/axe-core/axe.min.js: package.json package-lock.json | system-deps
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: system-deps $(VENV)/.test node_modules/axe-core/axe.min.js
	$(BIN)/python -m pytest

test-sqlite: $(VENV)/.test node_modules/axe-core/axe.min.js
	$(BIN)/python -m pytest --db sqlite

# Hardening: each prints one JSON line at the end. `make fuzz` runs all three.
fuzz: fuzz-sqlite fuzz-postgresql fuzz-cluster

fuzz-sqlite: $(VENV)/.test
	$(BIN)/python scripts/fuzz.py --max-examples 500

fuzz-postgresql: $(VENV)/.test system-deps
	$(BIN)/python scripts/fuzz.py --max-examples 500 --database postgresql

fuzz-cluster: $(VENV)/.test system-deps
	$(BIN)/python scripts/fuzz.py --max-examples 500 --database postgresql --instances 2

cluster: $(VENV)/.test system-deps
	$(BIN)/python bench/cluster.py

crash: $(VENV)/.test system-deps
	$(BIN)/python -m pytest tests/store/test_crash_safety.py

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache
