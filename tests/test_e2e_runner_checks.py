"""`make shard` / `make run` stop before anything runs when the remote cannot take or give the work, and an empty
share pushes nothing: the real runner in a copy of the project (nothing is trained)."""

import pytest

from tests.pipeline import dvc, free_port, make_repo, run_study, set_params, tiny
from tools import run_study as runner



@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    repo = make_repo(tmp_path_factory.mktemp("runner-checks"))
    # small, so that a check that lets the runner through costs seconds of training, not the whole study
    set_params(repo, **tiny(**{"data.train_size": 100, "data.valid_size": 100, "train.max_epochs": 1,
                               "sweep.lrs": [0.001, 0.01]}))
    return repo


def nothing_ran(repo) -> bool:
    """Not even the download and split: a run's folder would come after them."""
    return not (repo / "data/raw/MNIST/raw").exists() and not (repo / "data/split").exists()


def test_a_share_to_push_without_a_remote_stops_before_training(repo):
    dvc(repo, "remote", "default", "--unset")  # a project set up without one (this one's is its own store)
    try:
        result = run_study(repo, "--shard", "1/4", "--push", check=False)
        assert result.returncode != 0 and "needs a default DVC remote" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and nothing_ran(repo)
    finally:
        dvc(repo, "remote", "default", "store")


def test_an_unmounted_folder_remote_stops_before_training(repo, tmp_path):
    dvc(repo, "remote", "add", "-d", "gone", str(tmp_path / "not-mounted/lr-sweep"))
    try:
        result = run_study(repo, "--jobs", "1", check=False)  # the assembling machine's `make run`
        assert result.returncode != 0 and "which does not exist here (not mounted?); nothing was run" in result.stderr
        assert "Traceback" not in result.stderr and nothing_ran(repo)
    finally:
        dvc(repo, "remote", "remove", "gone")


def test_an_empty_share_pushes_nothing(repo, tmp_path):
    listed = dvc(repo, "stage", "list", "--name-only").stdout.split()
    stages = [s for s in listed if s.startswith(runner.TRAIN_PREFIX)]
    shares = 1000
    empty = next(i for i in range(1, shares + 1) if all(runner.shard_of(s, shares) != i for s in stages))
    remote = tmp_path / "remote"
    remote.mkdir()
    dvc(repo, "remote", "add", "-d", "shared", str(remote))
    try:
        result = run_study(repo, "--shard", f"{empty}/{shares}", "--push")
        assert f"share {empty}/{shares} holds no train stage: nothing to train or push" in result.stderr
        assert list(remote.iterdir()) == [] and nothing_ran(repo)  # not MNIST, not the workspace
    finally:
        dvc(repo, "remote", "remove", "shared")


@pytest.mark.parametrize("url, settings", [
    ("ssh://root@127.0.0.1:{port}/srv/lr-sweep", {}),  # nothing listens on that port
    ("s3://lr-sweep/study", {"endpointurl": "http://127.0.0.1:{port}"}),
])
def test_a_remote_that_does_not_answer_stops_before_training(repo, url, settings):
    """README's SSH and S3 examples with the back-ends `make setup REMOTES=ssh,s3` installs: a remote that cannot be
    reached is named before anything runs (not a silent retrain of everything here)."""
    port = free_port()  # nothing listens there
    dvc(repo, "remote", "add", "-d", "away", url.format(port=port))
    for key, value in settings.items():
        dvc(repo, "remote", "modify", "away", key, value.format(port=port))
    try:
        result = run_study(repo, "--jobs", "1", check=False)
        assert result.returncode != 0 and "cannot be reached" in result.stderr and "nothing was run" in result.stderr
        assert "requires 'dvc-" not in result.stderr  # the back-end is installed: DVC did try to reach it
        assert "Traceback" not in result.stderr and nothing_ran(repo)
        assert len(result.stderr.strip().splitlines()) == 2  # "checking ..." and the error
    finally:
        dvc(repo, "remote", "remove", "away")
