"""The study's conclusions, from a sweep of learning rates x training seeds.

Input: one row per run (LR, seed) and each run's learning curve. Every choice is made on validation
accuracy and epoch counts alone; test accuracy and measured seconds are reported beside them, never
used to choose. So the same accuracies and epochs give the same conclusions on any machine, however
busy it was. RULES below states each rule; REPORT.md prints it and README.md repeats it. The statistics it uses
are in stages/lib/inference.py, the facts and rounding of its JSON in stages/lib/sweep_facts.py.
"""

import math

import numpy as np
import pandas as pd
from scipy import stats

from stages.lib.inference import CONFIDENCE, bootstrap_ci, paired_difference
from stages.lib.sweep_facts import DIGITS, cost_facts, distinct, json_number, rounded, sweep_facts

RULES = [
    "A run *learned* when its best validation accuracy is above `analysis.chance_level`.",
    "*Best LR*: the highest mean best-validation accuracy over seeds (ties: fewer median epochs, then the smaller "
    "LR). Each mean comes with a 95% percentile-bootstrap interval over its seeds (10,000 resamples); with 5 seeds "
    "or fewer such intervals are on the narrow side: read them as the spread of the seeds, not as a guarantee.",
    "*Best range*: the contiguous LRs around the best LR whose mean is within `analysis.tolerance` of the best "
    "mean. *Indistinguishable from the best*: the 95% t-interval of the paired difference (best LR minus this LR, "
    "seed by seed) contains 0.",
    "*Cost* of a run: its epochs times one per-epoch time pooled over the whole sweep (total training time / "
    "total epochs). Every LR does the same work per epoch, so cost ranks runs by epochs, independent of the "
    "machine and its load; measured seconds are reported beside it, never used to choose.",
    "*Trade-off LR*: within the best range, the lowest median cost to early stopping over seeds (ties: the "
    "higher mean accuracy, then the smaller LR).",
    "*Time to target* (as DAWNBench and MLPerf count it): epochs until a run's validation accuracy first reaches "
    "the best mean minus the tolerance; a seed that never does is not converged and counts as infinitely slow; "
    "per LR the median over seeds; the fastest LR to the target has the lowest median.",
    "*Still improving when stopped* (the article's section 5-3): over a run's last 10 epochs, the least-squares "
    "slope of its validation accuracy is above 0 with a one-sided p-value below 0.05; reported beside the slope, "
    "the best-so-far accuracy's gain over those epochs and the training loss's relative change. Descriptive only: "
    "no conclusion uses it.",
    "*Learning edges*: going down from the best LR, the smallest LR down to which every seed learns at every LR; "
    "the largest LR at and below which no seed learns at any LR; in between, the band where only some seeds "
    "learn. The same going up.",
]

EPS = 1e-9  # float noise: 0.98 - 0.975 must count as within 0.005

RUN_COLUMNS = ["lr", "seed", "log10_lr", "best_valid_acc", "test_acc", "learned", "epochs", "best_epoch",
               "epochs_to_target", "stopped_by", "train_time_s", "sec_per_epoch",
               "slope_last10", "slope_p", "best_gain_last10", "loss_change_last10", "still_improving"]
LR_COLUMNS = ["lr", "log10_lr", "seeds", "valid_mean", "valid_ci_low", "valid_ci_high", "valid_std", "valid_min",
              "valid_max", "test_mean", "test_ci_low", "test_ci_high", "test_std", "test_min", "test_max",
              "learned_fraction", "epochs_median", "cost_median_s", "train_time_median_s", "epochs_to_target_median",
              "seeds_reached_target", "diff_to_best", "diff_ci_low", "diff_ci_high", "indistinguishable_from_best",
              "in_best_range", "pareto", "still_improving_fraction", "slope_last10_median",
              "best_gain_last10_median", "loss_change_last10_median"]
IMPROVING_WINDOW = 10  # epochs: whether a run was still improving is read off its last 10 epochs
IMPROVING_ALPHA = 0.05  # one-sided, for the slope of validation accuracy being above 0
IMPROVING_COLUMNS = ["slope_last10", "slope_p", "best_gain_last10", "loss_change_last10", "still_improving"]
NO_SLOPE = {"slope_last10": math.nan, "slope_p": math.nan, "best_gain_last10": math.nan,
            "loss_change_last10": math.nan, "still_improving": False}  # a run with fewer than 3 validated epochs


def log10_lr(lr: float) -> float:
    """The LR's exponent, rounded so that the grid's 10^-5.9 reads as -5.9 in tables and plots."""
    return round(math.log10(lr), 4)


