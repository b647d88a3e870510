"""The study's conclusions, each with its rule, its interval and its stability over seeds: every choice the study
makes is made here, and only here.

Input: the aggregate's tables (metrics/runs.csv and the learning curves). One function, `decide`, applies every rule
to a set of runs; the same function runs on all seeds, on every seed resample (a paired bootstrap: the same draw of
seeds for every LR) and with each seed left out, and how often each candidate comes out is the pick's stability. A
conclusion names one LR only when it comes out in at least STABLE_SHARE of the resamples; otherwise it is a set of
candidates with their shares. Each rule is a function or a key here; stages/report.py words it, under the same name.
"""

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from stages.lib import inference as I, params as P
from stages.lib.tables import log10_lr, pooled_sec_per_epoch

STABLE_SHARE = 0.8  # a pick is one LR when the rule picks it in at least this share of seed resamples
SHOWN_SHARE = 0.05  # candidates picked less often than this are left out of the sets
DIGITS = 6

EPS = 1e-9  # float noise: 0.98 - 0.975 must count as within 0.005
IMPROVING_WINDOW = 10  # epochs: whether a run was still improving is read off its last epochs
IMPROVING_ALPHA = 0.05  # one-sided, for the slope of validation accuracy being above 0
NO_SLOPE = {"slope_last10": math.nan, "slope_p": math.nan, "best_gain_last10": math.nan,
            "loss_change_last10": math.nan, "still_improving": False}  # a run with fewer than 3 validated epochs


# --- the rules' building blocks (stages/report.py words each rule, under the same name) ---------------------------

def learned(best_valid_acc, chance_level: float):
    """Rule "learned": a run learned when its best validation accuracy is above the chance level."""
    return best_valid_acc > chance_level


def reached(valid_acc, level: float):
    """A validation accuracy reaches a level when it is at least the level (float noise aside)."""
    return valid_acc >= level - EPS


def epochs_to_target(curves: pd.DataFrame, target: float) -> pd.Series:
    """Per (lr, seed): the first epoch whose validation accuracy reaches target; absent if none does."""
    at_target = curves[reached(curves["valid_acc"], target)]
    return at_target.groupby(["lr", "seed"])["epoch"].min()


def contiguous_range(flags: list[bool], start: int) -> tuple[int, int]:
    """First and last position of the run of True flags that contains start."""
    low = high = start
    while low > 0 and flags[low - 1]:
        low -= 1
    while high < len(flags) - 1 and flags[high + 1]:
        high += 1
    return low, high


def learning_edges(fractions: list[float], best: int) -> dict:
    """Rule "edges": where learning stops, on each side of the best LR (positions into the LR-sorted table).

    all_from/all_to: the farthest position from best such that every LR from best to it learned at every seed.
    none_to/none_from: the edge of the outermost block of LRs at which no seed learned; None if there is none.
    The positions strictly between form the band where only some seeds learn (or the pattern is mixed).
    """
    n = len(fractions)
    below, above = list(range(best, -1, -1)), list(range(best, n))

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


def pareto_mask(accuracy: list[float], cost: list[float]) -> list[bool]:
    """Rule "pareto": points no other point beats on both counts: at least as accurate and as cheap, one strictly."""
    acc = [round(a, 9) for a in accuracy]
    return [
        not any(acc[j] >= acc[i] and cost[j] <= cost[i] and (acc[j] > acc[i] or cost[j] < cost[i])
                for j in range(len(acc)))
        for i in range(len(acc))
    ]


def improvement_at_stop(history: pd.DataFrame, window: int = IMPROVING_WINDOW,
                        alpha: float = IMPROVING_ALPHA) -> dict:
    """Rule "still_improving": was a run still improving when it stopped? history: one run's epochs (epoch,
    train_loss, valid_acc).

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


@dataclass(frozen=True)
class Runs:
    """A sweep as seed x LR matrices (LRs ascending). to_target: NaN where a run never reached the target.
    ran: whether the run exists; in a ragged design (fewer seeds at some LRs, as an adaptive study makes) the runs
    that do not are NaN in valid, test and epochs, and False in learned."""
    lrs: np.ndarray
    seeds: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    epochs: np.ndarray
    to_target: np.ndarray
    learned: np.ndarray
    ran: np.ndarray

    @property
    def complete(self) -> bool:
        return bool(self.ran.all())

    def take(self, rows) -> "Runs":
        return Runs(self.lrs, self.seeds[rows], self.valid[rows], self.test[rows], self.epochs[rows],
                    self.to_target[rows], self.learned[rows], self.ran[rows])


def target_accuracy(runs: pd.DataFrame, tolerance: float) -> float:
    return float(runs.groupby("lr")["best_valid_acc"].mean().max()) - tolerance


def as_matrices(runs: pd.DataFrame, curves: pd.DataFrame, chance_level: float, target: float,
                ragged: bool = False) -> Runs:
    """The runs as matrices; every LR must have run with every seed (a paired design), unless ragged: then the
    paired rules compare two LRs on the seeds both ran."""
    reached = epochs_to_target(curves, target)
    runs = runs.assign(to_target=[reached.get((lr, seed), math.nan) for lr, seed in zip(runs["lr"], runs["seed"])],
                       learned_now=learned(runs["best_valid_acc"], chance_level))

    def matrix(column: str) -> pd.DataFrame:
        table = runs.pivot(index="seed", columns="lr", values=column).sort_index().sort_index(axis=1)
        if table.isna().any().any() and column != "to_target" and not ragged:
            missing = [f"lr {lr:g}" for lr in table.columns[table.isna().any()]]
            raise ValueError(f"not every LR ran with every seed ({', '.join(missing[:5])}): the paired rules need both")
        return table

    valid = matrix("best_valid_acc")
    ran = valid.notna().to_numpy()
    return Runs(lrs=valid.columns.to_numpy(dtype=float), seeds=valid.index.to_numpy(), valid=valid.to_numpy(float),
                test=matrix("test_acc").to_numpy(float), epochs=matrix("epochs").to_numpy(float),
                to_target=matrix("to_target").to_numpy(float),
                learned=matrix("learned_now").fillna(False).to_numpy(bool) & ran, ran=ran)


# Per column over the runs that exist: a complete design takes numpy's plain path, so its numbers never change.
def _mean(values: np.ndarray) -> np.ndarray:
    if not np.isnan(values).any():
        return values.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nansum(values, axis=0) / _counts(values)


def _median(values: np.ndarray) -> np.ndarray:
    if not np.isnan(values).any():
        return np.median(values, axis=0)
    with warnings.catch_warnings():  # a column with no run: NaN, said once by numpy
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(values, axis=0)


def _counts(values: np.ndarray) -> np.ndarray:
    return (~np.isnan(values)).sum(axis=0)


def _t_half(values: np.ndarray, level: float) -> np.ndarray:
    """Half-width of the t-interval of each column's mean over its values that exist (NaN with fewer than 2)."""
    n = values.shape[0]
    if not np.isnan(values).any():
        if n < 2:
            return np.full(values.shape[1], np.nan)
        return stats.t.ppf(0.5 + level / 2, n - 1) * values.std(axis=0, ddof=1) / math.sqrt(n)
    counts = _counts(values)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # columns with fewer than 2 runs: NaN
        half = stats.t.ppf(0.5 + level / 2, counts - 1) * np.nanstd(values, axis=0, ddof=1) / np.sqrt(counts)
    return np.where(counts >= 2, half, np.nan)


