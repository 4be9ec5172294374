# Two commands on a fresh clone: `make demo` and `make test`.  Both set everything up first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PP     := $(VENV)/bin/pretty-printer
STAMP  := $(VENV)/.installed
DEMO   := out/demo
DEMO_SUB := out/demo-submission-em
SEED   ?= 0

.PHONY: setup demo test test-all bench gallery clean

# torch comes in first as the pinned CPU build (an unpinned torch pulls GBs of CUDA wheels);
# the project's range for torch is satisfied by it, so pip installs nothing more.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev]"
	@touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(PP) generate --preset tiny --out $(DEMO) --seed $(SEED) --force
	$(PP) reconstruct $(DEMO) --method baseline --modality em --out $(DEMO_SUB) --force
	$(PP) score $(DEMO) $(DEMO_SUB) --json out/demo-score-em.json
	@echo "demo: dataset in $(DEMO), EM baseline submission in $(DEMO_SUB), scorecard in out/demo-score-em.json"

# The default suite leaves out tests marked `slow` (user journey, gallery, README snippets, NeuroML
# runs in NEURON); `make test-all` runs everything.  Both run on TEST_WORKERS pytest-xdist workers
# (one per core here); workers share the session's tiny dataset (tests/conftest.py), and each test file
# runs on one worker, so its module fixtures are built once (--dist loadfile; --dist loadgroup does not
# group under pytest 9, whose nodeid ignores the group suffix xdist 3.8 adds).  Files start in the order
# tests/conftest.py's RUN_FIRST gives (the dataset builder first, then heaviest first), not xdist's
# default of the files with most tests first.  TEST_WORKERS=0: one process.
TEST_WORKERS ?= 2
XDIST := -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

test: setup
	$(PY) -m pytest -q -m "not slow" $(XDIST)

test-all: setup
	$(PY) -m pytest -q $(XDIST)

bench: setup
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

gallery: setup
	@for g in gallery/plot_*.py; do echo "== $$g"; (cd gallery && ../$(PY) $$(basename $$g)) || exit 1; done

clean:
	rm -rf out .pytest_cache
