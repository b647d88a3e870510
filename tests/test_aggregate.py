"""The aggregate stage reads exactly the runs params.yaml names, refuses mixed settings, and writes the sweep's
tables with no choice in them."""

import pandas as pd
import pytest

from stages import aggregate
from stages.lib import tables
from tests.committed import REPO_ROOT
from tests.synthetic import run, write_run


def damage_results(files):
    files["results"].write_text(files["results"].read_text()[:40])  # truncated: the disk filled up mid-write


def drop_line(index):
    def damage(files):
        lines = files["history"].read_text().splitlines(keepends=True)
        files["history"].write_text("".join(lines[:index] + lines[index + 1:]))
    return damage


def garble_history(files):
    files["history"].write_bytes(b'epoch,train_loss\n"1,\xff\xfe\n2,3,4,5,6\n')


@pytest.mark.parametrize("damage, what", [
    (damage_results, r"results\.json is damaged \(not JSON: "),
    (lambda files: files["results"].write_text("[1, 2]"), r"results\.json is damaged \(not a JSON object\)"),
    (lambda files: files["results"].write_text('{"lr": 0.001}'), r"results\.json is damaged \(no seed, best_valid_acc"),
    (drop_line(0), r"history\.csv is damaged \(its header is not epoch,train_loss,valid_acc,elapsed_s\)"),
    (drop_line(2), r"history\.csv is damaged \(its rows are not one per epoch, numbered from 1\)"),
    (drop_line(3), r"history\.csv is damaged \(2 epochs, where results\.json says 3\)"),
    (garble_history, r"history\.csv is damaged \("),
    (lambda files: files["history"].write_text(""), r"history\.csv is damaged \(not a CSV table"),
])
def test_a_damaged_run_file_is_named_with_how_to_get_it_back(workdir, damage, what):
    write_run(0.001, 0, 0.98)
    damage(write_run(0.001, 1, 0.97))
    with pytest.raises(aggregate.SweepError, match=r"^data/runs/0\.001-1/" + what):
        aggregate.load_curves([0.001], [0, 1], {(r["lr"], r["seed"]): r["epochs"]
                                                for r in aggregate.load_runs([0.001], [0, 1])})
    message = str(pytest.raises(aggregate.SweepError, aggregate.load_curves, [0.001], [0, 1], {(0.001, 1): 3}).value
                  if "history" in what else
                  pytest.raises(aggregate.SweepError, aggregate.load_runs, [0.001], [0, 1]).value)
    assert message.endswith("`dvc checkout data/runs/0.001-1` restores the run from DVC's cache, "
                            "`dvc repro --force --single-item train@0.001-1` trains it again")


def test_a_stage_run_on_a_damaged_file_ends_with_that_one_line(workdir):
    import subprocess
    import sys

    from tests.pipeline import REPO_ROOT, set_params

    (workdir / "params.yaml").write_text((REPO_ROOT / "params.yaml").read_text())
    set_params(workdir, **{"sweep.lrs": [0.001], "sweep.seeds": [0, 1]})
    write_run(0.001, 0, 0.98)
    damage_results(write_run(0.001, 1, 0.97))
    done = subprocess.run([sys.executable, "-m", "stages.aggregate"], cwd=workdir, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT)})
    assert done.returncode == 1 and not (workdir / "metrics").exists()
    assert done.stderr.startswith("aggregate: error: data/runs/0.001-1/results.json is damaged (not JSON: ")
    assert len(done.stderr.strip().splitlines()) == 1


def test_reads_exactly_the_runs_params_name(workdir):
    for lr in (0.001, 0.01, 0.1):  # 0.1 and seed 2: runs left over from an older grid
        for seed in (0, 1, 2):
            write_run(lr, seed, 0.9)
    runs = aggregate.load_runs([0.01, 0.001], [0, 1])
    assert sorted((r["lr"], r["seed"]) for r in runs) == [(0.001, 0), (0.001, 1), (0.01, 0), (0.01, 1)]
    curves = aggregate.load_curves([0.01, 0.001], [1, 0])
    assert curves[["lr", "seed"]].drop_duplicates().values.tolist() == [[0.001, 0], [0.001, 1], [0.01, 0], [0.01, 1]]
    assert curves["log10_lr"].tolist()[:2] == [-3.0, -3.0]


