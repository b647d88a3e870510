"""REPORT.md's text, from hand-made sweeps: the conclusions with their intervals, the rules, and sweeps
where nothing learned or where only one seed ran."""

import itertools
import json

import pandas as pd

from stages import report
from stages.lib import conclusions as C, lr_find_scores
from stages.lib.experiment_paths import VERIFIED_RESULTS
from tests.committed import committed_params
from tests.synthetic import curve, run, typical_sweep, written

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
    scores = lr_find_scores.score(suggestions, runs, lrs, summary)
    per_rule = lr_find_scores.rule_summary(scores, summary)
    return scores, {**lr_find_scores.overview(scores, per_rule, summary), "rules": per_rule}


def conclusions_of(runs, curves=None, ablation=None) -> dict:
    """metrics/summary.json of a hand-made sweep, as the conclude stage writes it."""
    curves = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(
        columns=["lr", "seed", "epoch", "train_loss", "valid_acc"])
    table = runs if isinstance(runs, pd.DataFrame) else pd.DataFrame(runs)
    c = C.assemble(table, curves, 0.005, 0.2, 5, 5000, 10000, ablation=ablation)
    return json.loads(json.dumps(C.json_safe(c)))


SINGLE_SEED = {"file": "metrics/single_seed_sweep.csv", "lrs": 46, "same_grid": True, "held": ["best"], "moved": [],
               "rows": [{"conclusion": "best", "single": 0.001, "study": [0.001], "held": True, "why": "in_best_set"}]}


def completed(c: dict, w: dict) -> dict:
    """What the conclude stage adds to the conclusions before writing metrics/summary.json (stages/conclude.py), with
    its per-LR table as the report reads it back from conclusions_per_lr.csv."""
    return {**c, "checks": [], "checks_wall_s": 0.0, "checks_made_under_other_settings": [], "single_seed": SINGLE_SEED,
            "verification": None, "wall_time": C.wall_time(w["facts"]["cost"]),
            "per_lr": json.loads(w["lrs"].to_json(orient="records"))}


def render(w: dict, tmp_path, c=None):
    """REPORT.md of written() tables; c: conclusions other than w's own (an ablation's)."""
    c = completed(c or w["summary"], w)
    _, lr_find = range_test_scores_for(w["judged"], w["lrs"], w["summary"])
    return report.render(committed_params(tmp_path), c, w["facts"], SPLIT, "Total params: 121,994\n", lr_find)


def test_a_recommended_range_of_one_lr_is_stated_as_that_lr(tmp_path):
    """Where the stated range's ends meet (the core common to two machines can be one LR), the answer names the LR,
    not "from X to X", in REPORT's answer block, its conclusions and the one-row answer."""
    from stages.lib import answer

    w = written(*typical_sweep())
    c = completed(w["summary"], w)
    c["recommended"]["stated"] = {**c["recommended"]["stated"], "low_lr": 0.003, "high_lr": 0.003}
    assert report.answer_block(c)[1].startswith("**Use a learning rate of 0.003**: as accurate as the best")
    text = render(w, tmp_path, c=c)
    assert "**Recommended: LR 0.003**, median" in text and "0.003 to 0.003" not in text
    assert answer.answer_row(c)["answer"] == "0.003"


def test_a_typical_sweep_states_each_conclusion_with_its_interval_and_rule(tmp_path):
    w = written(*typical_sweep())
    text, c = render(w, tmp_path), w["summary"]
    best = c["best"]
    block = report.answer_block(completed(c, w))
    assert "\n".join(block) in text and text.index(block[0]) < text.index("## Conclusions")
    # led by the recommended range: 3e-3 is as good as 1e-3 (the best, stable) and faster; 1e-2 is not as good
    assert block[1].startswith("**Use a learning rate from 0.001 to 0.003**: as accurate as the best, not "
                               "measurably slower; ≈ 25 epochs incl. 5 of patience")
    assert "- Best: 98.00% validation, 97.90% test at 0.001." in block
    # 1e-2's seeds all left the plateau; at 3e-2 none did
    assert "- Above 0.003: not shown as good; from 0.03 every seed fails." in block
    assert "- 3 seeds; every LR of it is inside in at least 80% of seed resamples." in block
    assert "**Recommended: LR 0.001 to 0.003**, median 25 epochs" in text
    assert "**As good as the best: LR 0.001 to 0.003** (2 grid LRs)" in text and "paired TOST over 3 seeds" in text
    low, high = best["valid_interval"]
    assert f"at 0.001: 98.00% mean validation accuracy, 95% t-interval [{100 * low:.2f}, {100 * high:.2f}]" in text
    assert "**Best accuracy/time trade-off: LR 0.003" in text and "10.0 epochs fewer" in text
    assert "**With patience 5, runs at LR 1e-06 and below are stopped on the initial plateau**" in text
    assert "every seed leaves the plateau from 0.0001 up" in text
    for rule in report.rule_lines(c):  # every rule, each once, with no value of a setting in its words
        assert text.count(rule) == 1
    assert "patience 5" not in "".join(report.RULES.values()) and "2,000 paired seed resamples" in text
    assert "| best LR | 0.001 |" in text  # the stability table
    assert "| 1e-05 | 2/3 [9–99%] | 50.33% (no run: seeds split) | 70.00% (2 runs) |" in text


