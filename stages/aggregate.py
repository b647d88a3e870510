"""Stage aggregate: the sweep's tables across seeds, and its facts as a whole (runs, cost, machine).

Reads exactly the runs that sweep.lrs x sweep.seeds name (runs of removed LRs or seeds left on disk
are ignored) and writes, for git: metrics/runs.csv (one row per LR and seed), metrics/sweep.csv (one
row per LR: mean, spread and 95 % interval over seeds, costs), metrics/learning_curves.csv (one row per
run and epoch), metrics/sweep.json (runs, stops, cost, machine, and the point-estimate picks the per-LR files'
roles name; the conclusions, with their intervals and stability, are the conclude stage's metrics/summary.json)
and metrics/per_lr/ (one small file per LR, so
that `dvc metrics show metrics/per_lr` prints a row per LR).
"""

import json
import sys

import pandas as pd

from stages.lib import analysis, atomic, params as P
from stages.lib.cli import clear_errors
from stages.lib.paths import CURVES_CSV, PER_LR_DIR, RUNS_CSV, SWEEP_JSON, SWEEP_CSV
from stages.lib.layout import HISTORY_FIELDS, run_files
from stages.lib.sweep_facts import ARITHMETIC

# Settings every run records (params.RECORDED); runs of one sweep must agree on them (older runs left on disk may not).
SHARED_SETTINGS = P.RECORDED


class SweepError(RuntimeError):
    pass


def run_file(lr: float, seed: int, kind: str):
    name = P.run_name(lr, seed)
    path = run_files(name)[kind]
    if not path.is_file():
        raise SweepError(f"no results for lr {P.lr_name(lr)}, seed {seed} ({path}); run `dvc repro train@{name}`")
    return path


# What every results.json holds (stages/lib/training.py writes them): a file without them is damaged.
RESULT_KEYS = ("lr", "seed", "best_valid_acc", "test_acc", "train_time_s", "epochs", "best_epoch", "sec_per_epoch",
               "stopped_by", *SHARED_SETTINGS)


def damaged(path, lr: float, seed: int, what: str) -> SweepError:
    """The one error for a run file that cannot be what the train stage wrote, with the ways to get it back."""
    name, folder = P.run_name(lr, seed), run_files(P.run_name(lr, seed))["results"].parent
    return SweepError(f"{path} is damaged ({what}); `dvc checkout {folder}` restores the run from DVC's cache, "
                      f"`dvc repro --force --single-item train@{name}` trains it again")


def read_results(lr: float, seed: int) -> dict:
    path = run_file(lr, seed, "results")
    try:
        run = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise damaged(path, lr, seed, f"not JSON: {e}") from None
    if not isinstance(run, dict):
        raise damaged(path, lr, seed, "not a JSON object")
    missing = [key for key in RESULT_KEYS if key not in run]
    if missing:
        raise damaged(path, lr, seed, f"no {', '.join(missing)}")
    if (run["lr"], run["seed"]) != (lr, seed):
        raise damaged(path, lr, seed, f"it holds lr {run['lr']!r}, seed {run['seed']!r}")
    return run


def load_runs(lrs: list[float], seeds: list[int]) -> list[dict]:
    runs = [read_results(lr, seed) for lr in lrs for seed in seeds]
    check_same_settings(runs)
    check_same_arithmetic(runs)
    for run in runs:  # one column of text in runs.csv, as JSON (make verify compares it with this machine's)
        if "isa_pins" in run:
            run["isa_pins"] = json.dumps(run["isa_pins"], sort_keys=True)
    return runs


def check_same_settings(runs: list[dict]) -> None:
    """A sweep mixes no runs made under other settings (e.g. left over from another experiment)."""
    key, values = first_disagreement(runs, SHARED_SETTINGS)
    if key:
        raise SweepError(f"the sweep's runs were made with different {key} ({values}); "
                         f"rerun them with `dvc repro --force` on the train stages that differ")


def check_same_arithmetic(runs: list[dict]) -> None:
    """A sweep mixes no runs whose math ran with other instruction sets (AVX-512 and AVX2 machines: a study retrained
    in parts on two kinds of machine); a run made before runs recorded them has none."""
    key, values = first_disagreement(runs, ARITHMETIC)
    if key:
        raise SweepError(f"the sweep's runs were made on machines whose math differs: {key} {values} (`make verify` "
                         f"explains); train the runs that differ again on one kind of machine "
                         f"(`dvc repro --force --single-item train@<lr>-<seed>`)")


def first_disagreement(runs: list[dict], keys: tuple) -> tuple[str | None, str]:
    """The first of keys on which the runs differ, with their values (as JSON, sorted), or (None, "")."""
    for key in keys:
        values = {json.dumps(run.get(key), sort_keys=True) for run in runs}
        if len(values) > 1:
            return key, ", ".join(sorted(values))
    return None, ""


def read_history(lr: float, seed: int, epochs: int | None = None) -> pd.DataFrame:
    """A run's history.csv, checked: its header, and one row per epoch from 1 (to `epochs`, where known)."""
    path = run_file(lr, seed, "history")
    try:
        history = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise damaged(path, lr, seed, f"not a CSV table: {str(e).strip()}") from None
    if tuple(history.columns) != HISTORY_FIELDS:
        raise damaged(path, lr, seed, f"its header is not {','.join(HISTORY_FIELDS)}")
    numeric = all(pd.api.types.is_numeric_dtype(history[column]) for column in HISTORY_FIELDS)
    if not numeric or history["epoch"].tolist() != list(range(1, len(history) + 1)):
        raise damaged(path, lr, seed, "its rows are not one per epoch, numbered from 1")
    if epochs is not None and len(history) != epochs:
        raise damaged(path, lr, seed, f"{len(history)} epochs, where results.json says {epochs}")
    return history


def load_curves(lrs: list[float], seeds: list[int], epochs: dict | None = None) -> pd.DataFrame:
    """Every run's history; epochs: {(lr, seed): epochs trained} from results.json, to check each one against."""
    curves = []
    for lr in lrs:
        for seed in seeds:
            history = read_history(lr, seed, (epochs or {}).get((lr, seed)))
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
    sweep, analysis_settings = P.load_settings("aggregate", P.Sweep, P.Analysis)
    lrs, seeds = sweep.lrs, sweep.seeds
    tolerance, chance_level = analysis_settings.tolerance, analysis_settings.chance_level
    try:
        results = load_runs(lrs, seeds)
        runs = analysis.runs_table(results, chance_level)
        curves = load_curves(lrs, seeds, {(run["lr"], run["seed"]): run["epochs"] for run in results})
    except SweepError as e:
        sys.exit(f"aggregate: error: {e}")
    runs, per_lr, summary = analysis.analyze(runs, curves, tolerance, chance_level)
    write_csv(RUNS_CSV, runs)
    write_csv(SWEEP_CSV, per_lr)
    write_csv(CURVES_CSV, curves)
    atomic.write_json(SWEEP_JSON, summary)
    write_per_lr(per_lr_metrics(per_lr, summary))
    best, tradeoff = summary["best"], summary["tradeoff"]
    print(f"aggregate: {len(lrs)} LRs x {len(seeds)} seeds; best lr {best['lr']} (mean valid {best['valid_mean']:.4f})"
          + (f"; trade-off lr {tradeoff['lr']}" if tradeoff else "; no LR learned"), file=sys.stderr)


if __name__ == "__main__":
    with clear_errors("aggregate"):
        main()
