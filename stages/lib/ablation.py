"""The patience ablation against the default sweep, run by run (the article's section 5-3).

Each ablation run has a twin in the default sweep: the same LR and training seed, trained the same way
but stopped with less patience. Until the twin stopped, the two are the same run (the same initial
weights, batches and arithmetic; `twin_repeated` checks it epoch by epoch), so what the ablation adds is
exactly what the twin's early stop left out: its gain in best validation accuracy, and the epochs it cost.
"""

import math

import numpy as np
import pandas as pd

from stages.lib.analysis import CONFIDENCE, DIGITS, paired_difference

RUN_KEYS = ["lr", "seed"]


def twin_repeated(default_curve: pd.DataFrame, longer_curve: pd.DataFrame) -> bool:
    """The longer run's first epochs are its twin's, number for number (validation accuracy and loss)."""
    n = len(default_curve)
    if len(longer_curve) < n:
        return False
    columns = ["train_loss", "valid_acc"]
    return default_curve[columns].to_numpy().tolist() == longer_curve[columns].iloc[:n].to_numpy().tolist()


def with_twins(default_runs: pd.DataFrame, longer_runs: pd.DataFrame) -> pd.DataFrame:
    """The ablation runs whose LR and seed this sweep also ran (another sweep may hold only some, or none)."""
    ran = set(zip(default_runs["lr"], default_runs["seed"]))
    return longer_runs[[(lr, seed) in ran for lr, seed in zip(longer_runs["lr"], longer_runs["seed"])]]


def compare_runs(default_runs: pd.DataFrame, default_curves: pd.DataFrame, longer_runs: pd.DataFrame,
                 longer_curves: pd.DataFrame) -> pd.DataFrame:
    """One row per ablation run, beside its default twin: best validation and test accuracy, epochs, the gain."""
    twins = default_runs.set_index(RUN_KEYS)
    default_by_run = dict(tuple(default_curves.sort_values("epoch").groupby(RUN_KEYS)))
    longer_by_run = dict(tuple(longer_curves.sort_values("epoch").groupby(RUN_KEYS)))
    rows = []
    for run in longer_runs.sort_values(RUN_KEYS).itertuples():
        key = (run.lr, run.seed)
        if key not in twins.index:
            raise ValueError(f"the default sweep has no run at lr {run.lr:g}, seed {run.seed} to compare with")
        twin = twins.loc[key]
        rows.append({
            "lr": run.lr, "seed": run.seed,
            "default_valid": twin["best_valid_acc"], "longer_valid": run.best_valid_acc,
            "gain": run.best_valid_acc - twin["best_valid_acc"],
            "default_test": twin["test_acc"], "longer_test": run.test_acc,
            "default_epochs": int(twin["epochs"]), "longer_epochs": int(run.epochs),
            "extra_epochs": int(run.epochs - twin["epochs"]),
            "longer_best_epoch": int(run.best_epoch), "longer_stopped_by": run.stopped_by,
            "improved_after_twin_stopped": bool(run.best_epoch > twin["epochs"]),
            "twin_repeated": twin_repeated(default_by_run[key], longer_by_run[key]),
        })
    return pd.DataFrame(rows)


def compare_lrs(runs: pd.DataFrame, best_mean: float, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Per LR over seeds: mean accuracy with default and more patience, the mean gain and its paired
    t-interval, the share of the gap to the best LR's mean (default sweep) that the gain closes, epochs."""
    rows = []
    for lr, group in runs.groupby("lr", sort=True):
        gain, low, high = paired_difference(group["longer_valid"], group["default_valid"], confidence)
        gap = best_mean - group["default_valid"].mean()
        rows.append({
            "lr": lr, "seeds": len(group),
            "default_valid_mean": group["default_valid"].mean(), "longer_valid_mean": group["longer_valid"].mean(),
            "gain_mean": gain, "gain_ci_low": low, "gain_ci_high": high,
            "gain_significant": bool(not math.isnan(low) and low > 0),
            "gap_closed": gain / gap if gap > 0 else math.nan,
            "default_epochs_median": float(group["default_epochs"].median()),
            "longer_epochs_median": float(group["longer_epochs"].median()),
            "epochs_ratio_median": float((group["longer_epochs"] / group["default_epochs"]).median()),
            "improved_after_twin_stopped": int(group["improved_after_twin_stopped"].sum()),
            "at_cap": int((group["longer_stopped_by"] == "max_epochs").sum()),
        })
    table = pd.DataFrame(rows)
    numeric = [c for c in table.columns if c != "lr" and table[c].dtype == float]
    table[numeric] = table[numeric].round(DIGITS)
    return table


def gain_stops_at(lrs: pd.DataFrame) -> float | None:
    """The smallest LR from which up every larger LR's gain is not significant (its interval contains 0);
    None when the largest LR still gains significantly."""
    significant = lrs.sort_values("lr")["gain_significant"].tolist()
    if not significant or significant[-1]:
        return None
    last_significant = max((i for i, s in enumerate(significant) if s), default=-1)
    return float(lrs.sort_values("lr")["lr"].iloc[last_significant + 1])


def epochs_total(runs: pd.DataFrame) -> tuple[int, int]:
    """Epochs of the default twins and of the ablation runs, all together."""
    return int(np.sum(runs["default_epochs"])), int(np.sum(runs["longer_epochs"]))