def test_a_sweep_where_nothing_learned_says_so_and_names_no_tradeoff(tmp_path):
    raw = [run(lr, seed, 0.11) for lr in (1e-6, 1e-5) for seed in range(2)]
    text = render(written(raw), tmp_path)
    assert "**No learning rate left the initial plateau**" in text
    assert "no best range and no trade-off to report" in text and "Best accuracy/time trade-off" not in text
    assert "there is no best range to judge the range test's suggestions against" in text


def test_every_shape_of_a_three_lr_sweep_renders(tmp_path):
    """Per LR no seed, one of two or both seeds learned, in every combination (27 sweeps): the report names
    what exists and never prints None or nan (a tiny study's shape once broke it)."""
    outcomes = {"none": (0.11, 0.12), "split": (0.11, 0.6), "all": (0.6, 0.62)}
    for shape in itertools.product(outcomes, repeat=3):
        raw = [run(lr, seed, outcomes[kind][seed] + 0.01 * i) for i, (lr, kind) in enumerate(zip((1e-3, 1e-2, 3e-2), shape))
               for seed in (0, 1)]
        text = render(written(raw), tmp_path)
        assert "None" not in text and "nan" not in text.lower().replace("nanogpt", ""), shape
    raw = [run(1e-3, 0, 0.11), run(1e-3, 1, 0.12), run(1e-2, 0, 0.11), run(1e-2, 1, 0.5)]
    assert "at no LR above it did every seed leave the plateau" in render(written(raw), tmp_path)


def test_one_seed_has_no_intervals_and_says_why(tmp_path):
    text = render(written([run(1e-3, 0, 0.97), run(1e-2, 0, 0.96)]), tmp_path)
    assert "(one seed: no interval)" in text and "one seed: its stability cannot be measured" in text
    assert " nan" not in text.lower() and "[nan" not in text.lower()


def test_a_sweep_made_in_parts_says_its_wall_time_means_little():
    summary = {"machine": {"device": "cpu", "threads": "2", "cpu": "x", "torch": "2"},
               "sweep": {"runs": 2, "stopped_by": {"early_stopping": 2}},
               "cost": {"total_epochs": 20, "total_train_time_s": 20.0, "pooled_sec_per_epoch": 1.0,
                        "sweep_wall_s": 30.0, "busy_wall_s": 28.0, "total_stage_wall_s": 25.0,
                        "mean_startup_s": 1.5}}
    text = "\n".join(report.machine(summary, C.wall_time(summary["cost"])))
    assert "not made in one go" not in text and "Wall time 28.0 s with at least one train stage running" in text
    summary["cost"]["sweep_wall_s"] = 2 * 24 * 3600.0  # two days between the first run and the last
    text = "\n".join(report.machine(summary, C.wall_time(summary["cost"])))
    assert "not made in one go" in text and "Wall time 28.0 s with at least one train stage running" in text


def test_the_range_test_section_states_each_rule_against_the_sweep(tmp_path):
    text = render(written(*typical_sweep()), tmp_path)
    section = text.split("## Can a one-minute LR range test predict the sweep?")[1].split("\n## ")[0]
    # valley: 1.1e-3 and 0.9e-3 snap to 0.001, 2.9e-3 to 0.003: all in the best range (0.001 - 0.003)
    assert "| valley | 0.0011 [0.0009 – 0.0029] |" in section and "| 3/3 |" in section
    # steep: 1e-2 and 1.2e-2 snap to 0.01 (mean 0.97), 0.9e-2 too: outside the range, 1 point below the best mean
    assert "| steep | 0.01 [0.009 – 0.012] |" in section and "| 1.00 points |" in section
    assert "| lightning | no suggestion |" in section
    assert "In the best range for every seed: valley; for no seed: steep, lightning." in section