def equivalent_flags(r: Runs, best: int, tolerance: float) -> np.ndarray:
    """Per LR: as good as the best (rule "equivalent"), all columns at once."""
    diff = r.valid[:, [best]] - r.valid  # NaN where either LR lacks the seed: pairs are the seeds both ran
    mean, half = _mean(diff), _t_half(diff, 1 - 2 * I.EQUIVALENCE_ALPHA)
    if r.complete and r.valid.shape[0] < 2:
        within = np.all(diff == 0, axis=0)
    else:
        with np.errstate(invalid="ignore"):
            within = (mean - half > -tolerance) & (mean + half < tolerance)
        if not r.complete:  # one shared seed: only an LR against itself
            within |= (_counts(diff) == 1) & np.all((diff == 0) | np.isnan(diff), axis=0)
    return within & (r.learned | ~r.ran).all(axis=0)


def decide(r: Runs, tolerance: float) -> dict:
    """Every pick of the rules on these runs: LRs (floats) or None where the rule picks nothing."""
    mean = _mean(r.valid).round(9)
    med_epochs = _median(r.epochs)
    best = int(np.lexsort((r.lrs, med_epochs, -mean))[0])
    fractions = r.learned.mean(axis=0) if r.complete else r.learned.sum(axis=0) / np.maximum(r.ran.sum(axis=0), 1)
    edges = learning_edges(fractions.tolist(), best)
    lr = lambda i: None if i is None else float(r.lrs[i])  # noqa: E731
    picks = {"best": lr(best), "range_low": None, "range_high": None, "tradeoff": None, "tradeoff_saves": False,
             "fastest_to_target": None, "none_up_to": lr(edges["none_to"]), "all_from": lr(edges["all_from"]),
             "all_up_to": lr(edges["all_to"]), "none_from": lr(edges["none_from"])}
    if not r.learned.any():
        return picks
    equivalent = equivalent_flags(r, best, tolerance)
    low, high = contiguous_range(equivalent.tolist(), best) if equivalent[best] else (best, best)
    picks["range_low"], picks["range_high"] = lr(low), lr(high)

    saving = r.epochs[:, [best]] - r.epochs
    with np.errstate(invalid="ignore"):
        saves = _mean(saving) - _t_half(saving, I.CONFIDENCE) > 0  # NaN (one seed) compares False
    candidates = np.flatnonzero(equivalent & saves)
    if len(candidates):
        order = np.lexsort((r.lrs[candidates], -mean[candidates], med_epochs[candidates]))
        picks["tradeoff"], picks["tradeoff_saves"] = lr(int(candidates[order[0]])), True
    else:
        picks["tradeoff"] = lr(best)
    to_target = _median(np.where(~r.ran, np.nan, np.where(np.isnan(r.to_target), np.inf, r.to_target)))
    if np.isfinite(to_target).any():
        picks["fastest_to_target"] = lr(int(np.lexsort((r.lrs, -mean, to_target))[0]))
    return picks


PICKS = {  # what each pick is, for the stability table
    "best": "best LR", "recommended_low": "recommended range, low end", "recommended_high": "recommended range, high end",
    "range_low": "best range, low end", "range_high": "best range, high end",
    "tradeoff": "trade-off LR", "fastest_to_target": "fastest to target",
    "all_from": "every seed leaves the plateau from", "none_up_to": "no seed leaves it at and below",
    "all_up_to": "every seed leaves it up to", "none_from": "no seed leaves it at and above",
}


def stability(r: Runs, tolerance: float, resamples: int = I.RESAMPLES) -> dict:
    """Per pick: the share of seed resamples that pick each candidate, and the picks with each seed left out."""
    full = decide(r, tolerance)
    boot = [decide(r.take(rows), tolerance) for rows in _resample_rows(r, resamples)]
    loo = [decide(r.take(rows), tolerance) for rows in _left_out_rows(r)]
    return {key: pick_stability(full[key], [p[key] for p in boot], [p[key] for p in loo], len(r.seeds))
            for key in PICKS if key in full}


def _resample_rows(r: Runs, resamples: int) -> list:
    """The seed resamples (paired: one draw of seeds for every LR); none to draw from one seed."""
    return list(I.seed_resamples(len(r.seeds), resamples)) if len(r.seeds) >= 2 else []


def _left_out_rows(r: Runs) -> list:
    return I.leave_one_out(len(r.seeds)) if len(r.seeds) >= 2 else []


def pick_stability(full, boot: list, loo: list, seeds: int) -> dict:
    """One pick's stability: the share of resamples that pick each candidate, the set a conclusion names (the pick
    alone when at least STABLE_SHARE of resamples agree, else the fewest candidates that do), and the pick with each
    seed left out. One seed: nothing to resample, no pick can be shown stable."""
    shares = I.shares(boot or [full])
    top, top_share = next(iter(shares.items()))
    stable = bool(seeds >= 2 and top == full and top_share >= STABLE_SHARE)
    return {
        "pick": full,
        "bootstrap_share": round(shares.get(full, 0.0), 3),
        "candidates": [{"lr": lr, "share": round(s, 3)} for lr, s in shares.items() if s >= SHOWN_SHARE],
        "set": [full] if stable else smallest_set(shares),
        "leave_one_seed_out": list(loo),
        "stable": stable,
    }


# --- the recommended range: as good as the best and not measurably slower ---------------------------------------

def slower_flags(r: Runs, reference: int) -> np.ndarray:
    """Per LR: measurably slower than the reference LR (rule "slower"): its extra epochs to early stopping, paired by
    seed (this LR minus the reference), have a 95% t-interval above 0. One seed shows nothing."""
    extra = r.epochs - r.epochs[:, [reference]]
    with np.errstate(invalid="ignore"):
        return _mean(extra) - _t_half(extra, I.CONFIDENCE) > 0  # NaN (one seed) compares False


def _positions(r: Runs, lrs) -> list[int]:
    return [int(np.flatnonzero(np.isclose(r.lrs, lr))[0]) for lr in lrs
            if lr is not None and np.isclose(r.lrs, lr).any()]


def recommended_flags(r: Runs, references: list[float], tolerance: float) -> np.ndarray:
    """Per LR: as good as every reference LR (rule "equivalent") and measurably slower than none (rule "slower")."""
    flags = np.ones(len(r.lrs), bool)
    for reference in _positions(r, references):
        flags &= equivalent_flags(r, reference, tolerance) & ~slower_flags(r, reference)
    return flags


def recommended_range(r: Runs, references: list[float], tolerance: float) -> tuple:
    """Rule "recommended": the contiguous LRs, around the first reference that passes, that are as good as every
    reference and measurably slower than none. references: every LR the seeds may call best (the best LR's set),
    so that which of two tied LRs is taken as the best does not move the range. (None, None) where none passes."""
    if not r.learned.any():
        return None, None
    flags = recommended_flags(r, references, tolerance)
    start = next((i for i in _positions(r, references) if flags[i]), None)
    if start is None:
        return None, None
    low, high = contiguous_range(flags.tolist(), start)
    return float(r.lrs[low]), float(r.lrs[high])


