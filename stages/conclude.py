"""Stage conclude: every conclusion of the study with its rule, its interval and its stability over seeds.

Reads the sweep's per-run table and learning curves (metrics/, written by aggregate) and the study's own checks,
committed as data: the learning edge without patience (make learning-edge), the patience ablation
(make ablation) with its reference runs, and the split-sensitivity experiments (make experiments). Writes
metrics/conclusions.json and its per-LR table metrics/conclusions_per_lr.csv; the answer row, the figures' picks,
REPORT.md and README's answer come from them.
"""

import sys
from pathlib import Path

import pandas as pd

from stages.lib import atomic, conclusions as C, inputs, params as P
from stages.lib.cli import clear_errors
from stages.lib.experiment_paths import (CONCLUSIONS_JSON, CONCLUSIONS_PER_LR_CSV, EDGE_CURVES_CSV, EDGE_EXPERIMENT_JSON, EDGE_RUNS_CSV,
                                         EXPERIMENTS_DIR)
from stages.lib.layout import SPLIT_METRICS_FILE
from stages.lib.paths import ABLATION_CURVES_CSV, ABLATION_EXPERIMENT_JSON, ABLATION_RUNS_CSV, CURVES_CSV, RUNS_CSV

REFERENCE_EXPERIMENT = "patience-20-reference"
SPLIT_PREFIX = "split-"


def read_settings(params: dict) -> dict:
    return {"tolerance": P.fraction(params, "analysis.tolerance"),
            "chance_level": P.fraction(params, "analysis.chance_level"),
            "patience": P.positive_int(params, "train.patience")}


def experiment(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict] | None:
    if not (folder / "runs.csv").exists():
        return None
    return (inputs.read_csv(folder / "runs.csv"), inputs.read_csv(folder / "learning_curves.csv"),
            inputs.read_json(folder / "experiment.json"))


def split_experiments() -> dict[int, tuple[pd.DataFrame, pd.DataFrame, dict]]:
    """{split seed: (runs, curves, experiment)} of the split-sensitivity experiments in metrics/experiments/."""
    found = {}
    for folder in sorted(EXPERIMENTS_DIR.glob(f"{SPLIT_PREFIX}*")):
        tables = experiment(folder)
        if tables is not None:
            found[int(folder.name[len(SPLIT_PREFIX):])] = tables
    return found


def cost(name: str, runs: pd.DataFrame, wall_s: float) -> dict:
    """What a check cost: its runs, their epochs, and its wall time from start to its tables written."""
    return {"name": name, "runs": len(runs), "epochs": int(runs["epochs"].sum()), "wall_s": wall_s}


def wall_time(info: dict) -> float:
    """An experiment's wall time; training_wall_s where its runs were trained before the tool recorded them."""
    return info["wall_s"] + info.get("training_wall_s", 0.0)


# What a check's runs must share with this sweep's for the check to speak about it (the patience and the epoch cap
# are what the checks vary; the split seed is what split experiments vary).
SETTINGS = ("train_size", "valid_size", "batch_size", "double_softmax", "precision")


def made_like(check_runs: pd.DataFrame, runs: pd.DataFrame) -> bool:
    """The check's runs were made with this sweep's data sizes, batch size, loss and precision."""
    columns = [c for c in SETTINGS if c in check_runs and c in runs]
    values = lambda table: sorted(map(tuple, table[columns].astype(str).drop_duplicates().values.tolist()))  # noqa: E731
    return len(columns) == len(SETTINGS) and values(check_runs) == values(runs)


def edge_made_like(info: dict, params: dict) -> bool:
    """The learning-edge runs were made with this sweep's split, sizes, batch size, loss and precision."""
    return info.get("settings") == C.sweep_settings(params)


def main() -> None:
    params = P.load_checked("conclude", lambda p: p)
    s = read_settings(params)
    split = inputs.read_json(SPLIT_METRICS_FILE)
    runs, curves = inputs.read_csv(RUNS_CSV), inputs.read_csv(CURVES_CSV)
    edge, checks, other_settings = None, [], []
    if EDGE_RUNS_CSV.exists():
        edge = (inputs.read_csv(EDGE_RUNS_CSV), inputs.read_csv(EDGE_CURVES_CSV), inputs.read_json(EDGE_EXPERIMENT_JSON))
        if edge_made_like(edge[2], params):
            checks.append(cost("learning-edge", edge[0], edge[2]["wall_s"]))
        else:
            edge, other_settings = None, other_settings + ["learning-edge"]
    longer, names = [], []
    if ABLATION_RUNS_CSV.exists():
        ablation = inputs.read_json(ABLATION_EXPERIMENT_JSON)
        found = [(ablation["name"], (inputs.read_csv(ABLATION_RUNS_CSV), inputs.read_csv(ABLATION_CURVES_CSV), ablation)),
                 (REFERENCE_EXPERIMENT, experiment(EXPERIMENTS_DIR / REFERENCE_EXPERIMENT))]
        for name, tables in found:
            if tables is None:
                continue
            if not made_like(tables[0], runs):
                other_settings.append(name)
                continue
            longer.append(tables[:2])
            names.append(name)
            checks.append(cost(name, tables[0], wall_time(tables[2])))
    splits = {}
    for seed, tables in split_experiments().items():
        if made_like(tables[0], runs):
            splits[seed] = tables
        else:
            other_settings.append(f"{SPLIT_PREFIX}{seed}")
    checks += [cost(f"{SPLIT_PREFIX}{seed}", runs_, wall_time(info)) for seed, (runs_, _, info) in splits.items()]
    conclusions = C.assemble(runs, curves, s["tolerance"], s["chance_level"], s["patience"],
                             valid_images=split["valid"]["size"], test_images=split["test"]["size"], edge=edge,
                             ablation=(longer, names) if longer else None,
                             splits={seed: tables[:2] for seed, tables in splits.items()},
                             split_seed=P.split_seed(params))
    conclusions["checks"] = checks
    conclusions["checks_made_under_other_settings"] = other_settings  # not used: they speak of another sweep
    per_lr = pd.DataFrame(conclusions.pop("per_lr"))
    atomic.write_text(CONCLUSIONS_PER_LR_CSV, per_lr.to_csv(index=False))
    atomic.write_json(CONCLUSIONS_JSON, C.json_safe(conclusions))
    print(f"conclude: {conclusions['statement']}", file=sys.stderr)


if __name__ == "__main__":
    with clear_errors("conclude"):
        main()