def test_the_still_improving_section_counts_runs_below_and_above_the_best_lr(tmp_path):
    w = written(*typical_sweep())
    text = render(w, tmp_path)
    section = text.split("## Were runs still improving when early stopping ended them?")[1].split("\n## ")[0]
    # every run at an LR below the best where some seed learned: 1e-05 (2 of 3 learned) and 1e-04
    below = w["judged"][w["judged"]["lr"].isin([1e-5, 1e-4])]
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


def default_sweep():
    """The typical sweep as the default study has it: its runs (runs.csv), learning curves and raw runs."""
    raw_runs, raw_curves = typical_sweep()
    w = written(raw_runs, raw_curves)
    return w["runs"], w["curves"], raw_runs, raw_curves


def ablation_section(extra_accs) -> str:
    runs, curves, raw_runs, raw_curves = default_sweep()
    longer = ablation_of(runs, curves, extra_accs)
    c = conclusions_of(raw_runs, raw_curves, ablation=([longer], ["patience-20"]))
    c["patience_ablation"]["settings"] = EXPERIMENT["set"]  # as the conclude stage adds it
    return "\n".join(report.patience_ablation(c))


def test_the_patience_section_judges_each_gain_against_the_best_lrs():
    # 1e-5: seeds that learned gain 3 points (0.50 -> 0.53, 0.90 -> 0.93), the chance-level one nothing; 1e-3 (the
    # best LR, the reference) gains nothing
    text = ablation_section({1e-5: lambda seed: [0.11] * 25 if seed == 0 else [[0.50, 0.90][seed - 1] + 0.03] * 25,
                             1e-3: lambda seed: [0.97] * 20})
    assert "| 1e-05 | 3 | +2.00 [" in text and "| 0.001 | 3 | +0.00 " in text and "reference (best LR)" in text
    assert "the ablation's LRs below the best range, 1e-05." in text
    # 2 of 3 seeds gain: pooled over the one LR below the range, the paired test does not clear 0
    assert "**It is not shown that more patience helps the LRs below the best range more than the best LR**" in text


def test_the_patience_section_with_a_consistent_gain_says_the_explanation_holds():
    text = ablation_section({1e-5: lambda seed: [[0.11, 0.50, 0.90][seed] + 0.30 + 0.01 * seed] * 25,
                             1e-3: lambda seed: [0.97] * 20})
    assert "(pooled), with a positive mean gain at every one of them" in text
    assert "1 of 1 are significant on their own after Holm's correction (1e-05)" in text


def test_an_ablation_without_the_best_lr_is_not_judged():
    text = ablation_section({1e-5: lambda seed: [0.9] * 25, 1e-3: lambda seed: [0.97] * 20})
    assert "| 0.001 |" in text  # with the reference: judged
    runs, curves, raw_runs, raw_curves = default_sweep()
    longer_runs, longer_curves = ablation_of(runs, curves, {1e-5: lambda seed: [0.9] * 25,
                                                            1e-3: lambda seed: [0.97] * 20})
    only_small = (longer_runs[longer_runs["lr"] == 1e-5], longer_curves[longer_curves["lr"] == 1e-5])
    c = conclusions_of(raw_runs, raw_curves, ablation=([only_small], ["patience-20"]))
    c["patience_ablation"]["settings"] = EXPERIMENT["set"]
    assert "**Not judged**" in "\n".join(report.patience_ablation(c))


def test_an_ablation_without_twins_in_this_sweep_says_so():
    raw = [run(lr, seed, 0.97) for lr in (1e-3, 1e-2) for seed in range(2)]
    longer = pd.DataFrame([{"lr": 1e-5, "seed": 0, "best_valid_acc": 0.9, "test_acc": 0.9, "epochs": 30,
                            "best_epoch": 30, "stopped_by": "max_epochs", "patience": 20}])
    c = conclusions_of(raw, ablation=([(longer, curve(1e-5, 0, [0.9] * 30))], ["patience-20"]))
    lines = report.patience_ablation(c)
    assert len(lines) == 1 and "has a twin" in lines[0]


