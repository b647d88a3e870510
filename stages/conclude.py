"""Stage conclude: every choice of the study, each with its interval and its stability over seeds.

Reads the aggregate's tables (metrics/runs.csv, learning_curves.csv, sweep.csv, sweep.json), the study's own checks,
committed as data: the learning edge without patience (make learning-edge), the patience ablation
(make ablation) with its reference runs, and the split-sensitivity experiments (make experiments); the earlier
single-seed sweep, and make verify's record. Writes metrics/summary.json (every conclusion and every comparison the
report states), its tables per LR and per run (metrics/conclusions_per_lr.csv, conclusions_per_run.csv) and
metrics/per_lr/ (one small file per LR with its role, for `dvc metrics show metrics/per_lr`). The answer row, the
figures' picks and REPORT.md come from them; no other stage chooses anything.
"""

import sys
from pathlib import Path

import pandas as pd

from stages.lib import adaptive, atomic, conclusions as C, earlier_answer, inputs, params as P
from stages.lib.cli import clear_errors
from stages.lib.experiment_paths import (ADAPTIVE_REPLAY_JSON, ADAPTIVE_RUNS_CSV, ADAPTIVE_STUDY_JSON,
                                         CONCLUSIONS_PER_LR_CSV, CONCLUSIONS_PER_RUN_CSV, EDGE_CURVES_CSV,
                                         EDGE_EXPERIMENT_JSON, EDGE_RUNS_CSV, EXPERIMENTS_DIR, PER_LR_DIR,
                                         SINGLE_SEED_SWEEP_CSV, SPEED_CHECK_CURVES_CSV, SPEED_CHECK_EXPERIMENT_JSON,
                                         SPEED_CHECK_RUNS_CSV, SUMMARY_JSON, VERIFIED_RESULTS, VERIFY_JSON)
from stages.lib.layout import SPLIT_METRICS_FILE
from stages.lib.paths import (ABLATION_CURVES_CSV, ABLATION_EXPERIMENT_JSON, ABLATION_RUNS_CSV, CURVES_CSV, RUNS_CSV,
                              SWEEP_CSV, SWEEP_JSON)

REFERENCE_EXPERIMENT = "patience-20-reference"
SPLIT_PREFIX = "split-"
MACHINE_PREFIX = "isa-"  # the same study made on a machine whose math ran with another instruction set


def experiment(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict] | None:
    if not (folder / "runs.csv").exists():
        return None
    return (inputs.read_csv(folder / "runs.csv"), inputs.read_csv(folder / "learning_curves.csv"),
            inputs.read_json(folder / "experiment.json"))


def split_experiments() -> dict[int, tuple[pd.DataFrame, pd.DataFrame, dict]]:
    """{split seed: (runs, curves, experiment)} of the split-sensitivity experiments in metrics/experiments/."""
    return {int(name[len(SPLIT_PREFIX):]): tables for name, tables in experiments_named(SPLIT_PREFIX).items()}


def experiments_named(prefix: str) -> dict[str, tuple[pd.DataFrame, pd.DataFrame, dict]]:
    """{folder name: (runs, curves, experiment)} of the folders of metrics/experiments/ whose name starts so."""
    found = {}
    for folder in sorted(EXPERIMENTS_DIR.glob(f"{prefix}*")):
        tables = experiment(folder)
        if tables is not None:
            found[folder.name] = tables
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
    """The learning-edge (or speed-check) runs were made with this sweep's split, sizes, batch size, loss and
    precision."""
    return info.get("settings") == C.sweep_settings(params)


def single_seed(s: P.Analysis, conclusions: dict, lrs: list[float]) -> dict:
    """The earlier single-seed sweep judged by the rules one run per LR allows, beside this study's answer: which
    conclusions held, which moved (stages/lib/earlier_answer.py)."""
    sweep = inputs.read_csv(SINGLE_SEED_SWEEP_CSV)
    answer = earlier_answer.single_seed_answer(sweep, s.tolerance, s.chance_level)
    study = {"best_range": conclusions["best_range"], "tradeoff": conclusions["tradeoff"],
             "learning": conclusions["learning_edge"]["with_early_stopping"]}
    rows = earlier_answer.compare(study, answer, conclusions["best"]["stability"]["set"])
    return {"file": SINGLE_SEED_SWEEP_CSV.as_posix(), "lrs": int(sweep["lr"].nunique()),
            "same_grid": set(sweep["lr"]) == set(lrs),
            "rows": rows, "held": [r["conclusion"] for r in rows if r["held"]],
            "moved": [r["conclusion"] for r in rows if not r["held"]]}


