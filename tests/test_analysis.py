"""The study's conclusions, on hand-made sweeps of learning rates x seeds."""

import json
import math
import random

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from stages.lib import analysis, inference, sweep_facts

from tests.synthetic import ACC, analyze, curve, run, typical_sweep


def test_runs_and_lrs_are_sorted_with_the_columns_the_plots_and_report_read():
    runs, lrs, _ = analyze(*typical_sweep())
    assert list(runs.columns[: len(analysis.RUN_COLUMNS)]) == analysis.RUN_COLUMNS
    assert list(lrs.columns) == analysis.LR_COLUMNS
    assert lrs["lr"].tolist() == sorted(ACC)
    assert runs[["lr", "seed"]].values.tolist() == [[lr, s] for lr in sorted(ACC) for s in range(3)]
    assert lrs["seeds"].tolist() == [3] * len(ACC)


def test_per_lr_statistics():
    _, lrs, _ = analyze(*typical_sweep())
    row = lrs.set_index("lr").loc[1e-4]
    assert row["valid_mean"] == pytest.approx(0.96)
    assert row["valid_std"] == pytest.approx(np.std([0.960, 0.962, 0.958], ddof=1), abs=1e-6)
    assert (row["valid_min"], row["valid_max"]) == (0.958, 0.962)
    assert row["valid_ci_low"] <= row["valid_mean"] <= row["valid_ci_high"]
    assert row["valid_min"] <= row["valid_ci_low"] and row["valid_ci_high"] <= row["valid_max"]
    assert row["test_mean"] == pytest.approx(0.959)
    assert row["epochs_median"] == 60 and row["learned_fraction"] == 1.0
    assert lrs.set_index("lr").loc[1e-5, "learned_fraction"] == pytest.approx(2 / 3)


def test_the_three_conclusions_of_a_typical_sweep():
    _, lrs, s = analyze(*typical_sweep())
    assert s["anything_learned"] is True
    assert s["best"]["lr"] == 1e-3 and s["best"]["valid_mean"] == pytest.approx(0.98)
    assert s["best"]["valid_ci_low"] < 0.98 < s["best"]["valid_ci_high"]
    assert s["best_range"] | {"indistinguishable_lrs": None} == {
        "low_lr": 1e-3, "high_lr": 3e-3, "lrs": 2, "tolerance": 0.005, "indistinguishable_lrs": None}
    # 3e-3 is 0.002 below the best on every seed: a real difference; 1e-5 is all over the place: indistinguishable
    assert s["best_range"]["indistinguishable_lrs"] == [1e-5, 1e-3]
    assert s["tradeoff"]["lr"] == 3e-3 and s["tradeoff"]["epochs_median"] == 20
    assert s["tradeoff"]["cost_s"] == 20.0  # 20 epochs x the pooled 1.0 s per epoch
    assert s["time_to_target"]["target_valid_acc"] == pytest.approx(0.975)
    assert s["time_to_target"]["lr"] == 3e-3 and s["time_to_target"]["agrees_with_tradeoff"] is True
    assert s["time_to_target"]["seeds_reached"] == "3/3"
    learning = s["learning"]
    assert learning["none_up_to"] == 1e-6 and learning["all_from"] == 1e-4
    assert learning["partial"] == [{"lr": 1e-5, "learned": "2/3"}]
    assert learning["all_up_to"] == 1e-2 and learning["none_from"] == 3e-2
    assert learning["partial_high"] == []
    assert s["sweep"]["pareto_lrs"] == [1e-6, 1e-3, 3e-3, 1e-2]  # in LR order
    assert lrs.loc[lrs["in_best_range"], "lr"].tolist() == [1e-3, 3e-3]
    json.dumps(s)


def test_conclusions_do_not_move_with_the_timings():
    """Identical accuracies and epochs, per-run times scrambled by up to 3x: the same conclusions."""
    _, lrs, reference = analyze(*typical_sweep())
    rng = random.Random(1)
    noisy = {(lr, seed): rng.uniform(0.5, 1.5) for lr in ACC for seed in range(3)}
    _, noisy_lrs, perturbed = analyze(*typical_sweep(lambda lr, seed: noisy[lr, seed]))
    # a slow machine on the fast runs: measured times alone would now favour 1e-3 over 3e-3
    assert perturbed["cost"] != reference["cost"]

    def without_seconds(summary):
        summary = {k: v for k, v in summary.items() if k not in ("cost", "machine")}
        return json.loads(json.dumps(summary, default=str),
                          object_hook=lambda d: {k: v for k, v in d.items() if not k.endswith("_s")})

    assert without_seconds(perturbed) == without_seconds(reference)
    choices = ["in_best_range", "indistinguishable_from_best", "pareto", "epochs_median", "epochs_to_target_median"]
    pd.testing.assert_frame_equal(noisy_lrs[choices], lrs[choices])


