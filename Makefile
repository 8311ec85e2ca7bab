# Every target creates .venv on first use, so a fresh machine needs only Python 3.10+ and git
# (and npm for the tests, which fetch GitHub's OpenAPI description from the npm registry).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# GitHub's OpenAPI descriptions, which the tests' fake GitHub validates every response against.
NPM_STAMP := tests/node_modules/.package-lock.json

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(NPM_STAMP): tests/package.json tests/package-lock.json
	npm ci --prefix tests --ignore-scripts --no-audit --no-fund

demo: $(STAMP)
	$(BIN)/alembic-heads-bot demo

test: $(STAMP) $(NPM_STAMP)
	$(BIN)/ruff check bot tests benchmarks
	$(BIN)/ruff format --check bot tests benchmarks
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check bot tests benchmarks
	$(BIN)/ruff format --check bot tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/heads.py
	cd benchmarks && ../$(BIN)/python check.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis tests/node_modules
