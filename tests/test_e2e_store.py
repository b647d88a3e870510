"""The runs travel with the project: a study pushed to the in-repository DVC remote (dvc-store/, committed in git)
comes back in a fresh clone with no network, and a damaged store file never comes back as a run.

The store is data in git, and git data gets damaged: a hand edit, a bad merge, a truncated checkout. `verify` in
.dvc/config has DVC hash every file it pulls: a damaged one is reported, its run is not restored, and `dvc status`
shows the run as missing."""

import json
import shutil

import pytest

from tests.pipeline import STORE_DIR, TINY, clone, commit, copy_study, dvc, run_study

pytestmark = pytest.mark.e2e

RUNS = tuple(f"{lr:g}-{seed}" for lr in TINY["sweep.lrs"] for seed in TINY["sweep.seeds"])


@pytest.fixture(scope="module")
def origin(tiny_study, tmp_path_factory):
    """The tiny study made whole, its runs pushed to its own store with their run-cache entries, and committed, store
    included: what the project ships."""
    repo = copy_study(tiny_study, tmp_path_factory.mktemp("origin") / "lr-sweep")
    dvc(repo, "push", "--run-cache", *(f"train@{run}" for run in RUNS))
    commit(repo, "the tiny study's runs, in the store")
    return repo


def store_file(repo, md5: str):
    return repo / STORE_DIR / "files" / "md5" / md5[:2] / md5[2:]


def store_objects(repo, run: str) -> dict:
    """The store files of one run's folder, by file name: what its listing in the store (the .dir file dvc.lock
    names) says they hash to."""
    from dvc.repo import Repo

    with Repo(str(repo)) as dvc_repo:
        stage = next(s for s in dvc_repo.index.stages if s.name == f"train@{run}")
        listing = json.loads(store_file(repo, stage.outs[0].hash_info.value).read_text())
    return {entry["relpath"]: store_file(repo, entry["md5"]) for entry in listing}


SPLIT_NOT_MADE = [{"changed deps": {"data/split": "deleted"}}]


def train_status(repo) -> dict:
    """`dvc status` of the train stages, less what a clone without MNIST lacks (the split they read: 14 MB, not in
    the store; `dvc repro` makes it again, the same bytes, from MNIST)."""
    status = json.loads(dvc(repo, "status", "--json", *(f"train@{run}" for run in RUNS)).stdout)
    return {stage: changes for stage, changes in status.items()
            if changes != SPLIT_NOT_MADE}


def would_run(repo) -> list[str]:
    """The stages up to the runs that `dvc repro --allow-missing` (README's way to re-decide offline) would run."""
    dry = dvc(repo, "repro", "--dry", "--allow-missing", *(f"train@{run}" for run in RUNS)).stdout
    return [line.split("'")[1] for line in dry.splitlines() if line.startswith("Running stage '")]


def test_a_clone_pulls_every_run_offline_and_has_nothing_to_train(origin, tmp_path):
    repo = clone(origin, tmp_path / "clone")
    assert not any((repo / "data/runs" / run).exists() for run in RUNS)
    dvc(repo, "pull", "--allow-missing")  # as `make run` does: MNIST and the split are not in the store
    for run in RUNS:
        assert sorted(p.name for p in (repo / "data/runs" / run).iterdir()) == ["history.csv", "results.json"]
        assert (repo / "data/runs" / run / "results.json").read_bytes() == \
            (origin / "data/runs" / run / "results.json").read_bytes()
    assert train_status(repo) == {}
    assert not [stage for stage in would_run(repo) if stage.startswith("train@")]
    # `make run`: pulls, finds every run up to date, and runs nothing that needs MNIST
    shutil.rmtree(repo / "data/manual")
    made = run_study(repo, "--jobs", "2")
    assert f"{len(RUNS)} train stages up to date: 0 restored from the DVC remote or the run-cache, 0 trained here" in made.stderr
    status = json.loads(dvc(repo, "status", "--json").stdout)
    upstream = ("download", "split")  # MNIST and the split: not in the store, and not needed to re-decide
    assert {stage: change for stage, change in status.items() if stage not in upstream and change != SPLIT_NOT_MADE} == {}


def test_a_damaged_store_file_is_reported_and_its_run_never_restored(origin, tmp_path):
    repo = clone(origin, tmp_path / "clone")
    edited, truncated, intact = RUNS[:3]
    # a hand edit (or a merge that kept the other side's text) of one file, and a checkout cut short of another
    results_object = store_objects(repo, edited)["results.json"]
    results_object.chmod(0o644)
    results_object.write_text(results_object.read_text().replace('"best_valid_acc": 0.', '"best_valid_acc": 1.'))
    history_object = store_objects(repo, truncated)["history.csv"]
    history_object.chmod(0o644)
    history_object.write_bytes(history_object.read_bytes()[:20])

    pulled = dvc(repo, "pull", *(f"train@{run}" for run in RUNS), check=False)
    assert pulled.returncode != 0
    reported = (pulled.stdout + pulled.stderr).split("Checkout failed for following targets:")[1].split()
    assert {f"data/runs/{edited}", f"data/runs/{truncated}"} <= set(reported) and f"data/runs/{intact}" not in reported
    assert not (repo / "data/runs" / edited).exists() and not (repo / "data/runs" / truncated).exists()
    assert (repo / "data/runs" / intact / "results.json").is_file()
    status = train_status(repo)
    assert set(status) == {f"train@{edited}", f"train@{truncated}"}  # and not the intact ones
    assert all("not in cache" in str(status[stage]) for stage in status)
    # and nothing of them reached the local cache, where a later checkout would find it
    shutil.rmtree(repo / "data/runs" / intact)
    assert dvc(repo, "checkout", *(f"train@{run}" for run in RUNS), check=False).returncode != 0
    assert not (repo / "data/runs" / edited).exists() and (repo / "data/runs" / intact).is_dir()
