"""The figures, drawn from hand-made sweeps: every one of them, also where nothing learned."""

import pandas as pd
import pytest

from stages import plot
from stages.lib import lr_find
from stages.lib.paths import FIGURE_NAMES
from tests.synthetic import curve, run, typical_sweep, written


def plot_inputs(runs, curves=None, **settings):
    """(runs, lrs, curves, summary) as the plot stage reads them from the aggregate's and conclude's files."""
    w = written(runs, curves, **settings)
    return w["runs"], w["lrs"], w["curves"], plot.with_conclusions(w["facts"], w["summary"])


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


@pytest.mark.parametrize("sweep", ["typical", "one seed", "seeds split", "nothing learned"])
def test_every_figure_is_drawn(tmp_path, sweep):
    if sweep == "typical":
        runs, curves = typical_sweep()
    elif sweep == "one seed":  # no interval anywhere (a tiny study on one seed once stopped the plot stage)
        runs, curves = typical_sweep()
        runs, curves = [r for r in runs if r["seed"] == 0], [c for c in curves if set(c["seed"]) == {0}]
    elif sweep == "seeds split":  # at every LR one seed stays on the plateau: nothing to zoom on (one epoch, as a
        # smoke test's runs)
        runs = [run(lr, seed, acc, epochs=1) for lr in (1e-3, 1e-2) for seed, acc in enumerate((0.11, 0.5))]
        curves = [curve(lr, seed, [acc]) for lr in (1e-3, 1e-2) for seed, acc in enumerate((0.11, 0.5))]
    else:
        runs = [run(lr, seed, 0.11, epochs=6) for lr in (1e-6, 1e-5) for seed in range(2)]
        curves = [curve(lr, seed, [0.1, 0.11, 0.1, 0.1, 0.1, 0.11]) for lr in (1e-6, 1e-5) for seed in range(2)]
    drawn = figures(*plot_inputs(runs, curves))
    assert len(drawn) == len(FIGURE_NAMES)
    for name, fig in zip(FIGURE_NAMES, drawn):
        plot.save(fig, tmp_path / name)
        assert (tmp_path / name).stat().st_size > 5_000, name


def texts_of(fig) -> str:
    """Every text a figure shows: titles, annotations and legend entries."""
    found = [t.get_text() for t in fig.findobj(match=lambda artist: hasattr(artist, "get_text"))]
    return "\n".join(found)


def test_every_figure_names_the_picks_by_their_lr():
    runs_out, lrs, curves, summary = plot_inputs(*typical_sweep())
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
    _, lrs, _, summary = plot_inputs(runs, tolerance=0.005)
    fig = plot.accuracy_vs_cost(lrs, summary)
    ax = fig.axes[0]
    ring = next(c for c in ax.collections if c.get_label().startswith("best"))
    row = lrs[lrs["lr"] == summary["best"]["lr"]].iloc[0]
    assert tuple(ring.get_offsets()[0]) == pytest.approx((row["cost_median_s"], row["valid_mean"]))
    assert not ax.xaxis.get_major_formatter().get_offset()  # no "+1e1" offset shifting the labels


def test_a_pick_the_seeds_can_move_is_drawn_as_each_of_its_candidates():
    """summary.json names "0.001 or 0.003" as the best LR: the figures label both, and neither alone as "best"."""
    runs = [run(lr, seed, acc, epochs=10) for lr, accs in ((1e-3, (0.980, 0.970, 0.975)), (3e-3, (0.970, 0.980, 0.975)),
                                                            (1e-2, (0.90, 0.90, 0.90)))
            for seed, acc in enumerate(accs)]
    runs_out, lrs, curves, summary = plot_inputs(runs)
    assert not summary["best"]["stability"]["stable"] and summary["best"]["stability"]["set"] == [1e-3, 3e-3]
    assert sorted(plot.named_picks(summary)) == [("best candidate", 1e-3), ("best candidate", 3e-3)]
    shown = texts_of(plot.accuracy_vs_lr(runs_out, lrs, summary))
    assert "best candidate\n0.001" in shown and "best candidate\n0.003" in shown
