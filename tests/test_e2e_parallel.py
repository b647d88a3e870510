"""End to end: the study with 2 train stages at a time, after Ctrl-C, and spread over three "machines" (clones)
that share a DVC remote; each compared with a serial `dvc repro` of the same tiny sweep (the tiny study every
end-to-end module shares, made once per test run)."""

import csv
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml

from tests.pipeline import TINY, clone, commit, copy_study, dvc, env, make_repo, run, run_study, set_params

TRAIN_STAGES = {f"train@{lr}-{seed}" for lr in ("1e-06", "0.001", "0.01") for seed in (0, 1)}
# Workers run with 1 thread each; the serial reference too, so that the floating-point sums agree to the bit.
TIMING = {"train_time_s", "sec_per_epoch", "startup_s", "stage_wall_s", "started_at", "finished_at",
          "train_time_median_s", "cost_s"}


@pytest.fixture(scope="module")
def origin(tmp_path_factory):
    """The project with the tiny sweep committed, and a local-directory DVC remote as the shared storage."""
    base = tmp_path_factory.mktemp("parallel")
    repo = make_repo(base / "origin")
    set_params(repo, **TINY)
    dvc(repo, "remote", "add", "-d", "shared", str(base / "remote"))
    commit(repo, "tiny sweep, shared remote")
    return repo


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
    set_params(repo, **{"train.max_epochs": 60, "train.patience": 60})  # runs long enough to be interrupted
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
    set_params(repo, **{"train.max_epochs": 60, "train.patience": 60})
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
    assert json.loads((runs_dir / f"{lr}-{seed}" / "results.json").read_text())["epochs"] == 60
    for name, started_at in others.items():
        assert json.loads((runs_dir / name / "results.json").read_text())["started_at"] == started_at
    assert "up to date" in dvc(repo, "status").stdout


def _wait_for_processes_to_end(repo: Path, seconds: float = 60) -> list[str]:
    deadline = time.time() + seconds
    while processes_in(repo) and time.time() < deadline:
        time.sleep(0.5)
    return processes_in(repo)


def test_a_runner_killed_outright_leaves_no_stage_running_and_the_next_run_resumes(origin):
    """kill -9 of the runner (or of make run): its guard stops the workers; nothing is left holding DVC's lock."""
    repo = on_its_own(clone(origin, origin.parent / "runner-killed"))
    set_params(repo, **{"train.max_epochs": 30, "train.patience": 30})
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


