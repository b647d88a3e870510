"""The figures, drawn from hand-made sweeps: every one of them, also where nothing learned."""

import json

import pandas as pd
import pytest

from stages import plot
from stages.lib import analysis, lr_find
from stages.lib.paths import FIGURE_NAMES
from tests.synthetic import analyze, curve, run, typical_sweep


def range_test_tables(seeds):
    curves = pd.DataFrame([{"seed": seed, "step": step, "lr": lr_find.ramp_lr(step, 50, 1e-7, 1.0), "loss": 2.3,
                            "smoothed_loss": 2.3 - 0.01 * step + 0.001 * seed} for seed in seeds for step in range(50)])
    suggestions = pd.DataFrame([{"seed": seed, "rule": rule, "suggested_lr": lr, "stopped_by": "end_lr", "steps": 50,
                                 "epochs": 0.5} for seed in seeds for rule, lr in (("valley", 1e-3), ("lightning", None))])
    return curves, suggestions


def figures(runs, lrs, curves, summary):
    range_curves, suggestions = range_test_tables(sorted(runs["seed"].unique()))
    return [plot.accuracy_vs_lr(runs, lrs, summary), plot.cost_vs_lr(runs, lrs, summary),
            plot.accuracy_vs_cost(lrs, summary), plot.learning_curves(curves, summary),
            plot.lr_find(range_curves, suggestions, summary)]


@pytest.mark.parametrize("sweep", ["typical", "nothing learned"])
def test_every_figure_is_drawn(tmp_path, sweep):
    if sweep == "typical":
        runs, curves = typical_sweep()
    else:
        runs = [run(lr, seed, 0.11, epochs=6) for lr in (1e-6, 1e-5) for seed in range(2)]
        curves = [curve(lr, seed, [0.1, 0.11, 0.1, 0.1, 0.1, 0.11]) for lr in (1e-6, 1e-5) for seed in range(2)]
    runs_out, lrs, summary = analyze(runs, curves)
    summary = json.loads(json.dumps(summary))  # as the plot stage reads it
    curves = pd.concat(curves, ignore_index=True)
    curves["log10_lr"] = curves["lr"].map(analysis.log10_lr)  # as the aggregate writes learning_curves.csv
    drawn = figures(runs_out, lrs, curves, summary)
    assert len(drawn) == len(FIGURE_NAMES)
    for name, fig in zip(FIGURE_NAMES, drawn):
        plot.save(fig, tmp_path / name)
        assert (tmp_path / name).stat().st_size > 5_000, name


def texts_of(fig) -> str:
    """Every text a figure shows: titles, annotations and legend entries."""
    found = [t.get_text() for t in fig.findobj(match=lambda artist: hasattr(artist, "get_text"))]
    return "\n".join(found)


def test_every_figure_names_the_picks_by_their_lr():
    runs, curves = typical_sweep()
    runs_out, lrs, summary = analyze(runs, curves)
    summary = json.loads(json.dumps(summary))
    curves = pd.concat(curves, ignore_index=True)
    curves["log10_lr"] = curves["lr"].map(analysis.log10_lr)
    assert summary["best"]["lr"] != summary["tradeoff"]["lr"]
    for name, fig in zip(FIGURE_NAMES, figures(runs_out, lrs, curves, summary)):
        shown = texts_of(fig)
        assert f"{summary['best']['lr']:g}" in shown and f"{summary['tradeoff']['lr']:g}" in shown, name
        assert "best" in shown and "trade-off" in shown, name


def test_the_trade_off_ring_sits_on_its_point_when_every_lr_costs_the_same():
    """The demo's case: equal costs made matplotlib offset the axis, and the ring, placed from the summary's
    rounded cost, sat beside its point."""
    runs = [run(lr, seed, acc, epochs=7, time=7 * 1.2345) for lr, acc in ((1e-4, 0.95), (1e-3, 0.97), (1e-2, 0.968))
            for seed in range(2)]
    runs_out, lrs, summary = analyze(runs, tolerance=0.005)
    summary = json.loads(json.dumps(summary))
    fig = plot.accuracy_vs_cost(lrs, summary)
    ax = fig.axes[0]
    ring = next(c for c in ax.collections if c.get_label().startswith(("trade-off", "best, trade-off")))
    row = lrs[lrs["lr"] == summary["tradeoff"]["lr"]].iloc[0]
    assert tuple(ring.get_offsets()[0]) == pytest.approx((row["cost_median_s"], row["valid_mean"]))
    assert not ax.xaxis.get_major_formatter().get_offset()  # no "+1e1" offset shifting the labels
