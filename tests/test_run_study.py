"""The parallel runner's own decisions: shares, workers, threads (its end-to-end runs: test_e2e_parallel.py)."""

import os
import shutil
import signal
import subprocess
import sys
import time

from stages.lib.training import EarlyStopping
from pathlib import Path

import pytest

from tools import run_study

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_shards_are_disjoint_cover_everything_and_stable():
    stages = [f"train@{lr}-{seed}" for lr in (1e-06, 1.259e-06, 0.001, 0.03162) for seed in range(5)]
    shares = {i: [s for s in stages if run_study.shard_of(s, 3) == i] for i in (1, 2, 3)}
    assert sorted(sum(shares.values(), [])) == sorted(stages)
    assert all(shares.values())  # 20 stages: every share gets some
    # the same stage always lands in the same share, whatever else the sweep holds
    assert [run_study.shard_of(s, 3) for s in stages[:3]] == [run_study.shard_of(s, 3) for s in stages[:3]]
    assert run_study.shard_of("train@0.001-0", 1) == 1


@pytest.mark.parametrize("text", ["", "0/2", "3/2", "1-2", "a/b", "1/0"])
def test_bad_shards_are_refused(text):
    with pytest.raises(SystemExit, match="--shard must look like I/N"):
        run_study.parse_shard(text)


def test_workers_and_threads():
    assert run_study.parse_shard("2/4") == (2, 4)
    workers, envs = run_study.plan_workers("auto", cores=2, gpus=0)
    assert workers == 2 and [e["OMP_NUM_THREADS"] for e in envs] == ["1", "1"]
    workers, envs = run_study.plan_workers("1", cores=2, gpus=0)
    assert workers == 1 and envs[0]["OMP_NUM_THREADS"] == "2"
    workers, envs = run_study.plan_workers("3", cores=16, gpus=0)
    assert workers == 3 and envs[0]["OMP_NUM_THREADS"] == "5"
    workers, envs = run_study.plan_workers("auto", cores=16, gpus=4)
    assert workers == 4 and [e["CUDA_VISIBLE_DEVICES"] for e in envs] == ["0", "1", "2", "3"]
    with pytest.raises(SystemExit, match="JOBS must be"):
        run_study.plan_workers("zero", cores=2, gpus=0)
    with pytest.raises(SystemExit, match="JOBS must be"):
        run_study.plan_workers("0", cores=2, gpus=0)


def test_progress_line_counts_and_estimates(tmp_path):
    from stages import train

    # the epoch comes from the progress file the train stage rewrites every epoch, not from its log's text
    state = tmp_path / "x.progress.json"
    line = train.ProgressLine("0.001-0", stream=open(tmp_path / "x.log", "w"), progress_file=str(state))
    for epoch in (1, 2, 20):
        line({"epoch": epoch, "train_loss": 0.1, "valid_acc": 0.9, "elapsed_s": epoch * 1.0}, EarlyStopping(5))
    progress = run_study.Progress(total=4, started_at=time.time() - 90)
    progress.done, progress.trained_seconds = ["a", "b"], [60.0, 60.0]
    workers = [run_study.Worker({}, stage="train@0.001-0", progress=state),
               run_study.Worker({}, stage="train@0.01-0", progress=tmp_path / "not-started-yet.json")]
    line = progress.line(workers, waiting=1)
    assert line.startswith("2/4 train stages done, 1:30 elapsed, ")
    assert "about 1:00 left" in line  # 60 s a stage x (1 waiting + 2 running / 2) / 2 workers
    assert line.endswith("running: train@0.001-0 (epoch 20) | train@0.01-0")


