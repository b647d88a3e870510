"""Fixtures every test module may use, and the `e2e` mark on the end-to-end modules.

Where the rest lives: tests/synthetic.py (hand-made runs, curves and images for unit tests), tests/pipeline.py (a
temporary git repo holding the project, DVC commands in it, and the one tiny study the end-to-end tests train),
tests/committed.py (the committed params.yaml as DVC reads it).
Quick tests: `make test-fast` (`pytest -m "not e2e"`); everything: `make test`. README's "Tests" lists the suites
with their durations.
"""

import pytest

from tests.committed import committed_params

# Modules that run real DVC commands in temporary git repos (each trains a tiny study, or draws committed results).
E2E_MODULES = ("test_e2e_", "test_plots_page", "test_readme_views")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.module.__name__.split(".")[-1].startswith(E2E_MODULES):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """An empty working directory: a stage's relative paths (data/, metrics/) land in it."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def defaults(tmp_path):
    """The committed params.yaml, loaded as DVC loads it, for a test to change."""
    return committed_params(tmp_path)
