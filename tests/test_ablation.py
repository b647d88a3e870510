"""The patience ablation against the default sweep, run by run, on hand-made runs and curves."""

import math

import pandas as pd
import pytest

from stages.lib import ablation


def curve(lr, seed, accs):
    return pd.DataFrame({"lr": lr, "seed": seed, "epoch": range(1, len(accs) + 1),
                         "train_loss": [1 / e for e in range(1, len(accs) + 1)], "valid_acc": accs})


def best_run(lr, seed, accs, test_offset=-0.001):
    best = max(accs)
    return {"lr": lr, "seed": seed, "best_valid_acc": best, "test_acc": best + test_offset, "epochs": len(accs),
            "best_epoch": accs.index(best) + 1, "stopped_by": "early_stopping"}


def pair(lr, seed, longer_accs, stop_after):
    """A run of the ablation and its default twin: the same epochs until the twin stopped."""
    default_accs = longer_accs[:stop_after]
    return (best_run(lr, seed, default_accs), curve(lr, seed, default_accs),
            best_run(lr, seed, longer_accs), curve(lr, seed, longer_accs))


def tables(pairs):
    d_runs, d_curves, l_runs, l_curves = zip(*pairs)
    return (pd.DataFrame(d_runs), pd.concat(d_curves, ignore_index=True), pd.DataFrame(l_runs),
            pd.concat(l_curves, ignore_index=True))


def slow(seed, gain_after):
    """Slow learner: a plateau the twin stopped on, then a late rise of gain_after."""
    accs = [0.90 + 0.001 * seed, 0.92, 0.93, 0.93, 0.93, 0.93] + [0.93 + gain_after] * 3
    return accs


@pytest.fixture
def compared():
    pairs = [pair(1e-5, seed, slow(seed, 0.02 + 0.002 * seed), stop_after=6) for seed in range(3)]
    pairs += [pair(1e-3, seed, [0.97, 0.98, 0.98, 0.98, 0.98, 0.979, 0.978], stop_after=4) for seed in range(3)]
    return ablation.compare_runs(*tables(pairs))


def test_each_run_is_compared_with_its_twin(compared):
    assert len(compared) == 6 and compared["twin_repeated"].all()
    small = compared[compared["lr"] == 1e-5].set_index("seed")
    assert small.loc[1, "gain"] == pytest.approx(0.022) and small.loc[1, "extra_epochs"] == 3
    assert small["improved_after_twin_stopped"].all()
    large = compared[compared["lr"] == 1e-3]
    assert (large["gain"] == 0).all() and not large["improved_after_twin_stopped"].any()


def test_a_run_that_does_not_repeat_its_twin_is_flagged():
    d_runs, d_curves, l_runs, l_curves = tables([pair(1e-4, 0, [0.5, 0.6, 0.7, 0.7, 0.8], stop_after=3)])
    l_curves.loc[1, "valid_acc"] = 0.61  # another thread count, another machine: the numbers part
    assert not ablation.compare_runs(d_runs, d_curves, l_runs, l_curves)["twin_repeated"].iloc[0]


def test_a_run_without_a_twin_is_an_error():
    d_runs, d_curves, l_runs, l_curves = tables([pair(1e-4, 0, [0.5, 0.6], stop_after=1)])
    l_runs["seed"] = 7
    l_curves["seed"] = 7
    with pytest.raises(ValueError, match="no run at lr 0.0001, seed 7"):
        ablation.compare_runs(d_runs, d_curves, l_runs, l_curves)


def test_per_lr_the_gain_its_interval_the_gap_it_closes_and_where_it_stops(compared):
    lrs = ablation.compare_lrs(compared, best_mean=0.98)
    small, large = lrs.iloc[0], lrs.iloc[1]
    assert small["gain_mean"] == pytest.approx(0.022) and small["gain_significant"]
    assert small["gain_ci_low"] < 0.022 < small["gain_ci_high"]
    # every default 1e-5 run's best is 0.93: the gap to the best mean, 0.98, is 0.05
    assert small["gap_closed"] == pytest.approx(0.022 / (0.98 - 0.93), rel=1e-3)
    assert small["epochs_ratio_median"] == pytest.approx(9 / 6)
    assert not large["gain_significant"] and math.isnan(large["gap_closed"])  # the best LR: no gap to close
    assert ablation.gain_stops_at(lrs) == 1e-3
    assert ablation.epochs_total(compared) == (3 * 6 + 3 * 4, 3 * 9 + 3 * 7)


def test_only_runs_with_a_twin_in_this_sweep_are_compared():
    d_runs, _, l_runs, _ = tables([pair(1e-4, 0, [0.5, 0.6, 0.7], stop_after=2),
                                   pair(1e-3, 0, [0.5, 0.6, 0.7], stop_after=2)])
    assert ablation.with_twins(d_runs[d_runs["lr"] == 1e-3], l_runs)["lr"].tolist() == [1e-3]
    assert ablation.with_twins(d_runs.iloc[0:0], l_runs).empty
