"""Stage train@<lr>-<seed>: train the article's CNN at one fixed learning rate and training seed, with early stopping.

Usage: python -m stages.train            (as DVC runs it: DVC names the stage in DVC_STAGE, train@<lr>-<seed>)
       python -m stages.train <lr>-<seed>  (by hand, e.g. 0.001-3)
The LR and seed are read from the run's name, spelled exactly as DVC names it, never from a command line that a
shell has expanded, so no value of params.yaml ever passes through a shell. Which runs a study has is the sweep's
business (dvc.yaml and params.yaml), not this stage's: it reads only the sections a run is made under (model, train),
so that no other setting of the study makes the runs stale.
Writes one folder, data/runs/<lr>-<seed>/: results.json (results, settings and the machine's arithmetic),
history.csv (one row per epoch) and, only where train.save_weights asks, model.pt (the best-validation weights).
"""

import time

STARTED_AT = time.time()  # before the heavy imports: the stage's start-up cost is part of what we report

import csv
import dataclasses
import io
import os
import sys
from datetime import datetime, timezone

import torch

from stages.lib import atomic, run_params as P
from stages.lib.cli import clear_errors
from stages.lib.data import load_tensors
from stages.lib.layout import HISTORY_FIELDS, HISTORY_FILE, MODEL_FILE, PROGRESS_ENV, RESULTS_FILE, run_dir
from stages.lib.machine import math_dispatch
from stages.lib.training import Settings, resolve_device, train

STAGE = "train"  # the stage's name in dvc.yaml


def run_to_train(argv: list[str], environ) -> tuple[float, int]:
    """(lr, seed) of the run this process trains: named by DVC in DVC_STAGE, or by hand as one argument."""
    if len(argv) > 1:
        raise P.ParamsError("usage: python -m stages.train [<lr>-<seed>]; DVC names the run in DVC_STAGE")
    stage = argv[0] if argv else environ.get("DVC_STAGE", "")
    name = stage.removeprefix(f"{STAGE}@")
    if not name:
        raise P.ParamsError("no run named: DVC sets DVC_STAGE=train@<lr>-<seed>; by hand, give <lr>-<seed> "
                          "(e.g. 0.001-3)")
    return P.parse_run_name(name)


def read_settings(params: dict, lr: float, seed: int) -> tuple[Settings, P.Train]:
    """The run's Settings, filled by name from the checked model and train sections, and the train section itself
    (threads, whether to keep the weights: how the run is made and kept, not what it computes)."""
    model, train = P.read(params, P.Model), P.read(params, P.Train)
    return Settings.of_run(lr, seed, {**vars(model), **vars(train)}), train


class ProgressLine:
    """One line per run: rewritten in place on a terminal, every 10th epoch in a log."""

    def __init__(self, name: str, stream=sys.stderr, progress_file: str | None = None):
        self.name, self.stream, self.progress_file = name, stream, progress_file
        self.interactive = stream.isatty()

    def __call__(self, row: dict, stopper) -> None:
        if self.progress_file:  # for the runner's status line (PROGRESS_ENV): the epoch, not a line to parse
            atomic.write_json(self.progress_file, {"run": self.name, "epoch": row["epoch"]})
        line = (
            f"train@{self.name}  epoch {row['epoch']:3d}  loss {row['train_loss']:.4f}  "
            f"valid {row['valid_acc']:.4f}  best {stopper.best_score:.4f} (epoch {stopper.best_epoch})  "
            f"{row['elapsed_s'] / row['epoch']:.2f} s/epoch"
        )
        if self.interactive:
            print(f"\r{line}\033[K", end="", file=self.stream, flush=True)
        elif row["epoch"] % 10 == 0:
            print(line, file=self.stream, flush=True)

    def finish(self, results: dict) -> None:
        end = "\n" if self.interactive else ""
        print(
            f"{end}train@{self.name}: {results['stopped_by']} after {results['epochs']} epochs "
            f"({results['train_time_s']:.1f} s); best valid {results['best_valid_acc']:.4f} at epoch "
            f"{results['best_epoch']}, test {results['test_acc']:.4f}",
            file=self.stream, flush=True,
        )


def history_csv(history: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HISTORY_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    return out.getvalue()


def main() -> None:
    settings, train_section = P.load_checked(
        "train", lambda p: read_settings(p, *run_to_train(sys.argv[1:], os.environ)), sections=(P.Model, P.Train))
    if train_section.threads:
        torch.set_num_threads(train_section.threads)
    try:
        settings = dataclasses.replace(settings, device=resolve_device(settings.device))
    except RuntimeError as e:
        sys.exit(f"train: error: {e}")
    name = P.run_name(settings.lr, settings.seed)

    progress = ProgressLine(name, progress_file=os.environ.get(PROGRESS_ENV))
    data = load_tensors()  # a damaged split: one line naming it (clear_errors)
    startup_s = time.time() - STARTED_AT
    run = train(data, settings, on_epoch=progress)
    progress.finish(run["results"])

    arithmetic = math_dispatch(settings.device)
    with atomic.atomic_dir(run_dir(name)) as tmp:  # every file, or none
        if train_section.save_weights:
            torch.save({"lr": settings.lr, "seed": settings.seed, "state_dict": run["best_state"]}, tmp / MODEL_FILE)
        atomic.write_text(tmp / HISTORY_FILE, history_csv(run["history"]))
        finished_at = time.time()
        atomic.write_json(tmp / RESULTS_FILE, {
            **run["results"],
            **arithmetic,  # which instruction sets the math ran with: runs agree bit for bit only when these do
            "startup_s": round(startup_s, 3),  # process start to data in memory
            "stage_wall_s": round(finished_at - STARTED_AT, 3),
            "started_at": _iso(STARTED_AT),
            "finished_at": _iso(finished_at),
        })


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds")


if __name__ == "__main__":
    with clear_errors("train"):
        main()
