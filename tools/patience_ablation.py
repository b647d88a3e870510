"""The patience ablation: the sweep's small and middle LRs again with more patience, as a DVC experiment.

    python -m tools.patience_ablation [--patience 20] [--max-epochs 400] [--seeds 0 1 2] [--lrs LR ...] [--jobs N|auto]

`make ablation` calls it. It tests the article's section 5-3 guess: do small LRs end less accurate because
early stopping cuts them off while they still improve? Default: every other LR of sweep.lrs from 1e-5 to
1e-3, training seeds 0, 1 and 2, patience 20, and at most 400 epochs a run: at 1e-5 the default runs stop
after about 200 epochs while still finding a new best every few epochs, so with patience 20 they could run to
train.max_epochs (1000); 400, twice theirs, bounds the ablation's cost (a run that reaches the cap says so).

1. The experiment's train stages run N at a time with `make run`'s runner (tools/run_study.py), in a
   scratch git worktree of HEAD under .dvc/tmp/ that shares this project's DVC cache; their results land in
   DVC's run-cache. (`dvc exp run` alone would train them one after another.)
2. `dvc exp run --temp -n patience-<P> -S ...` then records the experiment: every train stage is restored
   from the run-cache, the downstream stages run. `dvc exp show` lists it; the workspace is left as it was.
3. The experiment's per-run table and learning curves are copied from its commit to
   metrics/patience_ablation/ (with experiment.json: what was set, the experiment's ref), for git and the
   report, which compares each run with the same LR and seed in the default sweep.

Same thread count as `make run` (one thread per worker on CPUs), so that an ablation run repeats its
default-patience twin epoch for epoch until that twin stopped.
"""

import argparse
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from stages.lib import atomic, params as P
from stages.lib.paths import (ABLATION_CURVES_CSV, ABLATION_DIR, ABLATION_EXPERIMENT_JSON, ABLATION_RUNS_CSV, CURVES_CSV,
                              RUNS_CSV)

FILES = {RUNS_CSV: ABLATION_RUNS_CSV, CURVES_CSV: ABLATION_CURVES_CSV}  # the experiment's table: where it is kept
WORKTREE = Path(".dvc/tmp/patience_ablation")  # DVC's scratch space, never in git
DEFAULT_RANGE = (1e-5, 1e-3)
DEFAULT_SEEDS = (0, 1, 2)
DEFAULT_MAX_EPOCHS = 400


def default_lrs(params: dict, low: float = DEFAULT_RANGE[0], high: float = DEFAULT_RANGE[1]) -> list[float]:
    """Every other LR of the sweep from low to high, both ends included where the grid has them."""
    inside = [lr for lr in P.sweep_lrs(params) if low <= lr <= high]
    return inside[::2]


def overrides(patience: int, max_epochs: int | None, seeds: list[int], lrs: list[float]) -> list[str]:
    """The experiment's `-S` values, written as DVC's parser reads them (YAML 1.2 flow lists)."""
    return ([f"train.patience={patience}"] + ([f"train.max_epochs={max_epochs}"] if max_epochs else [])
            + [f"sweep.seeds=[{', '.join(map(str, seeds))}]", f"sweep.lrs=[{', '.join(P.lr_name(lr) for lr in lrs)}]"])


def run(*args: str, cwd: Path | str = ".", capture: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=capture, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout or "").strip()[-3000:] if capture else ""
        raise SystemExit(f"patience_ablation: error: `{' '.join(args)}` failed ({result.returncode})\n{detail}")
    return result


def dvc(*args: str, cwd: Path | str = ".", capture: bool = True) -> subprocess.CompletedProcess:
    return run(str(Path(sys.executable).with_name("dvc")), *args, cwd=cwd, capture=capture)


def set_params(path: Path, changes: dict) -> None:
    """What `dvc exp run -S` does to params.yaml (a ruamel round trip, comments kept), for the worktree.
    changes: {"train.patience": 20, ...}."""
    from ruamel.yaml import YAML

    yaml = YAML()
    params = yaml.load(path.read_text())
    for key, value in changes.items():
        section, name = key.split(".")
        params[section][name] = value
    with open(path, "w") as f:
        yaml.dump(params, f)


