"""Stage plot: the sweep's figures as PNGs in plots/, readable without DVC.

accuracy_vs_lr (every seed, the mean and its 95 % interval where every seed is on one side of the plateau, the
fraction that left it where seeds split; beside it, zoomed on the LRs as good as the best, where the choice is made),
cost_vs_lr (epochs to early stopping and to the target accuracy, in pooled seconds too), accuracy_vs_cost (the Pareto
view on means, and zoomed), learning_curves (validation accuracy per epoch, a line per run, a
panel per decade of LR), lr_find (the LR range test's smoothed loss per seed, each rule's suggestions, over the
sweep's best range). The recommended range is shaded, each pick is labelled with its LR; seeds that never left the
plateau are drawn hollow or dashed.
"""


import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import Normalize
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter, ScalarFormatter

from stages.lib import atomic, inputs
from stages.lib.cli import clear_errors
from stages.lib.experiment_paths import CONCLUSIONS_PER_LR_CSV, CONCLUSIONS_PER_RUN_CSV, SUMMARY_JSON
from stages.lib.paths import (CURVES_CSV, FIGURE_NAMES, LR_FIND_CURVES_CSV, LR_FIND_SUGGESTIONS_CSV, PLOTS_DIR,
                              RUNS_CSV, SWEEP_JSON)

FIGSIZE = (8, 5.5)
WIDE_FIGSIZE = (13, 5.5)
PICK_STYLE = {"best": ("tab:green", "--"), "best candidate": ("tab:green", "--"), "trade-off": ("tab:red", ":"),
              "trade-off candidate": ("tab:red", ":"), "fastest to target": ("tab:brown", "-."),
              "fastest to target candidate": ("tab:brown", "-.")}


def _lr_axis(ax) -> None:
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.grid(True, which="both", alpha=0.3)


def pick_lrs(pick: dict) -> list[float]:
    """The LRs a pick names in summary.json: its one LR, or the candidates its seeds choose from."""
    stability = pick.get("stability")
    if pick.get("lr") is None:
        return []
    return [lr for lr in stability["set"] if lr is not None] if stability and stability["leave_one_seed_out"] else [pick["lr"]]


def named_picks(summary: dict) -> list[tuple[str, float]]:
    """(label, LR) of the picks summary.json names: the best LR (or each of its candidates, where the seeds can move
    it), the trade-off where one saves epochs (else it is the best LR itself), the fastest to the target; LRs named
    twice get one label ("best, fastest to target")."""
    named = {}
    best, trade, target = summary["best"], summary["tradeoff"], summary["time_to_target"]
    picks = [("best" if best["stability"]["stable"] else "best candidate", best)]
    if trade and trade["saves_epochs"]:
        picks.append(("trade-off" if trade["stability"]["stable"] else "trade-off candidate", trade))
    if target:
        picks.append(("fastest to target" if target["stability"]["stable"] else "fastest to target candidate", target))
    for label, pick in picks:
        for lr in pick_lrs(pick):
            named.setdefault(lr, []).append(label)
    return [(", ".join(labels), lr) for lr, labels in named.items()]


def _mark_picks(ax, summary: dict) -> None:
    """A vertical line per pick, labelled with its LR at the top of the axes (and in the legend)."""
    for i, (label, lr) in enumerate(named_picks(summary)):
        color, style = PICK_STYLE[label.split(", ")[0]]
        ax.axvline(lr, color=color, ls=style, lw=1.5, label=f"{label}: LR {lr:g}")
        ax.annotate(f"{label}\n{lr:g}", xy=(lr, 1), xycoords=("data", "axes fraction"), xytext=(3, -4 - 24 * i),
                    textcoords="offset points", ha="left", va="top", fontsize=7, color=color, gid=PICK_LABEL,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})


PICK_LABEL = "pick label"


def _keep_pick_labels_inside(fig) -> None:
    """A pick's label on the side of its line that has room, once the axes' limits are final: on the right half of
    an axes it goes to the left of the line, so it covers neither the edge nor a second axis's labels."""
    for ax in fig.axes:
        for label in (child for child in ax.texts if child.get_gid() == PICK_LABEL):
            x = ax.transAxes.inverted().transform(ax.transData.transform((label.xy[0], 0)))[0]
            if x > 0.5:
                label.set_horizontalalignment("right")
                label.xyann = (-abs(label.xyann[0]), label.xyann[1])


def _seeds_label(summary: dict) -> str:
    return f"{summary['sweep']['seeds']} seed{'s' if summary['sweep']['seeds'] > 1 else ''}"


