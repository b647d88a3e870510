"""The benchmark's own arithmetic (its timings are printed by `make bench`, never asserted)."""

import sys

import pandas as pd
import pytest
import torch

from bench import compare_sweeps
from bench.epoch import convolution_flops, epoch_flops
from bench.profile_epoch import OTHER_OPERATORS, OUTSIDE_OPERATORS, group_by_category
from stages.lib.training import Settings
from tests.committed import committed_params
from tests.synthetic import run as make_run


def test_epoch_work_is_about_100_gflop_at_the_default_sizes():
    data = {"train": (torch.zeros(3000, 1, 28, 28), torch.zeros(3000, dtype=torch.long)),
            "valid": (torch.zeros(5000, 1, 28, 28), torch.zeros(5000, dtype=torch.long))}
    flops_by_op = epoch_flops(data, Settings.on_cpu(committed_params(), 1e-3, 0))
    # forward: 114.28 M mult-adds per 32 images (torchinfo); backward about twice that, less the first layer's input
    assert 90e9 < sum(flops_by_op.values()) < 105e9
    # the convolutions are nearly all of it; the linear layers the rest
    assert 0.95 < convolution_flops(flops_by_op) / sum(flops_by_op.values()) < 1


def test_profile_groups_operators_by_kind_and_leaves_the_rest_to_the_python_loop():
    self_seconds = {"aten::mkldnn_convolution": 0.4, "aten::convolution_backward": 0.3, "aten::max_pool2d_with_indices": 0.05,
                    "aten::threshold_backward": 0.02, "aten::addmm": 0.01, "aten::t": 0.001, "aten::_fused_adamw_": 0.01,
                    "Optimizer.step#AdamW.step": 0.004, "aten::fill_": 0.02, "autograd::engine::evaluate_function: X": 0.005}
    groups = group_by_category(1.0, self_seconds)
    assert groups["convolutions"] == pytest.approx(0.7)
    assert groups["max-pooling"] == pytest.approx(0.05)
    assert groups["linear layers"] == pytest.approx(0.011)
    assert groups["optimizer (fused AdamW)"] == pytest.approx(0.014)
    assert groups[OTHER_OPERATORS] == pytest.approx(0.005)
    assert groups[OUTSIDE_OPERATORS] == pytest.approx(1.0 - sum(self_seconds.values()))
    assert sum(groups.values()) == pytest.approx(1.0)


def test_compare_sweeps_prints_both_and_plots(tmp_path, monkeypatch, capsys):
    # A: two seeds per LR, B: a single-seed table without a seed column (as bench/results/sweep_bf16.csv)
    a = pd.DataFrame([make_run(1e-3, 0, 0.979, 30), make_run(1e-3, 1, 0.981, 30), make_run(1e-2, 0, 0.97, 10),
                      make_run(1e-2, 1, 0.97, 10)])
    b = pd.DataFrame([make_run(1e-3, 0, 0.975, 20), make_run(1e-2, 0, 0.95, 8)]).drop(columns="seed")
    a.to_csv(tmp_path / "a.csv", index=False)
    b.to_csv(tmp_path / "b.csv", index=False)
    monkeypatch.setattr(sys, "argv", ["compare", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"),
                                      str(tmp_path / "c.png")])
    compare_sweeps.main()
    out = capsys.readouterr().out
    assert "| 0.001 | 0.9800 | 0.9750 |" in out
    assert "largest validation-accuracy difference: 0.0200 at LR 0.01" in out
    assert "A: best LR 0.001 (0.9800)" in out and "B: best LR 0.001 (0.9750)" in out
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
