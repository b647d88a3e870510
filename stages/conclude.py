"""Stage conclude: every conclusion of the study with its rule, its interval and its stability over seeds.

Reads the aggregate's tables (metrics/runs.csv, learning_curves.csv, sweep.csv, sweep.json), the study's own checks,
committed as data: the learning edge without patience (make learning-edge), the patience ablation
(make ablation) with its reference runs, and the split-sensitivity experiments (make experiments); the earlier
single-seed sweep, and make verify's record. Writes metrics/summary.json (the study's summary: every conclusion and
every comparison the report states) and its per-LR table metrics/conclusions_per_lr.csv; the answer row, the
figures' picks, REPORT.md and README's answer come from them.
"""

import sys
from pathlib import Path

import pandas as pd

from stages.lib import analysis, atomic, conclusions as C, earlier_answer, inputs, params as P
from stages.lib.cli import clear_errors
from stages.lib.experiment_paths import (CONCLUSIONS_PER_LR_CSV, EDGE_CURVES_CSV, EDGE_EXPERIMENT_JSON, EDGE_RUNS_CSV,
                                         EXPERIMENTS_DIR, SINGLE_SEED_SWEEP_CSV, SUMMARY_JSON, VERIFIED_RESULTS,
                                         VERIFY_JSON)
from stages.lib.layout import SPLIT_METRICS_FILE
from stages.lib.paths import (ABLATION_CURVES_CSV, ABLATION_EXPERIMENT_JSON, ABLATION_RUNS_CSV, CURVES_CSV, RUNS_CSV,
                              SWEEP_CSV, SWEEP_JSON)

REFERENCE_EXPERIMENT = "patience-20-reference"
SPLIT_PREFIX = "split-"


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


# What a check's runs must share with this sweep's for the check to speak about it: every recorded setting but the
# patience and the epoch cap, which the checks vary (the split seed is what split experiments vary).
SETTINGS = C.SHARED_WITH_CHECKS


def made_like(check_runs: pd.DataFrame, runs: pd.DataFrame) -> bool:
    """The check's runs were made with this sweep's data sizes, batch size, loss and precision."""
    columns = [c for c in SETTINGS if c in check_runs and c in runs]
    values = lambda table: sorted(map(tuple, table[columns].astype(str).drop_duplicates().values.tolist()))  # noqa: E731
    return len(columns) == len(SETTINGS) and values(check_runs) == values(runs)


def edge_made_like(info: dict, params: dict) -> bool:
    """The learning-edge runs were made with this sweep's split, sizes, batch size, loss and precision."""
    return info.get("settings") == C.sweep_settings(params)


def single_seed(s: P.Analysis, conclusions: dict, sweep_table: pd.DataFrame) -> dict:
    """The earlier single-seed sweep judged by the rules one run per LR allows, beside this study's answer: which
    conclusions held, which moved (stages/lib/earlier_answer.py)."""
    sweep = inputs.read_csv(SINGLE_SEED_SWEEP_CSV)
    answer = earlier_answer.single_seed_answer(sweep, s.tolerance, s.chance_level)
    study = {**inputs.read_json(SWEEP_JSON), "best_range": conclusions["best_range"],
             "tradeoff": conclusions["tradeoff"]}  # this stage's picks, the aggregate's learning edges
    rows = earlier_answer.compare(study, answer, conclusions["best"]["stability"]["set"])
    return {"file": SINGLE_SEED_SWEEP_CSV.as_posix(), "lrs": int(sweep["lr"].nunique()),
            "same_grid": set(sweep["lr"]) == set(sweep_table["lr"]),
            "rows": rows, "held": [r["conclusion"] for r in rows if r["held"]],
            "moved": [r["conclusion"] for r in rows if not r["held"]]}


def beside_the_conclusions(conclusions: dict, s: P.Analysis, runs: pd.DataFrame, sweep_table: pd.DataFrame) -> dict:
    """What the report states beside the conclusions, computed here so that the report only formats: the sweep's
    wall time, the aggregate's descriptive rules, the runs still improving when stopped, the earlier single-seed
    sweep's answer against this one, and make verify's last record (whether it is still of these runs)."""
    return {
        "wall_time": C.wall_time(inputs.read_json(SWEEP_JSON)["cost"]),
        "rules_descriptive": [rule for rule in analysis.RULES if rule.startswith(("*Cost*", "*Still improving"))],
        "still_improving": C.still_improving(sweep_table, conclusions["best"]["lr"]),
        "single_seed": single_seed(s, conclusions, sweep_table),
        "verification": (C.verification(inputs.read_json(VERIFY_JSON), runs, VERIFIED_RESULTS)
                         if VERIFY_JSON.exists() else None),
    }


def main() -> None:
    params = P.load_checked("conclude", lambda p: p)  # whole: the learning edge's runs are matched against it
    s, train, data = P.read(params, P.Analysis), P.read(params, P.Train), P.read(params, P.Data)
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
    conclusions = C.assemble(runs, curves, s.tolerance, s.chance_level, train.patience,
                             valid_images=split["valid"]["size"], test_images=split["test"]["size"], edge=edge,
                             ablation=(longer, names) if longer else None,
                             splits={seed: tables[:2] for seed, tables in splits.items()},
                             split_seed=data.split_seed)
    conclusions["checks"] = checks
    conclusions["checks_wall_s"] = round(sum(check["wall_s"] for check in checks), 1)
    conclusions["checks_made_under_other_settings"] = other_settings  # not used: they speak of another sweep
    if conclusions["patience_ablation"]:
        conclusions["patience_ablation"]["settings"] = inputs.read_json(ABLATION_EXPERIMENT_JSON)["set"]
    sweep_table = inputs.read_csv(SWEEP_CSV)
    conclusions |= beside_the_conclusions(conclusions, s, runs, sweep_table)
    per_lr = pd.DataFrame(conclusions.pop("per_lr"))
    # the measured seconds beside each LR (reported, never used to choose)
    per_lr["measured_median_s"] = per_lr["lr"].map(dict(zip(sweep_table["lr"], sweep_table["train_time_median_s"])))
    atomic.write_text(CONCLUSIONS_PER_LR_CSV, per_lr.to_csv(index=False))
    atomic.write_json(SUMMARY_JSON, C.json_safe(conclusions))
    print(f"conclude: {conclusions['statement']}", file=sys.stderr)


if __name__ == "__main__":
    with clear_errors("conclude"):
        main()
