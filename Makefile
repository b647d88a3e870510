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
# make shard SHARD=I/N: this machine's share of the train stages, each pushed to the default DVC remote as it ends.
JOBS ?= auto
# make verify RUNS=N: N committed runs, spread over the LR range, trained again and compared with the study;
# make reproduce: every run (hours: the whole study's compute).
RUNS ?= 10
RECORD ?=
BUDGET ?=
NAMES ?=
REMOTES ?=
PINNED_REMOTES := s3 ssh
space := $(subst ,, )
SHARD ?=

.PHONY: setup run shard prepare verify reproduce ablation learning-edge speed-check adaptive replay experiments test test-fast bench clean-venv

# Installs only when the environment lacks what requirements.txt and constraints.txt (every package pinned) ask for:
# the stamp holds their hash and the remote back-ends installed, so a fresh clone (new file times) or a prebuilt
# VENV installs nothing again. REMOTES=ssh,s3 adds DVC's back-ends for such remotes (dvc[ssh,s3], pinned too);
# back-ends installed before are kept.
setup:
	@set -e; stamp=$$(cat "$(STAMP)" 2>/dev/null || true); had=$$(echo "$$stamp" | cut -s -d' ' -f2); \
	for remote in $$(echo "$(REMOTES)" | tr ',' ' '); do \
	    case "$$remote" in $(subst $(space),|,$(PINNED_REMOTES))) ;; \
	        *) echo "setup: REMOTES may name $(PINNED_REMOTES) (their packages are pinned in constraints.txt), got '$$remote'" >&2; exit 2;; esac; \
	done; \
	want=$$(echo "$$had,$(REMOTES)" | tr ',' '\n' | grep . | sort -u | paste -sd, -); \
	if [ -x "$(PYTHON)" ] && [ "$$stamp" = "$$(echo $(REQUIREMENTS_HASH) $$want)" ]; then \
	    echo "setup: $(VENV_DIR) has the pinned packages$${want:+ and DVC's $$want back-ends}"; \
	else \
	    test -x "$(PYTHON)" || python3 -m venv "$(VENV_DIR)"; \
	    "$(PYTHON)" -m pip install --quiet --upgrade pip; \
	    "$(PYTHON)" -m pip install --quiet -r requirements.txt -c constraints.txt; \
	    if [ -n "$$want" ]; then "$(PYTHON)" -m pip install --quiet "dvc[$$want]" -c constraints.txt; fi; \
	    echo $(REQUIREMENTS_HASH) $$want > "$(STAMP)"; \
	fi

# The study brought up to date the DVC way: what the default remote holds (the project's own store, dvc-store/) is
# pulled, then only what a change of code or params needs is trained; with every run up to date, only the stages
# after them run (no MNIST, no network). `make reproduce` trains every run again instead.
run: setup
	$(PYTHON) -m tools.run_study --jobs $(JOBS)

shard: setup
	@test -n "$(SHARD)" || { echo "make shard needs SHARD=I/N, e.g. make shard SHARD=1/4"; exit 2; }
	$(PYTHON) -m tools.run_study --jobs $(JOBS) --shard $(SHARD) --push

# Before the shards of a cluster start: MNIST downloaded once, here, and pushed to the default remote for them to pull.
prepare: setup
	$(PYTHON) -m tools.run_study --prepare

# Any user checks the committed study: RUNS of its runs trained again here and compared with it, bit for bit.
verify: setup
	dvc repro split
	$(PYTHON) -m tools.verify --runs $(RUNS) --jobs $(JOBS) $(if $(RECORD),--record)

# Every committed run trained again on this machine (the study's whole compute: about 4 hours on 2 cores) and
# compared with the committed one, bit for bit; the workspace's runs are not touched.
reproduce: setup
	dvc repro split
	$(PYTHON) -m tools.verify --runs all --jobs $(JOBS) $(if $(RECORD),--record)

# The patience ablation (issue: why do small LRs end less accurate?): a DVC experiment, trained JOBS at a time.
ablation: setup
	$(PYTHON) -m tools.patience_ablation --jobs $(JOBS)

# The learning edge without early stopping: each LR from 1e-6 to 1e-5 until it leaves the chance level (#19).
learning-edge: setup
	dvc repro split
	$(PYTHON) -m tools.learning_edge --jobs $(JOBS)

# The speed law's prediction measured: the first 3 seeds at 2.512e-6 without early stopping until they reach
# analysis.learned_accuracy (about 30 minutes on 2 cores).
speed-check: setup
	dvc repro split
	$(PYTHON) -m tools.speed_check --jobs $(JOBS)

# The sequential study (stages/lib/adaptive.py, docs/adaptive.md) trained here: round by round, seeds only where a
# conclusion is still open (about 40% of the full study's epochs); each round recorded in metrics/adaptive/study.json.
# BUDGET=N: no round starts once the runs so far have cost N epochs.
adaptive: setup
	$(PYTHON) -m tools.adaptive run --jobs $(JOBS) $(if $(BUDGET),--budget-epochs $(BUDGET))

# The sequential study replayed on the committed runs for every order of the seeds: how often
# its answer is the full study's, for what share of the epochs (a few minutes; nothing trained).
replay: setup
	$(PYTHON) -m tools.adaptive replay --jobs $(JOBS)

# The study's checks of its own answer as DVC experiments (the ablation's reference, other splits); NAMES=... for some.
experiments: setup
	$(PYTHON) -m tools.experiments $(NAMES) --jobs $(JOBS)

# the tests run README's SSH and S3 remote examples: DVC's back-ends for them are part of the test environment.
# TEST_WORKERS pytest processes (pytest-xdist) take whole modules, longest first (tests/conftest.py): the end-to-end
# tests mostly wait on process start-up and DVC's bookkeeping, so two share 2 cores well. Every test of a second or
# more is listed at the end with its time (docs/test-durations.md is made from that list).
TEST_WORKERS ?= 2
test: REMOTES := ssh,s3
test: setup
	$(PYTHON) -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=0 --durations-min=1

# The quick tests only (no end-to-end DVC runs): about 2 minutes.
test-fast: setup
	$(PYTHON) -m pytest -m "not e2e"

bench: setup
	dvc repro split
	$(PYTHON) -m bench.epoch

clean-venv:
	rm -rf $(VENV)
