"""Hand-made inputs the unit tests share: runs and learning curves whose answer is known, and tiny image data.

Imported by the test modules (pytest fixtures live in conftest.py; the end-to-end helpers in pipeline.py).
"""

import json
import random

import pandas as pd

from stages.lib import conclusions as C, tables
from stages.lib.layout import run_files
from stages.lib.params import RECORDED, run_name
from tests.committed import committed_params

CHANCE = 0.2


def run(lr, seed, acc, epochs=10, time=None, test=None, stopped_by="early_stopping"):
    time = epochs * 1.0 if time is None else time
    return {"lr": lr, "seed": seed, "best_valid_acc": acc, "test_acc": acc - 0.001 if test is None else test,
            "train_time_s": time, "epochs": epochs, "best_epoch": max(epochs - 5, 0), "sec_per_epoch": time / epochs,
            "stopped_by": stopped_by, "device": "cpu", "threads": 2}


def curve(lr, seed, accs, losses=None):
    losses = [1 / e for e in range(1, len(accs) + 1)] if losses is None else losses
    return pd.DataFrame({"lr": lr, "seed": seed, "epoch": range(1, len(accs) + 1), "train_loss": losses,
                         "valid_acc": accs})


CURVE_COLUMNS = ["lr", "seed", "epoch", "train_loss", "valid_acc"]


def conclude(runs, curves=None, tolerance=0.005, chance=CHANCE, patience=5) -> dict:
    """The conclude stage's conclusions (summary.json's, with its per-LR and per-run tables) of hand-made runs (a list
    of run() dicts) and curves (a list of curve() tables), as the aggregate's runs.csv would hold them."""
    curves = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(columns=CURVE_COLUMNS)
    return C.assemble(tables.runs_table(runs), curves, tolerance, chance, patience, valid_images=5000,
                      test_images=10000)


def written(runs, curves=None, tolerance=0.005, chance=CHANCE) -> dict:
    """What the aggregate and conclude stages write for hand-made runs, as the later stages read it back: runs
    (runs.csv with each run's `learned` from conclusions_per_run.csv, and test_acc), lrs (conclusions_per_lr.csv),
    curves (learning_curves.csv), summary (summary.json) and facts (sweep.json)."""
    from stages import aggregate

    c = conclude(runs, curves, tolerance, chance)
    table = tables.runs_table(runs)
    judged = pd.DataFrame(c.pop("per_run"))
    lrs = pd.DataFrame(c.pop("per_lr")).assign(measured_median_s=tables.lr_table(table)["train_time_median_s"].values)
    curve_table = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(columns=CURVE_COLUMNS)
    curve_table["log10_lr"] = curve_table["lr"].map(tables.log10_lr)
    return {"runs": table.merge(judged[["lr", "seed", "learned", "epochs_to_target"]], on=["lr", "seed"]),
            "judged": judged.merge(table[["lr", "seed", "test_acc"]], on=["lr", "seed"]), "lrs": lrs,
            "curves": curve_table, "summary": json.loads(json.dumps(C.json_safe(c))),
            "facts": json.loads(json.dumps(aggregate.facts(table)))}


# A sweep of 7 LRs x 3 seeds: accuracies by (LR, seed), epochs by LR, and when each run reaches 0.975.
ACC = {
    1e-6: (0.11, 0.11, 0.11),
    1e-5: (0.11, 0.50, 0.90),   # only some seeds learn
    1e-4: (0.960, 0.962, 0.958),
    1e-3: (0.980, 0.981, 0.979),  # the best mean, 0.98
    3e-3: (0.978, 0.979, 0.977),  # within 0.005, fewer epochs: the trade-off
    1e-2: (0.970, 0.971, 0.969),
    3e-2: (0.10, 0.10, 0.10),     # too large: nothing learns
}
EPOCHS = {1e-6: 6, 1e-5: 100, 1e-4: 60, 1e-3: 30, 3e-3: 20, 1e-2: 15, 3e-2: 6}


def typical_sweep(seconds_per_epoch=lambda lr, seed: 1.0):
    runs, curves = [], []
    for lr, accs in ACC.items():
        for seed, acc in enumerate(accs):
            epochs = EPOCHS[lr]
            runs.append(run(lr, seed, acc, epochs, time=epochs * seconds_per_epoch(lr, seed)))
            # reaches its best at epoch epochs - 5, linearly from 0.1
            best_at = max(epochs - 5, 1)
            curves.append(curve(lr, seed, [0.1 + (acc - 0.1) * min(e / best_at, 1) for e in range(1, epochs + 1)]))
    random.Random(0).shuffle(runs)  # given out of order on purpose
    return runs, curves


def recorded_settings(params: dict) -> dict:
    """What a run made with these params records of them (params.RECORDED), as the train stage writes it."""
    values = {name: value for section in params.values() if isinstance(section, dict) for name, value in section.items()}
    return {name: values[name] for name in RECORDED}


# A run's folder as the train stage writes it (results.json, a 3-epoch history.csv), for the aggregate's tests: the
# settings of the committed params.yaml.
SETTINGS = recorded_settings(committed_params())


def write_run(lr, seed, acc, **settings):
    files = run_files(run_name(lr, seed))
    files["results"].parent.mkdir(parents=True, exist_ok=True)
    results = run(lr, seed, acc, epochs=3) | SETTINGS | settings
    files["results"].write_text(json.dumps(results))
    files["history"].write_text("epoch,train_loss,valid_acc,elapsed_s\n1,2.0,0.5,1.0\n2,1.0,0.9,2.0\n3,0.9,0.9,3.0\n")
    return files



# For the conclude stage's rules (tests/test_conclusions.py, tests/test_answer.py): runs and curves as DataFrames.
TOL = 0.005


def sweep(acc: dict, epochs: dict, reach: dict | None = None):
    """runs and curves from {lr: [acc per seed]}, {lr: [epochs per seed]}; reach: {lr: [epoch the run first reaches
    its best]} (default: its last epoch). Each curve climbs to its best at that epoch and stays there."""
    runs, curves = [], []
    for lr, accs in acc.items():
        for seed, a in enumerate(accs):
            n = epochs[lr][seed]
            at = (reach or {}).get(lr, [n] * len(accs))[seed]
            runs.append({"lr": lr, "seed": seed, "best_valid_acc": a, "test_acc": a - 0.001, "epochs": n,
                         "train_time_s": float(n), "stopped_by": "early_stopping"})
            values = [0.11 + (a - 0.11) * min(e, at) / at for e in range(1, n + 1)]
            curves += [{"lr": lr, "seed": seed, "epoch": e, "train_loss": 1.0 / e, "valid_acc": v}
                       for e, v in enumerate(values, 1)]
    return pd.DataFrame(runs), pd.DataFrame(curves)


def synthetic_data(n_train=96, n_valid=64, n_test=64, seed=0):
    """Two easy classes: bright upper half vs bright lower half, with noise."""
    import torch  # only here: the other helpers serve tests that run without PyTorch

    g = torch.Generator().manual_seed(seed)

    def make(n):
        labels = torch.randint(0, 2, (n,), generator=g)
        images = torch.randn(n, 1, 28, 28, generator=g) * 0.3
        images[labels == 0, :, :14] += 1.0
        images[labels == 1, :, 14:] += 1.0
        return images, labels

    return {"train": make(n_train), "valid": make(n_valid), "test": make(n_test)}
