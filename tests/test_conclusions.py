"""The conclude stage's rules on synthetic runs whose answer is known: intervals that fit five values,
equivalence (TOST) instead of "can't tell apart", the trade-off's fallback, stability as sets, the learning edge
without patience and the fair patience ablation."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from stages import report
from stages.lib import answer, conclusions as C, inference as I

from tests.synthetic import CHANCE, TOL, recorded_settings, sweep


def matrices(runs, curves):
    return C.as_matrices(runs, curves, CHANCE, C.target_accuracy(runs, TOL))


def per_lr(runs, curves) -> pd.DataFrame:
    """conclusions_per_lr.csv of these runs, as the conclude stage builds it (the recommended range against the best
    LR alone, on few resamples)."""
    judged = C.per_run(runs, curves, CHANCE, C.target_accuracy(runs, TOL))
    r = matrices(runs, curves)
    advice = C.recommended(r, [C.decide(r, TOL)["best"]], TOL, resamples=50)
    return C.per_lr(r, TOL, runs, judged, advice)


def test_clopper_pearson_against_known_values():
    assert I.clopper_pearson(0, 5) == pytest.approx((0.0, 0.521823), abs=1e-6)
    assert I.clopper_pearson(2, 5) == pytest.approx((0.052745, 0.853367), abs=1e-6)
    assert I.clopper_pearson(5, 5) == pytest.approx((0.478177, 1.0), abs=1e-6)


def test_t_interval():
    mean, low, high = I.t_interval([1, 2, 3, 4, 5])
    assert mean == 3 and high - mean == pytest.approx(2.776445 * math.sqrt(2.5) / math.sqrt(5), rel=1e-6)
    assert math.isnan(I.t_interval([1.0])[1])


def test_tost_on_constructed_pairs():
    best = np.array([0.980, 0.981, 0.979, 0.982, 0.980])
    close = best - np.array([0.001, 0.002, 0.0015, 0.001, 0.002])  # consistently 1.5 points in a thousand below
    assert I.tost_paired(best, close, TOL)["equivalent"]
    far = best - np.array([0.004, 0.006, 0.005, 0.004, 0.007])  # mean gap 0.0052: its interval crosses 0.005
    assert not I.tost_paired(best, far, TOL)["equivalent"]
    noisy = best - np.array([-0.02, 0.02, -0.015, 0.015, 0.0])  # mean 0, but the spread is wider than the margin
    result = I.tost_paired(best, noisy, TOL)
    assert result["diff_low"] < 0 < result["diff_high"] and not result["equivalent"]  # contains 0, not equivalent


def test_an_lr_where_two_of_five_seeds_learn_is_never_as_good_as_the_best():
    acc = {1e-3: [0.98] * 5, 3e-3: [0.98, 0.98, 0.11, 0.11, 0.11]}
    runs, curves = sweep(acc, {lr: [10] * 5 for lr in acc})
    r = matrices(runs, curves)
    best = int(np.flatnonzero(r.lrs == 1e-3)[0])
    assert not C.equivalent_flags(r, best, tolerance=1.0)[1]  # even a margin that every difference fits
    table = per_lr(runs, curves)
    row = table[table["lr"] == 3e-3].iloc[0]
    assert row["learned"] == 2 and row["learned_valid_mean"] == pytest.approx(0.98)  # the seeds that learned, apart


def test_range_is_the_contiguous_equivalent_lrs_and_a_gap_breaks_it():
    acc = {1e-4: [0.979, 0.980, 0.978, 0.981, 0.979],  # equivalent, but cut off by 3e-4
           3e-4: [0.95, 0.99, 0.96, 0.99, 0.94],  # mean 0.966: not shown equivalent
           1e-3: [0.980, 0.981, 0.979, 0.982, 0.980],
           3e-3: [0.979, 0.980, 0.978, 0.981, 0.979]}
    runs, curves = sweep(acc, {lr: [10] * 5 for lr in acc})
    picks = C.decide(matrices(runs, curves), TOL)
    assert (picks["best"], picks["range_low"], picks["range_high"]) == (1e-3, 1e-3, 3e-3)


def test_trade_off_falls_back_to_the_best_lr_when_no_saving_is_significant():
    acc = {1e-3: [0.980] * 5, 3e-3: [0.979] * 5}
    runs, curves = sweep(acc, {1e-3: [20, 22, 19, 21, 20], 3e-3: [17, 25, 15, 26, 18]})  # 0.2 fewer, noisy
    picks = C.decide(matrices(runs, curves), TOL)
    assert picks["tradeoff"] == 1e-3 and not picks["tradeoff_saves"]
    row = answer.answer_row(_conclusions(runs, curves))
    assert row["tradeoff_lr"] == answer.SAME_AS_BEST


def test_trade_off_is_the_lr_with_a_significant_saving():
    acc = {1e-3: [0.980] * 5, 3e-3: [0.979] * 5}
    runs, curves = sweep(acc, {1e-3: [20, 22, 19, 21, 20], 3e-3: [14, 15, 13, 15, 14]})
    picks = C.decide(matrices(runs, curves), TOL)
    assert picks["tradeoff"] == 3e-3 and picks["tradeoff_saves"]


def test_a_pick_that_flips_with_one_seed_is_a_set():
    acc = {1e-3: [0.980, 0.980, 0.980, 0.980, 0.990],  # best only thanks to seed 4
           2e-3: [0.982, 0.982, 0.982, 0.982, 0.978]}
    runs, curves = sweep(acc, {lr: [10] * 5 for lr in acc})
    r = matrices(runs, curves)
    assert C.decide(r, TOL)["best"] == 1e-3
    best = C.stability(r, TOL, resamples=500)["best"]
    assert not best["stable"] and best["set"] == [1e-3, 2e-3]
    assert 2e-3 in best["leave_one_seed_out"]  # leaving seed 4 out flips it
    row = answer.answer_row(_conclusions(runs, curves))
    assert row["best_lr"] == "0.001 or 0.002"


def test_a_pick_every_resample_agrees_on_is_one_lr():
    acc = {1e-3: [0.980, 0.981, 0.979, 0.980, 0.981], 1e-2: [0.90, 0.91, 0.90, 0.92, 0.90]}
    runs, curves = sweep(acc, {lr: [10] * 5 for lr in acc})
    best = C.stability(matrices(runs, curves), TOL, resamples=200)["best"]
    assert best["stable"] and best["set"] == [1e-3] and best["bootstrap_share"] == 1.0


def test_stability_is_deterministic():
    acc = {1e-3: [0.980, 0.980, 0.980, 0.980, 0.990], 2e-3: [0.982, 0.982, 0.982, 0.982, 0.978]}
    runs, curves = sweep(acc, {lr: [10] * 5 for lr in acc})
    r = matrices(runs, curves)
    assert C.stability(r, TOL, resamples=300) == C.stability(r, TOL, resamples=300)


def test_power_law_fit_recovers_the_exponent_of_the_learning_edge():
    rows = [{"lr": lr, "seed": seed, "left_chance_epoch": round(6e-5 / lr), "cap": 200, "first_train_loss": 2.3,
             "last_train_loss": 2.2} for lr in (1e-6, 2e-6, 3e-6, 5e-6, 1e-5) for seed in range(3)]  # E = 6e-5 / LR
    rows.append({"lr": 5e-7, "seed": 0, "left_chance_epoch": None, "cap": 200, "first_train_loss": 2.3,
                 "last_train_loss": 2.29})  # still on the plateau at the cap
    edge = C.edge_without_patience(pd.DataFrame(rows), pd.DataFrame(columns=["lr", "seed", "epoch", "train_loss",
                                                                          "valid_acc"]),
                                   pd.DataFrame(columns=["lr", "seed", "epoch", "train_loss", "valid_acc"]),
                                   pd.DataFrame(columns=["lr", "seed", "epochs"]))
    assert edge["fit"]["exponent_b"] == pytest.approx(-1.0, abs=1e-3) and edge["fit"]["c"] == pytest.approx(6e-5)
    assert edge["every_lr_learns_from"] == 1e-6  # 5e-7 has a seed still at chance
    assert edge["per_lr"][0]["left_chance"] == 0 and edge["per_lr"][1]["epochs_median"] == 60


def test_a_run_cut_where_patience_five_would_stop_it():
    curve = pd.DataFrame({"epoch": range(1, 13), "valid_acc": [0.1, 0.5, 0.6, 0.6, 0.59, 0.6, 0.58, 0.6,
                                                             0.7, 0.71, 0.7, 0.7]})
    assert C.stopped_with_patience(curve, 5) == (0.6, 8)  # epochs 4-8 bring nothing better than 0.6
    assert C.stopped_with_patience(curve, 20) == (0.71, 12)


def test_ablation_verdict_compares_each_gain_with_the_best_lrs_and_counts_censored_runs():
    gains = pd.DataFrame(
        [{"lr": 1e-3, "seed": s, "valid_gain": g, "test_gain": 0.0, "epochs": 40, "short_epochs": 20, "at_cap": False}
         for s, g in enumerate([0.002, 0.001, 0.002])]
        + [{"lr": 1e-5, "seed": s, "valid_gain": g, "test_gain": 0.003, "epochs": 400, "short_epochs": 200,
            "at_cap": s == 0} for s, g in enumerate([0.010, 0.012, 0.011])]
        + [{"lr": 1e-4, "seed": s, "valid_gain": g, "test_gain": 0.001, "epochs": 60, "short_epochs": 50,
            "at_cap": False} for s, g in enumerate([0.002, 0.001, 0.003])])
    verdict = C.ablation_verdict(gains, 1e-3, range_low=2e-4, best_mean=0.98, default_means={1e-5: 0.96, 1e-4: 0.97})
    assert verdict["population"] == [1e-5, 1e-4] and verdict["censored_runs"] == 1
    # 1e-5 gains 0.008 to 0.011 beyond the best LR's: significant alone, after Holm over the two LRs; 1e-4 not
    assert verdict["significant_holm_at"] == [1e-5]
    # pooled per seed over the two LRs: (0.008 + 0), (0.011 + 0), (0.009 + 0.001), halved: 0.004, 0.0055, 0.005
    assert verdict["pooled"]["positive"] == 2 and verdict["pooled"]["beyond_mean"] == pytest.approx(0.004833, abs=1e-6)
    assert verdict["pooled"]["p_value"] < 0.01 and verdict["verdict"] == "holds at every LR"
    assert verdict["positive_seeds"] == 4  # 1e-4: two seeds gain nothing beyond the best LR's
    assert verdict["gap_closed_range"] == pytest.approx([0.002 / 0.01, 0.011 / 0.02])


def test_gains_that_cancel_over_the_seeds_are_not_shown_though_every_lr_has_a_positive_mean():
    """Five LRs below the range, each with a mean gain beyond the best LR's a little above 0 but one seed losing as
    much as another gains: per seed, pooled over the LRs, the gains do not clear 0, and no LR shows it alone."""
    reference = [{"lr": 1e-3, "seed": s, "valid_gain": 0.002, "test_gain": 0.0, "epochs": 40, "short_epochs": 20,
                  "at_cap": False} for s in range(3)]
    below = [{"lr": lr, "seed": s, "valid_gain": 0.002 + g, "test_gain": 0.001, "epochs": 60, "short_epochs": 50,
              "at_cap": False} for lr in (1e-5, 2e-5, 5e-5, 1e-4, 2e-4) for s, g in enumerate([0.006, -0.005, 0.0])]
    verdict = C.ablation_verdict(pd.DataFrame(reference + below), 1e-3, range_low=3e-4, best_mean=0.98,
                                 default_means={})
    assert verdict["significant_holm_at"] == [] and verdict["pooled"]["positive"] == 5
    assert verdict["pooled"]["p_value"] > 0.05 and verdict["verdict"] == "not shown"


def test_the_ablation_is_judged_against_a_tied_best_lr_where_it_has_no_runs_at_the_best_one():
    """The reference runs were made at the best LR of the study they were made for; after a retrain a tied candidate
    may be called best. Any LR the seeds may call best serves; the best LR itself is preferred where it ran."""
    gains = pd.DataFrame({"lr": [1e-5, 2e-3, 2e-3], "seed": [0, 0, 1]})
    assert C.ablation_reference(gains, 2.5e-3, [2e-3, 2.5e-3]) == 2e-3  # no runs at 2.5e-3: the tied 2e-3
    assert C.ablation_reference(gains, 2e-3, [2e-3, 2.5e-3]) == 2e-3
    assert C.ablation_reference(gains, 5e-3, [5e-3, None]) == 5e-3  # no candidate ran: "no reference" follows
    verdict = C.ablation_verdict(gains.assign(valid_gain=0.0, test_gain=0.0, epochs=10, short_epochs=5, at_cap=False),
                                 5e-3, range_low=1e-3, best_mean=0.98, default_means={})
    assert verdict["verdict"] == "no reference"


def test_holm_rejects_step_down():
    assert C.holm([0.01, 0.04, 0.03], alpha=0.05) == [True, False, False]  # 0.03 > 0.05 / 2 stops it
    assert C.holm([0.01, 0.02, 0.04], alpha=0.05) == [True, True, True]  # 0.01 < 0.05/3, 0.02 < 0.05/2, 0.04 < 0.05
    assert C.holm([float("nan"), 0.001]) == [False, True]


def test_upper_edge_tells_never_learned_from_collapsed():
    curves = pd.DataFrame(
        [{"lr": 0.02, "seed": 0, "epoch": e, "valid_acc": a} for e, a in enumerate([0.1, 0.1, 0.1], 1)]
        + [{"lr": 0.02, "seed": 1, "epoch": e, "valid_acc": a} for e, a in enumerate([0.4, 0.1, 0.1], 1)]
        + [{"lr": 0.02, "seed": 2, "epoch": e, "valid_acc": a} for e, a in enumerate([0.5, 0.8, 0.9], 1)])
    runs = pd.DataFrame({"lr": [0.02] * 3, "seed": [0, 1, 2], "best_valid_acc": [0.1, 0.4, 0.9]})
    assert C.upper_edge(curves, runs, 0.01, CHANCE) == [
        {"lr": 0.02, "never_left_chance": 1, "learned_then_collapsed": 1, "stayed_learned": 1, "best_valid_max": 0.9}]


def _conclusions(runs, curves) -> dict:
    """metrics/summary.json of these runs, as the conclude stage assembles it and the answer row reads it."""
    return json.loads(json.dumps(C.json_safe(C.assemble(runs, curves, TOL, CHANCE, 5, 5000, 10000))))


# Two LRs tie for best (each is best on some seeds); 3e-4 is as good as both, but slower than 2e-3 only (against
# 1e-3, whose epochs scatter, its extra epochs are not measurable).
TIED = {3e-4: [0.979, 0.980, 0.979, 0.980, 0.979], 1e-3: [0.981, 0.980, 0.982, 0.980, 0.981],
        2e-3: [0.980, 0.981, 0.981, 0.981, 0.980], 1e-2: [0.90] * 5}
TIED_EPOCHS = {3e-4: [24, 25, 26, 25, 24], 1e-3: [26, 19, 27, 18, 25], 2e-3: [20, 21, 20, 21, 20], 1e-2: [20] * 5}


def test_the_recommended_range_does_not_depend_on_which_tied_lr_is_called_best():
    runs, curves = sweep(TIED, TIED_EPOCHS)
    r = matrices(runs, curves)
    best = C.stability(r, TOL, resamples=300)["best"]
    assert not best["stable"] and best["set"] == [1e-3, 2e-3]  # the seeds tie them
    # against 1e-3 alone, 3e-4 is as good and no slower; against 2e-3 (4.4 epochs more, paired) it is slower
    assert C.recommended_range(r, [1e-3], TOL) == (3e-4, 2e-3)
    assert C.recommended_range(r, [2e-3], TOL)[0] == 1e-3
    # tested against every LR the seeds may call best, either order: 3e-4 is out
    assert C.recommended_range(r, [1e-3, 2e-3], TOL) == C.recommended_range(r, [2e-3, 1e-3], TOL) == (1e-3, 2e-3)
    # while it is as good as the best: the best range keeps it
    assert C.decide(r, TOL)["range_low"] == 3e-4


def test_an_lr_as_good_but_measurably_slower_is_not_recommended():
    acc = {1e-4: [0.979, 0.980, 0.978, 0.981, 0.979], 1e-3: [0.980, 0.981, 0.979, 0.982, 0.980]}
    runs, curves = sweep(acc, {1e-4: [40, 42, 39, 41, 40], 1e-3: [20, 21, 19, 22, 20]})
    r = matrices(runs, curves)
    assert C.slower_flags(r, 1).tolist() == [True, False]
    assert C.recommended_range(r, [1e-3], TOL) == (1e-3, 1e-3) and C.decide(r, TOL)["range_low"] == 1e-4
    c = _conclusions(runs, curves)
    assert c["recommended"]["below"] == {"as_good_down_to": 1e-4, "extra_epochs": pytest.approx(20.0),
                                         "extra_epochs_interval": pytest.approx([19.122, 20.878], abs=1e-3)}
    table = per_lr(runs, curves)
    assert table["slower_than_best"].tolist() == [True, False] and table["recommended"].tolist() == [False, True]


def test_the_recommended_range_states_its_core_and_names_its_movable_ends():
    """An end that one seed moves is left out of the stated range, and given beside it."""
    acc = {1e-4: [0.979, 0.980, 0.979, 0.980, 0.960],  # as good only while seed 4 stays out of the resample
           1e-3: [0.980, 0.981, 0.980, 0.981, 0.981], 3e-3: [0.980, 0.980, 0.981, 0.980, 0.980], 1e-2: [0.90] * 5}
    runs, curves = sweep(acc, {lr: [20] * 5 for lr in acc})
    c = _conclusions(runs, curves)
    rec = c["recommended"]
    assert (rec["low_lr"], rec["high_lr"]) == (1e-3, 3e-3)  # 1e-4's mean gap 0.0044 with seed 4's 0.021: not shown
    assert rec["core"] == {"low_lr": 1e-3, "high_lr": 3e-3, "lrs": 2} and rec["stated"] == rec["core"]
    shares = {x["lr"]: x["share"] for x in rec["shares"]}
    assert shares[1e-3] == shares[3e-3] == 1.0 and 0.05 <= shares[1e-4] < 0.8  # in when seed 4 is not drawn
    assert rec["epochs_median"] == 20 and rec["runs"] == 10 and rec["valid_mean"] == pytest.approx(0.9804)
    assert answer.answer_row(c)["answer"] == "0.001 to 0.003"


def test_the_speed_law_recovers_its_exponent_and_predicts_with_an_interval():
    """Runs whose epochs to 0.9 are 2e-4 / LR (times a little noise per seed): slope -1, prediction below."""
    lrs = [1e-6, 2e-6, 5e-6, 1e-5, 1e-4, 1e-3]
    acc = {lr: [0.98] * 3 for lr in lrs}
    to_90 = {lr: [round(2e-4 / lr * f) for f in (0.95, 1.0, 1.05)] for lr in lrs}
    # each curve climbs linearly from 0.11 to 0.98 at `reach`, crossing 0.9 at 0.79/0.87 of the way
    reach = {lr: [max(1, round(e * 0.87 / 0.79)) for e in to_90[lr]] for lr in lrs}
    runs, curves = sweep(acc, {lr: [x + 5 for x in reach[lr]] for lr in lrs}, reach=reach)
    fit = C.speed_fit(curves, runs, 0.9, below_lr=1e-3, predict_at=[2e-7])
    # 1e-3 is not below the range, and 1e-4 (2 epochs) is too coarse a clock: neither is fitted
    assert fit["lrs"] == [1e-6, 2e-6, 5e-6, 1e-5] and fit["runs"] == 12
    assert fit["exponent_b"] == pytest.approx(-1.0, abs=0.02) and fit["r_squared"] > 0.99
    predicted = fit["predictions"][0]
    assert predicted["extrapolated"] and predicted["low"] < predicted["epochs"] < predicted["high"]
    assert predicted["epochs"] == pytest.approx(1000, rel=0.05)
    # measured at 2e-7: two seeds within the interval, one not within its cap
    check_runs = pd.DataFrame({"lr": [2e-7] * 3, "seed": [0, 1, 2], "epochs": [990, 1010, 1200], "cap": [1200] * 3})
    check_curves = pd.DataFrame([{"lr": 2e-7, "seed": seed, "epoch": e, "valid_acc": 0.95 if e == last else 0.5}
                                 for seed, last in ((0, 990), (1, 1010), (2, 1201)) for e in (1, min(last, 1200))])
    measured = C.speed_check(fit, check_runs, check_curves, 0.9)["per_lr"][0]
    assert measured["epochs"] == [990, 1010, None] and measured["epochs_median"] is None
    assert not measured["inside_prediction_interval"] and measured["cap"] == 1200
    check_curves.loc[check_curves["seed"] == 2, "valid_acc"] = [0.5, 0.95]  # the third reaches 0.9 at its cap
    measured = C.speed_check(fit, check_runs, check_curves, 0.9)["per_lr"][0]
    assert measured["epochs_median"] == 1010 and measured["inside_prediction_interval"]


def test_the_checks_speak_only_about_a_sweep_made_like_them(defaults):
    """A committed check (the learning edge, the ablation, a split) made with the default data sizes, batch size,
    loss and precision is left out for an experiment that changed them, and named as such."""
    from stages import conclude

    made = pd.DataFrame([recorded_settings(defaults)])
    assert conclude.made_like(made, made.copy())
    assert conclude.made_like(made, made.assign(patience=20, max_epochs=400))  # what the checks vary
    assert not conclude.made_like(made, made.assign(train_size=1000))
    assert not conclude.made_like(made, made.drop(columns="precision"))  # a table that does not say
    params = defaults
    info = {"settings": C.sweep_settings(params)}
    assert conclude.edge_made_like(info, params)
    assert not conclude.edge_made_like(info, {**params, "data": {**params["data"], "train_size": 1000}})
    assert not conclude.edge_made_like({}, params)  # a table that does not say how it was made is not used


def test_the_range_on_every_draw_of_the_images_is_the_overlap_of_the_draws_ranges():
    lrs = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2]
    study = sweep({1e-4: [0.90] * 3, 3e-4: [0.978] * 3, 1e-3: [0.98] * 3, 3e-3: [0.979] * 3, 1e-2: [0.978] * 3},
                  {lr: [20] * 3 for lr in lrs})
    # another draw: the range ends one step lower at the top, one step lower at the bottom
    other = sweep({1e-4: [0.977] * 3, 3e-4: [0.979] * 3, 1e-3: [0.98] * 3, 3e-3: [0.978] * 3, 1e-2: [0.95] * 3},
                  {lr: [20] * 3 for lr in lrs})
    c = C.assemble(*study, TOL, CHANCE, 5, 5000, 10000, splits={7: other}, split_seed=1)
    assert (c["best_range"]["low_lr"], c["best_range"]["high_lr"]) == (3e-4, 1e-2)
    assert (c["split_sensitivity"]["splits"]["split-7"]["picks"]["range_low"],
            c["split_sensitivity"]["splits"]["split-7"]["picks"]["range_high"]) == (1e-4, 3e-3)
    assert c["split_sensitivity"]["common_range"] == {"low_lr": 3e-4, "high_lr": 3e-3, "draws": 2}
    assert "**0.0003 to 0.003**" in "\n".join(report.split_lines(c))
    # draws whose ranges do not overlap: no common range, and the sentence says so
    apart = sweep({1e-4: [0.98] * 3, 3e-4: [0.90] * 3, 1e-3: [0.90] * 3, 3e-3: [0.90] * 3, 1e-2: [0.90] * 3},
                  {lr: [20] * 3 for lr in lrs})
    c = C.assemble(*study, TOL, CHANCE, 5, 5000, 10000, splits={7: apart}, split_seed=1)
    words = "\n".join(report.split_lines(c))
    assert c["split_sensitivity"]["common_range"] is None and "do not overlap" in words and "largely luck" in words


def test_every_conclusion_carries_its_interval_and_its_stability_and_the_report_words_its_rule():
    """metrics/summary.json as the conclude stage assembles it: each conclusion with the uncertainty of its numbers
    and how often seed resamples repeat its pick; its rule's words are the report's alone."""
    acc = {1e-6: [0.11] * 5, 1e-5: [0.11, 0.9, 0.11, 0.92, 0.11], 1e-4: [0.97, 0.971, 0.969, 0.972, 0.97],
           1e-3: [0.980, 0.981, 0.979, 0.982, 0.980], 3e-3: [0.979, 0.980, 0.978, 0.981, 0.979], 1e-2: [0.11] * 5}
    runs, curves = sweep(acc, {lr: [10, 12, 11, 10, 13] for lr in acc})
    c = json.loads(json.dumps(C.json_safe(C.assemble(runs, curves, TOL, CHANCE, 5, valid_images=5000,
                                                         test_images=10000, splits={}, split_seed=1))))
    assert "rule" not in json.dumps(c) and "statement" not in c  # no rule text, no sentence
    assert {"best", "best_range", "recommended", "slower", "tradeoff", "time_to_target", "edges", "not_told_apart",
            "speed", "common_range", "still_improving", "learned", "equivalent", "cost", "stability"} <= set(report.RULES)
    assert c["best"]["valid_interval"][0] < c["best"]["valid_mean"] < c["best"]["valid_interval"][1]
    assert c["best"]["stability"]["candidates"] and c["tradeoff"]["stability"]["candidates"]
    assert c["tradeoff"]["saving_interval"][0] <= c["tradeoff"]["saving_interval"][1]
    # the range: every LR in it with its 90% interval of (best - LR) inside +-tolerance, and how stable its ends are
    assert [x["lr"] for x in c["best_range"]["equivalence_intervals"]] == [1e-3, 3e-3]
    assert all(-TOL < x["interval"][0] <= x["interval"][1] < TOL for x in c["best_range"]["equivalence_intervals"])
    assert set(c["best_range"]["ends"]) == {"low", "high"}
    # time to target: the mean epochs' interval (every seed reached the target at the fastest LR)
    low, high = c["time_to_target"]["epochs_interval"]
    assert low <= c["time_to_target"]["epochs_median"] <= high and c["time_to_target"]["stability"]["candidates"]
    # the edges: the fraction of seeds that learned with its exact interval, beside each edge's stability
    p5 = c["learning_edge"]["with_early_stopping"]
    assert p5["learned_intervals"]["none_up_to"] == {"lr": 1e-6, "learned": "0/5", "interval": [0.0, 0.521824]}
    assert p5["learned_intervals"]["all_from"]["lr"] == 1e-4 and p5["stability"]["all_from"]["candidates"]
    # cannot tell apart: a paired 95% interval containing 0, only where every seed left the plateau (3e-3 sits 0.001
    # below the best at every seed: its interval is [0.001, 0.001], not containing 0)
    assert c["not_told_apart"] == {"best_lr": 1e-3, "lrs": [], "not_shown_equivalent": []}
    assert c["recommended"]["references"] == c["best"]["stability"]["set"]


def test_one_seed_gives_no_interval_of_the_epochs_to_target():
    runs, curves = sweep({1e-3: [0.98], 3e-3: [0.97]}, {1e-3: [10], 3e-3: [8]})
    r = matrices(runs, curves)
    assert C.to_target_interval(r, 1e-3) is None and C.to_target_interval(r, None) is None


def test_the_answer_states_the_lrs_recommended_on_every_machine_the_study_was_made_on():
    """The same runs made on another machine (other last bits) shift the range by one step: the answer states the
    LRs inside the core on both, and each machine's own range is kept beside it."""
    lrs = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2]
    good = [0.980, 0.981, 0.980, 0.981, 0.980]
    here = {1e-4: [0.95] * 5, 3e-4: good, 1e-3: good, 3e-3: good, 1e-2: [0.96] * 5, 3e-2: [0.11] * 5}
    there = {**here, 3e-4: [0.96] * 5, 1e-2: good}  # elsewhere the range is one step higher
    epochs = {lr: [20] * 5 for lr in lrs}
    runs, curves = sweep(here, epochs)
    c = json.loads(json.dumps(C.json_safe(C.assemble(runs, curves, TOL, CHANCE, 5, 5000, 10000,
                                                         machines={"isa-other": sweep(there, epochs)}))))
    rec = c["recommended"]
    assert (rec["low_lr"], rec["high_lr"]) == (3e-4, 3e-3) and rec["core"]["low_lr"] == 3e-4
    other = rec["machines"]["machines"]["isa-other"]
    assert (other["low_lr"], other["high_lr"]) == (1e-3, 1e-2)
    # run by run: the runs of 4 of the 6 LRs came out the same there; those of 3e-4 and 1e-2 moved by 1.5 points
    assert other["runs"]["compared"] == 30 and other["runs"]["identical"] == 20
    assert other["runs"]["valid_points_mean"] == pytest.approx(0.0, abs=1e-9)
    assert rec["machines"]["common"] == {"low_lr": 1e-3, "high_lr": 3e-3}
    assert rec["stated"] == {"low_lr": 1e-3, "high_lr": 3e-3, "lrs": 2} and rec["runs"] == 10
    block = "\n".join(report.answer_block({**c, "per_lr": []}))
    assert "**Use a learning rate from 0.001 to 0.003**" in block and "5 seeds, 2 machines" in block
