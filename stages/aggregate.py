"""Stage aggregate: the sweep's tables across seeds, and the study's conclusions with their uncertainty.

Reads exactly the runs that sweep.lrs x sweep.seeds name (runs of removed LRs or seeds left on disk
are ignored) and writes, for git: metrics/runs.csv (one row per LR and seed), metrics/sweep.csv (one
row per LR: mean, spread and 95 % interval over seeds, costs), metrics/learning_curves.csv (one row per
run and epoch), metrics/summary.json (the conclusions) and metrics/per_lr/ (one small file per LR, so
that `dvc metrics show metrics/per_lr` prints a row per LR).
"""

import json
import sys

import pandas as pd

from stages.lib import analysis, atomic, params as P
from stages.lib.cli import clear_errors
from stages.lib.paths import CURVES_CSV, PER_LR_DIR, RUNS_CSV, SUMMARY_JSON, SWEEP_CSV
from stages.lib.layout import run_files

# Settings every run records; runs of one sweep must agree on them (older runs left on disk may not).
SHARED_SETTINGS = ("batch_size", "patience", "max_epochs", "double_softmax", "train_size", "valid_size", "precision")


class SweepError(RuntimeError):
    pass


def read_settings(params: dict) -> tuple[list[float], list[int], float, float]:
    return (P.sweep_lrs(params), P.training_seeds(params), P.fraction(params, "analysis.tolerance"),
            P.fraction(params, "analysis.chance_level"))


def run_file(lr: float, seed: int, kind: str):
    name = P.run_name(lr, seed)
    path = run_files(name)[kind]
    if not path.is_file():
        raise SweepError(f"no results for lr {P.lr_name(lr)}, seed {seed} ({path}); run `dvc repro train@{name}`")
    return path


def load_runs(lrs: list[float], seeds: list[int]) -> list[dict]:
    runs = [json.loads(run_file(lr, seed, "results").read_text()) for lr in lrs for seed in seeds]
    check_same_settings(runs)
    return runs


def check_same_settings(runs: list[dict]) -> None:
    """A sweep mixes no runs made under other settings (e.g. left over from another experiment)."""
    for key in SHARED_SETTINGS:
        values = {json.dumps(run.get(key)) for run in runs}
        if len(values) > 1:
            raise SweepError(f"the sweep's runs were made with different {key} ({', '.join(sorted(values))}); "
                             f"rerun them with `dvc repro --force` on the train stages that differ")


def load_curves(lrs: list[float], seeds: list[int]) -> pd.DataFrame:
    curves = []
    for lr in lrs:
        for seed in seeds:
            history = pd.read_csv(run_file(lr, seed, "history"))
            history.insert(0, "lr", lr)
            history.insert(1, "seed", seed)
            history.insert(2, "log10_lr", analysis.log10_lr(lr))
            curves.append(history)
    return pd.concat(curves, ignore_index=True).sort_values(["lr", "seed", "epoch"], ignore_index=True)


def per_lr_metrics(lrs: pd.DataFrame, summary: dict) -> dict[str, dict]:
    """{file name: metrics} per LR: mean validation accuracy and its interval (ci_low, ci_high), mean test
    accuracy, seeds that learned, median epochs, cost and measured seconds, and the conclusions that name it.
    The number in front of the LR keeps `dvc metrics show metrics/per_lr` rows in LR order."""
    width = max(2, len(str(len(lrs))))
    metrics = {}
    for i, row in enumerate(lrs.itertuples(), start=1):
        role = analysis.picks(row.lr, summary) or (["best range"] if row.in_best_range else [])
        role += ["no learning"] if row.learned_fraction == 0 else ["partial learning"] if row.learned_fraction < 1 else []
        metrics[f"{i:0{width}d}_{P.lr_name(row.lr)}.json"] = {
            # the LR is in the file name (a number here would show rounded to 5 decimals: 1e-06 as 0.0)
            "valid": row.valid_mean, "ci_low": _or_none(row.valid_ci_low), "ci_high": _or_none(row.valid_ci_high),
            "test": row.test_mean, "learned": analysis.learned_seeds(row),
            "epochs": row.epochs_median, "cost_s": round(row.cost_median_s, 1),
            "time_s": round(row.train_time_median_s, 1), "role": ", ".join(role) or "-",
        }
    return metrics


def _or_none(value):
    """JSON has no NaN: an interval from one seed is null."""
    return None if pd.isna(value) else value


def write_per_lr(metrics: dict[str, dict]) -> None:
    with atomic.atomic_dir(PER_LR_DIR) as tmp:
        for name, values in metrics.items():
            atomic.write_json(tmp / name, values)


def write_csv(path, table: pd.DataFrame) -> None:
    # Python's shortest exact spelling for every float: LRs survive the round trip to the plot and report.
    atomic.write_text(path, table.to_csv(index=False))


def main() -> None:
    lrs, seeds, tolerance, chance_level = P.load_checked("aggregate", read_settings)
    try:
        runs = analysis.runs_table(load_runs(lrs, seeds), chance_level)
        curves = load_curves(lrs, seeds)
    except SweepError as e:
        sys.exit(f"aggregate: error: {e}")
    runs, per_lr, summary = analysis.analyze(runs, curves, tolerance, chance_level)
    write_csv(RUNS_CSV, runs)
    write_csv(SWEEP_CSV, per_lr)
    write_csv(CURVES_CSV, curves)
    atomic.write_json(SUMMARY_JSON, summary)
    write_per_lr(per_lr_metrics(per_lr, summary))
    best, tradeoff = summary["best"], summary["tradeoff"]
    print(f"aggregate: {len(lrs)} LRs x {len(seeds)} seeds; best lr {best['lr']} (mean valid {best['valid_mean']:.4f})"
          + (f"; trade-off lr {tradeoff['lr']}" if tradeoff else "; no LR learned"), file=sys.stderr)


if __name__ == "__main__":
    with clear_errors("aggregate"):
        main()
