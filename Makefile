# NOX: `make run` sets up and runs the main job; `make test` sets up and runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: browser run serve worker serve-stack test lint typecheck fmt bench sample clean help

help:
	@echo "make run    - create .venv, install, load the bundled sample, print the EURUSD 1h plan,"
	@echo "              then serve the API on 127.0.0.1:8000"
	@echo "make test   - create .venv, install dev dependencies, lint, type-check, run all tests"
	@echo "              (needs PostgreSQL on 127.0.0.1:5432 db test and Redis on 127.0.0.1:6379)"
	@echo "make bench  - run the benchmarks (ours next to the peers')"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -c "import noxfx, talib, numba, pyarrow, pytest"
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/noxfx run

serve: $(STAMP)
	$(BIN)/noxfx serve

worker: $(STAMP)
	$(BIN)/noxfx worker

serve-stack: $(STAMP)
	deploy/serve-stack.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

browser:
	scripts/ensure_chromium.sh

test: lint typecheck browser
	$(BIN)/python -m pytest -q

fmt: $(STAMP)
	$(BIN)/ruff format src tests benchmarks scripts
	$(BIN)/ruff check --fix src tests benchmarks scripts

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	@command -v wrk >/dev/null || (apt-get install -y -q wrk || (apt-get update -q && apt-get install -y -q wrk)) >/dev/null 2>&1 || echo "wrk not installed: bench_api uses its Python load only"
	$(BIN)/python benchmarks/bench_store.py
	$(BIN)/python benchmarks/bench_indicators.py
	$(BIN)/python benchmarks/bench_patterns.py
	$(BIN)/python benchmarks/bench_analysis.py
	$(BIN)/python benchmarks/bench_backtest.py
	$(BIN)/python benchmarks/bench_optimize.py
	$(BIN)/python benchmarks/bench_alerts.py
	$(BIN)/python benchmarks/bench_ws.py --clients 1000
	$(BIN)/python benchmarks/bench_plan.py
	$(BIN)/python benchmarks/bench_ml.py
	$(BIN)/python benchmarks/bench_api.py

sample: $(STAMP)
	$(BIN)/python scripts/build_sample.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build src/*.egg-info
