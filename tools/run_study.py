"""Run the study with several train stages at a time, on this machine or as one share of several machines.

    python -m tools.run_study [--jobs N|auto] [--shard I/N [--push]] [--prepare]

`make run JOBS=N`, `make shard SHARD=I/N` and `make prepare` call it. It uses DVC's own machinery only: the upstream stages
with `dvc repro`, then each pending `train@<lr>-<seed>` stage with `dvc --wait-for-lock repro --single-item`,
N at a time (DVC releases its repo lock while a stage's command runs), then `dvc repro` for the rest
(aggregate, the LR range test, plot, report). Each worker gets its share of the CPU threads (or one GPU
each). Stages already done, or in DVC's run-cache, are not trained again, so after Ctrl-C (every worker is
stopped; a stage writes its output folder whole or not at all) the next run resumes where this one stopped.

With --shard I/N it runs only the I-th of N disjoint shares of the train stages (a stage's share is fixed
by its name), and with --push sends each train stage to the default DVC remote (`dvc push --run-cache`) as
soon as it finishes, so that a share stopped half-way (preempted, requeued) resumes where it stopped. Where a
default remote is set, every `dvc repro` here runs with --pull, so the machine that assembles the study
(plain `make run`) restores every share from the remote and trains nothing. --prepare runs the upstream
stages once and pushes them, so that the machines of a cluster pull MNIST from the remote instead of each
downloading it (the split has an uncached output, which keeps it out of the run-cache: each machine makes it again,
in seconds, from the same seed).

Every `dvc` it starts runs in a process group of its own, watched by tools/process_guard.py: however the
runner ends (Ctrl-C, a closed terminal, a scheduler's SIGTERM, kill -9), no stage goes on as an orphan.
"""

import argparse
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from stages.lib import atomic, params as P
from stages.lib.layout import PROGRESS_ENV, SPLIT_DIR, run_dir

LOG_DIR = Path(".dvc/tmp/run_study")  # one log per stage; .dvc/tmp is DVC's own scratch space, never in git
DVC_LOCK = Path("dvc.lock")
LOCK_FILE = LOG_DIR / "run_study.lock"
TRAIN_PREFIX = "train@"
STOP_GRACE_S = 20  # after Ctrl-C, how long a worker may take to stop before it is killed
MAX_JOBS = 256  # more workers than this is a typo, not a machine (each holds about 0.7 GB)
CGROUP_V2_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")  # "max 100000", or "<quota> <period>" in microseconds
CGROUP_V1_CPU = Path("/sys/fs/cgroup/cpu")  # cpu.cfs_quota_us (-1: none) and cpu.cfs_period_us


class Guard:
    """The runner's side of tools/process_guard.py: tells it each process group started and ended."""

    def __init__(self):
        self.process = subprocess.Popen([sys.executable, "-m", "tools.process_guard"], stdin=subprocess.PIPE,
                                        text=True, start_new_session=True)

    def tell(self, line: str) -> None:
        try:
            self.process.stdin.write(line + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, ValueError):  # the guard is gone: the runner still stops its groups itself
            pass

    def close(self) -> None:
        try:
            self.process.stdin.close()
        except BrokenPipeError:
            pass
        self.process.wait()


GUARD: Guard | None = None  # started by main(); functions called from elsewhere (tests) run unguarded


def start_group(command: list[str], **popen) -> subprocess.Popen:
    """A process in a group of its own (Ctrl-C in a terminal reaches the runner alone), watched by the guard."""
    process = subprocess.Popen(command, start_new_session=True, **popen)
    if GUARD:
        GUARD.tell(f"+{process.pid}")
    return process


def stop_group(process: subprocess.Popen, grace_s: float = STOP_GRACE_S, interrupt: bool = True) -> None:
    """SIGINT to the process's group (DVC stops its stage, which leaves no partial output), then SIGKILL."""
    if process.poll() is None:
        if interrupt:
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    end_group(process)


def end_group(process: subprocess.Popen) -> None:
    if GUARD:
        GUARD.tell(f"-{process.pid}")


DVC_LOCKED = "Unable to acquire lock"