def test_leftovers_of_a_killed_run_are_removed_before_it_runs_again_and_nothing_else(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runs = tmp_path / "data/runs"
    runs.mkdir(parents=True)
    # a run killed while writing its folder (os._exit: no cleanup, as with SIGKILL), and one killed while
    # replacing an old folder, both through the real writer, so the names are the ones it really leaves
    killed = ("import os, sys; from pathlib import Path; from stages.lib.atomic import atomic_dir\n"
              "with atomic_dir(Path(sys.argv[1])) as tmp:\n"
              "    (tmp / 'results.json').write_text('{}'); os._exit(9)\n")
    for name in ("0.001-1", "0.001-10"):
        subprocess.run([sys.executable, "-c", killed, f"data/runs/{name}"], cwd=tmp_path,
                       env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, check=False)
    (runs / ".0.001-1.abc123.old").mkdir()
    (runs / "0.001-1").mkdir()  # a finished run of another workspace state: DVC's business, not the runner's
    left = sorted(p.name for p in runs.iterdir())
    assert len([n for n in left if n.startswith(".0.001-1.") and n.endswith(".tmp")]) == 1, left

    removed = run_study.remove_leftovers("train@0.001-1")
    assert sorted(p.name for p in removed) == sorted(n for n in left if n.startswith(".0.001-1."))
    assert sorted(p.name for p in runs.iterdir()) == sorted(["0.001-1"] + [n for n in left if n.startswith(".0.001-10.")])
    assert run_study.remove_leftovers("train@0.001-1") == []


@pytest.mark.parametrize("jobs", ["²", "٣", "300000000", "257", "-1", "1.5", ""])
def test_jobs_beyond_a_whole_number_up_to_the_bound_are_refused_before_anything_starts(jobs):
    with pytest.raises(SystemExit, match=f"JOBS must be a whole number from 1 to {run_study.MAX_JOBS}, or auto"):
        run_study.plan_workers(jobs, cores=2, gpus=0)


def test_auto_counts_the_cpus_this_process_may_use_not_the_nodes(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)))  # a 64-core node
    monkeypatch.setattr(run_study, "CGROUP_V2_CPU_MAX", tmp_path / "none")
    monkeypatch.setattr(run_study, "CGROUP_V1_CPU", tmp_path / "none")
    assert run_study.usable_cpus({}) == 64
    assert run_study.usable_cpus({"SLURM_CPUS_PER_TASK": "8"}) == 8  # the task's grant
    assert run_study.usable_cpus({"SLURM_CPUS_PER_TASK": "junk"}) == 64
    limit = tmp_path / "cpu.max"
    monkeypatch.setattr(run_study, "CGROUP_V2_CPU_MAX", limit)
    limit.write_text("150000 100000\n")  # a container limited to 1.5 CPUs
    assert run_study.usable_cpus({}) == 1
    limit.write_text("max 100000\n")
    assert run_study.usable_cpus({}) == 64
    v1 = tmp_path / "v1"
    v1.mkdir()
    (v1 / "cpu.cfs_quota_us").write_text("400000\n")
    (v1 / "cpu.cfs_period_us").write_text("100000\n")
    assert run_study.cgroup_cpu_limit(tmp_path / "none", v1) == 4
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})  # taskset -c 0
    assert run_study.usable_cpus({"SLURM_CPUS_PER_TASK": "8"}) == 1
    workers, envs = run_study.plan_workers("auto", run_study.usable_cpus({}), gpus=0)
    assert workers == 1 and envs[0]["OMP_NUM_THREADS"] == "1"


def test_a_work_tree_it_cannot_write_gives_one_clear_line(tmp_path, monkeypatch):
    # root may write anywhere, so the tree is made unwritable another way: a file where the log folder would go
    (tmp_path / "blocked").write_text("")
    monkeypatch.setattr(run_study, "LOG_DIR", tmp_path / "blocked/run_study")
    monkeypatch.setattr(run_study, "LOCK_FILE", tmp_path / "blocked/run_study/run_study.lock")
    with pytest.raises(SystemExit, match=r"cannot write .*run_study.lock \(Not a directory\); .* must be writable"):
        run_study.hold_lock()


