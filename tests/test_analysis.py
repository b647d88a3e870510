"""The study's conclusions on hand-made sweep tables."""

import json

import pytest

from stages import aggregate
from stages.lib import analysis


def run(lr, acc, time, test=None, stopped_by="early_stopping", epochs=10):
    return {"lr": lr, "best_valid_acc": acc, "test_acc": acc - 0.001 if test is None else test,
            "train_time_s": time, "epochs": epochs, "best_epoch": max(epochs - 5, 0),
            "sec_per_epoch": time / epochs, "stopped_by": stopped_by, "device": "cpu", "threads": 2}


def summary_of(runs, tolerance=0.005, chance=0.2):
    return analysis.summarize(analysis.sweep_table(runs), tolerance, chance)


TYPICAL = [  # given out of order on purpose
    run(1e-3, 0.980, 30.0),
    run(1e-6, 0.110, 8.0),
    run(1e-5, 0.150, 9.0),
    run(1e-4, 0.960, 200.0),
    run(3e-4, 0.977, 60.0),
    run(3e-3, 0.978, 15.0),
    run(1e-2, 0.930, 12.0),
    run(3e-2, 0.976, 5.0),  # within tolerance, but not contiguous with the best
]


def test_table_is_sorted_by_lr_with_log10_and_the_required_columns():
    table = analysis.sweep_table(TYPICAL)
    assert table["lr"].tolist() == sorted(r["lr"] for r in TYPICAL)
    assert table["log10_lr"].tolist()[:2] == [-6.0, -5.0]
    assert list(table.columns[:9]) == analysis.COLUMNS


def test_typical_sweep():
    s = summary_of(TYPICAL)
    assert (s["best_lr"], s["best_valid_acc"], s["best_test_acc"]) == (1e-3, 0.980, 0.979)
    assert s["best_range"] == {"low_lr": 3e-4, "high_lr": 3e-3, "runs": 3}
    # the fastest run within tolerance anywhere, here outside the contiguous range
    assert s["tradeoff_lr"] == 3e-2 and s["tradeoff_train_time_s"] == 5.0
    assert s["no_learning_below"] == 1e-4 and s["no_learning_above"] is None
    assert s["learning_lrs"] == 6
    assert (s["tradeoff_epochs"], s["best_epochs"]) == (10, 10)
    assert s["pareto_lrs"] == [3e-2, 3e-3, 1e-3]
    assert s["total_epochs"] == 80 and s["total_train_time_s"] == 339.0
    assert s["device"] == "cpu" and s["threads"] == "2"


def test_choices_use_validation_accuracy_never_test_accuracy():
    runs = [run(1e-3, 0.98, 10.0, test=0.90), run(1e-2, 0.97, 10.0, test=0.99)]
    s = summary_of(runs, tolerance=0.001)
    assert s["best_lr"] == 1e-3 and s["best_test_acc"] == 0.90
    assert s["tradeoff_lr"] == 1e-3


def test_ties_go_to_the_faster_run_then_the_smaller_lr():
    s = summary_of([run(1e-3, 0.98, 20.0), run(2e-3, 0.98, 10.0), run(4e-3, 0.98, 10.0)], tolerance=0.0)
    assert s["best_lr"] == 2e-3
    assert s["best_range"] == {"low_lr": 1e-3, "high_lr": 4e-3, "runs": 3}
    assert s["tradeoff_lr"] == 2e-3
    assert s["pareto_lrs"] == [2e-3, 4e-3]  # equal on both counts: neither dominates the other


def test_tolerance_boundary_is_inclusive_despite_float_rounding():
    s = summary_of([run(1e-3, 0.98, 20.0), run(1e-2, 0.975, 10.0)], tolerance=0.005)
    assert s["best_range"]["runs"] == 2 and s["tradeoff_lr"] == 1e-2


def test_single_lr():
    s = summary_of([run(1e-3, 0.97, 12.0)])
    assert s["best_lr"] == s["tradeoff_lr"] == 1e-3
    assert s["best_range"] == {"low_lr": 1e-3, "high_lr": 1e-3, "runs": 1}
    assert s["no_learning_below"] is None and s["pareto_lrs"] == [1e-3]


