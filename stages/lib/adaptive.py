"""A sequential study (issue #31): seeds are spent only where a conclusion of the study could still change.

Round 1 trains the first seeds at every LR. After each round the conclude rules (stages/lib/conclusions.py) run on
the runs so far, and the next round gives one more seed, in the study's seed order, to each LR still open:

- "best": the LR the runs so far call best, until it has every seed (every paired rule compares against it);
- "as good": an LR whose seeds all left the plateau and that is not shown to be worse than the best by more than
  the tolerance (rule "worse"), until it has every seed: the best range, the recommended range and the trade-off are
  decided on these LRs, with all their seeds, as in the full study;
- "edge": an LR next to a change in whether seeds leave the plateau (every seed, none, or some), until its seeds
  split (then the edge is a band, as in the full study) or it has edge_seeds seeds (max_seeds where its runs stay
  on the plateau: those stop after patience epochs and cost little).

Every other LR is closed: on the plateau away from any change, or shown worse than the best (rule "worse": the
paired difference to the best, over the seeds both ran, exceeds the tolerance by more than its one-sided 95% bound,
with the variance of the paired differences pooled over the LRs within `window` grid steps that have at least two
seeds in common with the best: one seed where the gap is wide, more where it is not). The study stops when no LR is
open, or at max_seeds everywhere, which is the full study.
"""

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from stages.lib import conclusions as C, params as P

WORSE_CONFIDENCE = 0.95  # one-sided: the gap to the best is more than the tolerance
MIN_DF = 2  # degrees of freedom a variance needs before the rule "worse" uses it


@dataclass(frozen=True)
class Design:
    """How the sequential study spends seeds (params.yaml's adaptive section; max_seeds: sweep.seeds)."""
    max_seeds: int  # the cap: the full study's seeds
    first_seeds: int = 1  # seeds every LR trains in round 1
    edge_seeds: int = 3  # seeds an LR whose runs are long gets next to a change in leaving the plateau
    window: int = 2  # grid steps each side over which the variance of paired differences is pooled


@dataclass
class Status:
    """One LR after a round: open (another seed next round) or closed, and why."""
    open: bool
    reason: str
    gap: float = math.nan  # the best's mean minus this LR's, over the seeds both ran
    bound: float = math.nan  # the gap's one-sided 95% lower bound (pooled variance); NaN: no variance to pool
    extra: dict = field(default_factory=dict)


def outcome(learned: np.ndarray, ran: np.ndarray) -> str:
    """Whether an LR's seeds so far left the plateau: every one ("all"), none ("none") or some ("some")."""
    k = int(learned[ran].sum())
    return "none" if k == 0 else "all" if k == int(ran.sum()) else "some"


def pooled_sd(diff: np.ndarray, usable: np.ndarray, i: int, window: int) -> tuple[float, int]:
    """The SD of paired differences pooled over the usable LRs within window steps of i that have at least two
    pairs, weighted by their degrees of freedom; (NaN, 0) where none has."""
    total, df = 0.0, 0
    for j in range(max(0, i - window), min(diff.shape[1], i + window + 1)):
        column = diff[~np.isnan(diff[:, j]), j]
        if usable[j] and len(column) >= 2:
            total += (len(column) - 1) * float(column.var(ddof=1))
            df += len(column) - 1
    return (math.sqrt(total / df), df) if df else (math.nan, 0)


def trend_sd(diff: np.ndarray, usable: np.ndarray, i: int, window: int) -> tuple[float, int]:
    """The SD of one seed's gap to the best, from the 2 * window + 1 usable LRs nearest i (i among them where
    usable): the scatter of their gaps on the first seed of the order, one run each, about a straight line in grid
    position, which a smooth accuracy curve follows over a few steps; its curvature only makes the SD larger.
    (NaN, 0) with fewer than MIN_DF + 2 such LRs."""
    have = [j for j in range(diff.shape[1]) if usable[j] and not np.isnan(diff[:, j]).all()]
    nearest = sorted(sorted(have, key=lambda j: (abs(j - i), j))[:2 * window + 1])
    if len(nearest) < MIN_DF + 2:
        return math.nan, 0
    gaps = [float(diff[~np.isnan(diff[:, j]), j][0]) for j in nearest]
    fit = np.polyfit(nearest, gaps, 1)
    residuals = np.asarray(gaps) - np.polyval(fit, nearest)
    df = len(gaps) - 2
    return math.sqrt(float(residuals @ residuals) / df), df


