"""The sequential study replayed on the finished full study: how often its answer is the full study's, for what share
of the compute.

    python -m tools.adaptive replay [--resamples N] [--jobs N|auto]

`make replay` calls it (a few minutes on 2 cores, nothing trained). For every order of sweep.seeds (120 for five
seeds) the procedure of stages/lib/adaptive.py runs round by round, reading each run it asks for from the committed
study (metrics/runs.csv) instead of training it; its cost is the epochs of the runs it asked for. Its answer (the
conclude rules on those runs) is compared with the full study's: the best and the recommended ranges within one grid
step at each end, the best LR among the full study's candidates (the LRs seed resamples call best), the learning
edges exact. The design is params.yaml's adaptive section; the seed resamples that name an answer's candidates for
the best LR are --resamples per order (the conclude stage draws analysis' 2,000 once).

Writes metrics/adaptive/replay.json (atomically) and prints the agreement and the compute share.
"""

import argparse
import itertools
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial

import numpy as np
import pandas as pd

from stages.lib import adaptive as A, atomic, conclusions as C, inference as I, params as P
from stages.lib.experiment_paths import ADAPTIVE_REPLAY_JSON
from stages.lib.paths import CURVES_CSV, RUNS_CSV
from tools.learning_edge import jobs_count

DEFAULT_RESAMPLES = 200
SHOWN_DISAGREEMENTS = 20


def replay_order(order: tuple, full: C.Runs, design: A.Design, tolerance: float, resamples: int, reference: dict,
                 total_epochs: float) -> dict:
    """One order of the seeds: the rounds, the seeds each LR ended with, the answer, its agreement and its cost."""
    rounds = A.run_rounds(full, list(order), design, tolerance)
    last = A.seeds_at(full, rounds[-1]["counts"], list(order))
    found = A.answer(last, tolerance, resamples)
    return {"order": list(order), "rounds": len(rounds), "runs": int(last.ran.sum()),
            "epochs": float(np.nansum(last.epochs)), "share": float(np.nansum(last.epochs) / total_epochs),
            "seeds": [int(k) for k in rounds[-1]["counts"]], "answer": found,
            "agrees": A.agreement(full.lrs, found, reference)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["replay"])
    parser.add_argument("--resamples", type=int, default=DEFAULT_RESAMPLES,
                        help=f"seed resamples per order for the best LR's candidates (default {DEFAULT_RESAMPLES})")
    parser.add_argument("--jobs", default="auto", help="orders replayed at a time (default: auto, one per usable CPU)")
    args = parser.parse_args(argv)
    params = P.load_checked("adaptive", lambda p: p)
    analysis, adaptive = P.read(params, P.Analysis), P.read(params, P.Adaptive)
    seeds = P.training_seeds(params)
    runs, curves = pd.read_csv(RUNS_CSV), pd.read_csv(CURVES_CSV)
    if sorted(runs["seed"].unique()) != sorted(seeds):
        sys.exit(f"adaptive: {RUNS_CSV} holds seeds {sorted(runs['seed'].unique())}, sweep.seeds is {seeds}: "
                 f"run the study (make run) first")
    full = C.as_matrices(runs, curves, analysis.chance_level, C.target_accuracy(runs, analysis.tolerance))
    design = A.Design(max_seeds=len(seeds), first_seeds=adaptive.first_seeds, edge_seeds=adaptive.edge_seeds,
                      window=adaptive.window)
    reference = A.answer(full, analysis.tolerance, I.RESAMPLES)  # as the conclude stage draws them
    total = float(np.nansum(full.epochs))
    orders = list(itertools.permutations(seeds))
    jobs = jobs_count(args.jobs)
    print(f"adaptive: replaying {len(orders)} orders of {len(seeds)} seeds on {len(full.lrs)} LRs "
          f"({int(full.ran.sum())} runs, {total:,.0f} epochs), {jobs} at a time", file=sys.stderr)
    started = time.time()
    one = partial(replay_order, full=full, design=design, tolerance=analysis.tolerance, resamples=args.resamples,
                  reference=reference, total_epochs=total)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        replays = []
        for done, result in enumerate(pool.map(one, orders, chunksize=4), start=1):
            replays.append(result)
            if done % 20 == 0 or done == len(orders):
                print(f"adaptive: {done}/{len(orders)} orders, {time.time() - started:.0f} s", file=sys.stderr)
    summary = A.summarize(replays, reference, full, design, args.resamples, SHOWN_DISAGREEMENTS)
    summary["worse_rule"] = A.worse_rule_check(full, design, analysis.tolerance)
    summary["runs_fingerprint"] = A.fingerprint(runs)
    summary["wall_s"] = round(time.time() - started, 1)
    atomic.write_json(ADAPTIVE_REPLAY_JSON, C.json_safe(summary))
    print(A.describe(summary))


if __name__ == "__main__":
    main()
