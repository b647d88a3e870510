"""The study's answer in one short row: the file `dvc metrics show`, `dvc metrics diff` and `dvc exp show` read.

metrics/summary.json holds every conclusion with its interval and counts; this row carries what a user compares
between experiments, narrow enough for a 160-column terminal. DVC rounds numbers to 5 decimals (1e-06 shows as
0.0, 0.001995 as 0.00199), so every learning rate is written as text, spelled as in the stage names
(`train@0.001995-0`): exact in every view, and `dvc metrics diff` shows its old and new value. Its keys share no
name with a params.yaml section, so DVC never has to tell a metric from a parameter of the same name.
"""

from pathlib import Path

from stages.lib.params import lr_name

# Here rather than in paths.py, which the aggregate and the LR range test depend on: naming this file there
# would mark those stages changed without changing what they compute.
ANSWER_JSON = Path("metrics/answer.json")

# What each key holds; README's "Results and how to look at them" lists the same.
FIELDS = {
    "best_lr": "the LR with the highest mean validation accuracy over seeds",
    "valid": "its mean best validation accuracy",
    "test": "its mean test accuracy",
    "epochs": "its median epochs to early stopping",
    "best_range": "the best range: contiguous LRs whose mean is within analysis.tolerance of the best",
    "tradeoff_lr": "the trade-off LR",
    "target_lr": "the LR fastest to the target accuracy (best mean - tolerance)",
    "all_seeds_learn": "every seed learns at every LR of this span around the best LR",
    "no_seed_learns": "no seed learns at these LRs and beyond (<= below the best LR, >= above it); or at every LR",
}


def _lr(value) -> str | None:
    return None if value is None else lr_name(value)


def _span(low, high) -> str | None:
    return None if low is None or high is None else f"{lr_name(low)} to {lr_name(high)}"


def answer_row(summary: dict) -> dict:
    """The row, from the aggregate's summary (analysis.analyze); null where the sweep has no such LR."""
    best, learning = summary["best"], summary["learning"]
    best_range, tradeoff, target = summary["best_range"], summary["tradeoff"], summary["time_to_target"]
    never = [f"<={lr_name(learning['none_up_to'])}" if learning["none_up_to"] is not None else None,
             f">={lr_name(learning['none_from'])}" if learning["none_from"] is not None else None]
    row = {
        "best_lr": _lr(best["lr"]),
        "valid": best["valid_mean"],
        "test": best["test_mean"],
        "epochs": best["epochs_median"],
        "best_range": _span(best_range["low_lr"], best_range["high_lr"]) if best_range else None,
        "tradeoff_lr": _lr(tradeoff["lr"]) if tradeoff else None,
        "target_lr": _lr(target["lr"]) if target else None,
        "all_seeds_learn": _span(learning["all_from"], learning["all_up_to"]),
        "no_seed_learns": (", ".join(filter(None, never)) or None) if summary["anything_learned"] else "at every LR",
    }
    assert list(row) == list(FIELDS)
    return row