def statuses(r: C.Runs, design: Design, tolerance: float, eliminated: frozenset = frozenset()) -> list[Status]:
    """Every LR's status after a round (r: the runs so far, NaN where not run). eliminated: the positions of LRs
    shown worse in an earlier round, which stay closed (as a race drops a candidate for good)."""
    best = int(np.flatnonzero(r.lrs == C.decide(r, tolerance)["best"])[0])
    seeds = r.ran.sum(axis=0)
    outcomes = [outcome(r.learned[:, i], r.ran[:, i]) for i in range(len(r.lrs))]
    diff = r.valid[:, [best]] - r.valid  # NaN where either lacks the seed
    usable = np.array([o == "all" for o in outcomes])
    epochs = C._median(r.epochs)
    found = []
    for i in range(len(r.lrs)):
        cap = design.max_seeds
        neighbours = [outcomes[j] for j in (i - 1, i + 1) if 0 <= j < len(r.lrs)]
        at_edge = outcomes[i] != "some" and any(o != outcomes[i] for o in neighbours)
        # a seed there costs no more than one of the best LR (runs on the plateau, or stopped early): every seed
        edge_cap = cap if epochs[i] <= epochs[best] else min(design.edge_seeds, cap)
        if seeds[i] >= cap:
            found.append(Status(False, "every seed"))
            continue
        if i in eliminated:
            found.append(Status(False, "worse"))
            continue
        if at_edge and seeds[i] < edge_cap:
            found.append(Status(True, "edge"))
            continue
        if outcomes[i] != "all":
            found.append(Status(False, "plateau" if outcomes[i] == "none" else "seeds split"))
            continue
        if i == best:
            found.append(Status(True, "best"))
            continue
        pairs = diff[~np.isnan(diff[:, i]), i]
        gap = float(pairs.mean())
        sd, df = pooled_sd(diff, usable, i, design.window)
        if df < MIN_DF:  # too few LRs with two seeds near it: the scatter of its neighbours' gaps about their trend
            sd, df = trend_sd(diff, usable, i, design.window)
        bound = gap - stats.t.ppf(WORSE_CONFIDENCE, df) * sd / math.sqrt(len(pairs)) if df else math.nan
        if bound > tolerance:
            found.append(Status(False, "worse", gap, bound, {"sd": sd, "df": df, "pairs": len(pairs)}))
        else:
            found.append(Status(True, "as good", gap, bound, {"sd": sd, "df": df, "pairs": len(pairs)}))
    return found


def seeds_at(full: C.Runs, counts: np.ndarray, order: list[int]) -> C.Runs:
    """The full study's runs as an adaptive study that ran the first counts[i] seeds of order at LR i."""
    position = {seed: k for k, seed in enumerate(order)}
    rank = np.array([position[int(seed)] for seed in full.seeds])
    ran = rank[:, None] < counts[None, :]
    hide = lambda m: np.where(ran, m, np.nan)  # noqa: E731
    return C.Runs(full.lrs, full.seeds, hide(full.valid), hide(full.test), hide(full.epochs), hide(full.to_target),
                  full.learned & ran, ran)


# --- replay: the procedure run on a finished study, each run read instead of trained -----------------------------

EDGES = ("none_up_to", "all_from", "all_up_to", "none_from")


