"""The study's conclusions, computed from the sweep table (one row per learning rate).

Every choice is made on validation accuracy; test accuracy is only reported beside it.
"""

import math

import pandas as pd

COLUMNS = ["lr", "log10_lr", "best_valid_acc", "test_acc", "train_time_s", "epochs", "best_epoch",
           "sec_per_epoch", "stopped_by"]


def log10_lr(lr: float) -> float:
    """The LR's exponent, rounded so that the grid's 10^-5.9 reads as -5.9 in tables and plots."""
    return round(math.log10(lr), 4)


def sweep_table(runs: list[dict]) -> pd.DataFrame:
    """One row per run, sorted by learning rate, with the Pareto-front flag."""
    table = pd.DataFrame(runs)
    table["log10_lr"] = [log10_lr(lr) for lr in table["lr"]]
    table = table.sort_values("lr", ignore_index=True)
    table["pareto"] = pareto_mask(table)
    extra = [c for c in table.columns if c not in COLUMNS and c != "pareto"]
    return table[COLUMNS + ["pareto"] + extra]


def best_index(table: pd.DataFrame) -> int:
    """The highest validation accuracy; ties go to the faster run, then the smaller LR."""
    ranked = table.sort_values(["best_valid_acc", "train_time_s", "lr"], ascending=[False, True, True])
    return int(ranked.index[0])


def within_tolerance(table: pd.DataFrame, tolerance: float) -> pd.Series:
    best = table["best_valid_acc"].max()
    # round away float noise: 0.98 - 0.975 must count as within 0.005
    return (best - table["best_valid_acc"]).round(9) <= tolerance


def best_range(table: pd.DataFrame, tolerance: float) -> tuple[int, int]:
    """First and last row of the contiguous run of LRs, around the best, within tolerance of the best."""
    close = within_tolerance(table, tolerance).tolist()
    low = high = best_index(table)
    while low > 0 and close[low - 1]:
        low -= 1
    while high < len(close) - 1 and close[high + 1]:
        high += 1
    return low, high


def tradeoff_index(table: pd.DataFrame, tolerance: float) -> int:
    """The fastest run (training time) within tolerance of the best accuracy."""
    candidates = table[within_tolerance(table, tolerance)]
    ranked = candidates.sort_values(["train_time_s", "best_valid_acc", "lr"], ascending=[True, False, True])
    return int(ranked.index[0])


def no_learning_below(table: pd.DataFrame, chance_level: float):
    """The smallest LR that learns, when every smaller LR stays at chance level; else None.

    None when the smallest LR already learns (nothing to report) or when no LR learns at all.
    """
    learned = (table["best_valid_acc"] > chance_level).tolist()
    if not learned or learned[0] or not any(learned):
        return None
    return float(table["lr"].iloc[learned.index(True)])


def no_learning_above(table: pd.DataFrame, chance_level: float):
    """The largest LR that learns, when every larger LR stays at chance level (too large to train); else None."""
    reversed_table = table.iloc[::-1].reset_index(drop=True)
    return no_learning_below(reversed_table, chance_level)


def pareto_mask(table: pd.DataFrame) -> list[bool]:
    """Runs no other run beats on both counts: at least as accurate and at least as fast, one strictly."""
    acc, time = table["best_valid_acc"].tolist(), table["train_time_s"].tolist()
    return [
        not any(
            acc[j] >= acc[i] and time[j] <= time[i] and (acc[j] > acc[i] or time[j] < time[i])
            for j in range(len(acc))
        )
        for i in range(len(acc))
    ]


def summarize(table: pd.DataFrame, tolerance: float, chance_level: float) -> dict:
    best, tradeoff = table.loc[best_index(table)], table.loc[tradeoff_index(table, tolerance)]
    low, high = best_range(table, tolerance)
    pareto = table[table["pareto"]].sort_values(["train_time_s", "lr"])
    return {
        "runs": len(table),
        "best_lr": float(best["lr"]),
        "best_valid_acc": float(best["best_valid_acc"]),
        "best_test_acc": float(best["test_acc"]),
        "tolerance": tolerance,
        "best_range": {
            "low_lr": float(table["lr"].iloc[low]),
            "high_lr": float(table["lr"].iloc[high]),
            "runs": high - low + 1,
        },
        "tradeoff_lr": float(tradeoff["lr"]),
        "tradeoff_valid_acc": float(tradeoff["best_valid_acc"]),
        "tradeoff_test_acc": float(tradeoff["test_acc"]),
        "tradeoff_train_time_s": float(tradeoff["train_time_s"]),
        "tradeoff_epochs": int(tradeoff["epochs"]),
        "best_train_time_s": float(best["train_time_s"]),
        "best_epochs": int(best["epochs"]),
        "chance_level": chance_level,
        "no_learning_below": no_learning_below(table, chance_level),
        "no_learning_above": no_learning_above(table, chance_level),
        "learning_lrs": int((table["best_valid_acc"] > chance_level).sum()),
        "pareto_lrs": [float(lr) for lr in pareto["lr"]],
        "diverged_lrs": [float(lr) for lr in table.loc[table["stopped_by"] == "diverged", "lr"]],
        "total_epochs": int(table["epochs"].sum()),
        "total_train_time_s": round(float(table["train_time_s"].sum()), 1),
        **timing_summary(table),
        "device": _distinct(table, "device"),
        "threads": _distinct(table, "threads"),
        "cpu": _distinct(table, "cpu"),
        "torch": _distinct(table, "torch"),
    }


def _distinct(table: pd.DataFrame, column: str) -> str:
    """The value every run shares, or all of them joined when runs differ."""
    if column not in table:
        return "unknown"
    return ", ".join(str(v) for v in dict.fromkeys(table[column].tolist()))


def timing_summary(table: pd.DataFrame) -> dict:
    """Wall time of the sweep's train stages, from the timestamps each run records."""
    if not {"started_at", "finished_at", "stage_wall_s"} <= set(table.columns):
        return {}
    started, finished = pd.to_datetime(table["started_at"]), pd.to_datetime(table["finished_at"])
    return {
        "sweep_wall_s": round((finished.max() - started.min()).total_seconds(), 1),
        "total_stage_wall_s": round(float(table["stage_wall_s"].sum()), 1),
        "mean_startup_s": round(float(table["startup_s"].mean()), 3),
        "mean_sec_per_epoch": round(float(table["train_time_s"].sum() / max(table["epochs"].sum(), 1)), 4),
    }