def runs_table(runs: list[dict], chance_level: float) -> pd.DataFrame:
    """One row per run, sorted by LR then seed, with `learned`."""
    table = pd.DataFrame(runs)
    table["log10_lr"] = [log10_lr(lr) for lr in table["lr"]]
    table["learned"] = table["best_valid_acc"] > chance_level
    table["epochs_to_target"] = np.nan  # filled by analyze(), once the target is known
    for column in IMPROVING_COLUMNS:  # filled by analyze(), from the learning curves
        table[column] = np.nan
    table = table.sort_values(["lr", "seed"], ignore_index=True)
    extra = [c for c in table.columns if c not in RUN_COLUMNS]
    return table[RUN_COLUMNS + extra]


def _indistinguishable(mean: float, low: float, high: float) -> bool:
    """The paired difference's interval contains 0. With one seed there is no interval: only the best LR
    itself (a difference of exactly 0) counts."""
    if math.isnan(low):
        return abs(mean) < EPS
    return low <= EPS and high >= -EPS


def epochs_to_target(curves: pd.DataFrame, target: float) -> pd.Series:
    """Per (lr, seed): the first epoch whose validation accuracy reaches target; NaN if none does."""
    reached = curves[curves["valid_acc"] >= target - EPS]
    return reached.groupby(["lr", "seed"])["epoch"].min()


def improvement_at_stop(history: pd.DataFrame, window: int = IMPROVING_WINDOW,
                        alpha: float = IMPROVING_ALPHA) -> dict:
    """Was a run still improving when it stopped? history: one run's epochs (epoch, train_loss, valid_acc).

    Over its last `window` validated epochs (all of them if it has fewer): slope_last10, the least-squares slope
    of validation accuracy per epoch, and slope_p, the one-sided p-value of that slope being above 0;
    best_gain_last10, the best-so-far validation accuracy at the end minus the best-so-far just before those
    epochs (before the first epoch: the first epoch's); loss_change_last10, the training loss's relative change
    over them (negative: still falling); still_improving, slope above 0 with p below alpha.
    """
    done = history[np.isfinite(history["valid_acc"])].sort_values("epoch")  # a diverged epoch has no accuracy
    if len(done) < 3:  # no slope to speak of
        return dict(NO_SLOPE)
    last = done.iloc[-window:]
    fit = stats.linregress(last["epoch"], last["valid_acc"], alternative="greater")
    best_so_far = done["valid_acc"].cummax().to_numpy()
    before = best_so_far[-window - 1] if len(done) > window else best_so_far[0]
    losses = done["train_loss"].to_numpy()
    loss_before = losses[-window - 1] if len(done) > window else losses[0]
    slope, p = float(fit.slope), float(fit.pvalue)
    return {"slope_last10": slope, "slope_p": p, "best_gain_last10": float(best_so_far[-1] - before),
            "loss_change_last10": float(losses[-1] / loss_before - 1) if loss_before > 0 else math.nan,
            "still_improving": bool(slope > 0 and p < alpha)}


def _median_with_unconverged(values) -> float:
    """Median where NaN (never reached the target) counts as infinitely slow; NaN when the median is."""
    median = float(np.median(np.where(np.isnan(values), np.inf, values)))
    return median if math.isfinite(median) else math.nan


def _std(values) -> float:
    return float(np.std(values, ddof=1)) if len(values) > 1 else math.nan


