"""The conclude stage's rules on a hand-made typical sweep of learning rates x seeds (tests/synthetic.py): the picks,
time to target, learning edges, the Pareto front, runs still improving when stopped; that measured seconds never
choose; and the sweep's facts (stops, cost, wall time) the aggregate writes beside them."""

import json
import math
import random

import pandas as pd
import pytest

from stages import aggregate
from stages.lib import conclusions as C, sweep_facts, tables
from tests.synthetic import ACC, conclude, curve, run, typical_sweep


def by_lr(c: dict) -> pd.DataFrame:
    return pd.DataFrame(c["per_lr"]).set_index("lr")


def test_the_conclusions_of_a_typical_sweep():
    c = conclude(*typical_sweep())
    assert c["best"]["lr"] == 1e-3 and c["best"]["valid_mean"] == pytest.approx(0.98)
    low, high = c["best"]["valid_interval"]
    assert low < 0.98 < high
    # 3e-3 is 0.002 below the best on every seed: inside the tolerance, so as good as the best; 1e-2 (0.01) is not
    assert (c["best_range"]["low_lr"], c["best_range"]["high_lr"], c["best_range"]["lrs"]) == (1e-3, 3e-3, 2)
    assert c["tradeoff"]["lr"] == 3e-3 and c["tradeoff"]["saves_epochs"] and c["tradeoff"]["epochs_median"] == 20
    assert c["time_to_target"]["target_valid_acc"] == pytest.approx(0.975)
    assert c["time_to_target"]["lr"] == 3e-3 and c["time_to_target"]["epochs_median"] == 15
    edges = c["learning_edge"]["with_early_stopping"]
    assert (edges["none_up_to"], edges["all_from"], edges["partial_low"]) == (1e-6, 1e-4, [{"lr": 1e-5, "learned": "2/3"}])
    assert (edges["all_up_to"], edges["none_from"], edges["partial_high"]) == (1e-2, 3e-2, [])
    table = by_lr(c)
    assert table.index[table["pareto"]].tolist() == [1e-6, 1e-3, 3e-3, 1e-2]  # in LR order
    assert table.index[table["in_best_range"]].tolist() == [1e-3, 3e-3]
    assert (table.loc[1e-5, "learned_fraction"], table.loc[1e-4, "cost_median_s"]) == (pytest.approx(2 / 3), 60.0)
    json.dumps(C.json_safe(c), allow_nan=False)


def test_conclusions_do_not_move_with_the_timings():
    """Identical accuracies and epochs, per-run times scrambled by up to 3x: the same conclusions."""
    reference = conclude(*typical_sweep())
    rng = random.Random(1)
    noisy = {(lr, seed): rng.uniform(0.5, 1.5) for lr in ACC for seed in range(3)}
    perturbed = conclude(*typical_sweep(lambda lr, seed: noisy[lr, seed]))

    def without_seconds(summary):
        return json.loads(json.dumps(C.json_safe(summary)), object_hook=lambda d: {
            k: v for k, v in d.items() if not (k.endswith("_s") or k.startswith("seconds") or k == "cost_median_s")})

    assert without_seconds(perturbed) == without_seconds(reference)
    assert by_lr(perturbed)["cost_median_s"].tolist() != by_lr(reference)["cost_median_s"].tolist()


def test_measured_seconds_never_choose_even_when_they_disagree_with_epochs():
    # 3e-3 needs fewer epochs but its epochs ran 3x slower (a busy machine): still the trade-off pick
    c = conclude(*typical_sweep(lambda lr, seed: 3.0 if lr == 3e-3 else 1.0))
    assert c["tradeoff"]["lr"] == 3e-3