def _shade_best_range(ax, summary: dict, label: str) -> None:
    """The best range as a band; label: its legend text before the range itself."""
    if summary["best_range"]:
        r = summary["best_range"]
        ax.axvspan(r["low_lr"], r["high_lr"], color="tab:green", alpha=0.10,
                   label=f"{label} ({r['low_lr']:g} – {r['high_lr']:g})")


ONE_LR_BAND_DECADES = 0.03  # a range of one LR is drawn this wide either side of it (in decades), so that it shows


def _shade_recommended(ax, summary: dict) -> None:
    """The recommended range as the answer states it (the LRs inside it in most seed resamples on every machine) as a
    darker band."""
    advice = summary.get("recommended")
    if advice and advice["low_lr"] is not None:
        low, high = advice["stated"]["low_lr"], advice["stated"]["high_lr"]
        words = f"{low:g}" if low == high else f"{low:g} – {high:g}"
        if low == high:
            low, high = low / 10 ** ONE_LR_BAND_DECADES, high * 10 ** ONE_LR_BAND_DECADES
        ax.axvspan(low, high, color="tab:green", alpha=0.28,
                   label=f"recommended: as good, not measurably slower ({words})")


def _seed_points(ax, runs: pd.DataFrame, column: str, color: str, label: str) -> None:
    """Every run: filled where it left the initial plateau, hollow where it stayed at the chance level."""
    learned = runs["learned"].astype(str) == "True"
    ax.scatter(runs.loc[learned, "lr"], runs.loc[learned, column], s=12, color=color, alpha=0.45, zorder=3,
               label=f"{label}, each seed that left the plateau")
    if (~learned).any():
        ax.scatter(runs.loc[~learned, "lr"], runs.loc[~learned, column], s=16, facecolors="none", edgecolors=color,
                   alpha=0.8, lw=0.8, zorder=3, label=f"{label}, each seed that stayed on it")


def decision_window(lrs: pd.DataFrame, summary: dict) -> pd.DataFrame:
    """The LRs where the choice is made: the best range and one grid step either side (the best LR alone and its
    neighbours when there is no range)."""
    if summary["best_range"]:
        low, high = summary["best_range"]["low_lr"], summary["best_range"]["high_lr"]
    else:
        low = high = summary["best"]["lr"]
    inside = np.flatnonzero(lrs["lr"].between(low, high))
    return lrs.iloc[max(inside.min() - 1, 0):inside.max() + 2]


def _accuracy_panel(ax, runs: pd.DataFrame, lrs: pd.DataFrame, summary: dict, chance_line: bool) -> None:
    """Every seed, and per LR the mean with its t-interval where every seed is on one side of the chance level (the
    band stops at 1). Where seeds split, a mean over two clusters describes no run: the seeds that left the plateau
    get their own mean (a diamond), and the fraction that left it is drawn with its exact interval."""
    if summary["best_range"]:
        _shade_best_range(ax, summary, f"as good as the best (±{summary['best_range']['tolerance']:g})")
    _shade_recommended(ax, summary)
    _seed_points(ax, runs, "best_valid_acc", "tab:blue", "validation")
    split = (lrs["learned"] > 0) & (lrs["learned"] < lrs["seeds"])
    whole = lrs.assign(**{column: lrs[column].where(~split) for column in ("valid_mean", "valid_low", "valid_high")})
    ax.fill_between(whole["lr"], whole["valid_low"], whole["valid_high"].clip(upper=1.0), color="tab:blue", alpha=0.25,
                    lw=0, label=f"{100 * summary['confidence']:g}% t-interval of the mean")
    ax.plot(whole["lr"], whole["valid_mean"], "o-", ms=3, color="tab:blue",
            label=f"validation, mean of {_seeds_label(summary)}")
    ax.plot(lrs["lr"], lrs["test_mean"].where(~split), "s--", ms=2, color="tab:orange", alpha=0.8, label="test, mean")
    if split.any():
        parted = lrs[split]
        ax.scatter(parted["lr"], parted["learned_valid_mean"], marker="D", s=22, color="tab:blue", zorder=4,
                   label="seeds split: mean of those that left the plateau")
        if chance_line:
            ax.errorbar(parted["lr"], parted["learned_fraction"],
                        yerr=[parted["learned_fraction"] - parted["learned_low"],
                              parted["learned_high"] - parted["learned_fraction"]],
                        fmt="^", ms=5, color="tab:red", capsize=2, lw=1, zorder=4,
                        label="seeds split: fraction that left the plateau (exact 95%)")
    _mark_picks(ax, summary)
    _lr_axis(ax)
    if chance_line:
        chance = summary["chance_level"]
        ax.axhline(chance, color="grey", lw=1, label=f"chance level {chance:g}")