@pytest.mark.parametrize("signal_name", ["SIGHUP", "SIGTERM"])
def test_a_closed_terminal_or_a_schedulers_stop_is_handled_like_ctrl_c(tmp_path, signal_name):
    """The runner turns the signal into its Ctrl-C path (stop the workers, say how to resume) instead of dying
    and leaving its workers to train on as orphans."""
    shutil.copy(REPO_ROOT / "params.yaml", tmp_path)  # the runner checks it before anything else
    script = ("import sys, time; from tools import run_study\n"
              "def study(*args):\n    print('ready', flush=True); time.sleep(60)\n"
              "run_study.study = study\nrun_study.main(['--jobs', '1'])\n")
    process = subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert process.stdout.readline().strip() == "ready"
    process.send_signal(getattr(signal, signal_name))
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130 and "interrupted; run the same command again to resume" in err, err


def test_a_share_to_push_needs_a_remote_and_a_folder_remote_must_be_there(tmp_path):
    with pytest.raises(SystemExit, match="--push \\(make shard\\) needs a default DVC remote"):
        run_study.check_remote(None, None, push=True)
    with pytest.raises(SystemExit, match="is the folder /mnt/not-mounted/lr-sweep, which does not exist here"):
        run_study.check_remote("shared", "/mnt/not-mounted/lr-sweep", push=False)
    with pytest.raises(SystemExit, match="does not exist here"):
        run_study.check_remote("shared", "file:///mnt/not-mounted/lr-sweep", push=True)
    run_study.check_remote("shared", str(tmp_path), push=True)  # there: fine
    asked = []
    run_study.check_remote("s3", "s3://bucket/lr-sweep", push=True, reach=lambda r: asked.append(r))  # it answered
    assert asked == ["s3"]  # another back-end is asked, through DVC
    with pytest.raises(SystemExit, match=r"'s3' \(s3://bucket/lr-sweep\) cannot be reached: Connect call failed; "
                                         r"nothing was run"):
        run_study.check_remote("s3", "s3://bucket/lr-sweep", push=False, reach=lambda r: "Connect call failed")
    run_study.check_remote(None, None, push=False)  # no remote, no push: everything trains here


def test_the_first_push_may_create_the_remote_folder_in_a_mounted_one(tmp_path):
    run_study.check_remote("shared", str(tmp_path / "lr-sweep"), push=True)  # DVC creates lr-sweep/
    with pytest.raises(SystemExit, match="does not exist here"):  # the assembler would pull nothing from it
        run_study.check_remote("shared", str(tmp_path / "lr-sweep"), push=False)


