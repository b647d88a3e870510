"""What the end-to-end tests of the parallel runner share (tests/test_e2e_parallel.py: 2 jobs, Ctrl-C, SIGKILL;
tests/test_e2e_shards.py: shares on several machines, a preempted share, stopped final stages): the tiny sweep
committed with a shared DVC remote, and how a run of it is compared with the serial `dvc repro` of the same sweep
(the tiny study every end-to-end module shares, made once per test run)."""

import csv
import json
import re
import time
from pathlib import Path

import psutil
import pytest
import yaml

from tests.pipeline import TINY, commit, dvc, make_repo, set_params

TRAIN_STAGES = {f"train@{lr}-{seed}" for lr in ("1e-06", "0.001", "0.01") for seed in (0, 1)}
# Workers run with 1 thread each; the serial reference too, so that the floating-point sums agree to the bit.
TIMING = {"train_time_s", "sec_per_epoch", "startup_s", "stage_wall_s", "started_at", "finished_at",
          "train_time_median_s", "cost_s"}


# Runs long enough to be interrupted: each trains for several seconds beyond its start-up.
LONG_RUNS = {"train.max_epochs": 30, "train.patience": 30}


def make_origin(tmp_path_factory) -> Path:
    """The project with the tiny sweep committed, and a local-directory DVC remote as the shared storage."""
    base = tmp_path_factory.mktemp("parallel")
    repo = make_repo(base / "origin")
    set_params(repo, **TINY)
    dvc(repo, "remote", "add", "-d", "shared", str(base / "remote"))
    commit(repo, "tiny sweep, shared remote")
    return repo


@pytest.fixture(scope="module")
def origin(tmp_path_factory):
    """The tiny sweep committed with a shared remote, once per module (tests/test_e2e_parallel.py, _shards.py)."""
    return make_origin(tmp_path_factory)


@pytest.fixture(scope="module")
def serial(tiny_study):
    """The same tiny sweep trained one stage at a time by `dvc repro`, with one thread (read only)."""
    return tiny_study


def timing_free(value):
    if isinstance(value, dict):
        return {k: timing_free(v) for k, v in value.items() if k not in TIMING and k not in ("cost", "machine")}
    return value


def results(repo: Path) -> dict:
    return {
        "summary": timing_free(json.loads((repo / "metrics/sweep.json").read_text())),
        "runs": [{k: v for k, v in row.items() if k not in TIMING}
                 for row in _csv(repo / "metrics/runs.csv")],
    }


def _csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def lock_content(repo: Path) -> dict:
    """dvc.lock without the runs' output hashes (their results.json records timings, different every run)."""
    stages = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
    for name, stage in stages.items():
        if name in TRAIN_STAGES or name in ("aggregate", "conclude", "plot", "report"):  # outputs with timings
            stage["outs"] = [out["path"] for out in stage.get("outs", [])]
        stage["deps"] = [d for d in stage.get("deps", []) if not d["path"].startswith(("data/runs", "metrics/", "plots"))]
    return stages


def processes_in(repo: Path) -> list[str]:
    found = []
    for process in psutil.process_iter(["cwd", "cmdline"]):
        if process.info["cwd"] == str(repo):
            found.append(" ".join(process.info["cmdline"] or []))
    return found


def trained(output: str) -> list[str]:
    return [s for s in re.findall(r"Running stage '([^']+)'", output) if s.startswith("train@")]


def worker_logs(repo: Path) -> list[str]:
    """What the runner's workers printed, one log per train stage."""
    return [p.read_text(errors="replace") for p in sorted((repo / ".dvc/tmp/run_study").glob("train_*.log"))]


def on_its_own(repo: Path) -> Path:
    """A clone that trains everything itself: no shared remote to pull finished runs from."""
    dvc(repo, "remote", "default", "--unset")
    return repo


def _wait_for_processes_to_end(repo: Path, seconds: float = 60) -> list[str]:
    deadline = time.time() + seconds
    while processes_in(repo) and time.time() < deadline:
        time.sleep(0.5)
    return processes_in(repo)
