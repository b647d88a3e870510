"""The LR range test: its ramp and smoothing, a real run of it on small synthetic data, and each rule on
hand-made loss curves whose answer can be worked out from the rule's definition."""

import math

import numpy as np
import pytest
import torch

from stages.lib import lr_find as R
from stages.lib.training import build_model, loss_fn
from tests.synthetic import synthetic_data

SETTINGS = {"start_lr": 1e-5, "end_lr": 1e-2, "steps": 30, "smoothing": 0.98, "divergence": 4.0}


def test_the_ramp_is_exponential_from_start_lr_towards_end_lr():
    lrs = [R.ramp_lr(step, 200, 1e-7, 1.0) for step in range(200)]
    assert lrs[0] == 1e-7 and lrs[100] == pytest.approx(1e-7 * 10**3.5)
    ratios = np.diff(np.log10(lrs))
    assert np.allclose(ratios, 7 / 200)  # 0.035 decades per step; step 200 (not run) would be end_lr


def test_the_smoothed_loss_is_bias_corrected():
    smoothed = R.SmoothedLoss(0.98)
    assert [smoothed.add(2.0) for _ in range(5)] == pytest.approx([2.0] * 5)  # no pull towards 0 at the start
    smoothed = R.SmoothedLoss(0.5)
    assert smoothed.add(1.0) == 1.0 and smoothed.add(3.0) == pytest.approx((0.5 * 1 + 1 * 3) / 1.5)


def test_a_range_test_follows_the_ramp_from_the_sweeps_initial_weights_and_batches():
    data = synthetic_data()
    result = R.range_test(data, seed=3, settings=SETTINGS, batch_size=16, double_softmax=False)
    curve = result["curve"]
    assert result["stopped_by"] == R.STOPPED_END and result["steps"] == 30 == len(curve)
    assert [row["lr"] for row in curve] == pytest.approx([R.ramp_lr(s, 30, 1e-5, 1e-2) for s in range(30)])
    assert result["train_images"] == 30 * 16  # 5 passes over the 96 training images
    # the first loss is the seed's initial model on the first batch of the seed's batch order, as in training
    model = build_model(3, "cpu")
    first = torch.randperm(96, generator=torch.Generator().manual_seed(3))[:16]
    with torch.no_grad():
        expected = loss_fn(model, *(t[first] for t in data["train"]), double_softmax=False).item()
    assert curve[0]["loss"] == pytest.approx(expected, rel=1e-5)
    again = R.range_test(data, seed=3, settings=SETTINGS, batch_size=16, double_softmax=False)
    assert [row["loss"] for row in again["curve"]] == [row["loss"] for row in curve]  # deterministic
    other_seed = R.range_test(data, seed=4, settings=SETTINGS, batch_size=16, double_softmax=False)
    assert [row["loss"] for row in other_seed["curve"]] != [row["loss"] for row in curve]


def test_a_range_test_stops_once_the_smoothed_loss_diverges():
    settings = {**SETTINGS, "end_lr": 1e4, "steps": 60, "divergence": 1.5}
    result = R.range_test(synthetic_data(), seed=0, settings=settings, batch_size=16, double_softmax=False)
    assert result["stopped_by"] == R.STOPPED_DIVERGED and result["steps"] < 60
    last = result["curve"][-1]["smoothed_loss"]
    assert not math.isfinite(last) or last > 1.5 * min(row["smoothed_loss"] for row in result["curve"])


# fastai's rules see the curve without the first tenth of the planned steps and the last 5 points: with
# planned_steps=10, one point in front and five behind the part a test is about.
def fastai_view(losses):
    losses = [99.0] + list(losses) + [99.0] * 5
    lrs = [10.0 ** (-7 + 0.1 * i) for i in range(len(losses))]
    return np.array(lrs), np.array(losses, dtype=float), lrs[1:-5]


