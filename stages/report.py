"""Stage report: REPORT.md, the study's answer in words, numbers and figures, readable offline.

A template over the other stages' files: every number, comparison and verdict in it was computed by the stage that
wrote the file it comes from (conclude: metrics/summary.json and conclusions_per_lr.csv; aggregate:
metrics/sweep.json; score_lr_find: metrics/lr_find/summary.json; split; model_summary). Nothing is decided here;
everything is worded here: each rule's text (RULES, under the name the conclude stage's code gives the rule), the
one-sentence answer, and every sentence of the report.
"""

import json
import math

import pandas as pd

from stages.lib import atomic, inputs, params as P
from stages.lib.cli import clear_errors
from stages.lib.experiment_paths import CONCLUSIONS_PER_LR_CSV, SUMMARY_JSON
from stages.lib.layout import SPLIT_METRICS_FILE
from stages.lib.paths import FIGURE_NAMES, LR_FIND_SUMMARY_JSON, MODEL_SUMMARY_FILE, PLOTS_DIR, REPORT, SWEEP_JSON

ARTICLE_NO_LEARNING_CLAIM = 1e-5  # the article: "below 1e-5, training does not progress at all"

# Each rule of stages/lib/conclusions.py in words, under the name its code and summary.json give it.
RULES = {
    "learned": "A run *left the initial plateau* when its best validation accuracy is above "
               "`analysis.chance_level` (the code and tables call this `learned`; it is not learning: a run stopped "
               "there is barely above guessing). Per LR, the fraction of seeds that left it comes with its exact "
               "(Clopper-Pearson) 95% interval; where seeds split, the accuracy reported is that of the seeds that left "
               "it, beside the fraction, and no interval over all seeds is given.",
    "intervals": "Means over seeds come with Student-t 95% intervals (a percentile bootstrap under-covers with 5 "
                 "values).",
    "best": "*Best LR*: the highest mean best-validation accuracy over seeds (ties: fewer median epochs, then the "
            "smaller LR).",
    "equivalent": "*As good as the best*: every seed left the plateau, and the paired difference (best LR minus this LR, seed "
                  "by seed) is shown to lie within `analysis.tolerance`: its 90% t-interval is inside "
                  "(-tolerance, +tolerance) (TOST, two one-sided tests at 5%). An interval that merely contains 0 is "
                  "not enough: with 5 seeds it does for LRs that are clearly worse.",
    "best_range": "*Best range*: the contiguous LRs around the best LR that are as good as the best. Contiguous "
                  "because a user picks an interval of LRs, and a grid step that is not shown equivalent breaks it.",
    "recommended": "*Recommended range*: the contiguous LRs that are as good as every LR the seeds may call best "
                   "(the best LR's set under 'Stability': which of two tied LRs is called best then does not matter) "
                   "and measurably slower than none of them. Stated: its core, the LRs inside it in at least "
                   "{stable_share:.0%} of seed resamples (the references stay those of all seeds); the range on all "
                   "seeds is given beside it. Its time: the median epochs to early stopping of its runs, which include "
                   "the patience.",
    "slower": "*Measurably slower*: the extra epochs to early stopping against a reference LR, paired by seed, have "
              "a 95% t-interval above 0. Not measurably slower is not 'as fast': with 5 seeds a difference of a few "
              "epochs can hide in the interval.",
    "not_told_apart": "*Cannot tell apart*: every LR is scored on the same validation images and the same seeds, so "
                      "LRs are compared by their paired differences, not by each accuracy's binomial noise; the LRs "
                      "whose 95% t-interval of (best - LR) contains 0 are listed. That is not 'as good': equivalence "
                      "is shown by its own rule.",
    "speed": "*How fast small LRs learn*: 'learns' means reaching `analysis.learned_accuracy` in validation "
             "accuracy. The epochs until a run first does, against the LR, fitted as E = c * LR^b (least squares on "
             "log10 scales) to the runs of the LRs below the best range where every seed got there within early "
             "stopping and the median is at least 8 epochs (whole epochs are too coarse a clock below that); smaller "
             "LRs are predicted by extrapolation with a 95% prediction interval for one run, and `make speed-check` "
             "measures one of them.",
    "cost": "*Cost* of a run: its epochs times one per-epoch time pooled over the whole sweep (total training time / "
            "total epochs). Every LR does the same work per epoch, so cost ranks runs by epochs, independent of the "
            "machine and its load; measured seconds are reported beside it, never used to choose.",
    "tradeoff": "*Trade-off LR*: among the LRs as good as the best, those whose paired saving in epochs to early "
                "stopping against the best LR is significant (95% t-interval above 0); of them the fewest median "
                "epochs (ties: higher mean accuracy, then the smaller LR). If none saves measurably, the trade-off "
                "is the best LR itself.",
    "time_to_target": "*Time to target* (DAWNBench/MLPerf style): epochs until a run's validation accuracy first "
                      "reaches the best mean minus `analysis.tolerance`; a seed that never does counts as infinitely "
                      "slow; the LR with the lowest median (ties: higher mean, smaller LR). In resamples the target "
                      "stays the one of all seeds.",
    "edges": "*Plateau edges (with the sweep's early stopping, `train.patience`)*: going down from the best LR, the "
             "smallest LR down to which every seed leaves the initial plateau at every LR, and the largest LR at and "
             "below which no seed does; the same going up.",
    "edge_without_patience": "*Plateau edge without patience*: the small LRs trained again without early stopping "
                             "until validation accuracy first exceeds the chance level (or a cap); per LR the epochs "
                             "that takes, and a power law E = c * LR^b fitted (least squares on log10 scales) to the "
                             "runs that got there. It says when a run leaves the plateau, not when it learns.",
    "still_improving": "*Still improving when stopped* (the article's section 5-3): over a run's last 10 epochs, the "
                       "least-squares slope of its validation accuracy is above 0 with a one-sided p-value below 0.05; "
                       "reported beside the slope, the best-so-far accuracy's gain over those epochs and the training "
                       "loss's relative change. Descriptive only: no conclusion uses it.",
    "ablation": "*Patience ablation verdict*: does more patience raise the validation accuracy of the LRs below the "
                "best range more than it raises the best LR's (the gain beyond the best LR's, paired by seed)? Pooled: "
                "each seed's gain beyond the best LR's averaged over those LRs, a one-sided t-test over the seeds at "
                "5%; per LR: one-sided t-tests with Holm's correction over the LRs. The verdict comes from the pooled test; "
                "the per-LR tests say where the effect is large enough to show alone. Runs that reach the epoch cap "
                "are censored (their gain is a lower bound).",
    "common_range": "*Range on every draw of the images*: the LRs inside the best range on the study's split and on "
                    "every other split tried (`make experiments`). With 3 seeds per draw, which LRs pass the "
                    "equivalence test is largely luck: an LR that fails on one draw is not shown worse there.",
    "stability": "*Stability*: every pick above is made again on {resamples:,} paired seed resamples (the same draw "
                 "of seeds for every LR, fixed generator) and with each seed left out. A conclusion names one LR only "
                 "when it is picked in at least {stable_share:.0%} of the resamples; otherwise it names the "
                 "candidates with their shares.",
}


def rule_lines(c: dict) -> list[str]:
    return [f"- {text.format(resamples=c['resamples'], stable_share=c['stable_share'])}" for text in RULES.values()]


ANSWER_START, ANSWER_END = "<!-- answer: written by the report stage -->", "<!-- end of answer -->"


