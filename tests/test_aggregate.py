"""The aggregate stage reads exactly the runs params.yaml names, refuses mixed settings, and writes
per-LR metrics for `dvc metrics show`."""

import json

import pandas as pd
import pytest

from stages import aggregate
from stages.lib import analysis
from stages.lib.layout import run_files
from stages.lib.params import run_name
from tests.test_analysis import run


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_run(lr, seed, acc, **settings):
    files = run_files(run_name(lr, seed))
    files["results"].parent.mkdir(parents=True, exist_ok=True)
    files["results"].write_text(json.dumps(run(lr, seed, acc) | {"patience": 5, "train_size": 3000} | settings))
    files["history"].write_text("epoch,train_loss,valid_acc,elapsed_s\n1,2.0,0.5,1.0\n2,1.0,0.9,2.0\n")


def test_reads_exactly_the_runs_params_name(workdir):
    for lr in (0.001, 0.01, 0.1):  # 0.1 and seed 2: runs left over from an older grid
        for seed in (0, 1, 2):
            write_run(lr, seed, 0.9)
    runs = aggregate.load_runs([0.01, 0.001], [0, 1])
    assert sorted((r["lr"], r["seed"]) for r in runs) == [(0.001, 0), (0.001, 1), (0.01, 0), (0.01, 1)]
    curves = aggregate.load_curves([0.01, 0.001], [1, 0])
    assert curves[["lr", "seed"]].drop_duplicates().values.tolist() == [[0.001, 0], [0.001, 1], [0.01, 0], [0.01, 1]]
    assert curves["log10_lr"].tolist()[:2] == [-3.0, -3.0]


def test_names_a_missing_run_and_the_command_that_makes_it(workdir):
    write_run(0.001, 0, 0.98)
    with pytest.raises(aggregate.SweepError, match=r"lr 1e-05, seed 0 .*dvc repro train@1e-05-0"):
        aggregate.load_runs([0.001, 1e-05], [0])


def test_refuses_runs_made_under_different_settings(workdir):
    write_run(0.001, 0, 0.98)
    write_run(0.01, 0, 0.97, patience=10)  # e.g. left over from `dvc exp run -S train.patience=10`
    with pytest.raises(aggregate.SweepError, match=r"different patience \(10, 5\)"):
        aggregate.load_runs([0.001, 0.01], [0])


def test_per_lr_metrics_keep_lr_order_and_exact_names():
    runs = [run(lr, seed, 0.9 + 0.01 * seed) for lr in (1e-06, 1.259e-05, 0.001) for seed in (0, 1)]
    empty = pd.DataFrame(columns=["lr", "seed", "epoch", "valid_acc"])
    runs[0]["best_valid_acc"] = 0.1  # 1e-06, seed 0 stays at chance
    _, lrs, summary = analysis.analyze(analysis.runs_table(runs, 0.2), empty, 0.005, 0.2)
    metrics = aggregate.per_lr_metrics(lrs, summary)
    assert list(metrics) == ["01_1e-06.json", "02_1.259e-05.json", "03_0.001.json"]
    assert metrics["03_0.001.json"]["valid"] == pytest.approx(0.905) and metrics["03_0.001.json"]["learned"] == "2/2"
    assert set(metrics["02_1.259e-05.json"]) == {"valid", "ci_low", "ci_high", "test", "learned", "epochs", "cost_s",
                                                  "time_s", "role"}
    # equal means: the tie goes to the smaller LR, which is also the cheapest
    assert metrics["02_1.259e-05.json"]["role"] == "best, trade-off"
    assert metrics["03_0.001.json"]["role"] == "best range"
    assert metrics["01_1e-06.json"]["role"] == "partial learning"
    json.dumps(metrics, allow_nan=False)


def test_lrs_survive_the_csv_round_trip(workdir):
    table = pd.DataFrame({"lr": [1.2345678e-05, 0.001], "valid_mean": [0.9, 0.98]})
    aggregate.write_csv(workdir / "t.csv", table)
    assert pd.read_csv(workdir / "t.csv")["lr"].tolist() == [1.2345678e-05, 0.001]
