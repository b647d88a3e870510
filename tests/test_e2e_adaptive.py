"""End to end: `make adaptive` (tools/adaptive.py run) on a tiny study with real DVC: round 1 trains one seed at every
LR, later rounds only the runs the rules ask for, each a `train@<lr>-<seed>` stage whose run is the one `dvc repro`
makes; every round is recorded with its reasons; run again, or where the full study exists, it trains nothing and
comes to the same record."""

import json
import shutil
import sys

import pytest

from stages.lib.run_params import run_name
from tests.pipeline import TINY, copy_study, dvc, make_repo, read_csv, run, set_params

STUDY = "metrics/adaptive/study.json"


def adaptive(repo, *args):
    return run(repo, sys.executable, "-m", "tools.adaptive", "run", "--jobs", "2", *args)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The tiny study's sweep (3 LRs x 2 seeds) run the adaptive way in a repo with no runs: what it trained."""
    repo = make_repo(tmp_path_factory.mktemp("adaptive"))
    set_params(repo, **TINY)
    result = adaptive(repo)
    return repo, result, json.loads((repo / STUDY).read_text())


def test_rounds_train_only_what_the_rules_ask_for(trained):
    repo, result, study = trained
    rounds = study["rounds"]
    assert study["done"] and len(rounds) >= 2 and study["order"] == TINY["sweep.seeds"]
    first = rounds[0]
    assert first["runs"] == first["trained"] == len(TINY["sweep.lrs"])
    assert [row["seeds"] for row in first["lrs"]] == [1, 1, 1]
    # each later round adds exactly the runs the round before named, with the reason for each
    for before, after in zip(rounds, rounds[1:]):
        asked = [row["next"] for row in before["lrs"] if row["next"]]
        assert asked and all(row["open"] and row["reason"] in ("best", "as good", "edge")
                             for row in before["lrs"] if row["next"])
        assert after["runs"] == before["runs"] + len(asked) and after["trained"] == len(asked)
    assert not any(row["next"] for row in rounds[-1]["lrs"])  # it stopped: nothing is open
    on_disk = sorted(p.name for p in (repo / "data/runs").iterdir() if p.is_dir())
    assert on_disk == sorted(study["runs"])  # the runs it asked for, and no other
    assert sum(r["trained"] for r in rounds) == len(on_disk) == study["trained"]
    table = read_csv(repo / "metrics/adaptive/runs.csv")
    assert sorted(f"{row['lr']}-{row['seed']}" for row in table) == on_disk
    assert study["epochs"] == sum(int(row["epochs"]) for row in table)
    assert study["full"] is None  # no full study of this sweep here to compare with
    assert f"adaptive: {len(rounds)} rounds, {len(on_disk)} runs ({len(on_disk)} trained here)" in result.stdout


def test_each_run_is_the_train_stage_dvc_repro_makes(trained, tiny_study):
    """The adaptive study's runs are DVC's train stages: up to date for `dvc status`, and number for number the runs
    of the tiny study that plain `dvc repro` made."""
    repo, _, study = trained
    stages = [f"train@{name}" for name in study["runs"]]
    status = json.loads(dvc(repo, "status", "--json", *stages).stdout or "{}")
    assert status == {}
    for name in study["runs"]:
        mine = json.loads((repo / "data/runs" / name / "results.json").read_text())
        made = json.loads((tiny_study / "data/runs" / name / "results.json").read_text())
        for key in ("best_valid_acc", "test_acc", "epochs", "best_epoch"):
            assert mine[key] == made[key], (name, key)


def test_run_again_it_trains_nothing_and_keeps_the_record(trained):
    repo, _, study = trained
    again = adaptive(repo)
    record = json.loads((repo / STUDY).read_text())
    assert "0 to train or restore" in again.stderr
    assert record == study  # the same rounds, runs, answer; each round's cost kept from the run that trained it


def test_beside_the_full_study_it_restores_everything_and_compares(trained, tiny_study, tmp_path):
    """Where every run of the sweep exists (the tiny study, made by `dvc repro`), nothing is trained; the record
    compares the answer, the epochs and each run with the full study's, and with the replay of the same seed order."""
    repo = copy_study(tiny_study, tmp_path / "full")
    adaptive(repo)
    study = json.loads((repo / STUDY).read_text())
    _, _, fresh = trained
    assert study["trained"] == 0 and study["runs"] == fresh["runs"] and study["answer"] == fresh["answer"]
    full = study["full"]
    assert full["runs"] == len(TINY["sweep.lrs"]) * len(TINY["sweep.seeds"])
    assert study["identical_runs"] == len(study["runs"])  # the same arithmetic as the full study's runs
    assert study["replay_same_rounds"] is True
    assert 0 < study["epochs_share"] <= 1 and set(study["agreement"]) == {"best_range", "recommended", "best", "edges"}



def test_a_budget_ends_the_study_before_the_next_round_and_says_what_was_open(trained, tmp_path):
    repo = tmp_path / "budget"
    shutil.copytree(trained[0], repo, symlinks=True)
    result = adaptive(repo, "--budget-epochs", "1")
    study = json.loads((repo / STUDY).read_text())
    assert study["done"] and study["stopped_by"] == "budget" and len(study["rounds"]) == 1
    assert study["rounds"][0]["open"] and study["runs"] == [run_name(lr, 0) for lr in sorted(TINY["sweep.lrs"])]
    assert "stopped by its budget of 1 epochs" in result.stdout
    bad = run(repo, sys.executable, "-m", "tools.adaptive", "run", "--budget-epochs", "0", check=False)
    assert bad.returncode == 2 and "--budget-epochs goes with run" in bad.stderr
