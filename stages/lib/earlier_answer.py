"""The study's answer against the earlier single-seed sweep's: which conclusions held, which moved.

The single-seed sweep (`metrics/single_seed_sweep.csv`) trained each of the 46 LRs once, before the study had
seeds: one seed fixed both the split and the training, 2 threads, one run at a time. Its runs are judged here by
the study's own rules (analysis.analyze), so a difference between the two answers comes from the data (one run
per LR against several), not from the rules. It kept no learning curves, so it has no time to target.
"""

import pandas as pd

from stages.lib import analysis

CURVE_COLUMNS = ["lr", "seed", "epoch", "valid_acc", "train_loss"]


def single_seed_answer(sweep: pd.DataFrame, tolerance: float, chance_level: float) -> dict:
    """The single-seed sweep's conclusions, by the study's rules (its one run per LR counts as seed 0)."""
    runs = analysis.runs_table(sweep.assign(seed=0).to_dict("records"), chance_level)
    _, _, summary = analysis.analyze(runs, pd.DataFrame(columns=CURVE_COLUMNS), tolerance, chance_level)
    return summary


def compare(study: dict, single: dict, best_set: list[float]) -> list[dict]:
    """One row per conclusion: what each sweep answered, and whether the study's answer kept the single seed's.
    best_set: the LRs the study's seeds choose the best from (conclusions' stability set). The single seed's best LR
    held only when it is one of them: lying somewhere in a best range many grid steps wide is nearly automatic.
    Each row: conclusion, single (the single seed's answer), study (the study's), held (bool), how (a sentence).
    """
    rows = []
    in_set = bool(study["best_range"]) and single["best"]["lr"] in best_set  # nothing learned: nothing to keep
    rows.append({
        "conclusion": "best LR", "single": _lr(single["best"]["lr"]), "study": " or ".join(map(_lr, best_set)),
        "held": in_set,
        "how": ("one of the LRs the study's seeds choose the best from" if in_set else
                "in the study's best range, but not among its candidates for the best LR"
                if _in_range(single["best"]["lr"], study) else "outside the study's best range"),
    })
    a, b = single["best_range"] or {}, study["best_range"] or {}
    moved = [f"{end} end {_lr(a.get(key))} → {_lr(b.get(key))}" for end, key in (("lower", "low_lr"), ("upper", "high_lr"))
             if a.get(key) != b.get(key)]
    rows.append({
        "conclusion": "best range", "single": _range(a), "study": _range(b), "held": not moved,
        "how": "the same LRs" if not moved else ", ".join(moved),
    })
    picked, pick = _tradeoff(single), _tradeoff(study)  # None where nothing learned
    same = picked == pick
    rows.append({
        "conclusion": "trade-off LR", "single": _lr(picked), "study": _lr(pick), "held": same,
        "how": "the same LR" if same else (
            "the study finds no LR as good as its best that stops measurably sooner: its trade-off is the best LR"
            if not (study.get("tradeoff") or {}).get("saves_epochs", True) else
            "the single seed's pick is in the study's best range, but not its fewest epochs"
            if picked is not None and _in_range(picked, study) else "the single seed's pick is outside the study's best range"),
    })
    for conclusion, none, every, band in (("no learning at and below", "none_up_to", "all_from", "partial"),
                                          ("no learning at and above", "none_from", "all_up_to", "partial_high")):
        one, many = single["learning"], study["learning"]
        same = one[none] == many[none] and one[every] == many[every]
        rows.append({
            "conclusion": conclusion, "single": _edge(one, none, every, band), "study": _edge(many, none, every, band),
            "held": same,
            "how": "the same edge" if same else (
                "with more seeds, a band of LRs where only some seeds learn" if many[band] else "the edge lies at another LR"),
        })
    return rows


def _tradeoff(summary: dict) -> float | None:
    return summary["tradeoff"]["lr"] if summary.get("tradeoff") else None


def _in_range(lr: float, summary: dict) -> bool:
    rng = summary["best_range"]
    return bool(rng) and rng["low_lr"] <= lr <= rng["high_lr"]


def _lr(lr) -> str:
    return "none" if lr is None else f"{lr:g}"


def _range(rng: dict) -> str:
    return f"{_lr(rng['low_lr'])} to {_lr(rng['high_lr'])} ({rng['lrs']} LRs)" if rng else "none"


def _edge(learning: dict, none: str, every: str, band: str) -> str:
    """From the smaller LR up, e.g. 'none at 6.31e-06, some seeds at 7.943e-06 (2/5), all at 1e-05'."""
    parts = [f"none at {_lr(learning[none])}"]
    if learning[band]:
        parts.append("some seeds at " + ", ".join(f"{_lr(b['lr'])} ({b['learned']})" for b in learning[band]))
    parts.append(f"all at {_lr(learning[every])}")
    return ", ".join(parts if none == "none_up_to" else parts[::-1])