@pytest.mark.parametrize("seeds", ['["0;touch${IFS}PWNED"]', '["0/1"]', "[0, 1.5]"])
def test_params_that_would_reach_a_shell_stop_the_runner_before_any_dvc_command(tmp_path, monkeypatch, seeds):
    """DVC pastes sweep values into the train stages' shell commands: the runner checks params.yaml first."""
    text = (REPO_ROOT / "params.yaml").read_text().replace("seeds: [0, 1, 2, 3, 4]", f"seeds: {seeds}")
    assert f"seeds: {seeds}" in text
    (tmp_path / "params.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    ran = []
    monkeypatch.setattr(run_study, "dvc", lambda *args, **kw: ran.append(args))
    with pytest.raises(SystemExit, match=r"^run_study: error: params.yaml: sweep.seeds must (hold integers|be an integer from 0)"):
        run_study.main(["--jobs", "1"])
    assert ran == [] and not (tmp_path / "PWNED").exists() and not (tmp_path / ".dvc").exists()


def test_pending_asks_dvc_once_for_the_whole_project(monkeypatch):
    """`dvc status` with 230 stages as targets took minutes before training started; without targets, seconds."""
    calls = []

    class Done:
        stdout = '{"train@0.001-0": [{"changed outs": {}}], "aggregate": [], "train@0.01-1": []}'

    monkeypatch.setattr(run_study, "dvc", lambda *args, **kw: calls.append(args) or Done())
    assert run_study.pending(["train@0.001-0", "train@0.001-1", "train@0.01-1"]) == ["train@0.001-0", "train@0.01-1"]
    assert calls == [("status", "--json")]
    assert run_study.pending([]) == [] and len(calls) == 1


def test_upstream_stages_come_from_dvcs_graph_in_the_order_they_run(tmp_path, monkeypatch):
    """A stage added above the train stages runs before them with nothing to change in the runner."""
    import subprocess
    import sys
    from pathlib import Path

    monkeypatch.chdir(tmp_path)
    subprocess.run([str(Path(sys.executable).with_name("dvc")), "init", "--no-scm", "-q"], check=True)
    (tmp_path / "dvc.yaml").write_text(
        "stages:\n"
        "  fetch: {cmd: touch raw, outs: [raw]}\n"
        "  clean: {cmd: cp raw clean, deps: [raw], outs: [clean]}\n"
        "  augment: {cmd: cp clean more, deps: [clean], outs: [more]}\n"
        "  summary: {cmd: touch summary, outs: [summary]}\n"
        "  train:\n"
        "    matrix: {lr: [0.1, 0.01]}\n"
        "    cmd: cp more runs-${item.lr}\n"
        "    deps: [more]\n"
        "    outs:\n"
        "    - runs-${item.lr}\n"
        "  report: {cmd: cat runs-0.1 > report, deps: [runs-0.1], outs: [report]}\n")
    assert run_study.upstream_stages() == ["fetch", "clean", "augment"]
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    assert run_study.upstream_stages() == ["download", "split"]


@pytest.mark.parametrize("changes, missing_only", [
    ([{"changed outs": {"data/runs/0.001-0": "not in cache"}}], True),  # a clone before `dvc pull`
    ([{"changed deps": {"data/split": "deleted"}}, {"changed outs": {"data/runs/0.001-0": "deleted"}}], True),
    ([{"changed deps": {"data/split": "deleted"}}], True),  # pulled; the split not made here (not in the store)
    ([{"changed deps": {"data/split": "modified"}}], False),  # another split: the run must be trained again
    ([{"changed deps": {"stages/lib/training.py": "modified"}}], False),
    ([{"changed params": {"params.yaml": {"train.patience": "modified"}}}], False),
    ([{"changed outs": {"data/runs/0.001-0": "modified"}}], False),  # edited by hand: DVC's run-cache decides
    (["changed command"], False), (["always changed"], False),
])
def test_a_stage_whose_results_are_only_missing_here_is_restored_never_computed(changes, missing_only):
    assert run_study.only_missing(changes) is missing_only


def test_a_dvc_lock_cut_short_is_replaced_by_the_committed_one_and_a_good_one_is_left_alone(tmp_path, monkeypatch,
                                                                                          capsys):
    """DVC rewrites dvc.lock in place: a DVC command stopped while writing it leaves it cut short (seen when the
    guard stopped the workers of a runner killed outright). The runner puts git's committed copy back."""
    from tests.pipeline import GIT_ENV

    monkeypatch.chdir(tmp_path)
    committed = ("schema: '2.0'\nstages:\n  split:\n    cmd: python -m stages.split\n    deps:\n    - path: stages/split.py\n"
                 "      hash: md5\n      md5: 0123456789abcdef0123456789abcdef\n      size: 10\n")
    Path("dvc.lock").write_text(committed)
    for command in (["git", "init", "-q"], ["git", "add", "dvc.lock"], ["git", "commit", "-q", "-m", "lock"]):
        subprocess.run(command, check=True, env={**os.environ, **GIT_ENV})
    grown = committed + "  train@0.001-0:\n    cmd: python -m stages.train\n"
    Path("dvc.lock").write_text(grown)  # a good lock with more in it than git's: left as it is
    run_study.repair_dvc_lock()
    assert Path("dvc.lock").read_text() == grown and capsys.readouterr().err == ""
    Path("dvc.lock").write_text(grown[:grown.index("    cmd: python -m stages.train")])  # cut short: no cmd
    run_study.repair_dvc_lock()
    assert Path("dvc.lock").read_text() == committed
    assert "dvc.lock was damaged" in capsys.readouterr().err
