"""Stage plot: the sweep's figures as PNGs in plots/, readable without DVC.

accuracy_vs_lr (every seed, the mean and its 95 % interval), cost_vs_lr (epochs to early stopping and
to the target accuracy, in pooled seconds too), accuracy_vs_cost (the Pareto view on means) and
learning_curves (validation accuracy per epoch, one line per run), lr_find (the LR range test's smoothed
loss per seed, each rule's suggestions, over the sweep's best range).
"""

import json

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import Normalize
from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

from stages.lib import atomic
from stages.lib.cli import clear_errors
from stages.lib.paths import (CURVES_CSV, FIGURE_NAMES, LR_FIND_CURVES_CSV, LR_FIND_SUGGESTIONS_CSV, PLOTS_DIR,
                              RUNS_CSV, SUMMARY_JSON, SWEEP_CSV)

FIGSIZE = (8, 5.5)


def _lr_axis(ax) -> None:
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.grid(True, which="both", alpha=0.3)


def _mark_picks(ax, summary: dict) -> None:
    best, tradeoff = summary["best"], summary["tradeoff"]
    ax.axvline(best["lr"], color="tab:green", ls="--", lw=1, label=f"best LR {best['lr']:g}")
    if tradeoff:
        ax.axvline(tradeoff["lr"], color="tab:red", ls=":", lw=1.5, label=f"trade-off LR {tradeoff['lr']:g}")


def _seeds_label(summary: dict) -> str:
    return f"{summary['sweep']['seeds']} seed{'s' if summary['sweep']['seeds'] > 1 else ''}"


def _shade_best_range(ax, summary: dict, label: str) -> None:
    """The best range as a band; label: its legend text before the range itself."""
    if summary["best_range"]:
        r = summary["best_range"]
        ax.axvspan(r["low_lr"], r["high_lr"], color="tab:green", alpha=0.10,
                   label=f"{label} ({r['low_lr']:g} – {r['high_lr']:g})")


def accuracy_vs_lr(runs: pd.DataFrame, lrs: pd.DataFrame, summary: dict):
    fig, ax = plt.subplots(figsize=FIGSIZE)
    if summary["best_range"]:
        _shade_best_range(ax, summary, f"best range: mean within {summary['best_range']['tolerance']:g} of the best")
    ax.scatter(runs["lr"], runs["best_valid_acc"], s=10, color="tab:blue", alpha=0.35, zorder=3,
               label="validation, each seed")
    ax.fill_between(lrs["lr"], lrs["valid_ci_low"], lrs["valid_ci_high"], color="tab:blue", alpha=0.25, lw=0,
                    label=f"{100 * summary['sweep']['confidence']:g}% interval of the mean (bootstrap)")
    ax.plot(lrs["lr"], lrs["valid_mean"], "o-", ms=3, color="tab:blue", label=f"validation, mean of {_seeds_label(summary)}")
    ax.plot(lrs["lr"], lrs["test_mean"], "s--", ms=2, color="tab:orange", alpha=0.8, label="test, mean")
    chance = summary["learning"]["chance_level"]
    ax.axhline(chance, color="grey", lw=1, label=f"chance level {chance:g}")
    _mark_picks(ax, summary)
    _lr_axis(ax)
    ax.set_ylabel("best validation accuracy")
    ax.set_ylim(0, 1.02)
    ax.set_title("Accuracy by learning rate")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, fontsize=8)
    return fig


def cost_vs_lr(runs: pd.DataFrame, lrs: pd.DataFrame, summary: dict):
    fig, ax = plt.subplots(figsize=FIGSIZE)
    ax.scatter(runs["lr"], runs["epochs"], s=10, color="tab:purple", alpha=0.35, label="epochs to early stopping, each seed")
    ax.plot(lrs["lr"], lrs["epochs_median"], "o-", ms=3, color="tab:purple", label="epochs to early stopping, median")
    if summary["time_to_target"]:
        target = summary["time_to_target"]["target_valid_acc"]
        ax.plot(lrs["lr"], lrs["epochs_to_target_median"], "s--", ms=3, color="tab:brown",
                label=f"epochs to reach {target:.4f} (best mean - tolerance), median; gaps: not reached")
    _mark_picks(ax, summary)
    _lr_axis(ax)
    ax.set_yscale("log")
    ax.set_ylabel("epochs (log scale)")
    pooled = summary["cost"]["pooled_sec_per_epoch"]
    seconds = ax.secondary_yaxis("right", functions=(lambda e: e * pooled, lambda s: s / pooled))
    seconds.set_ylabel(f"cost (s) at the pooled {pooled:.2f} s per epoch")
    for axis in (ax.yaxis, seconds.yaxis):  # plain numbers, not 4x10^0
        axis.set_major_formatter(ScalarFormatter())
    ax.set_title("Cost by learning rate: epochs (every LR does the same work per epoch)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, fontsize=8)
    return fig


def accuracy_vs_cost(lrs: pd.DataFrame, summary: dict):
    fig, ax = plt.subplots(figsize=FIGSIZE)
    learned = lrs[lrs["learned_fraction"] > 0]
    if learned.empty:  # nothing to place on a log-scale cost axis
        ax.text(0.5, 0.5, "No learning rate learned: no accuracy to set against cost", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    ax.errorbar(learned["cost_median_s"], learned["valid_mean"],
                yerr=[learned["valid_mean"] - learned["valid_ci_low"], learned["valid_ci_high"] - learned["valid_mean"]],
                fmt="none", ecolor="grey", alpha=0.5, lw=1, zorder=2)
    points = ax.scatter(learned["cost_median_s"], learned["valid_mean"], c=learned["log10_lr"], cmap="viridis", s=25,
                        zorder=3)
    fig.colorbar(points, ax=ax, label="log10(learning rate)")
    front = learned[learned["pareto"]].sort_values("cost_median_s")
    ax.step(front["cost_median_s"], front["valid_mean"], where="post", color="black", lw=1, label="Pareto front (means)")
    if summary["tradeoff"]:
        pick = summary["tradeoff"]
        ax.scatter([pick["cost_s"]], [pick["valid_mean"]], s=160, facecolors="none", edgecolors="tab:red", lw=2,
                   zorder=4, label=f"trade-off pick: LR {pick['lr']:g}")
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))  # 10, 20, 50, 100 ...
    ax.xaxis.set_major_formatter(ScalarFormatter())  # 100, not 10^2; no crowded minor labels
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("median cost to early stopping (s, log scale; epochs x pooled s/epoch)")
    ax.set_ylabel("mean best validation accuracy")
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title(f"Accuracy against cost, LRs that learned ({_seeds_label(summary)}; bars: interval of the mean)")
    ax.legend(loc="lower right", fontsize=8)
    return fig


