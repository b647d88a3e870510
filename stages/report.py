"""Stage report: REPORT.md, the study's answer in words, numbers and figures, readable offline."""

import json
import math

import pandas as pd

from stages.lib import ablation, analysis, atomic, earlier_answer, params as P
from stages.lib.cli import clear_errors
from stages.lib.layout import SPLIT_METRICS_FILE
from stages.lib.paths import (ABLATION_CURVES_CSV, ABLATION_EXPERIMENT_JSON, ABLATION_RUNS_CSV, CURVES_CSV,
                              FIGURE_NAMES, LR_FIND_SCORES_CSV, LR_FIND_SUMMARY_JSON, MODEL_SUMMARY_FILE, PLOTS_DIR,
                              REPORT, RUNS_CSV, SINGLE_SEED_SWEEP_CSV, SUMMARY_JSON, SWEEP_CSV)

ARTICLE_NO_LEARNING_CLAIM = 1e-5  # the article: "below 1e-5, training does not progress at all"


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


def conclusions(s: dict) -> list[str]:
    best, seeds, conf = s["best"], s["sweep"]["seeds"], f"{100 * s['sweep']['confidence']:g}%"
    best_text = (f"{pct(best['valid_mean'])} mean validation accuracy over {seeds} seeds at LR {best['lr']:g} "
                 f"({conf} interval {interval(best['valid_ci_low'], best['valid_ci_high'])}; test {pct(best['test_mean'])})")
    if not s["anything_learned"]:
        return [f"1. **No learning rate learned anything**: every run stayed at or below the chance level "
                f"({s['learning']['chance_level']:g}); the best was {best_text}. There is no best range and no "
                f"trade-off to report: check the settings (patience, max_epochs, split sizes)."]
    r, t, ttt = s["best_range"], s["tradeoff"], s["time_to_target"]
    span = f"LR {r['low_lr']:g} to {r['high_lr']:g} ({r['lrs']} LRs)" if r["lrs"] > 1 else f"LR {r['low_lr']:g} alone"
    lines = [
        f"1. **Best accuracy: {span}**, the contiguous LRs whose mean validation accuracy is within "
        f"{r['tolerance']:g} of the best mean, {best_text}. Not distinguishable from the best with {seeds} seeds "
        f"(the {conf} t-interval of the paired difference, seed by seed, contains 0): "
        f"{lrs_list(r['indistinguishable_lrs'])}" + (
            "; so few seeds give wide intervals, and an LR whose seeds disagree lands here too." if seeds < 5 else "."),
    ]
    if t["lr"] == best["lr"]:
        tradeoff = (f"the most accurate LR is also the cheapest in the best range: median {t['epochs_median']:g} epochs "
                    f"to early stopping")
    else:
        tradeoff = (f"the lowest median cost in the best range, {t['epochs_median']:g} epochs to early stopping against "
                    f"{best['epochs_median']:g} for the most accurate LR; mean validation accuracy {pct(t['valid_mean'])} "
                    f"{interval(t['valid_ci_low'], t['valid_ci_high'])}, test {pct(t['test_mean'])}")
    lines.append(
        f"2. **Best accuracy/time trade-off: LR {t['lr']:g}**: {tradeoff} (≈ {duration(t['cost_s'])} at the sweep's "
        f"pooled {s['cost']['pooled_sec_per_epoch']:.3f} s per epoch; measured median {duration(t['train_time_median_s'])})."
    )
    if ttt["lr"] is None:
        lines.append(f"   Time to target: no LR's median run reached {pct(ttt['target_valid_acc'])} validation accuracy.")
    else:
        verdict = ("the same LR" if ttt["agrees_with_tradeoff"] else
                   f"**a different LR from the trade-off pick**: reaching the target first and stopping early first "
                   f"are different questions")
        lines.append(
            f"   Time to target (DAWNBench/MLPerf style, epochs until validation accuracy first reaches "
            f"{pct(ttt['target_valid_acc'])}, the best mean minus the tolerance): fastest at LR {ttt['lr']:g}, median "
            f"{ttt['epochs_median']:g} epochs ({ttt['seeds_reached']} seeds reached it): {verdict}."
        )
    lines += learning_lines(s)
    return lines


