"""End to end: the study spread over three "machines" (clones) that share a DVC remote, a preempted share resumed
on a fresh clone, the final stages stopped by SIGTERM, damaged inputs rebuilt, and a second runner refused; each
compared with a serial `dvc repro` of the same tiny sweep (tests/parallel.py)."""

import json
import re
import signal
import subprocess
import sys
import time

import pytest
import yaml

from tests.parallel import (origin, serial,  # noqa: F401 (fixtures)
                            LONG_RUNS, TRAIN_STAGES, _csv, _wait_for_processes_to_end, on_its_own,
                            processes_in, results, trained, worker_logs)
from tests.pipeline import clone, commit, copy_study, dvc, env, run, run_study, set_params


def test_a_share_stopped_half_way_resumes_on_a_fresh_machine_from_what_it_pushed(origin):
    """A preempted or requeued cluster task starts again from a fresh clone: each run its share pushed as it
    finished is restored, not trained again."""
    first = clone(origin, origin.parent / "preempted")
    set_params(first, **LONG_RUNS)
    commit(first, "longer runs")
    runner = subprocess.Popen([sys.executable, "-m", "tools.run_study", "--jobs", "2", "--shard", "1/1", "--push"],
                              cwd=first, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 600
    while time.time() < deadline and runner.poll() is None:  # until one run has finished and been pushed
        logs = [p.read_text(errors="replace") for p in (first / ".dvc/tmp/run_study").glob("train_*.log")]
        if sum("Updating lock file" in log for log in logs) >= 1 and len(logs) >= 3:
            break
        time.sleep(0.5)
    time.sleep(5)  # the push of the finished run
    runner.send_signal(signal.SIGTERM)  # the scheduler preempts the task
    _, err = runner.communicate(timeout=120)
    # the runs the runner counted as finished, each pushed as it ended or before stopping (a run stopped in DVC's
    # bookkeeping after its folder was written is not one of them: it is trained again, as it should be)
    done = int(re.search(r"stopped after (\d+)/6 train stages", err).group(1))
    recorded = {name.removeprefix("train@") for name in yaml.safe_load(
        (first / "dvc.lock").read_text())["stages"] if name.startswith("train@")}
    assert 1 <= done < 6, err

    again = clone(first, origin.parent / "requeued")  # the requeued task: a fresh clone of the same commit
    resumed = run_study(again, "--jobs", "2", "--shard", "1/1", "--push")
    restored = {log.stem.removeprefix("train_") for log in (again / ".dvc/tmp/run_study").glob("train_*.log")
                if "is cached - skipping run" in log.read_text()}
    # every run finished and pushed before the stop came back untrained, and only runs the first share made
    assert len(restored) >= done and restored <= recorded, (done, restored, recorded)
    assert f"{len(restored)} restored from the DVC remote or the run-cache, {6 - len(restored)} trained here" in resumed.stderr


def test_sigterm_while_the_final_stages_run_stops_them_and_nothing_is_written_later(origin, serial):
    # the whole tiny study, made (its train stages up to date), with a range test long enough to be stopped in the
    # middle: only the final stages are left to run
    repo = copy_study(serial, origin.parent / "final-stopped")
    set_params(repo, **{"lr_find.steps": 4000, "lr_find.divergence": 1.0e9})
    commit(repo, "long range test")
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
