# Every target creates .venv on first use, so a fresh machine needs only Python 3.10+ and git
# (and npm for the tests, which fetch GitHub's OpenAPI description and Mermaid from the npm
# registry; on Debian or Ubuntu, `make test` installs PostgreSQL and Chromium itself).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two steps in one .venv: what the bot needs at run time (`make demo`), then the test and lint
# tools on top (`make test`, `make lint`, `make bench`).
RUNTIME := $(VENV)/.runtime
STAMP := $(VENV)/.installed
# GitHub's OpenAPI descriptions, which the tests' fake GitHub validates every response against.
NPM_STAMP := tests/node_modules/.package-lock.json
# PostgreSQL's programs, from which the tests start a throw-away server (tests/pgserver.py).
PG_BINARIES ?= /usr/lib/postgresql/*/bin
PG_STAMP := $(VENV)/.postgresql
# Debian's Chromium, in which the tests render the pull-request comment with Mermaid.
CHROMIUM_STAMP := $(VENV)/.chromium

.PHONY: demo test lint bench clean

$(RUNTIME): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUNTIME)

$(STAMP): $(RUNTIME)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(NPM_STAMP): tests/package.json tests/package-lock.json
	npm ci --prefix tests --ignore-scripts --no-audit --no-fund

demo: $(RUNTIME)
	$(BIN)/alembic-heads-bot demo

# Debian's postgresql package, unless some PostgreSQL is already there: apt-get as root, else
# through sudo. The package's own cluster is not used; the tests make their own.
$(PG_STAMP): | $(STAMP)
	@if ! ls $(PG_BINARIES)/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then \
	    if [ "$$(id -u)" = 0 ]; then sudo=; \
	    elif command -v sudo >/dev/null; then sudo=sudo; \
	    else echo "make: the tests need PostgreSQL: as root, run" \
	        "apt-get install postgresql (neither root nor sudo here)" >&2; exit 1; fi; \
	    if ! command -v apt-get >/dev/null; then echo "make: the tests need PostgreSQL" \
	        "(initdb under $(PG_BINARIES) or on PATH), and there is no apt-get to install it" >&2; \
	        exit 1; fi; \
	    set -x; \
	    $$sudo apt-get update -q && \
	    $$sudo env DEBIAN_FRONTEND=noninteractive \
	        apt-get install -y -q --no-install-recommends postgresql && \
	    ls $(PG_BINARIES)/initdb || exit 1; \
	fi
	touch $@

# Debian's chromium package, unless a Chromium is already on PATH: apt-get as root, else
# through sudo.
$(CHROMIUM_STAMP): | $(STAMP)
	@if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then \
	    if [ "$$(id -u)" = 0 ]; then sudo=; \
	    elif command -v sudo >/dev/null; then sudo=sudo; \
	    else echo "make: the tests need Chromium: as root, run" \
	        "apt-get install chromium (neither root nor sudo here)" >&2; exit 1; fi; \
	    if ! command -v apt-get >/dev/null; then echo "make: the tests need Chromium" \
	        "(chromium on PATH), and there is no apt-get to install it" >&2; exit 1; fi; \
	    set -x; \
	    $$sudo apt-get update -q && \
	    $$sudo env DEBIAN_FRONTEND=noninteractive \
	        apt-get install -y -q --no-install-recommends chromium && \
	    command -v chromium || exit 1; \
	fi
	touch $@

# Eight workers on two cores: half of a test's time is spent waiting (git and node processes, the
# one-second pause the bot keeps between GitHub writes), and work stealing keeps the few slow
# end-to-end tests from ending the run alone (measured: -n 4 275 s, -n 8 with worksteal 126 s).
test: lint $(NPM_STAMP) $(PG_STAMP) $(CHROMIUM_STAMP)
	$(BIN)/python -m pytest -q -n 8 --dist worksteal

# Style, then types (strict for the engine, see [tool.mypy]), then the layer contract
# ([tool.importlinter]: app over adapters over engine, and no I/O modules in the engine).
lint: $(STAMP)
	$(BIN)/ruff check bot tests benchmarks scripts
	$(BIN)/ruff format --check bot tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python benchmarks/heads.py
	cd benchmarks && ../$(BIN)/python check.py
	cd benchmarks && ../$(BIN)/python current.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .mypy_cache .import_linter_cache tests/node_modules
