"""End to end: real DVC runs of the pipeline, on the real MNIST files, in a temporary git repo."""

import csv
import json

import pytest

from stages.lib import params as P
from stages.lib.mnist import SHA256, sha256_of
from tests.pipeline import dvc, make_repo, set_params, tiny


TINY = tiny(**{"data.train_size": 200, "data.valid_size": 200, "train.max_epochs": 3,
               "sweep.lrs": [0.0001, 0.001, 0.01]})
RUN_FIELDS = {"lr", "seed", "best_valid_acc", "test_acc", "train_time_s", "epochs", "best_epoch", "sec_per_epoch",
              "stopped_by", "device", "threads", "startup_s", "stage_wall_s", "started_at", "finished_at",
              "batch_size", "patience", "max_epochs", "double_softmax", "train_size", "valid_size", "precision",
              "cpu_capability", "onednn_isa", "mkl_isa", "isa_pins"}


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return make_repo(tmp_path_factory.mktemp("lr-sweep"))


def read_json(path):
    return json.loads(path.read_text())


def test_repro_split_downloads_verified_files_and_a_reproducible_split(repo):
    # files placed by hand in data/manual/ survive DVC deleting the stage's output, and are used first
    result = dvc(repo, "repro", "split")
    assert "download: data/raw/MNIST/raw verified (files placed in data/manual/)" in result.stderr + result.stdout
    raw = repo / "data/raw/MNIST/raw"
    assert {p.name: sha256_of(p) for p in raw.iterdir()} == SHA256

    indices = read_json(repo / "data/split/indices.json")
    assert len(indices["train"]) == 3000 and len(indices["valid"]) == 5000
    assert not set(indices["train"]) & set(indices["valid"])
    counts = read_json(repo / "metrics/split.json")
    assert [counts[s]["size"] for s in ("train", "valid", "test")] == [3000, 5000, 10000]
    assert sum(counts["test"]["class_counts"].values()) == 10000

    before = {p.name: p.read_bytes() for p in (repo / "data/split").iterdir()}
    dvc(repo, "repro", "--force", "--single-item", "split")
    assert {p.name: p.read_bytes() for p in (repo / "data/split").iterdir()} == before


def test_bad_split_params_stop_with_a_message_naming_the_parameter(repo):
    set_params(repo, **{"data.train_size": 59000, "data.valid_size": 2000})
    result = dvc(repo, "repro", "split", check=False)
    assert result.returncode != 0
    assert "data.train_size + data.valid_size = 61000" in result.stdout + result.stderr
    set_params(repo, **{"data.train_size": 3000, "data.valid_size": 5000})


def test_repro_train_writes_complete_results_the_same_twice(repo):
    set_params(repo, **TINY)
    dvc(repo, "repro", "train@0.001-1")
    run_dir = repo / "data/runs/0.001-1"
    assert sorted(p.name for p in run_dir.iterdir()) == ["history.csv", "results.json"]  # no weights unless asked
    first = read_json(run_dir / "results.json")
    assert set(first) >= RUN_FIELDS
    assert first["lr"] == 0.001 and first["seed"] == 1 and first["epochs"] <= 3 and first["device"] == "cpu"
    assert (first["train_size"], first["valid_size"], first["patience"]) == (200, 200, 2)
    assert 0.3 < first["best_valid_acc"] <= 1 and 0.3 < first["test_acc"] <= 1
    with open(run_dir / "history.csv") as f:
        history = list(csv.DictReader(f))
    assert len(history) == first["epochs"]
    # the instruction sets the math ran with, as PyTorch, oneDNN and MKL name them on this machine
    assert first["cpu_capability"] in ("AVX2", "AVX512", "DEFAULT") and first["onednn_isa"].startswith("Intel")
    assert first["mkl_isa"] and first["isa_pins"] == {}

    set_params(repo, **{"train.save_weights": True})  # weights kept only when a setting asks
    dvc(repo, "repro", "--single-item", "train@0.001-1")
    assert (run_dir / "model.pt").stat().st_size > 100_000
    second = read_json(run_dir / "results.json")
    timing = ("train_time_s", "sec_per_epoch", "startup_s", "stage_wall_s", "started_at", "finished_at")
    assert {k: v for k, v in first.items() if k not in timing} == {k: v for k, v in second.items() if k not in timing}

    set_params(repo, **{"train.save_weights": False})
    # another training seed: other initial weights and batch order, so another run
    dvc(repo, "repro", "train@0.001-0")
    other_seed = read_json(repo / "data/runs/0.001-0/results.json")
    assert other_seed["seed"] == 0
    assert (repo / "data/runs/0.001-0/history.csv").read_text() != (run_dir / "history.csv").read_text()


def test_params_survive_dvc_exp_run_rewriting_params_yaml(repo):
    dvc(repo, "exp", "run", "-S", "sweep.lrs=[1e-05,0.001]", "-S", "train.max_epochs=1", "train@1e-05-0")
    text = (repo / "params.yaml").read_text()
    assert "1e-05" in text  # ruamel's YAML 1.2 spelling, a string to a plain PyYAML load
    params = P.load_params(repo / "params.yaml")
    assert P.sweep_lrs(params) == [1e-05, 0.001]
    result = read_json(repo / "data/runs/1e-05-0/results.json")
    assert result["lr"] == 1e-05 and result["seed"] == 0 and result["epochs"] == 1


def test_a_value_meant_for_a_shell_never_reaches_one_under_plain_dvc_repro(repo):
    """DVC pastes `${...}` values into the command a shell runs; the train command holds none (DVC_STAGE names
    the run), so a seed written to run a command is only a bad run name, refused by the stage (which reads its run
    from its name alone, not from the sweep: `make run` names the bad seed itself, before any dvc command)."""
    # the stages before the train stages up to date, so that the train stage is the first to see the seeds (split
    # and model_summary refuse them too)
    dvc(repo, "repro", "split", "model_summary")
    params = (repo / "params.yaml").read_text()
    try:
        set_params(repo, **{"sweep.lrs": [0.001], "sweep.seeds": ["0;touch${IFS}PWNED", "1`touch PWNED2`"]})
        result = dvc(repo, "repro", check=False)
    finally:
        (repo / "params.yaml").write_text(params)
    assert result.returncode != 0
    assert not (repo / "PWNED").exists() and not (repo / "PWNED2").exists()
    said = result.stdout + result.stderr
    assert "train: error: '0.001-0;touch${IFS}PWNED' is not a run name <lr>-<seed>" in said, said
