"""Helpers for end-to-end tests: a temporary git repo holding this project, and DVC run inside it."""

import csv
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from filelock import FileLock

from stages.lib.params import load_params

REPO_ROOT = Path(__file__).resolve().parents[1]
COMMAND_TIMEOUT_S = 1200
# MNIST, downloaded once for all end-to-end tests and placed into each test repo's data/manual/ (the
# download stage's folder for files placed by hand), so no test repo downloads it again.
MNIST_CACHE = Path(tempfile.gettempdir()) / "lr-sweep-tests-mnist"
BIN = Path(sys.executable).parent
# The one tiny study the end-to-end tests train (seconds per run); a module changes what its check needs with
# tiny(**{"train.max_epochs": 8}). Dotted keys, as set_params takes them.
TINY = {
    "data.train_size": 300, "data.valid_size": 300,
    "train.max_epochs": 4, "train.patience": 2,
    "sweep.lrs": [1.0e-06, 0.001, 0.01], "sweep.seeds": [0, 1],
    "lr_find.steps": 50,  # a range test of 50 batches: every rule still reads a curve off it
}
# One CPU thread, as each of `make run`'s workers has: the same floating-point sums, so runs repeat to the bit.
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def tiny(**changes) -> dict:
    """The tiny study with some settings changed."""
    return {**TINY, **changes}


GIT_ENV = {
    "GIT_AUTHOR_NAME": "lr-sweep tests", "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "lr-sweep tests", "GIT_COMMITTER_EMAIL": "tests@example.invalid",
}


def env(**extra: str) -> dict:
    # Stage commands call `python`: make it the interpreter running the tests.
    return {**os.environ, **GIT_ENV, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "PYTHONUNBUFFERED": "1",
            **extra}


def run(repo: Path, *args: str, check: bool = True, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    # a hung command fails its test (TimeoutExpired) instead of holding CI until its limit
    result = subprocess.run(args, cwd=repo, env=env(**(extra_env or {})), capture_output=True, text=True,
                            timeout=COMMAND_TIMEOUT_S)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def dvc(repo: Path, *args: str, check: bool = True, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    return run(repo, str(BIN / "dvc"), *args, check=check, extra_env=extra_env)


def run_study(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """The parallel runner (`make run JOBS=N`, `make shard SHARD=I/N`) in a test repo."""
    return run(repo, sys.executable, "-m", "tools.run_study", *args, check=check)


def mnist_files() -> Path:
    """The four verified MNIST files, downloaded on first use (the download stage's own code); the lock keeps a
    second pytest worker (pytest-xdist) from replacing the folder while the first copies from it."""
    from stages.download import download_mnist

    with FileLock(f"{MNIST_CACHE}.lock"):
        download_mnist(MNIST_CACHE, manual=MNIST_CACHE.parent / "no-manual-folder")  # keeps verified files
    return MNIST_CACHE


def place_mnist(repo: Path) -> None:
    manual = repo / "data/manual"
    manual.mkdir(parents=True, exist_ok=True)
    for file in mnist_files().iterdir():
        shutil.copyfile(file, manual / file.name)


def clone(origin: Path, dest: Path) -> Path:
    """A git clone: what another machine of a cluster would start from (no DVC cache, no outputs)."""
    run(origin.parent, "git", "clone", "-q", str(origin), str(dest))
    place_mnist(dest)
    return dest


def commit(repo: Path, message: str) -> None:
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-q", "-m", message)


STORE_DIR = "dvc-store"  # the in-repository DVC remote (.dvc/config): the committed study's runs


def make_repo(dest: Path, with_store: bool = False, with_lock: bool = False) -> Path:
    """A fresh git repo with the project's files as a clone of the working tree would have them; its store (dvc-store/,
    the default DVC remote) empty but for its README, unless with_store: a tiny study never reads the committed runs.
    dvc.lock only with_lock (or with_store): the committed study's lock has an entry for each of its 230 runs, and
    DVC parses and rewrites the whole file on every command; a tiny study would carry them all along unread, at
    several seconds a DVC command."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        if not with_store and name.startswith(f"{STORE_DIR}/") and name != f"{STORE_DIR}/README.md":
            continue
        if name == "dvc.lock" and not (with_store or with_lock):
            continue
        source = REPO_ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    run(dest, "git", "init", "-q")
    run(dest, "git", "add", "-A")
    run(dest, "git", "commit", "-q", "-m", "copy of lr-sweep for a test")
    place_mnist(dest)  # after the commit: data/manual/ is ignored by git, as a user's files there would be
    return dest


STUDY_MADE = ".tiny-study-made"  # written last, in the folder that becomes the study: a study without it is not whole


def make_tiny_study(shared: Path) -> Path:
    """The tiny study made whole once per test run, under `shared` (a folder every pytest worker sees): the project
    with TINY committed and every stage run by `dvc repro` with one thread, so that its numbers are those any other way
    of running the same study must give. The first worker to ask makes it; the others wait on the lock and find it.
    Read it, or copy_study() it to change it: it is never changed in place."""
    study = shared / "tiny-study"
    with FileLock(f"{study}.lock"):
        if not (study / STUDY_MADE).exists():
            shutil.rmtree(study, ignore_errors=True)  # what a worker stopped half-way left
            study.mkdir(parents=True)
            make_repo(study)
            set_params(study, **TINY)
            commit(study, "the tiny study")
            made = dvc(study, "repro", extra_env=ONE_THREAD)
            (study / STUDY_MADE).write_text(made.stdout)  # what ran: a test may check that every stage did
    return study


def copy_study(study: Path, dest: Path) -> Path:
    """A copy of a made study that a test may change: its git history, DVC cache and run-cache, and every output, so
    that DVC finds everything up to date and nothing is trained again."""
    shutil.copytree(study, dest, symlinks=True, ignore=shutil.ignore_patterns(STUDY_MADE))
    return dest


def set_params(repo: Path, **changes) -> None:
    """set_params(repo, **{"data.train_size": 200}): rewrite params.yaml with dotted keys changed."""
    path = repo / "params.yaml"
    params = load_params(path)
    for key, value in changes.items():
        node = params
        *parents, last = key.split(".")
        for part in parents:
            node = node[part]
        node[last] = value
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def read_csv(path) -> list[dict]:
    """A CSV the pipeline wrote, as a list of rows (every value a string, as written)."""
    with open(path) as f:
        return list(csv.DictReader(f))


def free_port() -> int:
    """A TCP port on loopback that nothing listens on (free once the probing socket is closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def apt_install(packages: list[str], installed) -> str | None:
    """None when installed() holds (after installing Debian's packages where this is root with apt-get), else why not:
    for tests that need a real server (sshd, SLURM) and skip, saying so, where it cannot be had."""
    if installed():
        return None
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return f"not installed, and this is not root with apt-get: apt-get install {' '.join(packages)}"
    quiet = {"env": {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, "capture_output": True, "timeout": 900}
    result = subprocess.run(["apt-get", "update", "-qq"], **quiet)
    if result.returncode == 0:
        result = subprocess.run(["apt-get", "install", "-y", "-qq", *packages], **quiet)
    return None if installed() else f"could not install {' '.join(packages)}: {result.stderr.decode(errors='replace')[-300:]}"
