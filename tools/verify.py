"""`make verify` / `make reproduce`: retrain committed runs and compare them with the study, bit for bit.

    python -m tools.verify [--runs N|all] [--jobs auto|J] [--record]

First compares the instruction sets the committed runs' math ran with (PyTorch's CPU capability, oneDNN's and MKL's
dispatch, any pins: each run records them) with this machine's, and says plainly whether identity is expected.
Then picks N runs (all: every run) spread evenly over the committed metrics/runs.csv (sorted by LR, then seed: every
part of the LR range, seeds in turn), trains each again with the train stage as it is now, with the thread count
the run recorded, in a scratch folder (the workspace's runs are not touched), and compares every epoch's training
loss and validation accuracy and the run's results (best validation and test accuracy, epochs, best epoch, how it
stopped) with the committed numbers (metrics/runs.csv, metrics/learning_curves.csv) and, where the run's folder was
pulled from the store (data/runs/), with that folder's files too. Prints how many match and, for those that do
not, where they part and by how much. Exit status 0 when every run matches, 1 otherwise.

It needs the split (data/split/): `make verify` runs `dvc repro split` first. With --record (`make verify
RECORD=1`) the outcome is also written to metrics/verify.json, which REPORT quotes in "Machine and time": for the
maintainer who records in dvc.lock a change of the train stages' code that does not change what a run computes.
"""

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from stages.lib import atomic, params as P
from stages.lib.experiment_paths import VERIFIED_RESULTS, VERIFY_JSON
from stages.lib.layout import HISTORY_FILE, RESULTS_FILE, SPLIT_DIR, TENSORS_FILE, run_dir
from stages.lib.machine import cpu_name
from stages.lib.paths import CURVES_CSV, RUNS_CSV
from stages.lib.sweep_facts import ARITHMETIC
from tools.run_study import MAX_JOBS, usable_cpus

# What a run computes (timings and the machine are recorded, not computed): its results (VERIFIED_RESULTS), and
# every epoch's
CURVE_COLUMNS = ("train_loss", "valid_acc")
CODE_ROOT = Path(__file__).resolve().parents[1]  # where the stages package is, whatever the working folder
WHY_RUNS_DIFFER = (
    "A run is a long chain of floating-point sums: another CPU (other vector instructions), another build of "
    "PyTorch or its math libraries, or another thread count adds in another order, changes the last bits of a "
    "loss, and over many epochs that can move an accuracy or the epoch early stopping picks. Runs made on the "
    "machine, PyTorch and thread count a run recorded should match it exactly.")