def test_measured_seconds_never_choose_even_when_they_disagree_with_epochs():
    # 3e-3 needs fewer epochs but its epochs ran 3x slower (a busy machine): still the trade-off pick
    _, _, s = analyze(*typical_sweep(lambda lr, seed: 3.0 if lr == 3e-3 else 1.0))
    assert s["tradeoff"]["lr"] == 3e-3
    assert s["tradeoff"]["train_time_median_s"] == 60.0 > s["best"]["train_time_median_s"]


def test_time_to_target_can_disagree_with_the_tradeoff():
    runs, curves = typical_sweep()
    # 1e-3 reaches the target at epoch 2 on every seed, then keeps going for 30 epochs
    curves = [c if c["lr"].iloc[0] != 1e-3 else c.assign(valid_acc=[0.5] + [0.98] * (len(c) - 1)) for c in curves]
    _, lrs, s = analyze(runs, curves)
    assert s["tradeoff"]["lr"] == 3e-3
    assert s["time_to_target"]["lr"] == 1e-3 and s["time_to_target"]["epochs_median"] == 2
    assert s["time_to_target"]["agrees_with_tradeoff"] is False
    assert lrs.set_index("lr").loc[1e-6, "seeds_reached_target"] == 0
    assert math.isnan(lrs.set_index("lr").loc[1e-6, "epochs_to_target_median"])


def test_a_seed_that_never_reaches_the_target_counts_as_infinitely_slow():
    runs = [run(1e-3, s, 0.98, epochs=10) for s in range(3)]
    curves = [curve(1e-3, 0, [0.98] * 10), curve(1e-3, 1, [0.5] * 9 + [0.98]), curve(1e-3, 2, [0.5] * 10)]
    runs[2]["best_valid_acc"] = 0.5
    _, lrs, s = analyze(runs, curves, tolerance=0.01)
    # the best mean is (0.98 + 0.98 + 0.5) / 3; the target is 0.01 below it, reached at epochs 1, 10, never
    assert lrs["epochs_to_target_median"].iloc[0] == 10 and lrs["seeds_reached_target"].iloc[0] == 2
    runs[1]["best_valid_acc"] = 0.5
    curves[1] = curve(1e-3, 1, [0.5] * 10)
    _, lrs, s = analyze(runs, curves, tolerance=0.01)
    # now two of three seeds never reach the target (0.65): the median run never does
    assert lrs["seeds_reached_target"].iloc[0] == 1 and math.isnan(lrs["epochs_to_target_median"].iloc[0])
    assert s["time_to_target"]["lr"] is None and s["time_to_target"]["agrees_with_tradeoff"] is False


def test_bootstrap_interval_is_deterministic_and_none_for_one_seed():
    values = [0.97, 0.975, 0.98, 0.982, 0.99]
    low, high = inference.bootstrap_ci(values)
    assert (low, high) == inference.bootstrap_ci(values)
    assert min(values) <= low < np.mean(values) < high <= max(values)
    assert all(math.isnan(x) for x in inference.bootstrap_ci([0.98]))
    assert inference.bootstrap_ci([0.5, 0.5, 0.5]) == (0.5, 0.5)


def test_paired_difference_is_the_paired_t_interval():
    best, other = [0.98, 0.97, 0.985, 0.975, 0.99], [0.975, 0.972, 0.978, 0.97, 0.984]
    mean, low, high = inference.paired_difference(best, other)
    reference = stats.ttest_rel(best, other).confidence_interval(0.95)
    assert (low, high) == pytest.approx((reference.low, reference.high))
    assert mean == pytest.approx(np.mean(np.subtract(best, other)))
    assert all(math.isnan(x) for x in inference.paired_difference([0.9], [0.8])[1:])


