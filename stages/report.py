"""Stage report: REPORT.md, the study's answer in words, numbers and figures, readable offline."""

import json
from pathlib import Path

import pandas as pd

from stages.aggregate import SUMMARY_JSON, SWEEP_CSV
from stages.lib import atomic, params as P
from stages.lib.data import SPLIT_METRICS_FILE
from stages.model_summary import SUMMARY_FILE
from stages.plot import FIGURE_NAMES, PLOTS_DIR

REPORT = Path("REPORT.md")
SEED_NO_LEARNING_CLAIM = 1e-5  # the seed: "below 1e-5, training does not progress at all"


def pct(acc: float) -> str:
    return f"{100 * acc:.2f}%"


def duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{seconds:.1f} s"


def conclusions(s: dict) -> list[str]:
    r = s["best_range"]
    span = f"LR {r['low_lr']:g} to {r['high_lr']:g} ({r['runs']} runs)" if r["runs"] > 1 else f"LR {r['low_lr']:g}"
    lines = [
        f"1. **The learning-rate range with the best accuracy is {span}**: every run in it reaches a validation "
        f"accuracy within {s['tolerance']:g} of the best, {pct(s['best_valid_acc'])} at LR {s['best_lr']:g} "
        f"(test accuracy {pct(s['best_test_acc'])}).",
    ]
    speedup = s["best_train_time_s"] / s["tradeoff_train_time_s"] if s["tradeoff_train_time_s"] > 0 else 1
    if s["tradeoff_lr"] == s["best_lr"]:
        lines.append(f"2. **Weighing accuracy against time, the best learning rate is {s['tradeoff_lr']:g}**: the "
                     f"most accurate run is also the fastest within tolerance ({duration(s['tradeoff_train_time_s'])}).")
    else:
        lines.append(
            f"2. **Weighing accuracy against time, the best learning rate is {s['tradeoff_lr']:g}**: the fastest run "
            f"within {s['tolerance']:g} of the best accuracy, {pct(s['tradeoff_valid_acc'])} validation "
            f"({pct(s['tradeoff_test_acc'])} test) in {duration(s['tradeoff_train_time_s'])} of training "
            f"({s['tradeoff_epochs']} epochs), {speedup:.1f}x faster than the most accurate run "
            f"({duration(s['best_train_time_s'])}, {s['best_epochs']} epochs)."
        )
    threshold = s["no_learning_below"]
    chance = f"best validation accuracy at or below {s['chance_level']:g}"
    if threshold is None:
        what = "no learning rate learned anything" if s["learning_lrs"] == 0 else "the smallest learning rate learned"
        lines.append(f"3. **No lower threshold for learning in this sweep: {what}** (chance level: {chance}).")
    else:
        seed = "as the seed says" if threshold == SEED_NO_LEARNING_CLAIM else f"the seed said {SEED_NO_LEARNING_CLAIM:g}"
        lines.append(
            f"3. **Below a learning rate of {threshold:g}, training does not progress** ({seed}): every smaller LR "
            f"ends at chance level ({chance}), stopped by early stopping before it learned anything."
        )
    if s.get("no_learning_above") is not None:
        lines.append(
            f"   At the other end, every LR above {s['no_learning_above']:g} fails too: those runs also stay at "
            f"chance level."
        )
    return lines


def runs_table(table: pd.DataFrame, s: dict) -> list[str]:
    marks = {s["best_lr"]: "best", s["tradeoff_lr"]: "trade-off"}
    if s["best_lr"] == s["tradeoff_lr"]:
        marks[s["best_lr"]] = "best, trade-off"
    lines = ["| LR | valid acc | test acc | train time (s) | epochs | best epoch | s/epoch | stopped by | |",
             "|---:|---:|---:|---:|---:|---:|---:|:---|:---|"]
    for row in table.itertuples():
        note = marks.get(row.lr, "Pareto" if row.pareto else "")
        lines.append(
            f"| {row.lr:g} | {row.best_valid_acc:.4f} | {row.test_acc:.4f} | {row.train_time_s:.1f} | {row.epochs} "
            f"| {row.best_epoch} | {row.sec_per_epoch:.3f} | {row.stopped_by} | {note} |"
        )
    return lines