def dvc(*args: str, check: bool = True, capture: bool = True) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).with_name("dvc")), *args]
    pipe = subprocess.PIPE if capture else None
    process = start_group(command, stdout=pipe, stderr=pipe, text=True)
    try:
        stdout, stderr = process.communicate()
    except KeyboardInterrupt:  # Ctrl-C, SIGTERM or SIGHUP to the runner: stop this dvc and its stage too
        stop_group(process)
        raise
    end_group(process)
    result = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout or "").strip() if capture else ""
        if DVC_LOCKED in detail:
            raise SystemExit(f"run_study: error: another DVC command holds this workspace's lock (`dvc {args[0]}` "
                             f"could not start); wait for it to end, or find it with `ps -ef | grep dvc`")
        raise SystemExit(f"run_study: error: `dvc {' '.join(args)}` failed ({result.returncode})\n{detail}")
    return result


def train_stages() -> list[str]:
    """Every train stage dvc.yaml defines, in its order."""
    listed = dvc("stage", "list", "--name-only").stdout.split()
    return [name for name in listed if name.startswith(TRAIN_PREFIX)]


def upstream_stages() -> list[str]:
    """The stages every train stage needs (MNIST, the split), asked of DVC's graph of dvc.yaml, in the order they
    run: a stage added upstream later is run first too, with nothing to change here."""
    import networkx as nx
    from dvc.repo import Repo

    with Repo() as repo:
        graph = repo.index.graph  # an edge goes from a stage to a stage it depends on
        train = [stage for stage in graph if stage.addressing.startswith(TRAIN_PREFIX)]
        needed = set().union(*(nx.descendants(graph, stage) for stage in train)) if train else set()
        ordered = reversed(list(nx.topological_sort(graph.subgraph(needed))))
        return [stage.addressing for stage in ordered]


def pending(stages: list[str]) -> list[str]:
    """The stages `dvc status` reports as changed or missing (run-cache hits are restored when run).
    One status of the whole project: with the 230 train stages named as targets DVC takes minutes (5 min 30 s on
    2 cores before the first stage started), without them seconds."""
    changed = json.loads(dvc("status", "--json").stdout or "{}") if stages else {}
    return [name for name in stages if name in changed]


# What `dvc status` says of a stage whose results are only missing here, not out of date: its outputs not restored
# yet, and the split it reads not made yet (14 MB from MNIST: not in the project's store; `dvc repro` would make the
# same bytes again). Such a stage needs a pull, never a run.
MISSING_HERE = {"deleted", "not in cache"}
SPLIT_NOT_MADE = [{"changed deps": {str(SPLIT_DIR): "deleted"}}]  # a stage restored, in a clone without the split


def only_missing(changes: list) -> bool:
    """A stage's `dvc status` changes say only that its results are missing here (MISSING_HERE, the split not made)."""
    for change in changes:
        if not isinstance(change, dict):  # "changed command", "always changed": a real change
            return False
        for kind, entries in change.items():
            if not isinstance(entries, dict):
                return False
            if kind == "changed outs" and set(entries.values()) <= MISSING_HERE:
                continue
            if kind == "changed deps" and entries == {str(SPLIT_DIR): "deleted"}:
                continue
            return False
    return True


def status() -> dict:
    """`dvc status` of the whole project: {stage: its changes}, up-to-date stages left out."""
    return json.loads(dvc("status", "--json").stdout or "{}")


def split_readers() -> list[str]:
    """The stages that read an upstream stage's output (every train stage, the LR range test), asked of DVC's graph."""
    from dvc.repo import Repo

    upstream = set(upstream_stages())
    with Repo() as repo:
        graph = repo.index.graph  # an edge goes from a stage to a stage it depends on
        return [stage.addressing for stage in graph if stage.addressing not in upstream
                and any(dep.addressing in upstream for dep in graph.successors(stage))]


