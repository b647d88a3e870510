"""The study's checks of its own answer, as DVC experiments whose per-run tables are kept in git.

    python -m tools.experiments [NAME ...] [--jobs N|auto]

`make experiments` calls it (all of them). Each experiment is trained and recorded the way the patience
ablation is (tools/patience_ablation.py: its train stages N at a time into the run-cache, then
`dvc exp run --temp -n NAME -S ...`), and its metrics/runs.csv and metrics/learning_curves.csv are copied to
metrics/experiments/NAME/ with experiment.json (what was set, why, the experiment's ref). The conclude stage
reads them. Rerunning one replaces it; its train stages come back from the run-cache where they are.
"""

import argparse
import sys
import time

from stages.lib import params as P
from stages.lib.experiment_paths import EXPERIMENTS_DIR
from tools import patience_ablation as ablation

# The best range and one grid step either side (as the 230-run study found it), with 3 of its training seeds.
SPLIT_LRS = [0.0001585, 0.0001995, 0.0002512, 0.0003162, 0.0003981, 0.0005012, 0.000631, 0.0007943, 0.001,
             0.001259, 0.001585, 0.001995, 0.002512, 0.003162, 0.003981, 0.005012, 0.00631, 0.007943]
SPLIT_SEEDS = [0, 1, 2]

EXPERIMENTS = {
    "patience-20-reference": {
        "changes": {"train.patience": 20, "train.max_epochs": 400, "sweep.seeds": [0, 1, 2],
                    "sweep.lrs": [0.001995, 0.00631]},
        "why": "the patience ablation's reference: the best LR and the top of the best range with the same "
               "patience, seeds and cap as `make ablation`, so that a small LR's gain is judged against what "
               "more patience gives where early stopping is not suspected of cutting runs short",
    },
    **{f"split-{seed}": {
        "changes": {"data.split_seed": seed, "sweep.seeds": SPLIT_SEEDS, "sweep.lrs": SPLIT_LRS},
        "why": "split sensitivity: another draw of the 3,000 training and 5,000 validation images; do the best "
               "LR, the best range and the trade-off hold?",
    } for seed in (20250303, 20250304)},
}


def settings_of(changes: dict) -> list[str]:
    """The experiment's `-S` values, as DVC's parser reads them (YAML 1.2 flow lists)."""
    def text(value) -> str:
        if isinstance(value, list):
            return "[" + ", ".join(P.lr_name(v) if isinstance(v, float) else str(v) for v in value) + "]"
        return str(value)
    return [f"{key}={text(value)}" for key, value in changes.items()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"experiments to run (default: all): {', '.join(EXPERIMENTS)}")
    parser.add_argument("--jobs", default="auto", help="train stages at a time (default: auto, as make run)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in EXPERIMENTS]
    if unknown:
        parser.error(f"no experiment named {', '.join(unknown)}; there are: {', '.join(EXPERIMENTS)}")
    for name in args.names or list(EXPERIMENTS):
        experiment = EXPERIMENTS[name]
        settings = settings_of(experiment["changes"])
        print(f"experiments: {name}: {', '.join(settings)}", file=sys.stderr, flush=True)
        started = time.time()
        ablation.train_in_worktree(args.jobs, experiment["changes"])
        ref = ablation.record_experiment(name, settings)
        ablation.export(ref, name, settings, time.time() - started, EXPERIMENTS_DIR / name,
                        why=experiment["why"], reproduce=f"make experiments NAMES={name}")
        print(f"experiments: {name} recorded ({ref}); its tables are in {EXPERIMENTS_DIR / name}/", file=sys.stderr)


if __name__ == "__main__":
    main()
