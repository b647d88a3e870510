"""Stage aggregate: one table of the sweep, and the study's conclusions.

Reads exactly the runs that sweep.lrs names (results of removed LRs left on disk are ignored) and
writes metrics/sweep.csv (one row per LR), metrics/learning_curves.csv (one row per LR and epoch)
and metrics/summary.json (best LR, best-accuracy range, trade-off LR, where learning stops).
"""

import json
import sys
from pathlib import Path

import pandas as pd

from stages.lib import analysis, atomic, params as P
from stages.lib.runs import HISTORY_DIR, RESULTS_DIR

SWEEP_CSV = Path("metrics/sweep.csv")
CURVES_CSV = Path("metrics/learning_curves.csv")
SUMMARY_JSON = Path("metrics/summary.json")


class MissingRunError(RuntimeError):
    pass


def read_settings(params: dict) -> tuple[list[float], float, float]:
    return (P.sweep_lrs(params), P.fraction(params, "analysis.tolerance"),
            P.fraction(params, "analysis.chance_level"))


def run_file(folder: Path, lr: float, suffix: str) -> Path:
    path = folder / f"{P.run_name(lr)}{suffix}"
    if not path.is_file():
        raise MissingRunError(f"no results for lr {P.run_name(lr)} ({path}); run `dvc repro train@{P.run_name(lr)}`")
    return path


def load_runs(lrs: list[float], runs_dir: Path = RESULTS_DIR) -> list[dict]:
    return [json.loads(run_file(runs_dir, lr, ".json").read_text()) for lr in lrs]


def load_curves(lrs: list[float], history_dir: Path = HISTORY_DIR) -> pd.DataFrame:
    curves = []
    for lr in lrs:
        history = pd.read_csv(run_file(history_dir, lr, ".csv"))
        history.insert(0, "lr", lr)
        history.insert(1, "log10_lr", analysis.log10_lr(lr))
        curves.append(history)
    return pd.concat(curves, ignore_index=True).sort_values(["lr", "epoch"], ignore_index=True)


def write_csv(path: Path, table: pd.DataFrame) -> None:
    atomic.write_text(path, table.to_csv(index=False, float_format="%.6g"))


def main() -> None:
    lrs, tolerance, chance_level = P.load_checked("aggregate", read_settings)
    try:
        table = analysis.sweep_table(load_runs(lrs))
        curves = load_curves(lrs)
    except MissingRunError as e:
        sys.exit(f"aggregate: error: {e}")
    summary = analysis.summarize(table, tolerance, chance_level)
    write_csv(SWEEP_CSV, table)
    write_csv(CURVES_CSV, curves)
    atomic.write_json(SUMMARY_JSON, summary)
    print(
        f"aggregate: {len(table)} runs; best lr {summary['best_lr']} (valid {summary['best_valid_acc']:.4f}); "
        f"trade-off lr {summary['tradeoff_lr']}; no learning below {summary['no_learning_below']}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
