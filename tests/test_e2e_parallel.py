"""End to end: the study with 2 train stages at a time against a serial `dvc repro` of the same tiny sweep, and
stopped by Ctrl-C, by a train stage killed with SIGKILL, and by the runner killed outright (tests/parallel.py)."""

import json
import signal
import subprocess
import sys
import time

import psutil
import pytest

from tests.parallel import (origin, serial,  # noqa: F401 (fixtures)
                            LONG_RUNS, TRAIN_STAGES, _csv, _wait_for_processes_to_end, lock_content,
                            on_its_own, processes_in, results, trained, worker_logs)
from tests.pipeline import clone, commit, dvc, env, run_study, set_params


def test_two_jobs_give_the_serial_results_and_a_clean_status(origin, serial):
    repo = on_its_own(clone(origin, origin.parent / "two-jobs"))
    result = run_study(repo, "--jobs", "2")
    assert "6 train stages, 0 up to date, 6 to run or restore; 2 workers, 1 CPU thread each" in result.stderr
    assert "6/6 train stages done" in result.stderr
    assert "up to date" in dvc(repo, "status").stdout
    assert results(repo) == results(serial)
    assert lock_content(repo) == lock_content(serial)
    # every run was made by its own worker process, one thread each
    runs = _csv(repo / "metrics/runs.csv")
    assert {r["threads"] for r in runs} == {"1"}
    assert sorted(stage for log in worker_logs(repo) for stage in trained(log)) == sorted(TRAIN_STAGES)
    # a second run has nothing to do
    again = run_study(repo, "--jobs", "2")
    assert "6 up to date, 0 to run or restore" in again.stderr and trained(again.stdout) == []


def test_ctrl_c_stops_every_worker_leaves_nothing_half_written_and_the_next_run_resumes(origin, serial):
    repo = on_its_own(clone(origin, origin.parent / "interrupted"))
    set_params(repo, **LONG_RUNS)  # runs long enough to be interrupted
    commit(repo, "longer runs")
    # SIGINT as a terminal's Ctrl-C delivers it, even where this test runs with SIGINT ignored (a background job
    # of a non-interactive shell ignores it, and its children inherit that: Python then installs no handler)
    runner = subprocess.Popen([sys.executable, "-m", "tools.run_study", "--jobs", "2"], cwd=repo, env=env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    logs = repo / ".dvc/tmp/run_study"
    deadline = time.time() + 600
    while time.time() < deadline and runner.poll() is None:  # wait until one run finished and two are training
        training = [p for p in logs.glob("train_*.log") if "epoch" in p.read_text(errors="replace")]
        if len(training) >= 3:
            break
        time.sleep(0.5)
    runner.send_signal(signal.SIGINT)
    out, err = runner.communicate(timeout=120)
    assert runner.returncode == 130, err
    assert "stopping the workers" in err and "run the same command again to resume" in err
    assert processes_in(repo) == []  # no worker, no DVC and no train stage left running
    # nothing half-written: every run folder there is complete, and no temporary folder is left
    runs_dir = repo / "data/runs"
    finished = {}
    for folder in runs_dir.iterdir() if runs_dir.exists() else []:
        if folder.name == ".gitignore":
            continue
        assert not folder.name.startswith("."), f"left behind: {folder}"
        assert sorted(p.name for p in folder.iterdir()) == ["history.csv", "results.json"]
        finished[folder.name] = json.loads((folder / "results.json").read_text())["started_at"]

    assert 1 <= len(finished) <= 4
    resumed = run_study(repo, "--jobs", "2")
    assert f"{len(finished)} up to date, {6 - len(finished)} to run" in resumed.stderr
    assert "up to date" in dvc(repo, "status").stdout
    for name, started_at in finished.items():  # finished runs were kept, not trained again
        assert json.loads((runs_dir / name / "results.json").read_text())["started_at"] == started_at
    assert len(_csv(repo / "metrics/runs.csv")) == 6


def test_a_train_stage_killed_mid_epoch_is_trained_again_and_nothing_else(origin):
    repo = on_its_own(clone(origin, origin.parent / "killed"))
    set_params(repo, **LONG_RUNS)
    commit(repo, "longer runs")
    runner = subprocess.Popen([sys.executable, "-m", "tools.run_study", "--jobs", "2"], cwd=repo, env=env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    logs, victim = repo / ".dvc/tmp/run_study", None
    deadline = time.time() + 600
    while victim is None and time.time() < deadline and runner.poll() is None:
        if len([p for p in logs.glob("train_*.log") if "epoch" in p.read_text(errors="replace")]) >= 3:
            training = [p for p in psutil.process_iter(["cwd", "cmdline"])
                        if p.info["cwd"] == str(repo) and "stages.train" in (p.info["cmdline"] or [])]
            victim = training[0] if training else None
        time.sleep(0.2)
    assert victim is not None, "no train stage to kill"
    lr, seed = victim.environ()["DVC_STAGE"].removeprefix("train@").rsplit("-", 1)  # DVC names the run
    victim.kill()  # SIGKILL: no chance to clean up
    out, err = runner.communicate(timeout=600)
    assert runner.returncode == 1 and f"train@{lr}-{seed} failed" in err
    assert "1 train stages failed" in err  # the others ran to the end

    runs_dir = repo / "data/runs"
    others = {p.name: json.loads((p / "results.json").read_text())["started_at"]
              for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith(".")}
    assert f"{lr}-{seed}" not in others and len(others) == 5
    resumed = run_study(repo, "--jobs", "2")
    assert "5 up to date, 1 to run or restore" in resumed.stderr
    assert json.loads((runs_dir / f"{lr}-{seed}" / "results.json").read_text())["epochs"] == LONG_RUNS["train.max_epochs"]
    for name, started_at in others.items():
        assert json.loads((runs_dir / name / "results.json").read_text())["started_at"] == started_at
    assert "up to date" in dvc(repo, "status").stdout


def test_a_runner_killed_outright_leaves_no_stage_running_and_the_next_run_resumes(origin):
    """kill -9 of the runner (or of make run): its guard stops the workers; nothing is left holding DVC's lock."""
    repo = on_its_own(clone(origin, origin.parent / "runner-killed"))
    set_params(repo, **LONG_RUNS)
    commit(repo, "longer runs")
    runner = subprocess.Popen([sys.executable, "-m", "tools.run_study", "--jobs", "2"], cwd=repo, env=env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    logs = repo / ".dvc/tmp/run_study"
    deadline = time.time() + 600
    while time.time() < deadline and runner.poll() is None:
        if len([p for p in logs.glob("train_*.log") if "epoch" in p.read_text(errors="replace")]) >= 2:
            break
        time.sleep(0.2)
    assert any("stages.train" in p for p in processes_in(repo)), "no train stage was running"
    runner.kill()
    runner.wait()
    assert _wait_for_processes_to_end(repo) == []  # no worker, no DVC, no train stage: no orphan
    resumed = run_study(repo, "--jobs", "2")  # not DVC's lock error
    assert "train stages done" in resumed.stderr and "up to date" in dvc(repo, "status").stdout


