"""REPORT.md's text, from hand-made sweeps: the conclusions with their intervals, the rules, and sweeps
where nothing learned or where only one seed ran."""

import pandas as pd

from stages import report
from stages.lib import analysis, range_test_scores
from tests.committed import committed_params
from tests.test_analysis import analyze, run, typical_sweep

SPLIT = {name: {"size": n, "class_counts": {str(d): n // 10 for d in range(10)}}
         for name, n in (("train", 3000), ("valid", 5000), ("test", 10000))}


def range_test_scores_for(runs, lrs, summary, suggested=None):
    """The lr_find stage's suggestions (by rule: one LR per seed, None: no suggestion), scored against a sweep."""
    suggested = suggested or {"valley": [1.1e-3, 0.9e-3, 2.9e-3], "steep": [1e-2, 1.2e-2, 0.9e-2],
                              "lightning": [None, None, None]}
    seeds = sorted(runs["seed"].unique())
    suggestions = pd.DataFrame([{"seed": seed, "rule": rule, "suggested_lr": lrs_[i], "stopped_by": "end_lr",
                                 "steps": 200, "epochs": 2.13}
                                for rule, lrs_ in suggested.items() for i, seed in enumerate(seeds)])
    scores = range_test_scores.score(suggestions, runs, lrs, summary)
    return scores, {"rules": range_test_scores.rule_summary(scores, summary)}


def render(summary, lrs, tmp_path, runs=None):
    runs = runs if runs is not None else analyze(*typical_sweep())[0]
    scores, per_rule = range_test_scores_for(runs, lrs, summary)
    return report.render(committed_params(tmp_path), summary, lrs, SPLIT, "Total params: 121,994\n", scores, per_rule)


def test_a_typical_sweep_states_each_conclusion_with_its_interval_and_rule(tmp_path):
    runs, lrs, s = analyze(*typical_sweep())
    text = render(s, lrs, tmp_path, runs)
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
    runs, lrs, s = analyze([run(lr, seed, 0.11) for lr in (1e-6, 1e-5) for seed in range(2)])
    text = render(s, lrs, tmp_path, runs)
    assert "**No learning rate learned anything**" in text
    assert "no best range and no trade-off to report" in text and "Best accuracy/time trade-off" not in text
    assert "there is no best range to judge the range test's suggestions against" in text


def test_one_seed_has_no_intervals_and_says_why(tmp_path):
    runs, lrs, s = analyze([run(1e-3, 0, 0.97), run(1e-2, 0, 0.96)])
    text = render(s, lrs, tmp_path, runs)
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


def test_the_range_test_section_states_each_rule_against_the_sweep(tmp_path):
    runs, lrs, s = analyze(*typical_sweep())
    text = render(s, lrs, tmp_path, runs)
    section = text.split("## Can a one-minute LR range test predict the sweep?")[1].split("\n## ")[0]
    # valley: 1.1e-3 and 0.9e-3 snap to 0.001, 2.9e-3 to 0.003: all in the best range (0.001 - 0.003)
    assert "| valley | 0.0011 [0.0009 – 0.0029] |" in section and "| 3/3 |" in section
    # steep: 1e-2 and 1.2e-2 snap to 0.01 (mean 0.97), 0.9e-2 too: outside the range, 1 point below the best mean
    assert "| steep | 0.01 [0.009 – 0.012] |" in section and "| 1.00 points |" in section
    assert "| lightning | no suggestion |" in section
    assert "In the best range for every seed: valley; for no seed: steep, lightning." in section


def test_the_still_improving_section_counts_runs_below_and_above_the_best_lr(tmp_path):
    runs, lrs, s = analyze(*typical_sweep())
    text = render(s, lrs, tmp_path, runs)
    section = text.split("## Were runs still improving when early stopping ended them?")[1].split("\n## ")[0]
    # every run at an LR below the best where some seed learned: 1e-05 (2 of 3 learned) and 1e-04
    below = runs[runs["lr"].isin([1e-5, 1e-4])]
    improving = int(below["still_improving"].sum())
    assert f"Below the best LR (0.001), {improving} of 6 runs were still improving" in section
    assert "| 1e-05 |" in section and "| 3e-02 |" not in section and "| 1e-06 |" not in section