def restore_only(remote: str, stages: list[str]) -> bool:
    """Where nothing that reads MNIST or the split has to be computed (only restored: the committed study in the
    project's own store), pull what the remote holds and say whether every such stage is then up to date: the stages
    after them can run with no MNIST and no network. A damaged file in the store is reported by DVC and not
    restored: its run is then trained again by the usual way."""
    readers, before = split_readers(), status()
    if any(name in before and not only_missing(before[name]) for name in readers):  # something to compute
        return False
    print(f"run_study: nothing to train, only to restore: dvc pull --allow-missing (DVC remote {remote!r}; MNIST and "
          f"the split are not kept there and not needed: DVC may list them as missing) ...", file=sys.stderr, flush=True)
    missing = [name for name in stages if before.get(name, SPLIT_NOT_MADE) != SPLIT_NOT_MADE]
    dvc("pull", "--allow-missing", capture=False, check=False)
    after = status()
    if any(after.get(name, SPLIT_NOT_MADE) != SPLIT_NOT_MADE for name in readers):  # not all restored
        return False
    print(f"run_study: {len(stages)} train stages up to date: {len(missing)} restored from the DVC remote or the "
          f"run-cache, 0 trained here; the stages after them ...", file=sys.stderr, flush=True)
    return True


def default_remote() -> str | None:
    result = dvc("remote", "default", check=False)
    return result.stdout.strip() or None if result.returncode == 0 else None


def shard_of(stage: str, shards: int) -> int:
    """A stage's share, 1..shards: a checksum of its name, so the same stage always lands in the same share."""
    return zlib.crc32(stage.encode()) % shards + 1


def parse_shard(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)/(\d+)", text or "")
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise SystemExit(f"run_study: error: --shard must look like I/N with 1 <= I <= N, got {text!r}")
    return int(match[1]), int(match[2])


