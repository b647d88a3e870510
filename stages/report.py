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
    "learned": "A run *learned* when its best validation accuracy is above `analysis.chance_level`. Per LR, the "
               "fraction of seeds that learned comes with its exact (Clopper-Pearson) 95% interval; where seeds split "
               "between learning and not, the accuracy reported is that of the seeds that learned, beside the fraction.",
    "intervals": "Means over seeds come with Student-t 95% intervals (a percentile bootstrap under-covers with 5 "
                 "values). Accuracies are also read against the binomial noise of the images they are measured on.",
    "best": "*Best LR*: the highest mean best-validation accuracy over seeds (ties: fewer median epochs, then the "
            "smaller LR).",
    "equivalent": "*As good as the best*: every seed learned, and the paired difference (best LR minus this LR, seed "
                  "by seed) is shown to lie within `analysis.tolerance`: its 90% t-interval is inside "
                  "(-tolerance, +tolerance) (TOST, two one-sided tests at 5%). An interval that merely contains 0 is "
                  "not enough: with 5 seeds it does for LRs that are clearly worse.",
    "best_range": "*Best range*: the contiguous LRs around the best LR that are as good as the best. Contiguous "
                  "because a user picks an interval of LRs, and a grid step that is not shown equivalent breaks it.",
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
    "edges": "*Learning edges (with the sweep's early stopping, `train.patience`)*: going down from the best LR, the "
             "smallest LR down to which every seed learns at every LR, and the largest LR at and below which no seed "
             "learns; the same going up.",
    "edge_without_patience": "*Learning edge without patience*: the small LRs trained again without early stopping "
                             "until validation accuracy first exceeds the chance level (or a cap); per LR the epochs "
                             "that takes, and a power law E = c * LR^b fitted (least squares on log10 scales) to the "
                             "runs that got there.",
    "noise": "*Noise of the images*: the binomial standard error sqrt(p(1-p)/n) of the best LR's mean accuracy on the "
             "n validation (and test) images; the LRs whose mean lies within one such error below the best's are "
             "listed: gaps smaller than the images' own sampling error.",
    "still_improving": "*Still improving when stopped* (the article's section 5-3): over a run's last 10 epochs, the "
                       "least-squares slope of its validation accuracy is above 0 with a one-sided p-value below 0.05; "
                       "reported beside the slope, the best-so-far accuracy's gain over those epochs and the training "
                       "loss's relative change. Descriptive only: no conclusion uses it.",
    "ablation": "*Patience ablation verdict*: the article's section 5-3 explanation (early stopping cuts slow LRs off) "
                "holds at an LR below the best range when more patience raises its validation accuracy significantly "
                "more than it raises the best LR's (paired by seed, 95% t-interval of the difference above 0) and its "
                "test accuracy rises too; runs that reach the epoch cap are censored (their gain is a lower bound). "
                "'holds' at every such LR, 'holds in part' at some, 'does not hold' at none.",
    "common_range": "*Range on every draw of the images*: the LRs inside the best range on the study's split and on "
                    "every other split tried (`make experiments`).",
    "stability": "*Stability*: every pick above is made again on {resamples:,} paired seed resamples (the same draw "
                 "of seeds for every LR, fixed generator) and with each seed left out. A conclusion names one LR only "
                 "when it is picked in at least {stable_share:.0%} of the resamples; otherwise it names the "
                 "candidates with their shares.",
}


def rule_lines(c: dict) -> list[str]:
    return [f"- {text.format(resamples=c['resamples'], stable_share=c['stable_share'])}" for text in RULES.values()]


