"""The sequential study (stages/lib/adaptive.py): trained round by round (`run`), or replayed on the finished full
study (`replay`): how often its answer is the full study's, for what share of the compute.

    python -m tools.adaptive run [--jobs N|auto] [--budget-epochs N]
    python -m tools.adaptive replay [--resamples N] [--jobs N|auto]

`make adaptive` calls `run`. Each round trains the `train@<lr>-<seed>` stages it asks for (tools/run_study.py's
pool: JOBS at a time, DVC's run-cache and the default remote restore any run seen before), then the conclude rules
run on the runs so far and decide the next round. Every round's runs, its wall time and each LR's status with its
reason are written to metrics/adaptive/study.json as the round ends (a stopped study resumes: its finished runs are
not trained again); at the end the answer, its agreement with the full study's (where metrics/runs.csv holds it)
and the epochs it cost. The runs it asked for are metrics/adaptive/runs.csv. With --budget-epochs (`make adaptive
BUDGET=N`) no round starts once the runs so far have cost N epochs: the answer is then that of the runs so far, and
the record says which LRs were still open.

`make replay` calls `replay` (a few minutes on 2 cores, nothing trained). For every order of sweep.seeds (120 for five
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
import json
import signal
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial

import numpy as np
import pandas as pd

from stages.aggregate import SweepError, check_same_arithmetic, check_same_settings, load_curves, read_results
from stages.lib import adaptive as A, atomic, conclusions as C, inference as I, params as P, tables
from stages.lib.experiment_paths import (ADAPTIVE_REPLAY_JSON, ADAPTIVE_RUNS_CSV, ADAPTIVE_STUDY_JSON,
                                         VERIFIED_RESULTS)
from stages.lib.paths import CURVES_CSV, RUNS_CSV
from tools import run_study as R
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
    parser.add_argument("command", choices=["run", "replay"])
    parser.add_argument("--resamples", type=int, default=DEFAULT_RESAMPLES,
                        help=f"replay: seed resamples per order for the best LR's candidates "
                             f"(default {DEFAULT_RESAMPLES})")
    parser.add_argument("--budget-epochs", type=int, default=None,
                        help="run: start no round once the runs so far have cost this many epochs (default: none)")
    parser.add_argument("--jobs", default="auto",
                        help="run: train stages at a time; replay: orders at a time "
                             "(default: auto, one per usable CPU)")
    args = parser.parse_args(argv)
    params = P.load_checked("adaptive", lambda p: p)
    analysis, adaptive, sweep = P.read(params, P.Analysis), P.read(params, P.Adaptive), P.read(params, P.Sweep)
    design = A.Design(max_seeds=len(sweep.seeds), first_seeds=adaptive.first_seeds, edge_seeds=adaptive.edge_seeds,
                      window=adaptive.window)
    if args.budget_epochs is not None and (args.command != "run" or args.budget_epochs < 1):
        parser.error("--budget-epochs goes with run, and is a number of epochs of at least 1")
    if args.command == "run":
        run(sweep, analysis, design, args.jobs, args.budget_epochs)
    else:
        replay(sweep.seeds, analysis, design, args.resamples, args.jobs)


def replay(seeds: list[int], analysis, design: A.Design, resamples: int, jobs: str) -> None:
    runs, curves = pd.read_csv(RUNS_CSV), pd.read_csv(CURVES_CSV)
    if sorted(runs["seed"].unique()) != sorted(seeds):
        sys.exit(f"adaptive: {RUNS_CSV} holds seeds {sorted(runs['seed'].unique())}, sweep.seeds is {seeds}: "
                 f"run the study (make run) first")
    full = C.as_matrices(runs, curves, analysis.chance_level, C.target_accuracy(runs, analysis.tolerance))
    reference = A.answer(full, analysis.tolerance, I.RESAMPLES)  # as the conclude stage draws them
    total = float(np.nansum(full.epochs))
    orders = list(itertools.permutations(seeds))
    jobs = jobs_count(jobs)
    print(f"adaptive: replaying {len(orders)} orders of {len(seeds)} seeds on {len(full.lrs)} LRs "
          f"({int(full.ran.sum())} runs, {total:,.0f} epochs), {jobs} at a time", file=sys.stderr)
    started = time.time()
    one = partial(replay_order, full=full, design=design, tolerance=analysis.tolerance, resamples=resamples,
                  reference=reference, total_epochs=total)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        replays = []
        for done, result in enumerate(pool.map(one, orders, chunksize=4), start=1):
            replays.append(result)
            if done % 20 == 0 or done == len(orders):
                print(f"adaptive: {done}/{len(orders)} orders, {time.time() - started:.0f} s", file=sys.stderr)
    summary = A.summarize(replays, reference, full, design, resamples, SHOWN_DISAGREEMENTS)
    summary["worse_rule"] = A.worse_rule_check(full, design, analysis.tolerance)
    summary["runs_fingerprint"] = A.fingerprint(runs)
    summary["wall_s"] = round(time.time() - started, 1)
    atomic.write_json(ADAPTIVE_REPLAY_JSON, C.json_safe(summary))
    print(A.describe(summary))


# --- run: the sequential study trained here ------------------------------------------------------------------------

def run(sweep, analysis, design: A.Design, jobs: str, budget_epochs: int | None) -> None:
    """make adaptive: round by round, the runs each round asks for trained by run_study's pool, one runner per
    workspace (make run's lock), every DVC process watched by its guard."""
    workers, envs = R.plan_workers(jobs, R.usable_cpus(), R.gpu_count())
    lock = R.hold_lock()  # noqa: F841 (held until the process ends)
    R.repair_dvc_lock()
    R.GUARD = R.Guard()
    for stop in (signal.SIGTERM, signal.SIGHUP):  # a scheduler's stop, a closed terminal: as Ctrl-C
        signal.signal(stop, R._interrupt)
    try:
        study(sweep, analysis, design, envs, budget_epochs)
    except KeyboardInterrupt:
        print("adaptive: interrupted; run the same command again to resume (finished runs are not trained again)",
              file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        R.GUARD.close()


def read_runs(asked: list[tuple[float, int]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The runs a round asked for, as the aggregate reads them (checked alike): their table and their curves."""
    try:
        results = [read_results(lr, seed) for lr, seed in asked]
        check_same_settings(results)
        check_same_arithmetic(results)
        curves = pd.concat([load_curves([lr], [seed], {(lr, seed): run["epochs"]})
                            for (lr, seed), run in zip(asked, results)], ignore_index=True)
    except SweepError as e:
        raise SystemExit(f"adaptive: error: {e}") from None
    for run in results:  # one column of text, as the aggregate writes it
        if "isa_pins" in run:
            run["isa_pins"] = json.dumps(run["isa_pins"], sort_keys=True)
    return tables.runs_table(results), curves


def stage_of(lr: float, seed: int) -> str:
    return f"{R.TRAIN_PREFIX}{P.run_name(lr, seed)}"


def status_rows(lrs: list[float], counts: np.ndarray, found: list, order: list[int]) -> list[dict]:
    """Each LR after a round: its seeds, its status and why, the gap to the best and its bound, and the run the next
    round asks of it (if any)."""
    rows = []
    for lr, k, status in zip(lrs, counts, found):
        more = status.open and k < len(order)
        rows.append({"lr": P.lr_name(lr), "seeds": int(k), "open": bool(status.open), "reason": status.reason,
                     "gap": status.gap, "bound": status.bound,
                     "next": P.run_name(lr, order[int(k)]) if more else None})
    return rows


def full_study(sweep, analysis) -> tuple[C.Runs, pd.DataFrame] | None:
    """The full study of this sweep, where metrics/runs.csv holds it (every LR with every seed), to compare with."""
    try:
        runs, curves = pd.read_csv(RUNS_CSV), pd.read_csv(CURVES_CSV)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return None
    names = {P.run_name(lr, seed) for lr, seed in zip(runs["lr"], runs["seed"])}
    if names != {P.run_name(lr, seed) for lr in sweep.lrs for seed in sweep.seeds}:
        return None
    return C.as_matrices(runs, curves, analysis.chance_level, C.target_accuracy(runs, analysis.tolerance)), runs


def study(sweep, analysis, design: A.Design, envs: list[dict], budget_epochs: int | None) -> None:
    remote = R.default_remote()
    R.check_remote(remote, R.remote_url(remote) if remote else None, push=False)
    pull = ["--pull"] if remote else []  # restore what the remote holds instead of training it
    upstream = R.upstream_stages()
    print(f"adaptive: upstream stages ({', '.join(upstream)}) ...", file=sys.stderr, flush=True)
    R.dvc("repro", *pull, *upstream, capture=False)
    lrs, order = sorted(float(lr) for lr in sweep.lrs), list(sweep.seeds)
    earlier = earlier_rounds(lrs, order, design)
    record = {"design": design_record(design), "order": order, "lrs": [P.lr_name(lr) for lr in lrs],
              "budget_epochs": budget_epochs, "rounds": [], "done": False}
    now = {}

    def observe(counts: np.ndarray) -> C.Runs:
        asked = A.asked_runs(lrs, counts, order)
        number = len(record["rounds"]) + 1
        started = time.time()
        todo = R.pending([stage_of(lr, seed) for lr, seed in asked])
        print(f"adaptive: round {number}: {len(asked)} runs so far, {len(todo)} to train or restore, "
              f"{len(envs)} at a time", file=sys.stderr, flush=True)
        progress = R.Progress(total=len(todo))
        R.run_pool(todo, envs, progress, pull)
        if progress.failed:
            raise SystemExit(f"adaptive: error: {len(progress.failed)} train stages failed: "
                             f"{', '.join(progress.failed)} (logs in {R.LOG_DIR}/); run again to retry")
        runs, curves = read_runs(asked)
        matrices = C.as_matrices(runs, curves, analysis.chance_level, C.target_accuracy(runs, analysis.tolerance),
                                 ragged=True)
        now.update(asked=asked, runs=runs, matrices=matrices, trained=len(progress.trained_seconds),
                   restored=len(todo) - len(progress.trained_seconds), wall_s=round(time.time() - started, 1))
        return matrices

    def on_round(rounds: list[dict]) -> None:
        counts, found = rounds[-1]["counts"], rounds[-1]["statuses"]
        names = [P.run_name(lr, seed) for lr, seed in now["asked"]]
        rows = status_rows(lrs, counts, found, order)
        entry = {"round": len(rounds), "runs": len(names), "epochs": int(now["runs"]["epochs"].sum()),
                 "trained": now["trained"], "restored": now["restored"], "wall_s": now["wall_s"],
                 "open": open_by_reason(rows), "lrs": rows}
        before = earlier.get(len(rounds))
        if before and before["runs"] == entry["runs"] and before["epochs"] == entry["epochs"] and not entry["trained"]:
            # this round's runs were trained by an earlier `make adaptive` here (stopped, or run again): its cost stays
            entry.update(trained=before["trained"], restored=before["restored"], wall_s=before["wall_s"])
        record["rounds"].append(entry)
        record.update(runs=names, epochs=entry["epochs"])
        atomic.write_json(ADAPTIVE_STUDY_JSON, C.json_safe(record))
        still = "; ".join(f"{reason}: {', '.join(lrs)}" for reason, lrs in entry["open"].items())
        print(f"adaptive: round {len(rounds)} done: {len(names)} runs, {entry['epochs']:,} epochs; "
              f"{sum(map(len, entry['open'].values()))} LRs still open" + (f" ({still})" if still else ""),
              file=sys.stderr, flush=True)

    spent = lambda rounds: budget_epochs is not None and record["epochs"] >= budget_epochs  # noqa: E731
    rounds = A.sequential(observe, len(lrs), design, analysis.tolerance, on_round, stop=spent)
    found = A.answer(now["matrices"], analysis.tolerance, I.RESAMPLES)
    record.update(done=True, stopped_by="budget" if record["rounds"][-1]["open"] else "no conclusion open",
                  answer={k: found[k] for k in (*A.ANSWER_KEYS, "best_set")},
                  wall_s=round(sum(r["wall_s"] for r in record["rounds"]), 1),
                  trained=sum(r["trained"] for r in record["rounds"]))
    record.update(compare(sweep, analysis, design, found, now["runs"], [r["counts"] for r in rounds]))
    atomic.write_text(ADAPTIVE_RUNS_CSV, now["runs"].to_csv(index=False))
    atomic.write_json(ADAPTIVE_STUDY_JSON, C.json_safe(record))
    print(describe_study(record))


def design_record(design: A.Design) -> dict:
    return {"max_seeds": design.max_seeds, "first_seeds": design.first_seeds, "edge_seeds": design.edge_seeds,
            "window": design.window}


def earlier_rounds(lrs: list[float], order: list[int], design: A.Design) -> dict:
    """The rounds an earlier `make adaptive` of the same design recorded here, by number (none if another design)."""
    try:
        earlier = json.loads(ADAPTIVE_STUDY_JSON.read_text())
    except (OSError, ValueError):
        return {}
    same = (earlier.get("design") == design_record(design) and earlier.get("order") == order
            and earlier.get("lrs") == [P.lr_name(lr) for lr in lrs])
    return {r["round"]: r for r in earlier.get("rounds", [])} if same else {}


def open_by_reason(rows: list[dict]) -> dict[str, list[str]]:
    """The LRs the next round gives a seed, by the reason they are open."""
    reasons = {}
    for row in rows:
        if row["next"]:
            reasons.setdefault(row["reason"], []).append(row["lr"])
    return reasons


def compare(sweep, analysis, design: A.Design, found: dict, runs: pd.DataFrame, counts: list) -> dict:
    """Beside the full study (where metrics/runs.csv holds it): its answer, the agreement, the share of its epochs,
    how many runs came out identical to its runs, and whether the replay of this seed order asks for the same rounds."""
    full = full_study(sweep, analysis)
    if full is None:
        return {"full": None}
    matrices, table = full
    reference = A.answer(matrices, analysis.tolerance, I.RESAMPLES)
    key = ["lr", "seed", *VERIFIED_RESULTS]  # what make verify compares of a run
    same = runs[key].merge(table[key], how="inner")
    replayed = A.run_rounds(matrices, list(sweep.seeds), design, analysis.tolerance)
    return {"full": {**{k: reference[k] for k in A.ANSWER_KEYS}, "best_set": reference["best_set"],
                     "runs": int(matrices.ran.sum()), "epochs": int(np.nansum(matrices.epochs))},
            "agreement": A.agreement(matrices.lrs, found, reference),
            "epochs_share": float(runs["epochs"].sum() / np.nansum(matrices.epochs)),
            "identical_runs": len(same),
            "replay_same_rounds": len(replayed) == len(counts) and all(
                (a["counts"] == b).all() for a, b in zip(replayed, counts))}


def describe_study(record: dict) -> str:
    lines = [f"adaptive: {len(record['rounds'])} rounds, {len(record['runs'])} runs ({record['trained']} trained "
             f"here), {record['epochs']:,} epochs, {R._clock(record['wall_s'])} of rounds (wall clock)"
             + (f"; stopped by its budget of {record['budget_epochs']:,} epochs, LRs still open: "
                f"{sum(map(len, record['rounds'][-1]['open'].values()))}" if record["stopped_by"] == "budget" else "")]
    a = {key: "none" if lr is None else f"{lr:g}" for key, lr in record["answer"].items() if key != "best_set"}
    candidates = ", ".join(f"{lr:g}" for lr in record["answer"]["best_set"])
    lines.append(f"  best LR {a['best']} (seeds may call best: {candidates}); "
                 f"best range {a['range_low']} to {a['range_high']}; recommended {a['recommended_low']} to "
                 f"{a['recommended_high']}")
    if record["full"]:
        agree = record["agreement"]
        lines.append(f"  against the full study ({record['full']['runs']} runs): {record['epochs_share']:.0%} of its "
                     f"epochs; agrees on " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in agree.items()) +
                     f"; {record['identical_runs']} of {len(record['runs'])} runs identical to its runs")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
