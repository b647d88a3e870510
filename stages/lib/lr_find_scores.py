"""The LR range test's suggestions judged against the sweep: would a rule have found the sweep's answer?

Per seed and rule: the suggestion snapped to the sweep's nearest LR (in log10), whether that LR is in the
best range, how many decades the suggestion lies from the best and the trade-off LR, the accuracy the same
seed's sweep run reached at that LR, and the epochs it cost (the test, then one run at the suggested LR)
against the sweep's epochs for that seed. Per rule: the same, over seeds, with the spread of the suggestions.
"""

import math

import numpy as np
import pandas as pd

from stages.lib.sweep_facts import json_number

SCORE_COLUMNS = ["seed", "rule", "suggested_lr", "grid_lr", "outside_grid", "decades_to_best",
                 "decades_to_tradeoff", "in_best_range", "valid_acc", "test_acc", "learned", "lr_valid_mean",
                 "range_test_epochs", "run_epochs", "total_epochs", "sweep_epochs"]


def snap(lr: float, grid: list[float]) -> float:
    """The grid's LR nearest to lr in log10 (ties: the smaller)."""
    logs = np.log10(grid)
    return float(grid[int(np.argmin(np.abs(logs - math.log10(lr))))])


def score(suggestions: pd.DataFrame, runs: pd.DataFrame, lrs: pd.DataFrame, summary: dict) -> pd.DataFrame:
    """One row per (seed, rule): suggestions (the lr_find stage's table) against the conclude stage's tables (runs:
    conclusions_per_run.csv, with test_acc from runs.csv; lrs: conclusions_per_lr.csv) and the summary's best and
    trade-off LRs. A rule that gave no suggestion keeps its row, with NaN/None."""
    grid = sorted(float(lr) for lr in lrs["lr"])
    best_lr = summary["best"]["lr"]
    tradeoff_lr = summary["tradeoff"]["lr"] if summary.get("tradeoff") else math.nan
    in_range = dict(zip(lrs["lr"].astype(float), lrs["in_best_range"].astype(bool)))
    lr_mean = dict(zip(lrs["lr"].astype(float), lrs["valid_mean"]))
    run_at = runs.set_index(["lr", "seed"])
    sweep_epochs = runs.groupby("seed")["epochs"].sum()
    rows = []
    for s in suggestions.itertuples():
        lr = float(s.suggested_lr) if pd.notna(s.suggested_lr) else math.nan
        row = {"seed": int(s.seed), "rule": s.rule, "suggested_lr": lr, "range_test_epochs": float(s.epochs),
               "sweep_epochs": float(sweep_epochs.get(int(s.seed), math.nan))}
        if math.isnan(lr):
            rows.append(row)
            continue
        grid_lr = snap(lr, grid)
        run = run_at.loc[(grid_lr, int(s.seed))] if (grid_lr, int(s.seed)) in run_at.index else None
        row |= {
            "grid_lr": grid_lr, "outside_grid": not grid[0] <= lr <= grid[-1],
            "decades_to_best": math.log10(lr / best_lr),
            "decades_to_tradeoff": math.log10(lr / tradeoff_lr) if not math.isnan(tradeoff_lr) else math.nan,
            "in_best_range": in_range[grid_lr], "lr_valid_mean": lr_mean[grid_lr],
        }
        if run is not None:  # the seed was run in the sweep at that LR
            row |= {"valid_acc": run["best_valid_acc"], "test_acc": run["test_acc"], "learned": bool(run["learned"]),
                    "run_epochs": float(run["epochs"]),
                    "total_epochs": float(s.epochs) + float(run["epochs"])}
        rows.append(row)
    table = pd.DataFrame(rows).reindex(columns=SCORE_COLUMNS)
    # rules in the order the lr_find stage lists them (its RULES), then seeds
    table["rule"] = pd.Categorical(table["rule"], categories=list(dict.fromkeys(suggestions["rule"])), ordered=True)
    table = table.sort_values(["rule", "seed"], ignore_index=True)
    table["rule"] = table["rule"].astype(str)
    return table


def rule_summary(scores: pd.DataFrame, summary: dict) -> dict[str, dict]:
    """Per rule, over seeds: how often its suggestion lands in the best range, how far it is from the best and
    the trade-off LR (median decades, signed: negative is below), how far its suggestions spread across seeds,
    the accuracy the same seeds reached at the suggested LRs against the best LR's mean, and the epochs."""
    best_mean = summary["best"]["valid_mean"]
    out = {}
    for rule, group in scores.groupby("rule", sort=False):
        given = group[group["suggested_lr"].notna()]
        logs = np.log10(given["suggested_lr"].to_numpy(dtype=float))
        with_run = given[given["valid_acc"].notna()]
        out[rule] = {
            "seeds": len(group), "suggested": len(given),
            "suggested_lr_median": json_number(10 ** np.median(logs), None) if len(logs) else None,
            "suggested_lr_min": json_number(given["suggested_lr"].min(), None) if len(given) else None,
            "suggested_lr_max": json_number(given["suggested_lr"].max(), None) if len(given) else None,
            "spread_decades": json_number(logs.max() - logs.min(), 3) if len(logs) else None,
            "in_best_range": int(given["in_best_range"].astype(bool).sum()),
            "decades_to_best_median": json_number(given["decades_to_best"].median(), 3),
            "decades_to_tradeoff_median": json_number(given["decades_to_tradeoff"].median(), 3),
            "learned": int(with_run["learned"].astype(bool).sum()), "runs": len(with_run),
            "valid_acc_mean": json_number(with_run["valid_acc"].mean()),
            "valid_acc_min": json_number(with_run["valid_acc"].min()),
            "gap_to_best_mean": json_number(best_mean - with_run["valid_acc"].mean()) if len(with_run) else None,
            "test_acc_mean": json_number(with_run["test_acc"].mean()),
            "range_test_epochs_mean": json_number(group["range_test_epochs"].mean(), 2),
            "total_epochs_mean": json_number(with_run["total_epochs"].mean(), 1),
            "sweep_epochs_mean": json_number(group["sweep_epochs"].mean(), 1),
        }
    return out


def overview(scores: pd.DataFrame, per_rule: dict[str, dict], summary: dict) -> dict:
    """What the report says of all rules together: the tests' size against the sweep's, and the rules whose
    suggestion lands in the best range for every seed, and for none."""
    return {"best_lr": summary["best"]["lr"], "best_valid_mean": summary["best"]["valid_mean"],
            "tradeoff_lr": (summary["tradeoff"] or {}).get("lr"), "seeds": int(scores["seed"].nunique()),
            "range_test_epochs_mean": json_number(scores["range_test_epochs"].mean(), 4),
            "sweep_epochs_mean": json_number(scores["sweep_epochs"].mean(), 1),
            "in_best_range_every_seed": [rule for rule, r in per_rule.items()
                                         if r["suggested"] and r["in_best_range"] == r["seeds"]],
            "in_best_range_no_seed": [rule for rule, r in per_rule.items() if not r["in_best_range"]]}
