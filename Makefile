# Two commands for users: `make run` (the whole study) and `make test`.
VENV := .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Stage commands in dvc.yaml call `python`: make it the venv's.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup run test bench clean-venv

setup: $(STAMP)

# Rebuilt only when requirements.txt changes.
$(STAMP): requirements.txt
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

run: setup
	dvc repro

test: setup
	$(PYTHON) -m pytest

bench: setup
	dvc repro split
	$(PYTHON) -m bench.epoch

clean-venv:
	rm -rf $(VENV)