def test_an_lr_that_never_learns():
    s = summary_of([run(1e-6, 0.11, 5.0), run(1e-3, 0.97, 12.0)])
    assert s["no_learning_below"] == 1e-3 and s["learning_lrs"] == 1
    assert s["best_lr"] == 1e-3
    # the quick non-learner sits on the Pareto front (fastest), but is never the trade-off pick
    assert s["pareto_lrs"] == [1e-6, 1e-3] and s["tradeoff_lr"] == 1e-3


def test_too_large_lrs_that_never_learn():
    runs = [run(1e-6, 0.11, 5.0), run(1e-3, 0.97, 12.0), run(1e-2, 0.95, 8.0), run(3e-2, 0.11, 9.0),
            run(1e-1, 0.10, 9.0)]
    s = summary_of(runs)
    assert s["no_learning_below"] == 1e-3 and s["no_learning_above"] == 1e-2


def test_no_lr_learns():
    s = summary_of([run(1e-6, 0.11, 5.0), run(1e-5, 0.12, 6.0)])
    assert s["no_learning_below"] is None and s["no_learning_above"] is None and s["learning_lrs"] == 0


def test_learning_at_the_smallest_lr_reports_no_threshold():
    assert summary_of(TYPICAL[:1] + [run(1e-6, 0.5, 5.0)])["no_learning_below"] is None


def test_every_run_diverged():
    runs = [run(1e-1, 0.098, 1.0, stopped_by="diverged", epochs=1),
            run(3e-1, 0.101, 1.2, stopped_by="diverged", epochs=1)]
    s = summary_of(runs)
    assert s["diverged_lrs"] == [1e-1, 3e-1]
    assert s["best_lr"] == 3e-1 and s["learning_lrs"] == 0 and s["no_learning_below"] is None
    json.dumps(s)  # still a valid summary


def test_a_diverged_run_does_not_break_the_range():
    runs = TYPICAL + [run(1e-1, 0.1, 2.0, stopped_by="diverged", epochs=1)]
    s = summary_of(runs)
    assert s["diverged_lrs"] == [1e-1]
    assert s["best_range"]["high_lr"] == 3e-3


def test_timing_summary_from_run_timestamps():
    runs = [dict(run(1e-3, 0.98, 10.0), startup_s=1.0, stage_wall_s=13.0,
                 started_at="2026-01-01T00:00:00+00:00", finished_at="2026-01-01T00:00:13+00:00"),
            dict(run(1e-2, 0.97, 5.0), startup_s=2.0, stage_wall_s=8.0,
                 started_at="2026-01-01T00:00:15+00:00", finished_at="2026-01-01T00:00:23+00:00")]
    s = summary_of(runs)
    assert s["sweep_wall_s"] == 23.0 and s["total_stage_wall_s"] == 21.0 and s["mean_startup_s"] == 1.5
    assert s["mean_sec_per_epoch"] == 0.75


def write_run(folder, lr, acc):
    (folder / "runs").mkdir(exist_ok=True)
    (folder / "history").mkdir(exist_ok=True)
    (folder / "runs" / f"{lr}.json").write_text(json.dumps(run(lr, acc, 10.0)))
    (folder / "history" / f"{lr}.csv").write_text("epoch,train_loss,valid_acc,elapsed_s\n1,2.0,0.5,1.0\n2,1.0,0.9,2.0\n")


def test_aggregate_reads_exactly_the_runs_params_name(tmp_path):
    for lr, acc in [(0.001, 0.98), (0.01, 0.97), (0.1, 0.5)]:  # 0.1: a run left over from an older grid
        write_run(tmp_path, lr, acc)
    runs = aggregate.load_runs([0.01, 0.001], tmp_path / "runs")
    assert sorted(r["lr"] for r in runs) == [0.001, 0.01]
    curves = aggregate.load_curves([0.01, 0.001], tmp_path / "history")
    assert curves["lr"].tolist() == [0.001, 0.001, 0.01, 0.01]
    assert curves["log10_lr"].tolist() == [-3.0, -3.0, -2.0, -2.0]


def test_aggregate_names_a_missing_run(tmp_path):
    write_run(tmp_path, 0.001, 0.98)
    with pytest.raises(aggregate.MissingRunError, match=r"lr 1e-05 .*dvc repro train@1e-05"):
        aggregate.load_runs([0.001, 1e-05], tmp_path / "runs")
