"""The study's answer against the earlier single-seed sweep's: which conclusions held, which moved.

The single-seed sweep (`metrics/single_seed_sweep.csv`) trained each of the 46 LRs once, before the study had
seeds: one seed fixed both the split and the training, 2 threads, one run at a time. One run per LR gives no interval
and no equivalence test, so it is judged by the rules one run allows (single_seed_answer: the earlier point-estimate
rules, kept for this comparison alone). A difference between the two answers then comes from the data and from what
seeds make testable. It kept no learning curves, so it has no time to target. stages/report.py words the comparison.
"""

import numpy as np
import pandas as pd

from stages.lib import conclusions as C

ROUND = 9  # float noise is no difference between two accuracies


def single_seed_answer(sweep: pd.DataFrame, tolerance: float, chance_level: float) -> dict:
    """The single-seed sweep's picks: the best LR, the highest accuracy (ties: fewer epochs, then the smaller LR);
    the best range, the contiguous LRs around it within the tolerance of its accuracy; the trade-off, the fewest
    epochs in that range (ties: the higher accuracy, then the smaller LR); the learning edges (conclusions' rule)."""
    table = sweep.sort_values("lr", ignore_index=True)
    lrs, acc, epochs = table["lr"].to_numpy(float), table["best_valid_acc"].round(ROUND).to_numpy(), table["epochs"]
    best = int(np.lexsort((lrs, epochs, -acc))[0])
    learned = C.learned(table["best_valid_acc"], chance_level).to_numpy()
    edges = C.learning_edges(learned.astype(float).tolist(), best)
    lr = lambda i: None if i is None else float(lrs[i])  # noqa: E731
    answer = {"best": {"lr": lr(best), "valid_mean": float(acc[best]), "epochs_median": float(epochs[best])},
              "best_range": None, "tradeoff": None,
              "learning": {"none_up_to": lr(edges["none_to"]), "all_from": lr(edges["all_from"]),
                           "partial_low": [{"lr": lr(i), "learned": "0/1"} for i in edges["band_low"]],
                           "all_up_to": lr(edges["all_to"]), "none_from": lr(edges["none_from"]),
                           "partial_high": [{"lr": lr(i), "learned": "0/1"} for i in edges["band_high"]]}}
    if not learned.any():
        return answer
    low, high = C.contiguous_range(list(np.round(acc[best] - acc, ROUND) <= tolerance), best)
    inside = np.arange(low, high + 1)
    trade = int(inside[np.lexsort((lrs[inside], -acc[inside], epochs[inside]))[0]])
    answer["best_range"] = {"low_lr": lr(low), "high_lr": lr(high), "lrs": int(high - low + 1)}
    answer["tradeoff"] = {"lr": lr(trade), "epochs_median": float(epochs[trade])}
    return answer


def compare(study: dict, single: dict, best_set: list[float]) -> list[dict]:
    """One row per conclusion: what each sweep answered, whether the study's answer kept the single seed's, and why
    (a reason the report words). study: the conclusions' best_range, tradeoff and learning edges with early stopping.
    best_set: the LRs the study's seeds choose the best from (the best LR's stability set). The single seed's best LR
    held only when it is one of them: lying somewhere in a best range many grid steps wide is nearly automatic."""
    learned = study["best_range"] is not None and study["best_range"]["low_lr"] is not None
    study_range = study["best_range"] if learned else None
    rows = []
    single_best = single["best"]["lr"]
    in_set = learned and single_best in best_set
    rows.append({"conclusion": "best", "single": single_best, "study": best_set, "held": in_set,
                 "why": "in_best_set" if in_set else "in_range" if _in_range(single_best, study_range) else "outside_range"})
    a, b = single["best_range"] or {}, study_range or {}
    moved = [{"end": end, "single": a.get(key), "study": b.get(key)} for end, key in (("low", "low_lr"), ("high", "high_lr"))
             if a.get(key) != b.get(key)]
    rows.append({"conclusion": "best_range", "single": single["best_range"], "study": study_range, "held": not moved,
                 "why": "same" if not moved else "moved", "moved": moved})
    picked = (single.get("tradeoff") or {}).get("lr")
    pick = study["tradeoff"]["lr"] if learned else None
    same = picked == pick
    rows.append({"conclusion": "tradeoff", "single": picked, "study": pick, "held": same,
                 "why": "same" if same else
                 "study_saves_nothing" if learned and not study["tradeoff"]["saves_epochs"] else
                 "in_range" if picked is not None and _in_range(picked, study_range) else "outside_range"})
    for conclusion, none, every, band in (("edge_low", "none_up_to", "all_from", "partial_low"),
                                          ("edge_high", "none_from", "all_up_to", "partial_high")):
        one, many = single["learning"], study["learning"]
        same = one[none] == many[none] and one[every] == many[every]
        rows.append({"conclusion": conclusion, "held": same,
                     "single": {"none": one[none], "some": one[band], "all": one[every]},
                     "study": {"none": many[none], "some": many[band], "all": many[every]},
                     "why": "same" if same else "band" if many[band] else "other_lr"})
    return rows


def _in_range(lr: float | None, rng: dict | None) -> bool:
    return bool(rng) and lr is not None and rng["low_lr"] <= lr <= rng["high_lr"]