def test_valley_sits_a_third_plus_a_sixth_into_the_longest_fall():
    # the longest strictly decreasing subsequence is 4, 3.5, 3, 2.5, 2, 1.5 (length 6, ending at position 6);
    # fastai counts its start as 6 - 6 = 0 and suggests position 0 + int(6/3) + int(6/3/2) = 3
    lrs, losses, seen = fastai_view([3, 4, 3.5, 3, 2.5, 2, 1.5, 5, 6])
    assert R.fastai_valley(lrs, losses, 10) == seen[3]


def test_steep_is_the_fastest_fall_per_decade():
    lrs = np.array([1e-4, 1e-3, 1e-2, 1e-1, 1.0, 2, 3, 4, 5, 6])
    losses = np.array([2.0, 1.9, 1.0, 0.8, 3.0, 9, 9, 9, 9, 9])  # the last 5 are trimmed
    assert R.fastai_steep(lrs, losses, 5) == 1e-3  # 1.9 -> 1.0 is the steepest step


def test_minimum_is_a_tenth_of_the_lr_with_the_lowest_loss():
    lrs, losses, seen = fastai_view([2.0, 1.5, 0.7, 0.9, 3.0])
    assert R.fastai_minimum(lrs, losses, 10) == pytest.approx(seen[2] / 10)
    lrs, losses, seen = fastai_view([2.0, np.nan, 0.1])  # a NaN ends the curve fastai reads
    assert R.fastai_minimum(lrs, losses, 10) == pytest.approx(seen[0] / 10)


def test_slide_moves_left_until_the_slopes_at_both_ends_of_its_window_agree():
    # flat up to position 29, then +1 per step: np.gradient is 0 up to 28, 0.5 at 29, 1 from 30 on. The window's
    # right end leaves the rise at position 28, where its left end is at 13: the last window that differed
    # had its left end at 14.
    lrs, losses, seen = fastai_view([max(0, i - 29) for i in range(40)])
    assert R.fastai_slide(lrs, losses, 10) == seen[14]
    lrs, losses, seen = fastai_view([1.0] * 40)  # slopes agree at once: the first window's left end
    assert R.fastai_slide(lrs, losses, 10) == seen[40 - 1 - 15]
    lrs, losses, _ = fastai_view([1.0] * 10)  # shorter than the window: no suggestion
    assert R.fastai_slide(lrs, losses, 10) is None


def test_lightning_takes_the_steepest_gradient_against_the_lr_itself():
    core_lrs, core_losses = [1.0, 2.0, 3.0, 4.0, 5.0], [5.0, 4.0, 1.0, 0.5, 0.4]
    lrs = np.array([0.1 * i for i in range(1, 11)] + core_lrs + [6.0])  # 10 skipped in front, 1 behind
    losses = np.array([9.0] * 10 + core_losses + [9.0])
    # np.gradient on (1, 2, 3, 4, 5): -1, -2, -1.75, -0.3, -0.1: the steepest at LR 2
    assert R.lightning_steepest(lrs, losses, 5) == 2.0


def test_lightning_on_an_exponential_ramp_favours_noise_at_tiny_lrs():
    # per unit of LR (not of log LR), a wobble of 0.01 between 1e-6 and 1.035e-6 is steeper than a fall of
    # 1 per decade near 1e-3: what the LR range test in this study shows on real curves
    lrs = np.array([R.ramp_lr(s, 200, 1e-7, 1.0) for s in range(200)])
    losses = 2.3 - np.clip(np.log10(lrs) + 4, 0, 2)  # falls by 1 per decade from 1e-4 to 1e-2
    losses[29] -= 0.01
    assert R.lightning_steepest(lrs, losses, 200) == pytest.approx(lrs[28])


def test_every_rule_reads_the_same_curve_and_rules_without_enough_curve_say_none():
    curve = [{"lr": R.ramp_lr(s, 200, 1e-7, 1.0), "smoothed_loss": 2.3 - 0.001 * s} for s in range(200)]
    assert set(R.suggestions(curve, 200)) == set(R.RULES)
    short = R.suggestions(curve[:8], 200)
    assert short == {name: None for name in R.RULES}
