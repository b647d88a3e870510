"""The training loop on small synthetic data the tests make themselves."""

import dataclasses
import math

import pytest
import torch

from stages.lib.training import (STOPPED_DIVERGED, STOPPED_EARLY, STOPPED_MAX_EPOCHS, EarlyStopping, Settings,
                                 accuracy, build_model, loss_fn, train)
from tests.committed import committed_params
from tests.synthetic import synthetic_data


# The study's settings (params.yaml, as the train stage reads them), made small: a setting added to the schema
# reaches these tests without touching them.
SETTINGS = dataclasses.replace(Settings.on_cpu(committed_params(), 1e-3, 7), batch_size=16, patience=2, max_epochs=6)


def test_early_stopping_needs_strict_improvement_and_counts_patience():
    stopper = EarlyStopping(patience=3)
    scores = [0.50, 0.60, 0.60, 0.55, 0.61, 0.61, 0.61, 0.60, 0.99]
    new_best, stopped_at = [], None
    for epoch, score in enumerate(scores, start=1):
        new_best.append(stopper.update(epoch, score))
        if stopper.should_stop:
            stopped_at = epoch
            break
    assert new_best == [True, True, False, False, True, False, False, False]
    assert stopped_at == 8
    assert (stopper.best_score, stopper.best_epoch) == (0.61, 5)


def test_patience_one_stops_at_the_first_non_improvement():
    stopper = EarlyStopping(patience=1)
    assert stopper.update(1, 0.1) and not stopper.should_stop
    assert not stopper.update(2, 0.1) and stopper.should_stop


def test_runs_are_deterministic_and_start_from_the_same_weights():
    data = synthetic_data()
    first, second = train(data, SETTINGS), train(data, SETTINGS)
    timing = ("train_time_s", "sec_per_epoch")
    strip = lambda r: {k: v for k, v in r.items() if k not in timing}
    assert strip(first["results"]) == strip(second["results"])
    assert [r["train_loss"] for r in first["history"]] == [r["train_loss"] for r in second["history"]]
    for name, tensor in first["best_state"].items():
        assert torch.equal(tensor, second["best_state"][name]), name
    a, b = build_model(3, "cpu"), build_model(3, "cpu")
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_with_one_seed_the_learning_rate_is_the_only_difference_between_runs():
    """Same seed: the same initial weights and batch order, so at vanishing LRs the same first-epoch loss."""
    data = synthetic_data()
    one_epoch = lambda **change: train(data, dataclasses.replace(SETTINGS, max_epochs=1, **change))["history"][0]
    tiny, tinier = one_epoch(lr=1e-12), one_epoch(lr=1e-14)
    assert tiny["train_loss"] == pytest.approx(tinier["train_loss"], rel=1e-6)
    assert tiny["valid_acc"] == tinier["valid_acc"]
    # another training seed: other initial weights and batch order, so another loss
    assert one_epoch(lr=1e-12, seed=SETTINGS.seed + 1)["train_loss"] != pytest.approx(tiny["train_loss"], rel=1e-6)
    # and a real LR moves it
    assert one_epoch(lr=1e-2)["train_loss"] != pytest.approx(tiny["train_loss"], rel=1e-6)


def test_results_fields_and_best_epoch_restore():
    data = synthetic_data()
    run = train(data, dataclasses.replace(SETTINGS, max_epochs=40, patience=2))
    results, history = run["results"], run["history"]
    assert set(results) >= {"lr", "best_valid_acc", "test_acc", "train_time_s", "epochs", "best_epoch",
                            "sec_per_epoch", "stopped_by", "device", "threads"}
    assert results["stopped_by"] == STOPPED_EARLY
    assert results["epochs"] == len(history) == results["best_epoch"] + 2
    accs = [row["valid_acc"] for row in history]
    assert results["best_valid_acc"] == max(accs) == accs[results["best_epoch"] - 1]
    assert accs.index(max(accs)) == results["best_epoch"] - 1  # the first epoch reaching the best
    # test accuracy is measured with the restored best weights
    model = build_model(0, "cpu")
    model.load_state_dict(run["best_state"])
    assert accuracy(model, *data["valid"], SETTINGS) == results["best_valid_acc"]
    assert accuracy(model, *data["test"], SETTINGS) == results["test_acc"]
    assert [row["epoch"] for row in history] == list(range(1, len(history) + 1))
    assert all(b["elapsed_s"] >= a["elapsed_s"] for a, b in zip(history, history[1:]))
    assert results["train_time_s"] >= history[-1]["elapsed_s"] - 1e-3


def test_max_epochs_caps_a_run():
    run = train(synthetic_data(), dataclasses.replace(SETTINGS, max_epochs=2, patience=5))
    assert run["results"]["stopped_by"] == STOPPED_MAX_EPOCHS
    assert run["results"]["epochs"] == 2


def test_double_softmax_applies_softmax_before_cross_entropy():
    model = build_model(0, "cpu")
    images, labels = synthetic_data()["train"]
    plain = loss_fn(model, images, labels, double_softmax=False)
    double = loss_fn(model, images, labels, double_softmax=True)
    logits = model.logits(images)
    torch.testing.assert_close(plain, torch.nn.functional.cross_entropy(logits, labels))
    torch.testing.assert_close(double, torch.nn.functional.cross_entropy(torch.softmax(logits, 1), labels))
    assert not torch.isclose(plain, double)
    data = synthetic_data()
    a = train(data, dataclasses.replace(SETTINGS, max_epochs=2))
    b = train(data, dataclasses.replace(SETTINGS, max_epochs=2, double_softmax=True))
    assert a["history"][0]["train_loss"] != b["history"][0]["train_loss"]


def test_divergence_ends_the_run_and_keeps_the_best_weights():
    run = train(synthetic_data(), dataclasses.replace(SETTINGS, lr=math.inf, max_epochs=10))
    results = run["results"]
    assert results["stopped_by"] == STOPPED_DIVERGED
    assert results["epochs"] == 1 and results["best_epoch"] == 0
    # the diverged epoch is in the history, as every counted epoch is
    assert len(run["history"]) == results["epochs"] and not math.isfinite(run["history"][0]["train_loss"])
    assert math.isnan(run["history"][0]["valid_acc"])
    assert 0 <= results["best_valid_acc"] <= 1 and 0 <= results["test_acc"] <= 1
    assert all(torch.isfinite(t).all() for t in run["best_state"].values())


def test_bf16_precision_runs_and_learns():
    run = train(synthetic_data(), dataclasses.replace(SETTINGS, precision="bf16", max_epochs=3))
    assert run["results"]["precision"] == "bf16"
    assert run["results"]["best_valid_acc"] > 0.6


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_path_matches_the_cpu_closely():
    data = synthetic_data()
    cpu = train(data, dataclasses.replace(SETTINGS, max_epochs=3))
    gpu = train(data, dataclasses.replace(SETTINGS, max_epochs=3, device="cuda"))
    assert gpu["results"]["device"].startswith("cuda")
    assert abs(gpu["results"]["best_valid_acc"] - cpu["results"]["best_valid_acc"]) <= 0.05