def sequential(observe, n_lrs: int, design: Design, tolerance: float, on_round=None, stop=None) -> list[dict]:
    """The procedure, round by round: observe(counts) returns the runs after a round in which LR i has the first
    counts[i] seeds of the order (trained by `make adaptive`, read from a finished study by the replay);
    on_round(rounds) is told after each round (the runner records it); stop(rounds) ends the study before the next
    round (a budget spent). Per round: the seeds each LR has, and each LR's status."""
    counts = np.full(n_lrs, min(design.first_seeds, design.max_seeds))
    rounds, eliminated = [], frozenset()
    while True:
        found = statuses(observe(counts), design, tolerance, eliminated)
        eliminated |= {i for i, status in enumerate(found) if status.reason == "worse"}
        rounds.append({"counts": counts.copy(), "statuses": found})
        if on_round:
            on_round(rounds)
        more = np.array([s.open for s in found])
        if not more.any() or (stop and stop(rounds)):
            return rounds
        counts = np.minimum(counts + more, design.max_seeds)


def run_rounds(full: C.Runs, order: list[int], design: Design, tolerance: float) -> list[dict]:
    """The rounds the procedure asks for when its runs come out as full's (seeds taken in order)."""
    return sequential(lambda counts: seeds_at(full, counts, order), len(full.lrs), design, tolerance)


def asked_runs(lrs, counts: np.ndarray, order: list[int]) -> list[tuple[float, int]]:
    """The runs a design with counts[i] seeds at LR i asks for, as (lr, seed): the first counts[i] seeds of order."""
    return [(float(lr), int(seed)) for lr, k in zip(lrs, counts) for seed in order[:int(k)]]


def answer(r: C.Runs, tolerance: float, resamples: int) -> dict:
    """What the replay compares: the picks of the conclude rules, the best LR's set over seed resamples and the
    recommended range against it."""
    stable = C.stability(r, tolerance, resamples)  # its "pick" is the rule's pick on all seeds
    picks = {key: pick["pick"] for key, pick in stable.items()}
    best_set = stable["best"]["set"]
    low, high = C.recommended_range(r, best_set, tolerance)
    return {**picks, "best_set": best_set, "recommended_low": low, "recommended_high": high}


def steps_apart(lrs: np.ndarray, a: float | None, b: float | None) -> float:
    """Grid steps between two LRs of the grid (inf where one is None and the other not)."""
    if a is None or b is None:
        return 0.0 if a is b else math.inf
    return abs(int(np.flatnonzero(lrs == a)[0]) - int(np.flatnonzero(lrs == b)[0]))


def agreement(lrs: np.ndarray, adaptive: dict, full: dict) -> dict:
    """Whether the adaptive answer is the full study's: each range within one grid step at each end, the best LR
    among the full study's candidates, the learning edges exact."""
    return {
        "best_range": all(steps_apart(lrs, adaptive[k], full[k]) <= 1 for k in ("range_low", "range_high")),
        "recommended": all(steps_apart(lrs, adaptive[k], full[k]) <= 1
                           for k in ("recommended_low", "recommended_high")),
        "best": adaptive["best"] in full["best_set"],
        "edges": all(adaptive[k] == full[k] for k in EDGES),
    }


CRITERIA = {"best_range": "best range within one grid step at each end",
            "recommended": "recommended range within one grid step at each end",
            "best": "best LR among the full study's candidates", "edges": "learning edges exact"}
ANSWER_KEYS = ("best", "range_low", "range_high", "recommended_low", "recommended_high", *EDGES)


