# The two commands of the README, and the development helpers. Each target sets up what it needs on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready
DEBIAN_FASHION := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
USER_FASHION := $${AUTOSPARSE_DATA:-$$HOME/.cache/autosparse/data}/fashion-mnist/train-images-idx3-ubyte.gz
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# the pinned environment that made the committed results; `make LOCK= setup` takes pyproject.toml's ranges instead
LOCK ?= requirements.lock

.PHONY: reproduce test check verify docs setup data browser lab export readme benchmark lock

reproduce: setup data  ## the CPU-profile reproduction (the shipped criteria first), then the notebooks, pages and README from its CSVs
	$(BIN)/autosparse publish --what pretrained --backend ray
	$(BIN)/autosparse reproduce --profile cpu --backend ray --jobs 2
	$(BIN)/autosparse publish --what notebooks pages
	$(MAKE) readme

test: setup data browser  ## the library notebooks' tests (the numbered ones, then the pages, two at a time on one thread each), then the test suite (two workers, one thread each)
	OMP_NUM_THREADS=1 $(BIN)/nbdev_test --n_workers 2 --file_re '^[0-9][0-9]_.*[.]ipynb$$'
	@# the pages compute into a scratch results root (the guide trains a small IRP run), not into your results/
	scratch=$$(mktemp -d) && AUTOSPARSE_RESULTS=$$scratch OMP_NUM_THREADS=1 $(BIN)/nbdev_test --n_workers 2 \
	  --file_re '^(index|results|guide|speed)[.]ipynb$$'; status=$$?; rm -rf $$scratch; exit $$status
	OMP_NUM_THREADS=1 $(BIN)/pytest -n 2 --dist loadfile --durations=12  # two workers on one thread each (two threads each thrash 2 cores), a file each at a time; the slowest tests timed

check: setup data  ## the fast lane of the edit-test loop (about 2 minutes on 2 cores): the library notebooks' tests and the unit tests
	OMP_NUM_THREADS=1 $(BIN)/nbdev_test --n_workers 2 --file_re '^[0-9][0-9]_.*[.]ipynb$$'
	$(BIN)/pytest -m 'not slow' --durations=5

verify: setup  ## after `make reproduce`: its tables (figures/) against the committed ones (git HEAD), cell by cell; fails on a real difference
	@committed=$$(mktemp -d) && git archive HEAD figures | tar -x -C $$committed && \
	  $(BIN)/autosparse compare figures --against $$committed/figures; status=$$?; rm -rf $$committed; exit $$status

docs: setup  ## the documentation site, offline, into build/docs: README as home, every notebook, the API reference, search
	$(BIN)/python docs/build.py build/docs

setup:  ## .venv with the project and its [dev] extra at the lock file's versions; reinstalled only when pyproject.toml or the lock changes
	@if ! cat pyproject.toml $(LOCK) | sha256sum | cmp -s - $(READY); then \
	  [ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV); \
	  $(BIN)/pip install $(if $(LOCK),-r $(LOCK)) -e ".[dev]" && cat pyproject.toml $(LOCK) | sha256sum > $(READY); \
	fi

data:  ## the offline data: the Debian package dataset-fashion-mnist
	@if [ ! -e $(DEBIAN_FASHION) ] && [ ! -e "$(USER_FASHION)" ]; then \
	  if command -v apt-get >/dev/null; then \
	    echo "installing Fashion-MNIST (Debian package dataset-fashion-mnist)"; \
	    $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq dataset-fashion-mnist; \
	  else \
	    echo "Fashion-MNIST is missing and apt-get is not available: set AUTOSPARSE_DOWNLOAD=1 to let the loader fetch it"; \
	  fi; \
	fi

browser:  ## Debian's Chromium, for the explorer's test in a real browser (tests/test_browser.py)
	@if ! command -v chromium >/dev/null; then \
	  if command -v apt-get >/dev/null; then \
	    echo "installing Chromium (Debian package chromium)"; \
	    $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; \
	  else \
	    echo "Chromium is missing and apt-get is not available: tests/test_browser.py will fail"; \
	  fi; \
	fi

lab: setup data  ## read and run the notebooks in JupyterLab (as root too)
	$(BIN)/jupyter lab nbs $(if $(filter 0,$(shell id -u)),--allow-root)

export: setup  ## notebooks -> autosparse/ and README.md
	$(BIN)/nbdev_export
	$(MAKE) readme

readme: setup  ## README.md from nbs/index.ipynb (the input of cells tagged hide-input left out: the tables drawn from figures/)
	$(BIN)/jupyter nbconvert --log-level WARN --to markdown nbs/index.ipynb --output-dir . --output README \
	  --TagRemovePreprocessor.enabled=True --TagRemovePreprocessor.remove_input_tags hide-input

benchmark: setup data  ## training speed ratios, AutoS scorer throughput, prune times per criterion, batching ratios, efficiency, sparse speed
	$(BIN)/python benchmarks/training_speed.py
	$(BIN)/python benchmarks/scorer_throughput.py
	$(BIN)/python benchmarks/prune_speed.py
	$(BIN)/python benchmarks/batching.py
	$(BIN)/python benchmarks/efficiency.py
	$(BIN)/python benchmarks/sparse_speed.py

lock: setup  ## requirements.lock from .venv as it is (after a deliberate upgrade)
	{ echo "# pip freeze of the environment behind the committed results (Linux x86_64, Python 3.11); \`make lock\` rewrites it."; \
	  $(BIN)/pip freeze --exclude-editable; } > requirements.lock
