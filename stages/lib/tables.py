"""The sweep's tables, built from the runs alone: one row per run, one per LR (its seeds' spread), and the costs.

Nothing here decides: no `analysis` setting is read, no LR is picked or flagged. The conclude stage makes every
choice (stages/lib/conclusions.py) and the report words them (stages/report.py).
"""

import math

import numpy as np
import pandas as pd

RUN_COLUMNS = ["lr", "seed", "log10_lr", "best_valid_acc", "test_acc", "epochs", "best_epoch", "stopped_by",
               "train_time_s", "sec_per_epoch"]
LR_COLUMNS = ["lr", "log10_lr", "seeds", "valid_mean", "valid_std", "valid_min", "valid_max", "test_mean", "test_std",
              "test_min", "test_max", "epochs_median", "cost_median_s", "train_time_median_s"]


def log10_lr(lr: float) -> float:
    """The LR's exponent, rounded so that the grid's 10^-5.9 reads as -5.9 in tables and plots."""
    return round(math.log10(lr), 4)


def runs_table(runs: list[dict]) -> pd.DataFrame:
    """One row per run (what its results.json holds), sorted by LR then seed."""
    table = pd.DataFrame(runs)
    table["log10_lr"] = [log10_lr(lr) for lr in table["lr"]]
    table = table.sort_values(["lr", "seed"], ignore_index=True)
    extra = [c for c in table.columns if c not in RUN_COLUMNS]
    return table[RUN_COLUMNS + extra]


def pooled_sec_per_epoch(runs: pd.DataFrame) -> float:
    """One per-epoch time for the whole sweep (total training time / total epochs): every LR does the same work per
    epoch, so a cost in these seconds ranks runs by epochs, whatever the machine's load was while each ran."""
    return float(runs["train_time_s"].sum() / max(runs["epochs"].sum(), 1))


def _std(values) -> float:
    return float(np.std(values, ddof=1)) if len(values) > 1 else math.nan


def lr_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per LR: its seeds' accuracies (mean, spread) and epochs, the cost of its median run in pooled seconds,
    and its median measured seconds (reported, never used to choose)."""
    per_epoch = pooled_sec_per_epoch(runs)
    rows = []
    for lr, group in runs.groupby("lr", sort=True):
        valid, test = group["best_valid_acc"].to_numpy(), group["test_acc"].to_numpy()
        epochs = float(group["epochs"].median())
        rows.append({
            "lr": float(lr), "log10_lr": log10_lr(lr), "seeds": len(group),
            "valid_mean": valid.mean(), "valid_std": _std(valid), "valid_min": valid.min(), "valid_max": valid.max(),
            "test_mean": test.mean(), "test_std": _std(test), "test_min": test.min(), "test_max": test.max(),
            "epochs_median": epochs, "cost_median_s": epochs * per_epoch,
            "train_time_median_s": float(group["train_time_s"].median()),
        })
    return pd.DataFrame(rows, columns=LR_COLUMNS)