def lr_table(runs: pd.DataFrame, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """One row per LR: the spread of its seeds' accuracies and epochs (selection columns come in analyze)."""
    rows = []
    for lr, group in runs.groupby("lr", sort=True):
        valid, test = group["best_valid_acc"].to_numpy(), group["test_acc"].to_numpy()
        valid_ci, test_ci = bootstrap_ci(valid, confidence), bootstrap_ci(test, confidence)
        rows.append({
            "lr": float(lr), "log10_lr": log10_lr(lr), "seeds": len(group),
            "valid_mean": valid.mean(), "valid_ci_low": valid_ci[0], "valid_ci_high": valid_ci[1],
            "valid_std": _std(valid), "valid_min": valid.min(), "valid_max": valid.max(),
            "test_mean": test.mean(), "test_ci_low": test_ci[0], "test_ci_high": test_ci[1],
            "test_std": _std(test), "test_min": test.min(), "test_max": test.max(),
            "learned_fraction": float(group["learned"].mean()),
            "epochs_median": float(group["epochs"].median()),
            "train_time_median_s": float(group["train_time_s"].median()),
            "epochs_to_target_median": _median_with_unconverged(group["epochs_to_target"].to_numpy(dtype=float)),
            "seeds_reached_target": int(group["epochs_to_target"].notna().sum()),
            "still_improving_fraction": float(group["still_improving"].astype(bool).mean()),
            "slope_last10_median": float(group["slope_last10"].median()),
            "best_gain_last10_median": float(group["best_gain_last10"].median()),
            "loss_change_last10_median": float(group["loss_change_last10"].median()),
        })
    return pd.DataFrame(rows)


def first_by(table: pd.DataFrame, keys: list[str]) -> int:
    """The index of the table's first row in the order of keys, each ascending but "-valid_mean": the mean
    validation accuracy, highest first (to 9 decimals: float noise is no difference). Every pick of these rules
    ends its keys with the LR, the smaller first, so no tie is left to the sort."""
    ordered = table.assign(neg_mean=-table["valid_mean"].round(9))
    return int(ordered.sort_values(["neg_mean" if key == "-valid_mean" else key for key in keys]).index[0])


def best_position(lrs: pd.DataFrame) -> int:
    """The highest mean validation accuracy; ties go to fewer median epochs, then the smaller LR."""
    return first_by(lrs, ["-valid_mean", "epochs_median", "lr"])


def contiguous_range(flags: list[bool], start: int) -> tuple[int, int]:
    """First and last position of the run of True flags that contains start."""
    low = high = start
    while low > 0 and flags[low - 1]:
        low -= 1
    while high < len(flags) - 1 and flags[high + 1]:
        high += 1
    return low, high


def pareto_mask(accuracy: list[float], cost: list[float]) -> list[bool]:
    """Points no other point beats on both counts: at least as accurate and as cheap, one strictly."""
    acc = [round(a, 9) for a in accuracy]
    return [
        not any(acc[j] >= acc[i] and cost[j] <= cost[i] and (acc[j] > acc[i] or cost[j] < cost[i])
                for j in range(len(acc)))
        for i in range(len(acc))
    ]


def learning_edges(fractions: list[float], best: int) -> dict:
    """Where learning stops, on each side of the best LR (positions into the LR-sorted table).

    all_from/all_to: the farthest position from best such that every LR from best to it learned at every seed.
    none_to/none_from: the edge of the outermost block of LRs at which no seed learned; None if there is none.
    The positions strictly between form the band where only some seeds learn (or the pattern is mixed).
    """
    n = len(fractions)
    below = [i for i in range(best, -1, -1)]
    above = [i for i in range(best, n)]

    def side(outward: list[int]) -> tuple:
        all_learn = None
        for i in outward:
            if fractions[i] < 1:
                break
            all_learn = i
        none_learn = None
        for i in reversed(outward):  # from the far end inwards, while no seed learns
            if fractions[i] > 0:
                break
            none_learn = i
        inner = outward.index(all_learn) + 1 if all_learn is not None else 0
        outer = outward.index(none_learn) if none_learn is not None else len(outward)
        return all_learn, none_learn, sorted(outward[inner:outer])

    all_from, none_to, band_low = side(below)
    all_to, none_from, band_high = side(above)
    return {"all_from": all_from, "none_to": none_to, "band_low": band_low,
            "all_to": all_to, "none_from": none_from, "band_high": band_high}


def analyze(runs: pd.DataFrame, curves: pd.DataFrame, tolerance: float, chance_level: float,
            confidence: float = CONFIDENCE) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """(runs with epochs_to_target, the per-LR table, the summary of conclusions)."""
    # time to target first: the per-LR table summarises it, and its target is the best mean - tolerance
    runs = runs.copy()
    target = float(runs.groupby("lr")["best_valid_acc"].mean().max()) - tolerance
    reached = epochs_to_target(curves, target)
    runs["epochs_to_target"] = [reached.get((lr, seed), math.nan) for lr, seed in zip(runs["lr"], runs["seed"])]
    at_stop = {key: improvement_at_stop(history) for key, history in curves.groupby(["lr", "seed"])}
    for column in IMPROVING_COLUMNS:
        runs[column] = [at_stop.get((lr, seed), NO_SLOPE)[column] for lr, seed in zip(runs["lr"], runs["seed"])]
    lrs = lr_table(runs, confidence)
    best = best_position(lrs)
    best_mean = float(lrs.loc[best, "valid_mean"])
    anything_learned = bool(lrs["learned_fraction"].max() > 0)

    pooled_sec_per_epoch = float(runs["train_time_s"].sum() / max(runs["epochs"].sum(), 1))
    lrs["cost_median_s"] = lrs["epochs_median"] * pooled_sec_per_epoch

    by_seed = runs.pivot(index="seed", columns="lr", values="best_valid_acc")
    best_lr = float(lrs.loc[best, "lr"])
    diffs = []
    for lr in lrs["lr"]:
        pair = by_seed[[best_lr, lr]].dropna()
        diffs.append(paired_difference(pair[best_lr], pair[lr], confidence))
    lrs["diff_to_best"], lrs["diff_ci_low"], lrs["diff_ci_high"] = zip(*diffs)
    lrs["indistinguishable_from_best"] = [_indistinguishable(*diff) for diff in diffs]
    within = ((best_mean - lrs["valid_mean"]).round(9) <= tolerance).tolist()
    low, high = contiguous_range(within, best)
    lrs["in_best_range"] = [anything_learned and low <= i <= high for i in range(len(lrs))]
    lrs["pareto"] = pareto_mask(lrs["valid_mean"].tolist(), lrs["epochs_median"].tolist())
    lrs = lrs[LR_COLUMNS]

    summary = {
        **conclusions(lrs, best, tolerance, chance_level, target, anything_learned),
        "sweep": sweep_facts(runs, lrs, tolerance, confidence),
        "cost": cost_facts(runs, pooled_sec_per_epoch),
        "machine": {column: distinct(runs, column) for column in ("device", "threads", "cpu", "torch")},
    }
    return runs, rounded(lrs), summary


def conclusions(lrs: pd.DataFrame, best: int, tolerance: float, chance_level: float, target: float,
                anything_learned: bool) -> dict:
    """The three answers, each with its interval; only accuracies and epochs decide them."""
    def lr_at(i: int | None) -> float | None:
        return None if i is None else float(lrs.loc[i, "lr"])

    def described(i: int) -> dict:
        r = lrs.loc[i]
        return {"lr": float(r["lr"]), "valid_mean": json_number(r["valid_mean"]), "valid_ci_low": json_number(r["valid_ci_low"]),
                "valid_ci_high": json_number(r["valid_ci_high"]), "test_mean": json_number(r["test_mean"]),
                "learned": learned_seeds(r), "epochs_median": float(r["epochs_median"]),
                "cost_s": json_number(r["cost_median_s"], 1), "train_time_median_s": json_number(r["train_time_median_s"], 1)}

    edges = learning_edges(lrs["learned_fraction"].tolist(), best)
    learning = {  # None: no such LR in the sweep
        "chance_level": chance_level,
        "none_up_to": lr_at(edges["none_to"]),  # no seed learns at this LR or any smaller one
        "all_from": lr_at(edges["all_from"]),  # every seed learns at every LR from this one up to the best
        "partial": [{"lr": lr_at(i), "learned": learned_seeds(lrs.loc[i])} for i in edges["band_low"]],  # in between
        "all_up_to": lr_at(edges["all_to"]),  # the same above the best LR
        "none_from": lr_at(edges["none_from"]),
        "partial_high": [{"lr": lr_at(i), "learned": learned_seeds(lrs.loc[i])} for i in edges["band_high"]],
    }
    if not anything_learned:  # no accuracy worth ranking: no best range, no trade-off
        return {"best": described(best), "best_range": None, "tradeoff": None, "time_to_target": None,
                "learning": learning, "anything_learned": False}

    in_range = lrs[lrs["in_best_range"]]
    tradeoff = first_by(in_range, ["epochs_median", "-valid_mean", "lr"])
    converged = lrs[lrs["epochs_to_target_median"].notna()]
    fastest = first_by(converged, ["epochs_to_target_median", "-valid_mean", "lr"]) if len(converged) else None
    return {  # the conclusions first: `dvc exp show` lists the columns in this order
        "best": described(best),
        "best_range": {
            "low_lr": float(in_range["lr"].min()), "high_lr": float(in_range["lr"].max()), "lrs": len(in_range),
            "tolerance": tolerance,
            "indistinguishable_lrs": [float(lr) for lr in lrs.loc[lrs["indistinguishable_from_best"], "lr"]],
        },
        "tradeoff": described(tradeoff),
        "time_to_target": {
            "target_valid_acc": round(target, DIGITS),
            "lr": lr_at(fastest),
            "epochs_median": None if fastest is None else float(lrs.loc[fastest, "epochs_to_target_median"]),
            "seeds_reached": None if fastest is None else f"{int(lrs.loc[fastest, 'seeds_reached_target'])}/"
                                                          f"{int(lrs.loc[fastest, 'seeds'])}",
            "agrees_with_tradeoff": fastest == tradeoff,
        },
        "learning": learning,
        "anything_learned": True,
    }


def learned_seeds(row) -> str:
    """How many of an LR's seeds learned, as "2/3" (row: a per-LR table row, a Series or a named tuple)."""
    return f"{round(row.learned_fraction * row.seeds)}/{int(row.seeds)}"


def picks(lr: float, summary: dict) -> list[str]:
    """Which of the conclusions name this LR: best, trade-off, fastest to target."""
    named = [("best", summary.get("best")), ("trade-off", summary.get("tradeoff")),
             ("fastest to target", summary.get("time_to_target"))]
    return [label for label, pick in named if pick and pick.get("lr") == lr]
