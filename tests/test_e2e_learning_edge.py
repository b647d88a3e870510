"""End to end: `make learning-edge` (tools/learning_edge.py) on a tiny study: each run is the train stage's run,
number for number, until it leaves the chance level or reaches the cap, and the conclude stage reads it."""

import json
import sys

import pytest

from tests.pipeline import ONE_THREAD, dvc, make_repo, read_csv, run, set_params, tiny


TINY = tiny(**{"sweep.lrs": [1.0e-06, 0.001]})


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    repo = make_repo(tmp_path_factory.mktemp("edge"))
    set_params(repo, **TINY)
    for stage in ("train@1e-06-0", "train@0.001-1"):  # the twins, trained by DVC as `make run` trains them
        dvc(repo, "repro", stage, extra_env=ONE_THREAD)
    return repo


def test_each_run_repeats_the_train_stage_until_it_leaves_chance_or_reaches_the_cap(repo):
    result = run(repo, sys.executable, "-m", "tools.learning_edge", "--low", "1e-6", "--high", "1e-3", "--cap", "3",
                 "--jobs", "2")
    assert "2 LRs x 2 seeds" in result.stderr
    runs = {(r["lr"], r["seed"]): r for r in read_csv(repo / "metrics/learning_edge/runs.csv")}
    assert sorted(runs) == [("0.001", "0"), ("0.001", "1"), ("1e-06", "0"), ("1e-06", "1")]
    slow, fast = runs[("1e-06", "0")], runs[("0.001", "1")]
    assert (slow["left_chance_epoch"], slow["epochs"], slow["cap"], slow["threads"]) == ("", "3", "3", "1")
    assert fast["left_chance_epoch"] == fast["epochs"] and int(fast["epochs"]) <= 3  # stopped once above chance
    curves = read_csv(repo / "metrics/learning_edge/curves.csv")
    for lr, seed in (("1e-06", "0"), ("0.001", "1")):
        mine = [(float(r["train_loss"]), float(r["valid_acc"])) for r in curves if (r["lr"], r["seed"]) == (lr, seed)]
        twin = [(float(r["train_loss"]), float(r["valid_acc"]))
                for r in read_csv(repo / f"data/runs/{lr}-{seed}/history.csv")]
        n = min(len(mine), len(twin))
        assert n >= 1 and mine[:n] == twin[:n], (lr, seed)  # the same arithmetic, to the last bit
    experiment = json.loads((repo / "metrics/learning_edge/experiment.json").read_text())
    assert experiment["cap"] == 3 and experiment["lrs"] == ["1e-06", "0.001"] and experiment["seeds"] == [0, 1]


def test_bad_arguments_stop_with_one_line(repo):
    for args, message in ((["--jobs", "²"], "--jobs must be auto or a whole number"),
                          (["--low", "1", "--high", "2"], "sweep.lrs has no LR from 1 to 2"),
                          (["--cap", "0"], "--cap must be from 1 to 10000")):
        result = run(repo, sys.executable, "-m", "tools.learning_edge", *args, check=False)
        assert result.returncode == 2 if "--jobs" not in args else result.returncode != 0
        assert message in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_the_speed_check_trains_until_the_stated_accuracy_as_the_train_stage_would(repo):
    """make speed-check (tools/speed_check.py): each run is the train stage's run, number for number, without early
    stopping, until its validation accuracy first reaches analysis.learned_accuracy; its folder is written whole."""
    set_params(repo, **{"analysis.learned_accuracy": 0.5})
    result = run(repo, sys.executable, "-m", "tools.speed_check", "--lr", "0.001", "--seeds", "2", "--cap", "6",
                 "--jobs", "2")
    assert "lr 0.001 x 2 seeds, until validation accuracy >= 0.5" in result.stderr
    folder = repo / "metrics/speed_check"
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "curves.csv", "experiment.json", "runs.csv"]
    runs = read_csv(folder / "runs.csv")
    assert [(r["lr"], r["seed"]) for r in runs] == [("0.001", "0"), ("0.001", "1")]
    curves = read_csv(folder / "curves.csv")
    for r in runs:
        accuracy = [float(c["valid_acc"]) for c in curves if c["seed"] == r["seed"]]
        assert r["reached_epoch"] == r["epochs"] == str(len(accuracy))  # stopped at the first epoch at 0.5
        assert accuracy[-1] >= 0.5 and all(a < 0.5 for a in accuracy[:-1])
    mine = [(float(c["train_loss"]), float(c["valid_acc"])) for c in curves if c["seed"] == "1"]
    twin = [(float(r["train_loss"]), float(r["valid_acc"])) for r in read_csv(repo / "data/runs/0.001-1/history.csv")]
    n = min(len(mine), len(twin))
    assert n >= 1 and mine[:n] == twin[:n]  # the same arithmetic as the train stage's run, to the last bit
    experiment = json.loads((folder / "experiment.json").read_text())
    assert (experiment["lr"], experiment["seeds"], experiment["level"], experiment["cap"]) == ("0.001", [0, 1], 0.5, 6)
    bad = run(repo, sys.executable, "-m", "tools.speed_check", "--seeds", "9", check=False)
    assert bad.returncode == 2 and "--seeds must be from 1 to the 2 seeds" in bad.stderr
