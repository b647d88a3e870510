"""REPORT.md's text, from hand-made sweeps: the conclusions with their intervals, the rules, and sweeps
where nothing learned or where only one seed ran."""

from stages import report
from stages.lib import analysis
from tests.committed import committed_params
from tests.test_analysis import analyze, run, typical_sweep

SPLIT = {name: {"size": n, "class_counts": {str(d): n // 10 for d in range(10)}}
         for name, n in (("train", 3000), ("valid", 5000), ("test", 10000))}


def render(summary, lrs, tmp_path):
    return report.render(committed_params(tmp_path), summary, lrs, SPLIT, "Total params: 121,994\n")


def test_a_typical_sweep_states_each_conclusion_with_its_interval_and_rule(tmp_path):
    _, lrs, s = analyze(*typical_sweep())
    text = render(s, lrs, tmp_path)
    best = s["best"]
    assert ("**Best accuracy: LR 0.001 to 0.003 (2 LRs)**" in text
            and f"at LR 0.001 (95% interval [{100 * best['valid_ci_low']:.2f}, {100 * best['valid_ci_high']:.2f}]"
            in text)
    assert "**Best accuracy/time trade-off: LR 0.003**: the lowest median cost in the best range, 20 epochs" in text
    assert "fastest at LR 0.003, median" in text and "the same LR" in text
    assert "**Training does not progress at LR 1e-06 and below**" in text
    assert "Every seed learns at every LR from 0.0001 up to the best LR" in text
    assert "In between, only some seeds learn: 1e-05 (2/3 seeds)" in text
    assert "no seed learns at LR 0.03 and above" in text
    for rule in analysis.RULES:
        assert f"- {rule}" in text
    assert "| 0.003 |" in text and "trade-off, fastest to target" in text


def test_a_sweep_where_nothing_learned_says_so_and_names_no_tradeoff(tmp_path):
    _, lrs, s = analyze([run(lr, seed, 0.11) for lr in (1e-6, 1e-5) for seed in range(2)])
    text = render(s, lrs, tmp_path)
    assert "**No learning rate learned anything**" in text
    assert "no best range and no trade-off to report" in text and "Best accuracy/time trade-off" not in text


def test_one_seed_has_no_intervals_and_says_why(tmp_path):
    _, lrs, s = analyze([run(1e-3, 0, 0.97), run(1e-2, 0, 0.96)])
    text = render(s, lrs, tmp_path)
    assert "(one seed: no interval)" in text
    assert " nan" not in text.lower() and "[nan" not in text.lower()


def test_a_sweep_made_in_parts_says_its_wall_time_means_little():
    summary = {"machine": {"device": "cpu", "threads": "2", "cpu": "x", "torch": "2"},
               "sweep": {"runs": 2, "stopped_by": {"early_stopping": 2}},
               "cost": {"total_epochs": 20, "total_train_time_s": 20.0, "pooled_sec_per_epoch": 1.0,
                        "sweep_wall_s": 30.0, "total_stage_wall_s": 25.0, "mean_startup_s": 1.5}}
    assert "not made in one go" not in "\n".join(report.machine(summary))
    summary["cost"]["sweep_wall_s"] = 2 * 24 * 3600.0  # two days between the first run and the last
    assert "not made in one go" in "\n".join(report.machine(summary))