def test_pairing_matters_a_consistent_small_gap_is_a_difference():
    # seed effects are large, but LR 2e-3 is 0.001 below 1e-3 on every seed: distinguishable when paired
    runs = [run(1e-3, s, acc) for s, acc in enumerate([0.95, 0.97, 0.99])]
    runs += [run(2e-3, s, acc - 0.001) for s, acc in enumerate([0.95, 0.97, 0.99])]
    runs[-1]["best_valid_acc"] -= 0.0005  # not exactly constant, so the interval has a width
    _, lrs, s = analyze(runs)
    assert s["best_range"]["lrs"] == 2  # within tolerance ...
    assert s["best_range"]["indistinguishable_lrs"] == [1e-3]  # ... but reliably worse


def test_ties_go_to_fewer_epochs_then_the_smaller_lr():
    runs = [run(1e-3, 0, 0.98, epochs=20), run(2e-3, 0, 0.98, epochs=10), run(4e-3, 0, 0.98, epochs=10)]
    _, _, s = analyze(runs, tolerance=0.0)
    assert s["best"]["lr"] == 2e-3 and s["tradeoff"]["lr"] == 2e-3
    assert (s["best_range"]["low_lr"], s["best_range"]["high_lr"]) == (1e-3, 4e-3)


def test_tolerance_boundary_is_inclusive_despite_float_rounding():
    _, _, s = analyze([run(1e-3, 0, 0.98, epochs=20), run(1e-2, 0, 0.975, epochs=10)], tolerance=0.005)
    assert s["best_range"]["lrs"] == 2 and s["tradeoff"]["lr"] == 1e-2


def test_range_is_contiguous_around_the_best():
    runs = [run(1e-3, 0, 0.98, 30), run(3e-3, 0, 0.90, 10), run(1e-2, 0, 0.979, 5)]
    _, _, s = analyze(runs)
    assert (s["best_range"]["low_lr"], s["best_range"]["high_lr"]) == (1e-3, 1e-3)
    assert s["tradeoff"]["lr"] == 1e-3  # 1e-2 is close in accuracy but outside the contiguous range


def test_one_seed_gives_conclusions_without_intervals():
    _, lrs, s = analyze([run(1e-3, 0, 0.97), run(1e-2, 0, 0.96)])
    assert s["best"]["lr"] == 1e-3 and s["best"]["valid_ci_low"] is None
    assert s["best_range"]["indistinguishable_lrs"] == [1e-3]
    assert lrs["valid_ci_low"].isna().all()
    json.dumps(s)


def test_a_sweep_where_nothing_learns_reports_no_range_and_no_tradeoff():
    runs = [run(lr, s, 0.11) for lr in (1e-6, 1e-5) for s in range(2)]
    _, lrs, s = analyze(runs)
    assert s["anything_learned"] is False
    assert s["best_range"] is None and s["tradeoff"] is None and s["time_to_target"] is None
    assert not lrs["in_best_range"].any()
    json.dumps(s)


def test_learning_edges_with_no_edge_and_with_a_mixed_band():
    edges = analysis.learning_edges([1.0, 1.0, 1.0], best=1)
    assert (edges["all_from"], edges["none_to"], edges["band_low"]) == (0, None, [])
    assert (edges["all_to"], edges["none_from"], edges["band_high"]) == (2, None, [])
    # going down from the best (position 5): 4 all learn, 3 partial, 2 all again, 1 and 0 nothing
    edges = analysis.learning_edges([0, 0, 1.0, 0.4, 1.0, 1.0], best=5)
    assert (edges["all_from"], edges["none_to"], edges["band_low"]) == (4, 1, [2, 3])
    # the best LR itself only partly learned
    edges = analysis.learning_edges([0, 0.5, 0], best=1)
    assert (edges["all_from"], edges["none_to"], edges["band_low"]) == (None, 0, [1])


def test_stopped_by_counts_and_total_cost():
    runs = [run(1e-3, 0, 0.98, 10, time=12.0), run(1e-1, 0, 0.1, 1, time=1.0, stopped_by="diverged")]
    _, _, s = analyze(runs)
    assert s["sweep"]["stopped_by"] == {"diverged": 1, "early_stopping": 1}
    assert s["cost"] == {"pooled_sec_per_epoch": pytest.approx(13 / 11, abs=1e-4), "total_epochs": 11,
                         "total_train_time_s": 13.0}


