"""The sweep's facts as a whole for metrics/sweep.json (its runs, stops, cost, machine), and how numbers are
rounded for the tables and JSON files. Measured time is reported here, never used to choose."""

import pandas as pd

DIGITS = 6  # statistics are rounded to this many decimals in the tables (LRs are written exactly)
# What each run records of the instruction sets its math ran with (stages/lib/machine.py, math_dispatch; a test keeps
# the two alike): runs made with others differ in the last bits from the first epochs.
ARITHMETIC = ("cpu_capability", "onednn_isa", "mkl_isa", "isa_pins")


def sweep_facts(runs: pd.DataFrame) -> dict:
    return {
        "lrs": int(runs["lr"].nunique()), "seeds": int(runs["seed"].nunique()), "runs": len(runs),
        "stopped_by": {reason: int(n) for reason, n in runs["stopped_by"].value_counts().sort_index().items()},
    }


def cost_facts(runs: pd.DataFrame, pooled_sec_per_epoch: float) -> dict:
    """Measured time: reported, never used to choose."""
    facts = {
        "pooled_sec_per_epoch": round(pooled_sec_per_epoch, 4),
        "total_epochs": int(runs["epochs"].sum()),
        "total_train_time_s": round(float(runs["train_time_s"].sum()), 1),
    }
    if {"started_at", "finished_at", "stage_wall_s", "startup_s"} <= set(runs.columns):
        started, finished = pd.to_datetime(runs["started_at"]), pd.to_datetime(runs["finished_at"])
        facts |= {
            "sweep_wall_s": round((finished.max() - started.min()).total_seconds(), 1),
            "busy_wall_s": round(busy_seconds(started, finished), 1),
            "total_stage_wall_s": round(float(runs["stage_wall_s"].sum()), 1),
            "mean_startup_s": round(float(runs["startup_s"].mean()), 3),
        }
    return facts


def busy_seconds(started: pd.Series, finished: pd.Series) -> float:
    """Seconds during which at least one run was training: the union of the runs' intervals.

    Unlike first start to last end, it leaves out pauses in which nothing trained (a study run in shares over
    several sessions), and counts runs that overlapped (several workers) once.
    """
    total, covered_to = 0.0, None
    for start, end in sorted(zip(started, finished)):
        if covered_to is None or start > covered_to:
            total += (end - start).total_seconds()
            covered_to = end
        elif end > covered_to:
            total += (end - covered_to).total_seconds()
            covered_to = end
    return total


def rounded(table: pd.DataFrame) -> pd.DataFrame:
    """Statistics to DIGITS decimals; LRs, exponents and counts untouched."""
    table = table.copy()
    for column in table.columns:
        if column not in ("lr", "log10_lr") and table[column].dtype == float:
            table[column] = table[column].round(DIGITS)
    return table


def json_number(value, digits: int | None = DIGITS):
    """A number for a JSON file: None for a missing value (NaN), rounded to digits (None keeps an LR exact)."""
    if value is None or pd.isna(value):
        return None
    return float(value) if digits is None else round(float(value), digits)


def distinct(table: pd.DataFrame, column: str) -> str:
    """The value every run shares, or all of them joined when runs differ."""
    if column not in table:
        return "unknown"
    return ", ".join(str(v) for v in dict.fromkeys(table[column].tolist()))
