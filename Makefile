# Everything runs from the project's own virtualenv in .venv, built from requirements.lock.
# `make test` and `make run` set it up on first use; later calls reinstall only when
# requirements.lock or pyproject.toml change.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VENV_PY := $(BIN)/python
# Its timestamp records the last successful install; deleting it forces a reinstall.
INSTALLED := $(VENV)/.installed

PROTO_DIR := protos
PROTOS := $(wildcard $(PROTO_DIR)/boletos/v1/*.proto)
STUBS := $(foreach p,$(PROTOS:$(PROTO_DIR)/%.proto=%),$(p)_pb2.py $(p)_pb2.pyi $(p)_pb2_grpc.py)

ROWS ?=
BENCH_ARGS ?=
PYTEST_ARGS ?=

.PHONY: help setup protos test run bench bench-e2e bench-floor bench-gateway bench-billing cost-guard api-reference migration lint format lock system-deps clean distclean

help: ## List the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) \
		| awk 'BEGIN {FS = ":.*## "}; {printf "  make %-12s %s\n", $$1, $$2}'

setup: $(INSTALLED) protos ## Create .venv from requirements.lock and generate gRPC stubs

$(INSTALLED): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { \
		echo "error: '$(PYTHON)' not found on PATH; Python 3.11 or newer is required." >&2; \
		echo "       Install it, or name one: make $(MAKECMDGOALS) PYTHON=python3.12" >&2; \
		exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
		echo "error: Python 3.11 or newer is required; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)." >&2; \
		echo "       Install it, or name one: make $(MAKECMDGOALS) PYTHON=python3.12" >&2; \
		exit 1; }
	@if [ -x $(VENV_PY) ] && ! $(VENV_PY) -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then \
		echo "error: $(VENV) was made with $$($(VENV_PY) --version); run 'make distclean' and retry." >&2; \
		exit 1; fi
	@[ -x $(VENV_PY) ] || $(PYTHON) -m venv $(VENV) || { \
		echo "error: '$(PYTHON) -m venv' failed; on Debian or Ubuntu: apt-get install python3-venv" >&2; \
		exit 1; }
	$(VENV_PY) -m pip install --quiet --upgrade pip
	$(VENV_PY) -m pip install --quiet -r requirements.lock
	@# The lock brought setuptools and grpcio-tools, so no isolated build environment is
	@# downloaded; setuptools' warning about the flat layout concerns no one here.
	PYTHONWARNINGS=ignore $(VENV_PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

protos: $(STUBS) ## Generate the Python gRPC stubs (only when a .proto changed)

# One pattern rule with three targets: make knows a single protoc run writes all of them.
# Depending on the install stamp regenerates them after grpcio-tools changes version.
boletos/v1/%_pb2.py boletos/v1/%_pb2.pyi boletos/v1/%_pb2_grpc.py: $(PROTO_DIR)/boletos/v1/%.proto $(INSTALLED)
	$(VENV_PY) -m grpc_tools.protoc -I$(PROTO_DIR) --python_out=. --pyi_out=. --grpc_python_out=. $<

# Four workers on two cores: most tests wait on NATS, databases and SMTP servers; work
# stealing keeps the long stack tests from queueing behind one another.
TEST_WORKERS ?= 4

# The slowest tests are listed at the end: the suite is meant to stay near 8 minutes.
test: setup system-deps ## Run the whole test suite (TEST_WORKERS=4 in parallel)
	$(VENV_PY) -m pytest -n $(TEST_WORKERS) --dist worksteal --durations=15 $(PYTEST_ARGS)

run: setup ## Start the whole stack locally with a sample file (BASE_PORT=P moves its ports)
	$(BIN)/boletos stack --sample $(if $(BASE_PORT),--base-port $(BASE_PORT))

bench: setup ## Benchmark ingest on a generated file (ROWS=N, BENCH_ARGS="--stores sqlite")
	$(VENV_PY) -m boletos_bench $(if $(ROWS),--rows $(ROWS)) $(BENCH_ARGS)

bench-e2e: setup ## Upload to last e-mail through the local stack (ROWS=N, BENCH_ARGS=...)
	$(VENV_PY) -m boletos_bench.e2e $(if $(ROWS),--rows $(ROWS)) $(BENCH_ARGS)

bench-floor: setup ## The least time ingest as built could take for a file, from its parts (ROWS=N)
	$(VENV_PY) -m boletos_bench.ingest_floor $(if $(ROWS),--rows $(ROWS)) $(BENCH_ARGS)

bench-gateway: setup ## A file through the HTTP gateway with curl: time and the gateway's memory (ROWS=N)
	$(VENV_PY) -m boletos_bench.gateway_bench $(if $(ROWS),--rows $(ROWS)) $(BENCH_ARGS)

cost-guard: setup ## Each stage's CPU per item against its budget (--write records new ones)
	$(VENV_PY) -m boletos_bench.cost_guard $(BENCH_ARGS)

bench-billing: setup ## A day's remessas and retornos (ROWS=N titles, BENCH_ARGS="--stores sqlite")
	$(VENV_PY) -m boletos_bench.remessa_bench $(if $(ROWS),--titles $(ROWS)) $(BENCH_ARGS)
	$(VENV_PY) -m boletos_bench.retorno_bench $(if $(ROWS),--titles $(ROWS)) $(BENCH_ARGS)

api-reference: setup ## Write docs/api-reference.md from the protos, the roles table and the error reasons
	$(VENV_PY) -m boletos_docs.api_reference

migration: setup ## New schema revision from the tables' changes (SERVICE=ingest MESSAGE="...")
	$(VENV_PY) -c 'import sys; from boletos.platform.migrations import new_revision; from $(SERVICE)_service.store.engine import HISTORY; new_revision(HISTORY, sys.argv[1])' "$(MESSAGE)"
	$(BIN)/ruff format $(SERVICE)_service/store/migrations/versions

lint: setup ## ruff check, format check, mypy, buf lint and buf breaking against each release
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/buf lint $(PROTO_DIR)
	for image in $(PROTO_DIR)/releases/*.binpb; do $(BIN)/buf breaking $(PROTO_DIR) --against "$$image"; done

format: setup ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lock: ## Re-pin requirements.lock from pyproject.toml's ranges in a scratch venv
	rm -rf build/lock-venv
	$(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/python -m pip install --quiet --upgrade pip
	PYTHONWARNINGS=ignore build/lock-venv/bin/python -m pip install --quiet -e '.[dev]'
	{ echo "# Exact versions of everything the project and its dev extra need, for Python 3.11+."; \
	  echo "# Regenerate after changing pyproject.toml: make lock"; \
	  build/lock-venv/bin/python -m pip freeze --all --exclude-editable \
		| grep -viE '^(pip|boletos)=='; } > requirements.lock
	rm -rf build/lock-venv

# The barcode tests rasterize PDFs with pdftoppm and decode them with zbarimg, the page tests
# drive chromium, the alert tests run promtool. Outside CI a machine where they cannot be
# installed only gets a warning; CI must have them.
system-deps: ## Install poppler-utils, zbar-tools, chromium and its driver, promtool when missing (apt-get)
	@missing=""; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	command -v promtool >/dev/null || missing="$$missing prometheus"; \
	command -v zbarimg >/dev/null || missing="$$missing zbar-tools"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null || missing="$$missing chromium-driver"; \
	[ -n "$$missing" ] || exit 0; \
	fail() { echo "system-deps: $$1" >&2; \
		if [ "$${CI:-}" = "true" ]; then exit 1; fi; \
		echo "system-deps: continuing without them (CI is not set)" >&2; exit 0; }; \
	command -v apt-get >/dev/null || fail "missing$$missing and no apt-get here; install them by hand"; \
	if [ "$$(id -u)" -eq 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null; then sudo="sudo"; \
	else fail "missing$$missing; run as root: apt-get install$$missing"; fi; \
	echo "system-deps: installing$$missing"; \
	$$sudo apt-get update -qq || fail "apt-get update failed"; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing \
		|| fail "apt-get install$$missing failed"

clean: ## Remove generated stubs and caches (keeps .venv)
	rm -f $(STUBS)
	rm -rf build .pytest_cache .ruff_cache .hypothesis *.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean ## Also remove .venv and the benchmark's cached files
	rm -rf $(VENV) bench-data