def recommended(r: Runs, references: list[float], tolerance: float, resamples: int = I.RESAMPLES) -> dict:
    """The recommended range on all seeds, how often each LR lies inside it over seed resamples (the references
    stay those of all seeds), its ends' stability, and its core: the contiguous LRs inside it in at least
    STABLE_SHARE of resamples, the part of the range no one seed moves."""
    low, high = recommended_range(r, references, tolerance)
    boot = [recommended_range(r.take(rows), references, tolerance) for rows in _resample_rows(r, resamples)]
    loo = [recommended_range(r.take(rows), references, tolerance) for rows in _left_out_rows(r)]
    inside = lambda span, lr: span[0] is not None and span[0] <= lr <= span[1]  # noqa: E731
    shares = [float(np.mean([inside(span, lr) for span in boot])) if boot else float(inside((low, high), lr))
              for lr in r.lrs]
    core = None
    if low is not None:
        flags = [share >= STABLE_SHARE - EPS for share in shares]
        start = max(range(len(r.lrs)), key=lambda i: (shares[i], inside((low, high), r.lrs[i])))
        if flags[start]:
            a, b = contiguous_range(flags, start)
            core = {"low_lr": float(r.lrs[a]), "high_lr": float(r.lrs[b]), "lrs": b - a + 1}
    return {"low_lr": low, "high_lr": high, "references": [float(lr) for lr in references if lr is not None],
            "core": core, "shares": dict(zip(r.lrs.tolist(), shares)),
            "ends": {"low": pick_stability(low, [s[0] for s in boot], [s[0] for s in loo], len(r.seeds)),
                     "high": pick_stability(high, [s[1] for s in boot], [s[1] for s in loo], len(r.seeds))}}


def smallest_set(shares: dict) -> list:
    """The fewest candidates, most often picked first, that together are picked in STABLE_SHARE of resamples."""
    chosen, total = [], 0.0
    for value, share in shares.items():
        chosen.append(value)
        total += share
        if total >= STABLE_SHARE - 1e-9:
            break
    return sorted(chosen, key=lambda v: (v is None, v or 0))


def per_run(runs: pd.DataFrame, curves: pd.DataFrame, chance_level: float, target: float) -> pd.DataFrame:
    """One row per run: whether it learned, its epochs to the target (NaN: never reached), and whether it was still
    improving when it stopped (rule "still_improving", with its slope and gains)."""
    reached = epochs_to_target(curves, target)
    at_stop = {key: improvement_at_stop(history) for key, history in curves.groupby(["lr", "seed"])}
    rows = []
    for run in runs.sort_values(["lr", "seed"]).itertuples():
        key = (run.lr, run.seed)
        rows.append({"lr": float(run.lr), "seed": int(run.seed), "log10_lr": log10_lr(run.lr),
                     "best_valid_acc": run.best_valid_acc, "epochs": int(run.epochs),
                     "learned": bool(learned(run.best_valid_acc, chance_level)),
                     "epochs_to_target": reached.get(key, math.nan), **at_stop.get(key, NO_SLOPE)})
    return pd.DataFrame(rows)


def per_lr(r: Runs, tolerance: float, runs: pd.DataFrame, judged_runs: pd.DataFrame, advice: dict) -> pd.DataFrame:
    """One row per LR: seeds that left the plateau (Clopper-Pearson), accuracies (t-intervals; of the seeds that left
    it where they split), the paired difference to the best (95% and, for equivalence, 90%), equivalence to the best,
    epochs saved against it, whether it is measurably slower than an LR the seeds may call best, whether it is in the
    recommended range (on all seeds, and in what share of seed resamples), time to target, its median cost in pooled
    seconds and whether it is on the Pareto front of mean accuracy against median epochs, and how many of its runs
    were still improving when they stopped. judged_runs: per_run()'s table; advice: recommended()'s."""
    full = decide(r, tolerance)
    per_epoch = pooled_sec_per_epoch(runs)
    best = int(np.flatnonzero(r.lrs == full["best"])[0])
    equivalent = equivalent_flags(r, best, tolerance) if r.learned.any() else np.zeros(len(r.lrs), bool)
    slower = np.zeros(len(r.lrs), bool)
    for reference in _positions(r, advice["references"]):
        slower |= slower_flags(r, reference)
    best_mean = float(r.valid[:, best].mean())
    rows = []
    for i, lr in enumerate(r.lrs):
        learned = r.learned[:, i]
        k, n = int(learned.sum()), len(learned)
        cp = I.clopper_pearson(k, n)
        valid, test = I.t_interval(r.valid[:, i]), I.t_interval(r.test[:, i])
        learned_valid = I.t_interval(r.valid[learned, i]) if k else (math.nan,) * 3
        tost = I.tost_paired(r.valid[:, best], r.valid[:, i], tolerance)
        difference = I.t_interval(r.valid[:, best] - r.valid[:, i])
        saving = I.paired_saving(r.epochs[:, best], r.epochs[:, i])
        to_target = np.where(np.isnan(r.to_target[:, i]), np.inf, r.to_target[:, i])
        median_to_target = float(np.median(to_target))
        judged = judged_runs[np.isclose(judged_runs["lr"], lr)]
        rows.append({
            "lr": float(lr), "log10_lr": log10_lr(lr), "seeds": n, "learned": k, "learned_fraction": k / n,
            "learned_low": cp[0], "learned_high": cp[1],
            "valid_mean": valid[0], "valid_low": valid[1], "valid_high": valid[2],
            "learned_valid_mean": learned_valid[0], "learned_valid_low": learned_valid[1],
            "learned_valid_high": learned_valid[2], "test_mean": test[0], "test_low": test[1], "test_high": test[2],
            "gap_to_best": best_mean - valid[0], "diff_low95": difference[1], "diff_high95": difference[2],
            "diff_low90": tost["diff_low"], "diff_high90": tost["diff_high"], "equivalent": bool(equivalent[i]),
            "in_best_range": bool(full["range_low"] is not None and full["range_low"] <= lr <= full["range_high"]),
            "epochs_median": float(np.median(r.epochs[:, i])), "saving_mean": saving["saving_mean"],
            "saving_low": saving["saving_low"], "saving_high": saving["saving_high"],
            "saving_significant": saving["significant"], "slower_than_best": bool(slower[i]),
            "recommended": bool(advice["low_lr"] is not None and advice["low_lr"] <= lr <= advice["high_lr"]),
            "recommended_share": advice["shares"][float(lr)],
            "to_target_median": median_to_target if math.isfinite(median_to_target) else math.nan,
            "reached_target": int(np.isfinite(to_target).sum()),
            "cost_median_s": float(np.median(r.epochs[:, i])) * per_epoch,
            "still_improving": int(judged["still_improving"].astype(bool).sum()),
            "slope_last10_median": float(judged["slope_last10"].median()),
            "best_gain_last10_median": float(judged["best_gain_last10"].median()),
            "loss_change_last10_median": float(judged["loss_change_last10"].median()),
        })
    table = pd.DataFrame(rows)
    table.insert(table.columns.get_loc("cost_median_s") + 1, "pareto",
                 pareto_mask(table["valid_mean"].tolist(), table["epochs_median"].tolist()))
    numeric = [c for c in table.columns if c not in ("lr", "log10_lr") and table[c].dtype == float]
    table[numeric] = table[numeric].round(DIGITS)
    return table


def to_target_interval(r: Runs, lr: float | None) -> list[float] | None:
    """The 95% t-interval of the mean epochs to the target at an LR, where every seed reached it (else None)."""
    if lr is None:
        return None
    epochs = r.to_target[:, int(np.flatnonzero(r.lrs == lr)[0])]
    if np.isnan(epochs).any():
        return None
    _, low, high = I.t_interval(epochs)
    if math.isnan(low):  # one seed: no interval
        return None
    return [round(float(low), DIGITS), round(float(high), DIGITS)]