def cgroup_cpu_limit(v2: Path | None = None, v1: Path | None = None) -> int | None:
    """Whole CPUs a cgroup quota grants this process (a container's or a scheduler's limit), or None if none."""
    v2, v1 = v2 or CGROUP_V2_CPU_MAX, v1 or CGROUP_V1_CPU
    try:
        quota, period = v2.read_text().split()[:2]
    except (OSError, ValueError):
        try:
            quota, period = (v1 / "cpu.cfs_quota_us").read_text().strip(), (v1 / "cpu.cfs_period_us").read_text().strip()
        except OSError:
            return None
    if quota in ("max", "-1") or not (quota.isdecimal() and period.isdecimal()) or int(period) == 0:
        return None
    return max(1, int(quota) // int(period))


def usable_cpus(environ=os.environ) -> int:
    """The CPUs this process may use, not the node's: its affinity mask (what `taskset` or SLURM's binding leave
    it), a cgroup quota (a container, a SLURM or Kubernetes limit) and SLURM_CPUS_PER_TASK, whichever is fewest."""
    counts = [len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1]
    counts.append(cgroup_cpu_limit() or counts[0])
    slurm = environ.get("SLURM_CPUS_PER_TASK", "")
    if re.fullmatch(r"[0-9]+", slurm) and int(slurm) >= 1:
        counts.append(int(slurm))
    return max(1, min(counts))


def gpu_count() -> int:
    try:
        listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    return listed.stdout.count("GPU ") if listed.returncode == 0 else 0


def plan_workers(jobs: str, cores: int, gpus: int) -> tuple[int, list[dict]]:
    """(number of workers, each worker's environment).

    auto: one worker per GPU where there are GPUs; else one single-threaded worker per usable CPU (`cores`, as
    usable_cpus() counts them), which measured fastest on our 2-core machines (1.32x the epochs per second of one
    2-thread worker; README, "Running it faster").
    Each CPU worker gets cores // workers threads.
    """
    if jobs == "auto":
        workers = gpus or cores
    elif re.fullmatch(r"[0-9]+", jobs) and 1 <= int(jobs) <= MAX_JOBS:  # ASCII digits: "²".isdigit() is True
        workers = int(jobs)
    else:
        raise SystemExit(f"run_study: error: JOBS must be a whole number from 1 to {MAX_JOBS}, or auto, got {jobs!r}")
    threads = str(max(1, cores // workers))
    envs = []
    for i in range(workers):
        env = {"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
        if gpus:
            env["CUDA_VISIBLE_DEVICES"] = str(i % gpus)
        envs.append(env)
    return workers, envs


@dataclass
class Worker:
    env: dict
    stage: str | None = None
    process: subprocess.Popen | None = None
    started: float = 0.0
    log: Path | None = None
    progress: Path | None = None


@dataclass
class Progress:
    total: int
    started_at: float = field(default_factory=time.time)
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    push_failed: list[str] = field(default_factory=list)
    pushed: list[str] = field(default_factory=list)
    trained_seconds: list[float] = field(default_factory=list)
    interactive: bool = field(default_factory=sys.stderr.isatty)
    last_line: float = 0.0

    def line(self, workers: list[Worker], waiting: int) -> str:
        elapsed = time.time() - self.started_at
        running = [w for w in workers if w.stage]
        parts = [f"{len(self.done)}/{self.total} train stages done"]
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        parts.append(f"{_clock(elapsed)} elapsed")
        if self.trained_seconds and (waiting or running):
            per_stage = sum(self.trained_seconds) / len(self.trained_seconds)
            left = per_stage * (waiting + len(running) / 2) / max(len(workers), 1)
            parts.append(f"about {_clock(left)} left")
        now = " | ".join(f"{w.stage}{_epoch(w.progress)}" for w in running)
        return ", ".join(parts) + (f" | running: {now}" if now else "")

    def show(self, workers: list[Worker], waiting: int, force: bool = False) -> None:
        # on a terminal: one line rewritten every 2 s; in a log: a line a minute
        every = 2 if self.interactive else 60
        if not force and time.time() - self.last_line < every:
            return
        self.last_line = time.time()
        text = self.line(workers, waiting)
        if self.interactive:
            width = os.get_terminal_size(sys.stderr.fileno()).columns - 1
            print(f"\r{text[:width]}\033[K", end="", file=sys.stderr, flush=True)
        else:
            print(f"run_study: {text}", file=sys.stderr, flush=True)

    def note(self, message: str) -> None:
        """A line of its own above the progress line."""
        print(("\r\033[K" if self.interactive else "") + f"run_study: {message}", file=sys.stderr, flush=True)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _epoch(progress: Path | None) -> str:
    """The latest epoch the running stage reported in its progress file (layout.PROGRESS_ENV)."""
    try:
        return f" (epoch {json.loads(progress.read_text())['epoch']})"
    except (OSError, AttributeError, ValueError, KeyError, TypeError):  # not started, or between two writes
        return ""


def remove_leftovers(stage: str) -> list[Path]:
    """Delete what a killed run of this train stage left beside its folder (atomic.leftovers), before running it
    again. DVC ignores them (.dvcignore), so they cost only disk space, about a run's size each time. Only this runner
    starts the stage in this workspace (it holds the workspace lock), so nothing else is writing them.
    """
    found = atomic.leftovers(run_dir(stage.removeprefix(TRAIN_PREFIX)))
    for path in found:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    return found


def start(worker: Worker, stage: str, pull: list[str]) -> None:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    remove_leftovers(stage)
    worker.stage, worker.started = stage, time.time()
    worker.log = LOG_DIR / f"{stage.replace('@', '_')}.log"
    worker.progress = LOG_DIR / f"{stage.replace('@', '_')}.progress.json"
    worker.progress.unlink(missing_ok=True)
    with open(worker.log, "w") as log:
        worker.process = start_group(
            [str(Path(sys.executable).with_name("dvc")), "--wait-for-lock", "repro", "--single-item", *pull, stage],
            stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, **worker.env, "PYTHONUNBUFFERED": "1", PROGRESS_ENV: str(worker.progress)},
        )


def stop_all(workers: list[Worker]) -> None:
    """SIGINT to every worker's process group (DVC stops the stage, which leaves no partial output), then kill."""
    for w in workers:
        if w.process and w.process.poll() is None:
            os.killpg(w.process.pid, signal.SIGINT)
    deadline = time.time() + STOP_GRACE_S
    for w in workers:
        if w.process:
            stop_group(w.process, grace_s=max(0.1, deadline - time.time()), interrupt=False)


def push_stage(stage: str, progress: "Progress") -> None:
    """A finished train stage to the default remote at once, so that a share stopped later resumes from it."""
    pushed = dvc("--wait-for-lock", "push", "--run-cache", stage, check=False)
    if pushed.returncode == 0:
        progress.pushed.append(stage)
    else:
        progress.push_failed.append(stage)
        tail = (pushed.stderr or pushed.stdout).strip().splitlines()[-3:]
        progress.note(f"{stage}: push failed, tried again at the end:\n  " + "\n  ".join(tail))


def run_pool(stages: list[str], envs: list[dict], progress: Progress, pull: list[str], push: bool = False) -> None:
    workers = [Worker(env) for env in envs]
    queue = list(stages)
    try:
        while queue or any(w.stage for w in workers):
            for w in workers:
                if w.stage and w.process.poll() is not None:
                    seconds = time.time() - w.started
                    end_group(w.process)
                    if w.process.returncode == 0:
                        progress.done.append(w.stage)
                        if w.progress.exists():  # the stage trained (a run-cache hit never starts it)
                            progress.trained_seconds.append(seconds)
                        if push:
                            push_stage(w.stage, progress)
                    else:
                        progress.failed.append(w.stage)
                        tail = w.log.read_text(errors="replace").strip().splitlines()[-5:]
                        progress.note(f"{w.stage} failed (log: {w.log}):\n  " + "\n  ".join(tail))
                    w.stage = None
                if not w.stage and queue:
                    start(w, queue.pop(0), pull)
            progress.show(workers, len(queue))
            time.sleep(0.5)
    except KeyboardInterrupt:
        progress.note("interrupted: stopping the workers ...")
        stop_all(workers)
        if push:  # runs that finished but were not pushed yet (the stop came first): a requeued share needs them
            for w in workers:
                if w.stage and w.process.returncode == 0 and w.stage not in progress.done:
                    progress.done.append(w.stage)
            unpushed = [s for s in progress.done if s not in progress.pushed]
            if unpushed:
                progress.note(f"pushing {len(unpushed)} finished run(s) before stopping ...")
                dvc("--wait-for-lock", "push", "--run-cache", *unpushed, check=False)
        progress.note(f"stopped after {len(progress.done)}/{progress.total} train stages; finished runs are kept, "
                      f"run the same command again to resume")
        raise SystemExit(130)
    progress.show(workers, 0, force=True)
    if progress.interactive:
        print(file=sys.stderr)


def hold_lock():
    """One runner per workspace: a second one says so and stops (the lock goes with the process)."""
    try:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        handle = open(LOCK_FILE, "a+")
    except OSError as e:
        raise SystemExit(f"run_study: error: cannot write {LOCK_FILE} ({e.strerror}); the study writes its runs, "
                         f"logs and results into this work tree, so it must be writable") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        raise SystemExit(f"run_study: error: another run of the study is going on in this workspace "
                         f"(pid {handle.read().strip() or '?'}); wait for it, or stop it first")
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def repair_dvc_lock() -> None:
    """dvc.lock as DVC reads it, or git's committed copy in its place. DVC rewrites dvc.lock in place, so a DVC
    command stopped while writing it (Ctrl-C, the guard of a runner killed outright) can leave it cut short, and every
    later `dvc` command then refuses the workspace. The committed copy loses nothing: each run finished since is
    in DVC's run-cache, and its train stage restores it instead of training it again."""
    from dvc.exceptions import DvcException
    from dvc.schema import COMPILED_LOCKFILE_SCHEMA
    from dvc.utils.serialize import load_yaml
    from voluptuous import Invalid

    if not DVC_LOCK.exists():
        return
    try:
        COMPILED_LOCKFILE_SCHEMA(load_yaml(DVC_LOCK))
        return
    except (DvcException, Invalid, UnicodeDecodeError) as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    committed = subprocess.run(["git", "show", f"HEAD:{DVC_LOCK}"], capture_output=True, text=True)
    if committed.returncode != 0:
        raise SystemExit(f"run_study: error: {DVC_LOCK} is damaged ({reason}) and git holds no committed copy of it; "
                         f"delete it and run again: the finished runs come back from DVC's run-cache")
    atomic.write_text(DVC_LOCK, committed.stdout)
    print(f"run_study: {DVC_LOCK} was damaged ({reason}: a DVC command stopped while writing it); the committed copy "
          f"is back, and the runs finished since come back from DVC's run-cache", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", default="auto", help="train stages at a time (default: auto)")
    parser.add_argument("--shard", help="I/N: run only the I-th of N shares of the train stages")
    parser.add_argument("--push", action="store_true",
                        help="with --shard: push each train stage to the default DVC remote as it finishes")
    parser.add_argument("--prepare", action="store_true",
                        help="only the upstream stages (MNIST, the split), pushed to the default DVC remote for "
                             "the machines that run the shares")
    args = parser.parse_args(argv)
    if args.push and not args.shard:
        parser.error("--push goes with --shard")
    if args.prepare and (args.shard or args.push):
        parser.error("--prepare goes alone")
    shard = parse_shard(args.shard) if args.shard else None
    # every value of params.yaml checked before any `dvc` command: DVC pastes sweep values into the train stages'
    # shell commands, so a bad one (`seeds: ["0;rm ..."]`) must stop here, not in the stage after the shell ran it
    P.load_checked("run_study", lambda params: params)
    workers, envs = plan_workers(args.jobs, usable_cpus(), gpu_count())
    lock = hold_lock()  # noqa: F841 (held until the process ends)
    repair_dvc_lock()
    global GUARD
    GUARD = Guard()
    # a scheduler's stop (SLURM, Kubernetes) and a closed terminal are handled like Ctrl-C: the workers stop too
    for stop in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop, _interrupt)
    try:
        if args.prepare:
            prepare()
        else:
            study(args, shard, envs, workers)
    except KeyboardInterrupt:  # outside the pool (upstream stages, the final repro): their dvc was stopped
        print("run_study: interrupted; run the same command again to resume", file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        GUARD.close()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def remote_url(remote: str) -> str | None:
    """The remote's URL as DVC's config holds it (`dvc remote list` wraps long lines to the terminal)."""
    result = dvc("config", f"remote.{remote}.url", check=False)
    return result.stdout.strip() or None if result.returncode == 0 else None


def check_remote(remote: str | None, url: str | None, push: bool, reach=None) -> None:
    """Before anything runs: a share that is to be pushed needs a remote, and the remote must answer: a folder (a
    mounted shared one) must be there (for a first push, the folder it goes in), and any other back-end (SSH, S3, ...)
    must answer a query from DVC; otherwise every stage would train here first and then fail at the push, or be
    trained again without a word. `reach(remote)` is that query: None when it answered, else DVC's error."""
    if push and not remote:
        raise SystemExit("run_study: error: --push (make shard) needs a default DVC remote to push to; add one with "
                         "`dvc remote add -d <name> <url>` and commit .dvc/config (README: \"Several machines\")")
    if not remote or not url:
        return
    if "://" not in url or url.startswith("file://"):  # a local folder
        path = Path(url.removeprefix("file://"))
        path = path if path.is_absolute() else Path(".dvc") / path  # DVC reads a relative path from .dvc/config
        # the first share's push creates the folder; anything else needs it there (or it would pull nothing)
        if not (path.is_dir() or push and path.parent.is_dir()):
            raise SystemExit(f"run_study: error: the default DVC remote {remote!r} is the folder {path}, which does not "
                             f"exist here (not mounted?); nothing was run. Mount it, or unset the remote "
                             f"(`dvc remote default --unset`) to train everything on this machine")
        return
    print(f"run_study: checking that the DVC remote {remote!r} ({url}) answers ...", file=sys.stderr, flush=True)
    error = (reach or reach_remote)(remote)
    if error:
        raise SystemExit(f"run_study: error: the default DVC remote {remote!r} ({url}) cannot be reached: {error}; "
                         f"nothing was run. Check its address, credentials and `make setup REMOTES=...` (README: "
                         f"\"Several machines\"), or unset it (`dvc remote default --unset`) to train everything here")


def reach_remote(remote: str) -> str | None:
    """Ask the remote, through DVC's own file system for it (its URL, credentials, back-end), whether its folder
    exists: a question every back-end must answer, reached or not (a missing back-end is an error here too)."""
    from dvc.repo import Repo

    try:
        with Repo() as repo:
            remote_fs = repo.cloud.get_remote(name=remote, command="run_study")
            remote_fs.fs.exists(remote_fs.path)
    except Exception as error:  # noqa: BLE001 (any back-end's error: the message is what the user needs)
        return " ".join(str(error).split()) or type(error).__name__
    return None


def prepare() -> None:
    """The upstream stages once, pushed with their run-cache: every share then pulls MNIST instead of downloading it."""
    remote = default_remote()
    check_remote(remote, remote_url(remote) if remote else None, push=True)
    upstream = upstream_stages()
    print(f"run_study: upstream stages ({', '.join(upstream)}), pushed to DVC remote {remote!r} ...", file=sys.stderr,
          flush=True)
    dvc("repro", "--pull", *upstream, capture=False)
    dvc("push", "--run-cache", *upstream, capture=False)
    print(f"run_study: prepared: the shares will pull MNIST from {remote!r}", file=sys.stderr)


def study(args, shard, envs: list[dict], workers: int) -> None:
    """Upstream stages, then the pending train stages in the pool (each pushed as it ends), then aggregate."""
    remote = default_remote()
    check_remote(remote, remote_url(remote) if remote else None, args.push)
    stages = train_stages()
    if shard:
        stages = [s for s in stages if shard_of(s, shard[1]) == shard[0]]
        if not stages:  # with no targets, `dvc push` would push the whole workspace
            print(f"run_study: share {shard[0]}/{shard[1]} holds no train stage: nothing to train or push",
                  file=sys.stderr)
            return
    pull = ["--pull"] if remote else []  # restore what other machines pushed instead of training it
    if not shard and remote and restore_only(remote, stages):
        dvc("repro", "--allow-missing", capture=False)  # the stages after the runs; MNIST and the split not needed
        return
    upstream = upstream_stages()
    print(f"run_study: upstream stages ({', '.join(upstream)}){f', pulling from DVC remote {remote!r}' if remote else ''}"
          " ...", file=sys.stderr, flush=True)
    dvc("repro", *pull, *upstream, capture=False)  # DVC's own lines: which upstream stage ran, or why not
    todo = pending(stages)
    threads = envs[0]["OMP_NUM_THREADS"]
    where = (f"{workers} worker{'s' if workers > 1 else ''}, " +
             ("one GPU each" if "CUDA_VISIBLE_DEVICES" in envs[0] else f"{threads} CPU thread{'s' if threads != '1' else ''} each"))
    print(f"run_study: {len(stages)} train stages{f' in share {shard[0]}/{shard[1]}' if shard else ''}, "
          f"{len(stages) - len(todo)} up to date, {len(todo)} to run or restore; {where}", file=sys.stderr, flush=True)
    progress = Progress(total=len(todo))
    run_pool(todo, envs, progress, pull, push=args.push)
    if todo:
        trained = len(progress.trained_seconds)
        print(f"run_study: {len(progress.done) - trained} restored from the DVC remote or the run-cache, {trained} "
              f"trained here", file=sys.stderr, flush=True)
    if progress.failed:
        raise SystemExit(f"run_study: error: {len(progress.failed)} train stages failed: {', '.join(progress.failed)} "
                         f"(logs in {LOG_DIR}/); the others are kept, run again to retry")
    if shard:
        if args.push:  # each stage went as it finished; this sends what is left (a failed push, a stage up to date)
            print("run_study: dvc push --run-cache (the share's train stages) ...", file=sys.stderr, flush=True)
            dvc("push", "--run-cache", *stages, capture=False)
        return
    dvc("repro", *pull, capture=False)  # aggregate, answer, lr_find, score_lr_find, plot, report


if __name__ == "__main__":
    main()
