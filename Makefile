# Keel: `make serve` and `make test` are all a new machine needs (Python 3.11+).
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy

UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := .tools/bin/uv
endif
VENV := .venv/bin
PACKAGES := domain application adapters entrypoints
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install serve migrate test check lint typecheck imports servers \
        test-unit test-integration test-e2e test-contract test-process test-browser openapi format clean bench audit

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# Compiled once here: with PYTHONDONTWRITEBYTECODE set, every process (each test run, each
# `keel` the tests start) would compile the libraries it imports again.
install: $(UV)
	$(UV) sync --frozen --quiet --compile-bytecode

serve: install
	$(VENV)/keel migrate
	$(VENV)/keel serve --host $(HOST) --port $(PORT)

migrate: install
	$(VENV)/keel migrate

openapi: install
	$(VENV)/keel openapi --output openapi.json

# Installs PostgreSQL's and Redis's server binaries, Chromium and promtool when missing
# (Debian, needs root).
servers:
	scripts/ensure-servers.sh

lint: install
	$(VENV)/ruff check $(PACKAGES) harness migrations tests bench scripts
	$(VENV)/ruff format --check $(PACKAGES) harness migrations tests bench scripts

typecheck: install
	$(VENV)/mypy --strict $(PACKAGES) harness scripts/audit.py

imports: install
	$(VENV)/lint-imports --config importlinter.ini

check: lint typecheck imports

# pytest runs on three processes (pytest-xdist), each with servers of its own: on two CPUs,
# since many tests spend much of their time waiting (on servers, on a mail server down for a
# minute), a third keeps both busy; an idle process takes tests queued for a busy one
# (`worksteal`). The tests marked `serial` time themselves or stop servers: they run after
# the rest, alone.
PYTEST_WORKERS ?= 3
SERIAL_AFTER = $(VENV)/pytest -q -n $(PYTEST_WORKERS) --dist worksteal -m "not serial" $(1) && \
	$(VENV)/pytest -q -m serial $(2)

test-unit: install
	$(VENV)/pytest tests/unit -q

test-integration: install servers
	$(call SERIAL_AFTER,tests/integration,tests/integration)

test-e2e: install servers
	$(call SERIAL_AFTER,tests/e2e,tests/e2e)

test-contract: install servers
	$(VENV)/pytest tests/contract -q

test-browser: install servers
	$(VENV)/pytest tests/browser -q

test-process: install
	$(VENV)/pytest tests/process -q

# Coverage adds up both runs; `coverage report` then prints the total and fails below the
# floor in pyproject.toml ([tool.coverage.report] fail_under).
test: install servers check
	$(call SERIAL_AFTER,--cov --cov-report= --cov-fail-under=0,--cov --cov-append)
	$(VENV)/coverage report --format=total

# Keel against a minimal baseline under wrk, on this machine (bench/README.md; BENCH_QUICK=1
# for a smoke run, which skips the million-item bench.scale). Installs wrk and PostgreSQL when missing; starts and stops all it needs.
bench: install servers
	bench/ensure-wrk.sh
	$(VENV)/python -m bench
	$(VENV)/python -m bench.live
	$(VENV)/python -m bench.attachments
	$(VENV)/python -m bench.scale

# pip-audit over uv.lock (scripts/audit.py): fails when the advisory database cannot be
# reached rather than reporting packages it never checked as clean.
audit: install
	set -o pipefail; $(UV) export --frozen --quiet --format requirements-txt --no-emit-project \
		| $(VENV)/python scripts/audit.py

format: install
	$(VENV)/ruff format $(PACKAGES) harness migrations tests bench scripts
	$(VENV)/ruff check --fix $(PACKAGES) harness migrations tests bench scripts

clean:
	rm -rf .venv .tools .mypy_cache .ruff_cache .pytest_cache