def learned_interval(table: pd.DataFrame, lr: float | None) -> dict | None:
    """An edge LR's seeds that learned, with the exact (Clopper-Pearson) 95% interval of that fraction."""
    if lr is None:
        return None
    x = table[table["lr"] == lr].iloc[0]
    return {"lr": float(lr), "learned": f"{x['learned']}/{x['seeds']}", "interval": [x["learned_low"], x["learned_high"]]}


def largest_saving(table: pd.DataFrame, best_lr: float) -> dict:
    """Among the LRs as good as the best (the best itself aside), the largest mean paired saving in epochs against
    the best LR, with its 95% interval; the best LR itself (no saving) where no other LR is equivalent."""
    others = table[table["equivalent"] & (table["lr"] != best_lr)]
    if others.empty:
        return {"lr": best_lr, "saving_mean": 0.0, "saving_interval": [0.0, 0.0]}
    x = others.loc[others["saving_mean"].idxmax()]
    return {"lr": float(x["lr"]), "saving_mean": x["saving_mean"], "saving_interval": [x["saving_low"], x["saving_high"]]}


def still_improving(table: pd.DataFrame, best_lr: float) -> dict:
    """The article's section 5-3 asks whether early stopping cuts slow (small-LR) runs off while they still improve:
    per LR where a seed learned, how many runs were still improving at their last epoch (rule "still_improving",
    per_lr()'s columns), and the counts below the best LR and from it up."""
    learned_lrs = table[table["learned"] > 0]

    def count(mask) -> dict:
        return {"improving": int(learned_lrs.loc[mask, "still_improving"].sum()),
                "runs": int(learned_lrs.loc[mask, "seeds"].sum())}

    return {
        "window": IMPROVING_WINDOW, "alpha": IMPROVING_ALPHA, "best_lr": best_lr,
        "below_best": count(learned_lrs["lr"] < best_lr), "from_best_up": count(learned_lrs["lr"] >= best_lr),
        "per_lr": [{"lr": float(row.lr), "valid_mean": row.valid_mean, "epochs_median": row.epochs_median,
                    "improving": int(row.still_improving), "seeds": int(row.seeds),
                    "slope_last10_median": row.slope_last10_median,
                    "best_gain_last10_median": row.best_gain_last10_median,
                    "loss_change_last10_median": row.loss_change_last10_median}
                   for row in learned_lrs.itertuples()],
    }


def verification(record: dict, runs: pd.DataFrame, compared: tuple[str, ...]) -> dict:
    """make verify's last record (metrics/verify.json) and whether its runs are still this sweep's, every compared
    result equal (after `make run` with other settings they are not, and the record says nothing about them)."""
    committed = {(r["lr"], r["seed"]): r for r in runs.to_dict("records")}
    of_these = all((r["lr"], r["seed"]) in committed
                   and all(committed[(r["lr"], r["seed"])][column] == r[column] for column in compared)
                   for r in record["runs"])
    return {**record, "of_these_runs": of_these, "all_identical": record["identical"] == record["compared"]}


IDLE_S = 600  # more time than this between the first run's start and the last one's end with nothing training


def wall_time(cost: dict) -> dict | None:
    """The sweep's wall time from the aggregate's cost facts (metrics/sweep.json): with a run training, first start to
    last end, and whether the runs were made in parts (a study run in shares, runs trained at other times), when the
    gap between the two is more than IDLE_S. None where the runs recorded no times."""
    if "sweep_wall_s" not in cost:
        return None
    busy = cost.get("busy_wall_s", cost["sweep_wall_s"])
    return {"busy_s": busy, "span_s": cost["sweep_wall_s"], "idle_s": round(cost["sweep_wall_s"] - busy, 1),
            "made_in_parts": bool(cost["sweep_wall_s"] > busy + IDLE_S)}


def not_told_apart(table: pd.DataFrame, best_lr: float) -> dict:
    """Rule "not_told_apart": the LRs whose paired difference to the best LR (best minus LR, seed by seed: every LR
    is scored on the same validation images, so the images' own noise largely cancels) has a 95% t-interval that
    contains 0. Cannot tell apart is not as good as: that is the equivalence rule's to show."""
    others = table[(table["lr"] != best_lr) & (table["learned"] == table["seeds"])  # a split LR's mean: no run's
                   & (table["diff_low95"] <= 0) & (table["diff_high95"] >= 0)]
    return {"best_lr": best_lr, "lrs": [float(lr) for lr in others["lr"]],
            "not_shown_equivalent": [float(lr) for lr in others.loc[~others["equivalent"], "lr"]]}


# --- how fast small LRs learn: epochs to a stated accuracy --------------------------------------------------------

FIT_MIN_EPOCHS = 8  # below this median, whole epochs are too coarse a clock for a slope (one epoch is over 12%)


def speed_fit(curves: pd.DataFrame, runs: pd.DataFrame, level: float, below_lr: float,
              predict_at: list[float]) -> dict | None:
    """Rule "speed": epochs until validation accuracy first reaches `level`, against the LR, as a power law
    epochs = c * LR^b fitted by least squares on log10 scales to the runs of the LRs below `below_lr` at which every
    seed reached the level within the sweep's early stopping, and whose median is at least FIT_MIN_EPOCHS. With the
    exponent's 95% interval, R^2, and for each LR of predict_at the predicted epochs with a 95% prediction interval
    for one run (extrapolated where the LR lies outside the fitted ones). None with fewer than 3 such LRs."""
    reached = epochs_to_target(curves, level).rename("epochs").reset_index()
    seeds = runs.groupby("lr")["seed"].nunique()
    per_lr = reached.groupby("lr")["epochs"].agg(["count", "median"])
    fitted = [lr for lr, row in per_lr.iterrows()
              if lr < below_lr and row["count"] == seeds.get(lr, 0) and row["median"] >= FIT_MIN_EPOCHS]
    if len(fitted) < 3:
        return None
    data = reached[reached["lr"].isin(fitted)]
    x, y = np.log10(data["lr"].to_numpy(float)), np.log10(data["epochs"].to_numpy(float))
    reg = stats.linregress(x, y)
    n = len(x)
    t = stats.t.ppf(0.975, n - 2)
    residual = math.sqrt(float(np.sum((y - (reg.intercept + reg.slope * x)) ** 2)) / (n - 2))
    sxx = float(np.sum((x - x.mean()) ** 2))

    def predicted(lr: float) -> dict:
        x0 = math.log10(lr)
        half = t * residual * math.sqrt(1 + 1 / n + (x0 - x.mean()) ** 2 / sxx)
        centre = reg.intercept + reg.slope * x0
        return {"lr": float(lr), "epochs": round(10 ** centre, 1), "low": round(10 ** (centre - half), 1),
                "high": round(10 ** (centre + half), 1), "extrapolated": bool(not min(fitted) <= lr <= max(fitted))}

    return {"level": level, "lrs": [float(lr) for lr in fitted], "runs": n,
            "exponent_b": round(reg.slope, 3), "exponent_low": round(reg.slope - t * reg.stderr, 3),
            "exponent_high": round(reg.slope + t * reg.stderr, 3), "c": float(f"{10 ** reg.intercept:.4g}"),
            "r_squared": round(reg.rvalue ** 2, 4), "predictions": [predicted(lr) for lr in predict_at],
            "per_lr": [{"lr": float(lr), "reached": int(row["count"]), "seeds": int(seeds.get(lr, 0)),
                        "epochs_median": float(row["median"])} for lr, row in per_lr.iterrows()]}