def statement(c: dict) -> str:
    """The one sentence at the top of REPORT, from the conclusions' numbers."""
    r, best, t, edge = c["best_range"], c["best"], c["tradeoff"], c["learning_edge"]
    if r["low_lr"] is None:
        return "No learning rate learned anything: check the settings (patience, max_epochs, split sizes)."
    best_text = (f"{best['lr']:g}" if best["stability"]["stable"] else
                 " or ".join(f"{lr:g}" for lr in best["stability"]["set"]) + " (the seeds decide between them)")
    epochs = best["epochs_median"]
    splits, draws = c["split_sensitivity"], ""
    if splits["splits"]:
        common = splits["common_range"]
        draws = (f"from {common['low_lr']:g} to {common['high_lr']:g} on all {common['draws']} draws of the "
                 f"images tried; " if common else
                 f"on the {len(splits['splits']) + 1} draws of the images tried the ranges do not overlap; ")
    sentence = (f"Use a learning rate from {r['low_lr']:g} to {r['high_lr']:g} (shown as good as the best within "
                f"{100 * r['tolerance']:g} points on {c['seeds']} seeds; {draws}best {best_text}, "
                f"{100 * best['valid_mean']:.2f}% validation): about {epochs:g} epochs, {best['seconds_median']:.0f} s "
                f"here, to early stopping; "
                + ("no LR as good as the best stops measurably sooner, so the trade-off is the best LR itself"
                   if not t["saves_epochs"] else
                   f"LR {t['lr']:g} is as good and saves {t['saving_mean']:.1f} epochs"))
    failing = [row["lr"] for row in c["per_lr"] if row["lr"] > best["lr"] and row["learned"] < row["seeds"]]
    sentence += (f"; above {r['high_lr']:g} accuracy falls, and from {failing[0]:g} up some seeds do not learn at all"
                 if failing else "")
    fit = (edge.get("without_patience") or {}).get("fit")
    stopped = edge["with_early_stopping"]
    if stopped["none_up_to"] is not None and fit:
        sentence += (f"; at {stopped['none_up_to']:g} and below, patience {c['patience']} stops every run on the "
                     f"initial plateau, but given about {fit['c']:.3g} x LR^{fit['exponent_b']:.2f} epochs "
                     f"({fit['c'] * 1e-6 ** fit['exponent_b']:.0f} at 1e-6) they leave it")
    return sentence + "."


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
    best, rng, trade, to_target, noise = c["best"], c["best_range"], c["tradeoff"], c["time_to_target"], c["noise"]
    seeds = c["seeds"]
    if rng["low_lr"] is None:
        return [f"1. **No learning rate learned anything**: every run stayed at or below the chance level "
                f"({c['chance_level']:g}). There is no best range and no trade-off to report: check the settings "
                f"(patience, max_epochs, split sizes)."]
    lines = [
        f"1. **Best accuracy: LR {rng['low_lr']:g} to {rng['high_lr']:g}** ({rng['lrs']} grid LRs), every LR of which is "
        f"shown as good as the best within {100 * rng['tolerance']:g} points (paired TOST over {seeds} seeds, every seed "
        f"learned). Its ends move with the seeds: low end {lr_set(rng['ends']['low'])}; high end "
        f"{lr_set(rng['ends']['high'])}. Also shown equivalent, outside the contiguous range: "
        f"{lrs_list(rng['equivalent_outside'])}.",
        f"   The most accurate LR is {lr_set(best['stability'])}; at {best['lr']:g}: {pct(best['valid_mean'])} mean "
        f"validation accuracy, 95% t-interval {interval(*best['valid_interval'])}, test {pct(best['test_mean'])} "
        f"{interval(*best['test_interval'])}, {seeds} runs. One validation image is 0.02 points; the validation "
        f"set's own binomial standard error at this accuracy is {100 * noise['valid_se']:.2f} points (test: "
        f"{100 * noise['test_se']:.2f}), and {len(noise['lrs_within_one_valid_se_of_best'])} LRs' means lie within "
        f"one such error of the best: {lrs_list(noise['lrs_within_one_valid_se_of_best'])}. The split is one draw "
        f"(split seed fixed): see 'Another split' below.",
    ]
    most = trade["largest_saving"]
    if trade["saves_epochs"]:
        trade = (f"2. **Best accuracy/time trade-off: LR {lr_set(trade['stability'])}**: as good as the best and "
                 f"{trade['saving_mean']:.1f} epochs fewer (paired 95% interval {trade['saving_interval'][0]:.1f} to "
                 f"{trade['saving_interval'][1]:.1f}); median {trade['epochs_median']:g} epochs, ≈ {duration(trade['seconds_median'])}.")
    else:
        trade = (f"2. **No LR is both as accurate as the best and measurably faster: the trade-off is the best LR "
                 f"itself**, median {best['epochs_median']:g} epochs to early stopping, ≈ {duration(best['seconds_median'])} "
                 f"here. No LR as good as the best has a paired saving in epochs whose 95% interval lies above 0; the "
                 f"largest mean saving is {most['saving_mean']:+.1f} epochs at {most['lr']:g} (interval "
                 f"{most['saving_interval'][0]:+.1f} to {most['saving_interval'][1]:+.1f}; table below, 'saved').")
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
            f"3. **With patience {c['patience']}, runs at LR {p5['none_up_to']:g} and below are stopped on the initial plateau**: "
            f"their validation accuracy never rose above the chance level ({c['chance_level']:g}) before early "
            f"stopping ended them at epoch {stopped} ("
            + (f"every seed learns from {p5['all_from']:g} up" if p5["all_from"] is not None
               else "at no LR above it did every seed learn")
            + f"; edge {lr_set(p5['stability']['none_up_to'])}).")
    else:
        lines.append(f"3. **At every LR below the best at least one seed learned** with patience {c['patience']}.")
    if free:
        rows = free["per_lr"]
        left = "; ".join(f"{row['lr']:g}: {row['left_chance']}/{row['seeds']}"
                         + (f" by epoch {row['epochs_median']:g} (median)" if row["epochs_median"] is not None else "")
                         for row in rows)
        fit = free["fit"]
        lines.append(
            f"   Without early stopping (`make learning-edge`, cap {free['cap']} epochs), seeds that left the chance "
            f"level per LR: {left}." + (
                f" Epochs to leave it ≈ {fit['c']:.3g} × LR^{fit['exponent_b']:.2f} (exponent 95% interval "
                f"{fit['exponent_low']:.2f} to {fit['exponent_high']:.2f}, R² {fit['r_squared']:.2f}, {fit['runs']} runs)."
                if fit else "")
            + (f" **Given those epochs, every LR from {free['every_lr_learns_from']:g} learns**: the lower edge of "
               f"'training does not progress' is set by the patience, not by the LR." if free["set_by_patience"] else "")
            + f" The training loss fell at every LR meanwhile (median fall {100 * free['smallest_loss_drop_median']:.1f}% "
              f"or more from the first epoch to the last). So the article's section 5-3 explanation, early stopping "
              f"cutting slow LRs off, is what sets this edge too.")
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
        parts = "; ".join(f"{u['lr']:g}: {u['never_left_chance']} never left chance, {u['learned_then_collapsed']} "
                          f"learned then collapsed, {u['stayed_learned']} stayed learned" for u in upper)
        top = (f"{p5['all_up_to']:g} is the largest LR where every seed learns "
               f"({lr_set(p5['stability']['all_up_to'])}); above it" if p5["all_up_to"] is not None
               else "no LR has every seed learning; where some failed")
        lines.append(f"   At the top, {top}, per LR: {parts}.")
    if "learning-edge" in c.get("checks_made_under_other_settings", []):
        lines.append("   The learning-edge runs (`make learning-edge`) were made under other settings than this sweep's: "
                     "not used here.")
    return lines


