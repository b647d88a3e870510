"""The result files: model summary, the aggregate's tables, the figures and the report.

dvc.yaml names the same paths (tests/test_dvc_yaml.py checks). The split's and the runs' files are in
stages/lib/layout.py. Free of heavy imports, so aggregate, plot and report start without PyTorch.
"""

from pathlib import Path

# model_summary
MODEL_SUMMARY_FILE = Path("metrics/model_summary.txt")

# aggregate: the sweep's tables (in git) and its facts as a whole
RUNS_CSV = Path("metrics/runs.csv")  # one row per (LR, seed)
SWEEP_CSV = Path("metrics/sweep.csv")  # one row per LR, across seeds
CURVES_CSV = Path("metrics/learning_curves.csv")  # one row per (LR, seed, epoch)
SWEEP_JSON = Path("metrics/sweep.json")  # runs, stops, cost, machine (no conclusion: those are summary.json's)

# lr_find: the LR range test, one curve per training seed, and each rule's suggestion
LR_FIND_CURVES_CSV = Path("metrics/lr_find/curves.csv")  # one row per (seed, step)
LR_FIND_SUGGESTIONS_CSV = Path("metrics/lr_find/suggestions.csv")  # one row per (seed, rule)
# score_lr_find: the suggestions judged against the sweep
LR_FIND_SCORES_CSV = Path("metrics/lr_find/scores.csv")  # one row per (seed, rule)
LR_FIND_SUMMARY_JSON = Path("metrics/lr_find/summary.json")  # one entry per rule

# make ablation (tools/patience_ablation.py): the patience experiment's tables, kept in git for the report
ABLATION_DIR = Path("metrics/patience_ablation")
ABLATION_RUNS_CSV = ABLATION_DIR / "runs.csv"  # as the experiment's metrics/runs.csv
ABLATION_CURVES_CSV = ABLATION_DIR / "learning_curves.csv"  # as the experiment's metrics/learning_curves.csv
ABLATION_EXPERIMENT_JSON = ABLATION_DIR / "experiment.json"  # its name, settings and git ref

# plot
PLOTS_DIR = Path("plots")
FIGURE_NAMES = ("accuracy_vs_lr.png", "cost_vs_lr.png", "accuracy_vs_cost.png", "learning_curves.png",
                "lr_find.png")

# report
REPORT = Path("REPORT.md")