def test_wall_time_from_run_timestamps():
    runs = [dict(run(1e-3, 0, 0.98, 10), startup_s=1.0, stage_wall_s=13.0,
                 started_at="2026-01-01T00:00:00+00:00", finished_at="2026-01-01T00:00:13+00:00"),
            dict(run(1e-2, 0, 0.97, 5), startup_s=2.0, stage_wall_s=8.0,
                 started_at="2026-01-01T00:00:15+00:00", finished_at="2026-01-01T00:00:23+00:00")]
    _, _, s = analyze(runs)
    assert s["cost"]["sweep_wall_s"] == 23.0 and s["cost"]["total_stage_wall_s"] == 21.0
    assert s["cost"]["busy_wall_s"] == 21.0  # the 2 s between the runs: nothing trained
    assert s["cost"]["mean_startup_s"] == 1.5


def test_busy_time_counts_overlapping_runs_once_and_leaves_out_pauses():
    at = lambda seconds: pd.Timestamp("2026-01-01T00:00:00+00:00") + pd.Timedelta(seconds=seconds)  # noqa: E731
    # two workers: [0, 10] and [2, 12] overlap, [5, 8] lies inside; a pause; a later share [100, 110]
    started = pd.Series([at(100), at(0), at(2), at(5)])
    finished = pd.Series([at(110), at(10), at(12), at(8)])
    assert sweep_facts.busy_seconds(started, finished) == 22.0


def history(accs, losses=None):
    return curve(1e-4, 0, accs, losses)


def test_a_run_still_rising_at_its_end_is_still_improving():
    rising = [0.5 + 0.01 * e for e in range(30)]  # +1 point per epoch to the end
    facts = analysis.improvement_at_stop(history(rising))
    assert facts["still_improving"] and facts["slope_last10"] == pytest.approx(0.01)
    assert facts["best_gain_last10"] == pytest.approx(0.10)  # 10 epochs at +1 point
    assert facts["slope_p"] < 1e-6
    assert facts["loss_change_last10"] == pytest.approx((1 / 30) / (1 / 20) - 1)  # the loss 10 epochs before: epoch 20


def test_a_run_on_a_plateau_or_falling_is_not_still_improving():
    wobble = [0.9] * 20 + [0.97, 0.971, 0.969, 0.970, 0.972, 0.968, 0.970, 0.971, 0.969, 0.970]
    facts = analysis.improvement_at_stop(history(wobble))
    assert not facts["still_improving"] and facts["slope_p"] > 0.05
    assert facts["best_gain_last10"] == pytest.approx(0.072)  # the step up at epoch 21 is inside the window
    falling = [0.98 - 0.002 * e for e in range(15)]
    facts = analysis.improvement_at_stop(history(falling))
    assert not facts["still_improving"] and facts["slope_last10"] < 0 and facts["best_gain_last10"] == 0


def test_a_short_run_is_judged_on_what_it_has_and_a_diverged_epoch_is_left_out():
    facts = analysis.improvement_at_stop(history([0.1, 0.2]))
    assert not facts["still_improving"] and math.isnan(facts["slope_last10"])
    short = analysis.improvement_at_stop(history([0.1, 0.2, 0.3, 0.4, 0.5]))
    assert short["still_improving"] and short["best_gain_last10"] == pytest.approx(0.4)  # from the first epoch
    diverged = analysis.improvement_at_stop(history([0.1, 0.2, 0.3, 0.4, 0.5, math.nan],
                                                    [2.0, 1.5, 1.2, 1.0, 0.9, math.inf]))
    assert diverged["slope_last10"] == pytest.approx(short["slope_last10"])


def test_still_improving_per_lr_is_the_share_of_its_seeds():
    runs, curves = [], []
    for seed in range(4):  # seeds 0 and 1 still rising at the end, 2 and 3 flat for their last 10 epochs
        accs = [0.5 + 0.01 * e for e in range(30)] if seed < 2 else [0.5 + 0.01 * min(e, 19) for e in range(30)]
        runs.append(run(1e-4, seed, max(accs), epochs=30))
        curves.append(curve(1e-4, seed, accs))
    runs_out, lrs, _ = analyze(runs, curves)
    assert runs_out["still_improving"].tolist() == [True, True, False, False]
    assert lrs.loc[0, "still_improving_fraction"] == 0.5
    assert lrs.loc[0, "best_gain_last10_median"] == pytest.approx(0.05)  # the median of 0.1, 0.1, 0, 0
