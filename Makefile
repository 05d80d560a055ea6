# netpol-lab: every target creates what it needs itself (a virtual environment in .venv).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: lab reset-lesson instructor test install system-deps nca lint typecheck pytest clean classroom-env classroom-demo

$(STAMP): pyproject.toml
	@echo "netpol-lab: installing the course into $(VENV)/ (first run only, about a minute)"
	@echo "netpol-lab: [1/3] creating the virtual environment $(VENV)/"
	$(PYTHON) -m venv $(VENV)
	@echo "netpol-lab: [2/3] upgrading pip"
	$(BIN)/pip install --quiet --upgrade pip
	@echo "netpol-lab: [3/3] installing npcore, lessonkit, autograder, JupyterLab and their dependencies"
	$(BIN)/pip install --quiet -e '.[all]'
	touch $(STAMP)
	@echo "netpol-lab: installed"

install: $(STAMP)

# Debian packages: chromium for the browser tests (Playwright's own browsers are not used);
# bubblewrap (bwrap) and util-linux (setpriv) to seal off learner kernels in
# `python -m autograder.classroom autograde` (docs/nbgrader.md). Kernels run the instructor's
# own interpreter, mounted read-only inside the sandbox, so no separate kernel venv is needed.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="chromium"; \
	command -v bwrap >/dev/null 2>&1 || missing="$$missing bubblewrap"; \
	command -v setpriv >/dev/null 2>&1 || missing="$$missing util-linux"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi; \
	fi

# network-config-analyzer, the independent implementation of tests/test_differential.py.
# It pins old PyYAML/lxml/networkx, so it gets a venv of its own (never the project's).
NCA_VENV := benchmarks/.nca-venv
$(NCA_VENV)/bin/nca:
	$(PYTHON) -m venv $(NCA_VENV)
	$(NCA_VENV)/bin/pip install --quiet network-config-analyzer==2.1.0

nca: $(NCA_VENV)/bin/nca

# The JupyterHub classroom (tests/test_hub.py, `make classroom-demo`, docs/classroom.md): Debian's
# python3-venv and npm, then /opt/netpol-lab: a venv from /usr/bin/python3 with
# deploy/requirements.txt and this checkout's wheel, and configurable-http-proxy from npm.
# Only as root (the test creates Unix users); elsewhere it says so and does nothing.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
classroom-env: install
	@if [ "$$(id -u)" = 0 ]; then \
	  missing=""; \
	  { [ -x /usr/bin/python3 ] && dpkg -s python3-venv >/dev/null 2>&1; } || missing="python3 python3-venv"; \
	  command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	  if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi; \
	  $(BIN)/python tools/classroom_demo.py install; \
	else echo "classroom-env: skipped (needs root; tests/test_hub.py then skips too)"; fi

# A demo classroom on http://127.0.0.1:8000 (an instructor and two learners as Unix users); Ctrl-C removes it.
classroom-demo: install
	$(SUDO) $(MAKE) --no-print-directory classroom-env
	$(SUDO) $(BIN)/python tools/classroom_demo.py up

# 1. Install everything and open the course in JupyterLab, on the learner's own copy of
#    the lessons (WORKSPACE, git-ignored; made on the first run and never overwritten).
#    JUPYTER_CONFIG_DIR=jupyter/learner hides nbgrader's tools and the news pop-up.
WORKSPACE   ?= workspace
ALLOW_ROOT  := $(if $(filter 0,$(shell id -u)),--allow-root,)
LEARNER_ENV := JUPYTER_CONFIG_DIR="$(CURDIR)/jupyter/learner" \
	JUPYTERLAB_SETTINGS_DIR="$(CURDIR)/$(WORKSPACE)/.jupyterlab/settings" \
	JUPYTERLAB_WORKSPACES_DIR="$(CURDIR)/$(WORKSPACE)/.jupyterlab/workspaces"

lab: install
	@$(BIN)/python -m lessonkit.workspace init --dir "$(WORKSPACE)"
	@echo "netpol-lab: starting JupyterLab on $(WORKSPACE)/ (stop it with Ctrl-C, then y)"
	$(LEARNER_ENV) $(BIN)/jupyter lab $(ALLOW_ROOT) --ServerApp.root_dir="$(CURDIR)/$(WORKSPACE)" --LabApp.default_url=/lab/tree/01-traffic-direction.ipynb

# Start one lesson again: `make reset-lesson LESSON=05` (your old copy goes to WORKSPACE/.old/).
reset-lesson: install
	@$(BIN)/python -m lessonkit.workspace reset "$(LESSON)" --dir "$(WORKSPACE)"

# The instructor's JupyterLab: the nbgrader course in exercises/, with nbgrader's menu,
# formgrader and assignment tools (see docs/nbgrader.md).
instructor: install
	@echo "netpol-lab: starting JupyterLab with nbgrader's tools on exercises/"
	cd exercises && $(BIN)/jupyter lab $(ALLOW_ROOT) --ServerApp.root_dir="$(CURDIR)/exercises"

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

pytest: install system-deps nca classroom-env
	$(BIN)/pytest

# 2. Install everything and run the whole test suite (what .ci/run calls).
test: install system-deps nca classroom-env
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	NETPOL_REQUIRE_NCA=1 $(BIN)/pytest

clean:
	rm -rf $(VENV) $(NCA_VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