def speed_check(fit: dict | None, check_runs: pd.DataFrame, check_curves: pd.DataFrame, level: float) -> dict | None:
    """The power law's prediction against runs trained without early stopping at an LR it was not fitted to
    (make speed-check): per run the epochs to the level (None: not within its cap), their median, and whether the
    measured median lies inside the 95% prediction interval."""
    if fit is None or check_runs is None or check_runs.empty:
        return None
    reached = epochs_to_target(check_curves, level)
    rows = []
    for lr, group in check_runs.groupby("lr", sort=True):
        epochs = [reached.get((lr, seed)) for seed in sorted(group["seed"])]
        got = [float(e) for e in epochs if e is not None and not pd.isna(e)]
        prediction = next(p for p in fit["predictions"] if np.isclose(p["lr"], lr))  # assemble() asks for it
        median = float(np.median(got)) if len(got) == len(epochs) else None
        rows.append({"lr": float(lr), "seeds": len(epochs), "reached": len(got), "cap": int(group["cap"].max()),
                     "epochs": [None if e is None or pd.isna(e) else int(e) for e in epochs],
                     "epochs_median": median, "predicted": prediction,
                     "inside_prediction_interval": bool(median is not None
                                                        and prediction["low"] <= median <= prediction["high"])})
    return {"level": level, "per_lr": rows}


# --- the learning edge without early stopping (make learning-edge) ---------------------------------------------

def edge_without_patience(edge_runs: pd.DataFrame, edge_curves: pd.DataFrame, default_curves: pd.DataFrame,
                          default_runs: pd.DataFrame) -> dict:
    """Per LR: seeds that left the chance level within the cap (and when), the training loss's fall, a power-law
    fit of epochs against LR, and whether each run repeated its default-sweep twin until the twin stopped."""
    per_lr = []
    for lr, group in edge_runs.groupby("lr", sort=True):
        left = group["left_chance_epoch"].dropna()
        k, n = len(left), len(group)
        per_lr.append({
            "lr": float(lr), "seeds": n, "left_chance": k, "cap": int(group["cap"].max()),
            "epochs_median": float(left.median()) if k == n else None,
            "epochs_min": float(left.min()) if k else None, "epochs_max": float(left.max()) if k else None,
            "loss_drop_median": round(float((1 - group["last_train_loss"] / group["first_train_loss"]).median()),
                                      DIGITS),
            "default_stopped_at": _default_epochs(default_runs, lr),
        })
    done = edge_runs.dropna(subset=["left_chance_epoch"])
    fit = None
    if done["lr"].nunique() >= 3:
        reg = stats.linregress(np.log10(done["lr"]), np.log10(done["left_chance_epoch"]))
        half = stats.t.ppf(0.975, len(done) - 2) * reg.stderr
        fit = {"exponent_b": round(reg.slope, 3), "exponent_low": round(reg.slope - half, 3),
               "exponent_high": round(reg.slope + half, 3), "c": float(f"{10 ** reg.intercept:.4g}"),
               "r_squared": round(reg.rvalue ** 2, 4), "runs": len(done),
               "formula": "epochs to leave chance = c * LR ** b"}
    all_left = [row["lr"] for row in per_lr if row["left_chance"] == row["seeds"]]
    smallest_all = None  # the smallest LR from which up every LR tested had every seed leave the chance level
    for row in reversed(per_lr):
        if row["left_chance"] < row["seeds"]:
            break
        smallest_all = row["lr"]
    return {"per_lr": per_lr, "fit": fit, "every_lr_learns_from": smallest_all, "lrs_all_left": all_left,
            "smallest_loss_drop_median": min((row["loss_drop_median"] for row in per_lr), default=None),
            "twins": twins_repeated(edge_curves, default_curves)}


def _default_epochs(default_runs: pd.DataFrame, lr: float) -> list[int]:
    return sorted(int(e) for e in default_runs.loc[np.isclose(default_runs["lr"], lr), "epochs"])


def twins_repeated(longer: pd.DataFrame, default: pd.DataFrame) -> dict:
    """How many runs repeated their default-sweep twin (same LR and seed) number for number over the epochs both
    ran, and the largest difference in validation accuracy where they did not (another CPU or library build
    changes the last bits of the arithmetic, and the runs drift apart from there)."""
    same = compared = 0
    largest = 0.0
    for (lr, seed), run in longer.groupby(["lr", "seed"]):
        twin = default[(np.isclose(default["lr"], lr)) & (default["seed"] == seed)].sort_values("epoch")
        if twin.empty:
            continue
        n = min(len(twin), len(run))
        a = run.sort_values("epoch").iloc[:n]
        compared += 1
        if a[["train_loss", "valid_acc"]].to_numpy().tolist() == twin[["train_loss", "valid_acc"]].iloc[:n].to_numpy().tolist():
            same += 1
        largest = max(largest, float(np.abs(a["valid_acc"].to_numpy() - twin["valid_acc"].iloc[:n].to_numpy()).max()))
    return {"compared": compared, "repeated": same, "all_repeated": bool(compared and same == compared),
            "largest_valid_difference": round(largest, DIGITS)}


def upper_edge(curves: pd.DataFrame, runs: pd.DataFrame, above: float, chance_level: float) -> list[dict]:
    """Per LR above `above` with a run that did not stay learned: runs that never left the chance level, runs that
    learned and then collapsed (their last epoch lost more than half of their peak's height above the chance
    level; early stopping still keeps the peak's weights), and runs that stayed learned."""
    rows = []
    for lr, group in curves[curves["lr"] > above].groupby("lr", sort=True):
        never = collapsed = stayed = 0
        for _, run in group.sort_values("epoch").groupby("seed"):
            accuracy = run["valid_acc"].fillna(0.0)  # a diverged epoch has no accuracy
            peak = accuracy.max()
            if not learned(peak, chance_level):
                never += 1
            elif accuracy.iloc[-1] < peak - (peak - chance_level) / 2:
                collapsed += 1
            else:
                stayed += 1
        if never or collapsed:
            peak = runs.loc[np.isclose(runs["lr"], lr), "best_valid_acc"]
            rows.append({"lr": float(lr), "never_left_chance": never, "learned_then_collapsed": collapsed,
                         "stayed_learned": stayed, "best_valid_max": round(float(peak.max()), DIGITS)})
    return rows


# --- the patience ablation, made fair ---------------------------------------------------------------------------

def stopped_with_patience(curve: pd.DataFrame, patience: int) -> tuple[float, int]:
    """What a run with less patience would have reached: (best validation accuracy, epochs) of the same
    curve cut where `patience` epochs passed without a strictly better accuracy. Exact for the same run:
    training does not depend on the patience until the run stops."""
    best, since, epochs = -math.inf, 0, 0
    for accuracy in curve.sort_values("epoch")["valid_acc"]:
        epochs += 1
        if accuracy > best:
            best, since = accuracy, 0
        else:
            since += 1
        if since >= patience:
            break
    return best, epochs


