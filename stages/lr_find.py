"""Stage lr_find: the LR range test, once per training seed, and what each rule reads off its loss curve.

Writes metrics/lr_find/curves.csv (seed, step, LR, loss, smoothed loss) and metrics/lr_find/suggestions.csv
(one row per seed and rule: the suggested LR, how the test ended, its cost in steps and epochs; the seconds
it took are printed, not written, so the outputs are the same on every run). On a CPU the test runs on one
thread: the same curves on any machine, whatever its core count (the thread count changes a float sum's last
bits, and an LR range test amplifies them). The rules and the test are in stages/lib/lr_find.py;
score_lr_find judges the suggestions against the sweep.
"""

import sys

import pandas as pd
import torch

from stages.lib import atomic, lr_find, params as P
from stages.lib.cli import clear_errors
from stages.lib.data import load_tensors
from stages.lib.paths import LR_FIND_CURVES_CSV, LR_FIND_SUGGESTIONS_CSV
from stages.lib.training import resolve_device


def suggestion_rows(seed: int, result: dict, planned_steps: int, train_size: int) -> list[dict]:
    ended = {"stopped_by": result["stopped_by"], "steps": result["steps"],
             "epochs": round(result["train_images"] / train_size, 4)}
    return [{"seed": seed, "rule": rule, "suggested_lr": lr, **ended}
            for rule, lr in lr_find.suggestions(result["curve"], planned_steps).items()]


def main() -> None:
    test, sweep, train, model = P.load_settings("lr_find", P.LrFind, P.Sweep, P.Train, P.Model)
    torch.set_num_threads(1)
    try:
        device = resolve_device(train.device)
    except RuntimeError as e:
        sys.exit(f"lr_find: error: {e}")
    data = load_tensors()
    curves, suggestions, seconds = [], [], 0.0
    for seed in sweep.seeds:
        result = lr_find.range_test(data, seed, vars(test), train.batch_size, model.double_softmax, device)
        curves += [{"seed": seed, **row} for row in result["curve"]]
        rows = suggestion_rows(seed, result, test.steps, len(data["train"][0]))
        suggestions += rows
        seconds += result["seconds"]
        said = ", ".join(f"{r['rule']} {r['suggested_lr']:.3g}" if r["suggested_lr"] else f"{r['rule']} -" for r in rows)
        print(f"lr_find: seed {seed}: {result['steps']} steps ({result['stopped_by']}, {result['seconds']:.1f} s): "
              f"{said}", file=sys.stderr, flush=True)
    atomic.write_text(LR_FIND_CURVES_CSV, pd.DataFrame(curves).to_csv(index=False))
    atomic.write_text(LR_FIND_SUGGESTIONS_CSV, pd.DataFrame(suggestions).to_csv(index=False))
    print(f"lr_find: {len(sweep.seeds)} range tests in {seconds:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    with clear_errors("lr_find"):
        main()