def learning_curves(curves: pd.DataFrame):
    fig, ax = plt.subplots(figsize=FIGSIZE)
    norm = Normalize(curves["log10_lr"].min(), curves["log10_lr"].max() + (1e-9 if curves["log10_lr"].nunique() == 1 else 0))
    for _, curve in curves.groupby(["lr", "seed"]):
        ax.plot(curve["epoch"], curve["valid_acc"], color=plt.cm.viridis(norm(curve["log10_lr"].iloc[0])), lw=0.8,
                alpha=0.6)
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap="viridis"), ax=ax, label="log10(learning rate)")
    ax.set_xscale("log")
    ax.set_xlabel("epoch (log scale)")
    ax.set_ylabel("validation accuracy")
    ax.set_ylim(0, 1.02)
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title("Learning curves: validation accuracy per epoch, one line per run")
    return fig


RULE_MARKERS = "ovs^Dp*"


def lr_find(curves: pd.DataFrame, suggestions: pd.DataFrame, summary: dict):
    """The range test's smoothed loss per seed; each rule's suggestion as a marker on its seed's curve."""
    fig, ax = plt.subplots(figsize=FIGSIZE)
    _shade_best_range(ax, summary, "the sweep's best range")
    _mark_picks(ax, summary)
    seeds = sorted(curves["seed"].unique())
    colors = {seed: plt.cm.tab10(i % 10) for i, seed in enumerate(seeds)}
    for seed, curve in curves.groupby("seed"):
        ax.plot(curve["lr"], curve["smoothed_loss"], color=colors[seed], lw=1, alpha=0.8, label=f"seed {seed}")
    rules = list(dict.fromkeys(suggestions["rule"]))
    for i, rule in enumerate(rules):
        marker = RULE_MARKERS[i % len(RULE_MARKERS)]
        given = suggestions[(suggestions["rule"] == rule) & suggestions["suggested_lr"].notna()]
        for row in given.itertuples():
            curve = curves[curves["seed"] == row.seed]
            # the loss at the suggested LR (minimum/10 lies left of its curve's minimum)
            loss = float(np.interp(np.log10(row.suggested_lr), np.log10(curve["lr"]), curve["smoothed_loss"]))
            ax.scatter([row.suggested_lr], [loss], marker=marker, s=45, facecolors="none", edgecolors=colors[row.seed],
                       lw=1.3, zorder=4)
        ax.scatter([], [], marker=marker, s=45, facecolors="none", edgecolors="black", label=f"rule: {rule}")
    _lr_axis(ax)
    low = curves["smoothed_loss"].min()
    ax.set_ylim(low * 0.9, min(curves["smoothed_loss"].max(), 4 * low) * 1.05)
    ax.set_ylabel("training loss (smoothed)")
    ax.set_title("LR range test: loss while the LR rises, and each rule's suggestion")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3, fontsize=8)
    return fig


def save(fig, path) -> None:
    fig.tight_layout()
    with atomic.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


def main() -> None:
    runs, lrs, curves = pd.read_csv(RUNS_CSV), pd.read_csv(SWEEP_CSV), pd.read_csv(CURVES_CSV)
    summary = json.loads(SUMMARY_JSON.read_text())
    range_test, suggestions = pd.read_csv(LR_FIND_CURVES_CSV), pd.read_csv(LR_FIND_SUGGESTIONS_CSV)
    figures = [accuracy_vs_lr(runs, lrs, summary), cost_vs_lr(runs, lrs, summary), accuracy_vs_cost(lrs, summary),
               learning_curves(curves), lr_find(range_test, suggestions, summary)]
    assert len(figures) == len(FIGURE_NAMES)
    for name, fig in zip(FIGURE_NAMES, figures):
        save(fig, PLOTS_DIR / name)
    print(f"plot: {len(figures)} figures in {PLOTS_DIR}/")


if __name__ == "__main__":
    with clear_errors("plot"):
        main()
