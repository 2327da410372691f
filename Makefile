# One command runner, the same targets locally and in CI (.ci/run calls `make test`).
#   make serve   install what is needed and run the API on the embedded default (SQLite + ./data)
#   make test    install what is needed and run the test suite (SQLite and PostgreSQL)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE := 1

.PHONY: install serve test test-all lint typecheck check eval bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# torch first, pinned: the CPU wheel of 2.13.0 is on these machines; letting
# sentence-transformers pick torch would pull gigabytes of CUDA packages.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev,eval,bench]'
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

typecheck: $(STAMP)
	$(BIN)/mypy memsvc eval/memsvc_eval

check: lint typecheck test

eval: $(STAMP)
	$(BIN)/memsvc eval longmemeval --suite dev --out eval/out/dev

bench: $(STAMP)
	$(PY) bench/api.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