def test_time_to_target_can_disagree_with_the_tradeoff():
    runs, curves = typical_sweep()
    # 1e-3 reaches the target at epoch 2 on every seed, then keeps going for 30 epochs
    curves = [c if c["lr"].iloc[0] != 1e-3 else c.assign(valid_acc=[0.5] + [0.98] * (len(c) - 1)) for c in curves]
    c = conclude(runs, curves)
    assert c["tradeoff"]["lr"] == 3e-3
    assert c["time_to_target"]["lr"] == 1e-3 and c["time_to_target"]["epochs_median"] == 2
    table = by_lr(c)
    assert table.loc[1e-6, "reached_target"] == 0 and math.isnan(table.loc[1e-6, "to_target_median"])


def test_a_seed_that_never_reaches_the_target_counts_as_infinitely_slow():
    runs = [run(1e-3, s, 0.98, epochs=10) for s in range(3)]
    curves = [curve(1e-3, 0, [0.98] * 10), curve(1e-3, 1, [0.5] * 9 + [0.98]), curve(1e-3, 2, [0.5] * 10)]
    runs[2]["best_valid_acc"] = 0.5
    c = conclude(runs, curves, tolerance=0.01)
    # the best mean is (0.98 + 0.98 + 0.5) / 3; the target is 0.01 below it, reached at epochs 1, 10, never
    row = by_lr(c).loc[1e-3]
    assert row["to_target_median"] == 10 and row["reached_target"] == 2
    assert [r["epochs_to_target"] for r in c["per_run"]][:2] == [1, 10] and math.isnan(c["per_run"][2]["epochs_to_target"])
    runs[1]["best_valid_acc"] = 0.5
    curves[1] = curve(1e-3, 1, [0.5] * 10)
    c = conclude(runs, curves, tolerance=0.01)
    # now two of three seeds never reach the target (0.65): the median run never does
    row = by_lr(c).loc[1e-3]
    assert row["reached_target"] == 1 and math.isnan(row["to_target_median"])
    assert c["time_to_target"]["lr"] is None


def test_ties_go_to_fewer_epochs_then_the_smaller_lr():
    runs = [run(lr, seed, 0.98, epochs=epochs) for lr, epochs in ((1e-3, 20), (2e-3, 10), (4e-3, 10)) for seed in (0, 1)]
    assert conclude(runs)["best"]["lr"] == 2e-3


def test_one_seed_gives_conclusions_without_intervals():
    c = conclude([run(1e-3, 0, 0.97), run(1e-2, 0, 0.96)])
    assert c["best"]["lr"] == 1e-3 and all(math.isnan(x) for x in c["best"]["valid_interval"])
    assert not c["best"]["stability"]["stable"]  # nothing to resample
    json.dumps(C.json_safe(c), allow_nan=False)


def test_a_sweep_where_nothing_learns_reports_no_range_and_no_tradeoff():
    c = conclude([run(lr, s, 0.11) for lr in (1e-6, 1e-5) for s in range(2)])
    assert c["best_range"]["low_lr"] is None and not c["tradeoff"]["saves_epochs"]
    assert c["time_to_target"]["lr"] is None and not by_lr(c)["in_best_range"].any()
    assert not any(r["learned"] for r in c["per_run"])


def test_learning_edges_with_no_edge_and_with_a_mixed_band():
    edges = C.learning_edges([1.0, 1.0, 1.0], best=1)
    assert (edges["all_from"], edges["none_to"], edges["band_low"]) == (0, None, [])
    assert (edges["all_to"], edges["none_from"], edges["band_high"]) == (2, None, [])
    # going down from the best (position 5): 4 all learn, 3 partial, 2 all again, 1 and 0 nothing
    edges = C.learning_edges([0, 0, 1.0, 0.4, 1.0, 1.0], best=5)
    assert (edges["all_from"], edges["none_to"], edges["band_low"]) == (4, 1, [2, 3])
    # the best LR itself only partly learned
    edges = C.learning_edges([0, 0.5, 0], best=1)
    assert (edges["all_from"], edges["none_to"], edges["band_low"]) == (None, 0, [1])


