"""The Makefile's environment: a prebuilt one (VENV=/abs/path) is used as it is, a fresh clone of a set-up project
installs nothing again, and a path PATH cannot hold stops with one clear line."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.pipeline import REPO_ROOT

VENV = REPO_ROOT / ".venv"


def make(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    # as typed in a shell: not a make run by `make test VENV=...`, whose variables its children would inherit
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "VENV")}
    return subprocess.run(["make", "--no-print-directory", *args], cwd=cwd, capture_output=True, text=True, timeout=600,
                          env=env)


def project_copy(dest: Path) -> Path:
    """What a fresh clone has that the Makefile reads (new file times, no venv)."""
    dest.mkdir(parents=True)
    for name in ("Makefile", "requirements.txt", "constraints.txt"):
        shutil.copy(REPO_ROOT / name, dest / name)
    return dest


def stamp_matches() -> bool:
    result = make(REPO_ROOT, "-s", "--eval", "print-hash: ; @echo $(REQUIREMENTS_HASH)", "print-hash")
    stamp = VENV / ".installed"
    # the stamp: the hash, then the remote back-ends installed (make setup REMOTES=...), if any
    return stamp.exists() and stamp.read_text().split()[:1] == [result.stdout.strip()] != [""]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_a_prebuilt_environment_is_used_as_it_is(tmp_path):
    if not stamp_matches():
        pytest.skip("this checkout's .venv was not set up by `make setup` (its stamp lacks the requirements' hash)")
    clone = project_copy(tmp_path / "clone")
    result = make(clone, "setup", f"VENV={VENV}")
    assert result.returncode == 0, result.stderr
    assert f"setup: {VENV} has the pinned packages" in result.stdout and "pip" not in result.stdout + result.stderr
    assert not (clone / ".venv").exists()
    # the stages' `python` is the prebuilt environment's, whatever the path looks like
    path = make(clone, "-s", f"VENV={VENV}", "--eval", "print-path: ; @echo $$PATH", "print-path").stdout
    assert path.startswith(f"{VENV}/bin:"), path
    relative = make(clone, "-s", "VENV=env", "--eval", "print-python: ; @echo $(PYTHON)", "print-python").stdout
    assert relative.strip() == f"{clone}/env/bin/python"


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_a_colon_in_the_path_stops_with_one_clear_line(tmp_path):
    clone = project_copy(tmp_path / "study:2026")
    result = make(clone, "setup")
    assert result.returncode != 0 and "contains a ':', which PATH cannot hold" in result.stderr, result.stderr
    assert not (clone / ".venv").exists() and "Traceback" not in result.stderr
