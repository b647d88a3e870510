"""The speed law's prediction measured: how many epochs a small LR needs to reach a stated accuracy.

    python -m tools.speed_check [--lr 2.512e-6] [--seeds 3] [--cap 1000] [--jobs N|auto]

`make speed-check` calls it (about 30 minutes on 2 cores). The conclude stage fits epochs-to-accuracy against the LR
on the sweep (rule "speed": epochs until validation accuracy first reaches analysis.learned_accuracy, a power law
over the LRs below the best range) and extrapolates it to smaller LRs, whose runs early stopping ended on the initial
plateau. Here the first --seeds training seeds of sweep.seeds train at --lr, the train stage's run in every other
respect (tools/learning_edge.py runs it), without early stopping, until their validation accuracy first reaches
analysis.learned_accuracy, or --cap epochs: a run stopped there has measured what the law predicts, and a run at the
cap says the law overestimates the speed. The cap is set well above the prediction.

Writes metrics/speed_check/ (all files, or none): runs.csv, curves.csv and experiment.json. The conclude stage
reads them and puts prediction and measurement side by side; they are committed as data.
"""

import argparse
import functools
import sys
import time

from stages.lib import conclusions as C, params as P
from stages.lib.experiment_paths import (SPEED_CHECK_CURVES_CSV, SPEED_CHECK_DIR, SPEED_CHECK_EXPERIMENT_JSON,
                                         SPEED_CHECK_RUNS_CSV)
from tools.learning_edge import jobs_count, run_all, write_check

DEFAULT_LR, DEFAULT_SEEDS, DEFAULT_CAP = 2.512e-6, 3, 1000

# The folder's README, written with its tables; committed with NOT_RUN added before the check first ran (the conclude
# stage depends on the folder).
README = """# The speed law's prediction, measured (`make speed-check`)

The conclude stage fits the epochs until validation accuracy first reaches `analysis.learned_accuracy` against the
LR (rule "speed") and predicts them for smaller LRs. `tools/speed_check.py` trains such an LR without early stopping
until its runs get there: `runs.csv` (one row per run: `reached_epoch`, empty if not within the cap), `curves.csv`
(every epoch) and `experiment.json` (what ran, how long).
"""
NOT_RUN = "\nNo tables here yet: the check has not run for this commit, and the conclude stage says so.\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lr", type=float, default=DEFAULT_LR, help=f"the LR (default {DEFAULT_LR:g})")
    parser.add_argument("--seeds", type=int, default=DEFAULT_SEEDS,
                        help=f"how many of sweep.seeds, the first ones (default {DEFAULT_SEEDS})")
    parser.add_argument("--cap", type=int, default=DEFAULT_CAP, help=f"most epochs a run (default {DEFAULT_CAP})")
    parser.add_argument("--jobs", default="auto", help="runs at a time (default: auto, one per usable CPU)")
    args = parser.parse_args(argv)
    params = P.load_checked("speed_check", lambda p: p)
    level = P.read(params, P.Analysis).learned_accuracy
    seeds = P.training_seeds(params)[:args.seeds]
    if not 0 < args.lr <= P.MAX_LR:
        parser.error(f"--lr must be above 0 and at most {P.MAX_LR:g}")
    if not 1 <= args.seeds <= len(P.training_seeds(params)):
        parser.error(f"--seeds must be from 1 to the {len(P.training_seeds(params))} seeds of sweep.seeds")
    if not 1 <= args.cap <= 10_000:
        parser.error("--cap must be from 1 to 10000 epochs")
    lr = float(P.lr_name(args.lr))  # as a stage name spells it: the same float the train stage would get
    jobs = min(jobs_count(args.jobs), len(seeds))
    print(f"speed_check: lr {P.lr_name(lr)} x {len(seeds)} seeds, until validation accuracy >= {level} or "
          f"{args.cap} epochs; {jobs} at a time", file=sys.stderr, flush=True)
    started = time.time()
    runs, curves = run_all([(lr, seed) for seed in seeds], args.cap, functools.partial(C.reached, level=level), jobs,
                           "speed_check", f"at {level}")
    runs = runs.assign(level=level)
    write_check(SPEED_CHECK_RUNS_CSV, SPEED_CHECK_CURVES_CSV, SPEED_CHECK_EXPERIMENT_JSON, runs, curves, {
        "settings": C.sweep_settings(params),  # the conclude stage uses these runs only for a sweep made like them
        "lr": P.lr_name(lr), "seeds": seeds, "cap": args.cap, "level": level, "jobs": jobs,
        "reproduce": f"make speed-check  # python -m tools.speed_check --lr {P.lr_name(lr)} --seeds {args.seeds} "
                     f"--cap {args.cap}",
    }, started, extra={"README.md": README})
    print(f"speed_check: {len(seeds)} runs in {time.time() - started:.0f} s; tables in {SPEED_CHECK_DIR}/",
          file=sys.stderr)


if __name__ == "__main__":
    main()