def learning_lines(s: dict) -> list[str]:
    g = s["learning"]
    chance = f"no seed's best validation accuracy rises above the chance level, {g['chance_level']:g}"
    band = "; ".join(f"{p['lr']:g} ({p['learned']} seeds)" for p in g["partial"])
    if g["none_up_to"] is None:
        head = "3. **No lower threshold in this sweep: at every LR at least one seed learned.**"
    else:
        learns_from = g["all_from"] or math.inf
        claim = (f"consistent with the article's {ARTICLE_NO_LEARNING_CLAIM:g}"
                 if g["none_up_to"] < ARTICLE_NO_LEARNING_CLAIM <= learns_from
                 else f"the article said {ARTICLE_NO_LEARNING_CLAIM:g}")
        head = (f"3. **Training does not progress at LR {g['none_up_to']:g} and below**: at those LRs "
                f"{chance} ({claim}).")
    lines = [head + (f" Every seed learns at every LR from {g['all_from']:g} up to the best LR."
                     if g["all_from"] is not None else "")]
    lines.append(f"   In between, only some seeds learn: {band}." if band else
                 "   There is no band where only some seeds learn: the edge is sharp at this grid's resolution.")
    if g["none_from"] is not None or g["partial_high"]:
        high = "; ".join(f"{p['lr']:g} ({p['learned']})" for p in g["partial_high"])
        lines.append(
            f"   At the other end, "
            + (f"no seed learns at LR {g['none_from']:g} and above" if g["none_from"] is not None
               else "every LR learns at some seed")
            + (f"; only some seeds learn at {high}" if high else "") + "."
        )
    return lines


def lr_table(table: pd.DataFrame, s: dict) -> list[str]:
    lines = ["| LR | valid mean [95% interval] | std | min – max | test mean | learned | epochs (median) "
             "| to target (median) | cost (s) | measured (s) | in range | ≈ best | |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|:---:|:---|"]
    for row in table.itertuples():
        note = ", ".join(analysis.picks(row.lr, s) + (["Pareto"] if row.pareto else []))
        to_target = "not reached" if pd.isna(row.epochs_to_target_median) else f"{row.epochs_to_target_median:g}"
        std = "" if pd.isna(row.valid_std) else f"{100 * row.valid_std:.2f}"
        lines.append(
            f"| {row.lr:g} | {pct(row.valid_mean)} {interval(row.valid_ci_low, row.valid_ci_high)} | {std} "
            f"| {100 * row.valid_min:.2f} – {100 * row.valid_max:.2f} | {pct(row.test_mean)} "
            f"| {analysis.learned_seeds(row)} | {row.epochs_median:g} | {to_target} "
            f"| {row.cost_median_s:.1f} | {row.train_time_median_s:.1f} | {'✓' if row.in_best_range else ''} "
            f"| {'✓' if row.indistinguishable_from_best else ''} | {note} |"
        )
    return lines


