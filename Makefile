# Two commands for users: `make run` (the whole study) and `make test`.
VENV := .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Stage commands in dvc.yaml call `python`: make it the venv's.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

# make run JOBS=N: N train stages at a time (auto: one per usable CPU, or one per GPU; 1: one after another).
# make shard SHARD=I/N: this machine's share of the train stages, pushed to the default DVC remote.
JOBS ?= auto
SHARD ?=

.PHONY: setup run shard ablation test bench clean-venv

setup: $(STAMP)

# Rebuilt only when requirements.txt or constraints.txt change; constraints.txt pins every package.
$(STAMP): requirements.txt constraints.txt
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -r requirements.txt -c constraints.txt
	touch $(STAMP)

run: setup
	$(PYTHON) -m tools.run_study --jobs $(JOBS)

shard: setup
	@test -n "$(SHARD)" || { echo "make shard needs SHARD=I/N, e.g. make shard SHARD=1/4"; exit 2; }
	$(PYTHON) -m tools.run_study --jobs $(JOBS) --shard $(SHARD) --push

# The patience ablation (issue: why do small LRs end less accurate?): a DVC experiment, trained JOBS at a time.
ablation: setup
	$(PYTHON) -m tools.patience_ablation --jobs $(JOBS)

test: setup
	$(PYTHON) -m pytest

bench: setup
	dvc repro split
	$(PYTHON) -m bench.epoch

clean-venv:
	rm -rf $(VENV)
