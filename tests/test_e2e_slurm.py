"""End to end on a real SLURM cluster: a single-node cluster (Debian's slurm-wlm and munge) on this machine, the
project's own scripts submitted as docs/machines.md says (`tools/cluster/slurm_submit.sh 2`), the tests' tiny study, a
local-folder DVC remote. Every share trains its own stages, MNIST reaches the nodes through the remote, the assembling
job trains nothing, and its study equals the tiny study made on one machine.

SLURM is installed with apt where this runs as root with apt (as CI does); elsewhere, or where the daemons do not
start, the test skips and says why."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.pipeline import TINY, apt_install, commit, dvc, free_port, make_repo, read_csv, run, set_params
from tools import run_study as runner


SHARES = 2
JOB_TIMEOUT_S = 1200
DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo")
VENV = Path(sys.executable).parent.parent
TIMING = {"train_time_s", "sec_per_epoch", "startup_s", "stage_wall_s", "started_at", "finished_at",
          "train_time_median_s", "cost_s", "seconds_median", "cost", "machine", "checks", "checks_wall_s",
          "wall_time"}


def _which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin")


def _slurm_conf(folder: Path) -> Path:
    host = socket.gethostname().split(".")[0]
    cpus = os.cpu_count() or 1
    memory_mb = int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20 * 0.8)
    for sub in ("state", "spool"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    conf = folder / "slurm.conf"
    conf.write_text(f"""\
ClusterName=lrsweeptest
SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation={folder}/state
SlurmdSpoolDir={folder}/spool
SlurmctldPidFile={folder}/slurmctld.pid
SlurmdPidFile={folder}/slurmd.pid
SlurmctldLogFile={folder}/slurmctld.log
SlurmdLogFile={folder}/slurmd.log
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory_mb} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
""")
    return conf


def _munge_running() -> bool:
    return subprocess.run(["munge", "-n"], capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    """A single-node SLURM cluster of this machine for this module: the environment its commands need."""
    why_not = apt_install(["slurm-wlm", "munge"], lambda: all(_which(name) for name in DAEMONS))
    if why_not:
        pytest.skip(why_not)
    if os.geteuid() != 0:
        pytest.skip("starting slurmctld and slurmd as configured here needs root")
    folder = tmp_path_factory.mktemp("slurm")
    conf = _slurm_conf(folder)
    slurm_env = {**os.environ, "SLURM_CONF": str(conf)}
    if not _munge_running():
        Path("/run/munge").mkdir(parents=True, exist_ok=True)
        shutil.chown("/run/munge", "munge", "munge")
        subprocess.run(["runuser", "-u", "munge", "--", _which("munged")], capture_output=True)
    if not _munge_running():
        pytest.skip("munged (SLURM's authentication) did not start")
    subprocess.run([_which("slurmctld"), "-c", "-f", str(conf)], env=slurm_env, check=True, capture_output=True)
    subprocess.run([_which("slurmd"), "-f", str(conf)], env=slurm_env, check=True, capture_output=True)
    deadline = time.time() + 60
    state = ""
    while time.time() < deadline:
        state = subprocess.run(["sinfo", "-h", "-o", "%T"], env=slurm_env, capture_output=True, text=True).stdout.strip()
        if state == "idle":
            break
        time.sleep(1)
    try:
        if state != "idle":
            pytest.skip(f"the SLURM node did not come up (state {state!r}); see {folder}/slurmctld.log and slurmd.log")
        yield slurm_env
    finally:
        subprocess.run(["scancel", "--user", "root"], env=slurm_env, capture_output=True)
        for daemon in ("slurmd", "slurmctld"):
            pid_file = folder / f"{daemon}.pid"
            if pid_file.exists():
                subprocess.run(["kill", pid_file.read_text().strip()], capture_output=True)


def _wait_for(jobs: list[str], slurm_env: dict) -> None:
    deadline = time.time() + JOB_TIMEOUT_S
    while time.time() < deadline:
        queued = subprocess.run(["squeue", "-h", "-j", ",".join(jobs), "-o", "%i %T %r"], env=slurm_env,
                                capture_output=True, text=True).stdout.strip()
        if not queued:
            return
        assert "DependencyNeverSatisfied" not in queued and "PartitionConfig" not in queued, queued
        time.sleep(2)
    raise AssertionError(f"SLURM jobs {jobs} still queued after {JOB_TIMEOUT_S} s")


def _timing_free(value):
    if isinstance(value, dict):
        return {k: _timing_free(v) for k, v in value.items() if k not in TIMING}
    if isinstance(value, list):
        return [_timing_free(v) for v in value]
    return value


def study_results(repo: Path) -> dict:
    return {
        "conclusions": _timing_free(json.loads((repo / "metrics/summary.json").read_text())),
        "runs": [{k: v for k, v in row.items() if k not in TIMING} for row in read_csv(repo / "metrics/runs.csv")],
    }


def _trained(log: str) -> list[str]:
    return re.findall(r"Running stage '(train@[^']+)'", log)


def test_the_slurm_scripts_as_readme_says_train_each_share_once_and_assemble_without_training(slurm, tiny_study,
                                                                                               tmp_path):
    if not (VENV / ".installed").exists():
        pytest.skip(f"the tasks use the tests' environment {VENV} as VENV; it needs `make setup`'s stamp")
    origin = make_repo(tmp_path / "origin")  # the login node's clone; MNIST in its data/manual/, as downloaded
    set_params(origin, **TINY)
    remote = tmp_path / "shared-remote"  # a folder every node can reach
    dvc(origin, "remote", "add", "-d", "shared", str(remote))
    commit(origin, "tiny sweep, shared remote")
    logs, results, node_tmp = tmp_path / "cluster-logs", tmp_path / "results", tmp_path / "node-tmp"
    node_tmp.mkdir()
    submitted = run(origin, "tools/cluster/slurm_submit.sh", str(SHARES),
                    extra_env={"SLURM_CONF": slurm["SLURM_CONF"], "REPO_URL": str(origin), "VENV": str(VENV),
                               "LOG_DIR": str(logs), "RESULTS_DIR": str(results), "TMPDIR": str(node_tmp)})
    array, assemble = re.search(r"job array (\d+) .*job (\d+)", submitted.stdout).groups()
    _wait_for([array, assemble], slurm)

    stages = [s for s in dvc(origin, "stage", "list", "--name-only").stdout.split() if s.startswith("train@")]
    for share in range(1, SHARES + 1):
        job_log = (logs / f"shard-{array}_{share}.log").read_text()
        assert "Running stage 'download'" not in job_log, job_log  # MNIST came from the remote, once
        stage_logs = [p.read_text() for p in (logs / f"shard-{array}_{share}").glob("train_*.log")]
        mine = {s for s in stages if runner.shard_of(s, SHARES) == share}
        assert {s for log in stage_logs for s in _trained(log)} == mine, job_log
    assemble_log = (logs / f"assemble-{assemble}.log").read_text()
    assemble_stage_logs = [p.read_text() for p in (logs / f"assemble-{assemble}").glob("train_*.log")]
    assert len(assemble_stage_logs) == len(stages), assemble_log
    assert all("is cached - skipping run" in log and not _trained(log) for log in assemble_stage_logs)
    assert f"{len(stages)} restored from the DVC remote or the run-cache, 0 trained here" in assemble_log
    assert "up to date" in dvc(results, "status").stdout
    assert list(node_tmp.glob("lr-sweep-shard-*")) == []  # the tasks' scratch clones are gone

    # the same study made on one machine: the tests' shared tiny study (these settings, `dvc repro`, one thread)
    assert study_results(results) == study_results(tiny_study)
