"""The parallel runner's own decisions: shares, workers, threads (its end-to-end runs: test_e2e_parallel.py)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tools import run_study

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_shards_are_disjoint_cover_everything_and_stable():
    stages = [f"train@{lr}-{seed}" for lr in (1e-06, 1.259e-06, 0.001, 0.03162) for seed in range(5)]
    shares = {i: [s for s in stages if run_study.shard_of(s, 3) == i] for i in (1, 2, 3)}
    assert sorted(sum(shares.values(), [])) == sorted(stages)
    assert all(shares.values())  # 20 stages: every share gets some
    # the same stage always lands in the same share, whatever else the sweep holds
    assert [run_study.shard_of(s, 3) for s in stages[:3]] == [run_study.shard_of(s, 3) for s in stages[:3]]
    assert run_study.shard_of("train@0.001-0", 1) == 1


@pytest.mark.parametrize("text", ["", "0/2", "3/2", "1-2", "a/b", "1/0"])
def test_bad_shards_are_refused(text):
    with pytest.raises(SystemExit, match="--shard must look like I/N"):
        run_study.parse_shard(text)


def test_workers_and_threads():
    assert run_study.parse_shard("2/4") == (2, 4)
    workers, envs = run_study.plan_workers("auto", cores=2, gpus=0)
    assert workers == 2 and [e["OMP_NUM_THREADS"] for e in envs] == ["1", "1"]
    workers, envs = run_study.plan_workers("1", cores=2, gpus=0)
    assert workers == 1 and envs[0]["OMP_NUM_THREADS"] == "2"
    workers, envs = run_study.plan_workers("3", cores=16, gpus=0)
    assert workers == 3 and envs[0]["OMP_NUM_THREADS"] == "5"
    workers, envs = run_study.plan_workers("auto", cores=16, gpus=4)
    assert workers == 4 and [e["CUDA_VISIBLE_DEVICES"] for e in envs] == ["0", "1", "2", "3"]
    with pytest.raises(SystemExit, match="JOBS must be"):
        run_study.plan_workers("zero", cores=2, gpus=0)
    with pytest.raises(SystemExit, match="JOBS must be"):
        run_study.plan_workers("0", cores=2, gpus=0)


def test_progress_line_counts_and_estimates(tmp_path):
    log = tmp_path / "x.log"
    log.write_text("train@0.001-0  epoch  10  loss 0.1\ntrain@0.001-0  epoch  20  loss 0.05\n"
                   "train@0.001-0: early_stopping after 25 epochs (3.0 s); best valid 0.9 at epoch 23, test 0.9\n")
    progress = run_study.Progress(total=4, started_at=time.time() - 90)
    progress.done, progress.trained_seconds = ["a", "b"], [60.0, 60.0]
    workers = [run_study.Worker({}, stage="train@0.001-0", log=log), run_study.Worker({})]
    line = progress.line(workers, waiting=1)
    assert line.startswith("2/4 train stages done, 1:30 elapsed, ")
    assert "about 0:45 left" in line  # 60 s a stage x (1 waiting + 1 running / 2) / 2 workers
    assert line.endswith("running: train@0.001-0 (epoch 20)")


def test_leftovers_of_a_killed_run_are_removed_before_it_runs_again_and_nothing_else(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runs = tmp_path / "data/runs"
    runs.mkdir(parents=True)
    # a run killed while writing its folder (os._exit: no cleanup, as with SIGKILL), and one killed while
    # replacing an old folder, both through the real writer, so the names are the ones it really leaves
    killed = ("import os, sys; from pathlib import Path; from stages.lib.atomic import atomic_dir\n"
              "with atomic_dir(Path(sys.argv[1])) as tmp:\n"
              "    (tmp / 'results.json').write_text('{}'); os._exit(9)\n")
    for name in ("0.001-1", "0.001-10"):
        subprocess.run([sys.executable, "-c", killed, f"data/runs/{name}"], cwd=tmp_path,
                       env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, check=False)
    (runs / ".0.001-1.abc123.old").mkdir()
    (runs / "0.001-1").mkdir()  # a finished run of another workspace state: DVC's business, not the runner's
    left = sorted(p.name for p in runs.iterdir())
    assert len([n for n in left if n.startswith(".0.001-1.") and n.endswith(".tmp")]) == 1, left

    removed = run_study.remove_leftovers("train@0.001-1")
    assert sorted(p.name for p in removed) == sorted(n for n in left if n.startswith(".0.001-1."))
    assert sorted(p.name for p in runs.iterdir()) == sorted(["0.001-1"] + [n for n in left if n.startswith(".0.001-10.")])
    assert run_study.remove_leftovers("train@0.001-1") == []
