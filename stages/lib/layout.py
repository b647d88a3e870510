"""Where the data stages keep their files: the split (split stage) and each run (train@<lr>-<seed>).

The train stage depends on this module; the result files of aggregate, plot and report live in
stages/lib/paths.py, so that adding a table or a figure never retrains a run.

Each run has one folder, a single DVC output: DVC caches it whole, so the stage can be saved to and
restored from DVC's run-cache (a stage with an uncached output never is). The per-run numbers reach
git through the aggregate's tables.
"""

from pathlib import Path

SPLIT_DIR = Path("data/split")
TENSORS_FILE = SPLIT_DIR / "tensors.pt"
INDICES_FILE = SPLIT_DIR / "indices.json"
SPLIT_METRICS_FILE = Path("metrics/split.json")  # class counts per split, for the report

RUNS_DIR = Path("data/runs")
RESULTS_FILE = "results.json"
HISTORY_FILE = "history.csv"
MODEL_FILE = "model.pt"  # only where train.save_weights asks: nothing downstream reads it
# A runner that wants to show each run's epoch names a file in this variable; the train stage rewrites it (JSON:
# run, epoch) after every epoch. A run restored from DVC's run-cache never starts the stage, so never writes it.
PROGRESS_ENV = "LR_SWEEP_PROGRESS"
HISTORY_FIELDS = ("epoch", "train_loss", "valid_acc", "elapsed_s")  # history.csv's columns, one row per epoch


def run_dir(name: str) -> Path:
    """name: the run's stage name after the @ (stages.lib.run_params.run_name), e.g. 0.001-3."""
    return RUNS_DIR / name


def run_files(name: str) -> dict[str, Path]:
    folder = run_dir(name)
    return {"results": folder / RESULTS_FILE, "history": folder / HISTORY_FILE, "model": folder / MODEL_FILE}
