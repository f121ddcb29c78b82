# Two entry points a new user needs: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: venv test lint demo demo-web reliability bench clean

$(BIN)/spotilla-procountor: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

venv: $(BIN)/spotilla-procountor

lint: venv
	$(BIN)/ruff check src tests features benchmarks
	$(BIN)/ruff format --check src tests features benchmarks

test: venv lint
	$(BIN)/pytest -n 2

demo: venv
	$(BIN)/spotilla-procountor demo

demo-web: venv  # the web pages with demo data and a fake Procountor; prints a link that opens them signed in
	$(BIN)/spotilla-procountor demo-web

reliability: venv  # full scale (500+ invoices in the crash matrix, several seeds); writes RELIABILITY.md
	SPOTILLA_PROCOUNTOR_RELIABILITY_SCALE=$${SPOTILLA_PROCOUNTOR_RELIABILITY_SCALE:-6} \
	SPOTILLA_PROCOUNTOR_RELIABILITY_REPORT=$(CURDIR)/RELIABILITY.md \
	$(BIN)/pytest -m reliability -n 2 tests/reliability

bench: venv  # extra options after these: make bench ARGS="--database postgres --compare-sequential"
	$(BIN)/python -m benchmarks --scale 0.1 --latency-ms 10 --rate-limit 200 $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
