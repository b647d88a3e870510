"""Stage plot: the sweep's figures as PNGs in plots/, readable without DVC.

accuracy_vs_lr, train_time_vs_lr, epochs_vs_lr, accuracy_vs_time (Pareto front, trade-off pick)
and learning_curves (validation accuracy per epoch, one line per LR).
"""

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.colors import Normalize

from stages.aggregate import CURVES_CSV, SUMMARY_JSON, SWEEP_CSV
from stages.lib import atomic

PLOTS_DIR = Path("plots")
FIGSIZE = (8, 5.5)


def _lr_axis(ax) -> None:
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.grid(True, which="both", alpha=0.3)


def _mark_picks(ax, summary: dict) -> None:
    ax.axvline(summary["best_lr"], color="tab:green", ls="--", lw=1, label=f"best LR {summary['best_lr']:g}")
    ax.axvline(summary["tradeoff_lr"], color="tab:red", ls=":", lw=1.5,
               label=f"trade-off LR {summary['tradeoff_lr']:g}")


def accuracy_vs_lr(table: pd.DataFrame, summary: dict):
    fig, ax = plt.subplots(figsize=FIGSIZE)
    low, high = summary["best_range"]["low_lr"], summary["best_range"]["high_lr"]
    ax.axvspan(low, high, color="tab:green", alpha=0.12,
               label=f"within {summary['tolerance']:g} of best ({low:g} – {high:g})")
    ax.plot(table["lr"], table["best_valid_acc"], "o-", ms=4, label="validation (best epoch)")
    ax.plot(table["lr"], table["test_acc"], "s--", ms=3, alpha=0.8, label="test (best-validation weights)")
    ax.axhline(summary["chance_level"], color="grey", lw=1, label=f"chance level {summary['chance_level']:g}")
    _mark_picks(ax, summary)
    _lr_axis(ax)
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    ax.set_title("Accuracy by learning rate")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3, fontsize=8)
    return fig


def train_time_vs_lr(table: pd.DataFrame, summary: dict):
    fig, ax = plt.subplots(figsize=FIGSIZE)
    ax.plot(table["lr"], table["train_time_s"], "o-", ms=4, label="training time (incl. validation)")
    _mark_picks(ax, summary)
    _lr_axis(ax)
    ax.set_yscale("log")
    ax.set_ylabel("training time (s, log scale)")
    ax.set_title(f"Training time by learning rate ({summary['device']}, {summary['threads']} threads)")
    ax.legend(fontsize=8)
    return fig


def epochs_vs_lr(table: pd.DataFrame, summary: dict):
    fig, ax = plt.subplots(figsize=FIGSIZE)
    ax.plot(table["lr"], table["epochs"], "o-", ms=4, label="epochs trained")
    ax.plot(table["lr"], table["best_epoch"], "s--", ms=3, label="epoch of best validation accuracy")
    _mark_picks(ax, summary)
    _lr_axis(ax)
    ax.set_yscale("log")
    ax.set_ylabel("epochs (log scale)")
    ax.set_title("Epochs until early stopping, by learning rate")
    ax.legend(fontsize=8)
    return fig


def accuracy_vs_time(table: pd.DataFrame, summary: dict):
    fig, ax = plt.subplots(figsize=FIGSIZE)
    points = ax.scatter(table["train_time_s"], table["best_valid_acc"], c=table["log10_lr"], cmap="viridis", s=25,
                        zorder=3)
    fig.colorbar(points, ax=ax, label="log10(learning rate)")
    front = table[table["pareto"]].sort_values("train_time_s")
    ax.step(front["train_time_s"], front["best_valid_acc"], where="post", color="black", lw=1, label="Pareto front")
    pick = table[table["lr"] == summary["tradeoff_lr"]].iloc[0]
    ax.scatter([pick["train_time_s"]], [pick["best_valid_acc"]], s=160, facecolors="none", edgecolors="tab:red",
               lw=2, zorder=4, label=f"trade-off pick: LR {summary['tradeoff_lr']:g}")
    ax.set_xscale("log")
    ax.set_xlabel("training time (s, log scale)")
    ax.set_ylabel("best validation accuracy")
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title("Accuracy against training time")
    ax.legend(loc="lower right", fontsize=8)
    return fig


def learning_curves(curves: pd.DataFrame):
    fig, ax = plt.subplots(figsize=FIGSIZE)
    norm = Normalize(curves["log10_lr"].min(), curves["log10_lr"].max())
    for lr, curve in curves.groupby("lr"):
        ax.plot(curve["epoch"], curve["valid_acc"], color=plt.cm.viridis(norm(curve["log10_lr"].iloc[0])), lw=1)
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap="viridis"), ax=ax, label="log10(learning rate)")
    ax.set_xscale("log")
    ax.set_xlabel("epoch (log scale)")
    ax.set_ylabel("validation accuracy")
    ax.set_ylim(0, 1.02)
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title("Learning curves: validation accuracy per epoch, one line per LR")
    return fig


FIGURE_NAMES = ("accuracy_vs_lr.png", "train_time_vs_lr.png", "epochs_vs_lr.png", "accuracy_vs_time.png",
                "learning_curves.png")


def save(fig, path: Path) -> None:
    fig.tight_layout()
    with atomic.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


def main() -> None:
    table = pd.read_csv(SWEEP_CSV)
    curves = pd.read_csv(CURVES_CSV)
    summary = json.loads(SUMMARY_JSON.read_text())
    figures = [
        accuracy_vs_lr(table, summary),
        train_time_vs_lr(table, summary),
        epochs_vs_lr(table, summary),
        accuracy_vs_time(table, summary),
        learning_curves(curves),
    ]
    for name, fig in zip(FIGURE_NAMES, figures):
        save(fig, PLOTS_DIR / name)
    print(f"plot: {len(figures)} figures in {PLOTS_DIR}/")


if __name__ == "__main__":
    main()
