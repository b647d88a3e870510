"""Stage aggregate: the sweep's tables, and its facts as a whole (runs, stops, cost, machine). It decides nothing.

Reads exactly the runs that sweep.lrs x sweep.seeds name (runs of removed LRs or seeds left on disk are ignored),
checks that they were made alike, and writes, for git: metrics/runs.csv (one row per LR and seed), metrics/sweep.csv
(one row per LR: its seeds' mean and spread, epochs and costs), metrics/learning_curves.csv (one row per run and
epoch) and metrics/sweep.json (runs, stops, cost, machine). It reads no `analysis` setting: every choice is the
conclude stage's, so a change of analysis settings never runs this stage again.
"""

import json
import sys

import pandas as pd

from stages.lib import atomic, params as P, tables
from stages.lib.cli import clear_errors
from stages.lib.paths import CURVES_CSV, RUNS_CSV, SWEEP_JSON, SWEEP_CSV
from stages.lib.layout import HISTORY_FIELDS, run_files
from stages.lib.sweep_facts import ARITHMETIC, cost_facts, distinct, rounded, sweep_facts

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
            history.insert(2, "log10_lr", tables.log10_lr(lr))
            curves.append(history)
    return pd.concat(curves, ignore_index=True).sort_values(["lr", "seed", "epoch"], ignore_index=True)


def write_csv(path, table: pd.DataFrame) -> None:
    # Python's shortest exact spelling for every float: LRs survive the round trip to the plot and report.
    atomic.write_text(path, table.to_csv(index=False))


def facts(runs: pd.DataFrame) -> dict:
    """metrics/sweep.json: the sweep's runs and stops, its cost (measured time: reported, never used to choose) and
    the machine the runs were made on."""
    return {"sweep": sweep_facts(runs), "cost": cost_facts(runs, tables.pooled_sec_per_epoch(runs)),
            "machine": {column: distinct(runs, column) for column in ("device", "threads", "cpu", "torch")}}


def main() -> None:
    sweep = P.load_settings("aggregate", P.Sweep)
    lrs, seeds = sweep.lrs, sweep.seeds
    try:
        results = load_runs(lrs, seeds)
        curves = load_curves(lrs, seeds, {(run["lr"], run["seed"]): run["epochs"] for run in results})
    except SweepError as e:
        sys.exit(f"aggregate: error: {e}")
    runs = tables.runs_table(results)
    write_csv(RUNS_CSV, runs)
    write_csv(SWEEP_CSV, rounded(tables.lr_table(runs)))
    write_csv(CURVES_CSV, curves)
    atomic.write_json(SWEEP_JSON, facts(runs))
    print(f"aggregate: {len(lrs)} LRs x {len(seeds)} seeds, {int(runs['epochs'].sum()):,} epochs", file=sys.stderr)


if __name__ == "__main__":
    with clear_errors("aggregate"):
        main()
