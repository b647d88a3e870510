"""The benchmark's own arithmetic (its timings are printed by `make bench`, never asserted)."""

import sys

import torch

from bench import compare_sweeps
from bench.epoch import epoch_flops
from stages.lib.training import Settings
from tests.test_analysis import run as make_run


def test_epoch_work_is_about_100_gflop_at_the_default_sizes():
    data = {"train": (torch.zeros(3000, 1, 28, 28), torch.zeros(3000, dtype=torch.long)),
            "valid": (torch.zeros(5000, 1, 28, 28), torch.zeros(5000, dtype=torch.long))}
    flops = epoch_flops(data, Settings(lr=1e-3, seed=0))
    # forward: 114.28 M mult-adds per 32 images (torchinfo); backward about twice that, less the first layer's input
    assert 90e9 < flops < 105e9


def test_compare_sweeps_prints_both_and_plots(tmp_path, monkeypatch, capsys):
    from stages.lib import analysis

    a = analysis.sweep_table([make_run(1e-3, 0.98, 30.0), make_run(1e-2, 0.97, 10.0)])
    b = analysis.sweep_table([make_run(1e-3, 0.975, 20.0), make_run(1e-2, 0.95, 8.0)])
    a.to_csv(tmp_path / "a.csv", index=False)
    b.to_csv(tmp_path / "b.csv", index=False)
    monkeypatch.setattr(sys, "argv", ["compare", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"),
                                      str(tmp_path / "c.png")])
    compare_sweeps.main()
    out = capsys.readouterr().out
    assert "| 0.001 | 0.9800 | 0.9750 |" in out
    assert "largest validation-accuracy difference: 0.0200 at LR 0.01" in out
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
