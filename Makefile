# seglab — the two commands a learner or an instructor needs:
#
#   make lab    set up (first time only) and open the course in JupyterLab
#   make test   set up (first time only) and run the whole test suite, notebooks included
#
# Both create a virtual environment in .venv when it is missing and reinstall only when
# pyproject.toml changes. Override the interpreter with `make lab PYTHON=python3.12`.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# extra arguments for `jupyter lab`, e.g. LAB_ARGS="--no-browser --port=8890"
LAB_ARGS ?=
# Each clone keeps its own JupyterLab workspace (open tabs, layout; gitignored), so the first
# `make lab` in a clone opens notebook 00 whatever JupyterLab remembers from other projects.
LAB_WORKSPACES ?= $(CURDIR)/.jupyter-workspaces
# extra arguments for pytest, e.g. PYTEST_ARGS="-m 'not slow'"
PYTEST_ARGS ?=
NOTEBOOKS := notebooks
# Jupyter refuses to run as root (containers, CI, some cloud VMs) unless told it is intended.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root,)
SANITIZE := tests/nbval_sanitize.cfg
# PyTorch goes in first, the build this machine can use: on Linux without an NVIDIA GPU the CPU
# build from PyTorch's CPU index when it answers, else pip's default (tools/install_torch.py
# says which, in one line). TORCH_INDEX=default or TORCH_INDEX=<index URL> chooses instead.
TORCH_INDEX ?=
INSTALL_TORCH := $(BIN)/python tools/install_torch.py $(if $(TORCH_INDEX),--index "$(TORCH_INDEX)")

.PHONY: help lab test test-colab lint typecheck format execute exercises badges clean-venv

help:
	@echo "make lab      set up and open the course in JupyterLab"
	@echo "make test     set up and run all tests (unit, notebooks via nbval, lint, browser)"
	@echo "make execute  re-execute every notebook in place (maintainers, after editing one)"
	@echo "make exercises  re-execute the solution notebooks and regenerate the learner copies"
	@echo "make badges   write every notebook's Colab link and install cell from pyproject.toml"
	@echo "make test-colab  run notebooks 00-03 in a Colab-like environment (downloads a torch)"
	@echo "make format   format code and notebooks with ruff"
	@echo "make typecheck  check seglab's type annotations with mypy (part of make test)"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 10) <= v <= (3, 13) else "seglab needs Python 3.10 to 3.13; this is %d.%d. Run e.g. make lab PYTHON=python3.12" % v)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The course: the package and JupyterLab with the widget stack.
$(VENV)/.installed-lab: pyproject.toml | $(BIN)/python
	$(INSTALL_TORCH)
	$(BIN)/python -m pip install -e ".[lab]"
	@touch $@

# Tests need everything the course needs, plus the dev tools.
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(INSTALL_TORCH)
	$(BIN)/python -m pip install -e ".[lab,dev]"
	@touch $(VENV)/.installed-lab $@

lab: $(VENV)/.installed-lab
	$(BIN)/jupyter lab --ServerApp.root_dir=. "--LabApp.workspaces_dir=$(LAB_WORKSPACES)" --LabApp.default_url=/lab/tree/$(NOTEBOOKS)/00_setup.ipynb $(ALLOW_ROOT) $(LAB_ARGS)

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python tools/build_exercises.py --check
	$(BIN)/python tools/badges.py --check
	$(BIN)/python -m pytest tests $(NOTEBOOKS) exercises --nbval --nbval-sanitize-with $(SANITIZE) $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

# mypy reads [tool.mypy] in pyproject.toml: which files, how strict, which imports have no types
typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

execute: $(VENV)/.installed-dev
	$(BIN)/python tools/execute_notebooks.py $(NOTEBOOKS)

# after editing a solution notebook: execute it, then regenerate the learner copies
exercises: $(VENV)/.installed-dev
	$(BIN)/python tools/execute_notebooks.py exercises/solutions
	$(BIN)/python tools/build_exercises.py

# Notebooks 00-03 in an environment built like Colab's (.colab-venv: Python 3.13, its own torch,
# ipywidgets 7.7, anywidget; seglab installed by the notebooks' first cell). Downloads gigabytes.
test-colab: $(VENV)/.installed-dev
	SEGLAB_COLAB=1 $(BIN)/python -m pytest tests/test_colab_like.py -m colab -s $(PYTEST_ARGS)

# Every notebook's "Open in Colab" link and install cell, from [project.urls] Repository.
badges: $(VENV)/.installed-dev
	$(BIN)/python tools/badges.py

clean-venv:
	rm -rf $(VENV)
