"""Where each train@<lr> run keeps its files: stages/train.py writes them, stages/aggregate.py reads them."""

from pathlib import Path

RESULTS_DIR = Path("metrics/runs")
HISTORY_DIR = Path("metrics/history")
MODELS_DIR = Path("data/models")


def run_files(name: str) -> dict[str, Path]:
    """name: the run's stage name after the @ (stages.lib.params.run_name)."""
    return {
        "results": RESULTS_DIR / f"{name}.json",
        "history": HISTORY_DIR / f"{name}.csv",
        "model": MODELS_DIR / f"{name}.pt",
    }