def answer_block(c: dict) -> list[str]:
    """The answer a practitioner acts on, at the top of REPORT and README (tests/test_readme_views.py checks that the
    two agree): the recommended range first, then what the best gives, how fast, what is lost below and above, and
    the learning edges, in at most about 80 words."""
    rec, best, edge = c["recommended"], c["best"], c["learning_edge"]
    if c["best_range"]["low_lr"] is None:
        return [ANSWER_START, "**No learning rate left the initial plateau**: every run stayed at or below the chance "
                f"level ({c['chance_level']:g}). Check the settings (patience, max_epochs, split sizes).", ANSWER_END]
    best_lrs = " or ".join(f"{lr:g}" for lr in best["stability"]["set"] if lr is not None)
    if rec["low_lr"] is None:
        head = (f"**Use {best_lrs}**: no LR is both as accurate and not measurably slower against every LR the seeds "
                f"may call best; ≈ {best['epochs_median']:g} epochs incl. {c['patience']} of patience.")
    else:
        span = rec["stated"]
        head = (f"**Use a learning rate {'of ' if span['low_lr'] == span['high_lr'] else 'from '}"
                f"{lr_span(span['low_lr'], span['high_lr'])}**: as accurate as the best, not "
                f"measurably slower; ≈ {rec['epochs_median']:g} epochs incl. {c['patience']} of patience "
                f"({rec['seconds_median']:.0f} s here).")
    others = [f"{lr:g}" for lr in best["stability"]["set"] if lr is not None and lr != best["lr"]]
    lines = [head, "", f"- Best: {pct(best['valid_mean'])} validation, {pct(best['test_mean'])} test at {best['lr']:g}"
             + (f" (tied: {', '.join(others)})." if others else ".")]
    below, above = rec.get("below"), rec.get("above") or {}
    sides = []
    if below:
        sides.append(f"Lower LRs: as accurate down to {below['as_good_down_to']:g}, at {below['extra_epochs']:+.0f} "
                     f"epochs.")
    if above.get("as_good_up_to") is not None:
        sides.append(f"Above {above['as_good_up_to']:g}: not shown as good"
                     + ("." if not above.get("seeds_fail_from") else
                        f"; from {above['seeds_fail_from']:g} every seed fails." if above["failing_learned"].startswith("0/")
                        else f"; from {above['seeds_fail_from']:g} some seeds fail."))
    if sides:
        lines.append("- " + " ".join(sides))
    stopped, fit = edge["with_early_stopping"], edge.get("speed")
    if stopped["none_up_to"] is not None:
        prediction = fit["predictions"][0] if fit else None
        lines.append(f"- At ≤ {stopped['none_up_to']:g}, patience {c['patience']} stops every run on the plateau"
                     + (f"; {100 * fit['level']:g}% would take ≈ {prediction['epochs']:.0f} epochs at "
                        f"{prediction['lr']:g}." if prediction else "."))
    core = rec["core"] if rec["low_lr"] is not None else None
    if rec["low_lr"] is not None and core is None:
        lines.append(f"- {c['seeds']} seeds; no LR is in this range in {c['stable_share']:.0%} of seed resamples.")
    elif rec.get("machines"):
        lines.append(f"- {c['seeds']} seeds, {len(rec['machines']['machines']) + 1} machines; this machine alone: "
                     f"{lr_span(rec['low_lr'], rec['high_lr'])}.")
    elif core and (core["low_lr"], core["high_lr"]) != (rec["low_lr"], rec["high_lr"]):
        lines.append(f"- {c['seeds']} seeds; ends uncertain (all seeds: {rec['low_lr']:g} to {rec['high_lr']:g}).")
    else:
        lines.append(f"- {c['seeds']} seeds; every LR of it is inside in at least {c['stable_share']:.0%} of seed "
                     f"resamples.")
    return [ANSWER_START, *lines, ANSWER_END]


def machines_sentence(rec: dict) -> str:
    """The recommended range on the other machines the study was made on, and what holds on all of them."""
    machines = rec.get("machines")
    if not machines:
        return ""
    parts = "; ".join(
        f"`{name}`: best {' or '.join(f'{lr:g}' for lr in m['best'] if lr is not None)}, range "
        + (f"{m['low_lr']:g} to {m['high_lr']:g}" if m["low_lr"] is not None else "none")
        + (f", core {m['core']['low_lr']:g} to {m['core']['high_lr']:g}" if m["core"] else ", no core")
        + (f"; {m['runs']['identical']} of its {m['runs']['compared']} runs identical to this study's (validation "
           f"and test accuracy, epochs), the others moved by {m['runs']['valid_points_mean']:+.2f} ± "
           f"{m['runs']['valid_points_sd']:.2f} points of validation accuracy and {m['runs']['epochs_mean']:+.1f} ± "
           f"{m['runs']['epochs_sd']:.1f} epochs (here minus there, mean ± SD)" if m.get("runs") else "")
        for name, m in machines["machines"].items())
    common = machines["common"]
    return (f" The same study made on another machine (other instruction set, other last bits; "
            f"`metrics/experiments/`), decided the same way: {parts}. "
            + (f"Stated: the LRs inside the core on every machine, {lr_span(common['low_lr'], common['high_lr'])}."
               if common else "The cores do not overlap: stated is this machine's core."))


def lr_span(low: float, high: float) -> str:
    """A range of LRs as the answer states it; one LR where both ends meet."""
    return f"{low:g}" if low == high else f"{low:g} to {high:g}"


def pct(acc) -> str:
    return "n/a" if acc is None or pd.isna(acc) else f"{100 * acc:.2f}%"


def interval(low, high) -> str:
    """A 95 % interval in percent, or why there is none."""
    if low is None or pd.isna(low):
        return "(one seed: no interval)"
    return f"[{100 * low:.2f}, {100 * high:.2f}]"


def duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{seconds:.1f} s"


def lrs_list(lrs: list[float]) -> str:
    return ", ".join(f"{lr:g}" for lr in lrs) if lrs else "none"


def lr_set(pick: dict) -> str:
    """A pick as the report names it: one LR when stable, else its candidates with their shares."""
    if not pick["leave_one_seed_out"]:
        return f"{_or_none(pick['pick'])} (one seed: its stability cannot be measured)"
    if pick["stable"]:
        return f"{pick['pick']:g} (picked in {pick['bootstrap_share']:.0%} of seed resamples)"
    shares = ", ".join(f"{c['lr']:g} {c['share']:.0%}" for c in pick["candidates"] if c["lr"] is not None)
    return f"unsettled (seed resamples pick {shares})"


