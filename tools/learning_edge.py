"""The learning edge freed from patience: how many epochs each small LR needs to leave the chance level.

    python -m tools.learning_edge [--low 1e-6] [--high 1e-5] [--cap 200] [--jobs N|auto]

`make learning-edge` calls it. With patience 5, every run at LR <= 3.981e-06 of the default sweep stopped at
epoch 6 on the initial plateau (validation accuracy 11.42 %, the most frequent class) while its training loss
fell at every epoch. Is that the LR, or the patience? Here every grid LR of sweep.lrs from --low to --high
runs with every training seed of sweep.seeds, without early stopping, until its validation accuracy first
rises above analysis.chance_level (the study's own "learned"), or --cap epochs. Everything else is the train
stage's: the same settings from params.yaml (stages/train.py reads them), the same split, initial weights,
batches and arithmetic, one CPU thread per worker as `make run`; so each run repeats its default-sweep twin
epoch for epoch until the twin stopped (the conclude stage checks it).

The cap, 200 epochs: the default runs at 1e-5 need about 200 epochs to converge; a run that is still at the
chance level after as many epochs as the slowest learning LR takes to finish is a finding, not a cut-off.

Writes metrics/learning_edge/ (all files, or none): runs.csv (one row per run: the first epoch above the
chance level, or none within the cap), curves.csv (every epoch) and experiment.json (what ran, how long).
The conclude stage reads them; they are committed as data, like the patience ablation.
"""

import argparse
import functools
import multiprocessing
import os
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import pandas as pd

from stages.lib import atomic, conclusions as C, params as P
from stages.lib.experiment_paths import EDGE_CURVES_CSV, EDGE_DIR, EDGE_EXPERIMENT_JSON, EDGE_RUNS_CSV
from stages.train import read_settings
from tools.run_study import MAX_JOBS, usable_cpus

DEFAULT_LOW, DEFAULT_HIGH, DEFAULT_CAP = 1e-6, 1e-5, 200


class Reached(Exception):
    """Raised from the epoch callback: the run's validation accuracy has reached what it runs for; stop it."""


def edge_lrs(params: dict, low: float, high: float) -> list[float]:
    return [lr for lr in P.sweep_lrs(params) if low <= lr <= high]


def run_until(lr: float, seed: int, cap: int, reached: Callable[[float], bool], tool: str,
              what: str) -> tuple[dict, list[dict]]:
    """One run of the train stage's, without early stopping, until reached(validation accuracy) or cap epochs.
    Returns (its row: reached_epoch, None if not within the cap; its epochs). tool and what: for its progress line."""
    import dataclasses

    import torch

    from stages.lib.data import load_tensors
    from stages.lib.training import resolve_device, train

    settings, _ = read_settings(P.load_params(), lr, seed)
    settings = dataclasses.replace(settings, patience=cap, max_epochs=cap,
                                   device=resolve_device(settings.device))
    epochs: list[dict] = []

    def on_epoch(row: dict, stopper) -> None:
        epochs.append(dict(row))
        if reached(row["valid_acc"]):
            raise Reached

    started = time.perf_counter()
    try:
        train(load_tensors(), settings, on_epoch=on_epoch)
        at = None
    except Reached:
        at = epochs[-1]["epoch"]
    row = {
        "lr": lr, "seed": seed, "reached_epoch": at, "epochs": len(epochs), "cap": cap,
        "first_valid_acc": epochs[0]["valid_acc"],
        "last_valid_acc": epochs[-1]["valid_acc"], "first_train_loss": epochs[0]["train_loss"],
        "last_train_loss": epochs[-1]["train_loss"], "train_time_s": round(time.perf_counter() - started, 3),
        "threads": torch.get_num_threads(), "device": settings.device, "torch": torch.__version__,
    }
    print(f"{tool}: lr {P.lr_name(lr)} seed {seed}: "
          + (f"{what} at epoch {at}" if at else f"not {what} after {cap} epochs"), file=sys.stderr, flush=True)
    return row, [{"lr": lr, "seed": seed, **e} for e in epochs]