def verify_record(identical=True):
    runs = [{"run": "1e-06-0", "lr": 1e-06, "seed": 0, "best_valid_acc": 0.1142, "test_acc": 0.1135, "epochs": 6,
             "best_epoch": 1, "stopped_by": "early_stopping", "identical": True, "differences": []},
            {"run": "0.001-3", "lr": 0.001, "seed": 3, "best_valid_acc": 0.9786, "test_acc": 0.9781, "epochs": 21,
             "best_epoch": 16, "stopped_by": "early_stopping", "identical": identical,
             "differences": [] if identical else ["first differs at epoch 4: train_loss 0.1 (committed 0.2)"]}]
    return {"date": "2026-12-01", "cpu": "AMD EPYC (2 cores)", "torch": "2.14.1+cu130", "threads": [1],
            "compared": 2, "identical": 1 + identical, "epochs": 27, "runs": runs}


def checked(record: dict, runs: pd.DataFrame) -> dict:
    """The record as the conclude stage passes it on: whether its runs are still these."""
    return C.verification(record, runs, VERIFIED_RESULTS)


def committed_runs_table():
    return pd.DataFrame([{k: v for k, v in r.items() if k not in ("run", "identical", "differences")}
                         for r in verify_record()["runs"]])


def test_make_verifys_record_is_quoted_while_its_runs_are_the_studys():
    lines = report.verification(checked(verify_record(), committed_runs_table()))
    assert lines[0] == (
        "- `make verify` (2026-12-01): 2 of these runs, spread over the LR range (1e-06-0 to 0.001-3; 27 epochs), "
        "trained again with the code of this commit on AMD EPYC (2 cores), PyTorch 2.14.1+cu130, 1 thread(s) per run "
        "as each recorded: 2 of 2 identical bit for bit: every epoch's training loss and validation accuracy and "
        "every result.")
    differs = report.verification(checked(verify_record(identical=False), committed_runs_table()))[0]
    assert differs.endswith("1 of 2 identical; the others differ: 0.001-3: first differs at epoch 4: train_loss 0.1 (committed 0.2).")


def test_make_verifys_record_of_other_runs_is_not_quoted_as_this_studys():
    rerun = committed_runs_table()
    rerun.loc[1, "test_acc"] = 0.9779  # the study was made again (other settings, another machine)
    assert report.verification(checked(verify_record(), rerun)) == [
        "- `make verify`'s record (2026-12-01) is of other runs than these: `make verify` checks these runs."]
    assert report.verification(checked(verify_record(), rerun.iloc[:1]))[0].startswith("- `make verify`'s record")
    assert report.verification(None)[0].startswith("- `make verify` has not recorded")


def test_runs_too_short_for_a_slope_are_n_a_not_a_crash():
    """A tiny study's runs with fewer than 3 validated epochs have no slope: NaN in sweep.csv, null in summary.json."""
    c = {"still_improving": {"window": 10, "best_lr": 0.001, "below_best": {"improving": 0, "runs": 2},
                             "from_best_up": {"improving": 0, "runs": 2},
                             "per_lr": [{"lr": 0.001, "valid_mean": 0.17, "epochs_median": 2.0, "improving": 0, "seeds": 2,
                                         "slope_last10_median": None, "best_gain_last10_median": None,
                                         "loss_change_last10_median": None}]}}
    assert "| 0.001 | 17.00% | 2 | 0/2 | n/a | n/a | n/a |" in "\n".join(report.still_improving(c))


def test_the_replay_of_the_sequential_study_is_shown_only_beside_the_runs_it_was_made_from():
    summary = {"design": {"max_seeds": 5, "first_seeds": 1, "edge_seeds": 3, "window": 2}, "orders": 120,
               "resamples": 500, "full": {"runs": 230}, "runs_median": 139.0, "rounds": {"median": 6.5, "max": 9},
               "criteria": {"best_range": "best range within one grid step at each end", "edges": "learning edges exact"},
               "agreement": {"best_range": 1.0, "edges": 0.95, "all": 0.95},
               "epochs_share": {"median": 0.45, "mean": 0.44, "min": 0.36, "max": 0.54},
               "worse_rule": {"closed": 48, "contradicted": [], "sd_ratio_median": 0.68, "sd_ratio_below_half": 17,
                              "sd_ratios": 48},
               "disagreeing": [{"order": [3, 0, 2, 4, 1], "wrong": ["edges"]}], "of_these_runs": True}
    text = "\n".join(report.adaptive_replay({"adaptive_replay": summary}))
    assert "agrees with this study's in **95%** of the orders, for a median **45%** of the epochs" in text
    assert "- learning edges exact: 95%" in text and "seed order [3, 0, 2, 4, 1]: learning edges exact" in text
    assert "at most 40% of the epochs, is not met: the agreement holds, the compute is 45%" in text
    assert "it closes 48 (LR, seed) cases, 0 of which" in text and "No adaptive study has been trained yet" in text
    met = {**summary, "epochs_share": {**summary["epochs_share"], "median": 0.38}}
    assert "is met" in "\n".join(report.adaptive_replay({"adaptive_replay": met}))
    stale = report.adaptive_replay({"adaptive_replay": {**summary, "of_these_runs": False}})
    assert stale == ["`metrics/adaptive/replay.json` was made from other runs than these (run `make replay` again)."]
    assert report.adaptive_replay({"adaptive_replay": None}) == ["Not run: `make replay`."]