def summarize(replays: list[dict], reference: dict, full: C.Runs, design: Design, resamples: int,
              shown: int) -> dict:
    """The replay's record: the design, the full study's answer, per criterion the share of orders that agree, the
    compute share, and the orders that disagree with both answers and the seeds each LR had (the why)."""
    shares = np.array([r["share"] for r in replays])
    agree = {key: float(np.mean([r["agrees"][key] for r in replays])) for key in CRITERIA}
    every = [all(r["agrees"].values()) for r in replays]
    disagreeing = [r for r, ok in zip(replays, every) if not ok]
    seeds_per_lr = np.array([r["seeds"] for r in replays])
    return {
        "design": {"max_seeds": design.max_seeds, "first_seeds": design.first_seeds,
                   "edge_seeds": design.edge_seeds, "window": design.window},
        "orders": len(replays), "resamples": resamples,
        "full": {**{k: reference[k] for k in ANSWER_KEYS}, "best_set": reference["best_set"],
                 "runs": int(full.ran.sum()), "epochs": float(np.nansum(full.epochs))},
        "criteria": CRITERIA,
        "agreement": {**agree, "all": float(np.mean(every))},
        "epochs_share": {"median": float(np.median(shares)), "mean": float(shares.mean()),
                         "min": float(shares.min()), "max": float(shares.max())},
        "runs_median": float(np.median([r["runs"] for r in replays])),
        "rounds": {"median": float(np.median([r["rounds"] for r in replays])),
                   "max": int(max(r["rounds"] for r in replays))},
        "seeds_median_per_lr": {f"{lr:g}": float(m) for lr, m in zip(full.lrs, np.median(seeds_per_lr, axis=0))},
        "disagreements": len(disagreeing),
        "disagreeing": [{"order": r["order"], "wrong": [k for k, ok in r["agrees"].items() if not ok],
                         "answer": {k: r["answer"][k] for k in ANSWER_KEYS},
                         "seeds": {f"{lr:g}": k for lr, k in zip(full.lrs, r["seeds"]) if k < design.max_seeds}}
                        for r in disagreeing[:shown]],
    }


def describe(summary: dict) -> str:
    """The replay in a few lines, as `make replay` prints it."""
    a, e = summary["agreement"], summary["epochs_share"]
    lines = [f"{summary['orders']} orders of the seeds; the adaptive answer agrees with the full study's in "
             f"{a['all']:.0%} of them, for a median {e['median']:.0%} of its epochs "
             f"(range {e['min']:.0%} to {e['max']:.0%}; {summary['runs_median']:.0f} of {summary['full']['runs']} runs)."]
    lines += [f"  {text}: {a[key]:.0%}" for key, text in summary["criteria"].items()]
    for case in summary["disagreeing"][:5]:
        lines.append(f"  disagrees with seed order {case['order']}: {', '.join(case['wrong'])}")
    return "\n".join(lines)


def worse_rule_check(full: C.Runs, design: Design, tolerance: float) -> dict:
    """The rule "worse" on one seed, checked against all of them: for each seed alone (one run per LR, as round 1
    sees the study), the LRs it closes as worse than the best, and how many of those the full study's seeds put
    within the tolerance of the best (mean paired gap at most the tolerance: a closure the full study contradicts).
    Beside it, the one-seed SD the rule used against the SD of the paired gaps over every seed, per closed LR."""
    closed, contradicted, ratios = 0, [], []
    gaps_all = full.valid[:, [int(np.flatnonzero(full.lrs == C.decide(full, tolerance)["best"])[0])]] - full.valid
    for row in range(len(full.seeds)):
        counts = np.ones(len(full.lrs), int)
        one = seeds_at(full, counts, [int(full.seeds[row])] + [int(s) for k, s in enumerate(full.seeds) if k != row])
        for i, status in enumerate(statuses(one, design, tolerance)):
            if status.reason != "worse":
                continue
            closed += 1
            if gaps_all[:, i].mean() <= tolerance:
                contradicted.append({"seed": int(full.seeds[row]), "lr": float(full.lrs[i])})
            spread = float(gaps_all[:, i].std(ddof=1)) if full.ran[:, i].all() else 0.0
            if status.extra.get("sd") and spread > 0:
                ratios.append(status.extra["sd"] / spread)
    return {"closed": closed, "contradicted": contradicted,
            "sd_ratio_median": float(np.median(ratios)) if ratios else None,
            "sd_ratio_below_half": int(sum(r < 0.5 for r in ratios)), "sd_ratios": len(ratios)}


def fingerprint(runs) -> str:
    """Which runs a replay read: a hash of every run's LR, seed, best validation accuracy and epochs (metrics/runs.csv),
    so that the conclude stage shows a replay only beside the runs it was made from."""
    rows = sorted(f"{P.lr_name(float(r.lr))},{int(r.seed)},{float(r.best_valid_acc)!r},{int(r.epochs)}"
                  for r in runs.itertuples())
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16]