def accuracy_vs_lr(runs: pd.DataFrame, lrs: pd.DataFrame, summary: dict):
    """Left: every LR on a 0-1 scale; right: zoomed on the best range and its neighbours, where the choice is made."""
    fig, (whole, zoom) = plt.subplots(1, 2, figsize=WIDE_FIGSIZE, gridspec_kw={"width_ratios": [1, 1]})
    _accuracy_panel(whole, runs, lrs, summary, chance_line=True)
    whole.set_ylabel("best validation accuracy")
    whole.set_ylim(0, 1.25)  # room above 1 for the picks' labels, clear of the accuracies near 1
    whole.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    whole.set_title("Every learning rate")
    window = decision_window(lrs, summary)
    near = runs[runs["lr"].isin(window["lr"])]
    _accuracy_panel(zoom, near, window, summary, chance_line=False)
    # the y range of the LRs inside the best range (a neighbour far below it is cut off: the left panel shows it)
    inside = window[window["lr"].between(summary["best_range"]["low_lr"], summary["best_range"]["high_lr"])] \
        if summary["best_range"] else window
    low = pd.concat([inside["valid_low"], inside["valid_mean"], inside["test_mean"]]).min()
    high = max(near["best_valid_acc"].max(), inside["test_mean"].max())
    span = max(high - low, 0.002)
    zoom.set_ylim(low - 0.15 * span, high + 0.45 * span)  # room at the top for the picks' labels
    zoom.set_xlim(window["lr"].min() / 1.15, window["lr"].max() * 1.15)
    zoom.set_ylabel("best validation accuracy (zoomed)")
    zoom.set_title("Zoomed: the LRs as good as the best, and one either side")
    fig.suptitle(f"Accuracy by learning rate ({_seeds_label(summary)} per LR)")
    zoom.xaxis.set_major_locator(FixedLocator(window["lr"].tolist()[::2]))  # the grid's own LRs, every other one
    zoom.xaxis.set_major_formatter(FuncFormatter(lambda lr, _: f"{lr:g}"))
    zoom.xaxis.set_minor_formatter(NullFormatter())
    zoom.tick_params(axis="x", labelrotation=30, labelsize=8)
    handles, labels = whole.get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.02), ncol=3, fontsize=8)
    return fig


def cost_vs_lr(runs: pd.DataFrame, lrs: pd.DataFrame, summary: dict):
    fig, ax = plt.subplots(figsize=FIGSIZE)
    _shade_recommended(ax, summary)
    _seed_points(ax, runs, "epochs", "tab:purple", "epochs to early stopping")
    ax.plot(lrs["lr"], lrs["epochs_median"], "o-", ms=3, color="tab:purple", label="epochs to early stopping, median")
    if summary["time_to_target"]:
        target = summary["time_to_target"]["target_valid_acc"]
        ax.plot(lrs["lr"], lrs["to_target_median"], "s--", ms=3, color="tab:brown",
                label=f"epochs to reach {target:.4f} (best mean - tolerance), median; no point: not reached")
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


