# The two commands: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app mediation
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 2

.PHONY: run dev test bench bench-micro lint messages clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall when the project metadata changes.
$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: setup.cfg pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(FLASK) db upgrade
	$(FLASK) demo load --if-empty
	$(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) --access-logfile - --limit-request-line 8190 'mediation:create_app()'

dev: $(VENV)/.installed
	$(FLASK) db upgrade
	$(FLASK) demo load --if-empty
	$(FLASK) run --debug --host $(HOST) --port $(PORT)

# Lint first: ruff's clock rules (DTZ) and the import contracts fail the run like a test.
# The tests run in one process per core, up to 4 (pytest-xdist); work stealing keeps the long
# ones (the route fuzzer, the browser walks) from leaving one process working alone at the end.
# `make test PYTEST_ARGS=` runs them in one process.
PYTEST_ARGS ?= -n auto --maxprocesses 4 --dist worksteal
test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The pages at 100,000 and 1,000,000 generated cases on SQLite and PostgreSQL (databases kept in
# instance/bench/ and bench_<size>), then docs/BENCHMARKS.md; e.g. make bench BENCH_SIZES=100000 BENCH_DBS=sqlite.
# `make bench-micro` runs the older single-feature benchmarks (tests/bench.py).
bench: $(VENV)/.installed-dev
	BENCH_SIZES=$(BENCH_SIZES) BENCH_DBS=$(BENCH_DBS) $(BIN)/python -m tests.bench_scale

bench-micro: $(VENV)/.installed-dev
	$(BIN)/python -m tests.bench

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check mediation tests tools
	$(BIN)/lint-imports

messages: $(VENV)/.installed-dev
	$(BIN)/python tools/i18n.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