def run_all(pairs: list[tuple[float, int]], cap: int, reached: Callable[[float], bool], jobs: int, tool: str,
            what: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every (lr, seed) run_until, `jobs` at a time: (runs, curves)."""
    # Each run in a fresh process with one thread, set before PyTorch loads, as `make run` starts a train stage:
    # a thread count changed after start-up can pick other kernels and change the last bits of every number.
    os.environ.update({"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    n = len(pairs)
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        done = list(pool.map(run_until, *zip(*pairs), [cap] * n, [reached] * n, [tool] * n, [what] * n))
    runs = pd.DataFrame([row for row, _ in done]).astype({"reached_epoch": "Int64"})  # empty: not within the cap
    curves = pd.DataFrame([epoch for _, epochs in done for epoch in epochs])
    return runs, curves


def write_check(runs_csv: Path, curves_csv: Path, experiment_json: Path, runs: pd.DataFrame, curves: pd.DataFrame,
                facts: dict, started: float, extra: dict[str, str] | None = None) -> None:
    """A check's folder, all files or none: its runs and curves tables and experiment.json (facts, then one thread
    per run, the wall time since `started` and when it finished); extra: {file name: text} beside them."""
    with atomic.atomic_dir(runs_csv.parent) as tmp:
        for name, text in (extra or {}).items():
            atomic.write_text(tmp / name, text)
        atomic.write_text(tmp / runs_csv.name, runs.to_csv(index=False))
        atomic.write_text(tmp / curves_csv.name, curves.to_csv(index=False))
        atomic.write_json(tmp / experiment_json.name, {
            **facts, "cpu_threads_per_run": 1, "wall_s": round(time.time() - started, 1),
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds")})


def jobs_count(value: str) -> int:
    """--jobs as `make run` reads JOBS: auto is the CPUs this process may use (tools/run_study.py)."""
    if value == "auto":
        return usable_cpus()
    if not re.fullmatch(r"[0-9]+", value) or not 1 <= int(value) <= MAX_JOBS:  # ASCII digits only
        raise SystemExit(f"learning_edge: error: --jobs must be auto or a whole number from 1 to {MAX_JOBS}, "
                         f"got {value!r}")
    return int(value)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--low", type=float, default=DEFAULT_LOW, help=f"smallest LR (default {DEFAULT_LOW:g})")
    parser.add_argument("--high", type=float, default=DEFAULT_HIGH, help=f"largest LR (default {DEFAULT_HIGH:g})")
    parser.add_argument("--cap", type=int, default=DEFAULT_CAP, help=f"most epochs a run (default {DEFAULT_CAP})")
    parser.add_argument("--jobs", default="auto", help="runs at a time (default: auto, one per usable CPU)")
    args = parser.parse_args(argv)
    params = P.load_checked("learning_edge", lambda p: p)
    chance_level = P.fraction(params, "analysis.chance_level")
    lrs, seeds = edge_lrs(params, args.low, args.high), P.training_seeds(params)
    if not lrs:
        parser.error(f"sweep.lrs has no LR from {args.low:g} to {args.high:g}")
    if not 1 <= args.cap <= 10_000:
        parser.error("--cap must be from 1 to 10000 epochs")
    pairs = [(lr, seed) for lr in lrs for seed in seeds]
    jobs = min(jobs_count(args.jobs), len(pairs))
    print(f"learning_edge: {len(lrs)} LRs x {len(seeds)} seeds, until validation accuracy > {chance_level} or "
          f"{args.cap} epochs; {jobs} at a time", file=sys.stderr, flush=True)
    started = time.time()
    runs, curves = run_all(pairs, args.cap, functools.partial(C.learned, chance_level=chance_level), jobs,
                           "learning_edge", "above chance")
    runs = runs.rename(columns={"reached_epoch": "left_chance_epoch"}).assign(chance_level=chance_level)
    write_check(EDGE_RUNS_CSV, EDGE_CURVES_CSV, EDGE_EXPERIMENT_JSON, runs, curves, {
        "settings": C.sweep_settings(params),  # the conclude stage uses these runs only for a sweep made like them
        "lrs": [P.lr_name(lr) for lr in lrs], "seeds": seeds, "cap": args.cap, "chance_level": chance_level,
        "jobs": jobs,
        "reproduce": f"make learning-edge  # python -m tools.learning_edge --low {args.low:g} --high {args.high:g} "
                     f"--cap {args.cap}",
    }, started)
    print(f"learning_edge: {len(pairs)} runs in {time.time() - started:.0f} s; tables in {EDGE_DIR}/",
          file=sys.stderr)


if __name__ == "__main__":
    main()