def still_improving(table: pd.DataFrame, s: dict) -> list[str]:
    """The article's section 5-3 asks whether early stopping cuts slow (small-LR) runs off while they still improve:
    per LR that learned, how many seeds were still improving at their last epoch, and by how much."""
    learned = table[table["learned_fraction"] > 0]
    if learned.empty:
        return ["No LR learned: no run to judge."]
    best_lr = s["best"]["lr"]
    below, rest = learned[learned["lr"] < best_lr], learned[learned["lr"] >= best_lr]

    def share(rows: pd.DataFrame) -> str:
        improving = round(float((rows["still_improving_fraction"] * rows["seeds"]).sum()))
        return f"{improving} of {int(rows['seeds'].sum())} runs"

    lines = [
        f"Below the best LR ({best_lr:g}), {share(below)} were still improving when early stopping ended them; "
        f"at the best LR and above, {share(rest)} (a run at an LR where some seeds did not learn counts among the "
        f"runs). 'Still improving': the rule above (validation accuracy's slope over the last 10 epochs > 0, "
        f"one-sided p < 0.05). The slope and the gain are in accuracy points (percent) per 10 epochs.",
        "",
        "| LR | valid mean | epochs (median) | still improving | slope, last 10 epochs (median, points/10 epochs) "
        "| best-so-far gain, last 10 epochs (median, points) | training loss change, last 10 epochs (median) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in learned.itertuples():
        lines.append(
            f"| {row.lr:g} | {pct(row.valid_mean)} | {row.epochs_median:g} "
            f"| {round(row.still_improving_fraction * row.seeds)}/{int(row.seeds)} "
            f"| {_signed(1000 * row.slope_last10_median)} | {_signed(100 * row.best_gain_last10_median)} "
            f"| {_signed(100 * row.loss_change_last10_median, '%')} |"
        )
    return lines


def against_single_seed(rows: list[dict], summary: dict, same_grid: bool) -> list[str]:
    """The study's conclusions beside the earlier single-seed sweep's (earlier_answer.compare's rows)."""
    seeds = summary["sweep"]["seeds"]
    lines = [
        f"The earlier single-seed sweep (`{SINGLE_SEED_SWEEP_CSV.as_posix()}`: each LR trained once, before the study had "
        "seeds; one seed fixed both the split and the training; 2 threads, one run at a time) judged by this study's "
        "rules. One run per LR gives no interval: its answer is what this study tests." + (
            "" if same_grid else " **This study's LRs are not the single-seed sweep's 46**: an LR that one grid lacks "
            "moves an answer by itself."),
        "",
        f"| conclusion | single seed (1 run per LR) | this study ({seeds} seeds per LR) | |",
        "|:---|:---|:---|:---|",
        *[f"| {r['conclusion']} | {r['single']} | {r['study']} | **{'held' if r['held'] else 'moved'}**: {r['how']} |"
          for r in rows],
    ]
    held = [r["conclusion"] for r in rows if r["held"]]
    moved = [r["conclusion"] for r in rows if not r["held"]]
    return lines + ["", f"Held: {', '.join(held) or 'none'}. Moved: {', '.join(moved) or 'none'}."]


def _signed(value: float, unit: str = "") -> str:
    return "n/a" if pd.isna(value) else f"{value:+.2f}{unit}"


def range_test(scores: pd.DataFrame, per_rule: dict, params: dict, s: dict) -> list[str]:
    """The LR range test against the sweep: one row per rule."""
    if not s["anything_learned"]:
        return ["No LR of the sweep learned: there is no best range to judge the range test's suggestions against."]
    t = P.lr_find_settings(params)
    seeds = int(scores["seed"].nunique())
    epochs = scores["range_test_epochs"].mean()
    lines = [
        f"One range test per training seed ({seeds} seeds): the sweep's model, initial weights, batch order and batch "
        f"size, AdamW, the LR rising exponentially from {t['start_lr']:g} to {t['end_lr']:g} over {t['steps']} steps "
        f"(one batch each; {epochs:.2f} epochs of the training images on average, against "
        f"{scores['sweep_epochs'].mean():,.0f} epochs per seed for the whole sweep); the loss smoothed by a "
        f"bias-corrected running average (β {t['smoothing']:g}); stopped once the smoothed loss exceeded "
        f"{t['divergence']:g}× its lowest value. Every rule reads the same curve, each as its tool does "
        f"(`stages/lib/range_test.py` cites the definitions). A suggestion is snapped to the sweep's nearest LR; its "
        f"accuracy is what the same seed's sweep run reached at that LR. Decades: log10(suggestion / LR), negative "
        f"below. The best LR's mean is {pct(s['best']['valid_mean'])}.",
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
    always = [rule for rule, r in per_rule.items() if r["suggested"] and r["in_best_range"] == r["seeds"]]
    never = [rule for rule, r in per_rule.items() if not r["in_best_range"]]
    lines += [
        "",
        f"In the best range for every seed: {', '.join(always) or 'no rule'}; for no seed: {', '.join(never) or 'no rule'}. "
        f"Per seed and rule: `metrics/lr_find/scores.csv`; the curves: `metrics/lr_find/curves.csv`.",
    ]
    return lines


def patience_ablation(longer_runs: pd.DataFrame, longer_curves: pd.DataFrame, experiment: dict, runs: pd.DataFrame,
                      curves: pd.DataFrame, s: dict) -> list[str]:
    """The patience ablation (a DVC experiment, `make ablation`) against this sweep's runs, twin by twin."""
    head = (f"The DVC experiment `{experiment['name']}` (`make ablation`: "
            f"{', '.join(f'`{setting}`' for setting in experiment['set'])}) trained {len(longer_runs)} runs again "
            f"with more patience.")
    twins = ablation.with_twins(runs, longer_runs)
    if twins.empty or not s["anything_learned"]:
        return [head + " None of them has a twin (the same LR and training seed) among this sweep's learned runs, so "
                       "there is nothing to compare here; its tables are in `metrics/patience_ablation/`."]
    compared = ablation.compare_runs(runs, curves, twins, longer_curves)
    per_lr = ablation.compare_lrs(compared, s["best"]["valid_mean"])
    patience = "/".join(str(p) for p in sorted(set(runs["patience"]))) if "patience" in runs else "this sweep's"
    longer_patience = "/".join(str(p) for p in sorted(set(longer_runs["patience"]))) if "patience" in longer_runs else "more"
    repeated = int(compared["twin_repeated"].sum())
    lines = [
        head + f" Each is set beside its twin in this sweep, the same LR and training seed at patience {patience}: "
        f"{len(compared)} runs over {len(per_lr)} LRs. {repeated} of {len(compared)} repeated their twin epoch for "
        f"epoch until the twin stopped, so what they add is exactly what the earlier stop left out"
        + ("" if repeated == len(compared) else " (the others were made under other arithmetic, such as another "
                                                 "thread count: read them as other draws)") + ".",
        "",
        f"| LR | seeds | best valid, patience {patience} → {longer_patience} (means) | gain, points [95% interval] "
        f"| share of the gap to the best LR closed | epochs (median) | runs improving after the twin stopped "
        f"| runs at the epoch cap |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in per_lr.itertuples():
        closed = "" if pd.isna(row.gap_closed) else f"{100 * row.gap_closed:.0f}%"
        lines.append(
            f"| {row.lr:g} | {row.seeds} | {pct(row.default_valid_mean)} → {pct(row.longer_valid_mean)} "
            f"| {100 * row.gain_mean:+.2f} {_points_interval(row.gain_ci_low, row.gain_ci_high)} | {closed} "
            f"| {row.default_epochs_median:g} → {row.longer_epochs_median:g} ({row.epochs_ratio_median:.1f}x) "
            f"| {row.improved_after_twin_stopped}/{row.seeds} | {row.at_cap}/{row.seeds} |"
        )
    return lines + [""] + patience_verdict(per_lr, compared, s)


def patience_verdict(per_lr: pd.DataFrame, compared: pd.DataFrame, s: dict) -> list[str]:
    """Whether the article's explanation holds, by the numbers: gains below the best range, and where they stop."""
    gained = per_lr[per_lr["gain_significant"]]
    stops = ablation.gain_stops_at(per_lr)
    default_epochs, longer_epochs = ablation.epochs_total(compared)
    low = s["best_range"]["low_lr"]
    small = per_lr[per_lr["lr"] < low]
    lines = [
        f"- More patience raised the mean best validation accuracy significantly (the paired 95% interval lies above 0) "
        f"at {len(gained)} of {len(per_lr)} LRs" + (f": {lrs_list(gained['lr'].tolist())}" if len(gained) else "") + "; "
        + (f"the gain stops at LR {stops:g}: from there up, no LR gains significantly." if stops is not None
           else "even the largest LR tested still gains."),
        f"- Cost: {longer_epochs:,} epochs against the twins' {default_epochs:,} ({longer_epochs / default_epochs:.1f}x).",
    ]
    capped = int((compared["longer_stopped_by"] == "max_epochs").sum())
    if capped:
        lines.append(f"- {capped} runs reached the experiment's epoch cap: their gain is a lower bound.")
    if small.empty:
        return lines + ["- No LR of the ablation lies below the best range: the explanation is not tested here."]
    smallest = small.iloc[0]
    significant = small[small["gain_significant"]]
    closed = float(small["gap_closed"].mean())
    lines.append(
        f"- Below the best range (LRs under {low:g}): at LR {smallest['lr']:g}, the smallest, more patience gains "
        f"{100 * smallest['gain_mean']:+.2f} points, closing {100 * smallest['gap_closed']:.0f}% of its gap to the best "
        f"LR's mean, for {smallest['epochs_ratio_median']:.1f}x the epochs; over the {len(small)} LR"
        f"{'s' if len(small) > 1 else ''} below the range it closes {100 * closed:.0f}% of the gap on average."
    )
    if len(significant) == len(small) and closed >= 0.5:
        verdict = ("**The article's explanation holds** below the best range: early stopping cut those runs off while "
                   "they still improved, and more patience recovers most of their gap to the best LR.")
    elif len(significant):
        verdict = ("**The article's explanation holds only in part**: early stopping did cut small-LR runs off while "
                   f"they still improved (significant gains at {len(significant)} of {len(small)} LRs below the best "
                   f"range), but more patience recovers {100 * closed:.0f}% of their gap on average, not all of it.")
    else:
        verdict = ("**The article's explanation does not hold**: more patience does not raise the accuracy of the LRs "
                   "below the best range significantly.")
    rule = ("(The rule: the explanation holds when every ablation LR below the best range gains significantly and the "
            "gains close at least half of their gap to the best LR's mean on average; in part when some of them gain "
            "significantly; not at all when none does.)")
    return lines + [f"- {verdict} {rule}"]


def _points_interval(low, high) -> str:
    return "(one seed: no interval)" if pd.isna(low) else f"[{100 * low:+.2f}, {100 * high:+.2f}]"


def _points(gap) -> str:
    return "n/a" if gap is None else f"{100 * gap:.2f} points"


def _or_na(value, spec: str) -> str:
    return "n/a" if value is None or pd.isna(value) else format(value, spec)


def settings(params: dict) -> list[str]:
    d, t, a = params["data"], params["train"], params["analysis"]
    lrs, seeds = P.sweep_lrs(params), P.training_seeds(params)
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


def machine(s: dict) -> list[str]:
    m, c, sw = s["machine"], s["cost"], s["sweep"]
    stops = ", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in sw["stopped_by"].items())
    lines = [f"- Device: {m['device']}, {m['threads']} threads; CPU: {m['cpu']}; PyTorch {m['torch']}.",
             f"- {sw['runs']} runs ({stops}), {c['total_epochs']:,} epochs, {duration(c['total_train_time_s'])} in "
             f"training loops (validation included): {c['pooled_sec_per_epoch']:.3f} s per epoch pooled over the sweep."]
    if "sweep_wall_s" in c:
        busy = c.get("busy_wall_s", c["sweep_wall_s"])
        lines.append(
            f"- Wall time {duration(busy)} with at least one train stage running ({duration(c['total_stage_wall_s'])} "
            f"inside the train stages, added up over runs that overlapped); {c['mean_startup_s']:.2f} s per stage "
            f"from process start to data in memory. Runs restored from DVC's cache keep the times they were trained in."
        )
        if c["sweep_wall_s"] > busy + 600:
            lines.append(f"- The runs were not made in one go: from the first train stage's start to the last one's end "
                         f"{duration(c['sweep_wall_s'])} passed, {duration(c['sweep_wall_s'] - busy)} of it with "
                         "nothing training (a study run in shares, or runs trained at other times).")
    return lines


def split_counts(split: dict) -> list[str]:
    lines = ["| split | images | " + " | ".join(str(d) for d in range(10)) + " |",
             "|:---|---:|" + "---:|" * 10]
    for name, info in split.items():
        counts = " | ".join(str(info["class_counts"][str(d)]) for d in range(10))
        lines.append(f"| {name} | {info['size']:,} | {counts} |")
    return lines


def render(params: dict, summary: dict, table: pd.DataFrame, split: dict, model_summary: str,
           single_seed_lines: list[str], patience_lines: list[str], range_test_lines: list[str]) -> str:
    """The whole report; the two sections built from other stages' tables come in as ready lines."""
    figures = [f"![{name[:-4].replace('_', ' ')}]({PLOTS_DIR.as_posix()}/{name})" for name in FIGURE_NAMES]
    parts = [
        "# Which learning rate, once training time counts? (MNIST, small CNN, AdamW)",
        "",
        "_Written by the pipeline's `report` stage from `metrics/summary.json` and `metrics/sweep.csv`; "
        "`dvc repro` rewrites it. Choices use validation accuracy and epoch counts only; test accuracy and "
        "measured seconds are reported beside them._",
        "",
        "## Conclusions",
        "",
        *conclusions(summary),
        "",
        "### Against the earlier single-seed sweep",
        "",
        *single_seed_lines,
        "",
        "## How each conclusion is chosen",
        "",
        *[f"- {rule}" for rule in analysis.RULES],
        "",
        "## Figures",
        "",
        *[line for figure in figures for line in (figure, "")],
        "## Every learning rate",
        "",
        f"Means, intervals and medians over each LR's {summary['sweep']['seeds']} seeds; accuracies in percent. "
        "'cost' is the median epochs times the pooled seconds per epoch; 'measured' the median measured training "
        "time; 'in range': the best range; '≈ best': statistically indistinguishable from the best LR; 'Pareto': "
        "no other LR has both a higher mean accuracy and a lower median cost. Every run: `metrics/runs.csv`.",
        "",
        *lr_table(table, summary),
        "",
        "## Were runs still improving when early stopping ended them? (the article's section 5-3)",
        "",
        *still_improving(table, summary),
        "",
        "### With more patience: the patience ablation",
        "",
        *patience_lines,
        "",
        "## Can a one-minute LR range test predict the sweep?",
        "",
        *range_test_lines,
        "",
        "## Settings",
        "",
        *settings(params),
        "",
        "## Machine and time",
        "",
        *machine(summary),
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


def checked(params: dict) -> dict:
    """params.yaml, after checking the values the report quotes."""
    P.sweep_lrs(params)
    P.training_seeds(params)
    P.split_sizes(params)
    P.split_seed(params)
    P.lr_find_settings(params)
    P.fraction(params, "analysis.tolerance")
    P.fraction(params, "analysis.chance_level")
    return params


def main() -> None:
    params = P.load_checked("report", checked)
    summary = json.loads(SUMMARY_JSON.read_text())
    patience_lines = patience_ablation(
        pd.read_csv(ABLATION_RUNS_CSV), pd.read_csv(ABLATION_CURVES_CSV), json.loads(ABLATION_EXPERIMENT_JSON.read_text()),
        pd.read_csv(RUNS_CSV), pd.read_csv(CURVES_CSV), summary)
    single_seed_sweep, table = pd.read_csv(SINGLE_SEED_SWEEP_CSV), pd.read_csv(SWEEP_CSV)
    single_seed = earlier_answer.single_seed_answer(
        single_seed_sweep, P.fraction(params, "analysis.tolerance"), P.fraction(params, "analysis.chance_level"))
    single_seed_lines = against_single_seed(earlier_answer.compare(summary, single_seed), summary,
                                            same_grid=set(single_seed_sweep["lr"]) == set(table["lr"]))
    range_test_lines = range_test(
        pd.read_csv(LR_FIND_SCORES_CSV), json.loads(LR_FIND_SUMMARY_JSON.read_text())["rules"], params, summary)
    text = render(
        params,
        summary,
        table,
        json.loads(SPLIT_METRICS_FILE.read_text()),
        MODEL_SUMMARY_FILE.read_text(),
        single_seed_lines,
        patience_lines,
        range_test_lines,
    )
    atomic.write_text(REPORT, text)
    print(f"report: {REPORT} written")


if __name__ == "__main__":
    with clear_errors("report"):
        main()
