# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
# CPU build of torch, installed first: an unpinned torch pulls several GB of CUDA packages.
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-load lint build bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/eventbot run

build: $(STAMP)
	$(BIN)/eventbot build

test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --dist loadfile -m "not load"

test-load: $(STAMP)
	$(BIN)/python -m pytest -q -s -m load

bench: $(STAMP)
	$(BIN)/eventbot bench --plot docs/bench.png --output docs/bench.json

lint: $(STAMP)
	$(BIN)/ruff check bot index tests
	$(BIN)/mypy

clean:
	rm -rf .eventbot