def patience_gains(longer_runs: pd.DataFrame, longer_curves: pd.DataFrame, default_runs: pd.DataFrame,
                   patience: int) -> pd.DataFrame:
    """Per longer run: the validation gain over the same curve stopped at `patience` (exact), the test gain over
    the default-sweep twin, and whether the run hit its epoch cap (then its gain is a lower bound)."""
    curves = dict(tuple(longer_curves.groupby(["lr", "seed"])))
    twins = default_runs.set_index(["lr", "seed"])
    rows = []
    for run in longer_runs.sort_values(["lr", "seed"]).itertuples():
        if (run.lr, run.seed) not in twins.index:  # a sweep without this LR and seed (an experiment's)
            continue
        short_best, short_epochs = stopped_with_patience(curves[(run.lr, run.seed)], patience)
        twin = twins.loc[(run.lr, run.seed)]
        rows.append({"lr": run.lr, "seed": run.seed, "valid_gain": run.best_valid_acc - short_best,
                     "test_gain": run.test_acc - twin["test_acc"], "epochs": int(run.epochs),
                     "short_epochs": short_epochs, "at_cap": run.stopped_by == "max_epochs"})
    return pd.DataFrame(rows, columns=["lr", "seed", "valid_gain", "test_gain", "epochs", "short_epochs", "at_cap"])


ABLATION_ALPHA = 0.05  # the pooled test's, and the family-wise level of the per-LR tests (Holm)


def holm(p_values: list[float], alpha: float = ABLATION_ALPHA) -> list[bool]:
    """Holm's step-down: which of these hypotheses are rejected with the family-wise error rate at most alpha."""
    p = [1.0 if math.isnan(x) else x for x in p_values]  # no test (one seed, no spread): nothing rejected
    order = sorted(range(len(p)), key=lambda i: p[i])
    rejected = [False] * len(p)
    for rank, i in enumerate(order):
        if p[i] > alpha / (len(p) - rank):
            break
        rejected[i] = True
    return rejected


def ablation_reference(gains: pd.DataFrame, best_lr: float, best_set: list) -> float:
    """The LR whose gain the ablation's gains are judged against: the best LR where the ablation ran it, else another
    LR the seeds may call best (the best LR's set) that it ran. The reference runs were made at the best LR of the
    study they were made for; on a retrained study a tied candidate may be called best instead, and either is as
    good a reference as the other."""
    candidates = [best_lr, *(lr for lr in best_set if lr is not None and lr != best_lr)]
    return next((lr for lr in candidates if np.isclose(gains["lr"], lr).any()), best_lr)


def ablation_verdict(gains: pd.DataFrame, reference_lr: float, range_low: float, best_mean: float,
                     default_means: dict) -> dict:
    """Does more patience help the LRs below the best range more than it helps the best LR? Per LR the mean
    gains (validation: exact; test: against the default twin) with t-intervals, and the gain beyond the best LR's,
    paired by seed, with its one-sided p-value. Rule "ablation": a pooled paired test over the LRs below the range
    (per training seed, its gain beyond the best LR's averaged over those LRs; a one-sided t-test on these seed
    means, since the seeds, not the LRs that share them, are the independent replicates) and per-LR t-tests with
    Holm's correction over those LRs; censored runs make a gain a lower bound. gap_closed: the validation gain as a
    share of the LR's gap to the best mean."""
    reference = gains[np.isclose(gains["lr"], reference_lr)].set_index("seed")
    rows, beyond_by_seed = [], []
    for lr, group in gains.groupby("lr", sort=True):
        group = group.set_index("seed")
        valid, test = I.t_interval(group["valid_gain"]), I.t_interval(group["test_gain"])
        paired = len(reference) and set(group.index) <= set(reference.index)
        differences = (group["valid_gain"] - reference.loc[group.index, "valid_gain"]) if paired else None
        beyond = I.t_interval(differences) if paired else (math.nan,) * 3
        p_beyond = (float(stats.ttest_1samp(differences, 0.0, alternative="greater").pvalue)
                    if paired and len(differences) >= 2 and differences.std() > 0 else math.nan)
        gap = best_mean - default_means.get(float(lr), math.nan)
        if paired and lr < range_low and not np.isclose(lr, reference_lr):
            beyond_by_seed += [{"lr": float(lr), "seed": seed, "beyond": d} for seed, d in differences.items()]
        rows.append({
            "lr": float(lr), "seeds": len(group), "below_best_range": bool(lr < range_low),
            "valid_gain": valid[0], "valid_gain_low": valid[1], "valid_gain_high": valid[2],
            "test_gain": test[0], "test_gain_low": test[1], "test_gain_high": test[2],
            "beyond_best_lr": beyond[0], "beyond_low": beyond[1], "beyond_high": beyond[2], "beyond_p": p_beyond,
            "positive_seeds": int((differences > 0).sum()) if paired else 0,
            "gap_closed": valid[0] / gap if gap > 0 else math.nan,
            "at_cap": int(group["at_cap"].sum()), "epochs_ratio": float((group["epochs"] / group["short_epochs"]).median()),
        })
    table = pd.DataFrame(rows)
    below = table["below_best_range"] & ~table["lr"].eq(reference_lr)
    table["significant_holm"] = False
    table.loc[below, "significant_holm"] = holm(table.loc[below, "beyond_p"].tolist())
    numeric = [c for c in table.columns if c != "lr" and table[c].dtype == float]
    table[numeric] = table[numeric].round(DIGITS)
    population = table[below]
    per_seed = pd.DataFrame(beyond_by_seed, columns=["lr", "seed", "beyond"]).groupby("seed")["beyond"].mean()
    pooled_mean, pooled_low, pooled_high = I.t_interval(per_seed)
    pooled_p = (float(stats.ttest_1samp(per_seed, 0.0, alternative="greater").pvalue)
                if len(per_seed) >= 2 and per_seed.std() > 0 else math.nan)
    positive = int((population["beyond_best_lr"] > 0).sum())
    if reference.empty:  # without the best LR's own gain there is nothing to judge a gain against
        verdict = "no reference"
    elif population.empty:
        verdict = "not tested"
    elif not math.isnan(pooled_p) and pooled_p < ABLATION_ALPHA:
        verdict = "holds at every LR" if positive == len(population) else "holds on the whole"
    else:
        verdict = "not shown"
    closed = population["gap_closed"].dropna()
    return {"reference_lr": reference_lr, "population": [float(lr) for lr in population["lr"]],
            "pooled": {"seeds": len(per_seed), "lrs": len(population), "positive": positive,
                       "beyond_mean": round(pooled_mean, DIGITS), "beyond_interval": [round(pooled_low, DIGITS),
                                                                                       round(pooled_high, DIGITS)],
                       "p_value": round(pooled_p, DIGITS), "alpha": ABLATION_ALPHA},
            "significant_holm_at": [float(lr) for lr in population.loc[population["significant_holm"], "lr"]],
            "positive_seeds": int(population["positive_seeds"].sum()),
            "population_seeds": int(population["seeds"].sum()),
            "gap_closed_range": [round(float(closed.min()), DIGITS), round(float(closed.max()), DIGITS)]
            if len(closed) else None,
            "verdict": verdict,
            "censored_runs": int(gains["at_cap"].sum()), "capped_lrs": [float(lr) for lr in table.loc[table["at_cap"] > 0, "lr"]],
            "per_lr": table.to_dict("records")}


# What the study's checks vary on purpose (a longer patience, with a cap to match): every other recorded setting of
# a check's runs must be the sweep's for the check to speak about it.
VARIED_BY_CHECKS = ("patience", "max_epochs")
SHARED_WITH_CHECKS = tuple(name for name in P.RECORDED if name not in VARIED_BY_CHECKS)


def sweep_settings(params: dict) -> dict:
    """What the learning-edge runs share with a sweep they can speak about (its experiment.json keeps them): the
    split seed and every recorded setting the checks do not vary, as section.key."""
    keys = ["data.split_seed"] + [f"{section}.{name}" for section, names in P.SCHEMA.items() for name in names
                                  if name in SHARED_WITH_CHECKS]
    return {key: P.lookup(params, key) for key in keys}


