"""End to end: the patience ablation as a DVC experiment, trained by the parallel runner, on the tests' shared tiny
study (a copy: nothing of it is trained again)."""

import json
import re
import sys

import pytest

from tests.pipeline import commit, copy_study, dvc, read_csv, run


@pytest.fixture(scope="module")
def repo(tiny_study, tmp_path_factory):
    """The tiny study (patience 2, at most 4 epochs a run), committed as a study is before its ablation."""
    repo = copy_study(tiny_study, tmp_path_factory.mktemp("ablation") / "study")
    commit(repo, "tiny default sweep")
    return repo


@pytest.fixture(scope="module")
def ablation(repo):
    before = {name: (repo / name).read_text() for name in ("params.yaml", "dvc.lock")}
    result = run(repo, sys.executable, "-m", "tools.patience_ablation", "--patience", "3", "--max-epochs", "8",
                 "--seeds", "0", "1", "--lrs", "0.001", "0.01", "--jobs", "2")
    return result, before


def test_the_ablation_trains_in_parallel_and_records_a_dvc_experiment(repo, ablation):
    result, before = ablation
    assert "4 train stages, 0 up to date, 4 to run or restore; 2 workers" in result.stderr
    assert "4/4 train stages done" in result.stderr
    # `dvc exp run` restored every train stage from the run-cache: nothing trained twice
    restored = re.findall(r"Stage '(train@[^']+)' is cached - skipping run", result.stdout)
    assert sorted(restored) == ["train@0.001-0", "train@0.001-1", "train@0.01-0", "train@0.01-1"]
    assert "patience-3" in dvc(repo, "exp", "list", "--name-only").stdout.split()
    shown = dvc(repo, "exp", "show", "--csv").stdout
    assert re.search(r"patience-3,.*,3,", shown)  # the experiment's row has train.patience 3
    # the workspace is as it was; the scratch worktree is gone
    assert {name: (repo / name).read_text() for name in before} == before
    assert not (repo / ".dvc/tmp/patience_ablation").exists()
    assert "patience_ablation" not in run(repo, "git", "worktree", "list").stdout


def test_the_experiments_tables_are_kept_for_git(repo, ablation):
    folder = repo / "metrics/patience_ablation"
    runs = read_csv(folder / "runs.csv")
    assert [(r["lr"], r["seed"], r["patience"]) for r in runs] == [
        ("0.001", "0", "3"), ("0.001", "1", "3"), ("0.01", "0", "3"), ("0.01", "1", "3")]
    experiment = json.loads((folder / "experiment.json").read_text())
    assert experiment["name"] == "patience-3"
    assert experiment["set"] == ["train.patience=3", "train.max_epochs=8", "sweep.seeds=[0, 1]",
                                 "sweep.lrs=[0.001, 0.01]"]
    assert run(repo, "git", "cat-file", "-t", experiment["ref"]).stdout.strip() == "commit"


def test_each_ablation_run_repeats_its_default_twin_until_the_twin_stopped(repo, ablation):
    def curves(path):
        by_run = {}
        for row in read_csv(path):
            by_run.setdefault((row["lr"], row["seed"]), []).append((row["train_loss"], row["valid_acc"]))
        return by_run

    default, longer = curves(repo / "metrics/learning_curves.csv"), curves(repo / "metrics/patience_ablation/learning_curves.csv")
    assert len(longer) == 4
    for key, epochs in longer.items():
        twin = default[key]
        assert epochs[: len(twin)] == twin, key  # the same numbers, to the last digit written
        assert len(epochs) >= len(twin)
