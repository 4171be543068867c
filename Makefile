# neurosim: two commands for a newcomer.
#   make demo   set up .venv (first run only) and run the side-by-side demo on the embedded digits
#   make test   set up .venv (first run only) and run the test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.neurosim-installed
OUT    ?= results/demo

.PHONY: install demo test browser bench clean

$(STAMP): setup.cfg pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip wheel setuptools
	# CPU build of torch, pinned first (an unpinned torch pulls a multi-GB CUDA build)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[test]'
	# lava-nc 0.10.0 declares Requires-Python <3.11 but runs on 3.11 with neurosim/backends/lava_shim.py
	$(BIN)/python -m pip install --quiet --ignore-requires-python lava-nc==0.10.0
	touch $@

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/neurosim demo --out $(OUT)

# the HTML report is checked in a real headless browser: Debian's chromium, installed where missing
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

test: $(STAMP) browser
	$(BIN)/python -m pytest -q

clean:
	rm -rf results test-artifacts .pytest_cache