def stability_table(c: dict) -> list[str]:
    picks = {**{k: c["best"]["stability"] for k in ["best"]},
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
                   "The best ranges of these draws and the study's do not overlap: the range depends on the data set.")]
    return lines


def lr_table(c: dict) -> list[str]:
    lines = ["| LR | learned [95%] | valid mean [95% t] | of the seeds that learned | test mean | epochs (median) "
             "| saved vs best [95%] | to target (median) | measured (s) | ≈ best (TOST) | in range |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|:---:|"]
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
            f"| {'✓' if row['in_best_range'] else ''} |")
    return lines


def still_improving(c: dict) -> list[str]:
    """The article's section 5-3 asks whether early stopping cuts slow (small-LR) runs off while they still improve:
    per LR that learned, how many seeds were still improving at their last epoch, and by how much."""
    si = c["still_improving"]
    if not si["per_lr"]:
        return ["No LR learned: no run to judge."]

    w = si["window"]

    def share(count: dict) -> str:
        return f"{count['improving']} of {count['runs']} runs"

    lines = [
        f"Below the best LR ({si['best_lr']:g}), {share(si['below_best'])} were still improving when early stopping "
        f"ended them; at the best LR and above, {share(si['from_best_up'])} (a run at an LR where some seeds did not "
        f"learn counts among the runs). 'Still improving': the rule of that name under 'How each conclusion is chosen'. "
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
                           "edge_low": "no learning at and below", "edge_high": "no learning at and above"}
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
    ("edge", "band"): "with more seeds, a band of LRs where only some seeds learn",
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
        return ["No LR of the sweep learned: there is no best range to judge the range test's suggestions against."]
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
    lines = [
        f"The DVC experiments {', '.join(f'`{name}`' for name in a['experiments'])} (`make ablation`, run with the "
        f"study's default settings: "
        f"{', '.join(f'`{setting}`' for setting in a['settings'])}; the reference: the best LR and the top of the "
        f"best range with the same patience, seeds and cap, `make experiments`). A run's validation gain is exact: "
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
        note = ("reference (best LR)" if row["lr"] == a["reference_lr"] else
                "below the best range" if row["below_best_range"] else "")
        lines.append(
            f"| {row['lr']:g} | {row['seeds']} | {100 * row['valid_gain']:+.2f} {_points_interval(row['valid_gain_low'], row['valid_gain_high'])} "
            f"| {100 * row['test_gain']:+.2f} {_points_interval(row['test_gain_low'], row['test_gain_high'])} "
            f"| {_signed_points(row['beyond_best_lr'])} {_points_interval(row['beyond_low'], row['beyond_high'])} "
            f"| {closed} | {row['epochs_ratio']:.1f}x | {row['at_cap']}/{row['seeds']} | {note} |")
    population = lrs_list(a["population"])
    verdict = {"holds": "**holds**", "holds in part": "**holds in part**", "does not hold": "**does not hold**",
               "not tested": "is **not tested** (no ablation LR lies below the best range)",
               "no reference": "is **not judged**: there are no reference runs at the best LR with the same "
                               "patience (`make experiments NAMES=patience-20-reference`)"}[a["verdict"]]
    capped = a["capped_lrs"]
    lines += ["", f"- The population, stated once: the ablation's LRs below the best range, {population}. The "
              f"article's section 5-3 explanation {verdict}: it holds at an LR when more patience raises its validation "
              f"accuracy significantly more than it raises the best LR's (paired by seed) and its test accuracy rises "
              f"too; it holds at {lrs_list(a['holds_at'])}."
              + (f" Runs at {lrs_list(capped)} reached the epoch cap: their gains are lower bounds, so where the "
                 f"explanation is not shown there it may still hold." if capped else ""),
              "- The rule changed: it used to ask for a significant gain at every LR below the range, closing half of "
              "their gap on average, without a reference. Every LR gains something from more patience (the best "
              "LR too), so the gain that speaks for the explanation is the gain beyond the best LR's, and a "
              "validation gain, which cannot be negative, is checked on test accuracy."]
    return lines


RULE_CHANGES = [
    "*Best range*: was the contiguous LRs whose mean is within the tolerance of the best mean (a point estimate, no "
    "uncertainty); is the contiguous LRs shown as good as the best by a paired equivalence test.",
    "*As good as the best*: was 'the paired 95% interval contains 0' (absence of evidence: it listed 5.012e-06, "
    "0.01 and 0.01259, where seeds did not learn); is TOST within the tolerance, every seed learned.",
    "*Trade-off*: was the fewest median epochs in the best range, which always landed on the range's noisy top; is "
    "an LR as good as the best with a significant paired saving in epochs, else the best LR itself.",
    "*Intervals*: were percentile-bootstrap intervals (under-cover with 5 values); are Student-t, and exact "
    "Clopper-Pearson for fractions of seeds. Every pick now comes with its stability over seed resamples.",
    "*Learning edge*: was stated as where 'training does not progress'; is stated at the study's patience, beside "
    "the epochs each small LR needs without early stopping.",
]


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
    parts = "; ".join(f"`{k['name']}` {k['runs']} runs, {k['epochs']:,} epochs, {duration(k['wall_s'])}"
                      for k in c["checks"])
    return [f"- The checks, each on 2 CPU cores with 2 runs at a time: {parts} ({duration(c['checks_wall_s'])} in all, wall time "
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
        f"**In one sentence:** {statement(c)}",
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
        f"Over each LR's {c['seeds']} seeds; accuracies in percent. 'learned': seeds above the chance level with the "
        "exact 95% interval of the fraction; where seeds split, the mean of all seeds describes no run ('no run') and "
        "the seeds that learned are shown apart. 'saved': epochs to early stopping saved against the best LR, paired "
        "by seed, with its 95% t-interval. '≈ best (TOST)': shown as good as the best; 'in range': the best range. "
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
