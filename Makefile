# Two commands for users: `make run` (the whole study) and `make test`.
# VENV=/path/to/venv: use an environment built before (a shared one on a cluster): if it has the packages of
# requirements.txt and constraints.txt (its .installed stamp holds their hash), nothing is installed.
VENV ?= .venv
VENV_DIR := $(abspath $(VENV))
PYTHON := $(VENV_DIR)/bin/python
STAMP := $(VENV_DIR)/.installed
REQUIREMENTS_HASH := $(shell cat requirements.txt constraints.txt | sha256sum | cut -c1-16)
# PATH separates its folders with ':', so a folder whose path holds one cannot be on it: stop before any stage runs
# the system's python instead of the venv's.
ifneq ($(findstring :,$(VENV_DIR)),)
$(error the environment's path $(VENV_DIR) contains a ':', which PATH cannot hold: move the project (or VENV) to a path without one)
endif
# Stage commands in dvc.yaml call `python`: make it the venv's.
export PATH := $(VENV_DIR)/bin:$(PATH)

# make run JOBS=N: N train stages at a time (auto: one per usable CPU, or one per GPU; 1: one after another).
# make shard SHARD=I/N: this machine's share of the train stages, pushed to the default DVC remote.
JOBS ?= auto
NAMES ?=
SHARD ?=

.PHONY: setup run shard ablation learning-edge experiments test bench clean-venv

# Installs only when the environment lacks what requirements.txt and constraints.txt (every package pinned) ask for:
# the stamp holds their hash, so a fresh clone (new file times) or a prebuilt VENV installs nothing again.
setup:
	@if [ -x "$(PYTHON)" ] && [ "$$(cat "$(STAMP)" 2>/dev/null)" = "$(REQUIREMENTS_HASH)" ]; then \
	    echo "setup: $(VENV_DIR) has the pinned packages"; \
	else \
	    set -e; test -x "$(PYTHON)" || python3 -m venv "$(VENV_DIR)"; \
	    "$(PYTHON)" -m pip install --quiet --upgrade pip; \
	    "$(PYTHON)" -m pip install --quiet -r requirements.txt -c constraints.txt; \
	    echo "$(REQUIREMENTS_HASH)" > "$(STAMP)"; \
	fi

run: setup
	$(PYTHON) -m tools.run_study --jobs $(JOBS)

shard: setup
	@test -n "$(SHARD)" || { echo "make shard needs SHARD=I/N, e.g. make shard SHARD=1/4"; exit 2; }
	$(PYTHON) -m tools.run_study --jobs $(JOBS) --shard $(SHARD) --push

# The patience ablation (issue: why do small LRs end less accurate?): a DVC experiment, trained JOBS at a time.
ablation: setup
	$(PYTHON) -m tools.patience_ablation --jobs $(JOBS)

# The learning edge without early stopping: each LR from 1e-6 to 1e-5 until it leaves the chance level (#19).
learning-edge: setup
	dvc repro split
	$(PYTHON) -m tools.learning_edge --jobs $(JOBS)

# The study's checks of its own answer as DVC experiments (the ablation's reference, other splits); NAMES=... for some.
experiments: setup
	$(PYTHON) -m tools.experiments $(NAMES) --jobs $(JOBS)

test: setup
	$(PYTHON) -m pytest

bench: setup
	dvc repro split
	$(PYTHON) -m bench.epoch

clean-venv:
	rm -rf $(VENV)