def conclusions(c: dict, s: dict) -> list[str]:
    """The conclusions in words, each from metrics/summary.json with its interval and stability."""
    best, rng, trade, to_target, rec = c["best"], c["best_range"], c["tradeoff"], c["time_to_target"], c["recommended"]
    seeds, apart = c["seeds"], c["not_told_apart"]
    if rng["low_lr"] is None:
        return [f"1. **No learning rate left the initial plateau**: every run stayed at or below the chance level "
                f"({c['chance_level']:g}). There is no best range and no trade-off to report: check the settings "
                f"(patience, max_epochs, split sizes)."]
    references = lrs_list(rec["references"])
    if rec["low_lr"] is None:
        lines = [f"1. **No LR is recommended**: none is both as good as and not measurably slower than every LR the "
                 f"seeds may call best ({references})."]
    else:
        shares = ", ".join(f"{x['lr']:g} {x['share']:.0%}" for x in rec["shares"])
        core = rec["core"]
        lines = [
            f"1. **Recommended: LR {lr_span(rec['stated']['low_lr'], rec['stated']['high_lr'])}**, median "
            f"{rec['epochs_median']:g} epochs to early stopping (quartiles {rec['epochs_quartiles'][0]:g} to "
            f"{rec['epochs_quartiles'][1]:g}, {c['patience']} of them the patience; ≈ {duration(rec['seconds_median'])} "
            f"here) over its {rec['runs']} runs, {pct(rec['valid_mean'])} mean validation accuracy, test "
            f"{pct(rec['test_mean'])}. Each of its LRs is as good as every LR the seeds may call best ({references}; "
            f"paired TOST within {100 * c['tolerance']:g} points) and measurably slower than none (paired epochs, "
            f"95%). On all {seeds} seeds the range is {rec['low_lr']:g} to {rec['high_lr']:g} ({rec['lrs']} LRs); "
            + (f"the LRs inside it in at least {c['stable_share']:.0%} of seed resamples, its core, are stated. "
               if core else f"no LR is inside it in {c['stable_share']:.0%} of seed resamples. ")
            + f"Share of resamples inside, per LR: {shares}. Low end {lr_set(rec['ends']['low'])}; high end "
              f"{lr_set(rec['ends']['high'])}." + machines_sentence(rec)]
    lines += [
        f"2. **As good as the best: LR {rng['low_lr']:g} to {rng['high_lr']:g}** ({rng['lrs']} grid LRs), every LR of "
        f"which is shown as good as the best LR within {100 * rng['tolerance']:g} points (paired TOST over {seeds} "
        f"seeds, every seed left the plateau); the lower ones are slower (table below, 'saved'). Low end "
        f"{lr_set(rng['ends']['low'])}; high end {lr_set(rng['ends']['high'])}. Also shown equivalent, outside the "
        f"contiguous range: {lrs_list(rng['equivalent_outside'])}.",
        f"   The most accurate LR is {lr_set(best['stability'])}; at {best['lr']:g}: {pct(best['valid_mean'])} mean "
        f"validation accuracy, 95% t-interval {interval(*best['valid_interval'])}, test {pct(best['test_mean'])} "
        f"{interval(*best['test_interval'])}, {seeds} runs. Every LR is scored on the same {c['images']['valid']:,} "
        f"validation images (one image: {100 / c['images']['valid']:.2f} points), so LRs are compared by paired "
        f"differences, seed by seed. Their 95% interval contains 0 at {len(apart['lrs'])} LRs where every seed left "
        f"the plateau: {lrs_list(apart['lrs'])}; that is not 'as good' (of them not shown equivalent: "
        f"{lrs_list(apart['not_shown_equivalent'])}). The split is one draw (split seed fixed): see 'Another split' "
        f"below.",
    ]
    most = trade["largest_saving"]
    if trade["saves_epochs"]:
        trade = (f"3. **Best accuracy/time trade-off: LR {lr_set(trade['stability'])}**: as good as the best and "
                 f"{trade['saving_mean']:.1f} epochs fewer (paired 95% interval {trade['saving_interval'][0]:.1f} to "
                 f"{trade['saving_interval'][1]:.1f}); median {trade['epochs_median']:g} epochs, ≈ {duration(trade['seconds_median'])}.")
    else:
        trade = (f"3. **No LR is both as accurate as the best and measurably faster**: the recommended range is "
                 f"the trade-off. No LR as good as the best has a paired saving in epochs whose 95% interval lies "
                 f"above 0; the largest mean saving is {most['saving_mean']:+.1f} epochs at {most['lr']:g} (interval "
                 f"{most['saving_interval'][0]:+.1f} to {most['saving_interval'][1]:+.1f}).")
    lines.append(trade)
    if to_target["lr"] is not None:
        lines.append(f"   Time to target (epochs until validation accuracy first reaches {pct(to_target['target_valid_acc'])}, "
                     f"the best mean minus the tolerance): fastest {lr_set(to_target['stability'])}; at {to_target['lr']:g} a "
                     f"median {to_target['epochs_median']:g} epochs"
                     + (f" (95% t-interval of the mean {to_target['epochs_interval'][0]:.1f} to {to_target['epochs_interval'][1]:.1f})."
                        if to_target.get("epochs_interval") else "."))
    lines += edge_lines(c)
    return lines


def edge_lines(c: dict) -> list[str]:
    e = c["learning_edge"]
    p5, free, upper = e["with_early_stopping"], e["without_patience"], e["upper"]
    stopped = "/".join(str(x) for x in p5["stopped_at_epoch"]) or "n/a"
    lines = []
    if p5["none_up_to"] is not None:
        lines.append(
            f"4. **With patience {c['patience']}, runs at LR {p5['none_up_to']:g} and below are stopped on the initial "
            f"plateau**: their validation accuracy never rose above the chance level ({c['chance_level']:g}) before "
            f"early stopping ended them at epoch {stopped} ("
            + (f"every seed leaves the plateau from {p5['all_from']:g} up" if p5["all_from"] is not None
               else "at no LR above it did every seed leave the plateau")
            + f"; edge {lr_set(p5['stability']['none_up_to'])}).")
    else:
        lines.append(f"4. **At every LR below the best at least one seed left the initial plateau** with patience "
                     f"{c['patience']}.")
    fit, check = e.get("speed"), e.get("speed_check")
    if fit:
        level = f"{100 * fit['level']:g}%"
        predicted = "; ".join(f"{p['lr']:g}: {p['epochs']:.0f} [{p['low']:.0f}, {p['high']:.0f}]"
                              + (" (extrapolated)" if p["extrapolated"] else "") for p in fit["predictions"])
        lines.append(
            f"   **How fast small LRs learn** (rule 'speed'): epochs until validation accuracy first reaches {level} "
            f"≈ {fit['c']:.3g} × LR^{fit['exponent_b']:.2f} (exponent 95% interval {fit['exponent_low']:.2f} to "
            f"{fit['exponent_high']:.2f}, R² {fit['r_squared']:.3f}; {fit['runs']} runs at {fit['lrs'][0]:g} to "
            f"{fit['lrs'][-1]:g}). Predicted epochs to {level}, with the 95% prediction interval of one run: "
            f"{predicted}.")
        for row in (check or {}).get("per_lr", []):
            got = ", ".join("not within the cap" if x is None else str(x) for x in row["epochs"])
            verdict = ("inside the prediction interval" if row["inside_prediction_interval"] else
                       "outside the prediction interval" if row["epochs_median"] is not None else
                       "not every seed reached it within the cap")
            lines.append(
                f"   Measured (`make speed-check`, {row['seeds']} seeds at {row['lr']:g} without early stopping, cap "
                f"{row['cap']} epochs): epochs to {level} {got}"
                + (f", median {row['epochs_median']:g}" if row["epochs_median"] is not None else "")
                + f", against {row['predicted']['epochs']:.0f} predicted [{row['predicted']['low']:.0f}, "
                  f"{row['predicted']['high']:.0f}]: {verdict}.")
        if not check:
            lines.append("   Not yet measured: `make speed-check` trains a smaller LR without early stopping until its "
                         "runs reach it.")
    if free:
        rows = free["per_lr"]
        left = "; ".join(f"{row['lr']:g}: {row['left_chance']}/{row['seeds']}"
                         + (f" by epoch {row['epochs_median']:g} (median)" if row["epochs_median"] is not None else "")
                         for row in rows)
        plateau = free["fit"]
        lines.append(
            f"   Without early stopping (`make learning-edge`, cap {free['cap']} epochs, each run stopped as soon as "
            f"it left the plateau), seeds that left the plateau per LR: {left}." + (
                f" Epochs to leave it ≈ {plateau['c']:.3g} × LR^{plateau['exponent_b']:.2f} (exponent 95% interval "
                f"{plateau['exponent_low']:.2f} to {plateau['exponent_high']:.2f}, R² {plateau['r_squared']:.2f}, "
                f"{plateau['runs']} runs)." if plateau else "")
            + (f" So every LR from {free['every_lr_learns_from']:g} leaves the plateau given the epochs: where it "
               f"does not with early stopping, the patience sets the edge, not the LR. Leaving it is not learning: "
               f"those runs were stopped just above the chance level." if free["set_by_patience"] else "")
            + f" The training loss fell at every LR meanwhile (median fall {100 * free['smallest_loss_drop_median']:.1f}% "
              f"or more from the first epoch to the last).")
        twins = free["twins"]
        if twins["all_repeated"]:
            lines.append(f"   All {twins['compared']} of these runs repeated their default-sweep twin number for number "
                         f"over the epochs both ran: until patience would have stopped it, each is its train stage's run.")
        elif twins["compared"]:
            lines.append(
                f"   {twins['repeated']} of {twins['compared']} of these runs repeated their default-sweep twin number "
                f"for number; the largest difference in validation accuracy over the epochs both ran was "
                f"{100 * twins['largest_valid_difference']:.2f} points (runs made on another CPU or PyTorch build "
                f"differ in the last bits of their arithmetic).")
    if upper:
        parts = "; ".join(f"{u['lr']:g}: {u['never_left_chance']} never left the plateau, "
                          f"{u['learned_then_collapsed']} left it then collapsed, {u['stayed_learned']} stayed above it"
                          for u in upper)
        top = (f"{p5['all_up_to']:g} is the largest LR where every seed leaves the plateau "
               f"({lr_set(p5['stability']['all_up_to'])}); above it" if p5["all_up_to"] is not None
               else "at no LR does every seed leave the plateau; where some failed")
        lines.append(f"   At the top, {top}, per LR: {parts}.")
    for name, tool in (("learning-edge", "make learning-edge"), ("speed-check", "make speed-check")):
        if name in c.get("checks_made_under_other_settings", []):
            lines.append(f"   The runs of `{tool}` were made under other settings than this sweep's: not used here.")
    return lines