def _cost_panel(ax, shown: pd.DataFrame, summary: dict, norm) -> None:
    """Mean validation accuracy against median cost, an LR a point coloured by its LR; a t-interval where every seed
    left the plateau (a mean over seeds that split describes no run: hollow, no bar); the Pareto front; the
    recommended LRs ringed in green; the picks labelled."""
    every = shown["learned_fraction"] >= 1
    ax.errorbar(shown.loc[every, "cost_median_s"], shown.loc[every, "valid_mean"],
                yerr=[shown.loc[every, "valid_mean"] - shown.loc[every, "valid_low"],
                      shown.loc[every, "valid_high"].clip(upper=1.0) - shown.loc[every, "valid_mean"]],
                fmt="none", ecolor="grey", alpha=0.5, lw=1, zorder=2)
    ax.scatter(shown.loc[every, "cost_median_s"], shown.loc[every, "valid_mean"], c=shown.loc[every, "log10_lr"],
               cmap="viridis", norm=norm, s=25, zorder=3, label="LR where every seed left the plateau")
    if (~every).any():
        ax.scatter(shown.loc[~every, "cost_median_s"], shown.loc[~every, "valid_mean"], s=30, facecolors="none",
                   edgecolors=plt.cm.viridis(norm(shown.loc[~every, "log10_lr"])), lw=1.2, zorder=3,
                   label="LR where seeds split (mean over all: no run's)")
    recommended = shown[shown["recommended"].astype(str) == "True"]
    if len(recommended):
        ax.scatter(recommended["cost_median_s"], recommended["valid_mean"], s=110, facecolors="none",
                   edgecolors="tab:green", lw=1.5, zorder=4, label="recommended range (on all seeds)")
    front = shown[shown["pareto"].astype(str) == "True"].sort_values("cost_median_s")
    ax.step(front["cost_median_s"], front["valid_mean"], where="post", color="black", lw=1, label="Pareto front (means)")
    by_lr = shown.set_index("lr")
    for i, (label, lr) in enumerate(named_picks(summary)):
        if lr not in by_lr.index:
            continue
        # the pick's own row of the table, so the ring sits on its point whatever the axis range
        x, y = by_lr.loc[lr, "cost_median_s"], by_lr.loc[lr, "valid_mean"]
        color = PICK_STYLE[label.split(", ")[0]][0]
        ax.scatter([x], [y], s=200 + 90 * i, facecolors="none", edgecolors=color, lw=2, zorder=4,
                   label=f"{label}: LR {lr:g}")
        # labels stacked in the lower right corner, each with a line to its point: points close together in cost
        # and accuracy (as the tied best LRs are) would otherwise overlap their labels
        ax.annotate(f"{label}: {lr:g}", xy=(x, y), xytext=(0.98, 0.04 + 0.07 * i), textcoords="axes fraction",
                    ha="right", fontsize=7, color=color,
                    arrowprops={"arrowstyle": "-", "color": color, "lw": 0.6, "alpha": 0.6})
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))  # 10, 20, 50, 100 ...
    # 100, not 10^2; and no offset (+1e1) when every LR costs the same, as in a short demo
    ax.xaxis.set_major_formatter(ScalarFormatter(useOffset=False))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("median cost to early stopping (s, log scale; epochs incl. patience x pooled s/epoch)")
    ax.grid(True, which="both", alpha=0.3)


def accuracy_vs_cost(lrs: pd.DataFrame, summary: dict):
    """Left: every LR where a seed left the plateau; right: zoomed on the LRs as good as the best and one either
    side, where the accuracy/time choice is made."""
    fig, (whole, zoom) = plt.subplots(1, 2, figsize=WIDE_FIGSIZE)
    learned = lrs[lrs["learned_fraction"] > 0]
    if learned.empty:  # nothing to place on a log-scale cost axis
        whole.text(0.5, 0.5, "No learning rate left the initial plateau: no accuracy to set against cost",
                   ha="center", va="center", transform=whole.transAxes)
        whole.set_axis_off()
        zoom.set_axis_off()
        return fig
    norm = Normalize(learned["log10_lr"].min(), learned["log10_lr"].max() + (1e-9 if learned["log10_lr"].nunique() == 1 else 0))
    _cost_panel(whole, learned, summary, norm)
    whole.set_ylabel("mean best validation accuracy")
    whole.set_title("Every LR where a seed left the plateau", fontsize=10)
    window = decision_window(lrs, summary)
    window = window[window["learned_fraction"] >= 1]
    if window.empty:  # no LR near the best where every seed left the plateau: nothing to zoom on
        zoom.text(0.5, 0.5, "No LR near the best where every seed left the plateau", ha="center", va="center",
                  transform=zoom.transAxes)
        zoom.set_axis_off()
    else:
        _cost_panel(zoom, window, summary, norm)
    # the y range of what is drawn: intervals where there are (one seed has none), else the means
    shown = pd.concat([window["valid_low"], window["valid_high"].clip(upper=1.0), window["valid_mean"]]).dropna()
    if len(shown):
        span = max(shown.max() - shown.min(), 0.002)
        zoom.set_ylim(shown.min() - 0.1 * span, shown.max() + 0.1 * span)
        zoom.set_xlim(window["cost_median_s"].min() / 1.2, window["cost_median_s"].max() * 1.2)
    zoom.set_ylabel("mean best validation accuracy (zoomed)")
    zoom.set_title("Zoomed: the LRs as good as the best, and one either side (bars: 95% t-interval)", fontsize=10)
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap="viridis"), ax=zoom, label="log10(learning rate)")
    legend = dict(zip(*reversed(zoom.get_legend_handles_labels()))) | dict(zip(*reversed(whole.get_legend_handles_labels())))
    fig.legend(list(legend.values()), list(legend), loc="upper center", bbox_to_anchor=(0.5, 0.02), ncol=3, fontsize=8)
    fig.suptitle(f"Accuracy against cost ({_seeds_label(summary)} per LR)")
    return fig