def test_a_share_stopped_half_way_resumes_on_a_fresh_machine_from_what_it_pushed(origin):
    """A preempted or requeued cluster task starts again from a fresh clone: each run its share pushed as it
    finished is restored, not trained again."""
    first = clone(origin, origin.parent / "preempted")
    set_params(first, **{"train.max_epochs": 60, "train.patience": 60})
    commit(first, "longer runs")
    runner = subprocess.Popen([sys.executable, "-m", "tools.run_study", "--jobs", "2", "--shard", "1/1", "--push"],
                              cwd=first, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    runs_dir, deadline = first / "data/runs", time.time() + 600
    while time.time() < deadline and runner.poll() is None:  # until one run has finished and been pushed
        logs = [p.read_text(errors="replace") for p in (first / ".dvc/tmp/run_study").glob("train_*.log")]
        if sum("Updating lock file" in log for log in logs) >= 1 and len(logs) >= 3:
            break
        time.sleep(0.5)
    time.sleep(5)  # the push of the finished run
    runner.send_signal(signal.SIGTERM)  # the scheduler preempts the task
    runner.communicate(timeout=120)
    finished = {p.name for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith(".")}
    assert 1 <= len(finished) < 6

    again = clone(first, origin.parent / "requeued")  # the requeued task: a fresh clone of the same commit
    resumed = run_study(again, "--jobs", "2", "--shard", "1/1", "--push")
    restored = {log.stem.removeprefix("train_") for log in (again / ".dvc/tmp/run_study").glob("train_*.log")
                if "is cached - skipping run" in log.read_text()}
    assert finished <= restored, (finished, restored)  # every run pushed before the stop came back untrained
    assert f"{len(restored)} restored from the DVC remote or the run-cache, {6 - len(restored)} trained here" in resumed.stderr


def test_sigterm_while_the_final_stages_run_stops_them_and_nothing_is_written_later(origin):
    repo = on_its_own(clone(origin, origin.parent / "final-stopped"))
    # a range test that runs long enough to be stopped in the middle
    set_params(repo, **{"lr_find.steps": 4000, "lr_find.divergence": 1.0e9})
    commit(repo, "long range test")
    run_study(repo, "--jobs", "2", "--shard", "1/1")  # the train stages first: then only the final stages are left
    outputs = sorted((repo / "metrics/lr_find").glob("*"))  # DVC removes them before the stage runs

    def written() -> dict:
        return {p.name: p.stat().st_mtime_ns if p.exists() else None for p in outputs}

    runner = subprocess.Popen([sys.executable, "-m", "tools.run_study", "--jobs", "2"], cwd=repo, env=env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while time.time() < deadline and runner.poll() is None and not any("stages.lr_find" in p for p in processes_in(repo)):
        time.sleep(0.2)
    assert any("stages.lr_find" in p for p in processes_in(repo)), "the range test was not running"
    runner.send_signal(signal.SIGTERM)  # a scheduler's stop
    out, err = runner.communicate(timeout=120)
    assert runner.returncode == 130 and "run the same command again to resume" in err, err
    assert _wait_for_processes_to_end(repo, 10) == []
    when_stopped = written()
    time.sleep(5)
    assert written() == when_stopped  # no stage went on to write its outputs


def test_a_corrupted_split_or_raw_file_is_rebuilt_by_its_stage_and_no_run_retrains(origin, serial):
    repo = on_its_own(copy_study(serial, origin.parent / "corrupted"))  # the whole study, made; no remote
    assert "up to date" in dvc(repo, "status").stdout
    (repo / "data/split/tensors.pt").write_bytes(b"not a tensor file")
    raw = repo / "data/raw/MNIST/raw/t10k-labels-idx1-ubyte"
    raw.write_bytes(raw.read_bytes()[:100])  # truncated
    status = dvc(repo, "status").stdout
    assert "data/split" in status and "data/raw/MNIST/raw" in status
    # run directly, the split stage names the bad file instead of reading it
    direct = run(repo, sys.executable, "-m", "stages.split", check=False)
    assert direct.returncode != 0 and "t10k-labels-idx1-ubyte is not the original MNIST file" in direct.stderr
    assert "Traceback" not in direct.stderr

    again = run_study(repo, "--jobs", "2")
    for stage in ("download", "split"):  # run again, or restored from DVC's run-cache: either way rebuilt
        assert f"Running stage '{stage}'" in again.stdout or f"Stage '{stage}' is cached" in again.stdout
    # the rebuilt split is the same as before, so no run is trained again
    assert "0 to run or restore" in again.stderr
    assert "up to date" in dvc(repo, "status").stdout
    assert results(repo) == results(serial)


def test_a_second_runner_in_the_same_workspace_says_so_and_stops(origin, monkeypatch):
    from tools import run_study as runner

    monkeypatch.chdir(origin)
    held = runner.hold_lock()
    try:
        with pytest.raises(SystemExit, match="another run of the study is going on in this workspace"):
            runner.hold_lock()
    finally:
        held.close()


def test_shards_on_two_machines_and_a_third_that_assembles_without_training(origin, serial):
    workers = [clone(origin, origin.parent / f"worker{i}") for i in (1, 2)]
    shares = []
    for i, worker in enumerate(workers, start=1):
        result = run_study(worker, "--jobs", "2", "--shard", f"{i}/2", "--push")  # 1 thread each, as `serial`
        shares.append({stage for log in worker_logs(worker) for stage in trained(log)})
        assert "Running stage 'aggregate'" not in result.stdout  # a share trains; it does not aggregate
    assert shares[0] | shares[1] == TRAIN_STAGES and not shares[0] & shares[1]

    # the assembling machine: `make run` pulls from the default remote; `dvc repro --pull` is DVC's own way
    final = clone(origin, origin.parent / "final")
    run_study(final, "--jobs", "2")
    logs = worker_logs(final)
    assert len(logs) == len(TRAIN_STAGES)
    assert all("is cached - skipping run" in log and "Running stage" not in log for log in logs)
    by_hand = clone(origin, origin.parent / "by-hand")
    assembled = dvc(by_hand, "repro", "--pull")
    assert trained(assembled.stdout) == []
    assert set(re.findall(r"Stage '(train@[^']+)' is cached - skipping run", assembled.stdout)) == TRAIN_STAGES
    # the runs are the workers' own: the same start times, recorded when they trained
    by_run = {(r["lr"], r["seed"]): r["started_at"] for r in _csv(final / "metrics/runs.csv")}
    for worker, share in zip(workers, shares):
        for stage in share:
            lr, seed = stage.removeprefix("train@").rsplit("-", 1)
            recorded = json.loads((worker / "data/runs" / f"{lr}-{seed}" / "results.json").read_text())
            assert by_run[(lr, seed)] == recorded["started_at"]
    for repo in (final, by_hand):
        assert "up to date" in dvc(repo, "status").stdout
        assert results(repo) == results(serial)