def beside_the_conclusions(conclusions: dict, s: P.Analysis, runs: pd.DataFrame) -> dict:
    """What the report states beside the conclusions, computed here so that the report only formats: the sweep's
    wall time, the earlier single-seed sweep's answer against this one, and make verify's last record (whether it is
    still of these runs)."""
    return {
        "wall_time": C.wall_time(inputs.read_json(SWEEP_JSON)["cost"]),
        "single_seed": single_seed(s, conclusions, sorted(runs["lr"].unique())),
        "verification": (C.verification(inputs.read_json(VERIFY_JSON), runs, VERIFIED_RESULTS)
                         if VERIFY_JSON.exists() else None),
    }


def adaptive_replay(runs: pd.DataFrame) -> dict | None:
    """make replay's record (the sequential study replayed on this study's runs), and whether it was made from these
    runs; None where it has not run."""
    if not ADAPTIVE_REPLAY_JSON.exists():
        return None
    replay = inputs.read_json(ADAPTIVE_REPLAY_JSON)
    return {**replay, "of_these_runs": replay.get("runs_fingerprint") == adaptive.fingerprint(runs)}


def adaptive_study(runs: pd.DataFrame) -> dict | None:
    """make adaptive's record (the sequential study trained here), with how many of its runs are runs of this study,
    number for number; None where it has not run, {"done": False, ...} where it stopped before its last round."""
    if not ADAPTIVE_STUDY_JSON.exists():
        return None
    study = inputs.read_json(ADAPTIVE_STUDY_JSON)
    if not study.get("done"):
        return {"done": False, "rounds": len(study.get("rounds", []))}
    mine = inputs.read_csv(ADAPTIVE_RUNS_CSV)
    same = ["lr", "seed", *VERIFIED_RESULTS]  # what make verify compares of a run
    # each round's rows per LR stay in the record (metrics/adaptive/study.json); the summary keeps the rounds' totals
    rounds = [{key: value for key, value in r.items() if key != "lrs"} for r in study["rounds"]]
    return {**study, "rounds": rounds, "of_these_runs": len(mine[same].merge(runs[same], how="inner"))}


def roles(lr: float, row, conclusions: dict) -> list[str]:
    """What the conclusions say of one LR, for its per_lr/ file: the recommended range, the picks that name it (a pick
    the seeds can move names each of its candidates), the best range, or where its seeds did not all leave the
    plateau."""
    def named(pick: dict) -> bool:
        return lr in pick["stability"]["set"] if pick["stability"]["leave_one_seed_out"] else pick["lr"] == lr

    best, trade, target = conclusions["best"], conclusions["tradeoff"], conclusions["time_to_target"]
    advice = conclusions["recommended"]
    found = []
    if advice["low_lr"] is not None and advice["low_lr"] <= lr <= advice["high_lr"]:
        stated = advice["stated"]
        found.append("recommended" if stated["low_lr"] <= lr <= stated["high_lr"] else "recommended (end uncertain)")
    if conclusions["best_range"]["low_lr"] is not None:
        found += ["best" if best["stability"]["stable"] else "best candidate"] if named(best) else []
        if trade["saves_epochs"] and named(trade):
            found.append("trade-off" if trade["stability"]["stable"] else "trade-off candidate")
        if target["lr"] is not None and named(target):
            found.append("fastest to target" if target["stability"]["stable"] else "fastest to target candidate")
        found += ["as good as the best"] if not found and row.in_best_range else []
    found += (["never leaves the plateau"] if row.learned == 0 else
              ["some seeds never leave the plateau"] if row.learned < row.seeds else [])
    return found


def per_lr_metrics(table: pd.DataFrame, conclusions: dict) -> dict[str, dict]:
    """{file name: metrics} per LR: mean validation accuracy and its t-interval (ci_low, ci_high), mean test accuracy,
    seeds that learned, median epochs, cost and measured seconds, and its roles; no interval where seeds split between
    learning and not (a mean +- t over two clusters is an interval of nothing). The number in front of the LR keeps
    `dvc metrics show metrics/per_lr` rows in LR order; the LR is in the file name (a number here would show rounded
    to 5 decimals: 1e-06 as 0.0)."""
    width = max(2, len(str(len(table))))
    split = lambda row: 0 < row.learned < row.seeds  # noqa: E731
    return {f"{i:0{width}d}_{P.lr_name(row.lr)}.json": {
        "valid": row.valid_mean, "ci_low": None if split(row) else _or_none(row.valid_low),
        "ci_high": None if split(row) else _or_none(row.valid_high),
        "test": row.test_mean, "learned": f"{row.learned}/{row.seeds}", "epochs": row.epochs_median,
        "cost_s": round(row.cost_median_s, 1), "time_s": _or_none(round(row.measured_median_s, 1)),
        "role": ", ".join(roles(row.lr, row, conclusions)) or "-",
    } for i, row in enumerate(table.itertuples(), start=1)}