def train_in_worktree(jobs: str, changes: dict) -> None:
    """The experiment's train stages, N at a time, into the shared cache and run-cache."""
    root = Path.cwd()
    cache = dvc("cache", "dir").stdout.strip()
    if WORKTREE.exists():
        run("git", "worktree", "remove", "--force", str(WORKTREE))
    run("git", "worktree", "add", "--detach", str(WORKTREE), "HEAD")
    try:
        dvc("cache", "dir", "--local", str((root / cache).resolve()), cwd=WORKTREE)
        set_params(WORKTREE / "params.yaml", changes)
        run(sys.executable, "-m", "tools.run_study", "--jobs", jobs, cwd=WORKTREE, capture=False)
    finally:
        run("git", "worktree", "remove", "--force", str(WORKTREE))


def record_experiment(name: str, settings: list[str]) -> str:
    """`dvc exp run --temp`: the train stages come from the run-cache. Returns the experiment's git ref."""
    if name in dvc("exp", "list", "--name-only").stdout.split():
        dvc("exp", "remove", name)  # a rerun replaces the experiment of the same name
    dvc("exp", "run", "--temp", "-n", name, *[a for s in settings for a in ("-S", s)], capture=False)
    return experiment_ref(name)


def experiment_ref(name: str) -> str:
    """The git ref DVC keeps the named experiment of this commit under, as DVC itself resolves the name."""
    from dvc.repo import Repo
    from dvc.repo.experiments.utils import resolve_name

    with Repo() as repo:
        ref = resolve_name(repo.scm, name).get(name)
    if ref is None:
        raise SystemExit(f"patience_ablation: error: DVC has no experiment named {name!r} after running it")
    return str(ref)


def export(ref: str, name: str, settings: list[str], wall_s: float, folder: Path = ABLATION_DIR, why: str = "",
           reproduce: str = "") -> None:
    """The experiment's tables, from its commit, into folder (all files, or none)."""
    with atomic.atomic_dir(folder) as tmp:
        for source, kept in FILES.items():
            (tmp / kept.name).write_text(run("git", "show", f"{ref}:{source.as_posix()}").stdout)
        atomic.write_json(tmp / ABLATION_EXPERIMENT_JSON.name, {
            "name": name, "set": settings, **({"why": why} if why else {}), "ref": ref,
            "commit": run("git", "rev-parse", ref).stdout.strip(),
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "wall_s": round(wall_s, 1),
            "reproduce": (reproduce or "make ablation") + f"  # or: dvc exp run -n {name} "
                         + " ".join(f"-S '{s}'" for s in settings),
        })


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patience", type=int, default=20, help="early stopping patience (default: 20)")
    parser.add_argument("--max-epochs", type=int, default=DEFAULT_MAX_EPOCHS,
                        help=f"cap on a run's epochs (default: {DEFAULT_MAX_EPOCHS}; 0: train.max_epochs)")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(DEFAULT_SEEDS), help="training seeds")
    parser.add_argument("--lrs", type=float, nargs="+", help="learning rates (default: every other LR of "
                        "sweep.lrs from 1e-5 to 1e-3)")
    parser.add_argument("--jobs", default="auto", help="train stages at a time (default: auto, as make run)")
    args = parser.parse_args(argv)
    params = P.load_checked("patience_ablation", lambda p: p)
    lrs = args.lrs or default_lrs(params)
    changes = {"train.patience": args.patience, "sweep.seeds": list(args.seeds), "sweep.lrs": list(lrs)}
    if args.max_epochs:
        changes["train.max_epochs"] = args.max_epochs
    try:  # the same checks as params.yaml's own values
        changed = {section: dict(values) for section, values in params.items()}
        for key, value in changes.items():
            section, name = key.split(".")
            changed[section][name] = value
        P.check(changed)
    except P.ParamsError as e:
        parser.error(str(e).replace("params.yaml: ", ""))
    name = f"patience-{args.patience}"
    settings = overrides(args.patience, args.max_epochs, args.seeds, lrs)
    print(f"patience_ablation: {len(lrs)} LRs x {len(args.seeds)} seeds at patience {args.patience}: "
          f"{', '.join(settings)}", file=sys.stderr, flush=True)
    started = time.time()
    train_in_worktree(args.jobs, changes)
    ref = record_experiment(name, settings)
    export(ref, name, settings, time.time() - started)
    print(f"patience_ablation: experiment {name} recorded ({ref}); its tables are in {ABLATION_DIR}/",
          file=sys.stderr)


if __name__ == "__main__":
    main()