# --- all conclusions together -------------------------------------------------------------------------------------

def split_sensitivity(runs: pd.DataFrame, curves: pd.DataFrame, splits: dict, split_seed: int, tolerance: float,
                      chance_level: float, full: dict) -> dict:
    """Each other split's picks beside the default split's on the same LRs and seeds (3 seeds: no stability).
    splits: {split seed: (runs, curves)}."""
    def picks(r: pd.DataFrame, c: pd.DataFrame) -> dict:
        return decide(as_matrices(r, c, chance_level, target_accuracy(r, tolerance)), tolerance)

    out = {}
    for seed, (other_runs, other_curves) in sorted(splits.items()):
        same = runs[runs["lr"].isin(set(other_runs["lr"])) & runs["seed"].isin(set(other_runs["seed"]))]
        other = picks(other_runs, other_curves)
        out[f"split-{seed}"] = {
            "split_seed": seed, "lrs": int(other_runs["lr"].nunique()),
            "seeds": sorted(int(x) for x in other_runs["seed"].unique()), "picks": other,
            "default_split_same_runs": picks(same, curves) if len(same) else None,  # None: a sweep without them
            "best_in_study_range": bool(full["range_low"] is not None
                                        and full["range_low"] <= other["best"] <= full["range_high"]),
            "valid_best_mean": round(float(other_runs.groupby("lr")["best_valid_acc"].mean().max()), DIGITS),
        }
    # the LRs in the best range on every draw of the images: the study's range cut to each other split's
    ranges = [(full["range_low"], full["range_high"])] + [(o["picks"]["range_low"], o["picks"]["range_high"])
                                                          for o in out.values()]
    common = None
    if out and all(low is not None for low, _ in ranges):
        low, high = max(low for low, _ in ranges), min(high for _, high in ranges)
        common = {"low_lr": low, "high_lr": high, "draws": len(ranges)} if low <= high else None
    # common_range: the LRs inside the best range on the study's split and on every other split
    return {"default_split_seed": split_seed, "splits": out, "common_range": common}


def assemble(runs: pd.DataFrame, curves: pd.DataFrame, tolerance: float, chance_level: float, patience: int,
             valid_images: int, test_images: int, learned_accuracy: float = 0.9, edge=None, ablation=None,
             splits: dict | None = None, split_seed: int | None = None, speed=None,
             machines: dict | None = None) -> dict:
    """Every conclusion with its rule, interval and stability (metrics/summary.json).
    edge: (runs, curves, experiment) of make learning-edge; ablation: ([(runs, curves), ...], names) of the
    longer-patience experiments; splits: {split seed: (runs, curves)}; speed: (runs, curves) of make speed-check,
    the power law's prediction measured; machines: {name: (runs, curves)} of the same study made on other machines."""
    target = target_accuracy(runs, tolerance)
    r = as_matrices(runs, curves, chance_level, target)
    full, stable = decide(r, tolerance), stability(r, tolerance)
    advice = recommended(r, stable["best"]["set"], tolerance)
    judged = per_run(runs, curves, chance_level, target)
    table = per_lr(r, tolerance, runs, judged, advice)
    row = lambda lr: table[table["lr"] == lr].iloc[0]  # noqa: E731
    cost_per_epoch = pooled_sec_per_epoch(runs)
    best_position = int(np.flatnonzero(r.lrs == full["best"])[0])
    bands = learning_edges(table["learned_fraction"].tolist(), best_position)

    def band(positions: list[int]) -> list[dict]:
        return [{"lr": float(table.loc[i, "lr"]), "learned": f"{table.loc[i, 'learned']}/{table.loc[i, 'seeds']}"}
                for i in positions]
    best, tradeoff = row(full["best"]), row(full["tradeoff"] if full["tradeoff"] is not None else full["best"])

    def described(x, key: str) -> dict:
        return {"lr": float(x["lr"]), "valid_mean": x["valid_mean"], "valid_interval": [x["valid_low"], x["valid_high"]],
                "test_mean": x["test_mean"], "test_interval": [x["test_low"], x["test_high"]],
                "learned": f"{x['learned']}/{x['seeds']}", "epochs_median": x["epochs_median"],
                "seconds_median": round(x["epochs_median"] * cost_per_epoch, 1), "stability": stable[key]}

    edges = ("none_up_to", "all_from", "all_up_to", "none_from")
    c = {
        "runs": len(runs), "lrs": len(r.lrs), "seeds": len(r.seeds),
        "tolerance": tolerance, "chance_level": chance_level, "patience": patience, "stable_share": STABLE_SHARE,
        "resamples": I.RESAMPLES, "confidence": I.CONFIDENCE,
        "pick_labels": PICKS,
        "best": described(best, "best"),
        "best_range": {
            "low_lr": full["range_low"], "high_lr": full["range_high"],
            "lrs": int(table["in_best_range"].sum()), "tolerance": tolerance,
            "equivalent_lrs": [float(lr) for lr in table.loc[table["equivalent"], "lr"]],
            "equivalent_outside": [float(lr) for lr in table.loc[table["equivalent"] & ~table["in_best_range"], "lr"]],
            "ends": {"low": stable["range_low"], "high": stable["range_high"]},
            # each equivalent LR's 90% t-interval of (best - LR), seed by seed: inside +-tolerance
            "equivalence_intervals": [{"lr": float(x["lr"]), "interval": [x["diff_low90"], x["diff_high90"]]}
                                      for x in table[table["equivalent"]].to_dict("records")],
        },
        "tradeoff": {**described(tradeoff, "tradeoff"), "saves_epochs": full["tradeoff_saves"],
                     "saving_mean": tradeoff["saving_mean"], "saving_interval": [tradeoff["saving_low"], tradeoff["saving_high"]],
                     "largest_saving": largest_saving(table, full["best"])},
        "time_to_target": {"target_valid_acc": round(target, DIGITS),
                           "lr": full["fastest_to_target"],
                           "epochs_median": None if full["fastest_to_target"] is None
                           else row(full["fastest_to_target"])["to_target_median"],
                           "epochs_interval": to_target_interval(r, full["fastest_to_target"]),
                           "stability": stable["fastest_to_target"]},
        "learning_edge": {
            # with the sweep's early stopping (train.patience), as every run of the sweep was made
            "with_early_stopping": {key: full[key] for key in edges} | {
                "partial_low": band(bands["band_low"]), "partial_high": band(bands["band_high"]),
                "stability": {key: stable[key] for key in edges},
                "learned_intervals": {key: learned_interval(table, full[key]) for key in edges},
                "stopped_at_epoch": sorted({int(e) for e in runs.loc[~learned(runs["best_valid_acc"], chance_level)
                                                                      & (runs["lr"] < full["best"]), "epochs"]})},
            "without_patience": None,
            "upper": upper_edge(curves, runs, full["all_up_to"] or full["best"], chance_level),
            "speed": None, "speed_check": None,
        },
        "recommended": recommended_summary(advice, table, runs, cost_per_epoch,
                                           across_machines(advice, runs, machines or {}, tolerance, chance_level)),
        "images": {"valid": valid_images, "test": test_images},
        "not_told_apart": not_told_apart(table, full["best"]),
        "split_sensitivity": split_sensitivity(runs, curves, splits or {}, split_seed, tolerance, chance_level, full),
        "patience_ablation": None,
        "still_improving": still_improving(table, full["best"]),
        "per_lr": table.to_dict("records"),
        "per_run": judged.to_dict("records"),
    }
    if full["range_low"] is not None:
        check_lrs = sorted(speed[0]["lr"].unique()) if speed is not None else []
        fit = speed_fit(curves, runs, learned_accuracy, full["range_low"],
                        predict_at=sorted({float(r.lrs[0]), *map(float, check_lrs)}))
        c["learning_edge"]["speed"] = fit
        c["learning_edge"]["speed_check"] = speed_check(fit, *speed, learned_accuracy) if speed is not None else None
    if edge is not None:
        edge_runs, edge_curves, experiment = edge
        free = edge_without_patience(edge_runs, edge_curves, curves, runs)
        none_up_to = c["learning_edge"]["with_early_stopping"]["none_up_to"]
        # the edge is the patience's when, given the epochs, every LR up from one at or below that edge learned
        free["set_by_patience"] = bool(free["every_lr_learns_from"] is not None and none_up_to is not None
                                       and free["every_lr_learns_from"] <= none_up_to)
        c["learning_edge"]["without_patience"] = {**experiment, **free}
    if ablation is not None and full["range_low"] is not None:
        longer, names = ablation
        gains = pd.concat([patience_gains(lr_runs, lr_curves, runs, patience) for lr_runs, lr_curves in longer],
                          ignore_index=True)
        means = runs.groupby("lr")["best_valid_acc"].mean().to_dict()
        reference = ablation_reference(gains, full["best"], c["best"]["stability"]["set"])
        c["patience_ablation"] = {"experiments": names, **(ablation_verdict(
            gains, reference, full["range_low"], float(best["valid_mean"]), means) if len(gains) else {
            "reference_lr": reference, "population": [], "pooled": None, "significant_holm_at": [],
            "positive_seeds": 0, "population_seeds": 0, "gap_closed_range": None, "verdict": "no twins",
            "censored_runs": 0, "capped_lrs": [], "per_lr": []})}
    return c


