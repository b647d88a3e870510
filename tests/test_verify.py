"""`make verify`'s pieces: which committed runs it retrains, and how it tells a retrained run from the committed one.
(The whole tool, retraining real runs, is checked end to end in tests/test_e2e_sweep.py.)"""

import math

import pandas as pd
import pytest

from stages.lib.sweep_facts import ARITHMETIC
from tools import verify


def committed_runs(lrs=(1e-06, 1e-05, 1e-04, 1e-03, 1e-02), seeds=(0, 1, 2, 3, 4)):
    return pd.DataFrame([{"lr": lr, "seed": seed, "epochs": 5} for seed in seeds for lr in lrs])


def test_the_sample_spreads_over_the_whole_lr_range_with_seeds_in_turn():
    sample = verify.spread(committed_runs(), 5)
    assert sample["lr"].tolist() == [1e-06, 1e-05, 1e-04, 1e-03, 1e-02]  # both ends included
    assert sample["seed"].tolist() == [0, 1, 2, 3, 4]
    assert len(verify.spread(committed_runs(), 1000)) == 25 and len(verify.spread(committed_runs(), 1)) == 1


def curve(losses, accs):
    return pd.DataFrame({"epoch": range(1, len(losses) + 1), "train_loss": losses, "valid_acc": accs})


RESULTS = {"best_valid_acc": 0.9, "test_acc": 0.89, "epochs": 3, "best_epoch": 2, "stopped_by": "early_stopping"}


def test_an_identical_run_has_no_differences_nan_included():
    losses, accs = [2.0, 1.5, math.nan], [0.5, 0.9, math.nan]  # a diverged last epoch has no accuracy
    assert verify.compare(RESULTS, curve(losses, accs), dict(RESULTS), curve(list(losses), list(accs))) == []


def test_a_run_that_parts_is_reported_at_its_first_differing_epoch_and_in_its_results():
    committed = curve([2.0, 1.5, 1.25], [0.5, 0.9, 0.9])
    retrained = curve([2.0, 1.5000000000000002, 1.26], [0.5, 0.9, 0.9])
    differences = verify.compare(RESULTS, committed, RESULTS | {"test_acc": 0.8901}, retrained)
    assert differences == ["first differs at epoch 2: train_loss 1.5000000000000002 (committed 1.5)",
                           "test_acc 0.8901 (committed 0.89)"]


def test_a_shorter_history_with_the_same_epochs_is_a_difference():
    assert verify.compare(RESULTS, curve([2.0, 1.5, 1.2], [0.5, 0.9, 0.9]), RESULTS, curve([2.0, 1.5], [0.5, 0.9])) == [
        "2 epochs in its history (committed 3)"]


@pytest.mark.parametrize("argv, message", [(["--runs", "0"], r"--runs must be a whole number"),
                                           (["--runs", "ten"], r"--runs must be a whole number"),
                                           (["--jobs", "²"], r"--jobs must be a whole number from 1 to 256")])
def test_bad_arguments_stop_with_one_line(tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data/split").mkdir(parents=True)
    (tmp_path / "data/split/tensors.pt").write_bytes(b"")
    (tmp_path / "metrics").mkdir()
    committed_runs().assign(threads=1).to_csv(tmp_path / "metrics/runs.csv", index=False)
    curve([1.0], [0.5]).to_csv(tmp_path / "metrics/learning_curves.csv", index=False)
    with pytest.raises(SystemExit, match=message):
        verify.main(argv)


def test_without_the_split_or_the_committed_tables_it_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match=r"data/split/tensors\.pt is missing: `dvc repro split` makes it"):
        verify.main([])
    (tmp_path / "data/split").mkdir(parents=True)
    (tmp_path / "data/split/tensors.pt").write_bytes(b"")
    with pytest.raises(SystemExit, match=r"metrics/runs\.csv is missing: it is the committed study"):
        verify.main([])


HERE = {"cpu_capability": "AVX2", "onednn_isa": "Intel AVX2", "mkl_isa": "Intel(R) Architecture processors",
        "isa_pins": {}}


def recorded_runs(**record):
    return pd.DataFrame([{"lr": 0.001, "seed": 0, **record}])


def test_verify_says_first_whether_identity_is_expected_from_the_runs_record():
    same = {**HERE, "isa_pins": "{}"}  # runs.csv holds the pins as JSON text
    expected, said = verify.arithmetic_expectation(recorded_runs(**same), HERE)
    assert expected is True and said.startswith("identity is expected")
    other = {**same, "cpu_capability": "AVX512", "onednn_isa": "Intel AVX-512 with AVX512BW, AVX512VL, and AVX512DQ"}
    expected, said = verify.arithmetic_expectation(recorded_runs(**other), HERE)
    assert expected is False and said.startswith("identity is NOT expected")
    assert "cpu_capability AVX512 (here AVX2)" in said and "mkl_isa" not in said
    pinned = {**same, "isa_pins": '{"ATEN_CPU_CAPABILITY": "avx2"}'}
    assert verify.arithmetic_expectation(recorded_runs(**pinned), HERE)[0] is False
    expected, said = verify.arithmetic_expectation(recorded_runs(), HERE)  # a study made before runs recorded it
    assert expected is None and "unknown" in said


def test_this_machines_record_is_what_a_run_made_here_records():
    import torch

    here = verify.this_machine_arithmetic()  # asked of a fresh process, as the train stage asks once per run
    assert tuple(here) == ARITHMETIC and here["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert here["onednn_isa"].startswith("Intel") and here["mkl_isa"] and here["isa_pins"] == {}
