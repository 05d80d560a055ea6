# netpol-lab: every target creates what it needs itself (a virtual environment in .venv).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: lab test install system-deps nca lint typecheck pytest clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[all]'
	touch $(STAMP)

install: $(STAMP)

# Debian packages the browser tests need (Debian's chromium; Playwright's own browsers are not used).
system-deps:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; \
	fi

# network-config-analyzer, the independent implementation of tests/test_differential.py.
# It pins old PyYAML/lxml/networkx, so it gets a venv of its own (never the project's).
NCA_VENV := benchmarks/.nca-venv
$(NCA_VENV)/bin/nca:
	$(PYTHON) -m venv $(NCA_VENV)
	$(NCA_VENV)/bin/pip install --quiet network-config-analyzer==2.1.0

nca: $(NCA_VENV)/bin/nca

# 1. Install everything and open the course in JupyterLab.
lab: install
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root,) --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/lessons/01-traffic-direction.ipynb

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

pytest: install system-deps nca
	$(BIN)/pytest

# 2. Install everything and run the whole test suite (what .ci/run calls).
test: install system-deps nca
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	NETPOL_REQUIRE_NCA=1 $(BIN)/pytest

clean:
	rm -rf $(VENV) $(NCA_VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
