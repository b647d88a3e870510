"""The study's answer in one short row: the file `dvc metrics show`, `dvc metrics diff` and `dvc exp show` read.

metrics/summary.json holds every conclusion with its rule, interval and stability; this row carries what a user
compares between experiments, narrow enough for a 160-column terminal. DVC prints a file's keys in alphabetical order:
the recommended range is `answer` so that it leads, with `answer_epochs` and `answer_valid` beside it. A pick that the seeds can move (picked in
fewer than conclusions.STABLE_SHARE of seed resamples) is written as its set of candidates, "0.001995 or 0.002512".
DVC rounds numbers to 5 decimals (1e-06 shows as 0.0, 0.001995 as 0.00199), so every learning rate is written as
text, spelled as in the stage names (`train@0.001995-0`): exact in every view, and `dvc metrics diff` shows its old
and new value. Its keys share no name with a params.yaml section, so DVC never has to tell a metric from a
parameter of the same name.
"""
from pathlib import Path

from stages.lib.params import lr_name

# Here rather than in paths.py, which the aggregate depends on: naming this file there would mark it changed
# without changing what it computes (stages/lib/experiment_paths.py says why that matters).
ANSWER_JSON = Path("metrics/answer.json")

# What each key holds; docs/results.md lists the same.
FIELDS = {
    "answer": "the recommended range: as good as every LR the seeds may call best (paired TOST, analysis.tolerance) "
              "and measurably slower than none; the LRs inside it in most seed resamples on every machine the study was "
              "made on (or the range on all seeds); one LR where both ends meet",
    "answer_epochs": "median epochs to early stopping over the recommended range's runs (the patience included)",
    "answer_valid": "mean best validation accuracy over the recommended range's runs",
    "best_lr": "the LR with the highest mean validation accuracy over seeds (or the set the seeds choose from)",
    "best_range": "the LRs shown as good as the best LR (paired TOST, analysis.tolerance), contiguous",
    "tradeoff_lr": "as good as the best in measurably fewer epochs; \"same as best\" when none is",
    "plateau_none": "no seed leaves the initial plateau (above analysis.chance_level) at these LRs and beyond (<= below the best LR, >= above it); or at every LR",
}


SAME_AS_BEST = "same as best"  # no LR as good as the best saves epochs measurably (the trade-off rule's fallback)


def _pick(pick: dict | None) -> str | None:
    """One LR where the pick is stable, else its candidates: "0.001995 or 0.002512"."""
    if pick is None or pick["pick"] is None:
        return None
    return " or ".join(lr_name(lr) for lr in pick["set"] if lr is not None) or None


def _span(low, high) -> str | None:
    if low is None or high is None:
        return None
    return lr_name(low) if low == high else f"{lr_name(low)} to {lr_name(high)}"


def answer_row(conclusions: dict) -> dict:
    """The row, from the conclude stage's conclusions; null where the sweep has no such LR."""
    best, edges = conclusions["best"], conclusions["learning_edge"]["with_early_stopping"]
    best_range, tradeoff, advice = conclusions["best_range"], conclusions["tradeoff"], conclusions["recommended"]
    anything_learned = conclusions["best_range"]["low_lr"] is not None
    recommended = advice["low_lr"] is not None
    never = [f"<={lr_name(edges['none_up_to'])}" if edges["none_up_to"] is not None else None,
             f">={lr_name(edges['none_from'])}" if edges["none_from"] is not None else None]
    row = {
        "answer": _span(advice["stated"]["low_lr"], advice["stated"]["high_lr"]) if recommended else None,
        "answer_epochs": advice["epochs_median"] if recommended else None,
        "answer_valid": advice["valid_mean"] if recommended else None,
        "best_lr": _pick(best["stability"]),
        "best_range": _span(best_range["low_lr"], best_range["high_lr"]),
        "tradeoff_lr": (_pick(tradeoff["stability"]) if tradeoff["saves_epochs"] else SAME_AS_BEST)
                       if anything_learned else None,
        "plateau_none": (", ".join(filter(None, never)) or None) if anything_learned else "at every LR",
    }
    assert list(row) == list(FIELDS)
    return row