def settings(params: dict) -> list[str]:
    d, t, a = params["data"], params["train"], params["analysis"]
    lrs = P.sweep_lrs(params)
    return [
        f"- Data: {d['train_size']:,} training and {d['valid_size']:,} validation images drawn from MNIST's 60,000 "
        f"training images (seed {params['seed']}); test: the full 10,000-image MNIST test set.",
        f"- Sweep: {len(lrs)} fixed learning rates from {min(lrs):g} to {max(lrs):g}; AdamW (PyTorch defaults but "
        f"the LR), batch {t['batch_size']}, no scheduler, no dropout.",
        f"- Early stopping: stop after {t['patience']} epochs without a strictly better validation accuracy "
        f"(cap {t['max_epochs']} epochs); the best-validation weights are restored for the test accuracy.",
        f"- Loss: {'softmax output into cross-entropy (the original notebook: softmax twice)' if params['model']['double_softmax'] else 'cross-entropy on the logits'}; "
        f"precision {t['precision']}.",
        f"- Analysis: tolerance {a['tolerance']:g} for 'best accuracy'; chance level {a['chance_level']:g}.",
    ]


def machine(s: dict) -> list[str]:
    lines = [f"- Device: {s['device']}, {s['threads']} threads; CPU: {s.get('cpu', 'unknown')}; "
             f"PyTorch {s.get('torch', 'unknown')}.",
             f"- {s['runs']} runs, {s['total_epochs']:,} epochs, {duration(s['total_train_time_s'])} in training "
             f"loops (including per-epoch validation)."]
    if "sweep_wall_s" in s:
        lines.append(
            f"- Full sweep wall time {duration(s['sweep_wall_s'])} from the first train stage's start to the last "
            f"one's end ({duration(s['total_stage_wall_s'])} inside the train stages, the rest is DVC); "
            f"{s['mean_sec_per_epoch']:.3f} s per epoch on average; {s['mean_startup_s']:.2f} s per stage from process "
            f"start to data in memory."
        )
    return lines


def split_counts(split: dict) -> list[str]:
    lines = ["| split | images | " + " | ".join(str(d) for d in range(10)) + " |",
             "|:---|---:|" + "---:|" * 10]
    for name, info in split.items():
        counts = " | ".join(str(info["class_counts"][str(d)]) for d in range(10))
        lines.append(f"| {name} | {info['size']:,} | {counts} |")
    return lines


def render(params: dict, summary: dict, table: pd.DataFrame, split: dict, model_summary: str) -> str:
    figures = [f"![{name[:-4].replace('_', ' ')}]({PLOTS_DIR.as_posix()}/{name})" for name in FIGURE_NAMES]
    parts = [
        "# Which learning rate, once training time counts? (MNIST, small CNN, AdamW)",
        "",
        "_Written by the pipeline's `report` stage from `metrics/summary.json` and `metrics/sweep.csv`; "
        "`dvc repro` rewrites it. All choices use validation accuracy; test accuracy is reported beside them._",
        "",
        "## Conclusions",
        "",
        *conclusions(summary),
        "",
        "## Figures",
        "",
        *[line for figure in figures for line in (figure, "")],
        "## Every learning rate",
        "",
        f"Validation accuracy is the best epoch's; the trade-off pick is the fastest run within "
        f"{summary['tolerance']:g} of the best; 'Pareto' marks runs that no other run beats on both accuracy "
        f"and time.",
        "",
        *runs_table(table, summary),
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
    P.split_sizes(params)
    return params


def main() -> None:
    params = P.load_checked("report", checked)
    text = render(
        params,
        json.loads(SUMMARY_JSON.read_text()),
        pd.read_csv(SWEEP_CSV),
        json.loads(SPLIT_METRICS_FILE.read_text()),
        Path(SUMMARY_FILE).read_text(),
    )
    atomic.write_text(REPORT, text)
    print(f"report: {REPORT} written")


if __name__ == "__main__":
    main()
