# cchkit: two commands on a fresh machine.
#   make demo   installs everything into .venv and asks which of image and text should teach audio
#               (rank, measure by distilling, one verdict)
#   make test   installs everything into .venv and runs the whole test suite (notebooks included)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
# The CPU wheel of torch lies on this machine's disk; asking for it first keeps pip from pulling
# a multi-GB CUDA build to satisfy pyproject's open range (torch>=2.2).
TORCH_PIN ?= torch==2.13.0

.PHONY: install demo test test-fast lint bench notebooks docs clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet "$(TORCH_PIN)"
	$(PIP) install --quiet -e ".[dev]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/cchkit advise --student audio --candidates image,text

# headless Chromium renders the HTML report in tests/test_report.py (Debian package, as root)
CHROMIUM_STAMP := $(VENV)/.chromium
# (said on the terminal when it happens: `make test` installs one system package, once)
$(CHROMIUM_STAMP): | $(PY)
	@command -v chromium >/dev/null 2>&1 || { echo "make test: installing Debian's chromium (apt-get, once) for the browser test of the HTML report"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	@touch $(CHROMIUM_STAMP)

test: $(STAMP) $(CHROMIUM_STAMP)
	$(PY) -m pytest -n 2 -q --durations=15

test-fast: $(STAMP)
	$(PY) -m pytest -n 2 -q -m "not slow"

lint: $(STAMP)
	$(VENV)/bin/ruff check cchkit tests benchmarks

# the notebooks are built from notebooks/src/*.py (jupytext percent scripts) and executed in full mode
notebooks: $(STAMP)
	$(PY) notebooks/build.py

# the API reference (numpydoc docstrings) as HTML in docs/api/_build/html, and the README's
# report screenshots re-shot from the current code (headless Chromium, installed as for `make test`)
docs: $(STAMP) $(CHROMIUM_STAMP)
	$(PY) -m sphinx -W -q -b html docs/api docs/api/_build/html
	$(PY) docs/screenshots.py

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