def stability_table(c: dict) -> list[str]:
    picks = {**{k: c["best"]["stability"] for k in ["best"]},
             "recommended_low": c["recommended"]["ends"]["low"], "recommended_high": c["recommended"]["ends"]["high"],
             "range_low": c["best_range"]["ends"]["low"], "range_high": c["best_range"]["ends"]["high"],
             "tradeoff": c["tradeoff"]["stability"], "fastest_to_target": c["time_to_target"]["stability"],
             **c["learning_edge"]["with_early_stopping"]["stability"]}
    lines = [f"Each pick made again on seed resamples (paired: the same draw of seeds for every LR) and with each "
             f"seed left out. A pick is named alone when at least {c['stable_share']:.0%} of resamples agree.", "",
             "| pick | on all seeds | share of resamples | candidates (share) | one seed left out (each) |",
             "|:---|---:|---:|:---|:---|"]
    for key, label in c["pick_labels"].items():
        p = picks[key]
        cands = ", ".join(f"{x['lr']:g} ({x['share']:.0%})" if x["lr"] is not None else f"none ({x['share']:.0%})"
                          for x in p["candidates"])
        loo = ", ".join("none" if x is None else f"{x:g}" for x in p["leave_one_seed_out"])
        lines.append(f"| {label} | {_or_none(p['pick'])} | {p['bootstrap_share']:.0%}{' ✓' if p['stable'] else ''} "
                     f"| {cands} | {loo} |")
    return lines


def _or_none(lr) -> str:
    return "none" if lr is None else f"{lr:g}"


def split_lines(c: dict) -> list[str]:
    sens = c["split_sensitivity"]
    if not sens["splits"]:
        other = [name for name in c.get("checks_made_under_other_settings", []) if name.startswith("split-")]
        return [f"Not used here: {', '.join(f'`{name}`' for name in other)} were made under other settings than this "
                f"sweep's." if other else
                "Not run: `make experiments` trains the best range and one step either side on other splits."]
    lines = [f"The best range and one grid step either side, 3 training seeds, on other draws of the training and "
             f"validation images (`data.split_seed`; the study's is {sens['default_split_seed']}), each a DVC experiment "
             f"(`make experiments`). Beside each, the study's own split on the same LRs and seeds. With 3 seeds "
             f"these picks are rougher than the study's.", "",
             "| split seed | best LR | best range | trade-off | best LR in the study's range | study's split, same runs: best; range |",
             "|---:|---:|:---|:---|:---:|:---|"]
    for split in sens["splits"].values():
        p, d = split["picks"], split["default_split_same_runs"]
        trade = "the best LR" if not p["tradeoff_saves"] else f"{p['tradeoff']:g}"
        lines.append(f"| {split['split_seed']} | {p['best']:g} | {_or_none(p['range_low'])} to {_or_none(p['range_high'])} "
                     f"| {trade} | {'✓' if split['best_in_study_range'] else '✗'} "
                     f"| {_or_none(d['best']) if d else 'n/a'}; {_or_none(d['range_low']) if d else ''} to "
                     f"{_or_none(d['range_high']) if d else ''} |")
    common = sens.get("common_range")
    lines += ["", (f"In the best range on all {common['draws']} draws (the study's and these): **{common['low_lr']:g} "
                   f"to {common['high_lr']:g}**." if common else
                   "The best ranges of these draws and the study's do not overlap.")
              + " With 3 seeds per draw, which LRs pass the equivalence test is largely luck: an LR outside a draw's "
                "range is not shown worse on that draw's images."]
    return lines


def recommended_cell(row: dict) -> str:
    """✓ where the LR is in the recommended range on all seeds, and the share of seed resamples that put it there."""
    share = row["recommended_share"]
    return f"{'✓ ' if row['recommended'] else ''}{share:.0%}" if share else ""


def lr_table(c: dict) -> list[str]:
    lines = ["| LR | left the plateau [95%] | valid mean [95% t] | of the seeds that left it | test mean | epochs (median) "
             "| saved vs best [95%] | to target (median) | measured (s) | ≈ best (TOST) | in range | slower than a best "
             "| recommended (share of resamples) |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|:---:|:---:|:---:|"]
    for row in c["per_lr"]:
        split = 0 < row["learned"] < row["seeds"]
        learned_only = (f"{pct(row['learned_valid_mean'])} ({row['learned']} runs)" if split else "")
        saved = ("" if row["saving_low"] is None else
                 f"{row['saving_mean']:+.1f} [{row['saving_low']:+.1f}, {row['saving_high']:+.1f}]")
        to_target = "not reached" if row["to_target_median"] is None else f"{row['to_target_median']:g}"
        lines.append(
            f"| {row['lr']:g} | {row['learned']}/{row['seeds']} [{100 * row['learned_low']:.0f}–{100 * row['learned_high']:.0f}%] "
            f"| {pct(row['valid_mean']) + ' (no run: seeds split)' if split else pct(row['valid_mean']) + ' ' + interval(row['valid_low'], row['valid_high'])} "
            f"| {learned_only} | {pct(row['test_mean'])} | {row['epochs_median']:g} | {saved} | {to_target} "
            f"| {_or_na(row['measured_median_s'], '.1f')} | {'✓' if row['equivalent'] else ''} "
            f"| {'✓' if row['in_best_range'] else ''} | {'✓' if row['slower_than_best'] else ''} "
            f"| {recommended_cell(row)} |")
    return lines