def test_names_a_missing_run_and_the_command_that_makes_it(workdir):
    write_run(0.001, 0, 0.98)
    with pytest.raises(aggregate.SweepError, match=r"lr 1e-05, seed 0 .*dvc repro train@1e-05-0"):
        aggregate.load_runs([0.001, 1e-05], [0])


def test_refuses_runs_made_under_different_settings(workdir):
    write_run(0.001, 0, 0.98)
    write_run(0.01, 0, 0.97, patience=10)  # e.g. left over from `dvc exp run -S train.patience=10`
    with pytest.raises(aggregate.SweepError, match=r"different patience \(10, 5\)"):
        aggregate.load_runs([0.001, 0.01], [0])


def test_the_tables_hold_the_runs_and_their_spread_and_no_choice():
    runs = tables.runs_table([run(lr, seed, 0.9 + 0.01 * seed, epochs=10 + seed) for lr in (0.001, 1e-06) for seed in (1, 0)])
    assert list(runs.columns[:len(tables.RUN_COLUMNS)]) == tables.RUN_COLUMNS
    assert list(zip(runs["lr"], runs["seed"])) == [(1e-06, 0), (1e-06, 1), (0.001, 0), (0.001, 1)]
    lrs = tables.lr_table(runs)
    assert list(lrs.columns) == tables.LR_COLUMNS
    row = lrs.iloc[1].to_dict()
    assert (row["lr"], row["seeds"], row["epochs_median"]) == (0.001, 2, 10.5)
    assert (row["valid_mean"], row["valid_min"], row["valid_max"]) == pytest.approx((0.905, 0.9, 0.91))
    assert row["cost_median_s"] == pytest.approx(10.5 * 1.0)  # the synthetic runs take 1 s per epoch
    # what the conclude stage decides is in neither table: no learned flag, interval, range, pick or front
    chosen = {"learned", "learned_fraction", "in_best_range", "pareto", "indistinguishable_from_best",
              "epochs_to_target", "valid_ci_low", "still_improving"}
    assert not chosen & (set(runs.columns) | set(lrs.columns))


def test_the_aggregate_reads_no_analysis_setting():
    """A change of analysis.tolerance or chance_level never runs the aggregate again (nor the 230 runs)."""
    import yaml

    stage = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]["aggregate"]
    assert stage["params"] == ["sweep"]
    source = (REPO_ROOT / "stages/aggregate.py").read_text() + (REPO_ROOT / "stages/lib/tables.py").read_text()
    assert "Analysis" not in source and "chance_level" not in source and "tolerance" not in source


def test_lrs_survive_the_csv_round_trip(workdir):
    table = pd.DataFrame({"lr": [1.2345678e-05, 0.001], "valid_mean": [0.9, 0.98]})
    aggregate.write_csv(workdir / "t.csv", table)
    assert pd.read_csv(workdir / "t.csv")["lr"].tolist() == [1.2345678e-05, 0.001]


def test_refuses_runs_whose_math_ran_with_other_instruction_sets(workdir):
    write_run(0.001, 0, 0.98, cpu_capability="AVX2", onednn_isa="Intel AVX2", isa_pins={})
    write_run(0.01, 0, 0.97, cpu_capability="AVX512", onednn_isa="Intel AVX-512", isa_pins={})  # another machine
    with pytest.raises(aggregate.SweepError, match=r"machines whose math differs: cpu_capability \"AVX2\", \"AVX512\""):
        aggregate.load_runs([0.001, 0.01], [0])


def test_the_instruction_sets_checked_are_those_a_run_records():
    from stages.lib.machine import math_dispatch
    from stages.lib.sweep_facts import ARITHMETIC

    assert tuple(math_dispatch("cpu")) == ARITHMETIC