def test_the_trained_sequential_study_is_shown_beside_the_full_study_round_by_round():
    answer = {"best": 0.002512, "range_low": 0.000631, "range_high": 0.003162, "recommended_low": 0.001,
              "recommended_high": 0.003162, "none_up_to": 3.981e-06, "all_from": 5.012e-06, "all_up_to": 0.007943,
              "none_from": None, "best_set": [0.001995, 0.002512]}
    rounds = [{"round": 1, "runs": 46, "epochs": 2400, "trained": 46, "restored": 0, "wall_s": 3600.0,
               "open": {"edge": ["5.012e-06"], "best": ["0.002512"]}, "lrs": []},
              {"round": 2, "runs": 48, "epochs": 2500, "trained": 2, "restored": 0, "wall_s": 300.0, "open": {},
               "lrs": []}]
    study = {"done": True, "order": [0, 1, 2, 3, 4], "runs": ["x"] * 48, "rounds": rounds, "epochs": 2500,
             "trained": 48, "wall_s": 3900.0, "answer": answer, "epochs_share": 0.2,
             "full": {**answer, "range_low": 0.000501, "runs": 230}, "of_these_runs": 48, "replay_same_rounds": True,
             "agreement": {"best": True, "best_range": True, "recommended": True, "edges": False}}
    text = "\n".join(report.adaptive_study({"adaptive_study": study, "wall_time": {"busy_s": 18000.0}}))
    assert "**48 runs in 2 rounds, 2,500 epochs** (48 trained here, 0 restored), **1 h 05 min** of wall clock" in text
    assert "against 5 h 00 min with a run training for the full study's 230 runs" in text
    assert "**20% of the full study's epochs**; 48 of its 48 runs are this study's runs number for number" in text
    assert "| best range | 0.000631 to 0.003162 | 0.000501 to 0.003162 | yes (within one grid step at each end) |" in text
    assert "| best LR | 0.002512 | 0.002512 | yes (the full study's seeds may call best: 0.001995, 0.002512) |" in text
    assert "every seed from 5.012e-06 up to 0.007943, no seed from none | **no** (exactly) |" in text
    assert "| 1 | 46 | 2,400 | 1 h 00 min | edge: 5.012e-06; best: 0.002512 |" in text
    assert "| 2 | 48 | 2,500 | 5 min 00 s | none: it stops |" in text
    assert report.adaptive_study({"adaptive_study": None})[0].startswith("Not trained here yet: `make adaptive`")
    other = report.adaptive_study({"adaptive_study": {**study, "of_these_runs": 0}})
    assert other == ["`metrics/adaptive/study.json` was made from other runs than these (0 of its 48 runs are runs of "
                     "this study): run `make adaptive` again."]
    stopped = report.adaptive_study({"adaptive_study": {"done": False, "rounds": 3}})
    assert stopped == ["`make adaptive` stopped after 3 rounds; run it again to finish (finished runs are kept)."]
    replay = {"design": {"max_seeds": 5, "first_seeds": 1, "edge_seeds": 3, "window": 2}, "orders": 120,
              "resamples": 500, "full": {"runs": 230}, "runs_median": 139.0, "rounds": {"median": 6.5, "max": 9},
              "criteria": {}, "agreement": {"all": 1.0}, "disagreeing": [], "of_these_runs": True,
              "epochs_share": {"median": 0.41, "mean": 0.4, "min": 0.32, "max": 0.47},
              "worse_rule": {"closed": 48, "contradicted": [], "sd_ratio_median": 0.68, "sd_ratio_below_half": 17,
                             "sd_ratios": 48}}
    assert "No adaptive study has been trained yet" not in "\n".join(
        report.adaptive_replay({"adaptive_replay": replay, "adaptive_study": study}))
