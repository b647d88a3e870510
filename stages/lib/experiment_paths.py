"""The study's extra experiments (committed as data) and the conclusions drawn from everything.

Kept apart from stages/lib/paths.py, which the aggregate depends on: a name added here changes nothing the
aggregate depends on.
tests/test_dvc_yaml.py checks these paths against dvc.yaml like the others.
"""

from pathlib import Path

# make learning-edge (tools/learning_edge.py): small LRs trained without early stopping until they learn
EDGE_DIR = Path("metrics/learning_edge")
EDGE_RUNS_CSV = EDGE_DIR / "runs.csv"  # one row per (LR, seed): the first epoch above the chance level
EDGE_CURVES_CSV = EDGE_DIR / "curves.csv"  # one row per (LR, seed, epoch)
EDGE_EXPERIMENT_JSON = EDGE_DIR / "experiment.json"  # what ran, with which cap, how long

# make experiments (tools/experiments.py): DVC experiments whose per-run tables are kept in git, one folder each
EXPERIMENTS_DIR = Path("metrics/experiments")

# make verify RECORD=1 (tools/verify.py --record): committed runs trained again here and compared, bit for bit
VERIFY_JSON = Path("metrics/verify.json")
# what it compares of each run besides its every epoch, and records with the committed values
VERIFIED_RESULTS = ("best_valid_acc", "test_acc", "epochs", "best_epoch", "stopped_by")

# the earlier single-seed sweep (46 LRs, one run each, before the study had seeds): the conclude stage compares
SINGLE_SEED_SWEEP_CSV = Path("metrics/single_seed_sweep.csv")

# conclude: every conclusion with its interval and stability, and the tables per LR and per run they are drawn from
SUMMARY_JSON = Path("metrics/summary.json")  # the study's summary: every conclusion, its interval, stability
CONCLUSIONS_PER_LR_CSV = Path("metrics/conclusions_per_lr.csv")  # one row per LR: learned, t-intervals, TOST, saving
CONCLUSIONS_PER_RUN_CSV = Path("metrics/conclusions_per_run.csv")  # one row per run: learned, to target, improving
PER_LR_DIR = Path("metrics/per_lr")  # one small JSON per LR with its role, for `dvc metrics show metrics/per_lr`

# make speed-check (tools/speed_check.py): the epochs-to-accuracy power law's prediction measured at an LR below the
# LRs it was fitted to, runs without early stopping until they reach analysis.learned_accuracy
SPEED_CHECK_DIR = Path("metrics/speed_check")
SPEED_CHECK_RUNS_CSV = SPEED_CHECK_DIR / "runs.csv"  # one row per (LR, seed): the first epoch at the accuracy
SPEED_CHECK_CURVES_CSV = SPEED_CHECK_DIR / "curves.csv"  # one row per (LR, seed, epoch)
SPEED_CHECK_EXPERIMENT_JSON = SPEED_CHECK_DIR / "experiment.json"  # what ran, the prediction it tests, how long

# make replay (tools/adaptive.py): the sequential study replayed on the full study's runs, every order of the seeds
ADAPTIVE_DIR = Path("metrics/adaptive")
ADAPTIVE_REPLAY_JSON = ADAPTIVE_DIR / "replay.json"  # agreement with the full study, share of its epochs
# make adaptive (tools/adaptive.py run): the sequential study trained here, round by round
ADAPTIVE_STUDY_JSON = ADAPTIVE_DIR / "study.json"  # each round's runs, cost and statuses with reasons; the answer
ADAPTIVE_RUNS_CSV = ADAPTIVE_DIR / "runs.csv"  # one row per run it asked for (metrics/runs.csv's columns)
