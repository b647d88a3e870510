"""Fixtures every test module may use, and the `e2e` mark on the end-to-end modules.

Where the rest lives: tests/synthetic.py (hand-made runs, curves and images for unit tests), tests/pipeline.py (a
temporary git repo holding the project, DVC commands in it, and the one tiny study the end-to-end tests train),
tests/committed.py (the committed params.yaml as DVC reads it).
Quick tests: `make test-fast` (`pytest -m "not e2e"`); everything: `make test`. README's "Tests" lists the suites
with their durations.
"""

from pathlib import Path

import pytest

from tests.committed import committed_params
from tests.pipeline import make_tiny_study

# Modules that run real DVC commands in temporary git repos (each trains a tiny study, or draws committed results).
E2E_MODULES = ("test_e2e_", "test_plots_page", "test_readme_views")


# The longest modules first, in this order, then the rest as collected: `make test` hands whole modules to two pytest
# workers (pytest-xdist, --dist loadfile) in this order, so that neither is left with a long module at the end. The
# second is one that does not need the tiny study, which the first worker makes meanwhile.
LONGEST_FIRST = ("test_e2e_parallel", "test_e2e_slurm", "test_e2e_shards", "test_e2e_sweep", "test_e2e_store",
                 "test_e2e_ablation", "test_e2e_ssh_remote")


def module_name(item) -> str:
    return item.module.__name__.split(".")[-1]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if module_name(item).startswith(E2E_MODULES):
            item.add_marker(pytest.mark.e2e)
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(module_name(item), len(rank)))  # stable: the rest keep their order


@pytest.fixture(scope="session")
def tiny_study(tmp_path_factory, worker_id) -> Path:
    """The tiny study (tests/pipeline.py's TINY) made whole once per test run, for all pytest workers: read it, or
    copy_study() it to change it."""
    base = tmp_path_factory.getbasetemp()
    return make_tiny_study(base if worker_id == "master" else base.parent)  # the parent: shared by the workers


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """An empty working directory: a stage's relative paths (data/, metrics/) land in it."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def defaults(tmp_path):
    """The committed params.yaml, loaded as DVC loads it, for a test to change."""
    return committed_params(tmp_path)