def _or_none(value):
    """JSON has no NaN: an interval from one seed is null."""
    return None if pd.isna(value) else value


def write_per_lr(metrics: dict[str, dict]) -> None:
    with atomic.atomic_dir(PER_LR_DIR) as tmp:
        for name, values in metrics.items():
            atomic.write_json(tmp / name, values)


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
    speed = None
    if SPEED_CHECK_RUNS_CSV.exists():
        speed_info = inputs.read_json(SPEED_CHECK_EXPERIMENT_JSON)
        if edge_made_like(speed_info, params) and speed_info["level"] == s.learned_accuracy:
            speed = (inputs.read_csv(SPEED_CHECK_RUNS_CSV), inputs.read_csv(SPEED_CHECK_CURVES_CSV))
            checks.append(cost("speed-check", speed[0], speed_info["wall_s"]) | {"at_a_time": speed_info["jobs"]})
        else:
            other_settings.append("speed-check")
    splits = {}
    for seed, tables in split_experiments().items():
        if made_like(tables[0], runs):
            splits[seed] = tables
        else:
            other_settings.append(f"{SPLIT_PREFIX}{seed}")
    checks += [cost(f"{SPLIT_PREFIX}{seed}", runs_, wall_time(info)) for seed, (runs_, _, info) in splits.items()]
    machines = {}  # the same runs made elsewhere: the same LRs, seeds and settings, other last bits
    for name, tables in experiments_named(MACHINE_PREFIX).items():
        same_runs = sorted(zip(tables[0]["lr"], tables[0]["seed"])) == sorted(zip(runs["lr"], runs["seed"]))
        if made_like(tables[0], runs) and same_runs:
            machines[name] = tables[:2]
        else:
            other_settings.append(name)
    conclusions = C.assemble(runs, curves, s.tolerance, s.chance_level, train.patience,
                             valid_images=split["valid"]["size"], test_images=split["test"]["size"],
                             learned_accuracy=s.learned_accuracy, speed=speed, edge=edge,
                             ablation=(longer, names) if longer else None,
                             splits={seed: tables[:2] for seed, tables in splits.items()},
                             split_seed=data.split_seed, machines=machines)
    conclusions["adaptive_replay"] = adaptive_replay(runs)
    conclusions["adaptive_study"] = adaptive_study(runs)
    conclusions["checks"] = checks
    conclusions["checks_wall_s"] = round(sum(check["wall_s"] for check in checks), 1)
    conclusions["checks_made_under_other_settings"] = other_settings  # not used: they speak of another sweep
    if conclusions["patience_ablation"]:
        conclusions["patience_ablation"]["settings"] = inputs.read_json(ABLATION_EXPERIMENT_JSON)["set"]
    sweep_table = inputs.read_csv(SWEEP_CSV)
    conclusions |= beside_the_conclusions(conclusions, s, runs)
    per_lr, per_run = pd.DataFrame(conclusions.pop("per_lr")), pd.DataFrame(conclusions.pop("per_run"))
    # the measured seconds beside each LR (reported, never used to choose)
    per_lr["measured_median_s"] = per_lr["lr"].map(dict(zip(sweep_table["lr"], sweep_table["train_time_median_s"])))
    atomic.write_text(CONCLUSIONS_PER_LR_CSV, per_lr.to_csv(index=False))
    atomic.write_text(CONCLUSIONS_PER_RUN_CSV, per_run.to_csv(index=False))
    write_per_lr(per_lr_metrics(per_lr, conclusions))
    atomic.write_json(SUMMARY_JSON, C.json_safe(conclusions))
    best, span = conclusions["best"], conclusions["best_range"]
    print(f"conclude: best LR {' or '.join(f'{lr:g}' for lr in best['stability']['set'] if lr is not None) or 'none'}"
          + (f"; best range {span['low_lr']:g} to {span['high_lr']:g}" if span["low_lr"] is not None else "; nothing learned"),
          file=sys.stderr)


if __name__ == "__main__":
    with clear_errors("conclude"):
        main()