def run_by_run(runs: pd.DataFrame, other: pd.DataFrame) -> dict:
    """The same runs (LR, seed) made twice, compared: how many came out identical (best validation accuracy, test
    accuracy and epochs), and how far the others moved (this study minus the other; accuracies in points)."""
    both = runs.merge(other, on=["lr", "seed"], suffixes=("", "_other"))
    same = ((both["best_valid_acc"] == both["best_valid_acc_other"]) & (both["test_acc"] == both["test_acc_other"])
            & (both["epochs"] == both["epochs_other"]))
    valid = 100 * (both["best_valid_acc"] - both["best_valid_acc_other"])
    epochs = both["epochs"] - both["epochs_other"]
    return {"compared": len(both), "identical": int(same.sum()),
            "valid_points_mean": round(float(valid.mean()), 3), "valid_points_sd": round(float(valid.std(ddof=1)), 3),
            "epochs_mean": round(float(epochs.mean()), 2), "epochs_sd": round(float(epochs.std(ddof=1)), 2)}


def across_machines(advice: dict, runs: pd.DataFrame, others: dict, tolerance: float,
                    chance_level: float) -> dict | None:
    """The recommended range of the same study made on other machines, whose arithmetic differs in the last bits
    (another instruction set), each decided as this one is (its own best LR's set, its own resamples), the runs
    compared one by one with this study's, and the LRs inside the core on every machine (common; None where the cores
    do not overlap). others: {name: (runs, curves)}."""
    if not others:
        return None
    machines = {}
    for name, (runs_there, curves) in sorted(others.items()):
        r = as_matrices(runs_there, curves, chance_level, target_accuracy(runs_there, tolerance))
        best = stability(r, tolerance)["best"]
        other = recommended(r, best["set"], tolerance)
        machines[name] = {"best": best["set"], "low_lr": other["low_lr"], "high_lr": other["high_lr"],
                          "core": other["core"], "runs": run_by_run(runs, runs_there)}
    cores = [advice["core"]] + [m["core"] for m in machines.values()]
    common = None
    if all(cores):
        low, high = max(c["low_lr"] for c in cores), min(c["high_lr"] for c in cores)
        common = {"low_lr": low, "high_lr": high} if low <= high else None
    return {"machines": machines, "common": common}


def recommended_summary(advice: dict, table: pd.DataFrame, runs: pd.DataFrame, cost_per_epoch: float,
                        machines: dict | None = None) -> dict:
    """The recommended range as the answer states it (stated): the LRs inside its core on every machine the study was
    made on (machines: across_machines()), else its core (the LRs inside it in at least STABLE_SHARE of seed
    resamples), else the range on all seeds; the stated LRs' runs (epochs to early stopping, their cost, accuracy),
    the share of resamples that put each LR inside, and what is lost below and above."""
    if advice["low_lr"] is None:
        return {**{k: advice[k] for k in ("low_lr", "high_lr", "references", "core", "ends")}, "lrs": 0,
                "machines": machines}
    span = ((machines or {}).get("common") or advice["core"]
            or {"low_lr": advice["low_lr"], "high_lr": advice["high_lr"]})
    span = {"low_lr": span["low_lr"], "high_lr": span["high_lr"],
            "lrs": int(((table["lr"] >= span["low_lr"]) & (table["lr"] <= span["high_lr"])).sum())}
    inside = runs[runs["lr"].between(span["low_lr"] - EPS * span["low_lr"], span["high_lr"] * (1 + EPS))]
    rows = table.set_index("lr", drop=False)
    as_good = rows[rows["in_best_range"]]
    lowest = rows.loc[as_good["lr"].min()] if len(as_good) else None
    failing = rows[(rows["lr"] > span["high_lr"]) & (rows["learned"] < rows["seeds"])].sort_index()
    epochs = float(inside["epochs"].median())
    return {
        "low_lr": advice["low_lr"], "high_lr": advice["high_lr"], "references": advice["references"],
        "lrs": int(table["recommended"].sum()), "core": advice["core"], "ends": advice["ends"], "machines": machines,
        "shares": [{"lr": lr, "share": round(share, 3)} for lr, share in advice["shares"].items() if share >= SHOWN_SHARE],
        "stated": span, "runs": len(inside), "epochs_median": epochs,
        "epochs_quartiles": [float(inside["epochs"].quantile(0.25)), float(inside["epochs"].quantile(0.75))],
        "seconds_median": round(epochs * cost_per_epoch, 1),
        "valid_mean": round(float(inside["best_valid_acc"].mean()), DIGITS),
        "test_mean": round(float(inside["test_acc"].mean()), DIGITS),
        # below it: as good as the best down to the best range's low end, at a cost in epochs there
        "below": None if lowest is None or lowest["lr"] >= span["low_lr"] else {
            "as_good_down_to": float(lowest["lr"]), "extra_epochs": -lowest["saving_mean"],
            "extra_epochs_interval": [-lowest["saving_high"], -lowest["saving_low"]]},
        # above it: as good up to the best range's high end; from where some seeds never leave the plateau
        "above": {"as_good_up_to": float(as_good["lr"].max()) if len(as_good) else None,
                  "seeds_fail_from": float(failing["lr"].min()) if len(failing) else None,
                  "failing_learned": (f"{failing.iloc[0]['learned']}/{failing.iloc[0]['seeds']}" if len(failing)
                                      else None)},
    }


def json_safe(value):
    """NaN -> null, numpy numbers -> Python numbers, recursively."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value