def still_improving(c: dict) -> list[str]:
    """The article's section 5-3 asks whether early stopping cuts slow (small-LR) runs off while they still improve:
    per LR that learned, how many seeds were still improving at their last epoch, and by how much."""
    si = c["still_improving"]
    if not si["per_lr"]:
        return ["At no LR did a seed leave the initial plateau: no run to judge."]

    w = si["window"]

    def share(count: dict) -> str:
        return f"{count['improving']} of {count['runs']} runs"

    lines = [
        f"Below the best LR ({si['best_lr']:g}), {share(si['below_best'])} were still improving when early stopping "
        f"ended them; at the best LR and above, {share(si['from_best_up'])} (a run at an LR where some seeds never left the plateau "
        f"counts among the runs). 'Still improving': the rule of that name under 'How each conclusion is chosen'. "
        f"The slope and the gain are in accuracy points (percent) per {w} epochs.",
        "",
        f"| LR | valid mean | epochs (median) | still improving | slope, last {w} epochs (median, points/{w} epochs) "
        f"| best-so-far gain, last {w} epochs (median, points) | training loss change, last {w} epochs (median) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in si["per_lr"]:
        lines.append(
            f"| {row['lr']:g} | {pct(row['valid_mean'])} | {row['epochs_median']:g} | {row['improving']}/{row['seeds']} "
            f"| {_signed(row['slope_last10_median'], scale=1000)} | {_signed(row['best_gain_last10_median'], scale=100)} "
            f"| {_signed(row['loss_change_last10_median'], '%', scale=100)} |"
        )
    return lines


SINGLE_SEED_CONCLUSIONS = {"best": "best LR", "best_range": "best range", "tradeoff": "trade-off LR",
                           "edge_low": "no seed leaves the plateau at and below", "edge_high": "no seed leaves the plateau at and above"}
SINGLE_SEED_WHY = {  # why a conclusion of the single-seed sweep held or moved (earlier_answer.compare's reasons)
    ("best", "in_best_set"): "one of the LRs the study's seeds choose the best from",
    ("best", "in_range"): "in the study's best range, but not among its candidates for the best LR",
    ("best", "outside_range"): "outside the study's best range",
    ("best_range", "same"): "the same LRs",
    ("tradeoff", "same"): "the same LR",
    ("tradeoff", "study_saves_nothing"): "the study finds no LR as good as its best that stops measurably sooner: "
                                         "its trade-off is the best LR",
    ("tradeoff", "in_range"): "the single seed's pick is in the study's best range, but not its fewest epochs",
    ("tradeoff", "outside_range"): "the single seed's pick is outside the study's best range",
    ("edge", "same"): "the same edge",
    ("edge", "band"): "with more seeds, a band of LRs where only some seeds leave the plateau",
    ("edge", "other_lr"): "the edge lies at another LR",
}


def single_seed_answer_text(conclusion: str, value) -> str:
    """One sweep's answer to one conclusion, as the comparison's table shows it."""
    if conclusion == "best":
        return " or ".join(map(_or_none, value)) if isinstance(value, list) else _or_none(value)
    if conclusion == "best_range":
        return f"{_or_none(value['low_lr'])} to {_or_none(value['high_lr'])} ({value['lrs']} LRs)" if value else "none"
    if conclusion == "tradeoff":
        return _or_none(value)
    parts = [f"none at {_or_none(value['none'])}"]  # an edge, from the smaller LR up
    if value["some"]:
        parts.append("some seeds at " + ", ".join(f"{b['lr']:g} ({b['learned']})" for b in value["some"]))
    parts.append(f"all at {_or_none(value['all'])}")
    return ", ".join(parts if conclusion == "edge_low" else parts[::-1])


def single_seed_why(row: dict) -> str:
    if row["conclusion"] == "best_range" and row["why"] == "moved":
        return ", ".join(f"{'lower' if m['end'] == 'low' else 'upper'} end {_or_none(m['single'])} → {_or_none(m['study'])}"
                         for m in row["moved"])
    kind = "edge" if row["conclusion"].startswith("edge") else row["conclusion"]
    return SINGLE_SEED_WHY[(kind, row["why"])]


def against_single_seed(single: dict, seeds: int) -> list[str]:
    """The study's conclusions beside the earlier single-seed sweep's (the conclude stage's comparison)."""
    label = SINGLE_SEED_CONCLUSIONS
    lines = [
        f"The earlier single-seed sweep (`{single['file']}`: each LR trained once, before the study had "
        "seeds; one seed fixed both the split and the training; 2 threads, one run at a time) judged by this study's "
        "rules where one run allows it: one run per LR gives no interval and no equivalence test, so its best range "
        "is the earlier rule's (the contiguous LRs whose accuracy is within the tolerance of the best) and its "
        "trade-off the fewest epochs in that range. Its answer is what this study tests." + (
            "" if single["same_grid"] else f" **This study's LRs are not the single-seed sweep's {single['lrs']}**: an LR that one grid lacks "
            "moves an answer by itself."),
        "",
        f"| conclusion | single seed (1 run per LR) | this study ({seeds} seeds per LR) | |",
        "|:---|:---|:---|:---|",
        *[f"| {label[r['conclusion']]} | {single_seed_answer_text(r['conclusion'], r['single'])} "
          f"| {single_seed_answer_text(r['conclusion'], r['study'])} "
          f"| **{'held' if r['held'] else 'moved'}**: {single_seed_why(r)} |" for r in single["rows"]],
    ]
    return lines + ["", f"Held: {', '.join(label[k] for k in single['held']) or 'none'}. "
                        f"Moved: {', '.join(label[k] for k in single['moved']) or 'none'}."]


def _signed(value: float | None, unit: str = "", scale: float = 1) -> str:
    """A signed number (times scale) with its unit; n/a where there is none (NaN in a table, null in JSON)."""
    return "n/a" if value is None or pd.isna(value) else f"{scale * value:+.2f}{unit}"


def range_test_lines(lr_find: dict, params: dict, anything_learned: bool) -> list[str]:
    """The LR range test against the sweep: one row per rule (the score_lr_find stage's metrics/lr_find/summary.json)."""
    if not anything_learned:
        return ["At no LR of the sweep did a seed leave the initial plateau: there is no best range to judge the range "
                "test's suggestions against."]
    t, per_rule = params["lr_find"], lr_find["rules"]
    seeds, epochs = lr_find["seeds"], lr_find["range_test_epochs_mean"]
    lines = [
        f"One range test per training seed ({seeds} seeds): the sweep's model, initial weights, batch order and batch "
        f"size, AdamW, the LR rising exponentially from {t['start_lr']:g} to {t['end_lr']:g} over {t['steps']} steps "
        f"(one batch each; {epochs:.2f} epochs of the training images on average, against "
        f"{lr_find['sweep_epochs_mean']:,.0f} epochs per seed for the whole sweep); the loss smoothed by a "
        f"bias-corrected running average (β {t['smoothing']:g}); stopped once the smoothed loss exceeded "
        f"{t['divergence']:g}× its lowest value. Every rule reads the same curve, each as its tool does "
        f"(`stages/lib/lr_find.py` cites the definitions). A suggestion is snapped to the sweep's nearest LR; its "
        f"accuracy is what the same seed's sweep run reached at that LR. Decades: log10(suggestion / LR), negative "
        f"below. The best LR's mean is {pct(lr_find['best_valid_mean'])}.",
        "",
        "| rule | suggested LR, median [min – max] | spread across seeds (decades) | in the best range "
        "| to the best LR (median decades) | to the trade-off LR (median decades) | accuracy at the suggestion "
        "(mean; worst seed) | below the best mean | learned | epochs: test + one run (mean) |",
        "|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for rule, r in per_rule.items():
        if not r["suggested"]:
            lines.append(f"| {rule} | no suggestion | | | | | | | | |")
            continue
        lines.append(
            f"| {rule} | {r['suggested_lr_median']:.3g} [{r['suggested_lr_min']:.3g} – {r['suggested_lr_max']:.3g}] "
            f"| {r['spread_decades']:.2f} | {r['in_best_range']}/{r['suggested']} | {_signed(r['decades_to_best_median'])} "
            f"| {_signed(r['decades_to_tradeoff_median'])} | {pct(r['valid_acc_mean'])}; {pct(r['valid_acc_min'])} "
            f"| {_points(r['gap_to_best_mean'])} | {r['learned']}/{r['runs']} | {_or_na(r['total_epochs_mean'], '.1f')} |"
        )
    always, never = lr_find["in_best_range_every_seed"], lr_find["in_best_range_no_seed"]
    lines += [
        "",
        f"In the best range for every seed: {', '.join(always) or 'no rule'}; for no seed: {', '.join(never) or 'no rule'}. "
        f"Per seed and rule: `metrics/lr_find/scores.csv`; the curves: `metrics/lr_find/curves.csv`.",
    ]
    return lines


def patience_ablation(c: dict) -> list[str]:
    """The patience ablation with its reference runs at the best LR (the conclude stage's verdict)."""
    a = c["patience_ablation"]
    if not a:
        other = ", ".join(f"`{name}`" for name in c.get("checks_made_under_other_settings", []))
        return [f"Not used here: {other} were made under other settings than this sweep's (data sizes, batch size, "
                f"loss or precision)." if other else "Not run: `make ablation`."]
    if not a["per_lr"]:
        return [f"None of the runs of {', '.join(f'`{name}`' for name in a['experiments'])} has a twin (the same LR "
                f"and training seed) in this sweep: there is nothing to compare here; their tables are in "
                f"`metrics/patience_ablation/` and `metrics/experiments/`."]
    reference = "best LR" if a["reference_lr"] == c["best"]["lr"] else "an LR the seeds may call best"
    lines = [
        f"The DVC experiments {', '.join(f'`{name}`' for name in a['experiments'])} (`make ablation`, run with the "
        f"study's default settings: "
        f"{', '.join(f'`{setting}`' for setting in a['settings'])}; the reference: runs at the best LR and the top of "
        f"the best range of the study they were made for, with the same patience, seeds and cap, `make experiments`). "
        f"Gains are judged against {a['reference_lr']:g}'s ({reference}). A run's validation gain is exact: "
        f"its own curve cut where patience {c['patience']} would have stopped it (training does not depend on the patience until "
        f"then), so it cannot be negative; the test gain is against the default-sweep twin and can be. A run that hit "
        f"the epoch cap has a gain that is a lower bound ({a['censored_runs']} runs).",
        "",
        "| LR | seeds | valid gain, points [95% t] | test gain, points [95% t] | gain beyond the best LR's [95% t] "
        "| gap to the best closed | epochs (median ratio) | at cap | |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|:---|",
    ]
    for row in a["per_lr"]:
        closed = "" if row["gap_closed"] is None or math.isnan(row["gap_closed"]) else f"{100 * row['gap_closed']:.0f}%"
        note = (f"reference ({reference})" if row["lr"] == a["reference_lr"] else
                "below the best range" if row["below_best_range"] else "")
        lines.append(
            f"| {row['lr']:g} | {row['seeds']} | {100 * row['valid_gain']:+.2f} {_points_interval(row['valid_gain_low'], row['valid_gain_high'])} "
            f"| {100 * row['test_gain']:+.2f} {_points_interval(row['test_gain_low'], row['test_gain_high'])} "
            f"| {_signed_points(row['beyond_best_lr'])} {_points_interval(row['beyond_low'], row['beyond_high'])} "
            f"| {closed} | {row['epochs_ratio']:.1f}x | {row['at_cap']}/{row['seeds']} | {note} |")
    pooled, closed = a["pooled"], a["gap_closed_range"]
    gap = (f", and closes {100 * closed[0]:.0f}–{100 * closed[1]:.0f}% of its gap to the best mean" if closed else "")
    holm = (f"per LR, {len(a['significant_holm_at'])} of {len(a['population'])} are significant on their own after "
            f"Holm's correction ({lrs_list(a['significant_holm_at'])})")
    verdict = {
        "holds at every LR": f"**More patience helps the LRs below the best range more than it helps the best LR "
                             f"(pooled), with a positive mean gain at every one of them{gap}**",
        "holds on the whole": f"**More patience helps the LRs below the best range more than it helps the best LR "
                              f"(pooled), though not at every one of them{gap}**",
        "not shown": "**It is not shown that more patience helps the LRs below the best range more than the best LR**",
        "not tested": "**Not tested**: no ablation LR lies below the best range",
        "no reference": "**Not judged**: there are no reference runs at the best LR with the same patience "
                        "(`make experiments NAMES=patience-20-reference`)",
    }[a["verdict"]]
    capped = a["capped_lrs"]
    lines += ["", f"- {verdict}"
              + (f": pooled over the LRs, the gain beyond the best LR's is {_signed_points(pooled['beyond_mean'])} points "
                 f"{_points_interval(*pooled['beyond_interval'])} per seed (one-sided paired t-test over the "
                 f"{pooled['seeds']} seeds, p = {_or_na(pooled['p_value'], '.3g')}); its mean is positive at "
                 f"{pooled['positive']} of {pooled['lrs']} LRs and at {a['positive_seeds']} of {a['population_seeds']} "
                 f"runs, while {holm}." if pooled else ".")
              + (f" Runs at {lrs_list(capped)} reached the epoch cap: their gains are lower bounds." if capped else ""),
              f"- The population, stated once: the ablation's LRs below the best range, {lrs_list(a['population'])}. "
              f"The pooled test averages each seed's gains over the LRs first, because the LRs share their seeds: "
              f"the seeds are the independent replicates. With {a['population_seeds'] // max(len(a['population']), 1)} "
              f"seeds per LR the per-LR tests have little power, and how many pass measures that power more than the "
              f"effect."]
    return lines


RULE_CHANGES = [
    "*Best range*: was the contiguous LRs whose mean is within the tolerance of the best mean (a point estimate, no "
    "uncertainty); is the contiguous LRs shown as good as the best by a paired equivalence test.",
    "*As good as the best*: was 'the paired 95% interval contains 0' (absence of evidence: it listed 5.012e-06, "
    "0.01 and 0.01259, where seeds never left the plateau); is TOST within the tolerance, every seed off the plateau.",
    "*Trade-off*: was the fewest median epochs in the best range, which always landed on the range's noisy top; is "
    "an LR as good as the best with a significant paired saving in epochs, else the best LR itself.",
    "*Intervals*: were percentile-bootstrap intervals (under-cover with 5 values); are Student-t, and exact "
    "Clopper-Pearson for fractions of seeds. Every pick now comes with its stability over seed resamples.",
    "*Learning edge*: was stated as where 'training does not progress'; is stated at the study's patience, beside "
    "the epochs each small LR needs without early stopping.",
    "*The answer*: was the best range (as good as the best) in one long sentence; is the recommended range, as good "
    "as every LR the seeds may call best and not measurably slower, stated as the LRs inside it in most seed "
    "resamples on every machine the study was made on, in a short block. The best range was silent about time: its "
    "lower LRs are as accurate but take up to twice the epochs.",
    "*Learning*: leaving the initial plateau (above the chance level) was called learning; it is called leaving the "
    "plateau, and 'learns' means reaching a stated accuracy (`analysis.learned_accuracy`), with its own speed law.",
    "*Noise*: gaps between LRs were read against each accuracy's binomial noise; every LR is scored on the same images "
    "and seeds, so they are read as paired differences.",
    "*Patience ablation*: the verdict counted the LRs where the gain beyond the best LR's was significant alone, with "
    "3 seeds each and no correction for the number of LRs; it rests on a pooled paired test, with Holm's correction "
    "for the per-LR tests.",
]


def adaptive_replay(c: dict) -> list[str]:
    """The sequential study of stages/lib/adaptive.py replayed on these runs (make replay): how often its answer is
    this study's, and for what share of its epochs."""
    r = c.get("adaptive_replay")
    if r is None:
        return ["Not run: `make replay`."]
    if not r["of_these_runs"]:
        return ["`metrics/adaptive/replay.json` was made from other runs than these (run `make replay` again)."]
    a, e, d, w = r["agreement"], r["epochs_share"], r["design"], r["worse_rule"]
    full = r["full"]
    lines = [
        f"A sequential design (`stages/lib/adaptive.py`; rules in [docs/adaptive.md](docs/adaptive.md)) trains "
        f"{d['first_seeds']} seed{'s' if d['first_seeds'] > 1 else ''} at every LR, then after each round gives one more "
        f"seed, in the seed order, only to the LRs where a conclusion could still change: the LR called best, LRs not "
        f"shown worse than it by more than the tolerance, and LRs next to a change in leaving the plateau "
        f"({d['edge_seeds']} seeds where their runs are long, every seed where they are short); an LR shown worse "
        f"stays closed. Replayed on this study's {full['runs']} runs for each of the {r['orders']} orders of its "
        f"{d['max_seeds']} seeds (each run read, not trained; its cost the epochs of the runs asked for), its answer "
        f"agrees with this study's in **{a['all']:.0%}** of the orders, for a median **{e['median']:.0%}** of the "
        f"epochs (from {e['min']:.0%} to {e['max']:.0%}; a median {r['runs_median']:.0f} runs, "
        f"{r['rounds']['median']:g} rounds):",
        "",
        *[f"- {text}: {a[key]:.0%}" for key, text in r["criteria"].items()],
        "",
        f"The goal of issue #31, the same answer in at least 90% of the orders for at most 40% of the epochs, is "
        f"{'met' if a['all'] >= 0.9 and e['median'] <= 0.4 else 'not met'}: "
        f"{'the agreement holds, ' if a['all'] >= 0.9 else ''}the compute is {e['median']:.0%}. "
        f"The rule \"worse\" on one seed (round 1 alone), checked against all seeds: it closes {w['closed']} "
        f"(LR, seed) cases, {len(w['contradicted'])} of which the full study puts within the tolerance of the best. "
        f"The one-seed SD it uses is a median {w['sd_ratio_median']:.2f} of the SD of the paired gaps over every seed "
        f"({w['sd_ratio_below_half']} of {w['sd_ratios']} below half): it holds here because the gaps it closes are "
        f"wide, not because the SD is conservative. The seed resamples that name the adaptive answer's candidates for "
        f"the best LR: {r['resamples']} per order."
        + ("" if (c.get("adaptive_study") or {}).get("done") else " No adaptive study has been trained yet: this is a "
                                                                  "replay."),
    ]
    if r["disagreeing"]:
        lines += ["", "Where it disagrees (first cases; `metrics/adaptive/replay.json` has every one):", ""]
        lines += [f"- seed order {case['order']}: {', '.join(r['criteria'][k] for k in case['wrong'])}"
                  for case in r["disagreeing"][:5]]
    return lines


def _lr_or_none(lr) -> str:
    return "none" if lr is None else f"{lr:g}"


def _span(answer: dict, low: str, high: str) -> str:
    return "none" if answer[low] is None or answer[high] is None else lr_span(answer[low], answer[high])


# the rows of the sequential study's answer beside the full study's: label, how to word it, the agreement criterion
ANSWER_ROWS = (
    ("best LR", lambda a: _lr_or_none(a["best"]), "best"),
    ("best range", lambda a: _span(a, "range_low", "range_high"), "best_range"),
    ("recommended range", lambda a: _span(a, "recommended_low", "recommended_high"), "recommended"),
    ("leaving the plateau", lambda a: f"no seed up to {_lr_or_none(a['none_up_to'])}, every seed from "
                                      f"{_lr_or_none(a['all_from'])} up to {_lr_or_none(a['all_up_to'])}, no seed from "
                                      f"{_lr_or_none(a['none_from'])}", "edges"),
)


def adaptive_study(c: dict) -> list[str]:
    """The sequential study trained on this machine (make adaptive): its rounds, cost and answer beside this study's."""
    a = c.get("adaptive_study")
    if a is None:
        return ["Not trained here yet: `make adaptive` (about 40% of the full study's epochs)."]
    if not a["done"]:
        return [f"`make adaptive` stopped after {a['rounds']} rounds; run it again to finish (finished runs are kept)."]
    if a["of_these_runs"] < len(a["runs"]):
        return [f"`metrics/adaptive/study.json` was made from other runs than these ({a['of_these_runs']} of its "
                f"{len(a['runs'])} runs are runs of this study): run `make adaptive` again."]
    full, wall = a["full"], c.get("wall_time")
    order = ", ".join(map(str, a["order"]))
    lines = [
        f"`make adaptive` trained it here, the seeds in the order {order}: **{len(a['runs'])} runs in "
        f"{len(a['rounds'])} rounds, {a['epochs']:,} epochs** ({a['trained']} trained here, {len(a['runs']) - a['trained']} restored), "
        f"**{duration(a['wall_s'])}** of wall clock on this machine"
        + (f", against {duration(wall['busy_s'])} with a run training for the full study's {full['runs']} runs"
           if wall and full else "") + "."
        + (f" It stopped at its budget of {a['budget_epochs']:,} epochs with LRs still open (the last round below): "
           f"its answer is that of the runs so far." if a.get("stopped_by") == "budget" else ""),
    ]
    if full:
        agree = a["agreement"]
        lines[0] += (f" That is **{a['epochs_share']:.0%} of the full study's epochs**; {a['of_these_runs']} of its "
                     f"{len(a['runs'])} runs are this study's runs number for number, and the replay of the same "
                     f"seed order asks for {'the same' if a['replay_same_rounds'] else 'other'} rounds.")
        lines += ["", "| | sequential study | full study | the same? |", "|---|---|---|---|"]
        for label, words, criterion in ANSWER_ROWS:
            verdict = ("yes" if agree[criterion] else "**no**") + {
                "best": f" (the full study's seeds may call best: {lrs_list(full['best_set'])})",
                "edges": " (exactly)"}.get(criterion, " (within one grid step at each end)")
            lines.append(f"| {label} | {words(a['answer'])} | {words(full)} | {verdict} |")
    lines += ["", "Each round: the runs so far, and the LRs still open by reason (each gets one more seed next):", "",
              "| round | runs | epochs | wall clock | still open |", "|---:|---:|---:|---:|---|"]
    for r in a["rounds"]:
        text = "; ".join(f"{reason}: {', '.join(lrs)}" for reason, lrs in r["open"].items()) or "none: it stops"
        lines.append(f"| {r['round']} | {r['runs']} | {r['epochs']:,} | {duration(r['wall_s'])} | {text} |")
    return lines


def _signed_points(value) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:+.2f}"


def _points_interval(low, high) -> str:
    return "(one seed: no interval)" if low is None or pd.isna(low) else f"[{100 * low:+.2f}, {100 * high:+.2f}]"


def _points(gap) -> str:
    return "n/a" if gap is None else f"{100 * gap:.2f} points"


def _or_na(value, spec: str) -> str:
    return "n/a" if value is None or pd.isna(value) else format(value, spec)


def settings(params: dict) -> list[str]:
    d, t, a = params["data"], params["train"], params["analysis"]
    sweep = P.read(params, P.Sweep)
    lrs, seeds = sweep.lrs, sweep.seeds
    loss = ("softmax output into cross-entropy (the original notebook: softmax twice)"
            if params["model"]["double_softmax"] else "cross-entropy on the logits")
    return [
        f"- Data: {d['train_size']:,} training and {d['valid_size']:,} validation images drawn from MNIST's 60,000 "
        f"training images (split seed {d['split_seed']}); test: the full 10,000-image MNIST test set.",
        f"- Sweep: {len(lrs)} fixed learning rates from {min(lrs):g} to {max(lrs):g}, each with {len(seeds)} training "
        f"seeds ({', '.join(map(str, seeds))}): {len(lrs) * len(seeds)} runs. A training seed fixes the initial "
        f"weights and the batch order, the same at every LR, so LRs are compared on the same seeds.",
        f"- AdamW (PyTorch defaults but the LR), batch {t['batch_size']}, no scheduler, no dropout.",
        f"- Early stopping: stop after {t['patience']} epochs without a strictly better validation accuracy "
        f"(cap {t['max_epochs']} epochs); the best-validation weights are restored for the test accuracy.",
        f"- Loss: {loss}; precision {t['precision']}.",
        f"- Analysis: tolerance {a['tolerance']:g}; chance level {a['chance_level']:g}.",
    ]


def machine(facts: dict, wall: dict | None) -> list[str]:
    """The machine and the sweep's time: the aggregate's facts (metrics/sweep.json) and the conclude stage's reading
    of its wall time (summary.json's wall_time)."""
    m, cost, sweep = facts["machine"], facts["cost"], facts["sweep"]
    stops = ", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in sweep["stopped_by"].items())
    lines = [f"- Device: {m['device']}, {m['threads']} threads; CPU: {m['cpu']}; PyTorch {m['torch']}.",
             f"- {sweep['runs']} runs ({stops}), {cost['total_epochs']:,} epochs, {duration(cost['total_train_time_s'])} "
             f"in training loops (validation included): {cost['pooled_sec_per_epoch']:.3f} s per epoch pooled over the "
             f"sweep."]
    if wall:
        lines.append(
            f"- Wall time {duration(wall['busy_s'])} with at least one train stage running "
            f"({duration(cost['total_stage_wall_s'])} inside the train stages, added up over runs that overlapped); "
            f"{cost['mean_startup_s']:.2f} s per stage from process start to data in memory. Runs restored from DVC's "
            f"cache keep the times they were trained in."
        )
        if wall["made_in_parts"]:
            lines.append(f"- The runs were not made in one go: from the first train stage's start to the last one's end "
                         f"{duration(wall['span_s'])} passed, {duration(wall['idle_s'])} of it with "
                         "nothing training (a study run in shares, or runs trained at other times).")
    return lines


def verification(record: dict | None) -> list[str]:
    """make verify's last recorded check (metrics/verify.json, as the conclude stage read it): committed runs trained
    again and compared. Quoted only while those runs are still the study's."""
    if record is None:
        return ["- `make verify` has not recorded a check of these runs (`make verify RECORD=1`)."]
    if not record["of_these_runs"]:
        return [f"- `make verify`'s record ({record['date']}) is of other runs than these: `make verify` "
                f"checks these runs."]
    span = f"{record['runs'][0]['run']} to {record['runs'][-1]['run']}" if record["runs"] else "none"
    threads = ", ".join(map(str, record["threads"]))
    outcome = ("identical bit for bit: every epoch's training loss and validation accuracy and every result"
               if record["all_identical"] else
               "identical; the others differ: " + "; ".join(f"{r['run']}: {r['differences'][0]}"
                                                 for r in record["runs"] if not r["identical"]))
    return [
        f"- `make verify` ({record['date']}): {record['compared']} of these runs, spread over the LR range "
        f"({span}; {record['epochs']:,} epochs), trained again with the code of this commit on {record['cpu']}, "
        f"PyTorch {record['torch']}, {threads} thread(s) per run as each recorded: {record['identical']} of "
        f"{record['compared']} {outcome}.",
        "- Where the train stages' code changes without changing what a run computes, dvc.lock records the new code "
        "with the committed runs (as `dvc commit` does) after such a check, instead of training every run again.",
    ]


def checks_cost(c: dict) -> list[str]:
    """The study's checks committed as data (make learning-edge, make ablation, make experiments): what each cost."""
    if not c.get("checks"):
        return []
    parts = "; ".join(f"`{k['name']}` {k['runs']} runs"
                      + (f" ({k['at_a_time']} at a time)" if k.get("at_a_time", 2) != 2 else "")
                      + f", {k['epochs']:,} epochs, {duration(k['wall_s'])}"
                      for k in c["checks"])
    return [f"- The checks, each on 2 CPU cores with 2 runs at a time unless said, one thread a run: {parts} ({duration(c['checks_wall_s'])} in all, wall time "
            f"from start to tables written, DVC's bookkeeping included)."]


def split_counts(split: dict) -> list[str]:
    lines = ["| split | images | " + " | ".join(str(d) for d in range(10)) + " |",
             "|:---|---:|" + "---:|" * 10]
    for name, info in split.items():
        counts = " | ".join(str(info["class_counts"][str(d)]) for d in range(10))
        lines.append(f"| {name} | {info['size']:,} | {counts} |")
    return lines


def render(params: dict, c: dict, facts: dict, split: dict, model_summary: str, lr_find: dict) -> str:
    """The whole report, from the conclude stage's summary (c), the aggregate's facts of the sweep, the split's class
    counts, the model's summary and the range test's scores: every number in it is one of theirs."""
    figures = [f"![{name[:-4].replace('_', ' ')}]({PLOTS_DIR.as_posix()}/{name})" for name in FIGURE_NAMES]
    parts = [
        "# Which learning rate, once training time counts? (MNIST, small CNN, AdamW)",
        "",
        "_Written by the pipeline's `report` stage from `metrics/summary.json` (the conclude stage) and the "
        "aggregate's tables; `dvc repro` rewrites it. Choices use validation accuracy and epoch counts only; test "
        "accuracy and measured seconds are reported beside them._",
        "",
        *answer_block(c),
        "",
        "## Conclusions",
        "",
        *conclusions(c, facts),
        "",
        "### How stable each pick is",
        "",
        *stability_table(c),
        "",
        "### Another split",
        "",
        *split_lines(c),
        "",
        "### Against the earlier single-seed sweep",
        "",
        *against_single_seed(c["single_seed"], c["seeds"]),
        "",
        "## How each conclusion is chosen",
        "",
        *rule_lines(c),
        "",
        "### What changed in the rules, and why",
        "",
        "The committed study's first answer used earlier rules; a re-analysis showed that they stated some "
        "conclusions more firmly than five seeds support:",
        "",
        *[f"- {change}" for change in RULE_CHANGES],
        "",
        "## Figures",
        "",
        *[line for figure in figures for line in (figure, "")],
        "## Every learning rate",
        "",
        f"Over each LR's {c['seeds']} seeds; accuracies in percent. 'left the plateau': seeds above the chance level with the "
        "exact 95% interval of the fraction; where seeds split, the mean of all seeds describes no run ('no run') and "
        "the seeds that left it are shown apart. 'saved': epochs to early stopping saved against the best LR, paired "
        "by seed, with its 95% t-interval. '≈ best (TOST)': shown as good as the best; 'in range': the best range; "
        "'slower than a best': measurably slower than an LR the seeds may call best; 'recommended': in the recommended "
        "range on all seeds, with the share of seed resamples that put it there. "
        "Every run: `metrics/runs.csv`; this table: `metrics/conclusions_per_lr.csv`.",
        "",
        *lr_table(c),
        "",
        "## Were runs still improving when early stopping ended them? (the article's section 5-3)",
        "",
        *still_improving(c),
        "",
        "### With more patience: the patience ablation",
        "",
        *patience_ablation(c),
        "",
        "## Could fewer runs give the same answer? (a sequential study)",
        "",
        *adaptive_replay(c),
        "",
        "### Trained on this machine",
        "",
        *adaptive_study(c),
        "",
        "## Can a one-minute LR range test predict the sweep?",
        "",
        *range_test_lines(lr_find, params, c["best_range"]["low_lr"] is not None),
        "",
        "## Settings",
        "",
        *settings(params),
        "",
        "## Machine and time",
        "",
        *machine(facts, c["wall_time"]),
        *verification(c["verification"]),
        *checks_cost(c),
        "",
        "## Data: class counts per split",
        "",
        *split_counts(split),
        "",
        "## Model",
        "",
        "```",
        model_summary.rstrip(),
        "```",
        "",
    ]
    return "\n".join(parts)


def main() -> None:
    params = P.load_checked("report", lambda p: p)  # every section checked; the report quotes them
    c = inputs.read_json(SUMMARY_JSON)
    c["per_lr"] = json.loads(inputs.read_csv(CONCLUSIONS_PER_LR_CSV).to_json(orient="records"))  # NaN -> None
    text = render(params, c, inputs.read_json(SWEEP_JSON), inputs.read_json(SPLIT_METRICS_FILE),
                  inputs.read_text(MODEL_SUMMARY_FILE), inputs.read_json(LR_FIND_SUMMARY_JSON))
    atomic.write_text(REPORT, text)
    print(f"report: {REPORT} written")


if __name__ == "__main__":
    with clear_errors("report"):
        main()
