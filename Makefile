# One command runner, the same targets locally and in CI (.ci/run calls `make test`).
#   make serve   install what is needed and run the API on the embedded default (SQLite + ./data)
#   make test    install what is needed and run the test suite (SQLite and PostgreSQL)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
# pipefail: an install step filtered through grep still fails when pip fails.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

.PHONY: install serve test test-all lint typecheck check eval bench clean

# Each step says what it does and how long it took on a 2-core machine with a warm pip cache
# (README: Set-up); pip prints one line per package it fetches or builds.
$(PY):
	@echo "[1/3] virtual environment in $(VENV) (about 15 s)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# torch first, pinned: the CPU wheel of 2.13.0 is on these machines; letting
# sentence-transformers pick torch would pull gigabytes of CUDA packages.
$(STAMP): pyproject.toml | $(PY)
	@echo "[2/3] torch 2.13.0, CPU build (about 30 s)"
	$(PY) -m pip install --progress-bar off torch==2.13.0 2>&1 | { grep -E '^(Collecting|Successfully|ERROR)' || true; }
	@echo "[3/3] memsvc and its dependencies (about 1.5 min)"
	$(PY) -m pip install --progress-bar off -e '.[dev,eval,bench]' 2>&1 | { grep -E '^(Collecting|Successfully|ERROR)' || true; }
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/memsvc serve

test: $(STAMP) lint typecheck
	$(PY) -m pytest -m "not slow and not gpu" -q

test-all: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check memsvc eval tests bench
	$(BIN)/ruff format --check memsvc eval tests bench
	$(BIN)/lint-imports

# memsvc under --strict, eval/memsvc_eval under the base settings ([tool.mypy] in pyproject.toml).
typecheck: $(STAMP)
	$(BIN)/mypy memsvc eval/memsvc_eval

check: lint typecheck test

eval: $(STAMP)
	$(BIN)/memsvc eval longmemeval --suite dev --out eval/out/dev

bench: $(STAMP)
	$(PY) bench/api.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