def test_stopped_by_counts_and_total_cost():
    runs = tables.runs_table([run(1e-3, 0, 0.98, 10, time=12.0), run(1e-1, 0, 0.1, 1, time=1.0, stopped_by="diverged")])
    facts = aggregate.facts(runs)
    assert facts["sweep"] == {"lrs": 2, "seeds": 1, "runs": 2, "stopped_by": {"diverged": 1, "early_stopping": 1}}
    assert facts["cost"] == {"pooled_sec_per_epoch": pytest.approx(13 / 11, abs=1e-4), "total_epochs": 11,
                             "total_train_time_s": 13.0}


def test_wall_time_from_run_timestamps():
    runs = [dict(run(1e-3, 0, 0.98, 10), startup_s=1.0, stage_wall_s=13.0,
                 started_at="2026-01-01T00:00:00+00:00", finished_at="2026-01-01T00:00:13+00:00"),
            dict(run(1e-2, 0, 0.97, 5), startup_s=2.0, stage_wall_s=8.0,
                 started_at="2026-01-01T00:00:15+00:00", finished_at="2026-01-01T00:00:23+00:00")]
    cost = aggregate.facts(tables.runs_table(runs))["cost"]
    assert cost["sweep_wall_s"] == 23.0 and cost["total_stage_wall_s"] == 21.0
    assert cost["busy_wall_s"] == 21.0  # the 2 s between the runs: nothing trained
    assert cost["mean_startup_s"] == 1.5


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
    facts = C.improvement_at_stop(history(rising))
    assert facts["still_improving"] and facts["slope_last10"] == pytest.approx(0.01)
    assert facts["best_gain_last10"] == pytest.approx(0.10)  # 10 epochs at +1 point
    assert facts["slope_p"] < 1e-6
    assert facts["loss_change_last10"] == pytest.approx((1 / 30) / (1 / 20) - 1)  # the loss 10 epochs before: epoch 20


def test_a_run_on_a_plateau_or_falling_is_not_still_improving():
    wobble = [0.9] * 20 + [0.97, 0.971, 0.969, 0.970, 0.972, 0.968, 0.970, 0.971, 0.969, 0.970]
    facts = C.improvement_at_stop(history(wobble))
    assert not facts["still_improving"] and facts["slope_p"] > 0.05
    assert facts["best_gain_last10"] == pytest.approx(0.072)  # the step up at epoch 21 is inside the window
    falling = [0.98 - 0.002 * e for e in range(15)]
    facts = C.improvement_at_stop(history(falling))
    assert not facts["still_improving"] and facts["slope_last10"] < 0 and facts["best_gain_last10"] == 0


def test_a_short_run_is_judged_on_what_it_has_and_a_diverged_epoch_is_left_out():
    facts = C.improvement_at_stop(history([0.1, 0.2]))
    assert not facts["still_improving"] and math.isnan(facts["slope_last10"])
    short = C.improvement_at_stop(history([0.1, 0.2, 0.3, 0.4, 0.5]))
    assert short["still_improving"] and short["best_gain_last10"] == pytest.approx(0.4)  # from the first epoch
    diverged = C.improvement_at_stop(history([0.1, 0.2, 0.3, 0.4, 0.5, math.nan], [2.0, 1.5, 1.2, 1.0, 0.9, math.inf]))
    assert diverged["slope_last10"] == pytest.approx(short["slope_last10"])


def test_still_improving_per_lr_counts_its_seeds():
    runs, curves = [], []
    for seed in range(4):  # seeds 0 and 1 still rising at the end, 2 and 3 flat for their last 10 epochs
        accs = [0.5 + 0.01 * e for e in range(30)] if seed < 2 else [0.5 + 0.01 * min(e, 19) for e in range(30)]
        runs.append(run(1e-4, seed, max(accs), epochs=30))
        curves.append(curve(1e-4, seed, accs))
    c = conclude(runs, curves)
    assert [r["still_improving"] for r in c["per_run"]] == [True, True, False, False]
    row = by_lr(c).loc[1e-4]
    assert row["still_improving"] == 2 and row["best_gain_last10_median"] == pytest.approx(0.05)  # of 0.1, 0.1, 0, 0
    assert c["still_improving"]["from_best_up"] == {"improving": 2, "runs": 4}