def read_table(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise SystemExit(f"verify: error: {path} is missing: it is the committed study this compares with "
                         f"(`git checkout {path}`)")
    # pandas 3 parses floats exactly (Python's shortest repr round-trips), so equal means bit-identical
    return pd.read_csv(path)


def spread(runs: pd.DataFrame, count: int) -> pd.DataFrame:
    """count runs spread evenly over the runs sorted by LR and seed (the first and last included)."""
    ordered = runs.sort_values(["lr", "seed"], ignore_index=True)
    count = max(1, min(count, len(ordered)))
    if count == 1:
        return ordered.iloc[[len(ordered) // 2]]
    picks = sorted({round(i * (len(ordered) - 1) / (count - 1)) for i in range(count)})
    return ordered.iloc[picks].reset_index(drop=True)


@dataclass
class Outcome:
    name: str
    epochs: int
    differences: list[str]
    seconds: float
    error: str = ""
    pulled: bool = False  # also compared with the run's folder pulled from the store

    @property
    def identical(self) -> bool:
        return not self.differences and not self.error


def compare(committed: dict, curve: pd.DataFrame, results: dict, history: pd.DataFrame) -> list[str]:
    """Where a retrained run parts from the committed one: its first differing epoch, then its results."""
    differences = []
    for epoch, (old, new) in enumerate(zip(curve.itertuples(), history.itertuples()), start=1):
        parted = [f"{column} {getattr(new, column)!r} (committed {getattr(old, column)!r})"
                  for column in CURVE_COLUMNS if not same(getattr(old, column), getattr(new, column))]
        if parted:
            differences.append(f"first differs at epoch {epoch}: " + ", ".join(parted))
            break
    for column in VERIFIED_RESULTS:
        if not same(committed[column], results[column]):
            differences.append(f"{column} {results[column]!r} (committed {committed[column]!r})")
    if not differences and len(curve) != len(history):
        differences.append(f"{len(history)} epochs in its history (committed {len(curve)})")
    return differences


def same(old, new) -> bool:
    if isinstance(old, float) and isinstance(new, float) and math.isnan(old) and math.isnan(new):
        return True
    return old == new


def scratch_project(root: Path) -> Path:
    """A folder that looks like the project to the train stage: its code, params.yaml and the split, linked."""
    folder = Path(tempfile.mkdtemp(prefix="lr-sweep-verify-"))
    for name in ("stages", "params.yaml"):
        (folder / name).symlink_to(root / name)
    (folder / SPLIT_DIR).parent.mkdir(parents=True)
    (folder / SPLIT_DIR).symlink_to(root / SPLIT_DIR)
    return folder


def pulled_run(name: str) -> tuple[dict, pd.DataFrame] | None:
    """The run's results and history as its folder in the workspace holds them (pulled from the store), if it does."""
    folder = run_dir(name)
    if not (folder / RESULTS_FILE).is_file() or not (folder / HISTORY_FILE).is_file():
        return None
    return json.loads((folder / RESULTS_FILE).read_text()), pd.read_csv(folder / HISTORY_FILE)


def retrain(root: Path, committed: dict, curve: pd.DataFrame) -> Outcome:
    name = P.run_name(committed["lr"], int(committed["seed"]))
    threads = str(int(committed["threads"]))
    started = time.perf_counter()
    folder = scratch_project(root)
    try:
        env = {**os.environ, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
        env.pop("DVC_STAGE", None)
        done = subprocess.run([sys.executable, "-m", "stages.train", name], cwd=folder, env=env,
                              capture_output=True, text=True)
        if done.returncode != 0:
            error = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return Outcome(name, 0, [], time.perf_counter() - started, error=error)
        results = json.loads((folder / run_dir(name) / RESULTS_FILE).read_text())
        history = pd.read_csv(folder / run_dir(name) / HISTORY_FILE)
        differences = compare(committed, curve, results, history)
        pulled = pulled_run(name)
        if pulled is not None:  # the store's copy of the run, as well as the committed tables
            differences += [f"{d} in data/runs/{name}" for d in compare(pulled[0], pulled[1], results, history)]
        return Outcome(name, len(history), differences, time.perf_counter() - started, pulled=pulled is not None)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def this_machine_arithmetic() -> dict:
    """What the train stage's math runs with here: the record a run made here would hold (asked of a fresh process,
    where the pins in the environment take effect as they would in the stage)."""
    done = subprocess.run([sys.executable, "-c", "import json; from stages.lib.machine import math_dispatch; "
                           "print(json.dumps(math_dispatch('cpu')))"], capture_output=True, text=True, check=True,
                          cwd=CODE_ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def arithmetic_expectation(sample: pd.DataFrame, here: dict) -> tuple[bool | None, str]:
    """(whether identity is expected, a sentence): the committed runs' recorded instruction sets against this
    machine's. None: the runs do not record them (made before runs did), so nobody can say."""
    if not set(ARITHMETIC) <= set(sample.columns):
        return None, ("the committed runs do not record the instruction sets their math ran with (made before runs "
                      "recorded them): whether they can match here is unknown")
    recorded = {key: sorted({str(value) for value in sample[key]}) for key in ARITHMETIC}
    here_text = {key: json.dumps(here[key], sort_keys=True) if key == "isa_pins" else str(here[key]) for key in ARITHMETIC}
    differ = [f"{key} {', '.join(recorded[key])} (here {here_text[key]})" for key in ARITHMETIC
              if recorded[key] != [here_text[key]]]
    if differ:
        return False, ("identity is NOT expected: the committed runs' math ran with other instruction sets than this "
                       "machine's: " + "; ".join(differ) + ". They will part in the last bits from the first epochs.")
    return True, (f"identity is expected: the committed runs' math ran with the instruction sets this machine uses "
                  f"({', '.join(f'{key} {here_text[key]}' for key in ARITHMETIC)})")


def machine_note(runs: pd.DataFrame) -> str:
    import torch  # only for its version: the stage itself runs in a subprocess

    recorded = "; ".join(sorted({f"{r.cpu}, torch {r.torch}" for r in runs.itertuples()}))
    return f"recorded on: {recorded}\nhere:        {cpu_name()}, torch {torch.__version__}"


def record(sample: pd.DataFrame, outcomes: list[Outcome], started: float) -> dict:
    """What metrics/verify.json holds: when, on what, which runs, and how each compared."""
    import torch

    by_name = {o.name: o for o in outcomes}
    return {
        "date": datetime.fromtimestamp(started, timezone.utc).date().isoformat(),
        "cpu": cpu_name(), "torch": torch.__version__, "threads": sorted({int(t) for t in sample["threads"]}),
        "recorded_cpu": sorted(set(sample["cpu"])), "recorded_torch": sorted(set(sample["torch"])),
        "compared": len(outcomes), "identical": sum(o.identical for o in outcomes),
        "compared_with_pulled_folders": sum(o.pulled for o in outcomes),
        "epochs": int(sample["epochs"].sum()), "wall_s": round(time.time() - started, 1),
        "runs": [run_record(row, by_name[P.run_name(row["lr"], int(row["seed"]))]) for row in sample.to_dict("records")],
    }


def run_record(committed: dict, outcome: Outcome) -> dict:
    """One run's entry: the committed numbers it was compared with (REPORT checks they are still the study's)."""
    return {"run": outcome.name, **{column: committed[column] for column in ("lr", "seed", *VERIFIED_RESULTS)},
            "identical": outcome.identical,
            "differences": outcome.differences or ([outcome.error] if outcome.error else [])}


def parse_jobs(text: str, threads: int) -> int:
    if text == "auto":
        return max(1, usable_cpus() // max(1, threads))
    if text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_JOBS:
        return int(text)
    raise SystemExit(f"verify: error: --jobs must be a whole number from 1 to {MAX_JOBS}, or auto, got {text!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.verify", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", default="10", help="how many committed runs to retrain (default 10; all: every one)")
    parser.add_argument("--jobs", default="auto", help="runs trained at a time (default: usable CPUs / threads)")
    parser.add_argument("--record", action="store_true", help=f"also write the outcome to {VERIFY_JSON}")
    args = parser.parse_args(argv)
    if args.runs != "all" and not (args.runs.isascii() and args.runs.isdigit() and int(args.runs) >= 1):
        raise SystemExit(f"verify: error: --runs must be a whole number of runs, at least 1, or all; got {args.runs!r}")
    root = Path.cwd()
    if not TENSORS_FILE.is_file():
        raise SystemExit(f"verify: error: {TENSORS_FILE} is missing: `dvc repro split` makes it (make verify does)")
    runs, curves = read_table(RUNS_CSV), read_table(CURVES_CSV)
    sample = spread(runs, len(runs) if args.runs == "all" else int(args.runs))
    jobs = parse_jobs(args.jobs, int(sample["threads"].max()))
    expected, expectation = arithmetic_expectation(sample, this_machine_arithmetic())
    print(f"verify: {expectation}", file=sys.stderr, flush=True)
    print(f"verify: retraining {len(sample)} of the {len(runs)} committed runs ({sample['epochs'].sum():,} epochs), "
          f"{jobs} at a time, each with the thread count it recorded", file=sys.stderr, flush=True)

    outcomes, started = [], time.time()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = []
        for row in sample.to_dict("records"):
            curve = curves[(curves["lr"] == row["lr"]) & (curves["seed"] == row["seed"])].reset_index(drop=True)
            futures.append(pool.submit(retrain, root, row, curve))
        for future in as_completed(futures):
            outcome = future.result()
            outcomes.append(outcome)
            verdict = ("identical" if outcome.identical else f"FAILED: {outcome.error}" if outcome.error
                       else "differs: " + "; ".join(outcome.differences))
            print(f"[{len(outcomes)}/{len(sample)}] train@{outcome.name}: {verdict} "
                  f"({outcome.epochs} epochs, {outcome.seconds:.0f} s)", flush=True)

    matching = sum(o.identical for o in outcomes)
    pulled = sum(o.pulled for o in outcomes)
    print(f"verify: {matching} of {len(outcomes)} runs identical to the committed study, bit for bit "
          f"(every epoch's training loss and validation accuracy, and the results; compared with metrics/ and, for "
          f"{pulled} of them, with their folders pulled from the store)")
    if expected is False:
        print("verify: as said above, this machine's instruction sets differ from the runs': differences are expected")
    if matching < len(outcomes):
        print(f"{WHY_RUNS_DIFFER}\n{machine_note(sample)}")
    if args.record:
        atomic.write_json(VERIFY_JSON, record(sample, outcomes, started))
        print(f"verify: recorded in {VERIFY_JSON}")
    return 0 if matching == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