def learning_curves(curves: pd.DataFrame, summary: dict):
    """One panel per decade of LR (1e-6 to 1e-5, ...), a line per run coloured by its LR in the decade; runs that
    never rose above the chance level dashed."""
    decades = np.floor(curves["log10_lr"] + 1e-9).astype(int)
    panels = sorted(decades.unique())
    columns = min(3, len(panels))
    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(13, 3.6 * rows), sharey=True, squeeze=False)
    chance = summary["chance_level"]
    roles = {lr: label for label, lr in named_picks(summary)}
    for ax, decade in zip(axes.flat, panels):
        in_decade = curves[decades == decade]
        lrs = sorted(in_decade["lr"].unique())
        colors = plt.cm.viridis(np.linspace(0, 0.9, len(lrs)))
        for lr, color in zip(lrs, colors):
            picked = lr in roles  # a pick's runs drawn thicker, its role in the legend
            for k, (_, run) in enumerate(in_decade[in_decade["lr"] == lr].groupby("seed")):
                ax.plot(run["epoch"], run["valid_acc"], color=color, lw=2.0 if picked else 0.9, alpha=0.75,
                        ls="-" if run["valid_acc"].max() > chance else "--", zorder=3 if picked else 2,
                        label=(f"{lr:g} ({roles[lr]})" if picked else f"{lr:g}") if k == 0 else None)
        ax.axhline(chance, color="grey", lw=0.8)
        ax.set_xscale("log")
        ax.set_ylim(0, 1.02)
        ax.grid(True, which="both", alpha=0.3)
        ax.set_title(f"LR 1e{decade} to 1e{decade + 1}", fontsize=9)
        ax.legend(title="LR", fontsize=7, title_fontsize=7, loc="lower right")
    for ax in axes.flat[len(panels):]:
        ax.set_axis_off()
    for ax in axes[-1]:
        ax.set_xlabel("epoch (log scale)")
    for ax in axes[:, 0]:
        ax.set_ylabel("validation accuracy")
    fig.suptitle(f"Learning curves: validation accuracy per epoch, a line per run (thick: the picks; dashed: never "
                 f"above the chance level {chance:g}, grey line)")
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
    _keep_pick_labels_inside(fig)
    with atomic.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")  # "tight": a figure legend below the axes
    plt.close(fig)


def with_conclusions(facts: dict, conclusions: dict) -> dict:
    """The aggregate's facts of the sweep with the conclude stage's picks: the figures draw the conclusions that
    summary.json states, and no others."""
    view = {**facts, **{key: conclusions[key] for key in ("best", "best_range", "recommended", "tradeoff",
                                                           "time_to_target", "chance_level", "confidence")}}
    if conclusions["best_range"]["low_lr"] is None:  # nothing learned: no range
        view["best_range"] = None
    return view


def main() -> None:
    runs = inputs.read_csv(RUNS_CSV).merge(inputs.read_csv(CONCLUSIONS_PER_RUN_CSV)[["lr", "seed", "learned"]],
                                           on=["lr", "seed"], validate="one_to_one")  # whether each run learned
    lrs, curves = inputs.read_csv(CONCLUSIONS_PER_LR_CSV), inputs.read_csv(CURVES_CSV)
    summary = with_conclusions(inputs.read_json(SWEEP_JSON), inputs.read_json(SUMMARY_JSON))
    range_test, suggestions = inputs.read_csv(LR_FIND_CURVES_CSV), inputs.read_csv(LR_FIND_SUGGESTIONS_CSV)
    figures = [accuracy_vs_lr(runs, lrs, summary), cost_vs_lr(runs, lrs, summary), accuracy_vs_cost(lrs, summary),
               learning_curves(curves, summary), lr_find(range_test, suggestions, summary)]
    assert len(figures) == len(FIGURE_NAMES)
    for name, fig in zip(FIGURE_NAMES, figures):
        save(fig, PLOTS_DIR / name)
    print(f"plot: {len(figures)} figures in {PLOTS_DIR}/")


if __name__ == "__main__":
    with clear_errors("plot"):
        main()
