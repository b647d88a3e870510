"""Stage lr_find: the LR range test, once per training seed, and what each rule reads off its loss curve.

Writes metrics/lr_find/curves.csv (seed, step, LR, loss, smoothed loss) and metrics/lr_find/suggestions.csv
(one row per seed and rule: the suggested LR, how the test ended, its cost in steps and epochs; the seconds
it took are printed, not written, so the outputs are the same on every run). On a CPU the test runs on one
thread: the same curves on any machine, whatever its core count (the thread count changes a float sum's last
bits, and an LR range test amplifies them). The rules and the test are in stages/lib/range_test.py;
score_lr_find judges the suggestions against the sweep.
"""

import sys

import pandas as pd
import torch

from stages.lib import atomic, params as P, range_test
from stages.lib.cli import clear_errors
from stages.lib.data import load_tensors
from stages.lib.paths import LR_FIND_CURVES_CSV, LR_FIND_SUGGESTIONS_CSV
from stages.lib.training import resolve_device


def read_settings(params: dict) -> dict:
    return {
        "test": P.lr_find_settings(params), "seeds": P.training_seeds(params),
        "batch_size": P.positive_int(params, "train.batch_size"),
        "double_softmax": P.flag(params, "model.double_softmax"),
        "device": P.choice(params, "train.device", P.DEVICES),
    }


def suggestion_rows(seed: int, result: dict, planned_steps: int, train_size: int) -> list[dict]:
    ended = {"stopped_by": result["stopped_by"], "steps": result["steps"],
             "epochs": round(result["train_images"] / train_size, 4)}
    return [{"seed": seed, "rule": rule, "suggested_lr": lr, **ended}
            for rule, lr in range_test.suggestions(result["curve"], planned_steps).items()]


def main() -> None:
    settings = P.load_checked("lr_find", read_settings)
    torch.set_num_threads(1)
    try:
        device = resolve_device(settings["device"])
    except RuntimeError as e:
        sys.exit(f"lr_find: error: {e}")
    data = load_tensors()
    test = settings["test"]
    curves, suggestions, seconds = [], [], 0.0
    for seed in settings["seeds"]:
        result = range_test.range_test(data, seed, test, settings["batch_size"], settings["double_softmax"], device)
        curves += [{"seed": seed, **row} for row in result["curve"]]
        rows = suggestion_rows(seed, result, test["steps"], len(data["train"][0]))
        suggestions += rows
        seconds += result["seconds"]
        said = ", ".join(f"{r['rule']} {r['suggested_lr']:.3g}" if r["suggested_lr"] else f"{r['rule']} -" for r in rows)
        print(f"lr_find: seed {seed}: {result['steps']} steps ({result['stopped_by']}, {result['seconds']:.1f} s): "
              f"{said}", file=sys.stderr, flush=True)
    atomic.write_text(LR_FIND_CURVES_CSV, pd.DataFrame(curves).to_csv(index=False))
    atomic.write_text(LR_FIND_SUGGESTIONS_CSV, pd.DataFrame(suggestions).to_csv(index=False))
    print(f"lr_find: {len(settings['seeds'])} range tests in {seconds:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    with clear_errors("lr_find"):
        main()
