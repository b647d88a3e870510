"""REPORT.md's text, from hand-made sweeps: the conclusions with their intervals, the rules, and sweeps
where nothing learned or where only one seed ran."""

import pandas as pd

from stages import report
from stages.lib import analysis, range_test_scores
from tests.committed import committed_params
from tests.test_analysis import analyze, curve, run, typical_sweep

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
    params = committed_params(tmp_path)
    return report.render(params, summary, lrs, SPLIT, "Total params: 121,994\n",
                         ["(the single-seed comparison's lines)"], ["(the patience ablation's lines)"],
                         report.range_test(scores, per_rule["rules"], params, summary))


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
                        "sweep_wall_s": 30.0, "busy_wall_s": 28.0, "total_stage_wall_s": 25.0,
                        "mean_startup_s": 1.5}}
    text = "\n".join(report.machine(summary))
    assert "not made in one go" not in text and "Wall time 28.0 s with at least one train stage running" in text
    summary["cost"]["sweep_wall_s"] = 2 * 24 * 3600.0  # two days between the first run and the last
    text = "\n".join(report.machine(summary))
    assert "not made in one go" in text and "Wall time 28.0 s with at least one train stage running" in text


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


EXPERIMENT = {"name": "patience-20", "set": ["train.patience=20", "sweep.seeds=[0, 1, 2]", "sweep.lrs=[1e-05, 0.001]"]}


def ablation_of(runs, curves, extra_accs):
    """An ablation of a sweep: its runs at 1e-5 and 1e-3 continued with extra_accs[lr] after the twin's last epoch."""
    longer_runs, longer_curves = [], []
    for row in runs[runs["lr"].isin([1e-5, 1e-3])].itertuples():
        twin = curves[(curves["lr"] == row.lr) & (curves["seed"] == row.seed)]
        more = extra_accs[row.lr](row.seed)
        accs = twin["valid_acc"].tolist() + more
        longer_curves.append(curve(row.lr, row.seed, accs))
        best = max(accs)
        longer_runs.append({"lr": row.lr, "seed": row.seed, "best_valid_acc": best, "test_acc": best - 0.001,
                            "epochs": len(accs), "best_epoch": accs.index(best) + 1, "stopped_by": "early_stopping",
                            "patience": 20})
    return pd.DataFrame(longer_runs), pd.concat(longer_curves, ignore_index=True)


def patience_5_sweep():
    """The typical sweep as the default study has it: its runs (patience 5), learning curves and summary."""
    raw_runs, raw_curves = typical_sweep()
    runs, _, summary = analyze(raw_runs, raw_curves)
    runs["patience"] = 5
    return runs, pd.concat(raw_curves, ignore_index=True), summary


def test_the_patience_section_states_the_gain_where_it_stops_and_the_verdict():
    runs, curves, s = patience_5_sweep()
    # 1e-5: seeds that learned gain 3 points (0.50 -> 0.53, 0.90 -> 0.93), the chance-level one nothing; 1e-3: nothing
    longer_runs, longer_curves = ablation_of(runs, curves, {
        1e-5: lambda seed: [0.11] * 25 if seed == 0 else [[0.50, 0.90][seed - 1] + 0.03] * 25,
        1e-3: lambda seed: [0.97] * 20})
    lines = report.patience_ablation(longer_runs, longer_curves, EXPERIMENT, runs, curves, s)
    text = "\n".join(lines)
    assert "6 runs over 2 LRs. 6 of 6 repeated their twin epoch for epoch" in text
    assert "| 1e-05 | 3 | 50.33% → 52.33% | +2.00 [" in text  # (0.11 + 0.50 + 0.90) / 3 -> (0.11 + 0.53 + 0.93) / 3
    assert "| 0.001 | 3 | 98.00% → 98.00% | +0.00 " in text
    assert "at 0 of 2 LRs" in text  # 2 of 3 seeds gain at 1e-5: the paired interval still contains 0
    assert "**The article's explanation does not hold**" in text


def test_the_patience_section_with_a_consistent_gain_says_the_explanation_holds():
    runs, curves, s = patience_5_sweep()
    longer_runs, longer_curves = ablation_of(runs, curves, {
        1e-5: lambda seed: [[0.11, 0.50, 0.90][seed] + 0.30 + 0.01 * seed] * 25, 1e-3: lambda seed: [0.97] * 20})
    text = "\n".join(report.patience_ablation(longer_runs, longer_curves, EXPERIMENT, runs, curves, s))
    assert "at 1 of 2 LRs: 1e-05; the gain stops at LR 0.001" in text
    assert "**The article's explanation holds** below the best range" in text  # closes 65% of the gap
    assert "Cost: " in text and "epochs against the twins'" in text


def test_an_ablation_without_twins_in_this_sweep_says_so():
    runs, lrs, s = analyze([run(lr, seed, 0.97) for lr in (1e-3, 1e-2) for seed in range(2)])
    longer = pd.DataFrame([{"lr": 1e-5, "seed": 0, "best_valid_acc": 0.9, "test_acc": 0.9, "epochs": 30,
                            "best_epoch": 30, "stopped_by": "max_epochs", "patience": 20}])
    lines = report.patience_ablation(longer, curve(1e-5, 0, [0.9] * 30), EXPERIMENT, runs, pd.DataFrame(), s)
    assert len(lines) == 1 and "None of them has a twin" in lines[0]
