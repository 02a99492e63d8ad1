# The two commands of the README, on a fresh clone:
#   make demo   the main job on the built-in synthetic benchmark
#   make test   the whole test suite (unit tests and notebooks in quick mode)
# Each creates or reuses the virtual environment in .venv.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# torch is installed first and pinned: on these machines these versions come from local disk.
TORCH_PACKAGES ?= torch==2.14.1 torchvision==0.29.1
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast test-browser html lab lint clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_PACKAGES)
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

CHECKPOINT ?=
TRAIN_MINUTES ?=

# The shipped model beside copy-first; TRAIN_MINUTES=M also trains a fresh model for M minutes.
demo: $(STAMP)
	$(PY) -m gcseg demo --workdir runs/demo $(if $(CHECKPOINT),--checkpoint $(CHECKPOINT)) \
		$(if $(TRAIN_MINUTES),--train-minutes $(TRAIN_MINUTES))

PYTEST := MPLBACKEND=Agg GCSEG_QUICK=1 GCSEG_THREADS=1 $(PY) -m pytest

# Lint (ruff, with complexity and argument-count limits), then the unit tests and every notebook
# executed by nbval in quick mode; the 15 slowest tests are listed at the end.
test: lint
	$(PYTEST) tests notebooks --nbval-lax --nbval-current-env --durations=15

# The same without the tests marked slow (training runs, subprocess CLIs, the demo, DDP).
test-fast: lint
	$(PYTEST) tests -m "not slow" --durations=15

# The explorers of notebooks 00, 02, 04, 07 and 08 in a real JupyterLab, driven by headless
# Chromium (Debian's package: apt-get install chromium) through playwright; .ci/run installs both.
test-browser: $(STAMP)
	$(PY) -m pip install --quiet -e ".[browser]"
	GCSEG_BROWSER_TEST=1 $(PYTEST) tests/browser --durations=5

# Execute the series (default mode; GCSEG_QUICK=1 for quick mode) into a browsable site,
# build/html/index.html plus one page per notebook; NO_SOLUTIONS=1 for a student edition.
html: $(STAMP)
	MPLBACKEND=Agg $(PY) tools/notebooks.py html --out build/html --overwrite \
		$(if $(NO_SOLUTIONS),--no-solutions)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

lint: $(STAMP)
	$(VENV)/bin/ruff check gcseg tests benchmarks data_prep tools

clean:
	rm -rf runs build .pytest_cache
